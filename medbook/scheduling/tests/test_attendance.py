"""B-11: the desk marks a booking that has started completed or no-show (undone the same day), and paid or
refunded where the institution is paid; the partner is told the outcome; nobody moves or cancels a started
booking."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import actor_of, local, next_weekday
from medbook.audit.models import AuditEntry
from medbook.core.errors import DomainError, NotPermitted
from medbook.notifications.models import OutboxMessage
from medbook.partners.models import Partnership
from medbook.partners.tests import services as partner_services
from medbook.scheduling import selectors, services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db
COMPLETED, NO_SHOW, BOOKED = Booking.Status.COMPLETED, Booking.Status.NO_SHOW, Booking.Status.BOOKED
PAID, REFUNDED, UNPAID = (
    Booking.PaymentStatus.PAID,
    Booking.PaymentStatus.REFUNDED,
    Booking.PaymentStatus.UNPAID,
)
NOT_STARTED = "Attendance can be recorded once the appointment has started."
EARLIER_DAY = "Attendance recorded on an earlier day can no longer be changed."


def _book(cast, user, hour=9, note=""):
    """A booking at A made ahead (through the partner's access for a partner's user)."""
    return partner_services.booking_create(
        actor=actor_of(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), hour),
        note=note,
    )


def _ended(booking: Booking, ago: timedelta = timedelta(hours=2)) -> Booking:
    """Let the booking's time come: it ended `ago` (a negative `ago`: it is under way)."""
    length = booking.ends_at - booking.starts_at
    ends_at = timezone.now() - ago
    Booking.objects.filter(pk=booking.pk).update(starts_at=ends_at - length, ends_at=ends_at)
    booking.refresh_from_db()
    return booking


@pytest.fixture
def ended(cast) -> Booking:
    """Reception booked Anna a visit that ended two hours ago; nothing was recorded yet."""
    booking = _ended(_book(cast, cast.bob))
    OutboxMessage.objects.all().delete()  # the patient's confirmation and reminder of the booking
    return booking


@pytest.fixture
def referred(cast, partners) -> Booking:
    """Peter (partner P) booked Anna a visit at A, with a note, that ended two hours ago."""
    booking = _ended(_book(cast, partners.peter, note="Secret note for the doctor"))
    OutboxMessage.objects.all().delete()  # the "booking made" e-mails
    return booking


def _entries(action: str, booking: Booking):
    return AuditEntry.objects.filter(action=action, object_id=str(booking.pk)).order_by("pk")


def _to(email: str):
    return OutboxMessage.objects.filter(to_email=email, kind="booking_attendance").order_by("pk")


def _mark(cast, booking, status, user=None):
    return services.booking_attendance_set(actor=actor_of(user or cast.bob), booking=booking, status=status)


def _pay(cast, booking, payment_status, user=None):
    return services.booking_payment_set(
        actor=actor_of(user or cast.bob), booking=booking, payment_status=payment_status
    )


# Attendance: the service.


@pytest.mark.parametrize("status", [COMPLETED, NO_SHOW])
def test_b11_reception_records_the_outcome_of_a_visit_that_ended(cast, ended, status):
    _mark(cast, ended, status)
    ended.refresh_from_db()
    assert ended.status == status
    assert timezone.now() - ended.attendance_recorded_at < timedelta(minutes=1)
    entry = _entries("booking.attendance", ended).get()
    assert entry.user == cast.bob and entry.institution == cast.institution_a
    assert entry.details["previous"] == "booked" and entry.details["status"] == status
    assert not OutboxMessage.objects.exists()  # reception's own booking: no partner to tell


def test_b11_a_visit_under_way_may_be_marked_completed(cast):
    booking = _ended(_book(cast, cast.alice), ago=timedelta(minutes=-10))
    _mark(cast, booking, COMPLETED, cast.alice)
    booking.refresh_from_db()
    assert booking.status == COMPLETED


