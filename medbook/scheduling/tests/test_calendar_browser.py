"""In Chromium: reception books a free slot for a new patient, moves it and cancels it."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, next_weekday
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_b7_reception_books_moves_and_cancels_in_the_browser(cast, live_server, page):
    day = next_weekday(1)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(cast.bob.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    expect(page.get_by_test_id("acting-for")).to_have_text("Institution A")

    page.locator("#calendar-filters").get_by_label("Location").select_option(label="A Central")
    page.get_by_label("Physician").select_option(label="Dr. Alpha")
    page.get_by_label("Service").select_option(label="Cardiology check")
    page.locator("input[name=week]").fill(day.isoformat())
    page.get_by_role("button", name="Show calendars").click()

    column = page.locator(f'.day[data-day="{day.isoformat()}"]')
    free_10 = column.locator(".slot.free", has_text="10:00")
    expect(free_10).to_be_visible()
    free_10.click()
    page.get_by_role("textbox", name="Name:").fill("Petra Browser")
    page.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    page.get_by_role("button", name="Book", exact=True).click()

    booked = column.locator(".slot.booked", has_text="Petra Browser")
    expect(booked).to_be_visible()
    expect(booked).to_have_css("background-color", "rgb(251, 228, 226)")
    expect(column.locator(".slot.free", has_text="10:00")).to_have_count(0)
    assert Booking.objects.get().patient.full_name == "Petra Browser"

    booked.click()
    expect(page.get_by_test_id("booking-patient")).to_have_text("Petra Browser")
    # The new time is chosen among the free slots shown as buttons, by day (no dropdown).
    move_to = f"Move to {day:%a} {day.day} {day:%b} {day.year}, 13:00"
    page.locator("#move-form").get_by_role("button", name=move_to, exact=True).click()
    page.get_by_test_id("move-confirm-button").click()  # the old and the new time shown: "Move"
    expect(column.locator(".slot.booked", has_text="13:00")).to_be_visible()
    expect(column.locator(".slot.free", has_text="10:00")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    column.locator(".slot.booked", has_text="Petra Browser").click()
    page.get_by_role("button", name="Cancel booking").click()
    expect(column.locator(".slot.booked")).to_have_count(0)
    expect(column.locator(".slot.free", has_text="13:00")).to_be_visible()
    expect(column.locator(".slot.free")).to_have_count(16)
    assert Booking.objects.get().status == Booking.Status.CANCELLED
