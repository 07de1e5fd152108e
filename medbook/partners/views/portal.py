"""The partner's portal: its start page, answering an institution's invitation (N-2), the GTC."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from medbook.core.decorators import page
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.forms import add_refusal, form_status
from medbook.core.ids import parse_id
from medbook.core.permissions import Perm, has_perm
from medbook.core.roles import Role
from medbook.core.tenancy import ActorRequest
from medbook.partners import selectors
from medbook.partners.forms.module import PartnerDetailsForm
from medbook.partners.forms.registration import GTCAcceptForm
from medbook.partners.models import GTCVersion, Partnership
from medbook.partners.services import identity, portal
from medbook.partners.views.common import partner_page, posted


@partner_page(Perm.VIEW_PARTNERSHIPS)
def partner_home(request: ActorRequest) -> HttpResponse:
    """The partner's start page: its institutions, and the invitations waiting for approval."""
    partnerships = list(selectors.partner_partnerships(actor=request.actor))
    pending = [p for p in partnerships if p.status == Partnership.Status.PENDING_APPROVAL]
    context = {
        "partnerships": partnerships,
        "pending": pending,
        "may_answer": has_perm(request.actor, Perm.APPROVE_PARTNERSHIPS),
        "may_edit_details": selectors.partner_verified_admin(request.actor),
    }
    return render(request, "partners/portal/home.html", context)


@login_required
def partnership_answer(request: ActorRequest, pk: int) -> HttpResponse:
    """The N-2 link: approve or decline an institution's invitation (switching to that partner if needed)."""
    actor = request.actor
    if actor.partner is None or not selectors.partner_partnerships(actor=actor).filter(pk=pk).exists():
        admin_of = [m.organization_id for m in actor.memberships if m.role == Role.PARTNER_ADMIN]
        target = (
            Partnership.objects.filter(pk=pk, partner_id__in=admin_of)
            .exclude(status__in=selectors.NOT_YET_THE_PARTNERS)  # not the partner's yet (P-14)
            .values_list("partner_id", flat=True)
            .first()
        )
        if target is not None:  # the link is another partner's of the user: ask, then switch by POST
            answer = reverse("partners:partnership-answer", args=[pk])
            query = urlencode({"organization": str(target), "next": answer})
            return redirect(f"{reverse('accounts:organization-switch-ask')}?{query}")
    return _partnership_answer(request, pk)


@partner_page(Perm.APPROVE_PARTNERSHIPS)
def _partnership_answer(request: ActorRequest, pk: int) -> HttpResponse:
    partnership = selectors.partner_partnership(actor=request.actor, pk=pk)
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        action = {"approve": portal.partnership_approve, "decline": portal.partnership_decline}.get(decision)
        if action is None:
            raise DomainError(_("Choose approve or decline."))
        action(actor=request.actor, partnership=partnership)
        if decision == "approve":
            messages.success(
                request,
                _("Approved: you can now book at %(institution)s.")
                % {"institution": partnership.institution},
            )
        else:
            messages.success(request, _("Declined."))
        return redirect("partners:home")
    return render(request, "partners/portal/partnership_answer.html", {"partnership": partnership})


@page(Perm.ACCEPT_GTC, audience="partner")
def gtc_accept(request: ActorRequest) -> HttpResponse:
    """Read and accept the current General Terms and Conditions (a partner admin, at the next login)."""
    actor = request.actor
    version = GTCVersion.current()
    if version is None:
        return redirect("partners:home")
    accepted = version.acceptances.filter(partner=actor.partner).select_related("user").first()
    form = GTCAcceptForm(posted(request) if accepted is None else None)
    if form.is_bound and form.is_valid():
        version_posted = get_object_or_404(GTCVersion, pk=parse_id(request.POST.get("version")))
        try:
            portal.gtc_accept(actor=actor, version=version_posted)
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Thank you: the terms are accepted."))
            target = request.GET.get("next", "")
            # "/\\evil.example" starts with one slash, yet browsers read it as another host.
            safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
            return redirect(target if safe and target.startswith("/") else "partners:home")
    context = {"form": form, "version": version, "accepted": accepted}
    return render(request, "partners/portal/gtc_accept.html", context)


@partner_page(Perm.APPROVE_PARTNERSHIPS)
def partner_details(request: ActorRequest) -> HttpResponse:
    """ "Organisation details": the partner's verified admins keep its address up to date and ask the
    operator to change its legal identity (P-14, issue 19)."""
    partner = request.actor.partner
    verified = selectors.partner_verified_admin(request.actor)
    if request.method == "POST" and not verified:
        raise NotPermitted(_("Your company awaits verification: its details can be changed after it."))
    if request.method == "POST" and "withdraw" in request.POST:
        identity.partner_identity_change_withdraw(actor=request.actor)
        messages.success(request, _("Your request was withdrawn."))
        return redirect("partners:partner-details")
    latest = selectors.latest_identity_change(partner)
    initial = {field: getattr(partner, field) for field in identity.LEGAL_FIELDS}
    if latest is not None and latest.is_pending:
        initial.update(latest.new_values)  # what the admin asked for, until the operator answers
    form = PartnerDetailsForm(posted(request), initial=initial)
    if not verified:
        for field in form.fields.values():
            field.disabled = True
    if form.is_bound and form.is_valid():
        try:
            pending = identity.partner_details_update(actor=request.actor, details=form.cleaned_data)
        except DomainError as error:
            add_refusal(form, error)
        else:
            if pending is not None:
                messages.success(
                    request,
                    _(
                        "Saved. The change of the company's name or numbers takes effect once the platform"
                        " operator has checked it."
                    ),
                )
            else:
                messages.success(request, _("Saved."))
            return redirect("partners:partner-details")
    context = {"form": form, "verified": verified, "partner": partner, "latest": latest}
    return render(request, "partners/portal/partner_details.html", context, status=form_status(form))
