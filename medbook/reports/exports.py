"""The commission statement (X-4, R-4) as one table, written as CSV and as XLSX (openpyxl).

The statement names no patient: a partner may never export patient data (P-7), and the institution's
copy is the same document. An open and a closed statement are written alike; a closed one shows its
number and its frozen figures.
"""

import csv
import io
import re
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from medbook.core.timefmt import when
from medbook.reports.money import money
from medbook.reports.statements import Statement, StatementRow

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# F5: text starting with one of these is read as a formula by spreadsheets (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What a spreadsheet may skip before it looks for a formula: blanks and a quote opening the cell.
SKIPPED_LEADERS = ' \t\r\n"'  # not the apostrophe: it is what makes a cell text
# Issue 19: where a reader may start a new cell in a CSV. Either locale's separator, whatever this file's
# is (a Hungarian ";" file opened by a "," reader splits at the commas, and the reverse), and a line end.
CELL_BREAKS = re.compile(r"([,;\r\n])")
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "hh:mm"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# The amounts of a line, in the order of their columns.
LINE_AMOUNTS = ("value_cents", "commission_cents", "to_partner_cents", "to_institution_cents")


def _starts_formula(text: str) -> bool:
    """Whether a cell of this text would be read as a formula (also after blanks or an opening quote)."""
    return text.startswith(FORMULA_STARTS) or text.lstrip(SKIPPED_LEADERS).startswith(FORMULA_STARTS)


def neutralised(cell):
    """Text that a spreadsheet would run as a formula, prefixed with an apostrophe; numbers stay numbers."""
    if isinstance(cell, str) and _starts_formula(cell):
        return "'" + cell
    return cell


def csv_neutralised(cell):
    """As `neutralised`, and every piece after a "," or ";" or a line end too, so that the text is safe
    whichever separator the reader's spreadsheet splits at: a piece that would start a formula gets an
    apostrophe after its separator ("Dr.,=HYPERLINK(…)" is written "Dr.,'=HYPERLINK(…)")."""
    cell = neutralised(cell)
    if not isinstance(cell, str):
        return cell
    pieces = CELL_BREAKS.split(cell)  # text, separator, text, separator, …
    for index in range(2, len(pieces), 2):
        if _starts_formula(pieces[index]):
            pieces[index] = "'" + pieces[index]
    return "".join(pieces)


def _safe(row: list) -> list:
    return [neutralised(cell) for cell in row]


def commission_rule(row: StatementRow) -> str:
    """The rule captured on the booking, as the statement shows it."""
    if row.commission_percent is not None:
        return f"{row.commission_percent} %"
    if row.commission_fixed is not None:
        return _("fixed %(amount)s") % {"amount": row.commission_fixed}
    return "—"


def headers() -> list[str]:
    return [
        _("Booking"),
        _("Entry"),
        _("Date"),
        _("Time"),
        _("Location"),
        _("Physician"),
        _("Service"),
        _("Status"),
        _("Patient pays"),
        _("Price"),
        _("Commission rule"),
        _("Value"),
        _("Commission"),
        _("Institution owes partner"),
        _("Partner owes institution"),
    ]


AMOUNT_COLUMNS = (10, 12, 13, 14, 15)  # 1-based: price and the line amounts
DATE_COLUMN, TIME_COLUMN = 3, 4


def _line(row: StatementRow, tz: ZoneInfo) -> list:
    starts = row.starts_at.astimezone(tz)
    return [
        row.booking_id,
        row.kind_display,
        starts.date(),
        starts.time().replace(second=0, microsecond=0, tzinfo=None),
        row.location,
        row.physician,
        row.service,
        row.status_display,
        row.payment_location,
        row.price,
        commission_rule(row),
        *(money(getattr(row, name)) for name in LINE_AMOUNTS),
    ]


def unsettled_headers() -> list[str]:
    return [
        _("Booking"),
        _("Why not settled"),
        _("Date"),
        _("Time"),
        _("Location"),
        _("Physician"),
        _("Service"),
        _("Status"),
        _("Payment"),
        _("Price"),
    ]


def _unsettled_line(row: StatementRow, tz: ZoneInfo) -> list:
    starts = row.starts_at.astimezone(tz)
    return [
        row.booking_id,
        row.unsettled_reason,
        starts.date(),
        starts.time().replace(second=0, microsecond=0, tzinfo=None),
        row.location,
        row.physician,
        row.service,
        row.status_display,
        row.payment_display,
        row.price,
    ]


def statement_table(statement: Statement) -> dict:
    """The parts of the document: preamble, headers, lines (bookings, then adjustments), the totals line,
    the summary (both ways and the net in words) and the bookings not settled."""
    tz = ZoneInfo(statement.period.time_zone)
    figures = statement.figures
    lines = [_line(row, tz) for row in [*statement.rows, *statement.adjustments]]
    total = [
        _("Total"),
        figures.bookings,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        figures.value,
        figures.commission,
        figures.to_partner,
        figures.to_institution,
    ]
    summary = [
        [_("Held bookings"), figures.bookings],
        [_("Adjustments"), figures.adjustments],
        [_("Institution owes partner"), figures.to_partner],
        [_("Partner owes institution"), figures.to_institution],
        [_("Net"), figures.net, statement.direction_text],
    ]
    unsettled = [_unsettled_line(row, tz) for row in statement.unsettled]
    return {
        "preamble": _preamble(statement),
        "headers": headers(),
        "lines": lines,
        "total": total,
        "summary": summary,
        "unsettled": unsettled,
    }


