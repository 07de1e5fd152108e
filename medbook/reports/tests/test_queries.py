"""The number of queries of a report does not grow with the number of bookings or partners."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medbook.institutions.tests.factories import PhysicianFactory
from medbook.reports.tests.data import PERIOD, generate

pytestmark = pytest.mark.django_db
QUERY = {"date_from": PERIOD[0].isoformat(), "date_until": PERIOD[1].isoformat()}
# 12 for the page itself, plus at most 3 of the session security once a minute (the second-factor
# devices looked up, the session saved with the time seen), plus PostgreSQL's audit-chain lock of an
# audited export.
MAX_QUERIES = 16


def _pages(cast, partners) -> list[tuple[object, str]]:
    p = partners.partner_p.pk
    a = cast.institution_a.pk
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
    generate(cast, partners, count=8, partner_count=1, seed=1)
    small = {url: _count(client, user, url) for user, url in _pages(cast, partners)}
    other = PhysicianFactory(
        institution=cast.institution_a, full_name="Dr. Gamma", locations=[cast.location_a1]
    )
    generate(cast, partners, count=120, partner_count=4, seed=2, physician=other, tag="x")
    large = {url: _count(client, user, url) for user, url in _pages(cast, partners)}
    assert large == small
    for user, url in _pages(cast, partners):
        client.force_login(user)
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url)
