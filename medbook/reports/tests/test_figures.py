"""The report figures against a hand computation over a generated set of bookings (R-1, R-2); the
statements (X-4, R-4) are test_settlement.py's."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from medbook.reports.tests.data import (
    BUDAPEST,
    PERIOD,
    commission,
    expected_by,
    figures,
    generate,
    in_period,
    table_rows,
)

pytestmark = pytest.mark.django_db
PERIOD_QUERY = {"date_from": PERIOD[0].isoformat(), "date_until": PERIOD[1].isoformat()}


@pytest.fixture(params=[False, True], ids=["no_shows_earn_none", "no_shows_earn"])
def no_show_earns(request, cast) -> bool:
    cast.institution_a.no_show_earns_commission = request.param
    cast.institution_a.save()
    return request.param


@pytest.fixture
def generated(cast, partners):
    return generate(cast, partners)


def test_r2_traffic_per_channel_and_partner_match_hand_computation(
    cast, partners, generated, no_show_earns, login
):
    inside = [b for b in generated.bookings if in_period(b)]
    response = login(cast.alice).get(reverse("reports:traffic"), PERIOD_QUERY)
    assert response.status_code == 200
    html = response.content.decode()

    channels = expected_by(inside, lambda b: b.channel.name, no_show_earns=no_show_earns)
    channels["total"] = figures(inside, no_show_earns=no_show_earns)
    assert table_rows(html, "traffic-channels") == channels

    by_partner = expected_by(
        inside, lambda b: b.partner.name if b.partner else None, no_show_earns=no_show_earns
    )
    by_partner["total"] = figures([b for b in inside if b.partner], no_show_earns=no_show_earns)
    assert table_rows(html, "traffic-partners") == by_partner
    assert len(by_partner) == 4  # three partners and the total


def test_r2_totals_add_up_and_no_show_setting_changes_commission(cast, partners, generated, login):
    client = login(cast.alice)
    seen = {}
    for earns in (False, True):
        cast.institution_a.no_show_earns_commission = earns
        cast.institution_a.save()
        rows = table_rows(
            client.get(reverse("reports:traffic"), PERIOD_QUERY).content.decode(), "traffic-partners"
        )
        total = rows.pop("total")
        for name in ("bookings", "booked", "completed", "cancelled", "no_show", "value", "commission"):
            assert sum(row[name] for row in rows.values()) == total[name]
        assert (
            total["bookings"] == total["booked"] + total["completed"] + total["cancelled"] + total["no_show"]
        )
        seen[earns] = total["commission"]
    no_shows = [b for b in generated.bookings if in_period(b) and b.partner and b.status == "no_show"]
    assert no_shows
    assert seen[True] - seen[False] == sum(commission(b, no_show_earns=True) for b in no_shows)


def test_r2_partners_only_leaves_out_the_institutions_own_channels(cast, partners, generated, login):
    query = {**PERIOD_QUERY, "partners_only": "on"}
    html = login(cast.alice).get(reverse("reports:traffic"), query).content.decode()
    inside = [b for b in generated.bookings if in_period(b) and b.partner]
    rows = table_rows(html, "traffic-channels")
    assert set(rows) == {b.channel.name for b in inside} | {"total"}
    assert rows["total"]["bookings"] == len(inside)


def test_r2_charts_are_drawn_from_the_table_figures(cast, partners, generated, login):
    html = login(cast.alice).get(reverse("reports:traffic"), PERIOD_QUERY).content.decode()
    rows = table_rows(html, "traffic-channels")
    over_time = html.split('data-testid="chart-over-time"', 1)[1].split("</svg>", 1)[0]
    drawn: dict[str, int] = {}
    for series, bucket, amount in re.findall(
        r'data-series="([^"]*)" data-bucket="([^"]*)" data-amount="(\d+)"', over_time
    ):
        drawn[series] = drawn.get(series, 0) + int(amount)
        assert PERIOD[0].isoformat() <= bucket <= PERIOD[1].isoformat()
    assert drawn == {name: row["bookings"] for name, row in rows.items() if name != "total"}
    # The DST day (25 Oct 2026, 25 hours long) holds its three bookings, whatever the UTC date.
    dst = re.findall(r'data-bucket="2026-10-25" data-amount="(\d+)"', over_time)
    dst_expected = [
        b for b in generated.bookings if b.starts_at.astimezone(BUDAPEST).date().isoformat() == "2026-10-25"
    ]
    assert sum(int(n) for n in dst) == len(dst_expected) >= 3

    partners_rows = table_rows(html, "traffic-partners")
    per_partner = html.split('data-testid="chart-commission"', 1)[1].split("</svg>", 1)[0]
    bars = dict(re.findall(r'data-series="([^"]*)" data-amount="([\d.]+)"', per_partner))
    assert {name: Decimal(v) for name, v in bars.items()} == {
        name: row["commission"] for name, row in partners_rows.items() if name != "total"
    }
    assert " style=" not in html.split("<main", 1)[1]


def test_r1_booking_report_lists_the_period_with_its_booking_source(cast, partners, generated, login):
    client = login(cast.alice)
    inside = [b for b in generated.bookings if in_period(b)]
    response = client.get(reverse("reports:booking-report"), PERIOD_QUERY)
    assert f"{len(inside)} bookings" in response.content.decode()
    partner_booking = next(b for b in inside if b.partner)
    page_html = client.get(
        reverse("reports:booking-report"), {**PERIOD_QUERY, "partners_only": "on"}
    ).content.decode()
    assert f"{len([b for b in inside if b.partner])} bookings" in page_html
    row = page_html.split(f'data-booking="{partner_booking.pk}"', 1)[1].split("</tr>", 1)[0]
    # The partner's name once: its channel bears the same name, so "Booking source" does not repeat it.
    assert f'data-testid="booking-source"><strong>{partner_booking.partner.name}</strong></span>' in row
    own = min((b for b in inside if not b.partner), key=lambda b: b.starts_at)
    all_html = client.get(reverse("reports:booking-report"), PERIOD_QUERY).content.decode()
    own_row = all_html.split(f'data-booking="{own.pk}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-testid="booking-source">{own.channel.name}</span>' in own_row


def test_r1_booking_report_is_paginated(cast, partners, generated, login):
    client = login(cast.alice)
    inside = [b for b in generated.bookings if in_period(b)]
    assert len(inside) > 50
    first = client.get(reverse("reports:booking-report"), PERIOD_QUERY).content.decode()
    second = client.get(reverse("reports:booking-report"), {**PERIOD_QUERY, "page": 2}).content.decode()
    shown = re.findall(r'<tr data-booking="(\d+)"', first) + re.findall(r'<tr data-booking="(\d+)"', second)
    assert len(re.findall(r"<tr data-booking=", first)) == 50
    assert sorted(int(pk) for pk in shown) == sorted(b.pk for b in inside)
    assert "page=2" in first


@pytest.mark.parametrize("field", ["status", "location", "physician", "service"])
def test_r1_filters_narrow_the_booking_report(cast, partners, generated, login, field):
    inside = [b for b in generated.bookings if in_period(b)]
    value = {
        "status": "no_show",
        "location": cast.location_a2.pk,
        "physician": cast.physician_a.pk,
        "service": cast.service_a.pk,
    }[field]
    expected = [b for b in inside if (b.status if field == "status" else getattr(b, f"{field}_id")) == value]
    html = (
        login(cast.alice)
        .get(reverse("reports:booking-report"), {**PERIOD_QUERY, field: value})
        .content.decode()
    )
    assert re.search(rf'data-testid="report-count">{len(expected)} booking', html)


def test_r1_period_boundaries_are_local_midnights(cast, partners, generated, login):
    html = (
        login(cast.alice)
        .get(reverse("reports:booking-report"), {"date_from": "2026-10-01", "date_until": "2026-10-01"})
        .content.decode()
    )
    expected = [b for b in generated.bookings if in_period(b, PERIOD[0], PERIOD[0])]
    assert re.search(rf'data-testid="report-count">{len(expected)} booking', html)
    assert ">00:00<" in html  # the booking at local midnight opening the day
    assert ">23:30<" not in html  # the evening before stays out


@pytest.mark.parametrize("day", ["2026-10-25", "2027-03-28"])
def test_r2_dst_day_is_one_local_day(cast, partners, generated, login, day):
    one = date.fromisoformat(day)
    expected = [b for b in generated.bookings if in_period(b, one, one)]
    assert len(expected) >= 2
    client = login(cast.alice)
    query = {"date_from": day, "date_until": day}
    rows = table_rows(client.get(reverse("reports:traffic"), query).content.decode(), "traffic-channels")
    assert rows["total"] == figures(expected, no_show_earns=False)
    html = client.get(reverse("reports:booking-report"), query).content.decode()
    assert re.search(rf'data-testid="report-count">{len(expected)} booking', html)


def test_r2_long_period_charts_per_week_from_the_same_figures(cast, partners, generated, login):
    query = {"date_from": "2026-09-01", "date_until": "2027-03-31"}
    html = login(cast.alice).get(reverse("reports:traffic"), query).content.decode()
    assert "Bookings per channel and week" in html
    rows = table_rows(html, "traffic-channels")
    assert rows["total"]["bookings"] == len(generated.bookings)
    over_time = html.split('data-testid="chart-over-time"', 1)[1].split("</svg>", 1)[0]
    drawn: dict[str, int] = {}
    for series, bucket, amount in re.findall(
        r'data-series="([^"]*)" data-bucket="([^"]*)" data-amount="(\d+)"', over_time
    ):
        assert date.fromisoformat(bucket).weekday() == 0  # weeks start on Monday
        drawn[series] = drawn.get(series, 0) + int(amount)
    assert drawn == {name: row["bookings"] for name, row in rows.items() if name != "total"}
