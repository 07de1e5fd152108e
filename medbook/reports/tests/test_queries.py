"""The number of queries of a report does not grow with the number of bookings, partners, closed statements
or corrections (R-4: the settlement pages aggregate in SQL)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import actor_of
from medbook.institutions.tests.factories import PhysicianFactory
from medbook.reports.models import StatementClosing
from medbook.reports.selectors import Period
from medbook.reports.services import statement_close
from medbook.reports.tests.data import PERIOD, generate
from medbook.reports.tests.readers import page_figures
from medbook.scheduling.models import Booking

pytestmark = pytest.mark.django_db
QUERY = {"date_from": PERIOD[0].isoformat(), "date_until": PERIOD[1].isoformat()}
# 12 for the page itself, plus at most 3 of the session security once a minute (the second-factor
# devices looked up, the session saved with the time seen), plus PostgreSQL's audit-chain lock of an
# audited export.
MAX_QUERIES = 16


SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))
PERIOD_START = Period(*PERIOD, "Europe/Budapest").bounds()[0]


def _close_september_and_correct(cast, partners, generated) -> None:
    """Close September for the partners of the generated set not closed yet, then change the attendance or
    payment of their September bookings: each whose held amounts change becomes an adjustment of October."""
    closed = []
    for partner in generated.partners:
        if not StatementClosing.objects.filter(partner=partner, date_from=SEPTEMBER[0]).exists():
            statement_close(
                actor=actor_of(cast.alice),
                partner=partner,
                period=Period(*SEPTEMBER, cast.institution_a.time_zone),
            )
            closed.append(partner)
    september = Booking.objects.filter(starts_at__lt=PERIOD_START, partner__in=closed)
    held = september.filter(status="completed").exclude(payment_status="refunded")
    others = list(september.exclude(pk__in=held.values("pk")).values_list("pk", flat=True))
    held.update(payment_status="refunded")
    Booking.objects.filter(pk__in=others).update(status="completed", payment_status="paid")


def _adjustments(html: str) -> int:
    return sum(row["adjustments"] for row in page_figures(html, "settlement-partners", "partner").values())


def _pages(cast, partners) -> list[tuple[object, str]]:
    p = partners.partner_p.pk
    a = cast.institution_a.pk
    closing = StatementClosing.objects.filter(partner=partners.partner_p).order_by("number").first().pk
    return [
        (cast.alice, reverse("reports:booking-report")),
        (cast.alice, reverse("reports:booking-report") + "?partners_only=on&page=2"),
        (cast.alice, reverse("reports:traffic")),
        (cast.alice, reverse("reports:partner-bookings")),
        (cast.alice, reverse("reports:settlement")),
        (cast.alice, reverse("reports:settlement-download", args=[p, "csv"])),
        (cast.alice, reverse("reports:settlement-download", args=[p, "xlsx"])),
        (partners.paula, reverse("reports:partner-statements")),
        (partners.paula, reverse("reports:partner-statement-download", args=[a, "csv"])),
        (cast.alice, reverse("reports:settlement-closed-download", args=[closing, "csv"])),
        (cast.alice, reverse("reports:settlement-closed-download", args=[closing, "xlsx"])),
        (partners.paula, reverse("reports:partner-statement-closed-download", args=[closing, "xlsx"])),
    ]


def _count(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = (
            client.get(url, QUERY)
            if "?" not in url
            else client.get(url + "&" + "&".join(f"{k}={v}" for k, v in QUERY.items()))
        )
    assert response.status_code == 200
    return len(queries)


def test_r1_r2_r3_x4_query_count_is_constant_in_bookings_and_partners(
    cast, partners, client, django_assert_max_num_queries
):
    _close_september_and_correct(cast, partners, generate(cast, partners, count=8, partner_count=1, seed=1))
    assert StatementClosing.objects.count() == 1
    client.force_login(cast.alice)
    assert _adjustments(client.get(reverse("reports:settlement"), QUERY).content.decode()) == 1
    small = {url: _count(client, user, url) for user, url in _pages(cast, partners)}
    other = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Gamma", locations=[cast.location_a1]
    )
    more = generate(cast, partners, count=120, partner_count=4, seed=2, physician=other, tag="x")
    _close_september_and_correct(cast, partners, more)
    assert StatementClosing.objects.count() == 4
    client.force_login(cast.alice)
    assert _adjustments(client.get(reverse("reports:settlement"), QUERY).content.decode()) == 2
    large = {url: _count(client, user, url) for user, url in _pages(cast, partners)}
    assert large == small
    for user, url in _pages(cast, partners):
        client.force_login(user)
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url)
