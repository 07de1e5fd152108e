"""Read a downloaded statement (CSV or XLSX) and the settlement pages' figures back, for the tests."""

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import load_workbook

# The columns of a statement line (medbook.reports.exports.headers).
BOOKING, ENTRY, DATE, TIME, LOCATION, PHYSICIAN, SERVICE, STATUS, PAYS, PRICE, RULE = range(11)
VALUE, COMMISSION, TO_PARTNER, TO_INSTITUTION = range(11, 15)
AMOUNT_NAMES = {
    VALUE: "value",
    COMMISSION: "commission",
    TO_PARTNER: "to_partner",
    TO_INSTITUTION: "to_institution",
}


def amount(value, decimal_mark: str = ".") -> Decimal:
    text = str(value).replace(decimal_mark, ".") if isinstance(value, str) else str(value)
    return Decimal(text).quantize(Decimal("0.01"))


@dataclass
class Document:
    """A statement as read back: its lines by (entry, booking id), the total row, summary and the rest."""

    rows: list[list]
    lines: dict[tuple[str, int], list] = field(default_factory=dict)
    total: list = field(default_factory=list)
    summary: dict[str, list] = field(default_factory=dict)
    unsettled: dict[int, list] = field(default_factory=dict)
    header_row: int = 0  # 1-based

    def amounts(self, line: list, decimal_mark: str = ".") -> dict[str, Decimal]:
        return {name: amount(line[column], decimal_mark) for column, name in AMOUNT_NAMES.items()}


def _parse(rows: list[list]) -> Document:
    rows = [list(row) for row in rows]
    document = Document(rows=rows)
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Booking")
    document.header_row = start + 1
    index = start + 1
    while rows[index] and rows[index][0] != "Total":
        row = rows[index]
        document.lines[(row[ENTRY], int(row[BOOKING]))] = row
        index += 1
    document.total = rows[index]
    for row in rows[index + 1 :]:
        if row and row[0] and not str(row[0]).isdigit() and len(row) > 1 and row[1] not in ("", None):
            document.summary.setdefault(str(row[0]), row)
        elif row and row[0] and str(row[0]).isdigit():
            document.unsettled[int(row[0])] = row
    return document


def read_csv(content: bytes, delimiter: str = ",") -> Document:
    return _parse(list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter)))


def read_xlsx(content: bytes) -> Document:
    sheet = load_workbook(io.BytesIO(content)).active
    return _parse([list(row) for row in sheet.iter_rows(values_only=True)])


def read(content: bytes, fmt: str) -> Document:
    return read_csv(content) if fmt == "csv" else read_xlsx(content)


def page_figures(html: str, testid: str, key: str) -> dict[str, dict]:
    """The figures of a settlement table by row (data-partner, data-institution or data-closing)."""
    section = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    found = {}
    for name, body in re.findall(rf'<tr data-{key}="([^"]*)"[^>]*>(.*?)</tr>', section, re.S):
        cells: dict = {}
        for figure, attributes, text in re.findall(r'data-figure="(\w+)"([^>]*)>(.*?)</td>', body, re.S):
            given = re.search(r'data-amount="([^"]*)"', attributes)
            cells[figure] = Decimal(given.group(1)) if given else int(text)
            direction = re.search(r'data-direction="([^"]*)"', attributes)
            if direction:
                cells["direction"] = direction.group(1)
                cells["text"] = re.sub(r"<[^>]+>", "", text).strip()
        found[name.replace("&#x27;", "'").replace("&amp;", "&")] = cells
    return found
