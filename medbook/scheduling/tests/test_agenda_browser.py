"""In Chromium: reception opens the day agenda on today, goes to the next day, books a free time through the
booking form and sees the booking in the agenda (issue 23), on a desktop and on a phone."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from conftest import actor_of
from medbook.core.tests.test_accessibility_browser import _log_in
from medbook.scheduling.agenda import institution_today
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "view"), [(1366, ".agenda-grid"), (375, ".agenda-list")])
def test_b7_reception_books_a_free_time_from_the_day_agenda(cast, live_server, new_page, width, view):
    today = institution_today(actor_of(cast.bob))
    tomorrow = today + timedelta(days=1)
    page = new_page(width=width, height=900)
    _log_in(page.context, live_server, cast.bob)
    page.goto(f"{live_server.url}/")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Day agenda").click()
    expect(page.get_by_role("heading", name="Day agenda")).to_be_visible()
    expect(page.locator("#agenda-day")).to_have_attribute("data-day", today.isoformat())
    expect(page.get_by_role("link", name="Today")).to_have_attribute("aria-current", "date")

    page.get_by_role("link", name="Next day").click()
    expect(page.locator("#agenda-day")).to_have_attribute("data-day", tomorrow.isoformat())
    agenda = page.locator(view)
    free = agenda.get_by_role("button", name="Free slot", exact=False).filter(has_text="10:00")
    expect(free).to_have_count(1)
    free.click()
    expect(page.locator("#booking-form")).to_be_visible()
    expect(page.get_by_test_id("slot-time")).to_contain_text("10:00")
    page.get_by_role("textbox", name="Name:").fill("Petra Browser")
    page.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    page.get_by_role("button", name="Book", exact=True).click()

    booked = agenda.locator(".agenda-entry", has_text="Petra Browser")
    expect(booked).to_be_visible()
    expect(booked).to_contain_text("10:00–10:30")
    expect(booked).to_contain_text("Cardiology check")
    expect(booked.get_by_test_id("agenda-status")).to_have_text("Booked")
    expect(booked).to_be_focused()
    expect(page.locator("#announcer")).to_contain_text("Booked:")  # pinned to the viewport
    expect(page.locator("#agenda-day")).to_have_attribute("data-day", tomorrow.isoformat())
    expect(
        agenda.get_by_role("button", name="Free slot", exact=False).filter(has_text="10:00")
    ).to_have_count(0)
    assert Booking.objects.get().patient.full_name == "Petra Browser"

    # Its panel opens in place; a cancellation there draws the agenda again, the time free once more.
    booked.click()
    expect(page.get_by_test_id("booking-patient")).to_have_text("Petra Browser")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel booking").click()
    expect(agenda.locator(".agenda-entry", has_text="Petra Browser")).to_have_count(0)
    expect(
        agenda.get_by_role("button", name="Free slot", exact=False).filter(has_text="10:00")
    ).to_have_count(1)
    assert Booking.objects.get().status == Booking.Status.CANCELLED


def test_b5_the_day_agenda_prints_the_day_list(cast, live_server, page):
    tomorrow = institution_today(actor_of(cast.bob)) + timedelta(days=1)
    _log_in(page.context, live_server, cast.bob)
    page.goto(f"{live_server.url}/agenda/?date={tomorrow.isoformat()}")
    expect(page.locator(".agenda-grid")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".agenda-list")).to_be_visible()
    expect(page.locator(".agenda-grid")).to_be_hidden()
    expect(page.locator(".agenda-days")).to_be_hidden()
    expect(page.locator(".agenda-list .slot.free").first).to_be_hidden()
