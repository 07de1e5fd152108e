"""Issue 23, defect 10: what the desk reads is in its language, never ISO dates, codes or bare numbers: the
reception panel, the Bookings report, patient-search birth dates, notification subjects, the traffic charts'
numbers, the Working hours and Leave headings and the audit log's acts and details."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from conftest import local, next_weekday
from medbook.audit.actions import AuditAction
from medbook.audit.words import ACTION_WORDS
from medbook.notifications.models import OutboxMessage
from medbook.partners.tests import services as partner_services
from medbook.partners.tests.test_end_and_matrix import partner_booking
from medbook.scheduling import services
from medbook.scheduling.models import Booking, ScheduleException

pytestmark = pytest.mark.django_db
ISO = re.compile(r"\d{4}-\d\d-\d\d")


def _hungarian(client, user):
    user.language = "hu"
    user.save()
    client.cookies["django_language"] = "hu"
    return client


def _book(booking_service, cast, user) -> Booking:
    """Anna's 09:00 visit of a day next week, booked by `user` through the desk's or the partner's service."""
    return booking_service.booking_create(
        actor=cast.actor(user),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(2), 9),
    )


@pytest.fixture
def booking(cast) -> Booking:
    return _book(services, cast, cast.bob)


def test_defect10_reception_panel_shows_the_time_in_words(cast, booking, login):
    client = login(cast.bob)
    url = reverse("scheduling:booking-detail", args=[booking.pk])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    day = booking.starts_at.date()
    assert f"{day:%a} {day.day} {day:%b} {day.year}, 09:00–09:30" in html
    assert not ISO.search(html.split('class="details"', 1)[1].split("</dl>", 1)[0])
    hu = _hungarian(client, cast.bob).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert re.search(rf"{day.year}\. \w+ {day.day}\., \w+ 09:00–09:30", hu)
    assert not ISO.search(hu.split('class="details"', 1)[1].split("</dl>", 1)[0])


def test_defect10_bookings_report_dates_in_words(cast, booking, login):
    day = booking.starts_at.date()
    query = {"date_from": day.isoformat(), "date_until": day.isoformat()}
    html = login(cast.alice).get(reverse("reports:booking-report"), query).content.decode()
    row = html.split(f'data-booking="{booking.pk}"', 1)[1].split("</tr>", 1)[0]
    assert f"<td>{day:%a} {day.day} {day:%b} {day.year}</td>" in row and "<td>09:00</td>" in row
    assert not ISO.search(row)


def test_defect10_patient_search_birth_dates_in_the_readers_language(cast, login):
    cast.patient_a.birth_date = date(1980, 3, 5)
    cast.patient_a.save()
    client = login(cast.bob)
    url = reverse("patients:patient-search")
    assert "Anna Patient · 5 Mar 1980" in client.get(url, {"q": "Anna"}).content.decode()
    assert (
        "Anna Patient · 1980. 03. 05."
        in _hungarian(client, cast.bob).get(url, {"q": "Anna"}).content.decode()
    )
    assert "1980-03-05" not in client.get(reverse("patients:patient-list")).content.decode()


def test_defect10_notification_subjects_in_words(cast, partners):
    booked = _book(partner_services, cast, partners.peter)
    subject = OutboxMessage.objects.get(to_email=cast.alice.email).subject
    day = booked.starts_at.date()
    assert subject == f"CallCenter Ltd booked an appointment: {day:%a} {day.day} {day:%b} {day.year}, 09:00"


def test_defect10_chart_numbers_and_days_in_the_readers_language(cast, partners, login):
    yesterday = date.today() - timedelta(days=1)
    visit = partner_booking(cast, partners.partnership_p, local(yesterday, 9))
    Booking.objects.filter(pk=visit.pk).update(status=Booking.Status.COMPLETED)
    query = {"date_from": yesterday.isoformat(), "date_until": yesterday.isoformat()}
    client = login(cast.alice)
    html = client.get(reverse("reports:traffic"), query).content.decode()
    per_partner = html.split('data-testid="chart-commission"', 1)[1].split("</svg>", 1)[0]
    assert 'data-amount="1200.00"' in per_partner  # the machine's value stays plain
    assert ">1,200.00</text>" in per_partner and "<title>CallCenter Ltd: 1,200.00</title>" in per_partner
    over_time = html.split('data-testid="chart-over-time"', 1)[1].split("</svg>", 1)[0]
    titles = re.findall(r"<title>([^<]*)</title>", over_time)
    assert titles and not any(ISO.search(title) for title in titles)
    assert f">{yesterday.day} {yesterday:%b}</text>" in over_time
    hu = _hungarian(client, cast.alice).get(reverse("reports:traffic"), query).content.decode()
    per_partner = hu.split('data-testid="chart-commission"', 1)[1].split("</svg>", 1)[0]
    assert ">1\xa0200,00</text>" in per_partner


def test_defect10_working_hours_and_leave_headings_in_hungarian(cast, login):
    ScheduleException.objects.create(
        physician=cast.physician_a,
        location=cast.location_a1,
        date_from=date(2030, 1, 2),
        date_until=date(2030, 1, 3),
    )
    client = _hungarian(login(cast.alice), cast.alice)
    for name, expected in (("workinghours", {"Telephely"}), ("exception", {"Orvos", "Telephely"})):
        html = client.get(reverse(f"scheduling:{name}-list")).content.decode()
        headings = set(re.findall(r'<th scope="col">([^<]*)</th>', html))
        assert expected <= headings, (name, headings)  # working hours are grouped under each physician
        assert not {"Physician", "Location", "physician", "location"} & headings


def test_defect10_audit_log_in_words(cast, booking, login):
    services.booking_cancel(actor=cast.actor(cast.bob), booking=booking, reason="Patient is ill")
    client = login(cast.alice)
    html = client.get(reverse("audit:entry-list")).content.decode()
    cell = html.split('data-action="booking.cancel">', 1)[1].split("</tr>", 1)[0]
    assert cell.startswith("Booking cancelled</td>")
    assert "reason: Patient is ill" in cell and "time: " in cell and "starts_at" not in cell
    hu = _hungarian(client, cast.alice).get(reverse("audit:entry-list")).content.decode()
    cell = hu.split('data-action="booking.cancel">', 1)[1].split("</tr>", 1)[0]
    assert cell.startswith("Foglalás lemondva</td>") and "indok: Patient is ill" in cell
    assert ">Foglalás lemondva</option>" in hu


def test_defect10_every_audit_act_has_words():
    assert set(ACTION_WORDS) == set(AuditAction)
