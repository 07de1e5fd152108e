"""Five clicks to a booking, counted in Chromium from the page a user lands on after logging in: a partner's
agent books a patient found by search, a receptionist books a walk-in (plus typing)."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, next_weekday
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Clicks:
    """Counts what a person does with the mouse (a click, a choice in a list); typing is not counted."""

    def __init__(self):
        self.count = 0

    def click(self, locator):
        self.count += 1
        locator.click()

    def choose(self, locator, **option):
        self.count += 1
        locator.select_option(**option)


def _log_in(page, url, email):
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")


def test_x_partner_agent_books_a_searched_patient_in_at_most_five_clicks(cast, partners, live_server, page):
    partners.partnership_p.patient_data_access = True  # P may search the institution's patients (P-7)
    partners.partnership_p.save(update_fields=["patient_data_access"])
    _log_in(page, live_server.url, partners.peter.email)
    expect(page.get_by_role("heading", name="Book to partner")).to_be_visible()  # the landing page
    clicks = Clicks()
    clicks.click(page.locator(".slot.free").first)
    expect(page.locator("#patient-search")).to_be_focused()
    page.get_by_label("Search by name or TAJ number").fill("Anna")
    clicks.click(page.get_by_label("Anna Patient"))
    clicks.click(page.get_by_role("button", name="Book", exact=True))
    expect(page.locator(".slot.booked.own", has_text="Anna Patient")).to_be_visible()
    assert Booking.objects.get().patient == cast.patient_a
    assert clicks.count <= 5, clicks.count


def test_x_receptionist_books_a_walk_in_in_at_most_five_clicks(cast, live_server, page):
    _log_in(page, live_server.url, cast.bob.email)
    expect(page.get_by_role("heading", name="Calendar")).to_be_visible()  # the landing page
    clicks = Clicks()
    clicks.choose(page.locator("#calendar-filters").get_by_label("Location"), label="A Central")
    clicks.choose(page.get_by_label("Service"), label="Cardiology check")
    page.locator("input[name=week]").fill(next_weekday(1).isoformat())
    clicks.click(page.get_by_role("button", name="Show calendars"))
    clicks.click(page.locator(".slot.free").first)
    expect(page.locator("#patient-search")).to_be_focused()
    page.get_by_role("textbox", name="Name:").fill("Walter Walk-in")
    page.get_by_role("textbox", name="Phone:").fill("+36 30 123 4567")
    clicks.click(page.get_by_role("button", name="Book", exact=True))
    expect(page.locator(".slot.booked", has_text="Walter Walk-in")).to_be_visible()
    assert clicks.count <= 5, clicks.count
    # The next time the same receptionist lands on the calendar, the choice is there: the slot is one click.
    page.goto(f"{live_server.url}/calendar/")
    expect(page.locator(".slot.free").first).to_be_visible()
