"""Pages of the partner module: the institution's "Partner Module" and "Traffic Channels", the partner's
home, invitations and GTC, and the contact person's registration."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.accounts.models import Membership
from medbook.core.decorators import requires
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.permissions import Perm, has_perm
from medbook.core.tenancy import SESSION_ORG_KEY, get_for_actor
from medbook.institutions.models import Service
from medbook.partners import invitations, selectors, services
from medbook.partners.forms import GTCAcceptForm, PartnerEndForm, PartnerForm, RegistrationForm
from medbook.partners.models import GTCVersion, Partnership

administration = requires(Perm.ADMINISTER)


def _posted(request: HttpRequest):
    """The submitted data of a POST (even an empty one), None for a GET."""
    return request.POST if request.method == "POST" else None


def _int(value) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 18 else 0


def _show_error(form, error: DomainError) -> None:
    if isinstance(error, NotPermitted):
        raise error
    form.add_error(error.field if error.field in form.fields else None, str(error.message))


@administration
def partner_list(request: HttpRequest) -> HttpResponse:
    """ "Administration / Partner Module": the institution's partners with their status."""
    partnerships = selectors.institution_partnerships(actor=request.actor)
    return render(request, "partners/partner_list.html", {"partnerships": partnerships})


@administration
def partner_create(request: HttpRequest) -> HttpResponse:
    """ "Add New Partner": legal details, contact person and settings; "Save" invites it (P-1 … P-7)."""
    form = PartnerForm(_posted(request), institution=request.actor.institution)
    if form.is_bound and form.is_valid():
        try:
            partnership = services.partner_invite(
                actor=request.actor,
                details=form.details,
                terms=form.terms,
                locations=list(form.cleaned_data["locations"]),
                request=request,
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            if partnership.status == Partnership.Status.PENDING_APPROVAL:
                note = _("%(partner)s is already registered: its administrators were asked to approve.")
            else:
                note = _("Saved. A registration invitation is on its way to %(email)s.")
            messages.success(
                request, note % {"partner": partnership.partner, "email": partnership.partner.contact_email}
            )
            return redirect("partners:partner-list")
    return render(request, "partners/partner_form.html", {"form": form, "title": _("Add New Partner")})


@administration
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Modify a partner's details (until it registers) and every setting (P-8)."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=pk)
    locked = selectors.partner_is_under_contract(partnership.partner)
    form = PartnerForm(
        _posted(request),
        institution=request.actor.institution,
        details_locked=locked,
        initial=PartnerForm.initial_for(partnership),
    )
    if form.is_bound and form.is_valid():
        try:
            services.partnership_update(
                actor=request.actor,
                partnership=partnership,
                details=form.details,
                terms=form.terms,
                locations=list(form.cleaned_data["locations"]),
                request=request,
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("partners:partner-list")
    context = {"form": form, "title": _("Modify partner"), "partnership": partnership, "locked": locked}
    return render(request, "partners/partner_form.html", context)


@administration
def partner_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a partner: ask what happens to its future bookings, then end the partnership (P-8)."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=pk)
    form = PartnerEndForm(_posted(request))
    if form.is_bound and form.is_valid():
        cancel = form.cleaned_data["future_bookings"] == "cancel"
        try:
            cancelled = services.partnership_end(
                actor=request.actor, partnership=partnership, cancel_future=cancel, request=request
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            note = _(
                "%(partner)s was deleted: it can no longer book. %(count)s future bookings were cancelled."
            )
            messages.success(request, note % {"partner": partnership.partner, "count": cancelled})
            return redirect("partners:partner-list")
    context = {
        "form": form,
        "partnership": partnership,
        "future": selectors.future_partner_bookings(partnership).count(),
    }
    return render(request, "partners/partner_delete.html", context)


@administration
@require_POST
def partner_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a pending partner its registration link again (the earlier link stops working)."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=pk)
    try:
        services.partnership_invitation_resend(actor=request.actor, partnership=partnership, request=request)
    except DomainError as error:
        if isinstance(error, NotPermitted):
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("A new invitation is on its way to %(email)s.") % {"email": partnership.partner.contact_email},
        )
    return redirect("partners:partner-list")


@administration
def channel_matrix(request: HttpRequest) -> HttpResponse:
    """ "Traffic Channels": services × channels, a partner's column per partner at the end (P-9)."""
    services_, columns = selectors.channel_matrix(actor=request.actor)
    return render(request, "partners/channel_matrix.html", {"services": services_, "columns": columns})


@administration
@require_POST
def matrix_cell(request: HttpRequest, partnership_pk: int, service_pk: int) -> HttpResponse:
    """Tick or untick one cell of a partner's column; saves at once and answers with the cell."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=partnership_pk)
    service = get_for_actor(Service, request.actor, service_pk)
    enabled = request.POST.get("enabled") in ("1", "on", "true")
    services.partnership_service_set(
        actor=request.actor, partnership=partnership, service=service, enabled=enabled, request=request
    )
    if not request.htmx:
        return redirect("institutions:channel-list")
    context = {"service": service, "partnership": partnership, "checked": enabled, "saved": True}
    return render(request, "partners/channel_matrix.html#cell", context)


def partner_area(perm: Perm):
    """Let in a user acting for a partner with the permission; a partner admin first accepts a new GTC."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            actor = request.actor
            if actor.partner is None or not has_perm(actor, perm):
                raise NotPermitted()
            if not selectors.gtc_accepted(actor.partner):
                if has_perm(actor, Perm.ACCEPT_GTC):
                    return redirect(
                        f"{reverse('partners:gtc-accept')}?{urlencode({'next': request.get_full_path()})}"
                    )
                raise DomainError(
                    _("New General Terms and Conditions must be accepted by your administrator first.")
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


@partner_area(Perm.VIEW_PARTNERSHIPS)
def partner_home(request: HttpRequest) -> HttpResponse:
    """The partner's start page: its institutions, and the invitations waiting for approval."""
    partnerships = list(selectors.partner_partnerships(actor=request.actor))
    pending = [p for p in partnerships if p.status == Partnership.Status.PENDING_APPROVAL]
    context = {
        "partnerships": partnerships,
        "pending": pending,
        "may_answer": has_perm(request.actor, Perm.APPROVE_PARTNERSHIPS),
    }
    return render(request, "partners/home.html", context)


@login_required
def partnership_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The N-2 link: approve or decline an institution's invitation (switching to that partner if needed)."""
    actor = request.actor
    if actor.partner is None or not selectors.partner_partnerships(actor=actor).filter(pk=pk).exists():
        admin_of = [m.organization_id for m in actor.memberships if m.role == Membership.Role.PARTNER_ADMIN]
        target = (
            Partnership.objects.filter(pk=pk, partner_id__in=admin_of)
            .values_list("partner_id", flat=True)
            .first()
        )
        if target is not None:
            request.session[SESSION_ORG_KEY] = target
            return redirect("partners:partnership-answer", pk=pk)
    return _partnership_answer(request, pk)


@partner_area(Perm.APPROVE_PARTNERSHIPS)
def _partnership_answer(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = selectors.partner_partnership(actor=request.actor, pk=pk)
    if request.method == "POST":
        decision = request.POST.get("decision")
        action = {"approve": services.partnership_approve, "decline": services.partnership_decline}.get(
            decision
        )
        if action is None:
            raise DomainError(_("Choose approve or decline."))
        action(actor=request.actor, partnership=partnership, request=request)
        if decision == "approve":
            messages.success(
                request,
                _("Approved: you can now book at %(institution)s.")
                % {"institution": partnership.institution},
            )
        else:
            messages.success(request, _("Declined."))
        return redirect("partners:home")
    return render(request, "partners/partnership_answer.html", {"partnership": partnership})


@login_required
def gtc_accept(request: HttpRequest) -> HttpResponse:
    """Read and accept the current General Terms and Conditions (a partner admin, at the next login)."""
    actor = request.actor
    if actor.partner is None or not has_perm(actor, Perm.ACCEPT_GTC):
        raise NotPermitted()
    version = GTCVersion.current()
    if version is None:
        return redirect("partners:home")
    accepted = version.acceptances.filter(partner=actor.partner).select_related("user").first()
    form = GTCAcceptForm(_posted(request) if accepted is None else None)
    if form.is_bound and form.is_valid():
        posted = get_object_or_404(GTCVersion, pk=_int(request.POST.get("version")))
        try:
            services.gtc_accept(actor=actor, version=posted, request=request)
        except DomainError as error:
            _show_error(form, error)
        else:
            messages.success(request, _("Thank you: the terms are accepted."))
            target = request.GET.get("next", "")
            # "/\\evil.example" starts with one slash, yet browsers read it as another host.
            safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
            return redirect(target if safe and target.startswith("/") else "partners:home")
    context = {"form": form, "version": version, "accepted": accepted}
    return render(request, "partners/gtc_accept.html", context)


def register(request: HttpRequest, token: str) -> HttpResponse:
    """The N-1 link: the contact person sets a password and accepts the GTC; the partnership goes active."""
    try:
        invitation = invitations.invitation_open(token)
    except invitations.InvitationUnusable as unusable:
        return _link_problem(request, token, unusable)
    version = GTCVersion.current()
    signed_in = request.user.is_authenticated and request.user.email.lower() == invitation.email
    form = RegistrationForm(
        _posted(request),
        with_password=not signed_in,
        email=invitation.email,
        initial={"full_name": invitation.partnership.partner.contact_name},
    )
    if form.is_bound and form.is_valid() and version is not None:
        try:
            membership = invitations.partner_register(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data.get("new_password1"),
                gtc_version=get_object_or_404(GTCVersion, pk=_int(request.POST.get("version"))),
                user=request.user if signed_in else None,
                request=request,
            )
        except invitations.InvitationUnusable as unusable:
            return _link_problem(request, token, unusable)
        except DomainError as error:
            _show_error(form, error)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_ORG_KEY] = membership.organization_id
            messages.success(
                request,
                _("Welcome! Your partnership with %(institution)s is active.")
                % {"institution": invitation.partnership.institution},
            )
            return redirect("partners:home")
    context = {"form": form, "invitation": invitation, "version": version, "signed_in": signed_in}
    return render(request, "partners/register.html", context)


def _link_problem(request: HttpRequest, token: str, unusable: invitations.InvitationUnusable) -> HttpResponse:
    context = {
        "message": unusable.message,
        "renewable": unusable.renewable,
        "token": token,
        "reason": unusable.reason,
    }
    return render(request, "partners/link_problem.html", context, status=unusable.status_code)


@require_POST
def register_renew(request: HttpRequest, token: str) -> HttpResponse:
    """ "Send me a new link": a fresh registration link (or, once registered, a set-password link)."""
    try:
        sent = invitations.invitation_renew(token=token, request=request)
    except invitations.InvitationUnusable as unusable:
        return _link_problem(request, token, unusable)
    return render(request, "partners/link_renewed.html", {"sent": sent})