def _preamble(statement: Statement) -> list[list]:
    closing = statement.closing
    state: list[str | int]
    if closing is None:
        state = [_("Statement"), _("Open: not closed")]
    else:
        state = [
            _("Statement number"),
            closing.number,
            _("closed %(when)s") % {"when": when(closing.closed_at, closing.time_zone)},
        ]
    return [
        [_("Commission statement")],
        state,
        [_("Institution"), statement.institution.name],
        [_("Partner"), statement.partner.name],
        [_("Period"), statement.period.date_from, statement.period.date_until],
        [_("Time zone"), statement.period.time_zone, _("Currency"), statement.currency],
    ]


def statement_filename(statement: Statement, extension: str) -> str:
    parts = ["statement"]
    if statement.closing is not None:
        parts.append(str(statement.closing.number))
    parts += [
        slugify(statement.partner.name),
        slugify(statement.institution.name),
        statement.period.date_from.isoformat(),
        statement.period.date_until.isoformat(),
    ]
    return "-".join(part for part in parts if part) + f".{extension}"


# Per reader's language: the field separator and the decimal mark its spreadsheets expect.
CSV_CONVENTIONS = {"hu": (";", ","), "en": (",", ".")}


def _csv_cell(cell, decimal_mark: str):
    if isinstance(cell, Decimal):
        return f"{cell:.2f}".replace(".", decimal_mark)
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, time):
        return cell.strftime("%H:%M")
    return cell


def statement_csv(statement: Statement) -> bytes:
    """The statement as UTF-8 CSV (with a byte-order mark, so that spreadsheets read the accents), in the
    reader's conventions: a Hungarian reader's spreadsheet expects ";" between fields and a decimal comma.
    Dates are written year first (2026-10-31), which spreadsheets read as dates in every language."""
    table = statement_table(statement)
    language = (translation.get_language() or "en").split("-")[0]
    delimiter, decimal_mark = CSV_CONVENTIONS.get(language, CSV_CONVENTIONS["en"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)

    def write(row: list) -> None:
        writer.writerow([_csv_cell(csv_neutralised(cell), decimal_mark) for cell in row])

    for line in [*table["preamble"], [], table["headers"], *table["lines"], table["total"], []]:
        write(line)
    for line in table["summary"]:
        write(line)
    if table["unsettled"]:
        write([])
        write([_("Not settled (counted in no total)")])
        write(unsettled_headers())
        for line in table["unsettled"]:
            write(line)
    return buffer.getvalue().encode("utf-8-sig")


def _format_row(sheet, *, amounts=AMOUNT_COLUMNS, bold: bool = False) -> None:
    """Number formats of the last row: dates, times and amounts; bold for headings and totals."""
    for cell in sheet[sheet.max_row]:
        value = cell.value
        if isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        elif isinstance(value, time):
            cell.number_format = TIME_FORMAT
        elif isinstance(value, Decimal) and (cell.column in amounts or not amounts):
            cell.number_format = AMOUNT_FORMAT
        if bold:
            cell.font = Font(bold=True)


def _fit_columns(sheet) -> None:
    """Each column as wide as its longest value (within reason)."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            value = cell.value
            text = f"{value:,.2f}" if isinstance(value, Decimal) else str(value)
            length = 10 if isinstance(value, date | time) else len(text)
            widths[cell.column] = max(widths.get(cell.column, 8), min(length + 2, 48))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


def statement_xlsx(statement: Statement) -> bytes:
    """The statement as an XLSX workbook: dates and times are date cells, amounts numbers with two
    decimals, the header row stays in view (frozen panes) and the columns fit their content."""
    table = statement_table(statement)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Statement")[:31]
    for line in table["preamble"]:
        sheet.append(_safe(line))
        _format_row(sheet, amounts=(), bold=sheet.max_row == 1)
    sheet.append([])
    sheet.append(_safe(table["headers"]))
    _format_row(sheet, bold=True)
    sheet.freeze_panes = f"A{sheet.max_row + 1}"  # a coordinate: a cell would take the next row
    for line in table["lines"]:
        sheet.append(_safe(line))
        _format_row(sheet)
    sheet.append(_safe(table["total"]))
    _format_row(sheet, bold=True)
    sheet.append([])
    for line in table["summary"]:
        sheet.append(_safe(line))
        _format_row(sheet, amounts=(), bold=line is table["summary"][-1])
    if table["unsettled"]:
        sheet.append([])
        sheet.append([_("Not settled (counted in no total)")])
        _format_row(sheet, bold=True)
        sheet.append(_safe(unsettled_headers()))
        _format_row(sheet, bold=True)
        for line in table["unsettled"]:
            sheet.append(_safe(line))
            _format_row(sheet)
    _fit_columns(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
