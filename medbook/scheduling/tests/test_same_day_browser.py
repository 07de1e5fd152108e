"""In Chromium, on reception's calendar (issue 23): booking a patient who already has a visit that day shows
the warning in the booking form, books nothing until "I know, book anyway" is ticked, then books; the
patient's record then lists both visits."""

import pytest
from playwright.sync_api import expect

from conftest import actor_of, local, next_weekday
from medbook.scheduling import services
from medbook.scheduling.models import Booking
from medbook.scheduling.tests.test_hold_browser import _calendar_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_b15_the_desk_is_warned_of_a_second_visit_that_day_and_books_it_once_acknowledged(
    cast, live_server, new_page
):
    day = next_weekday(1)
    services.booking_create(
        actor=actor_of(cast.bob),
        location=cast.location_a1,
        physician=cast.physician_a,
        service=cast.service_a,
        patient=cast.patient_a,
        starts_at=local(day, 9),
    )
    page, bobs_day = _calendar_as(new_page, live_server, cast, cast.bob, day)

    bobs_day.locator(".slot.free", has_text="11:00").click()
    form = page.locator("#booking-form")
    expect(form).to_be_visible()
    form.get_by_label("Search by name or TAJ number").fill("Anna")
    form.get_by_role("radio", name="Anna Patient").check()
    form.get_by_role("button", name="Book", exact=True).click()

    warning = form.get_by_test_id("same-day-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("This patient already has a visit at this institution that day:")
    expect(warning).to_contain_text("09:00 · Dr. Alpha · Cardiology check")
    expect(warning).to_be_focused()
    assert Booking.objects.count() == 1

    warning.get_by_label("I know, book anyway").check()
    form.get_by_role("button", name="Book", exact=True).click()
    expect(bobs_day.locator(".slot.booked", has_text="11:00")).to_contain_text("Anna Patient")
    assert Booking.objects.filter(patient=cast.patient_a).count() == 2

    page.goto(f"{live_server.url}/patients/{cast.patient_a.pk}/")
    expect(page.get_by_test_id("visits-upcoming").locator("tbody tr")).to_have_count(2)
