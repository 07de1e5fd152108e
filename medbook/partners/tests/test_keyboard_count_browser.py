"""The call-centre agent's day task on "Book to partner" by keyboard alone, counted in Chromium (issue 23):
narrow to a service, book a patient of the institution found by search, book a new patient, move one booking
and delete one, in at most 60 key presses (a press is one key; typing a name counts its characters).
The agent starts on Book to partner at the week to book in; each step waits for what the user would see."""

import pytest
from playwright.sync_api import expect

from conftest import next_weekday
from medbook.core.tests.test_accessibility_browser import _log_in
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MOST = 60


class Keys:
    """Counts what a person presses on the keyboard."""

    def __init__(self, page):
        self.page = page
        self.count = 0

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.count += 1
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.count += len(text)
        self.page.keyboard.type(text)

    def until(self, key: str, done: str, most: int = 20) -> None:
        """Press `key` until the focused element answers `done` (a script over `element`)."""
        for _ in range(most):
            if self.page.evaluate(f"(element => Boolean({done}))(document.activeElement)"):
                return
            self.press(key)
        raise AssertionError(f"{key} × {most} never reached {done}")


def test_x_agent_books_two_moves_and_deletes_one_in_at_most_sixty_keys(cast, partners, live_server, new_page):
    partners.partnership_p.patient_data_access = True  # P may search the institution's patients (P-7)
    partners.partnership_p.save(update_fields=["patient_data_access"])
    week = next_weekday(0)
    page = new_page(width=1366, height=800)
    _log_in(page.context, live_server, partners.peter)
    page.goto(f"{live_server.url}/partner/book/?show=1&week={week.isoformat()}")
    expect(page.get_by_role("heading", name="Book to partner")).to_be_visible()
    keys = Keys(page)

    # Narrow to a service: past the menus by the skip link, back to the filters, choose, show.
    keys.press("Tab")
    keys.press("Enter")
    expect(page.locator("#calendars")).to_be_focused()
    keys.until("Shift+Tab", "element.name === 'service' && element.form.id === 'book-filters'")
    keys.until("ArrowDown", f"element.value === '{cast.service_a.pk}'")
    keys.until("Tab", "element.textContent.trim() === 'Show calendars'")
    keys.press("Enter")
    expect(page.get_by_test_id("calendar-count")).to_be_focused()
    expect(page.locator(".physician-calendar")).to_have_count(1)

    # A patient of the institution: the first free time, the search, the patient, book.
    keys.press("Tab")
    first = page.locator(".calendar .slot.free").first
    expect(first).to_be_focused()
    keys.press("Enter")
    expect(page.locator("#patient-search")).to_be_focused()
    keys.type("Anna")
    expect(page.get_by_label("Anna Patient")).to_be_visible()
    keys.press("Tab")
    keys.press("Space")
    expect(page.get_by_label("Anna Patient")).to_be_checked()
    keys.press("Enter")
    anna = page.locator(".slot.booked.own", has_text="Anna Patient")
    expect(anna).to_be_focused()

    # A new patient: the next free time, the name, book.
    keys.until("ArrowDown", "element.matches('.slot.free')")
    keys.press("Enter")
    expect(page.locator("#patient-search")).to_be_focused()
    keys.press("Tab")
    expect(page.get_by_role("textbox", name="Name:")).to_be_focused()
    keys.type("Nora New")
    keys.press("Enter")
    nora = page.locator(".slot.booked.own", has_text="Nora New")
    expect(nora).to_be_focused()

    # Move Nora's booking to the first free time offered, confirmed with Enter on "Move" (focused).
    keys.press("Enter")
    expect(page.get_by_test_id("booking-patient")).to_have_text("Nora New")
    # The details are swapped in before the dialog opens and takes the focus (htmx's settle): the next key
    # waits for what the user waits for.
    expect(page.locator("#panel-dialog[open] :focus")).to_have_count(1)
    keys.press("Tab")
    expect(page.locator("#move-form .slot").first).to_be_focused()
    keys.press("Enter")
    expect(page.get_by_test_id("move-confirm-button")).to_be_focused()
    keys.press("Enter")
    expect(page.locator("#announcer")).to_contain_text("Moved to")
    expect(page.locator(".slot.booked.own", has_text="Nora New")).to_be_focused()

    # Delete Anna's booking (the confirmation answered with Enter).
    keys.until("ArrowUp", "element.textContent.includes('Anna Patient')")
    keys.press("Enter")
    expect(page.get_by_test_id("booking-patient")).to_have_text("Anna Patient")
    expect(page.locator("#panel-dialog[open] :focus")).to_have_count(1)
    keys.until("Tab", "element.textContent.trim() === 'Delete booking'")

    def confirm(dialog):
        keys.count += 1  # Enter on the browser's confirmation
        dialog.accept()

    page.once("dialog", confirm)
    keys.press("Enter")
    expect(page.locator("#announcer")).to_contain_text("Deleted")
    expect(page.locator(".calendar .slot:focus")).to_have_class("slot free")

    statuses = dict(Booking.objects.values_list("patient__full_name", "status"))
    assert statuses == {"Anna Patient": Booking.Status.CANCELLED, "Nora New": Booking.Status.BOOKED}
    print(f"The agent's day task took {keys.count} key presses.")
    assert keys.count <= MOST, keys.count
