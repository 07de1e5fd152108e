"""Slot holds (issue 21): a held slot is offered to no one else, on any channel, until it is booked by its
holder, released or expires; holding is refused exactly as booking would be; a hold id tells nothing."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.accounts.models import Membership
from medbook.core.errors import DomainError, HoldUnknown, NotPermitted, SlotHeld, SlotUnavailable
from medbook.institutions.tests.factories import MembershipFactory, UserFactory
from medbook.partners.offers import offer_for
from medbook.partners.services.booking import partner_booking_create, partner_slot_hold
from medbook.partners.tests.factories import TEN_PERCENT, partnership_make
from medbook.scheduling import hold_rules, holds, selectors, services
from medbook.scheduling.models import Booking, SlotHold
from medbook.scheduling.tests.test_race_postgres import (  # noqa: F401 - a fixture
    THREADS,
    connections_for_every_thread,
    race,
)

THURSDAY = 3
NEW_PATIENT = {"full_name": "Nora New", "phone": "+36 30 123 4567"}


@pytest.fixture
def day() -> date:
    return next_weekday(THURSDAY)


@pytest.fixture
def partner_q_at_a(cast, partners):
    """Partner Q active at institution A too, for the same calendar as P: another partner."""
    return partnership_make(
        cast.institution_a,
        partners.partner_q,
        locations=[cast.location_a1],
        services=[cast.service_a],
        **TEN_PERCENT,
    )


def hold_as(cast, user, starts_at, **overrides) -> holds.HeldSlot:
    """Hold service_a with physician_a at location_a1, as a member of the institution."""
    return holds.slot_hold(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        starts_at=starts_at,
        **overrides,
    )


def book_as(cast, user, starts_at, **overrides) -> Booking:
    """Book service_a with physician_a at location_a1 for patient_a, as a member of the institution."""
    return services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=starts_at,
        **overrides,
    )


def offer_of(cast, user):
    return offer_for(
        actor=actor_of(user),
        location_id=cast.location_a1.pk,
        physician_id=cast.physician_a.pk,
        service_id=cast.service_a.pk,
    )


def partner_book(cast, user, starts_at, **overrides) -> Booking:
    return partner_booking_create(
        actor=actor_of(user),
        offer=offer_of(cast, user),
        starts_at=starts_at,
        new_patient=NEW_PATIENT,
        **overrides,
    )


def offered(cast, day, *, user=None, now=None) -> set:
    """The starts the slot engine offers on the day: to `user` as holder, or (None) to a caller that names
    no holder (the API today)."""
    holder = hold_rules.holder_of(actor_of(user)) if user is not None else None
    return {
        slot.starts_at
        for slot in selectors.available_slots(
            physician=cast.physician_a,
            location=cast.location_a1,
            service=cast.service_a,
            date_from=day,
            date_until=day,
            holder=holder,
            now=now,
        )
    }


def on_calendar(cast, day, user) -> set:
    """The free starts the user's calendar page shows on the day."""
    week_start = day - timedelta(days=day.weekday())
    days = selectors.calendar_week(
        actor=actor_of(user),
        physician=cast.physician_a,
        location=cast.location_a1,
        service=cast.service_a,
        week_start=week_start,
    )
    return {entry.starts_at for d in days if d.day == day for entry in d.entries if entry.is_free}


def test_a_held_slot_is_offered_to_no_one_else_and_its_holder_books_it(cast, partners, partner_q_at_a, day):
    ten = local(day, 10)
    before = timezone.now()
    held = hold_as(cast, cast.bob, ten)
    assert held.hold.starts_at == ten and len(held.token) == 48
    assert before + timedelta(minutes=10) <= held.hold.expires_at <= timezone.now() + timedelta(minutes=10)
    # Nobody else is offered it: the other desk user, both partners (engine and calendar), the API's call.
    for someone in (cast.alice, partners.peter, partners.quentin):
        assert ten not in offered(cast, day, user=someone)
        assert ten not in on_calendar(cast, day, someone)
    assert ten not in offered(cast, day)
    assert local(day, 10, 30) in offered(cast, day)  # the rest of the day is still offered
    # Nobody else can book it, and is told why.
    with pytest.raises(SlotHeld, match="Someone else is booking this time right now"):
        book_as(cast, cast.alice, ten)
    for partner_user in (partners.peter, partners.quentin):
        with pytest.raises(SlotHeld) as refused:
            partner_book(cast, partner_user, ten)
        assert refused.value.status_code == 409
    # Nor hold it.
    with pytest.raises(SlotHeld):
        partner_slot_hold(actor=actor_of(partners.peter), offer=offer_of(cast, partners.peter), starts_at=ten)
    # The holder still sees it, and books it by its hold: the hold is gone with it.
    assert ten in offered(cast, day, user=cast.bob)
    assert ten in on_calendar(cast, day, cast.bob)
    booking = book_as(cast, cast.bob, ten, hold=held.token)
    assert booking.starts_at == ten
    assert not SlotHold.objects.exists()
    assert Booking.objects.count() == 1
    assert ten not in offered(cast, day, user=cast.bob)


