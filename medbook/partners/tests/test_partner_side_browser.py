"""In Chromium: the partner admin adds a user; the user sets a password from the emailed link, opens
"Book to partner", narrows to one physician, shows the calendars, books a free slot for a patient found by
search, sees it red, moves it and deletes it."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, next_weekday
from medbook.audit.models import AuditEntry
from medbook.institutions.tests.factories import PhysicianFactory, ServiceFactory, weekly_hours
from medbook.partners.tests.helpers import link_in
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NEW_PASSWORD = "Nadia-pass-2026"


def _log_in(page, url, email, password):
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))  # logged in before the next step


def test_p10_p11_p12_p13_p7_partner_user_books_moves_and_deletes_in_the_browser(
    cast, partners, live_server, page, new_page, settings, smtp_server, deliver_outbox
):
    settings.SITE_URL = live_server.url
    partners.partnership_p.patient_data_access = True
    partners.partnership_p.save()
    second = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Second", locations=[cast.location_a1]
    )
    cast.service_a.physicians.add(second)
    weekly_hours(second, cast.location_a1)
    ServiceFactory(institution=cast.institution_a, name="Not for partners", locations=[cast.location_a1])
    day = next_weekday(1)

    _log_in(page, live_server.url, partners.paula.email, PASSWORD)
    page.get_by_text("Administration", exact=True).click()
    page.get_by_role("link", name="Admin Users").click()
    page.get_by_role("link", name="Add user").click()
    page.get_by_label("Full name").fill("Nadia New")
    page.get_by_role("textbox", name="Email").fill("nadia@p.test")
    page.get_by_label("Can book to partner institution").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator('tr[data-user="nadia@p.test"]').get_by_test_id("can-book")).to_have_text("Yes")

    assert deliver_outbox() == 1
    mail = next(m for m in smtp_server.messages if m["To"] == "nadia@p.test")
    user = new_page(1400, 1000)
    user.goto(live_server.url + link_in(mail, "/accounts/password/"))
    user.locator("input[name=new_password1]").fill(NEW_PASSWORD)
    user.locator("input[name=new_password2]").fill(NEW_PASSWORD)
    user.get_by_role("button", name="Save").click()
    expect(user.get_by_role("heading", name="Password set")).to_be_visible()
    _log_in(user, live_server.url, "nadia@p.test", NEW_PASSWORD)
    expect(user.get_by_test_id("acting-for")).to_have_text("CallCenter Ltd")

    user.get_by_role("link", name="Book to partner").click()
    expect(user.get_by_role("heading", name="Book to partner")).to_be_visible()
    for form in ("#book-filters", "#first-free"):  # the calendar filters and the first free time's own choice
        expect(user.locator(form).get_by_label("Service")).not_to_contain_text("Not for partners")
    user.get_by_label("Physician").select_option(label="Dr. Alpha")
    user.locator("input[name=week]").fill(day.isoformat())
    user.get_by_role("button", name="Show calendars").click()
    expect(user.locator(".physician-calendar")).to_have_count(1)
    expect(user.locator(".physician-calendar h2")).to_contain_text("Dr. Alpha")

    column = user.locator(f'.day[data-day="{day.isoformat()}"]')
    free_10 = column.locator(".slot.free", has_text="10:00")
    expect(free_10).to_have_css("background-color", "rgb(227, 246, 234)")  # green
    free_10.click()
    expect(user.locator("#patient-search")).to_be_focused()  # the form is in and htmx has processed it
    user.get_by_label("Search by name or TAJ number").fill("Anna")
    user.get_by_label("Anna Patient").check()
    user.get_by_role("button", name="Book", exact=True).click()

    booked = column.locator(".slot.booked.own", has_text="Anna Patient")
    expect(booked).to_be_visible()
    expect(booked).to_have_css("background-color", "rgb(251, 228, 226)")
    expect(column.locator(".slot.free", has_text="10:00")).to_have_count(0)
    booking = Booking.objects.get()
    assert booking.patient == cast.patient_a and booking.partner_id == partners.partner_p.pk
    assert AuditEntry.objects.filter(action="patient.partner_search", user__email="nadia@p.test").exists()
    assert AuditEntry.objects.filter(action="patient.partner_open", object_id=str(cast.patient_a.pk)).exists()

    booked.click()
    expect(user.get_by_test_id("booking-patient")).to_have_text("Anna Patient")
    # The new time is chosen among the free slots shown as buttons, by day (no dropdown).
    move_to = f"Move to {day:%a} {day.day} {day:%b} {day.year}, 13:00"
    user.locator("#move-form").get_by_role("button", name=move_to, exact=True).click()
    user.get_by_test_id("move-confirm-button").click()  # the old and the new time shown: "Move"
    expect(column.locator(".slot.booked.own", has_text="13:00")).to_be_visible()
    expect(column.locator(".slot.free", has_text="10:00")).to_be_visible()

    user.once("dialog", lambda dialog: dialog.accept())
    column.locator(".slot.booked.own", has_text="Anna Patient").click()
    user.get_by_role("button", name="Delete booking").click()
    expect(column.locator(".slot.booked")).to_have_count(0)
    expect(column.locator(".slot.free", has_text="13:00")).to_be_visible()
    assert Booking.objects.get().status == Booking.Status.CANCELLED
    user.context.close()
