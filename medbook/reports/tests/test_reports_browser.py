"""In Chromium: the admin opens "Partner-submitted statistics", filters a period and cancels a partner's
booking; the partner's admin receives the email and the slot is free again in the partner's calendar."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, local, next_weekday
from medbook.partners.tests import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The next step is a goto(): it must not cut short the login's navigation before the session cookie.
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_r3_admin_cancels_partner_booking_partner_is_told_and_slot_is_free(
    cast, partners, live_server, page, new_page, settings, smtp_server, deliver_outbox
):
    settings.SITE_URL = live_server.url
    day = next_weekday(2)
    booking = services.booking_create(
        actor=cast.actor(partners.peter),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 9),
    )
    deliver_outbox()  # the institution was told of the new booking (N-4); not what this test is about
    before = len(smtp_server.messages)

    # The partner sees its booking in "Book to partner".
    partner_page = new_page()
    _log_in(partner_page, live_server, partners.peter)
    calendar_url = f"{live_server.url}/partner/book/?show=1&week={day.isoformat()}"
    partner_page.goto(calendar_url)
    day_column = partner_page.locator(f'section.physician-calendar .day[data-day="{day.isoformat()}"]')
    expect(day_column.locator(f'[data-booking="{booking.pk}"]')).to_be_visible()
    expect(day_column.locator(".slot.free", has_text=re.compile(r"^09:00$"))).to_have_count(0)

    _log_in(page, live_server, cast.alice)
    page.goto(f"{live_server.url}/reports/partner-bookings/")
    expect(page.get_by_role("heading", name="Partner-submitted statistics")).to_be_visible()
    page.get_by_label("From").fill(day.isoformat())
    page.get_by_label("Until").fill(day.isoformat())
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f'tr[data-booking="{booking.pk}"]')
    expect(row).to_contain_text("CallCenter Ltd")
    expect(row).to_contain_text("Peter Booker")
    expect(page.get_by_test_id("report-count")).to_have_text("1 booking")
    row.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("booking-to-cancel")).to_contain_text("Anna Patient")
    page.get_by_role("button", name="Yes, cancel the booking").click()
    expect(page).to_have_url(re.compile(rf"date_from={day.isoformat()}"))
    expect(row.get_by_test_id("booking-status")).to_have_text("Cancelled")
    expect(row.get_by_role("link", name="Cancel")).to_have_count(0)

    assert deliver_outbox() >= 1
    told = [m for m in smtp_server.messages[before:] if m["To"] == partners.paula.email]
    assert len(told) == 1
    assert "09:00" in told[0].get_body(preferencelist=("plain",)).get_content()

    partner_page.goto(calendar_url)
    expect(day_column.locator(f'[data-booking="{booking.pk}"]')).to_have_count(0)
    expect(day_column.locator(".slot.busy", has_text="09:00")).to_have_count(0)
    expect(day_column.locator(".slot.free", has_text=re.compile(r"^09:00$"))).to_have_count(1)
    partner_page.context.close()
