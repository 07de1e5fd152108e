"""In Chromium, the call centre's "earliest cardiology?" (issue 23): after choosing the service, "First free
time" and the first offered time open the booking form for that time, holding it, in at most three clicks;
for the desk on its calendar and for a partner's agent on Book to partner."""

from datetime import time

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, local, next_weekday
from medbook.institutions.tests.factories import PhysicianFactory, ServiceFactory, weekly_hours
from medbook.scheduling.models import Booking, SlotHold, WorkingHours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _logged_in(new_page, live_server, user):
    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_be_visible()
    return page


def test_b5_desk_earliest_time_of_a_service_in_two_clicks_after_choosing_it(cast, live_server, new_page):
    day = next_weekday(2)
    colleague = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Early", locations=[cast.location_a2]
    )
    cast.service_a.physicians.add(colleague)
    weekly_hours(colleague, cast.location_a2, start=time(7))
    ServiceFactory(institution=cast.institution_a, name="Another service", locations=[cast.location_a1])
    WorkingHours.objects.update(valid_from=day)
    page = _logged_in(new_page, live_server, cast.bob)
    page.goto(f"{live_server.url}/calendar/")
    clicks = 0

    page.locator("#calendar-filters select[name=service]").select_option(label="Cardiology check")
    page.get_by_role("button", name="First free time").click()
    clicks += 1
    first = page.locator("#first-free-times .first-free-time").first
    expect(first).to_contain_text("07:00 · Dr. Early · A North")
    first.click()
    clicks += 1

    expect(page.locator("#booking-form")).to_be_visible()
    expect(page.locator("[data-testid=slot-time]")).to_contain_text("07:00")
    expect(page.locator("#panel")).to_contain_text("Dr. Early")
    assert clicks <= 3
    hold = SlotHold.objects.get()  # held as a free slot's click holds it
    assert (hold.user, hold.physician, hold.starts_at) == (cast.bob, colleague, local(day, 7))

    # Booked where the time is (A North), though the calendar filters show A Central.
    page.get_by_role("textbox", name="Name:").fill("Fanni First")
    page.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.locator(".slot.booked", has_text="Fanni First")).to_be_visible()
    booking = Booking.objects.get()
    assert (booking.location, booking.physician, booking.starts_at) == (
        cast.location_a2,
        colleague,
        local(day, 7),
    )


def test_p11_agent_earliest_time_across_institutions_in_two_clicks_after_choosing_it(
    cast, partners, live_server, new_page
):
    day = next_weekday(2)
    WorkingHours.objects.update(valid_from=day)
    page = _logged_in(new_page, live_server, partners.peter)
    page.goto(f"{live_server.url}/partner/book/")
    clicks = 0

    page.locator("#first-free select[name=service]").select_option(label="Cardiology check")
    page.get_by_role("button", name="First free time").click()
    clicks += 1
    first = page.locator("#first-free-times .first-free-time").first
    expect(first).to_contain_text("08:00 · Dr. Alpha · A Central · Institution A")
    first.click()
    clicks += 1

    expect(page.locator("#booking-form")).to_be_visible()
    expect(page.locator("[data-testid=slot-time]")).to_contain_text("08:00")
    assert clicks <= 3
    hold = SlotHold.objects.get()
    assert (hold.user, hold.starts_at) == (partners.peter, local(day, 8))
    # The week navigation stays.
    expect(page.get_by_role("link", name="Next week →")).to_be_visible()


def test_b5_jump_links_lead_to_each_calendar(cast, live_server, new_page):
    second = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Second", locations=[cast.location_a1]
    )
    cast.service_a.physicians.add(second)
    weekly_hours(second, cast.location_a1)
    page = _logged_in(new_page, live_server, cast.bob)
    query = f"location={cast.location_a1.pk}&service={cast.service_a.pk}&week={next_weekday(1).isoformat()}"
    page.goto(f"{live_server.url}/calendar/?{query}")
    page.get_by_role("navigation", name="Calendars").get_by_role("link", name="Dr. Second").click()
    target = page.locator(f"#calendar-{second.pk}-{cast.location_a1.pk}-{cast.service_a.pk}")
    expect(target).to_be_in_viewport()
    assert page.url.endswith(f"#calendar-{second.pk}-{cast.location_a1.pk}-{cast.service_a.pk}")
