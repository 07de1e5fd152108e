"""In Chromium (issue 23): reception chooses a new time, sees the old and the new one and confirms; "Undo" in
the message puts the booking back at its old time."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, local, next_weekday
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
    booking.refresh_from_db()
    assert booking.starts_at == local(day, 10) and booking.status == Booking.Status.BOOKED
