"""Issue 23, defect 9: "Add New Partner" in Chromium: a refused form opens on a summary of its errors, in view
and focused, each linking to its field; required fields carry a star; the commission fields are hidden while
"No" is ticked."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from medbook.core.tests.browser_session import session_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STAR = "() => [...document.querySelectorAll('form.stacked label, form.stacked legend')].filter(e => getComputedStyle(e, '::after').content.includes('*')).map(e => e.textContent.trim())"  # noqa: E501


@pytest.mark.parametrize("width", [375, 1366])
def test_defect9_errors_are_summarised_at_the_top_and_focused(cast, live_server, new_page, width):
    page = new_page(width=width, height=700)
    session_for(page.context, live_server, cast.alice)
    page.goto(live_server.url + reverse("partners:partner-create"))
    starred = page.evaluate(STAR)
    assert {"Company name:", "Tax number:", "Contact email:", "Commission agreement"} <= set(starred)
    assert not any(text.startswith(("Commission (%", "or a fixed amount")) for text in starred)
    expect(page.get_by_text("Fields marked * are required.")).to_be_visible()

    page.get_by_label("Company name").fill("Westside Physicians Kft.")
    page.get_by_role("button", name="Save").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("Tax number: This field is required.")
    expect(summary).not_to_contain_text("Company name")
    summary.get_by_role("link", name="Contact email: This field is required.").click()
    expect(page.get_by_label("Contact email")).to_be_focused()


def test_defect9_commission_fields_hidden_while_no_is_ticked(cast, live_server, page):
    session_for(page.context, live_server, cast.alice)
    page.goto(live_server.url + reverse("partners:partner-create"))
    percent = page.get_by_label("Commission (% of the service price)")
    fixed = page.get_by_label("or a fixed amount per booking")
    page.locator("input[name=commission_enabled][value=False]").check()
    expect(percent).to_be_hidden()
    expect(fixed).to_be_hidden()
    page.locator("input[name=commission_enabled][value=True]").check()
    expect(percent).to_be_visible()
    expect(fixed).to_be_visible()
