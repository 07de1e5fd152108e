"""The institution admin's "Administration / Partner Module" and "Traffic Channels" (P-1 … P-9)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medbook.accounts.security import reauthentication_required
from medbook.core.errors import DomainError, NotPermitted
from medbook.core.forms import add_refusal, form_status, validated_forms
from medbook.core.tenancy import ActorRequest, get_for_actor
from medbook.institutions.models import Service
from medbook.partners import selectors
from medbook.partners.forms.module import PartnerEndForm, PartnerForm
from medbook.partners.models import Partnership
from medbook.partners.services import contract
from medbook.partners.views.common import institution_page, posted
from medbook.scheduling import online


@institution_page
def partner_list(request: ActorRequest) -> HttpResponse:
    """ "Administration / Partner Module": the institution's partners with their status."""
    partnerships = selectors.institution_partnerships(actor=request.actor)
    return render(request, "partners/module/partner_list.html", {"partnerships": partnerships})


@institution_page
def partner_create(request: ActorRequest) -> HttpResponse:
    """ "Add New Partner": legal details, contact person and settings; "Save" invites it (P-1 … P-7)."""
    form = PartnerForm(posted(request), institution=request.actor.institution)
    if form.is_bound and form.is_valid():
        try:
            partnership = contract.partner_invite(
                actor=request.actor,
                details=form.details,
                terms=form.terms,
                locations=list(form.cleaned_data["locations"]),
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            if partnership.status == Partnership.Status.PENDING_APPROVAL:
                note = _("%(partner)s is already registered: its administrators were asked to approve.")
            else:
                note = _("Saved. A registration invitation is on its way to %(email)s.")
            # Only this institution's own contact is named: nothing of another tenant's (P-14).
            messages.success(
                request, note % {"partner": partnership.partner, "email": partnership.contact_email}
            )
            return redirect("partners:partner-list")
    context = {"form": form, "title": _("Add New Partner"), "summary_forms": validated_forms(form)}
    return render(request, "partners/module/partner_form.html", context, status=form_status(form))


@institution_page
@reauthentication_required
def partner_edit(request: ActorRequest, pk: int) -> HttpResponse:
    """Modify the partnership's own contact person and every setting (P-8); the legal record is the
    partner's (P-14)."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=pk)
    form = PartnerForm(
        posted(request),
        institution=request.actor.institution,
        details_locked=True,
        initial=PartnerForm.initial_for(partnership),
    )
    if form.is_bound and form.is_valid():
        try:
            contract.partnership_update(
                actor=request.actor,
                partnership=partnership,
                details=form.details,
                terms=form.terms,
                locations=list(form.cleaned_data["locations"]),
            )
        except DomainError as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("partners:partner-list")
    context = {
        "form": form,
        "title": _("Modify partner"),
        "partnership": partnership,
        "locked": True,
        "summary_forms": validated_forms(form),
    }
    return render(request, "partners/module/partner_form.html", context, status=form_status(form))


@institution_page
@reauthentication_required
def partner_delete(request: ActorRequest, pk: int) -> HttpResponse:
    """Delete a partner: ask what happens to its future bookings, then end the partnership (P-8)."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=pk)
    form = PartnerEndForm(posted(request))
    if form.is_bound and form.is_valid():
        cancel = form.cleaned_data["future_bookings"] == "cancel"
        try:
            cancelled = contract.partnership_end(
                actor=request.actor,
                partnership=partnership,
                cancel_future=cancel,
            )
        except DomainError as error:
            add_refusal(form, error)
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
    return render(request, "partners/module/partner_delete.html", context, status=form_status(form))


@institution_page
@require_POST
def partner_resend(request: ActorRequest, pk: int) -> HttpResponse:
    """Send a pending partner its registration link again (the earlier link stops working)."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=pk)
    try:
        contract.partnership_invitation_resend(actor=request.actor, partnership=partnership)
    except NotPermitted:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("A new invitation is on its way to %(email)s.") % {"email": _resent_to(partnership)},
        )
    return redirect("partners:partner-list")


def _resent_to(partnership: Partnership) -> str:
    """Whom a resent invitation went to: the partnership's contact, or the partner's own administrators."""
    if partnership.status == Partnership.Status.PENDING_REGISTRATION:
        return partnership.contact_email
    return _("the partner's administrators")


@institution_page
def channel_matrix(request: ActorRequest) -> HttpResponse:
    """ "Traffic Channels": services × channels, a partner's column per partner at the end (P-9)."""
    services_, columns = selectors.channel_matrix(actor=request.actor)
    return render(request, "partners/module/channel_matrix.html", {"services": services_, "columns": columns})


@institution_page
@require_POST
def online_cell(request: ActorRequest, service_pk: int) -> HttpResponse:
    """Tick or untick one cell of the Online column (what patients book online, issue 22); saved at once."""
    service = get_for_actor(Service, request.actor, service_pk)
    enabled = request.POST.get("enabled") in ("1", "on", "true")
    try:
        online.online_service_set(actor=request.actor, service=service, enabled=enabled)
    except NotPermitted:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
        enabled = False
    if not request.htmx:
        return redirect("partners:channel-list")
    context = {"service": service, "checked": enabled, "saved": True}
    return render(request, "partners/module/channel_matrix.html#online_cell", context)


@institution_page
@require_POST
def matrix_cell(request: ActorRequest, partnership_pk: int, service_pk: int) -> HttpResponse:
    """Tick or untick one cell of a partner's column; saves at once and answers with the cell."""
    partnership = selectors.institution_partnership(actor=request.actor, pk=partnership_pk)
    service = get_for_actor(Service, request.actor, service_pk)
    enabled = request.POST.get("enabled") in ("1", "on", "true")
    contract.partnership_service_set(
        actor=request.actor,
        partnership=partnership,
        service=service,
        enabled=enabled,
    )
    if not request.htmx:
        return redirect("partners:channel-list")
    context = {"service": service, "partnership": partnership, "checked": enabled, "saved": True}
    return render(request, "partners/module/channel_matrix.html#cell", context)
