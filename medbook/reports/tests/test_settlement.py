"""R-4, X-4: the statements count only held bookings, show each row's payment location, what each side owes
and the net with its direction, against a hand computation over generated bookings (both payment
locations, both no-show settings, cancelled, refunded and not yet recorded bookings)."""

import csv
import io
from datetime import date, datetime, time

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from medbook.reports.tests.data import BUDAPEST, PERIOD, generate, in_period, is_held, owed, settled
from medbook.reports.tests.readers import (
    COMMISSION,
    DATE,
    PAYS,
    PRICE,
    TIME,
    TO_INSTITUTION,
    TO_PARTNER,
    VALUE,
    amount,
    page_figures,
    read,
    read_csv,
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


def _mine(generated, partner) -> list:
    return [b for b in generated.bookings if in_period(b) and b.partner_id == partner.pk]


def test_r4_generated_data_has_every_case(generated, no_show_earns):
    """The hand computation below is only worth something if the data holds every case."""
    inside = [b for b in generated.bookings if in_period(b) and b.partner_id]
    kinds = {(b.status, b.payment_status) for b in inside}
    for case in [
        ("completed", "paid_at_partner"),
        ("no_show", "paid_at_partner"),
        ("completed", "paid"),
        ("completed", "refunded"),
        ("no_show", "paid"),
        ("cancelled", "paid_at_partner"),
        ("booked", "unpaid"),
    ]:
        assert case in kinds, case
    # A fixed commission above the price, collected by the partner: the institution owes the difference.
    assert any(
        owed(b, no_show_earns=no_show_earns)["to_partner"] > 0 and b.payment_status == "paid_at_partner"
        for b in inside
        if b.status == "completed"
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_r4_statement_counts_only_held_bookings_as_computed_by_hand(
    cast, partners, generated, no_show_earns, login, fmt
):
    client = login(cast.alice)
    for partner in generated.partners:
        mine = _mine(generated, partner)
        response = client.get(reverse("reports:settlement-download", args=[partner.pk, fmt]), PERIOD_QUERY)
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        document = read(response.content, fmt)
        held = [b for b in mine if is_held(b, no_show_earns=no_show_earns)]
        assert {pk for _entry, pk in document.lines} == {b.pk for b in held}
        assert set(document.unsettled) == {b.pk for b in mine if b not in held}
        for booking in held:
            line = document.lines[("Booking", booking.pk)]
            assert document.amounts(line) == owed(booking, no_show_earns=no_show_earns)
            assert amount(line[PRICE]) == booking.price
            expected_place = (
                "Paid at partner" if booking.payment_status == "paid_at_partner" else "At the institution"
            )
            assert line[PAYS] == expected_place
        expected = settled(mine, no_show_earns=no_show_earns)
        total = document.total
        assert total[0] == "Total" and int(total[1]) == expected["bookings"]
        assert amount(total[VALUE]) == expected["value"]
        assert amount(total[COMMISSION]) == expected["commission"]
        assert amount(total[TO_PARTNER]) == expected["to_partner"]
        assert amount(total[TO_INSTITUTION]) == expected["to_institution"]
        net = document.summary["Net"]
        assert amount(net[1]) == abs(expected["net"])
        if expected["net"] > 0:
            assert net[2].startswith(f"Institution A owes {partner.name} ")
        elif expected["net"] < 0:
            assert net[2].startswith(f"{partner.name} owes Institution A ")
        else:
            assert net[2] == "Nothing is owed either way."


def test_r4_both_directions_appear_in_the_generated_statements(cast, partners, generated):
    directions = set()
    for partner in generated.partners:
        expected = settled(_mine(generated, partner), no_show_earns=False)
        directions.add((expected["net"] > 0) - (expected["net"] < 0))
    assert {1, -1} <= directions  # P is paid by the institution, R and S collect from the patients


def test_r4_settlement_page_shows_the_figures_the_net_and_its_direction(
    cast, partners, generated, no_show_earns, login
):
    html = login(cast.alice).get(reverse("reports:settlement"), PERIOD_QUERY).content.decode()
    rows = page_figures(html, "settlement-partners", "partner")
    assert set(rows) == {p.name for p in generated.partners}
    for partner in generated.partners:
        expected = settled(_mine(generated, partner), no_show_earns=no_show_earns)
        row = rows[partner.name]
        for name in ("bookings", "unsettled", "value", "commission", "to_partner", "to_institution"):
            assert row[name] == expected[name], (partner.name, name)
        assert row["adjustments"] == 0
        assert row["net"] == abs(expected["net"])
        if expected["net"] > 0:
            assert row["direction"] == "institution"
            assert row["text"].startswith(f"Institution A owes {partner.name} ")
        elif expected["net"] < 0:
            assert row["direction"] == "partner"
            assert row["text"].startswith(f"{partner.name} owes Institution A ")
    p_net = settled(_mine(generated, partners.partner_p), no_show_earns=no_show_earns)["net"]
    assert f"Institution A owes CallCenter Ltd {p_net:,.2f} HUF" in html


def test_r4_partner_sees_the_same_figures_for_its_own_bookings(cast, partners, generated, login):
    html = login(partners.paula).get(reverse("reports:partner-statements"), PERIOD_QUERY).content.decode()
    rows = page_figures(html, "statement-institutions", "institution")
    expected = settled(_mine(generated, partners.partner_p), no_show_earns=False)
    row = rows["Institution A"]
    for name in ("bookings", "unsettled", "value", "commission", "to_partner", "to_institution"):
        assert row[name] == expected[name]
    assert row["text"].startswith("Institution A owes CallCenter Ltd ")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_x4_partner_downloads_the_same_statement_naming_no_patient(cast, partners, generated, login, fmt):
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, fmt])
    institution_copy = login(cast.alice).get(url, PERIOD_QUERY).content
    partner_url = reverse("reports:partner-statement-download", args=[cast.institution_a.pk, fmt])
    partner_copy = login(partners.paula).get(partner_url, PERIOD_QUERY).content
    assert read(partner_copy, fmt).lines == read(institution_copy, fmt).lines
    assert read(partner_copy, fmt).lines
    for content in (partner_copy, institution_copy):
        assert cast.patient_a.full_name.encode() not in content  # no patient data leaves (P-7)
        assert cast.patient_a.insurance_id.encode() not in content


