"""axe-core (from npm) in Chromium on every page each kind of actor opens, at WCAG 2.1 AA: no violations.
The calendars are checked with a booking form, a booking's panel, a move's confirmation and its undo message
open, and on a 375 px phone too."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from playwright.sync_api import expect

from medbook.core.tests.cast import ACTORS, everyone_make
from medbook.core.tests.test_permission_matrix import GET, MATRIX, _request_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# One actor of each kind; together they open every page of the project.
KINDS = ("operator", "a_admin", "a_staff", "p_admin", "p_book", "p_nobook", "e_user")


def _violations(page) -> list[str]:
    page.evaluate(AXE.read_text())
    found = page.evaluate("async (rules) => (await axe.run(document, rules)).violations", RULES)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])}× e.g. {v['nodes'][0]['target']}"
        for v in found
    ]


def _log_in(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def test_x_every_page_of_every_kind_of_actor_has_no_axe_violation(cast, partners, live_server, browser):
    with transaction.atomic():
        everyone = everyone_make(cast, partners)
    problems, checked = [], set()
    for actor in ("anon", *KINDS):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        if actor != "anon":
            _log_in(context, live_server, everyone.user(actor))
        for name, (method, _obj, answers) in MATRIX.items():
            answer = dict(zip(ACTORS, answers, strict=True))[actor]
            if method != GET or answer != 200 or (name, actor.split("_")[0]) in checked:
                continue
            if name.endswith(("-download", ":feed")):
                continue  # files (CSV, XLSX, iCalendar), not pages
            if name == "api:openapi-view":
                continue  # django-ninja's Swagger UI, a developer's tool as its authors ship it
            _method, url, data = _request_of(name, everyone)
            query = "&".join(f"{k}={v}" for k, v in data.items())
            response = page.goto(f"{live_server.url}{url}{'?' + query if query else ''}")
            if response is None or "text/html" not in (response.headers.get("content-type") or ""):
                continue
            if "<html" not in response.text()[:300]:
                continue  # an htmx fragment (a form, a panel): checked where it opens, below
            checked.add((name, actor.split("_")[0]))
            problems += [f"{name} as {actor}: {v}" for v in _violations(page)]
        context.close()
    assert checked, "no page was checked"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [1366, 375])
def test_x_calendars_with_a_form_open_have_no_axe_violation(cast, partners, live_server, browser, width):
    with transaction.atomic():
        everyone = everyone_make(cast, partners)
    problems = []
    for actor, url in (
        ("a_staff", f"/calendar/?location={cast.location_a1.pk}&service={cast.service_a.pk}"),
        ("p_book", "/partner/book/?show=1"),
    ):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        _log_in(context, live_server, everyone.user(actor))
        page.goto(f"{live_server.url}{url}&week={everyone.slot_day.isoformat()}")
        problems += [f"{actor} calendar at {width}px: {v}" for v in _violations(page)]
        page.locator(".slot.free").first.click()
        expect(page.locator("#booking-form")).to_be_visible()
        expect(page.locator("#patient-search")).to_be_focused()
        page.locator("#patient-search").fill("Anna")
        expect(page.locator("#patient-results [role=radiogroup]")).to_be_visible()
        problems += [f"{actor} booking form at {width}px: {v}" for v in _violations(page)]
        page.get_by_test_id("panel-close").click()  # the panel is a modal dialog: closed before another opens
        page.locator(".slot.booked[data-booking]").first.click()
        expect(page.locator("#move-form")).to_be_visible()
        problems += [f"{actor} booking panel at {width}px: {v}" for v in _violations(page)]
        page.locator("#move-form .slot").first.click()  # a move asks to confirm it, then offers its undo
        expect(page.get_by_test_id("move-confirm-button")).to_be_focused()
        problems += [f"{actor} move confirmation at {width}px: {v}" for v in _violations(page)]
        page.get_by_test_id("move-confirm-button").click()
        undo = page.locator("#announcer").get_by_test_id("undo")
        expect(undo).to_be_visible()
        problems += [f"{actor} undo message at {width}px: {v}" for v in _violations(page)]
        undo.click()
        expect(page.get_by_text("Undone: the booking is at")).to_be_visible()
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [1366, 375])
def test_x_day_agenda_with_bookings_and_a_form_open_has_no_axe_violation(
    cast, partners, live_server, browser, width
):
    with transaction.atomic():
        everyone = everyone_make(cast, partners)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    _log_in(context, live_server, everyone.user("a_staff"))
    page.goto(f"{live_server.url}/agenda/?date={everyone.slot_day.isoformat()}")
    view = page.locator(".agenda-grid" if width > 900 else ".agenda-list")
    expect(view.locator(".agenda-entry").first).to_be_visible()
    problems = [f"day agenda at {width}px: {v}" for v in _violations(page)]
    view.locator(".slot.free").first.click()
    expect(page.locator("#booking-form")).to_be_visible()
    problems += [f"day agenda's booking form at {width}px: {v}" for v in _violations(page)]
    page.keyboard.press("Escape")
    view.locator(".agenda-entry").first.click()
    expect(page.get_by_test_id("booking-patient")).to_be_visible()
    problems += [f"day agenda's booking panel at {width}px: {v}" for v in _violations(page)]
    context.close()
    assert not problems, "\n".join(problems)
