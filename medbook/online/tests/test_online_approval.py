"""Attendance memory (issue 22): an online booking of a repeat no-show waits for the desk's approval."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import translation

from conftest import actor_of, local, next_weekday
from medbook.accounts.actor import actor_for
from medbook.accounts.tokens import api_token_create
from medbook.audit.models import AuditEntry
from medbook.core.errors import Conflict, NotPermitted
from medbook.institutions.models import Institution
from medbook.institutions.services import institution_settings_errors
from medbook.institutions.tests.test_settings import _form as settings_form
from medbook.notifications.models import OutboxMessage
from medbook.online.tests.helpers import details_url, last_code, online_on, person
from medbook.patients.models import Patient
from medbook.scheduling import services
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db

ANNA = {"full_name": "Anna Patient", "email": "anna@example.test", "birth_date": "1980-01-02"}


@pytest.fixture
def online(cast):
    """Institution A books online; Anna (in its register) missed two visits."""
    online_on(cast.institution_a, cast.service_a)
    Patient.objects.filter(pk=cast.patient_a.pk).update(email=ANNA["email"], birth_date=ANNA["birth_date"])
    for hour in (8, 9):
        booking = services.booking_create(
            actor=actor_of(cast.bob),
            location=cast.location_a1,
            physician=cast.physician_a,
            service=cast.service_a,
            patient=cast.patient_a,
            starts_at=local(next_weekday(3), hour),
        )
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.NO_SHOW)
    return cast


def _threshold(cast, value) -> None:
    Institution.objects.filter(pk=cast.institution_a.pk).update(online_approval_no_shows=value)


def _book_online(cast, hour: int = 10, **details) -> Booking:
    client = Client()
    url = details_url(cast, hour=hour)
    query = dict(pair.split("=") for pair in url.split("?", 1)[1].split("&"))
    started = client.post(url, {**query, **person(**details)})
    assert started.status_code == 302
    email = details.get("email", "nora@example.test")
    assert client.post(started["Location"], {"code": last_code(email)}).status_code == 302
    return Booking.objects.get(channel__code="online", patient__email=email)


def _made_mail(email: str) -> OutboxMessage:
    return OutboxMessage.objects.get(kind="patient_booking_made", to_email=email)


WILL_CONFIRM = (
    "A rendelő megerősíti ezt az időpontot"  # the patient's e-mails: in the institution's language (hu)
)


def test_setting_off_by_default_books_a_repeat_no_show_as_usual(online):
    assert online.institution_a.online_approval_no_shows is None
    booking = _book_online(online, **ANNA)
    assert booking.patient_id == online.patient_a.pk
    assert booking.approval_needed_at is None and not booking.awaiting_approval
    assert WILL_CONFIRM not in _made_mail(ANNA["email"]).text_body


def test_below_the_threshold_books_as_usual(online):
    _threshold(online, 3)
    booking = _book_online(online, **ANNA)
    assert not booking.awaiting_approval
    newcomer = _book_online(
        online, hour=11, email="nora@example.test"
    )  # no visits at all: nothing to wait for
    assert not newcomer.awaiting_approval


@pytest.fixture
def awaiting(online) -> Booking:
    _threshold(online, 2)
    return _book_online(online, **ANNA)


def test_reaching_the_threshold_books_but_awaits_the_desks_approval(online, awaiting):
    assert awaiting.status == Booking.Status.BOOKED and awaiting.awaiting_approval
    mail = _made_mail(ANNA["email"])
    assert WILL_CONFIRM in mail.text_body and WILL_CONFIRM in mail.html_body


def test_in_english_the_email_says_the_clinic_will_confirm(online):
    Institution.objects.filter(pk=online.institution_a.pk).update(language="en", online_approval_no_shows=1)
    _book_online(online, **ANNA)
    assert "The clinic will confirm this appointment" in _made_mail(ANNA["email"]).text_body


def test_the_panel_shows_awaiting_approval_and_the_desk_approves_with_one_button(online, awaiting, login):
    client = login(online.bob)
    panel = client.get(reverse("scheduling:booking-detail", args=[awaiting.pk])).content.decode()
    assert "Awaiting approval" in panel and 'data-testid="booking-approve"' in panel
    response = client.post(reverse("scheduling:booking-approve", args=[awaiting.pk]))
    assert response.status_code == 200
    awaiting.refresh_from_db()
    assert not awaiting.awaiting_approval and awaiting.approved_by == online.bob
    entry = AuditEntry.objects.get(action="booking.approve")
    assert entry.details["patient_id"] == online.patient_a.pk
    approved = OutboxMessage.objects.get(kind="patient_booking_approved", to_email=ANNA["email"])
    assert "Institution A megerősítette az időpontját" in approved.text_body
    assert approved.attachments[0]["filename"] == "appointment.ics"
    panel = client.get(reverse("scheduling:booking-detail", args=[awaiting.pk])).content.decode()
    assert "Awaiting approval" not in panel and 'data-testid="booking-approve"' not in panel
    again = client.post(reverse("scheduling:booking-approve", args=[awaiting.pk]))
    assert again.status_code == 422 and "not awaiting approval" in again.content.decode()
    assert AuditEntry.objects.filter(action="booking.approve").count() == 1


def test_the_desk_may_cancel_instead_with_the_usual_cancel(online, awaiting, login):
    client = login(online.bob)
    client.post(reverse("scheduling:booking-cancel", args=[awaiting.pk]))
    awaiting.refresh_from_db()
    assert awaiting.status == Booking.Status.CANCELLED
    with pytest.raises(Conflict):
        services.booking_approve(actor=actor_of(online.bob), booking=awaiting)


def test_another_institutions_admin_gets_404(online, awaiting, login):
    response = login(online.charlie).post(reverse("scheduling:booking-approve", args=[awaiting.pk]))
    assert response.status_code == 404
    with pytest.raises(Http404):
        services.booking_approve(actor=actor_of(online.charlie, online.institution_b), booking=awaiting)
    awaiting.refresh_from_db()
    assert awaiting.awaiting_approval


def test_a_partner_user_cannot_approve(online, awaiting, partners, login):
    response = login(partners.peter).post(reverse("scheduling:booking-approve", args=[awaiting.pk]))
    assert response.status_code in (403, 404)
    with pytest.raises((NotPermitted, PermissionDenied)):
        services.booking_approve(actor=actor_of(partners.peter), booking=awaiting)
    awaiting.refresh_from_db()
    assert awaiting.awaiting_approval


def test_a_partner_is_told_that_only_the_staff_approve(online, awaiting, partners):
    """The refusal names the act refused (approval), not attendance and payment; in Hungarian too."""
    partner = actor_of(partners.peter)
    with pytest.raises(NotPermitted) as refused:
        services.booking_approve(actor=partner, booking=awaiting)
    assert str(refused.value.message) == "Only the institution's staff approve online bookings."
    with translation.override("hu"):
        assert str(refused.value.message) == "Online foglalást csak az intézmény munkatársai hagyhatnak jóvá."


@pytest.mark.parametrize("pk", ["abc", "0", "99999999999999999999", "%00"])
def test_hostile_ids_answer_4xx(online, login, pk):
    client = login(online.bob)
    response = client.post(f"/calendar/bookings/{pk}/approve/")
    assert 400 <= response.status_code < 500


def test_get_is_refused(online, awaiting, login):
    response = login(online.bob).get(reverse("scheduling:booking-approve", args=[awaiting.pk]))
    assert response.status_code == 405
    awaiting.refresh_from_db()
    assert awaiting.awaiting_approval


@pytest.mark.parametrize(
    ("value", "error"), [("0", True), ("-1", True), ("101", True), ("x", True), ("1", False), (None, False)]
)
def test_the_setting_is_validated(online, value, error):
    values = {
        "name": "A",
        "time_zone": "Europe/Budapest",
        "language": "hu",
        "online_approval_no_shows": value,
    }
    _cleaned, errors = institution_settings_errors(values)
    assert ("online_approval_no_shows" in errors) is error


def test_the_admin_sets_and_empties_it_on_the_settings_page(online, login):
    client = login(online.alice)
    url = reverse("institutions:settings")
    page = client.get(url).content.decode()
    assert 'name="online_approval_no_shows"' in page
    form = _settings_form(online.institution_a)
    assert client.post(url, {**form, "online_approval_no_shows": "2"}).status_code == 302
    online.institution_a.refresh_from_db()
    assert online.institution_a.online_approval_no_shows == 2
    assert client.post(url, {**form, "online_approval_no_shows": "0"}).status_code == 422
    assert client.post(url, {**form, "online_approval_no_shows": ""}).status_code == 302
    online.institution_a.refresh_from_db()
    assert online.institution_a.online_approval_no_shows is None


def _settings_form(institution) -> dict:
    """The settings page's form as it stands, with online booking on (the settings tests' own form)."""
    return settings_form(institution, online_booking="on", privacy_notice=institution.privacy_notice)


def test_the_json_api_shows_the_flag(online, awaiting):
    token = api_token_create(actor=actor_for(online.bob), name="desk")[1]
    url = reverse("api:booking_get", args=[awaiting.pk])
    answer = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200 and answer.json()["awaiting_approval"] is True