def test_b11_the_partner_is_told_the_outcome_without_the_patient_or_the_note(cast, partners, referred):
    _mark(cast, referred, NO_SHOW)
    for user in (partners.paula, partners.peter):  # the partner's admin and the agent who booked
        message = _to(user.email).get()
        assert "Institution A" in message.subject and "no-show" in message.subject
        assert "did not come" in message.text_body and "No-show" in message.text_body
        assert "CallCenter Ltd" in message.text_body and str(referred.pk) in message.text_body
        for body in (message.subject, message.text_body, message.html_body):
            assert "Anna" not in body and "111111110" not in body and "Secret note" not in body
    assert not _to(partners.petra.email).exists()  # not an admin, did not book it
    assert not _to(cast.alice.email).exists() and not _to(cast.bob.email).exists()


def test_b11_the_partner_reads_the_outcome_in_its_language_and_the_local_hour(cast, partners, referred):
    partners.paula.language = "hu"
    partners.paula.save()
    _mark(cast, referred, COMPLETED)
    message = _to(partners.paula.email).get()
    assert message.language == "hu" and "Teljesítve" in message.text_body  # "Completed"
    start = timezone.localtime(referred.starts_at, ZoneInfo(cast.institution_a.time_zone))
    assert start.strftime("%H:%M") in message.text_body
    assert "Completed" in _to(partners.peter.email).get().text_body


def test_b11_undo_the_same_day_tells_no_one_and_the_next_outcome_is_told(cast, partners, referred):
    _mark(cast, referred, COMPLETED)
    _mark(cast, referred, BOOKED)
    referred.refresh_from_db()
    assert referred.status == BOOKED and referred.attendance_recorded_at is None
    assert _to(partners.paula.email).count() == 1
    _mark(cast, referred, NO_SHOW)  # the correction: the partner learns the outcome that holds
    referred.refresh_from_db()
    assert referred.status == NO_SHOW
    assert list(_to(partners.paula.email).values_list("subject", flat=True))[-1].count("no-show") == 1
    assert [e.details["status"] for e in _entries("booking.attendance", referred)] == [
        "completed",
        "booked",
        "no_show",
    ]


def test_b11_completed_and_no_show_swap_the_same_day(cast, ended):
    _mark(cast, ended, COMPLETED)
    _mark(cast, ended, NO_SHOW)
    ended.refresh_from_db()
    assert ended.status == NO_SHOW


@pytest.mark.parametrize("change", [NO_SHOW, BOOKED])
def test_b11_an_outcome_recorded_on_an_earlier_day_stays(cast, ended, change):
    _mark(cast, ended, COMPLETED)
    Booking.objects.filter(pk=ended.pk).update(attendance_recorded_at=timezone.now() - timedelta(days=2))
    with pytest.raises(DomainError, match=EARLIER_DAY):
        _mark(cast, ended, change)
    ended.refresh_from_db()
    assert ended.status == COMPLETED and _entries("booking.attendance", ended).count() == 1


def test_b11_recording_the_same_outcome_again_changes_nothing(cast, partners, referred):
    _mark(cast, referred, COMPLETED)
    _mark(cast, referred, COMPLETED)  # a second click, another tab
    assert _entries("booking.attendance", referred).count() == 1
    assert _to(partners.paula.email).count() == 1


def test_b11_a_future_booking_has_no_attendance_yet(cast):
    future = _book(cast, cast.bob)
    with pytest.raises(DomainError, match=NOT_STARTED):
        _mark(cast, future, COMPLETED)
    future.refresh_from_db()
    assert future.status == BOOKED and not _entries("booking.attendance", future).exists()


def test_b11_a_cancelled_booking_has_no_attendance(cast, ended):
    Booking.objects.filter(pk=ended.pk).update(status=Booking.Status.CANCELLED, cancelled_at=timezone.now())
    with pytest.raises(DomainError, match="A cancelled appointment has no attendance to record."):
        _mark(cast, ended, COMPLETED)
    ended.refresh_from_db()
    assert ended.status == Booking.Status.CANCELLED


def test_b11_only_an_outcome_may_be_recorded(cast, ended):
    with pytest.raises(DomainError, match="Choose completed, no-show or undo."):
        _mark(cast, ended, "cancelled")
    ended.refresh_from_db()
    assert ended.status == BOOKED


