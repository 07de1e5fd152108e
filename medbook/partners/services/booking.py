"""Book to partner (P-11 … P-13): a partner's user books, moves, changes and cancels its own bookings and
finds the institution's patients (P-7). Each write asks `medbook.partners.access` for the partner's terms
and hands them to the one booking service the institution's staff use too."""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from medbook.audit.actions import AuditAction
from medbook.audit.services import audit_record
from medbook.core.errors import DomainError, NotPermitted, TooManyRequests
from medbook.core.tenancy import Actor
from medbook.core.timefmt import when
from medbook.partners.access import (
    access_booking_terms,
    access_own_booking,
    access_patient_data,
    may_see_patients,
)
from medbook.partners.models import Partnership, PatientSearch
from medbook.partners.offers import Offer
from medbook.partners.services import notices, quotas
from medbook.patients import selectors as patient_selectors
from medbook.patients.models import Patient
from medbook.patients.services import patient_create
from medbook.scheduling import holds
from medbook.scheduling import services as booking_services
from medbook.scheduling.models import Booking


def partner_booking_create(
    *,
    actor: Actor,
    offer: Offer,
    starts_at: datetime,
    patient_id=None,
    new_patient: dict | None = None,
    note: str = "",
    hold: str = "",
    refuse_same_day: bool = False,
) -> Booking:
    """Book a free slot of an offer for a patient picked from the register (with access) or entered anew.

    With patient-data access a new patient's TAJ number is looked up in the register (a registered one is
    sent to the search), so the look-up counts against the search quotas (P-15), in a transaction of its
    own like a search: a refusal past a quota stays recorded. `hold`: the token of the user's hold of this
    slot (`partner_slot_hold`), which the booking consumes.

    `refuse_same_day` (Book to partner, until the user acknowledges it): refuse a picked patient who already
    has a visit that day at the institution (`scheduling.services.booking_create`), naming only the time of
    a visit another booked (P-13)."""
    taj = (new_patient or {}).get("insurance_id") if not patient_id else ""
    if taj and may_see_patients(offer.partnership):
        _results, refusal = _search_or_refuse(
            actor=actor, partnership=offer.partnership, query=str(taj), lookup=False
        )
        if refusal is not None:
            raise refusal
    # Opened before the booking's transaction, so that a same-day refusal keeps the opening in the audit log.
    patient = None
    if patient_id and refuse_same_day:
        patient = partner_patient_open(actor=actor, partnership=offer.partnership, patient_id=patient_id)
    return _booking_create(
        actor=actor,
        offer=offer,
        starts_at=starts_at,
        patient_id=patient_id,
        new_patient=new_patient,
        note=note,
        hold=hold,
        patient=patient,
        refuse_same_day=refuse_same_day,
    )


def _offer_terms(*, actor: Actor, offer: Offer):
    # An offer from `medbook.partners.offers` was checked in this request by the one rule of what the
    # partner may book (partnership, GTC, authorised location and service, the physician giving it there):
    # its terms are not read again. Any other offer is checked here.
    return offer.terms() or access_booking_terms(actor=actor, location=offer.location, service=offer.service)


def partner_slot_hold(
    *, actor: Actor, offer: Offer, starts_at: datetime, minutes: int = holds.HOLD_MINUTES
) -> holds.HeldSlot:
    """Hold a free slot of an offer for a few minutes (`scheduling.holds.slot_hold`), as the partner
    would book it: under its terms, on the grid, outside the cut-off."""
    return holds.slot_hold(
        actor=actor,
        location=offer.location,
        physician=offer.physician,
        service=offer.service,
        starts_at=starts_at,
        terms=_offer_terms(actor=actor, offer=offer),
        minutes=minutes,
    )


@transaction.atomic
def _booking_create(
    *,
    actor: Actor,
    offer: Offer,
    starts_at: datetime,
    patient_id,
    new_patient: dict | None,
    note: str,
    hold: str = "",
    patient: Patient | None = None,
    refuse_same_day: bool = False,
) -> Booking:
    terms = _offer_terms(actor=actor, offer=offer)
    # `patient`: the picked patient, opened (and audited) already for the same-day check.
    if patient is None and patient_id:
        patient = partner_patient_open(actor=actor, partnership=offer.partnership, patient_id=patient_id)
    elif patient is None and new_patient:
        patient = patient_create(actor=actor, terms=terms, **new_patient)
    elif patient is None:
        raise DomainError(_("Choose a patient or enter the patient's details."), field="patient")
    return booking_services.booking_create(
        actor=actor,
        location=offer.location,
        physician=offer.physician,
        service=offer.service,
        patient=patient,
        starts_at=starts_at,
        note=note,
        terms=terms,
        hold=hold,
        channel=offer.partnership.channel if Partnership.channel.is_cached(offer.partnership) else None,
        refuse_same_day=refuse_same_day,
    )


@transaction.atomic
def partner_booking_move(
    *, actor: Actor, booking: Booking, starts_at: datetime, undoable: bool = False
) -> Booking:
    """Move the partner's own booking to another free slot of the grid (P-13); `undoable` from the pages
    (`booking_services.booking_undo`)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=True)
    return booking_services.booking_move(
        actor=actor, booking=booking, starts_at=starts_at, terms=terms, undoable=undoable
    )


@transaction.atomic
def partner_booking_note_set(*, actor: Actor, booking: Booking, note: str) -> Booking:
    """Change the note of the partner's own booking (P-13)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return booking_services.booking_note_set(actor=actor, booking=booking, note=note, terms=terms)


