"""Issue 23, defect 7: Traffic Channels with twelve partners, at 375 px and at 1366 px. A tick where the user
sees a partner's cell authorises that partner and no other, and the built-in "Phone" column is never covered
by a partner's pinned checkbox (a click there authorises nobody)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from medbook.core.tests.browser_session import session_for
from medbook.partners.models import Partnership
from medbook.partners.tests.factories import partner_make, partnership_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _twelve_partnerships(cast) -> list[Partnership]:
    return [
        partnership_make(
            cast.institution_a,
            partner_make(
                f"Partner {n:02d} Health Services Kft.",
                f"01-09-{700000 + n}",
                f"1234{n:04d}-2-41",
                f"p{n}@p.test",
            ),
            locations=[cast.location_a1],
        )
        for n in range(1, 13)
    ]


def _authorised(service) -> set[str]:
    return set(
        Partnership.objects.filter(services=service).values_list("partner__name", flat=True).distinct()
    )


def _click_where_seen(page, locator) -> None:
    """Click with the mouse at the middle of what the user sees there (not the element Playwright would aim
    at through whatever covers it)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


@pytest.mark.parametrize("width", [375, 1366])
def test_defect7_a_tick_authorises_the_partner_whose_cell_it_is(cast, live_server, new_page, width):
    partnerships = _twelve_partnerships(cast)
    page = new_page(width=width, height=800)
    session_for(page.context, live_server, cast.alice)
    page.goto(live_server.url + reverse("partners:channel-list"))
    matrix = page.get_by_test_id("channel-matrix")
    expect(matrix).to_be_visible()
    row = matrix.locator("tbody tr", has_text=cast.service_a.name)

    # The built-in columns (Phone among them), where the table opens: what the mouse finds on each is that
    # column's own checkbox (disabled, but for the Online column's, issue 22), and a click there authorises
    # no partner.
    names = [text.splitlines()[0] for text in matrix.locator("thead th.builtin").all_inner_texts()]
    assert "Phone" in names
    for name, cell in zip(names, row.locator("td.builtin").all(), strict=True):
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('td, th').className",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        own = cell.get_attribute("class")  # "builtin", or "builtin online-column" for the tickable Online
        assert hit == own, f"at {width} px the {name} cell is covered by a cell of class {hit!r}"
        _click_where_seen(page, cell)
    assert _authorised(cast.service_a) == set()

    # The first, a middle and the last two partners's cell, each ticked where it is seen.
    for partnership in (partnerships[0], partnerships[5], partnerships[-2], partnerships[-1]):
        cell = row.get_by_test_id(f"cell-{partnership.pk}-{cast.service_a.pk}")
        _click_where_seen(page, cell)
        expect(matrix.locator(f"#cell-{partnership.pk}-{cast.service_a.pk} .saved")).to_be_visible()
    assert _authorised(cast.service_a) == {
        "Partner 01 Health Services Kft.",
        "Partner 06 Health Services Kft.",
        "Partner 11 Health Services Kft.",
        "Partner 12 Health Services Kft.",
    }