@pytest.mark.parametrize("who", ["peter", "paula"])
def test_b11_the_partner_may_not_record_attendance_even_of_its_own_booking(cast, partners, referred, who):
    with pytest.raises(NotPermitted):
        _mark(cast, referred, COMPLETED, getattr(partners, who))
    referred.refresh_from_db()
    assert referred.status == BOOKED and not _entries("booking.attendance", referred).exists()


def test_b11_another_institution_never_finds_the_booking(cast, ended):
    with pytest.raises(Http404):
        _mark(cast, ended, COMPLETED, cast.charlie)
    with pytest.raises(Http404):
        _pay(cast, ended, PAID, cast.charlie)
    ended.refresh_from_db()
    assert (ended.status, ended.payment_status) == (BOOKED, UNPAID)


# Payment: the service.


def test_b11_paid_then_refunded_is_audited_and_tells_no_one(cast, referred):
    _pay(cast, referred, PAID)
    _pay(cast, referred, REFUNDED)
    referred.refresh_from_db()
    assert referred.payment_status == REFUNDED
    entries = _entries("booking.payment", referred)
    assert [(e.details["previous"], e.details["payment_status"]) for e in entries] == [
        ("unpaid", "paid"),
        ("paid", "refunded"),
    ]
    assert entries[0].user == cast.bob
    assert not OutboxMessage.objects.exists()


def test_b11_a_mistaken_paid_is_corrected_to_unpaid(cast, ended):
    _pay(cast, ended, PAID)
    _pay(cast, ended, UNPAID)
    ended.refresh_from_db()
    assert ended.payment_status == UNPAID


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (UNPAID, REFUNDED, "Only a paid appointment can be refunded."),
        (REFUNDED, PAID, "A refunded appointment stays refunded."),
        (UNPAID, "paid_at_partner", "Choose paid, refunded or unpaid."),
    ],
)
def test_b11_payment_steps_that_are_refused(cast, ended, before, after, message):
    Booking.objects.filter(pk=ended.pk).update(payment_status=before)
    with pytest.raises(DomainError, match=message):
        _pay(cast, ended, after)
    ended.refresh_from_db()
    assert ended.payment_status == before and not _entries("booking.payment", ended).exists()


def test_b11_a_booking_paid_at_the_partner_keeps_its_payment_status(cast, partners):
    Partnership.objects.filter(pk=partners.partnership_p.pk).update(
        payment_location=Partnership.PaymentLocation.PARTNER
    )
    booking = _ended(_book(cast, partners.peter))
    assert booking.payment_status == Booking.PaymentStatus.PAID_AT_PARTNER
    for change in (PAID, REFUNDED, UNPAID):
        with pytest.raises(DomainError, match="The patient pays at the partner"):
            _pay(cast, booking, change)
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.PAID_AT_PARTNER


def test_b11_a_future_booking_is_not_paid_yet(cast):
    future = _book(cast, cast.bob)
    with pytest.raises(DomainError, match="Payment can be recorded once the appointment has started."):
        _pay(cast, future, PAID)


def test_b11_the_partner_may_not_record_payment(cast, partners, referred):
    with pytest.raises(NotPermitted):
        _pay(cast, referred, PAID, partners.paula)
    referred.refresh_from_db()
    assert referred.payment_status == UNPAID


# Nobody moves or cancels a booking that has started (F6), staff and partner alike.


def test_b11_a_started_booking_is_not_moved_by_staff_or_partner(cast, partners, referred):
    later = local(next_weekday(3), 9)
    for user in (cast.bob, cast.alice, partners.peter):
        with pytest.raises(DomainError, match="An appointment that has started cannot be moved."):
            partner_services.booking_move(actor=actor_of(user), booking=referred, starts_at=later)
    with pytest.raises(DomainError, match="An appointment that has started cannot be cancelled."):
        partner_services.booking_cancel(actor=actor_of(cast.bob), booking=referred)
    with pytest.raises(DomainError, match="An appointment that has started cannot be cancelled."):
        partner_services.booking_cancel(actor=actor_of(partners.peter), booking=referred)
    referred.refresh_from_db()
    assert referred.status == BOOKED and referred.ends_at < timezone.now()
    assert not AuditEntry.objects.filter(action__in=["booking.move", "booking.cancel"]).exists()


