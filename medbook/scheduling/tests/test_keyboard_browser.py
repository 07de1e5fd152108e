"""In Chromium, by keyboard alone: arrow keys between slots, Enter opens the form with the focus in it, and
after booking the focus is back on the booked slot."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, next_weekday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_b7_reception_books_by_keyboard(cast, live_server, page):
    day = next_weekday(1)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(cast.bob.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    query = (
        f"location={cast.location_a1.pk}&physician={cast.physician_a.pk}"
        f"&service={cast.service_a.pk}&week={day.isoformat()}"
    )
    page.goto(f"{live_server.url}/calendar/?{query}")
    column = page.locator(f'.day[data-day="{day.isoformat()}"]')
    first = column.locator(".slot.free").first
    first.focus()
    page.keyboard.press("ArrowDown")
    expect(column.locator(".slot.free", has_text="08:30")).to_be_focused()
    page.keyboard.press("ArrowRight")
    next_day = page.locator(f'.day[data-day="{(day + timedelta(days=1)).isoformat()}"]')
    expect(next_day.locator(".slot.free", has_text="08:30")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(column.locator(".slot.free", has_text="08:30")).to_be_focused()
    page.keyboard.press("Enter")
    form = page.locator("#booking-form")
    expect(form).to_be_visible()
    expect(page.locator("#patient-search")).to_be_focused()  # the focus moved to the form's first field
    page.get_by_role("textbox", name="Name:").fill("Kira Keyboard")
    page.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    page.get_by_role("textbox", name="Phone:").press("Enter")
    booked = column.locator(".slot.booked", has_text="Kira Keyboard")
    expect(booked).to_be_visible()
    expect(booked).to_be_focused()


def test_b7_a_refused_booking_puts_the_focus_on_the_error_summary_beside_the_button(cast, live_server, page):
    day = next_weekday(1)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(cast.bob.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    query = f"location={cast.location_a1.pk}&service={cast.service_a.pk}&week={day.isoformat()}"
    page.goto(f"{live_server.url}/calendar/?{query}")
    page.locator(".slot.free").first.click()
    expect(page.locator("#patient-search")).to_be_focused()
    page.get_by_role("textbox", name="Phone:").fill("12")  # a new patient without a name, a bad phone
    page.get_by_role("button", name="Book", exact=True).click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a").first).to_have_attribute("href", re.compile("^#id_new-"))
