"""The services' own backstops: what holds when a caller skips the page filters and calls them directly.

Every test calls the services as a page would have to (no page involved) and asserts what a user would
notice: the exception and its message, the booking's status and time, the number of rows, the audit log.
"""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError, NotPermitted
from medbook.institutions.tests.factories import ServiceFactory, weekly_hours
from medbook.partners.access import access_booking_terms, access_own_booking, terms_of
from medbook.partners.models import Partnership
from medbook.partners.services import portal
from medbook.partners.services.contract import partnership_end
from medbook.partners.tests import services
from medbook.partners.tests.factories import gtc_publish, partnership_make
from medbook.patients.models import Patient
from medbook.patients.services import patient_create
from medbook.reports.services import partner_booking_cancel
from medbook.scheduling import services as scheduling
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

NO_MATCH = "These details do not match the institution's records; check the name and TAJ."


def _book(cast, user, day, hour=9) -> Booking:
    """A booking made through the services as the user's page would make it (partner or staff)."""
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, hour),
        note="original note",
    )


def _snapshot(booking: Booking) -> tuple:
    """What a user sees of a booking: its status, time and note, as stored."""
    row = Booking.objects.get(pk=booking.pk)
    return row.status, row.starts_at, row.ends_at, row.note


def _change(name: str, *, actor, booking, terms):
    """Call one of the scheduling services that change a booking, directly (no access check before it)."""
    if name == "move":
        new_start = booking.starts_at + timedelta(hours=1)
        return scheduling.booking_move(actor=actor, booking=booking, starts_at=new_start, terms=terms)
    if name == "cancel":
        return scheduling.booking_cancel(actor=actor, booking=booking, terms=terms)
    return scheduling.booking_note_set(actor=actor, booking=booking, note="changed by someone", terms=terms)


CHANGES = ["move", "cancel", "note"]
CHANGE_ACTIONS = ("booking.move", "booking.cancel", "booking.note")


@pytest.fixture
def partnership_q(cast, partners) -> Partnership:
    """Q active at institution A too, authorised for the same location and service as P."""
    return partnership_make(
        cast.institution_a,
        partners.partner_q,
        locations=[cast.location_a1],
        services=[cast.service_a],
    )


@pytest.fixture
def p_booking(cast, partners) -> Booking:
    return _book(cast, partners.peter, next_weekday(1))


def _q_terms(cast, partners):
    """Q's terms, legitimately resolved by access for Q's own user at A Central, Cardiology check."""
    return access_booking_terms(
        actor=actor_of(partners.quentin), location=cast.location_a1, service=cast.service_a
    )


# -- 1. A partner's user changes only its own partner's bookings (P-13) ------------------------------------


@pytest.mark.parametrize("change", CHANGES)
def test_another_partners_booking_with_own_legitimate_terms_is_not_found(
    cast, partners, partnership_q, p_booking, change
):
    terms = _q_terms(cast, partners)
    assert terms.partner_id == partners.partner_q.pk  # genuinely Q's terms, for this very target
    before = _snapshot(p_booking)
    with pytest.raises(Http404):
        _change(change, actor=actor_of(partners.quentin), booking=p_booking, terms=terms)
    assert _snapshot(p_booking) == before
    assert _snapshot(p_booking)[0] == Booking.Status.BOOKED
    assert not AuditEntry.objects.filter(action__in=CHANGE_ACTIONS).exists()


@pytest.mark.parametrize("change", CHANGES)
def test_another_partners_booking_with_terms_of_the_other_partnership_is_not_found(
    cast, partners, partnership_q, p_booking, change
):
    """Q's user holding terms built for Q's partnership at the booking's very location and service."""
    terms = terms_of(
        partnership_q, location_id=cast.location_a1.pk, service_id=cast.service_a.pk, _authorised=True
    )
    before = _snapshot(p_booking)
    with pytest.raises(Http404):
        _change(change, actor=actor_of(partners.quentin), booking=p_booking, terms=terms)
    assert _snapshot(p_booking) == before


@pytest.mark.parametrize("authorise_target", [True, False])
def test_access_own_booking_hides_another_partners_booking(
    cast, partners, partnership_q, p_booking, authorise_target
):
    with pytest.raises(Http404):
        access_own_booking(
            actor=actor_of(partners.quentin), booking=p_booking, authorise_target=authorise_target
        )


@pytest.mark.parametrize("authorise_target", [True, False])
def test_access_own_booking_hides_the_institutions_own_booking(cast, partners, authorise_target):
    staff_booking = _book(cast, cast.bob, next_weekday(1), hour=11)
    assert staff_booking.partner_id is None
    with pytest.raises(Http404):
        access_own_booking(
            actor=actor_of(partners.peter), booking=staff_booking, authorise_target=authorise_target
        )