def test_r4_xlsx_has_date_cells_numbers_a_frozen_header_and_fitted_columns(cast, partners, generated, login):
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, "xlsx"])
    response = login(cast.alice).get(url, PERIOD_QUERY)
    sheet = load_workbook(io.BytesIO(response.content)).active
    document = read(response.content, "xlsx")
    assert sheet.freeze_panes == f"A{document.header_row + 1}"  # the header row stays in view
    line = next(iter(document.lines.values()))
    booking = next(b for b in generated.bookings if b.pk == line[0])
    local = booking.starts_at.astimezone(BUDAPEST)
    assert isinstance(line[DATE], datetime) and line[DATE].date() == local.date()
    assert isinstance(line[TIME], time) and line[TIME] == time(local.hour, local.minute)
    cells = list(sheet.iter_rows(min_row=document.header_row + 1, max_row=document.header_row + 1))[0]
    assert cells[DATE].is_date and cells[DATE].number_format == "yyyy-mm-dd"
    assert cells[TIME].number_format == "hh:mm"
    for column in (PRICE, VALUE, COMMISSION, TO_PARTNER, TO_INSTITUTION):
        assert isinstance(cells[column].value, int | float), column
        assert cells[column].number_format == "#,##0.00"
    period = next(row for row in sheet.iter_rows() if row[0].value == "Period")
    assert [c.value.date() for c in period[1:3]] == [PERIOD[0], PERIOD[1]]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    widths = {letter: dimension.width for letter, dimension in sheet.column_dimensions.items()}
    assert widths["E"] >= len("A Central") and widths["G"] >= len("Cardiology check")


def test_r4_a_hungarian_readers_csv_has_semicolons_and_decimal_commas(cast, partners, generated, login):
    client = login(cast.alice)
    client.post(reverse("core:language-set"), {"language": "hu"})
    response = client.get(
        reverse("reports:settlement-download", args=[partners.partner_p.pk, "csv"]), PERIOD_QUERY
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    total = next(row for row in rows if row and row[0] == "Összesen")
    assert len(total) == 15
    assert "," in total[VALUE] and "." not in total[VALUE]
    expected = settled(_mine(generated, partners.partner_p), no_show_earns=False)
    assert amount(total[VALUE], ",") == expected["value"]
    assert amount(total[TO_PARTNER], ",") == expected["to_partner"]
    line = next(row for row in rows if row and row[0].isdigit() and row[DATE][:4] == "2026")
    assert date.fromisoformat(line[DATE])  # dates year first, which every spreadsheet reads
    assert "," in line[PRICE] and "." not in line[PRICE]


def test_r4_english_csv_reads_back_like_the_xlsx(cast, partners, generated, login):
    client = login(cast.alice)
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, "{}"])
    as_csv = read_csv(client.get(url.replace("%7B%7D", "csv"), PERIOD_QUERY).content)
    as_xlsx = read(client.get(url.replace("%7B%7D", "xlsx"), PERIOD_QUERY).content, "xlsx")
    assert set(as_csv.lines) == set(as_xlsx.lines)
    for key, line in as_csv.lines.items():
        assert as_csv.amounts(line) == as_xlsx.amounts(as_xlsx.lines[key])


def test_r4_an_empty_period_owes_nothing(cast, partners, login):
    html = (
        login(cast.alice)
        .get(reverse("reports:settlement"), {"date_from": "2020-03-01", "date_until": "2020-03-31"})
        .content.decode()
    )
    row = page_figures(html, "settlement-partners", "partner")["CallCenter Ltd"]
    assert row["bookings"] == 0 and row["net"] == 0 and row["text"] == "Nothing is owed either way."