@transaction.atomic
def partner_booking_cancel(*, actor: Actor, booking: Booking, undoable: bool = False) -> Booking:
    """Delete (cancel) the partner's own booking; the institution is told (P-13, N-4)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return booking_services.booking_cancel(
        actor=actor, booking=booking, terms=terms, source="book to partner", undoable=undoable
    )


@transaction.atomic
def partner_booking_undo(*, actor: Actor, booking: Booking) -> Booking:
    """Undo the partner's last move or deletion of its own booking (`booking_services.booking_undo`)."""
    terms = access_own_booking(actor=actor, booking=booking, authorise_target=False)
    return booking_services.booking_undo(actor=actor, booking=booking, terms=terms)


def partner_patient_search(*, actor: Actor, partnership: Partnership, query: str) -> list[Patient]:
    """A partner's search of the institution's patients while booking (P-7): a few matches, audited (X-3),
    within the user's and the partnership's quotas (P-15). Past a quota the search is refused with a 429;
    the refusal (its audit row and the institution's alert) is written in a transaction of its own, which
    commits before the refusal is raised."""
    results, refusal = _search_or_refuse(actor=actor, partnership=partnership, query=query)
    if refusal is not None:
        raise refusal
    return results


@transaction.atomic
def _search_or_refuse(
    *, actor: Actor, partnership: Partnership, query: str, lookup: bool = True
) -> tuple[list[Patient], TooManyRequests | None]:
    """Count a search against the quotas and run it (with `lookup`), or record its refusal."""
    terms = access_patient_data(actor=actor, partnership=partnership)
    user = actor.user
    if user is None:
        raise NotPermitted()
    query = patient_selectors.partner_query_clean(query)
    runs = patient_selectors.partner_query_runs(query)
    now = timezone.now()
    if runs:
        # The partnership's searches one at a time, so that two at once cannot both take the last one.
        list(Partnership.objects.select_for_update().filter(pk=partnership.pk).values_list("pk", flat=True))
        quotas.forget_old(partnership=partnership, now=now)
        hit = quotas.quota_hit(user=user, partnership=partnership, now=now)
        if hit is not None:
            return [], _refuse(actor=actor, user=user, partnership=partnership, hit=hit, query=query, now=now)
    if not lookup:  # the new-patient form's TAJ look-up: counted here, made by patient_create
        PatientSearch.objects.create(partnership=partnership, user=user, created_at=now)
        return [], None
    query, results = patient_selectors.partner_patient_search(terms=terms, query=query)
    result_ids = [patient.pk for patient in results]
    if runs:
        PatientSearch.objects.create(
            partnership=partnership, user=user, created_at=now, result_ids=result_ids
        )
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_PARTNER_SEARCH,
        obj=partnership,
        query=query,
        result_ids=result_ids,
    )
    return results, None


def _refuse(
    *, actor: Actor, user, partnership: Partnership, hit: quotas.QuotaHit, query: str, now: datetime
) -> TooManyRequests:
    """Record a search refused by a quota (audited; the institution's admins e-mailed once per window)."""
    alert = quotas.alert_due(hit=hit, user=user, partnership=partnership, now=now)
    PatientSearch.objects.create(partnership=partnership, user=user, created_at=now, refused=hit.scope)
    audit_record(
        actor=actor,
        action=AuditAction.PATIENT_SEARCH_QUOTA_HIT,
        obj=partnership,
        quota=hit.scope,
        limit=hit.limit,
        retry_at=hit.retry_at.isoformat(),
        query=query,
        alerted=alert,
    )
    if alert:
        notices.search_quota_alert_send(
            partnership=partnership,
            searcher=user,
            scope=hit.scope,
            limit=hit.limit,
            retry_at=hit.retry_at,
        )
    zone = ZoneInfo(partnership.institution.time_zone)
    today = hit.retry_at.astimezone(zone).date() == now.astimezone(zone).date()
    shown = when(hit.retry_at, zone, "time" if today else "datetime")
    return TooManyRequests(
        _("Too many patient searches: try again after %(time)s.") % {"time": shown},
        retry_after=math.ceil((hit.retry_at - now).total_seconds()),
    )


@transaction.atomic
def partner_patient_open(*, actor: Actor, partnership: Partnership, patient_id) -> Patient:
    """One of the institution's patients, picked by a partner with access (P-7) among those the same user's
    recent search returned (P-15), audited; any other id answers 404, as an unknown one does."""
    terms = access_patient_data(actor=actor, partnership=partnership)
    patient = patient_selectors.partner_patient_get(terms=terms, patient_id=patient_id)
    returned = quotas.recently_returned(
        user=actor.user, partnership=partnership, patient_id=patient.pk, now=timezone.now()
    )
    if not returned:
        raise Http404()
    audit_record(
        actor=actor, action=AuditAction.PATIENT_PARTNER_OPEN, obj=patient, partner=terms.partner_name
    )
    return patient