@pytest.mark.parametrize("change", CHANGES)
def test_the_institutions_own_booking_is_not_found_for_a_partner_with_its_terms(cast, partners, change):
    staff_booking = _book(cast, cast.bob, next_weekday(1), hour=11)
    terms = access_booking_terms(
        actor=actor_of(partners.peter), location=cast.location_a1, service=cast.service_a
    )
    before = _snapshot(staff_booking)
    with pytest.raises(Http404):
        _change(change, actor=actor_of(partners.peter), booking=staff_booking, terms=terms)
    assert _snapshot(staff_booking) == before


@pytest.mark.parametrize("change", CHANGES)
def test_partner_actor_without_terms_is_refused_even_on_its_own_booking(cast, partners, p_booking, change):
    before = _snapshot(p_booking)
    with pytest.raises(NotPermitted):
        _change(change, actor=actor_of(partners.peter), booking=p_booking, terms=None)
    assert _snapshot(p_booking) == before
    assert not AuditEntry.objects.filter(action__in=CHANGE_ACTIONS).exists()


def test_partner_actor_without_terms_cannot_book(cast, partners):
    with pytest.raises(NotPermitted):
        scheduling.booking_create(
            actor=actor_of(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(1), 9),
            terms=None,
        )
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("change", CHANGES)
def test_own_booking_with_another_partners_terms_is_refused(cast, partners, partnership_q, p_booking, change):
    """P's user on P's booking, but carrying the terms Q's user resolved."""
    before = _snapshot(p_booking)
    with pytest.raises(NotPermitted):
        _change(change, actor=actor_of(partners.peter), booking=p_booking, terms=_q_terms(cast, partners))
    assert _snapshot(p_booking) == before


@pytest.mark.parametrize(
    "target",
    ["other location", "other service", "no target (as for a cancellation)"],
)
def test_move_with_own_terms_resolved_for_another_target_is_refused(cast, partners, p_booking, target):
    location_id, service_id = cast.location_a1.pk, cast.service_a.pk
    if target == "other location":
        location_id = cast.location_a2.pk
    elif target == "other service":
        service_id = cast.service_b.pk
    else:
        location_id = service_id = None
    terms = terms_of(partners.partnership_p, location_id=location_id, service_id=service_id, _authorised=True)
    before = _snapshot(p_booking)
    with pytest.raises(NotPermitted):
        scheduling.booking_move(
            actor=actor_of(partners.peter),
            booking=p_booking,
            starts_at=local(next_weekday(1), 10),
            terms=terms,
        )
    assert _snapshot(p_booking) == before
    assert not AuditEntry.objects.filter(action="booking.move").exists()


def test_move_with_own_terms_resolved_for_the_booking_succeeds(cast, partners, p_booking):
    """The control: the same call with the right terms does move (so the refusals above are the backstop)."""
    terms = access_own_booking(actor=actor_of(partners.peter), booking=p_booking, authorise_target=True)
    scheduling.booking_move(
        actor=actor_of(partners.peter), booking=p_booking, starts_at=local(next_weekday(1), 10), terms=terms
    )
    assert _snapshot(p_booking)[1] == local(next_weekday(1), 10)


def test_booking_create_with_another_partners_terms_is_refused(cast, partners, partnership_q):
    terms = _q_terms(cast, partners)
    with pytest.raises(NotPermitted):
        scheduling.booking_create(
            actor=actor_of(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(1), 9),
            terms=terms,
        )
    assert Booking.objects.count() == 0
    assert not AuditEntry.objects.filter(action="booking.create").exists()


def test_booking_create_with_own_terms_of_another_institution_is_refused(cast, partners):
    """P's terms at institution B (with A's location and service ids written in) do not book at A."""
    at_b = partnership_make(
        cast.institution_b, partners.partner_p, locations=[cast.location_b], services=[cast.service_b]
    )
    terms = terms_of(at_b, location_id=cast.location_a1.pk, service_id=cast.service_a.pk, _authorised=True)
    with pytest.raises(NotPermitted):
        scheduling.booking_create(
            actor=actor_of(partners.peter),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(1), 9),
            terms=terms,
        )
    assert Booking.objects.count() == 0


def test_staff_actor_cannot_book_under_partner_terms(cast, partners):
    """The institution's staff cannot pass a partner's terms and so make a booking look the partner's."""
    terms = terms_of(
        partners.partnership_p,
        location_id=cast.location_a1.pk,
        service_id=cast.service_a.pk,
        _authorised=True,
    )
    with pytest.raises(DomainError, match="Only a partner books under partner terms"):
        scheduling.booking_create(
            actor=actor_of(cast.bob),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(1), 9),
            terms=terms,
        )
    assert Booking.objects.count() == 0