def test_a_partners_hold_keeps_the_slot_from_reception_until_the_partner_books_it(cast, partners, day):
    eleven = local(day, 11)
    peter = actor_of(partners.peter)
    held = partner_slot_hold(actor=peter, offer=offer_of(cast, partners.peter), starts_at=eleven)
    assert (held.hold.user_id, held.hold.organization_id) == (partners.peter.pk, partners.partner_p.pk)
    assert eleven not in on_calendar(cast, day, cast.bob)
    with pytest.raises(SlotHeld):
        book_as(cast, cast.bob, eleven)
    # Another user of the same partner is someone else too.
    assert eleven not in offered(cast, day, user=partners.paula)
    assert eleven in on_calendar(cast, day, partners.peter)
    booking = partner_book(cast, partners.peter, eleven, hold=held.token)
    assert booking.partner == partners.partner_p
    assert not SlotHold.objects.exists()


def test_the_holder_books_its_slot_without_naming_the_hold_and_the_booking_ends_the_hold(cast, day):
    hold_as(cast, cast.bob, local(day, 10))
    book_as(cast, cast.bob, local(day, 10))
    assert not SlotHold.objects.exists()


def test_a_hold_for_another_time_is_refused_and_kept(cast, day):
    held = hold_as(cast, cast.bob, local(day, 10))
    with pytest.raises(DomainError, match="This hold is for another time or calendar."):
        book_as(cast, cast.bob, local(day, 12), hold=held.token)
    assert SlotHold.objects.count() == 1 and not Booking.objects.exists()


def test_release_frees_the_slot_at_once(cast, partners, day):
    ten = local(day, 10)
    held = hold_as(cast, cast.bob, ten)
    # Someone else's release with the token releases nothing.
    assert holds.slot_hold_release(actor=actor_of(cast.alice), hold=held.token) is False
    assert holds.slot_hold_release(actor=actor_of(partners.peter), hold=held.token) is False
    assert ten not in offered(cast, day, user=cast.alice)
    assert holds.slot_hold_release(actor=actor_of(cast.bob), hold=held.token) is True
    assert holds.slot_hold_release(actor=actor_of(cast.bob), hold=held.token) is False
    assert ten in offered(cast, day, user=cast.alice)
    assert book_as(cast, cast.alice, ten).starts_at == ten


