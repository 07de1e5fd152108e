"""The commission statement (X-4) as one table, written as CSV and as XLSX (openpyxl).

The statement names no patient: a partner may never export patient data (P-7), and the institution's
copy is the same document.
"""

import csv
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from medbook.reports.money import money
from medbook.reports.selectors import Statement

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# F5: text starting with one of these is read as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell):
    """Text that a spreadsheet would run as a formula, prefixed with an apostrophe; numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _safe(row: list) -> list:
    return [neutralised(cell) for cell in row]


def commission_rule(booking) -> str:
    """The rule captured on the booking, as the statement shows it."""
    if booking.commission_percent is not None:
        return f"{booking.commission_percent} %"
    if booking.commission_fixed is not None:
        return _("fixed %(amount)s") % {"amount": booking.commission_fixed}
    return "—"


def statement_table(statement: Statement) -> tuple[list[str], list[list], list]:
    """Headers, one row per booking (local date and time) and the totals row."""
    tz = ZoneInfo(statement.institution.time_zone)
    headers = [
        _("Booking"),
        _("Date"),
        _("Time"),
        _("Location"),
        _("Physician"),
        _("Service"),
        _("Status"),
        _("Price"),
        _("Currency"),
        _("Commission rule"),
        _("Commission due"),
    ]
    rows = []
    for booking in statement.lines:
        starts = booking.starts_at.astimezone(tz)
        rows.append(
            [
                booking.pk,
                starts.date().isoformat(),
                starts.strftime("%H:%M"),
                booking.location.name,
                booking.physician.full_name,
                booking.service.name,
                booking.get_status_display(),
                booking.price,
                booking.currency,
                commission_rule(booking),
                money(booking.commission_due_cents),
            ]
        )
    total = [
        _("Total"),
        "",
        "",
        "",
        "",
        "",
        str(statement.bookings),
        statement.value,
        "",
        "",
        statement.commission,
    ]
    return headers, rows, total


def _preamble(statement: Statement) -> list[list[str]]:
    return [
        [_("Commission statement")],
        [_("Institution"), statement.institution.name],
        [_("Partner"), statement.partner.name],
        [_("Period"), statement.period.date_from.isoformat(), statement.period.date_until.isoformat()],
        [_("Time zone"), statement.period.time_zone],
        [],
    ]


def statement_filename(statement: Statement, extension: str) -> str:
    parts = [
        "statement",
        slugify(statement.partner.name),
        slugify(statement.institution.name),
        statement.period.date_from.isoformat(),
        statement.period.date_until.isoformat(),
    ]
    return "-".join(parts) + f".{extension}"


# Per reader's language: the field separator and the decimal mark its spreadsheets expect.
CSV_CONVENTIONS = {"hu": (";", ","), "en": (",", ".")}


def statement_csv(statement: Statement) -> bytes:
    """The statement as UTF-8 CSV (with a byte-order mark, so that spreadsheets read the accents), in the
    reader's conventions: a Hungarian reader's spreadsheet expects ";" between fields and a decimal comma."""
    headers, rows, total = statement_table(statement)
    language = (translation.get_language() or "en").split("-")[0]
    delimiter, decimal_mark = CSV_CONVENTIONS.get(language, CSV_CONVENTIONS["en"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows(_safe(line) for line in _preamble(statement))
    writer.writerow(_safe(headers))
    for row in [*rows, total]:
        writer.writerow(
            [
                f"{cell:.2f}".replace(".", decimal_mark) if isinstance(cell, Decimal) else cell
                for cell in _safe(row)
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an XLSX workbook: amounts are numbers with two decimals."""
    headers, rows, total = statement_table(statement)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Statement")[:31]
    for line in _preamble(statement):
        sheet.append(_safe(line))
    sheet.append(_safe(headers))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in [*rows, total]:
        sheet.append(_safe(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, int | float | Decimal) and cell.column in (8, 11):
                cell.number_format = "#,##0.00"
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