# -- 2. An invitation is approved only with the current GTC accepted (P-3, N-2) ----------------------------


@pytest.fixture
def invitation_q(cast, partners) -> Partnership:
    """Institution A's invitation to the registered partner Q, waiting for Q's approval."""
    return partnership_make(
        cast.institution_a,
        partners.partner_q,
        status=Partnership.Status.PENDING_APPROVAL,
        locations=[cast.location_a1],
        services=[cast.service_a],
    )


def test_approval_without_the_current_gtc_is_refused_and_works_after_accepting_it(
    cast, partners, invitation_q
):
    new = gtc_publish("2026-2", ago=timedelta(minutes=1))  # Q accepted only 2026-1
    quentin = actor_of(partners.quentin)
    with pytest.raises(DomainError, match="Accept the current General Terms and Conditions first"):
        portal.partnership_approve(actor=quentin, partnership=invitation_q)
    invitation_q.refresh_from_db()
    assert invitation_q.status == Partnership.Status.PENDING_APPROVAL and invitation_q.activated_at is None
    assert not AuditEntry.objects.filter(action="partnership.approve").exists()

    portal.gtc_accept(actor=quentin, version=new)
    portal.partnership_approve(actor=quentin, partnership=invitation_q)
    invitation_q.refresh_from_db()
    assert invitation_q.status == Partnership.Status.ACTIVE and invitation_q.activated_at is not None
    assert AuditEntry.objects.filter(action="partnership.approve").count() == 1


def test_approval_by_a_partner_that_never_accepted_any_gtc_is_refused(cast, partners, invitation_q):
    partners.partner_q.gtc_acceptances.all().delete()
    with pytest.raises(DomainError, match="Accept the current General Terms and Conditions first"):
        portal.partnership_approve(actor=actor_of(partners.quentin), partnership=invitation_q)
    invitation_q.refresh_from_db()
    assert invitation_q.status == Partnership.Status.PENDING_APPROVAL


def test_accepting_an_outdated_gtc_version_does_not_open_the_approval(cast, partners, invitation_q):
    gtc_publish("2026-2", ago=timedelta(minutes=1))
    quentin = actor_of(partners.quentin)
    with pytest.raises(DomainError, match="The terms have changed"):
        portal.gtc_accept(actor=quentin, version=partners.gtc)
    with pytest.raises(DomainError, match="Accept the current General Terms and Conditions first"):
        portal.partnership_approve(actor=quentin, partnership=invitation_q)
    invitation_q.refresh_from_db()
    assert invitation_q.status == Partnership.Status.PENDING_APPROVAL


# -- 3. The report cancels only a partner's booking (R-3) -------------------------------------------------


def test_report_cancel_of_a_staff_booking_is_refused(cast, partners):
    staff_booking = _book(cast, cast.bob, next_weekday(1), hour=11)
    with pytest.raises(
        DomainError, match="Only a booking made by a partner can be cancelled from this report"
    ):
        partner_booking_cancel(actor=actor_of(cast.alice), booking=staff_booking)
    assert _snapshot(staff_booking)[0] == Booking.Status.BOOKED
    assert not AuditEntry.objects.filter(action="booking.cancel").exists()


def test_report_cancel_of_a_partner_booking_works(cast, partners, p_booking):
    """The control: the same call on a partner's booking cancels it and audits the act."""
    partner_booking_cancel(actor=actor_of(cast.alice), booking=p_booking)
    assert _snapshot(p_booking)[0] == Booking.Status.CANCELLED
    assert AuditEntry.objects.filter(action="booking.cancel", object_id=str(p_booking.pk)).count() == 1


# -- 4. Ending a partnership cancels only its future bookings (P-8) ---------------------------------------


def _past_booked(cast, partnership, days_ago=2) -> Booking:
    """A partner's booking that started in the past and is still "booked" (booking_create refuses it)."""
    starts_at = timezone.now() - timedelta(days=days_ago)
    return Booking.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=cast.service_a.duration_minutes),
        channel=partnership.channel,
        partner=partnership.partner,
        price=cast.service_a.price,
        currency=cast.service_a.currency,
        commission_percent=partnership.commission_percent,
    )


