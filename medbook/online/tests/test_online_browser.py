"""In Chromium on a 375 px phone: a newcomer books online from the home page — institution, service, time,
details, the code from the e-mail read on a real SMTP server, the confirmation with its .ics — and the
booking's source is "Online" in the bookings report. Every public page is axe-clean and fits the phone."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from medbook.core.tests.test_accessibility_browser import _violations
from medbook.online.tests.helpers import CODE, PRIVACY, online_on
from medbook.scheduling.models import Booking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = 375


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE


def test_b13_a_newcomer_books_online_on_a_phone(
    cast, live_server, new_page, settings, smtp_server, deliver_outbox
):
    settings.SITE_URL = live_server.url
    online_on(cast.institution_a, cast.service_a)
    page = new_page(PHONE, 800)
    problems: list[str] = []

    def check(where: str) -> None:
        problems.extend(f"{where}: {violation}" for violation in _violations(page))
        if not _fits(page):
            problems.append(f"{where}: wider than {PHONE} px")

    page.goto(live_server.url)
    check("login page")
    page.get_by_test_id("book-online").click()
    expect(page.get_by_role("heading", name="Book an appointment")).to_be_visible()
    check("home")
    page.get_by_role("link", name="Institution A").click()
    expect(page.get_by_role("heading", name="Institution A")).to_be_visible()
    check("institution")
    page.get_by_role("link", name="Cardiology check").click()
    first = page.get_by_test_id("free-time").first
    expect(first).to_be_visible()
    check("times")
    first.click()
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    expect(page.get_by_test_id("privacy-notice")).to_have_text(PRIVACY)
    check("details")
    page.get_by_label("Full name").fill("Nora Newcomer")
    page.get_by_label("Birth date").fill("1990-04-12")
    page.get_by_label("E-mail address").fill("nora@example.test")
    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Accept the privacy notice to book.")
    check("details refused")
    page.get_by_label("I have read and accept the privacy notice.").check()
    page.get_by_role("button", name="Send me the code").click()
    expect(page.get_by_role("heading", name="Enter the code")).to_be_visible()
    check("code")

    assert deliver_outbox() == 1
    mail = next(m for m in smtp_server.messages if m["To"] == "nora@example.test")
    code = CODE.search(str(mail["Subject"])).group(1)
    page.get_by_label("Code from the e-mail").fill(code)
    page.get_by_role("button", name="Confirm the booking").click()
    expect(page.get_by_test_id("booked")).to_be_visible()
    expect(page.get_by_test_id("chosen-time")).to_contain_text("Dr. Alpha")
    check("booked")

    assert deliver_outbox() >= 1  # the confirmation (and, for a visit after tomorrow, the reminder planned)
    # The patient's usual confirmation (in the institution's language), with the .ics.
    sent = [m for m in smtp_server.messages if m["To"] == "nora@example.test"]
    assert any(part.get_filename() == "appointment.ics" for m in sent for part in m.iter_attachments())
    booking = Booking.objects.get(patient__full_name="Nora Newcomer")
    assert booking.channel.code == "online" and booking.patient.registered_online
    assert not problems, "\n".join(problems)

    # The desk's bookings report names the booking's source: Online.
    desk = Client()
    desk.force_login(cast.alice)
    today = timezone.localdate()
    period = {"date_from": today.isoformat(), "date_until": (today + timedelta(days=30)).isoformat()}
    report = desk.get(reverse("reports:booking-report"), period).content.decode()
    row = next(line for line in report.split("<tr") if "Nora Newcomer" in line)
    assert "Online" in row
