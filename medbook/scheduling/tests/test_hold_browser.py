"""In Chromium, two clerks on one calendar (issue 21): the first to open a free slot holds it, the second
opening it is told at once (not at submit) and sees it not free on refresh; closing the form, or opening
another slot, releases it."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, local, next_weekday
from medbook.scheduling.models import Booking, SlotHold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HELD = "Someone else is booking this time right now: choose another time, or try again in a few minutes."


def _calendar_as(new_page, live_server, cast, user, day):
    """A browser of its own, logged in as `user`, on physician A's calendar of the day's week."""
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()
    query = (
        f"location={cast.location_a1.pk}&physician={cast.physician_a.pk}"
        f"&service={cast.service_a.pk}&week={day.isoformat()}"
    )
    page.goto(f"{live_server.url}/calendar/?{query}")
    return page, page.locator(f'.day[data-day="{day.isoformat()}"]')


def test_b7_two_clerks_open_one_slot_the_second_is_told_at_once(cast, live_server, new_page):
    day = next_weekday(1)
    bob, bobs_day = _calendar_as(new_page, live_server, cast, cast.bob, day)
    alice, alices_day = _calendar_as(new_page, live_server, cast, cast.alice, day)

    bobs_day.locator(".slot.free", has_text="10:00").click()
    expect(bob.locator("#booking-form")).to_be_visible()
    expect(bob.locator("#patient-search")).to_be_focused()

    alices_day.locator(".slot.free", has_text="10:00").click()  # her grid was drawn before Bob's hold
    expect(alice.locator("#panel").get_by_role("alert")).to_have_text(HELD)
    expect(alice.locator("#booking-form")).to_have_count(0)
    alice.reload()
    expect(alices_day.locator(".slot.free", has_text="10:30")).to_be_visible()  # the grid is drawn again
    expect(alices_day.locator(".slot.free", has_text="10:00")).to_have_count(
        0
    )  # the held slot is not offered

    # Closing the form releases the hold: the slot is free for Alice again.
    bob.get_by_role("button", name="Close without booking").click()
    expect(bob.locator("#booking-form")).to_have_count(0)
    alice.reload()
    alices_day.locator(".slot.free", has_text="10:00").click()
    expect(alice.locator("#booking-form")).to_be_visible()

    # Now Alice holds it; Bob opens another slot, then leaves that form by Escape (the panel is a modal
    # dialog): the second hold is released as the form closes, and Bob books a third with its hold.
    bobs_day.locator(".slot.free", has_text="10:00").click()
    expect(bob.locator("#panel").get_by_role("alert")).to_have_text(HELD)
    bob.keyboard.press("Escape")
    bobs_day.locator(".slot.free", has_text="11:00").click()
    expect(bob.locator("#booking-form")).to_be_visible()
    with bob.expect_response(lambda response: response.url.endswith("/calendar/book/release/")) as released:
        bob.keyboard.press("Escape")
    assert released.value.ok
    expect(bobs_day.locator(".slot.free", has_text="11:00")).to_be_focused()  # back where it was opened
    bobs_day.locator(".slot.free", has_text="12:00").click()
    expect(bob.locator("[data-testid=slot-time]")).to_contain_text("12:00")
    assert set(SlotHold.objects.values_list("user__email", "starts_at")) == {
        (cast.alice.email, local(day, 10)),
        (cast.bob.email, local(day, 12)),  # not 11:00 any more
    }
    bob.get_by_role("textbox", name="Name:").fill("Hanna Held")
    bob.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    bob.get_by_role("button", name="Book", exact=True).click()
    expect(bobs_day.locator(".slot.booked", has_text="Hanna Held")).to_be_visible()
    assert Booking.objects.get().patient.full_name == "Hanna Held"
    assert list(SlotHold.objects.values_list("user__email", flat=True)) == [cast.alice.email]