def test_expiry_frees_the_slot_and_the_worker_sweeps_expired_holds(cast, partners, day):
    ten = local(day, 10)
    held = hold_as(cast, cast.bob, ten, minutes=5)
    expires = held.hold.expires_at
    # The engine at a time we choose: live a second before, free a second after.
    assert ten not in offered(cast, day, user=cast.alice, now=expires - timedelta(seconds=1))
    assert ten in offered(cast, day, user=cast.alice, now=expires + timedelta(seconds=1))
    live = hold_as(cast, cast.bob, local(day, 12))
    # Its time has come: expired in the table, not yet swept, it blocks nothing.
    SlotHold.objects.filter(pk=held.hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ten in offered(cast, day, user=cast.alice)
    assert ten in on_calendar(cast, day, partners.peter)
    with pytest.raises(HoldUnknown):
        book_as(cast, cast.bob, ten, hold=held.token)
    assert "medbook.scheduling.holds.slot_holds_sweep" in settings.WORKER_TASKS
    call_command("run_worker", "--once")
    assert list(SlotHold.objects.values_list("pk", flat=True)) == [live.hold.pk]
    assert book_as(cast, cast.alice, ten).starts_at == ten


def test_an_expired_hold_in_the_way_is_replaced_by_a_new_one(cast, day):
    old = hold_as(cast, cast.bob, local(day, 10))
    SlotHold.objects.filter(pk=old.hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    new = hold_as(cast, cast.alice, local(day, 10))
    assert list(SlotHold.objects.values_list("pk", flat=True)) == [new.hold.pk]


def test_a_new_hold_of_ones_own_over_an_earlier_one_replaces_it(cast, day):
    hold_as(cast, cast.bob, local(day, 10))
    again = hold_as(cast, cast.bob, local(day, 10))
    assert list(SlotHold.objects.values_list("pk", flat=True)) == [again.hold.pk]


def test_a_holder_holds_a_few_slots_at_once_at_most(cast, day):
    for n in range(holds.LIVE_HOLDS_MAX):
        hold_as(cast, cast.bob, local(day, 9 + n))
    with pytest.raises(DomainError, match="You are holding 5 times already"):
        hold_as(cast, cast.bob, local(day, 15))
    assert hold_as(cast, cast.alice, local(day, 15))  # someone else's count


@pytest.mark.parametrize("minutes", [0, 16, -1, True, "10"])
def test_a_hold_lasts_one_to_fifteen_minutes(cast, day, minutes):
    with pytest.raises(DomainError, match="A slot can be held for 1 to 15 minutes."):
        hold_as(cast, cast.bob, local(day, 10), minutes=minutes)


def test_holding_is_refused_as_booking_would_be(cast, partners, day):
    book_as(cast, cast.bob, local(day, 10))
    with pytest.raises(SlotUnavailable, match="This slot is no longer available."):
        hold_as(cast, cast.alice, local(day, 10))
    with pytest.raises(SlotUnavailable):
        hold_as(cast, cast.alice, local(day, 10, 15))  # overlaps the booking
    with pytest.raises(DomainError, match="outside the physician's working hours"):
        hold_as(cast, cast.bob, local(day, 20))
    with pytest.raises(DomainError, match="cannot start in the past"):
        hold_as(cast, cast.bob, timezone.now() - timedelta(hours=1))
    # A partner: only a free slot of the grid, outside the cut-off.
    peter, offer = actor_of(partners.peter), offer_of(cast, partners.peter)
    with pytest.raises(SlotUnavailable):
        partner_slot_hold(actor=peter, offer=offer, starts_at=local(day, 10, 10))
    cast.institution_a.partner_cutoff_minutes = 60 * 24 * 30
    cast.institution_a.save()
    with pytest.raises(DomainError, match="Partners may book, move or cancel up to"):
        partner_slot_hold(actor=peter, offer=offer_of(cast, partners.peter), starts_at=local(day, 11))
    assert not SlotHold.objects.exists()


def test_hostile_tenant_a_hold_of_another_institutions_slot_is_refused_like_a_booking(cast, partners, day):
    ten = local(day, 10)
    with pytest.raises(Http404):
        book_as(cast, cast.charlie, ten)
    with pytest.raises(Http404):
        hold_as(cast, cast.charlie, ten)
    # A partner with no partnership there, or a user who may not book: refused before anything is read.
    for user in (partners.quentin, partners.petra):
        with pytest.raises(NotPermitted):
            offer_of(cast, user)
        with pytest.raises(NotPermitted):
            hold_as(cast, user, ten)
    # Without a user and without the online channel's rule (issue 22), nobody holds anything.
    with pytest.raises(NotPermitted):
        holds.slot_hold(
            actor=None,
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            starts_at=ten,
        )
    assert not SlotHold.objects.exists()


@pytest.mark.parametrize("token", ["0" * 48, "", "¹²", "x" * 48, "A" * 48, "1" * 10_000])
def test_an_unknown_or_malformed_hold_id_is_refused_and_tells_nothing(cast, day, token):
    hold_as(cast, cast.alice, local(day, 12))
    if token:
        with pytest.raises(HoldUnknown, match="This hold has expired or does not exist"):
            book_as(cast, cast.bob, local(day, 10), hold=token)
        with pytest.raises(HoldUnknown):
            holds.slot_hold_get(actor=actor_of(cast.bob), hold=token)
    assert holds.slot_hold_release(actor=actor_of(cast.bob), hold=token) is False
    assert SlotHold.objects.count() == 1


def test_someone_elses_hold_id_is_refused_exactly_like_an_unknown_one(cast, partners, day):
    alices = hold_as(cast, cast.alice, local(day, 12))
    for user in (cast.bob, cast.charlie):
        with pytest.raises(HoldUnknown) as foreign:
            holds.slot_hold_get(actor=actor_of(user), hold=alices.token)
        with pytest.raises(HoldUnknown) as unknown:
            holds.slot_hold_get(actor=actor_of(user), hold="0" * 48)
        assert str(foreign.value) == str(unknown.value)
    # Booking a free time with her hold's id: the same refusal, and her hold stays.
    with pytest.raises(HoldUnknown):
        book_as(cast, cast.bob, local(day, 10), hold=alices.token)
    with pytest.raises(HoldUnknown):
        partner_book(cast, partners.peter, local(day, 10), hold=alices.token)
    # Her slot itself, named by her hold's id: still hers.
    with pytest.raises(SlotHeld):
        book_as(cast, cast.bob, local(day, 12), hold=alices.token)
    mine = holds.slot_hold_get(actor=actor_of(cast.alice), hold=alices.token)
    assert mine.pk == alices.hold.pk and mine.service == cast.service_a
    assert not Booking.objects.exists()


def test_a_booking_cannot_move_onto_a_slot_someone_else_holds(cast, day):
    booking = book_as(cast, cast.bob, local(day, 9))
    hold_as(cast, cast.alice, local(day, 10))
    with pytest.raises(SlotHeld):
        services.booking_move(actor=actor_of(cast.bob), booking=booking, starts_at=local(day, 10))
    moved = services.booking_move(actor=actor_of(cast.alice), booking=booking, starts_at=local(day, 10))
    assert moved.starts_at == local(day, 10)
    assert not SlotHold.objects.exists()  # the move took her own hold's time


def test_an_anonymous_hold_is_its_token_bearers_alone(cast, day):
    """Issue 22's patient: no user, known by the hold's token only."""
    token, key = hold_rules.token_new()
    ten = local(day, 10)
    SlotHold.objects.create(
        institution=cast.institution_a,
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        starts_at=ten,
        ends_at=ten + timedelta(minutes=cast.service_a.duration_minutes),
        expires_at=timezone.now() + timedelta(minutes=10),
        key_hash=key,
    )
    bearer = hold_rules.Holder(token=token)
    window = {"physician": cast.physician_a, "starts": ten, "ends": ten + timedelta(hours=1)}
    assert (
        selectors.busy_of(holder=bearer, **window).own and not selectors.busy_of(holder=bearer, **window).held
    )
    assert selectors.busy_of(holder=hold_rules.Holder(token="0" * 48), **window).held
    assert hold_rules.holder_of(None, token) == bearer
    assert hold_rules.hold_of(bearer, token, now=timezone.now()).starts_at == ten
    # A logged-in user with the token is someone else: the token is a bearer's only while nobody logs in.
    with pytest.raises(HoldUnknown):
        holds.slot_hold_get(actor=actor_of(cast.bob), hold=token)
    assert ten not in offered(cast, day, user=cast.bob)


def staff_users(cast, count: int) -> list:
    """`count` more reception users of institution A: each one a holder of its own."""
    return [
        MembershipFactory(
            user=UserFactory(email=f"desk{n}@a.test"),
            organization=cast.institution_a,
            role=Membership.Role.STAFF,
        ).user
        for n in range(count)
    ]


def calendar_a(cast, starts_at) -> dict:
    return {
        "location": cast.location_a1,
        "physician": cast.physician_a,
        "service": cast.service_a,
        "starts_at": starts_at,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("connections_for_every_thread")
def test_twenty_simultaneous_holds_of_one_slot_give_one_hold(cast, day):
    attempts = [
        {"actor": actor_of(user), **calendar_a(cast, local(day, 10))} for user in staff_users(cast, THREADS)
    ]
    assert race(attempts, act=holds.slot_hold) == Counter({"booked": 1, "slot unavailable": THREADS - 1})
    assert SlotHold.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("connections_for_every_thread")
def test_simultaneous_holds_and_bookings_of_one_slot_give_one_of_them(cast, day):
    # Half hold 10:00, half book 10:15 (overlapping it), each as another user: one wins, never a hold and a
    # booking of someone else side by side.
    def act(what, **arguments):
        return what(**arguments)

    attempts = [
        {"what": holds.slot_hold, "actor": actor_of(user), **calendar_a(cast, local(day, 10))}
        if n % 2
        else {
            "what": services.booking_create,
            "actor": actor_of(user),
            "patient": cast.patient_a,
            **calendar_a(cast, local(day, 10, 15)),
        }
        for n, user in enumerate(staff_users(cast, THREADS))
    ]
    assert race(attempts, act=act) == Counter({"booked": 1, "slot unavailable": THREADS - 1})
    assert SlotHold.objects.count() + Booking.objects.count() == 1


@pytest.mark.postgres
def test_the_database_itself_refuses_two_overlapping_holds_of_one_physician(cast, day):
    def row(hour: int, minute: int = 0) -> SlotHold:
        starts_at = local(day, hour, minute)
        return SlotHold.objects.create(
            institution=cast.institution_a,
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            expires_at=timezone.now() - timedelta(minutes=1),  # expired, and still in the way until deleted
            key_hash=hold_rules.token_new()[1],
        )

    row(10)
    row(10, 30)  # back to back
    with pytest.raises(IntegrityError, match="slot_hold_physician_no_overlap"), transaction.atomic():
        row(10, 15)
    assert SlotHold.objects.count() == 2
