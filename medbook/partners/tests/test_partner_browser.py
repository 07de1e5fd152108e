"""In Chromium: the admin adds a partner, the contact person registers from the emailed link and accepts
the GTC, the partner awaits verification until the operator accepts her claim, then shows as active, and the
admin enables two services in "Traffic Channels"."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD
from medbook.core.tenancy import Actor
from medbook.institutions.tests.factories import ServiceFactory, UserFactory
from medbook.partners.models import PartnerClaim, Partnership
from medbook.partners.services.verification import partner_claim_accept
from medbook.partners.tests.helpers import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_p1_p3_p9_admin_adds_partner_contact_registers_admin_enables_services(
    cast, gtc, live_server, page, new_page, settings, smtp_server, deliver_outbox
):
    settings.SITE_URL = live_server.url
    ServiceFactory(
        institution=cast.institution_a,
        name="Echocardiography",
        locations=[cast.location_a1],
        physicians=[cast.physician_a],
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(cast.alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_text("Administration", exact=True).click()
    page.get_by_role("link", name="Partner Module").click()
    expect(page.get_by_role("heading", name="Partner Module")).to_be_visible()
    page.get_by_role("link", name="Add New Partner").click()
    page.get_by_label("Company name").fill("Westside Physicians Kft.")
    page.get_by_label("Company registration number").fill("Cg. 01-09-333333")
    page.get_by_label("Tax number").fill("21234505-2-42")
    page.get_by_label("Headquarters address").fill("Fő utca 1, 1011 Budapest")
    page.get_by_label("Contact person / representative").fill("Wanda West")
    page.get_by_label("Contact email").fill("wanda@west.test")
    page.get_by_label("Contact phone").fill("+36 30 123 4567")
    page.get_by_label("A Central").check()
    page.locator("input[name=commission_enabled][value=True]").check()
    page.get_by_label("Commission (% of the service price)").fill("10")
    page.get_by_label("At the institution").check()
    page.locator("input[name=patient_data_access][value=False]").check()
    page.get_by_role("button", name="Save").click()

    row = page.locator('tr[data-partner="Westside Physicians Kft."]')
    expect(row.get_by_test_id("partner-status")).to_have_text("Pending registration")

    assert deliver_outbox() == 1
    mail = next(m for m in smtp_server.messages if m["To"] == "wanda@west.test")
    link = live_server.url + link_in(mail, "/partner/register/")

    contact = new_page()
    contact.goto(link)
    expect(contact.get_by_test_id("register-email")).to_have_text("wanda@west.test")
    contact.get_by_label("Your full name").fill("Wanda West")
    contact.get_by_label("Password:", exact=True).fill("Westside-pass-2026")
    contact.get_by_label("Password again").fill("Westside-pass-2026")
    contact.get_by_label("I have read and accept the General Terms and Conditions").check()
    contact.get_by_role("button", name="Register").click()
    expect(contact.get_by_test_id("claims")).to_contain_text("Institution A")
    expect(contact.get_by_test_id("claim-status")).to_have_text("Awaiting the operator")

    page.reload()
    expect(row.get_by_test_id("partner-status")).to_have_text("Awaiting verification")
    # The operator checks that she represents the company and accepts her claim (P-14): the partnership
    # becomes active and she administers the partner.
    olga = UserFactory(email="olga@platform.test", is_superuser=True, is_staff=True)
    claim = PartnerClaim.objects.get(partner__name="Westside Physicians Kft.")
    partner_claim_accept(actor=Actor(user=olga), claim=claim)
    contact.reload()
    expect(contact.get_by_test_id("claim-status")).to_have_text("Accepted")
    contact.goto(f"{live_server.url}/partner/")
    expect(contact.get_by_test_id("partner-partnerships")).to_contain_text("Active")
    expect(contact.get_by_test_id("awaiting-verification")).to_have_count(0)
    contact.context.close()

    page.reload()
    expect(row.get_by_test_id("partner-status")).to_have_text("Active")

    page.get_by_text("Administration", exact=True).click()
    page.get_by_role("link", name="Traffic Channels").click()
    header = page.locator('th[data-partner="Westside Physicians Kft."]')
    expect(header).to_be_visible()
    expect(header).to_have_css("background-color", "rgb(251, 228, 226)")  # highlighted in red
    for service in ("Cardiology check", "Echocardiography"):
        page.get_by_label(f"Westside Physicians Kft. · {service}").check()
        expect(
            page.locator(
                "td.partner-column", has=page.get_by_label(f"Westside Physicians Kft. · {service}")
            ).get_by_role("status")
        ).to_have_text("Saved")
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(2)
    partnership = Partnership.objects.get(partner__name="Westside Physicians Kft.")
    assert set(partnership.services.values_list("name", flat=True)) == {
        "Cardiology check",
        "Echocardiography",
    }
    page.reload()
    for service in ("Cardiology check", "Echocardiography"):
        expect(page.get_by_label(f"Westside Physicians Kft. · {service}")).to_be_checked()
