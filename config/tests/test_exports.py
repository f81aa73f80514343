"""config.exports: a list as CSV for Danish Excel and as XLSX, read back as a user's program
would read them."""

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from config.exports import export_response

HEADERS = ["Afdeling", "Frist", "Sager", "Besparelse", "Bemærkning"]
ROWS = [
    ["Afd. 1 Æblehaven", datetime.date(2026, 6, 30), 3, Decimal("1250.50"), None],
    ["Afd. 2 Søbakken; øst", datetime.date(2026, 12, 15), 0, 2.5, "=HYPERLINK(\"x\")"],
]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:]), delimiter=";"))


def test_csv_is_utf8_with_a_bom_semicolons_danish_dates_and_decimal_commas():
    response = export_response("opfølgninger", HEADERS, ROWS, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    assert response.content.decode("utf-8")[1:].startswith("Afdeling;Frist;")
    assert read_csv(response) == [
        HEADERS,
        ["Afd. 1 Æblehaven", "30.06.2026", "3", "1250,50", ""],
        # The semicolon inside a name is quoted; a formula is written as text.
        ["Afd. 2 Søbakken; øst", "15.12.2026", "0", "2,5", "'=HYPERLINK(\"x\")"],
    ]


def test_csv_writes_aware_times_in_copenhagen_time():
    at = datetime.datetime(2026, 3, 2, 8, 30, tzinfo=datetime.UTC)
    response = export_response("log", ["Tid"], [[at]], "csv")
    assert read_csv(response)[1] == ["02.03.2026 09:30"]


def test_xlsx_has_a_bold_header_real_dates_and_numbers():
    response = export_response("opfølgninger", HEADERS, ROWS, "xlsx")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert all(cell.font.b for cell in sheet[1])
    assert not any(cell.font.b for cell in sheet[2])
    due = sheet["B2"]
    assert due.is_date and due.value.date() == datetime.date(2026, 6, 30)
    assert due.number_format == "dd.mm.yyyy"
    assert (sheet["C2"].value, sheet["D2"].value, sheet["E2"].value) == (3, 1250.5, None)
    # Text that looks like a formula stays text.
    assert sheet["E3"].value == "=HYPERLINK(\"x\")" and sheet["E3"].data_type == "s"
    assert sheet.title == "opfølgninger"


def test_xlsx_writes_aware_times_as_local_times():
    at = datetime.datetime(2026, 7, 1, 6, 0, tzinfo=datetime.UTC)
    sheet = load_workbook(io.BytesIO(export_response("log", ["Tid"], [[at]], "xlsx").content)
                          ).active
    assert sheet["A2"].value == at.astimezone(ZoneInfo("Europe/Copenhagen")).replace(
        tzinfo=None)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_file_is_an_attachment_named_for_the_list(fmt):
    response = export_response("opfølgninger-2026", HEADERS, [], fmt)
    assert response["Content-Disposition"] == (
        f"attachment; filename*=utf-8''opf%C3%B8lgninger-2026.{fmt}")


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        export_response("liste", HEADERS, ROWS, "pdf")
