"""The contact person's registration link (N-1): set a password, accept the GTC, and the claim to represent
the partner that the operator decides; the claimant's own claims."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.core.errors import DomainError
from medbook.core.forms import add_refusal
from medbook.core.ids import parse_id
from medbook.core.tenancy import ActorRequest
from medbook.partners import selectors
from medbook.partners.forms.registration import RegistrationForm
from medbook.partners.models import GTCVersion
from medbook.partners.services import registration
from medbook.partners.views.common import posted


def register(request: ActorRequest, token: str) -> HttpResponse:
    """The N-1 link: the contact person sets a password and accepts the GTC; their claim to represent the
    partner waits for the operator."""
    try:
        invitation = registration.invitation_open(token)
    except registration.InvitationUnusable as unusable:
        return _link_problem(request, token, unusable)
    version = GTCVersion.current()
    signed_in = request.user.is_authenticated and request.user.email.lower() == invitation.email
    form = RegistrationForm(
        posted(request),
        with_password=not signed_in,
        email=invitation.email,
        initial={"full_name": invitation.partnership.contact_name},
    )
    if form.is_bound and form.is_valid() and version is not None:
        try:
            claim = registration.partner_register(
                actor=request.actor,
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data.get("new_password1"),
                gtc_version=get_object_or_404(GTCVersion, pk=parse_id(request.POST.get("version"))),
                user=request.user if signed_in else None,
            )
        except registration.InvitationUnusable as unusable:
            return _link_problem(request, token, unusable)
        except DomainError as error:
            add_refusal(form, error)
        else:
            if not signed_in:
                login(request, claim.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _(
                    "Thank you. The platform operator now checks that you represent %(partner)s; you will"
                    " get an e-mail when it is done."
                )
                % {"partner": claim.partner.name},
            )
            return redirect("partners:claim-list")
    context = {"form": form, "invitation": invitation, "version": version, "signed_in": signed_in}
    return render(request, "partners/registration/register.html", context)


def _link_problem(
    request: ActorRequest, token: str, unusable: registration.InvitationUnusable
) -> HttpResponse:
    context = {
        "message": unusable.message,
        "renewable": unusable.renewable,
        "token": token,
        "reason": unusable.reason,
    }
    return render(request, "partners/registration/link_problem.html", context, status=unusable.status_code)


@require_POST
def register_renew(request: ActorRequest, token: str) -> HttpResponse:
    """ "Send me a new link": a fresh registration link (or, once registered, a set-password link)."""
    try:
        sent = registration.invitation_renew(actor=request.actor, token=token)
    except registration.InvitationUnusable as unusable:
        return _link_problem(request, token, unusable)
    return render(request, "partners/registration/link_renewed.html", {"sent": sent})


@login_required
def claim_list(request: ActorRequest) -> HttpResponse:
    """The user's own claims to represent a partner, and what the operator answered."""
    claims = selectors.user_claims(request.user)
    return render(request, "partners/registration/claim_list.html", {"claims": claims})
