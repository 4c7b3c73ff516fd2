"""Batch spreadsheets: encodings, delimiters, XLSX values, limits, and safe exports."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from core.reels.spreadsheet import (
    MAX_ROWS,
    SpreadsheetError,
    read_csv,
    read_sheet,
    read_xlsx,
    to_csv_bytes,
    to_xlsx_bytes,
)

ROWS = [["first_name", "team"], ["Lucía", "Ventas"], ["Zoë", "Soporte"]]


def _csv(rows, sep=",", encoding="utf-8") -> bytes:
    return "\n".join(sep.join(r) for r in rows).encode(encoding)


@pytest.mark.parametrize("encoding,expected", [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"),
                                               ("cp1252", "cp1252")])
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_encodings_and_delimiters_are_detected(encoding, expected, sep) -> None:
    sheet = read_csv(_csv(ROWS, sep, encoding))
    assert sheet.encoding == expected and sheet.delimiter == sep
    assert sheet.frame.to_dict(orient="records") == [{"first_name": "Lucía", "team": "Ventas"},
                                                     {"first_name": "Zoë", "team": "Soporte"}]


def test_the_user_can_correct_encoding_and_delimiter() -> None:
    data = _csv(ROWS, ";", "cp1252")
    sheet = read_csv(data, encoding="latin-1", delimiter=";")
    assert sheet.frame["first_name"].tolist() == ["Lucía", "Zoë"]
    wrong = read_csv(data, delimiter=",")
    assert list(wrong.frame.columns) == ["first_name;team"]


def test_cells_stay_text() -> None:
    sheet = read_csv(b"code,amount\n007,1.50\n")
    assert sheet.frame.iloc[0].tolist() == ["007", "1.50"]


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_values_not_formulas_and_several_sheets_ask_which() -> None:
    data = _xlsx({"People": [["first_name", "n"], ["Ana", "=1+1"]], "Other": [["x"], ["y"]]})
    with pytest.raises(SpreadsheetError, match=r"2 sheets \(People, Other\); choose one"):
        read_xlsx(data)
    sheet = read_sheet(data, "people.xlsx", sheet="People")
    # openpyxl writes no cached value for a formula: the cell reads as empty, never as "=1+1"
    assert sheet.frame.iloc[0].tolist() == ["Ana", ""] and sheet.sheet_names == ["People", "Other"]


@pytest.mark.parametrize("data,message", [
    (b"", "The file is empty"),
    (b"first_name,team\n", "a header but no rows"),
    (b"name,Name\nA,B\n", "The column Name appears twice"),
    (b"name,\nA,B\n", "Column 2 has no name"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text CSV"),
])
def test_bad_files_are_refused_with_a_reason(data, message) -> None:
    with pytest.raises(SpreadsheetError, match=message):
        read_sheet(data, "rows.csv")


def test_too_many_rows_and_too_long_cells_are_refused() -> None:
    rows = "n\n" + "\n".join(str(i) for i in range(MAX_ROWS + 1))
    with pytest.raises(SpreadsheetError, match="10,001 rows; a batch takes at most 10,000"):
        read_csv(rows.encode())
    read_csv(("n\n" + "\n".join(str(i) for i in range(MAX_ROWS))).encode())  # exactly the limit is fine
    with pytest.raises(SpreadsheetError, match=r"Row 1, column note has 100,000 characters"):
        read_csv(b"name,note\nA," + b"x" * 100_000 + b"\n")


def test_a_renamed_binary_is_not_read_as_xlsx() -> None:
    with pytest.raises(SpreadsheetError, match="not a readable XLSX"):
        read_sheet(b"PK\x03\x04garbage", "rows.xlsx")


def test_exports_escape_formula_injection() -> None:
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)", "Ana"], "n": [1, 2, 3, 4, 5]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+1" in text and "'-2" in text and "'@SUM" in text and "\nAna," in text
    book = load_workbook(io.BytesIO(to_xlsx_bytes(frame)))
    cells = [c.value for c in book["Results"]["A"]][1:]
    assert cells == ["'=HYPERLINK(\"http://evil\")", "'+1", "'-2", "'@SUM(A1)", "Ana"]
    assert all(c.data_type != "f" for row in book["Results"].iter_rows() for c in row)
