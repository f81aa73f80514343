"""Export of a list as CSV or XLSX: one function, ``export_response``, for every page.

The caller passes what its page shows (column headers and rows of plain values); this module
only writes the file. CSV is written the way Danish Excel opens it with a double click: UTF-8
with a byte-order mark, ``;`` between fields, dates as dd.mm.yyyy and a decimal comma. XLSX
(openpyxl) has a bold header row, real dates with the number format dd.mm.yyyy, and numbers as
numbers.

Text that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) is written as text: in CSV behind an apostrophe (OWASP's advice
against CSV injection), in XLSX as a string cell.
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DATE_FORMAT = "dd.mm.yyyy"
DATETIME_FORMAT = "dd.mm.yyyy hh:mm"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def export_response(filename: str, headers: Sequence, rows: Iterable[Sequence],
                    fmt: str) -> HttpResponse:
    """An attachment ``<filename>.<fmt>`` holding ``headers`` and then ``rows``.

    ``fmt`` is ``"csv"`` or ``"xlsx"``; anything else is a ``ValueError`` (views check the
    query parameter against ``FORMATS`` first and answer 400). Cells may be ``None``, text
    (lazy translations included), ``int``, ``float``, ``Decimal``, ``bool``, ``date`` or
    ``datetime`` (aware datetimes are written in the current time zone).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {FORMATS}")
    content = _csv(headers, rows) if fmt == CSV else _xlsx(headers, rows, title=filename)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{filename}.{fmt}")
    return response


def _local(value: datetime.datetime) -> datetime.datetime:
    """A naive local datetime: spreadsheets have no time zones."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


def _is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_STARTS)


def csv_cell(value) -> str:
    """One value as Danish Excel reads it from a CSV file."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        return _local(value).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    text = str(value)
    return "'" + text if _is_formula_like(text) else text


def _csv(headers: Sequence, rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_cell(header) for header in headers])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value, *, bold: bool = False):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if isinstance(value, datetime.datetime):
        cell = WriteOnlyCell(sheet, value=_local(value))
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
    elif value is None or isinstance(value, bool | int | float | Decimal):
        cell = WriteOnlyCell(sheet, value=value)
    else:
        text = str(value)
        cell = WriteOnlyCell(sheet, value=text)
        if _is_formula_like(text):
            cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    if bold:
        cell.font = Font(bold=True)
    return cell


def _sheet_title(text: str) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("-" if char in "[]:*?/\\" else char for char in text).strip("'")
    return cleaned[:31] or "Sheet"


def _xlsx(headers: Sequence, rows: Iterable[Sequence], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(str(header)) + 2)
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, header, bold=True) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
