"""In Chromium, by keyboard, at 375 px and 1366 px (issue 23): the skip link is the first Tab stop and jumps
to the calendars; a calendar is one Tab stop whose arrow keys cross every cell, Busy ones included; Enter on
a slot opens the booking panel as a dialog in the viewport with the focus on its first field; Escape closes
it and gives the focus back to the slot; a move is confirmed in the dialog, its "Move" focused; after Book, Move
and Delete the message (with its Undo) is announced in view and the focus is on the slot booked, moved to or
freed; after "Show calendars" on the first calendar's heading."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from conftest import actor_of, local, next_weekday
from medbook.core.tests.test_accessibility_browser import _log_in
from medbook.core.timefmt import when
from medbook.scheduling import services
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _in_viewport(page, locator) -> None:
    """The element is wholly inside the viewport (the user sees it without scrolling)."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)


@pytest.mark.parametrize("width", [375, 1366])
def test_b7_reception_books_moves_and_deletes_by_keyboard_in_the_dialog(cast, live_server, new_page, width):
    day = next_weekday(1)
    page = new_page(width=width, height=800)
    _log_in(page.context, live_server, cast.bob)
    page.goto(
        f"{live_server.url}/calendar/?location={cast.location_a1.pk}&physician={cast.physician_a.pk}"
        f"&service={cast.service_a.pk}&week={day.isoformat()}"
    )
    # The skip link is the first Tab stop, shown when focused; it jumps over the menus and filters.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to calendar")
    expect(skip).to_be_focused()
    _in_viewport(page, skip)
    page.keyboard.press("Enter")
    expect(page.locator("#calendars")).to_be_focused()
    # The calendar is one Tab stop: its first free slot.
    page.keyboard.press("Tab")
    first = page.locator(".calendar .slot.free").first
    expect(first).to_be_focused()
    expect(page.locator('.calendar [tabindex="0"]')).to_have_count(1)

    column = page.locator(f'.day[data-day="{day.isoformat()}"]')
    column.locator(".slot.free", has_text="09:30").focus()
    page.keyboard.press("ArrowDown")
    slot = column.locator(".slot.free", has_text="10:00")
    expect(slot).to_be_focused()

    # Enter opens the panel where the user looks, the focus on its first field; Escape closes it.
    page.keyboard.press("Enter")
    dialog = page.locator("#panel-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#patient-search")).to_be_focused()
    _in_viewport(page, dialog)
    expect(dialog.get_by_role("button", name="Close", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(slot).to_be_focused()

    # Book: the message is announced in view, the focus is on the booked slot.
    page.keyboard.press("Enter")
    expect(page.locator("#patient-search")).to_be_focused()
    dialog.get_by_role("textbox", name="Name:").fill("Kira Keyboard")
    dialog.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    dialog.get_by_role("textbox", name="Phone:").press("Enter")
    booked = column.locator(".slot.booked", has_text="Kira Keyboard")
    expect(booked).to_be_focused()
    expect(dialog).to_be_hidden()
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_contain_text("Booked:")
    _in_viewport(page, announcer)

    # Move: the time chosen is confirmed in the dialog, its "Move" focused (Enter confirms); then the dialog
    # closes, the focus is on the new time, the message with its Undo in view.
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("booking-patient")).to_have_text("Kira Keyboard")
    # The details are swapped in before the dialog opens and takes the focus (htmx's settle).
    expect(page.locator("#panel-dialog[open] :focus")).to_have_count(1)
    _in_viewport(page, dialog)
    new_time = when(local(day, 13), cast.institution_a)
    dialog.get_by_role("button", name=f"Move to {new_time}", exact=True).press("Enter")
    expect(dialog.get_by_test_id("move-new")).to_have_text(new_time)
    expect(dialog.get_by_test_id("move-confirm-button")).to_be_focused()
    _in_viewport(page, dialog)
    page.keyboard.press("Enter")
    moved = column.locator(".slot.booked", has_text="13:00")
    expect(moved).to_be_focused()
    expect(dialog).to_be_hidden()
    expect(announcer).to_contain_text(f"Moved to {new_time}")
    expect(announcer.get_by_role("button", name="Undo")).to_be_visible()
    _in_viewport(page, announcer)

    # Delete: the focus is on the slot freed.
    page.keyboard.press("Enter")
    page.once("dialog", lambda confirm: confirm.accept())
    dialog.get_by_role("button", name="Cancel booking").press("Enter")
    expect(column.locator(".slot.free", has_text="13:00")).to_be_focused()
    expect(dialog).to_be_hidden()
    expect(announcer).to_contain_text("Cancelled")
    expect(announcer.get_by_role("button", name="Undo")).to_be_visible()
    _in_viewport(page, announcer)
    assert Booking.objects.get().status == Booking.Status.CANCELLED


def test_b7_show_calendars_puts_the_focus_on_the_first_calendar(cast, live_server, page):
    _log_in(page.context, live_server, cast.bob)
    page.goto(f"{live_server.url}/calendar/")
    page.locator("#calendar-filters").get_by_label("Location").select_option(label="A Central")
    page.get_by_label("Service").select_option(label="Cardiology check")
    page.get_by_role("button", name="Show calendars").press("Enter")
    expect(page.locator(".physician-calendar h2").first).to_be_focused()


def test_p12_arrow_keys_cross_a_busy_cell_of_a_partner_calendar(cast, partners, live_server, new_page):
    day = next_weekday(1)
    services.booking_create(  # the institution's own booking: busy, without details, for the partner
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 10),
    )
    page = new_page(width=1366, height=800)
    _log_in(page.context, live_server, partners.peter)
    page.goto(f"{live_server.url}/partner/book/?show=1&week={day.isoformat()}")
    calendar = page.locator(
        f'.physician-calendar[data-physician="{cast.physician_a.pk}"][data-service="{cast.service_a.pk}"]'
    )
    column = calendar.locator(f'.day[data-day="{day.isoformat()}"]')
    column.locator(".slot.free", has_text="09:30").focus()
    page.keyboard.press("ArrowDown")
    busy = column.locator(".slot.busy", has_text="10:00")
    expect(busy).to_be_focused()
    expect(calendar.locator('[tabindex="0"]')).to_have_count(1)  # the calendar stays one Tab stop
    page.keyboard.press("ArrowDown")
    expect(column.locator(".slot.free", has_text="10:30")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowRight")  # from Busy 10:00 to the next day's 10:00
    next_day = calendar.locator(f'.day[data-day="{(day + timedelta(days=1)).isoformat()}"]')
    expect(next_day.locator(".slot", has_text="10:00")).to_be_focused()