def test_b11_a_started_booking_is_not_moved_from_either_page(cast, partners, referred, client):
    later = local(next_weekday(3), 9).isoformat()
    client.force_login(cast.bob)
    staff = client.post(reverse("scheduling:booking-move", args=[referred.pk]), {"starts_at": later})
    assert staff.status_code == 422 and "has started cannot be moved" in staff.content.decode()
    client.force_login(partners.peter)
    partner = client.post(reverse("partners:booking-move", args=[referred.pk]), {"starts_at": later})
    assert 400 <= partner.status_code < 500
    referred.refresh_from_db()
    assert referred.ends_at < timezone.now() and referred.status == BOOKED


# The pages.


def _post(client, name: str, booking: Booking, **data):
    return client.post(reverse(name, args=[booking.pk]), data, HTTP_HX_REQUEST="true")


def test_b11_the_panel_of_a_visit_that_ended_offers_outcome_and_payment_not_cancel(cast, ended, login):
    html = login(cast.bob).get(reverse("scheduling:booking-detail", args=[ended.pk])).content.decode()
    assert 'value="completed"' in html and 'value="no_show"' in html and 'value="paid"' in html
    assert "attendance not recorded" in html
    assert "Cancel booking" not in html and "Move to" not in html
    assert 'value="booked"' not in html and 'value="refunded"' not in html  # nothing to undo or refund


def test_b11_the_panel_of_a_future_booking_offers_move_and_cancel_only(cast, login):
    future = _book(cast, cast.bob)
    html = login(cast.bob).get(reverse("scheduling:booking-detail", args=[future.pk])).content.decode()
    assert "Cancel booking" in html and "Move to" in html
    assert 'value="completed"' not in html and 'value="paid"' not in html


def test_b11_reception_marks_completed_and_paid_on_the_panel(cast, ended, login):
    client = login(cast.bob)
    response = _post(client, "scheduling:booking-attendance", ended, status="completed")
    assert response.status_code == 200 and response["HX-Retarget"] == "#workspace"
    html = response.content.decode()
    assert 'data-testid="booking-status">Completed' in html and "recorded" in html
    assert 'value="booked"' in html and "Undo" in html  # the same day it may be undone
    ended.refresh_from_db()
    assert ended.status == COMPLETED
    response = _post(client, "scheduling:booking-payment", ended, payment_status="paid")
    assert response.status_code == 200
    assert 'data-testid="booking-payment">Paid' in response.content.decode()
    assert 'value="refunded"' in response.content.decode()
    ended.refresh_from_db()
    assert ended.payment_status == PAID


def test_b11_an_outcome_of_an_earlier_day_shows_no_undo(cast, ended, login):
    _mark(cast, ended, NO_SHOW)
    Booking.objects.filter(pk=ended.pk).update(attendance_recorded_at=timezone.now() - timedelta(days=2))
    html = login(cast.bob).get(reverse("scheduling:booking-detail", args=[ended.pk])).content.decode()
    assert 'data-testid="booking-status">No-show' in html
    assert 'value="booked"' not in html and 'value="completed"' not in html


def test_b11_a_refused_change_answers_422_with_the_reason(cast, login):
    future = _book(cast, cast.bob)
    client = login(cast.alice)
    response = _post(client, "scheduling:booking-attendance", future, status="completed")
    assert response.status_code == 422 and NOT_STARTED in response.content.decode()
    response = _post(client, "scheduling:booking-payment", future, payment_status="nonsense")
    assert response.status_code == 422 and "Choose paid, refunded or unpaid." in response.content.decode()
    future.refresh_from_db()
    assert (future.status, future.payment_status) == (BOOKED, UNPAID)


