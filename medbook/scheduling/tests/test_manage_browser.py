"""In Chromium on a 375 px phone: the patient opens the link of the confirmation e-mail (read from a real SMTP
server) of a booking a partner made, confirms it was wanted, moves it, then cancels it (B-14, P-16); the
page has no axe violation and nothing wider than the phone."""

import re

import pytest
from playwright.sync_api import expect

from conftest import actor_of, local, next_weekday
from medbook.core.tests.test_accessibility_browser import _violations
from medbook.partners.tests import services as partner_services
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LINK = re.compile(r"https?://[^/\s]+(/appointment/[0-9a-f]{48}/)")


def _texts(smtp_server, email: str) -> list[tuple[str, str]]:
    return [
        (message["Subject"], message.get_body(preferencelist=("plain",)).get_content())
        for message in smtp_server.messages
        if message["To"] == email
    ]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not _violations(page)


def test_b14_p16_patient_confirms_moves_and_cancels_from_the_emailed_link_on_a_phone(
    cast, partners, live_server, new_page, smtp_server, deliver_outbox
):
    cast.institution_a.language = "en"
    cast.institution_a.save()
    booking = partner_services.booking_create(
        actor=actor_of(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(next_weekday(1), 9),
    )
    deliver_outbox()
    [(subject, text)] = _texts(smtp_server, cast.patient_a.email)
    assert subject.startswith("Appointment booked") and "booked for you by another organisation" in text
    path = LINK.search(text).group(1)

    page = new_page(width=375, height=800)
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Your appointment", exact=True)).to_be_visible()
    expect(page.get_by_test_id("manage-time")).to_contain_text("09:00")
    _fits(page)

    page.get_by_role("button", name="Yes, I want this appointment").click()
    expect(page.locator(".flash.success")).to_contain_text("your appointment is confirmed")
    expect(page.get_by_test_id("manage-status")).to_contain_text("confirmed by you")

    first = page.locator(".move-day button.slot").first
    new_time = first.inner_text()
    first.click()
    expect(page.locator(".flash.success")).to_contain_text("Your appointment was moved.")
    expect(page.get_by_test_id("manage-time")).to_contain_text(new_time)
    _fits(page)

    page.get_by_test_id("manage-cancel").click()
    expect(page.get_by_test_id("manage-cancelled")).to_contain_text("is cancelled")
    _fits(page)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.patient_confirmed_at is not None
    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()

    deliver_outbox()
    subjects = [subject for subject, _text in _texts(smtp_server, cast.patient_a.email)]
    assert [s.split(" at ")[0] for s in subjects] == [
        "Appointment booked",
        "Appointment moved",
        "Appointment cancelled",
    ]
    told = _texts(smtp_server, partners.paula.email)
    assert any("The patient moved" in text for _subject, text in told)
    assert any("The patient cancelled" in text for _subject, text in told)