def test_ending_with_cancel_future_cancels_only_future_bookings(cast, partners, p_booking):
    past = _past_booked(cast, partners.partnership_p)
    staff_future = _book(cast, cast.bob, next_weekday(1), hour=11)
    cancelled = partnership_end(
        actor=actor_of(cast.alice), partnership=partners.partnership_p, cancel_future=True
    )
    assert cancelled == 1
    assert _snapshot(p_booking)[0] == Booking.Status.CANCELLED
    assert _snapshot(past)[0] == Booking.Status.BOOKED
    assert _snapshot(staff_future)[0] == Booking.Status.BOOKED
    partners.partnership_p.refresh_from_db()
    assert partners.partnership_p.status == Partnership.Status.ENDED
    entry = AuditEntry.objects.get(action="partnership.end")
    assert entry.details["cancelled_booking_ids"] == [p_booking.pk]


def test_ending_while_keeping_future_bookings_cancels_nothing(cast, partners, p_booking):
    past = _past_booked(cast, partners.partnership_p)
    assert (
        partnership_end(actor=actor_of(cast.alice), partnership=partners.partnership_p, cancel_future=False)
        == 0
    )
    assert _snapshot(p_booking)[0] == Booking.Status.BOOKED
    assert _snapshot(past)[0] == Booking.Status.BOOKED


# -- 5. A partner registers a patient only with its terms, and learns nothing of the register (P-7) --------


def test_partner_actor_without_terms_cannot_register_a_patient(cast, partners):
    before = Patient.objects.count()
    with pytest.raises(NotPermitted):
        patient_create(actor=actor_of(partners.peter), full_name="Nora New", insurance_id="", terms=None)
    assert Patient.objects.count() == before


def test_partner_actor_with_another_partners_terms_cannot_register_a_patient(cast, partners, partnership_q):
    before = Patient.objects.count()
    with pytest.raises(NotPermitted):
        patient_create(
            actor=actor_of(partners.peter),
            full_name="Nora New",
            terms=terms_of(partnership_q, _authorised=True),
        )
    assert Patient.objects.count() == before


@pytest.mark.parametrize("name", ["Somebody Else", "  anna   PATIENT "])
def test_without_data_access_a_registered_taj_is_never_attached_nor_revealed(cast, partners, name):
    """F4: whatever the name, a partner without patient-data access gets a new record for the institution
    to merge, never the registered patient and never a message that tells the TAJ is in use."""
    assert not partners.partnership_p.patient_data_access
    patient = patient_create(
        actor=actor_of(partners.peter),
        full_name=name,
        insurance_id=cast.patient_a.insurance_id,
        terms=terms_of(partners.partnership_p, _authorised=True),
    )
    assert patient.pk != cast.patient_a.pk and patient.registered_by_partner
    assert AuditEntry.objects.filter(action="patient.create", object_id=str(patient.pk)).exists()


# -- Terms built without the access checks --------------------------------------------------------------
# Terms built with terms_of() alone (a capture, say) are not authorised: only the access functions, after
# every partner rule held, hand out terms the services accept. A caller that skips access books nothing.


@pytest.mark.parametrize("change", CHANGES)
def test_terms_of_an_ended_partnership_change_no_booking(cast, partners, p_booking, change):
    partnership_end(actor=actor_of(cast.alice), partnership=partners.partnership_p, cancel_future=False)
    ended = Partnership.objects.get(pk=partners.partnership_p.pk)
    terms = terms_of(ended, location_id=p_booking.location_id, service_id=p_booking.service_id)
    before = _snapshot(p_booking)
    with pytest.raises(DomainError):
        _change(change, actor=actor_of(partners.peter), booking=p_booking, terms=terms)
    assert _snapshot(p_booking) == before


@pytest.mark.parametrize(
    "gap", ["unauthorised location", "unauthorised service", "current GTC not accepted", "pending"]
)
def test_terms_built_without_access_book_nothing(cast, partners, gap):
    location, service = cast.location_a1, cast.service_a
    if gap == "unauthorised location":
        weekly_hours(cast.physician_a, cast.location_a2)
        location = cast.location_a2
    elif gap == "unauthorised service":
        service = ServiceFactory(
            institution=cast.institution_a,
            name="Secret surgery",
            locations=[cast.location_a1],
            physicians=[cast.physician_a],
        )
    elif gap == "current GTC not accepted":
        gtc_publish("2026-2", ago=timedelta(minutes=1))
    else:
        Partnership.objects.filter(pk=partners.partnership_p.pk).update(
            status=Partnership.Status.PENDING_APPROVAL
        )
    partnership = Partnership.objects.get(pk=partners.partnership_p.pk)
    with pytest.raises(DomainError):
        scheduling.booking_create(
            actor=actor_of(partners.peter),
            location=location,
            physician=cast.physician_a,
            service=service,
            patient=cast.patient_a,
            starts_at=local(next_weekday(1), 9),
            terms=terms_of(partnership, location_id=location.pk, service_id=service.pk),
        )
    assert Booking.objects.count() == 0
