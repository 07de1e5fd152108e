"""Issue 23, defect 8: "Partner-submitted statistics" fits the screen (its 16 columns scroll inside their box,
the page never sideways), offers "Cancel" only where the cancel rule allows it, and in Hungarian the button
says what it does ("Lemondás", a booking's cancellation), not "Mégse" (never mind)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import local, next_weekday
from medbook.core.tests.browser_session import session_for
from medbook.partners.tests.test_end_and_matrix import partner_booking
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def past_and_future(cast, partners) -> tuple[Booking, Booking, str]:
    """A partner's visit of yesterday (still "booked": attendance not recorded yet) and one to come, with
    the report's address for the period holding both."""
    yesterday, later = date.today() - timedelta(days=1), next_weekday(2)
    past = partner_booking(cast, partners.partnership_p, local(yesterday, 9))
    future = partner_booking(cast, partners.partnership_p, local(later, 9))
    url = (
        reverse("reports:partner-bookings")
        + f"?date_from={yesterday.isoformat()}&date_until={later.isoformat()}"
    )
    return past, future, url


def _row(html: str, booking: Booking) -> str:
    return html.split(f'data-booking="{booking.pk}"', 1)[1].split("</tr>", 1)[0]


def test_defect8_cancel_is_offered_only_where_the_cancel_rule_allows(cast, past_and_future, login):
    past, future, url = past_and_future
    client = login(cast.alice)
    html = client.get(url).content.decode()
    cancel_of = reverse("reports:partner-booking-cancel", args=[past.pk])
    assert cancel_of not in _row(html, past)  # started: the service would refuse it
    assert reverse("reports:partner-booking-cancel", args=[future.pk]) in _row(html, future)
    # and the rule is the service's: asked directly, the past visit is refused, nothing changes
    response = client.post(cancel_of, {"reason": "", "next": url})
    assert response.status_code == 409
    past.refresh_from_db()
    assert past.status == Booking.Status.BOOKED


def test_defect8_hungarian_cancel_button_says_cancelling_the_booking(cast, past_and_future, login):
    _past, future, url = past_and_future
    cast.alice.language = "hu"
    cast.alice.save()
    client = login(cast.alice)
    client.cookies["django_language"] = "hu"
    row = _row(client.get(url).content.decode(), future)
    assert ">Lemondás</a>" in row and "Mégse" not in row


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [375, 1366])
def test_defect8_sixteen_columns_scroll_in_their_box_not_the_page(
    cast, past_and_future, live_server, new_page, width
):
    past, future, url = past_and_future
    page = new_page(width=width, height=800)
    session_for(page.context, live_server, cast.alice)
    page.goto(live_server.url + url)
    table = page.get_by_test_id("partner-bookings")
    expect(table).to_be_visible()
    assert (
        table.locator("thead th").count() == 18
    )  # 17 named columns (issue 22: confirmed by patient) and the actions
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]"
    )
    assert widths[0] == widths[1] <= widths[2], f"the page scrolls sideways at {width} px: {widths}"
    expect(page.locator(f'tr[data-booking="{past.pk}"]').get_by_role("link", name="Cancel")).to_have_count(0)
    cancel = page.locator(f'tr[data-booking="{future.pk}"]').get_by_role("link", name="Cancel")
    cancel.scroll_into_view_if_needed()
    expect(cancel).to_be_in_viewport()
