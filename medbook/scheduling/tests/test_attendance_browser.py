"""In Chromium: reception records a past visit from "Attendance not recorded", then marks it paid and undoes
the outcome on its panel (B-11)."""

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from medbook.scheduling.models import Booking
from medbook.scheduling.tests.test_attendance import _book, _ended

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_b11_reception_records_attendance_and_payment_in_the_browser(cast, live_server, page):
    booking = _ended(_book(cast, cast.bob))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(cast.bob.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    overdue = page.locator("#attendance-overdue")
    expect(overdue.locator("summary")).to_have_text("Attendance not recorded: 1 appointment")
    overdue.locator("summary").click()
    overdue.get_by_role("button", name="Completed: ").click()
    expect(page.locator(".flash.success")).to_contain_text("Completed, Unpaid")
    expect(page.locator("#attendance-overdue")).to_have_count(0)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED

    day = booking.starts_at.astimezone(ZoneInfo(cast.institution_a.time_zone)).date()
    page.locator("#calendar-filters").get_by_label("Location").select_option(label="A Central")
    page.get_by_label("Physician").select_option(label="Dr. Alpha")
    page.get_by_label("Service").select_option(label="Cardiology check")
    page.locator("input[name=week]").fill(day.isoformat())
    page.get_by_role("button", name="Show calendars").click()
    # The workspace already showed A Central's calendars: the new one is in once the message is gone.
    expect(page.locator(".flash.success")).to_have_count(0)
    page.locator(f'.slot.booked[data-booking="{booking.pk}"]').click()
    expect(page.get_by_test_id("booking-status")).to_contain_text("Completed")
    expect(page.get_by_role("button", name="Cancel booking")).to_have_count(0)

    page.locator("#payment-form").get_by_role("button", name="Paid").click()
    expect(page.get_by_test_id("booking-payment")).to_have_text("Paid")
    page.locator("#attendance-form").get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("booking-status")).to_contain_text("Booked")
    expect(page.locator("#attendance-overdue summary")).to_have_text("Attendance not recorded: 1 appointment")
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (Booking.Status.BOOKED, Booking.PaymentStatus.PAID)
