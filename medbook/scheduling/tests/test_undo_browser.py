"""In Chromium (issue 23): reception chooses a new time, sees the old and the new one and confirms; "Undo" in
the message puts the booking back at its old time; on the week calendar and on the day agenda alike."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, local, next_weekday
from medbook.core.tests.test_accessibility_browser import _log_in
from medbook.core.timefmt import when
from medbook.scheduling.models import Booking
from medbook.scheduling.tests.test_undo import book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_i23_move_confirm_then_undo_puts_the_booking_back(cast, live_server, page):
    day = next_weekday(2)
    booking = book(cast, cast.bob, local(day, 10))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(cast.bob.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(
        f"{live_server.url}/calendar/?location={cast.location_a1.pk}&physician={cast.physician_a.pk}"
        f"&service={cast.service_a.pk}&week={day.isoformat()}"
    )
    column = page.locator(f'.day[data-day="{day.isoformat()}"]')
    column.locator(".slot.booked", has_text="Anna Patient").click()
    move_to = f"Move to {when(local(day, 13), cast.institution_a)}"
    page.locator("#move-form").get_by_role("button", name=move_to, exact=True).click()

    confirm = page.get_by_test_id("move-confirm")
    expect(confirm.get_by_test_id("move-old")).to_have_text(when(local(day, 10), cast.institution_a))
    expect(confirm.get_by_test_id("move-new")).to_have_text(when(local(day, 13), cast.institution_a))
    expect(page.get_by_test_id("move-confirm-button")).to_be_focused()
    assert Booking.objects.get().starts_at == local(day, 10)  # nothing moved before "Move"
    page.get_by_test_id("move-confirm-button").click()

    message = page.get_by_test_id("undo-message")
    expect(message).to_contain_text(f"Moved to {when(local(day, 13), cast.institution_a)}")
    expect(column.locator(".slot.booked", has_text="13:00")).to_be_visible()
    message.get_by_test_id("undo").click()
    expect(page.get_by_text("Undone: the booking is at")).to_be_visible()
    expect(column.locator(".slot.booked", has_text="10:00")).to_be_visible()
    expect(column.locator(".slot.free", has_text="13:00")).to_be_visible()
    # The booking's panel closed: the focus is on its slot, back at its old time.
    page.keyboard.press("Escape")
    expect(page.locator("#panel-dialog")).to_be_hidden()
    expect(column.locator(".slot.booked", has_text="10:00")).to_be_focused()
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 10) and booking.status == Booking.Status.BOOKED


def test_i23_day_agenda_move_confirm_then_undo_keeps_the_agenda(cast, live_server, page):
    day = next_weekday(2)
    booking = book(cast, cast.bob, local(day, 10))
    _log_in(page.context, live_server, cast.bob)
    page.goto(
        f"{live_server.url}/agenda/?location={cast.location_a1.pk}&service={cast.service_a.pk}&date={day.isoformat()}"
    )
    agenda = page.locator(".agenda-grid")
    agenda.locator(".agenda-entry", has_text="Anna Patient").click()
    new_time = when(local(day, 13), cast.institution_a)
    page.locator("#move-form").get_by_role("button", name=f"Move to {new_time}", exact=True).click()

    dialog = page.locator("#panel-dialog")
    expect(dialog.get_by_test_id("move-new")).to_have_text(new_time)  # the confirmation, in the open dialog
    expect(dialog.get_by_test_id("move-confirm-button")).to_be_focused()
    assert Booking.objects.get().starts_at == local(day, 10)
    page.keyboard.press("Enter")

    moved = agenda.locator(".agenda-entry", has_text="13:00–13:30")
    expect(moved).to_be_focused()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Day agenda")).to_be_visible()  # still the agenda, not the week
    message = page.locator("#announcer").get_by_test_id("undo-message")
    expect(message).to_contain_text(f"Moved to {new_time}")
    message.get_by_test_id("undo").click()

    expect(dialog.get_by_text("Undone: the booking is at")).to_be_visible()
    back = agenda.locator(".agenda-entry", has_text="10:00–10:30")
    expect(back).to_contain_text("Anna Patient")
    expect(agenda.locator(".agenda-entry", has_text="13:00–13:30")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(back).to_be_focused()
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 10) and booking.status == Booking.Status.BOOKED