def test_b11_other_institutions_and_partners_are_refused_on_the_pages(cast, partners, referred, client):
    for user, expected in ((cast.charlie, 404), (partners.peter, 403), (partners.paula, 403)):
        client.force_login(user)
        assert _post(client, "scheduling:booking-attendance", referred, status="completed").status_code == (
            expected
        )
        assert _post(client, "scheduling:booking-payment", referred, payment_status="paid").status_code == (
            expected
        )
    referred.refresh_from_db()
    assert (referred.status, referred.payment_status) == (BOOKED, UNPAID)
    assert not AuditEntry.objects.filter(action__in=["booking.attendance", "booking.payment"]).exists()


def test_b11_a_get_changes_nothing(cast, ended, login):
    response = login(cast.bob).get(reverse("scheduling:booking-attendance", args=[ended.pk]))
    assert response.status_code == 405


# "Attendance not recorded" on reception's calendar.


def _calendar(client) -> str:
    return client.get(reverse("scheduling:calendar")).content.decode()


def test_b11_the_calendar_lists_visits_past_their_grace_only(cast, login):
    overdue = _ended(_book(cast, cast.bob, 9))  # ended two hours ago: past the 60 minutes
    within = _ended(_book(cast, cast.bob, 10), ago=timedelta(minutes=30))
    old = _ended(_book(cast, cast.bob, 11), ago=timedelta(days=31))
    recorded = _ended(_book(cast, cast.bob, 12), ago=timedelta(hours=3))
    _mark(cast, recorded, COMPLETED)
    html = _calendar(login(cast.bob))
    assert "Attendance not recorded: 1 appointment" in html
    assert f'<tr data-booking="{overdue.pk}">' in html
    for hidden in (within, old, recorded):
        assert f'<tr data-booking="{hidden.pk}">' not in html
    assert 'aria-label="Completed: ' in html and 'aria-label="No-show: ' in html
    cast.institution_a.attendance_grace_minutes = 15
    cast.institution_a.save()
    assert "Attendance not recorded: 2 appointments" in _calendar(login(cast.bob))


def test_b11_the_list_is_the_institutions_own(cast, ended, login):
    assert f'data-booking="{ended.pk}"' not in _calendar(login(cast.charlie))
    assert selectors.attendance_overdue(actor=actor_of(cast.charlie)).total == 0


def test_b11_recording_from_the_list_removes_the_visit_and_keeps_the_list_open(cast, login):
    first = _ended(_book(cast, cast.bob, 9))
    second = _ended(_book(cast, cast.bob, 10), ago=timedelta(hours=3))
    response = _post(
        login(cast.bob), "scheduling:booking-attendance", first, status="no_show", **{"from": "overdue"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Attendance not recorded: 1 appointment" in html
    assert '<details class="overdue" id="attendance-overdue" open>' in html
    assert f'<tr data-booking="{second.pk}">' in html and f'<tr data-booking="{first.pk}">' not in html
    first.refresh_from_db()
    assert first.status == NO_SHOW


def test_b11_the_list_takes_the_same_queries_for_one_visit_or_many(cast, login):
    client = login(cast.bob)
    _ended(_book(cast, cast.bob, 9))
    _calendar(client)  # the first request of a session reads a few things once
    with CaptureQueriesContext(connection) as one:
        _calendar(client)
    for hour in (10, 11, 12, 13):
        _ended(_book(cast, cast.bob, hour), ago=timedelta(hours=hour))
    with CaptureQueriesContext(connection) as many:
        html = _calendar(client)
    assert "Attendance not recorded: 5 appointments" in html
    assert len(many) == len(one)


def test_b11_a_long_list_shows_the_latest_and_counts_them_all(cast):
    for hour in (9, 10, 11, 12):
        _ended(_book(cast, cast.bob, hour), ago=timedelta(hours=hour))
    overdue = selectors.attendance_overdue(actor=actor_of(cast.bob), limit=3)
    assert overdue.total == 4 and len(overdue.bookings) == 3
    assert [b.ends_at for b in overdue.bookings] == sorted(
        (b.ends_at for b in overdue.bookings), reverse=True
    )
