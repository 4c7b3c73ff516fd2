"""Reading a batch's spreadsheet: CSV (encoding and delimiter detected) or XLSX (values, not formulas).

Limits: at most :data:`MAX_ROWS` data rows and :data:`MAX_CELL_CHARS` characters per cell; a
file of at most :data:`MAX_FILE_BYTES` bytes. Every cell is read as text (``"007"`` stays
``"007"``); empty cells are ``""``. Problems raise :class:`SpreadsheetError` with one sentence
that says what to change; nothing is kept from a refused file.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

import pandas as pd

MAX_ROWS = 10_000
MAX_CELL_CHARS = 20_000
MAX_FILE_BYTES = 20 * 1024 * 1024
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


class SpreadsheetError(ValueError):
    """The file cannot be used as a batch; the message says why and what to do.

    ``sheet_names``: the workbook's sheets when the problem is that one must be chosen, else ``[]``.
    """

    def __init__(self, message: str, sheet_names: list[str] | None = None) -> None:
        super().__init__(message)
        self.sheet_names = sheet_names or []


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet read as text.

    Attributes:
        frame: one row per data row, one column per header, every value a ``str``.
        encoding, delimiter: what was used for a CSV (``None`` for XLSX).
        sheet_names: an XLSX's sheets (``[]`` for CSV); ``sheet`` the one read.
        warnings: things worth knowing that do not stop the batch (one sentence each).
    """

    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    sheet_names: list[str] = field(default_factory=list)
    sheet: str | None = None
    warnings: list[str] = field(default_factory=list)


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise SpreadsheetError("This file is not a text CSV (it holds binary data); export it as CSV or XLSX.")
    for name in (encoding,) if encoding else ENCODINGS:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    raise SpreadsheetError(f"The file cannot be read as {encoding}; choose another encoding.")


def detect_delimiter(text: str) -> str:
    """The most likely of ``,`` ``;`` and tab, from the first lines (``,`` when unsure)."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count) if first else ","


def _check(frame: pd.DataFrame, header: list[str]) -> pd.DataFrame:
    names = [str(h).strip() for h in header]
    if not names or all(not n for n in names):
        raise SpreadsheetError("The file is empty; the first row must name the columns.")
    if any(not n for n in names):
        raise SpreadsheetError(f"Column {names.index('') + 1} has no name in the first row; name every column.")
    seen: set[str] = set()
    for name in names:
        if name.casefold() in seen:
            raise SpreadsheetError(f"The column {name} appears twice; column names must be unique.")
        seen.add(name.casefold())
    frame.columns = names
    frame = frame.fillna("").astype(str)
    frame = frame[~(frame.apply(lambda col: col.str.strip()) == "").all(axis=1)].reset_index(drop=True)
    if frame.empty:
        raise SpreadsheetError("The file has a header but no rows; add one row per reel.")
    if len(frame) > MAX_ROWS:
        raise SpreadsheetError(f"The file has {len(frame):,} rows; a batch takes at most {MAX_ROWS:,}. "
                               "Split it into several batches.")
    lengths = frame.apply(lambda col: col.str.len()).to_numpy()
    if lengths.size and lengths.max() > MAX_CELL_CHARS:
        row, col = divmod(int(lengths.argmax()), lengths.shape[1])
        raise SpreadsheetError(f"Row {row + 1}, column {names[col]} has {int(lengths.max()):,} characters; "
                               f"a cell may have at most {MAX_CELL_CHARS:,}.")
    return frame


def read_csv(data: bytes, *, encoding: str | None = None, delimiter: str | None = None) -> Sheet:
    """A CSV as text: encoding tried in :data:`ENCODINGS` order (UTF-8 with or without BOM, then
    Windows-1252, then Latin-1) unless given; delimiter sniffed unless given.

    Raises:
        SpreadsheetError: binary content, undecodable text, no header, duplicate or empty column
            names, no rows, over :data:`MAX_ROWS` rows, an over-long cell, malformed quoting.
    """
    _check_size(data)
    text, used = _decode(data, encoding)
    if not text.strip():
        raise SpreadsheetError("The file is empty; the first row must name the columns.")
    sep = delimiter or detect_delimiter(text)
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=None,
                          skip_blank_lines=True, engine="python")
    except (pd.errors.ParserError, csv.Error) as exc:
        raise SpreadsheetError(f"The file is not a well-formed CSV ({str(exc).splitlines()[0]}); check the "
                               "delimiter and quotes.") from None
    header, body = list(raw.iloc[0]), raw.iloc[1:].reset_index(drop=True)
    return Sheet(_check(body, header), encoding=used, delimiter=sep)


def read_xlsx(data: bytes, *, sheet: str | None = None) -> Sheet:
    """An XLSX as text: the values Excel last computed (never the formulas), from ``sheet`` or the only sheet.

    Raises:
        SpreadsheetError: not an XLSX, several sheets and none chosen (the message lists them), or any
            of :func:`read_csv`'s content problems.
    """
    from openpyxl import load_workbook

    _check_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise SpreadsheetError("This file is not a readable XLSX workbook; save it again as .xlsx or CSV.") from None
    names = list(book.sheetnames)
    if sheet is None and len(names) > 1:
        raise SpreadsheetError(f"The workbook has {len(names)} sheets ({', '.join(names)}); choose one.", names)
    chosen = sheet or names[0]
    if chosen not in names:
        raise SpreadsheetError(f"The workbook has no sheet named {chosen}.")
    rows = [["" if v is None else str(v) for v in row]
            for row in book[chosen].iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    book.close()
    if not rows:
        raise SpreadsheetError("The sheet is empty; the first row must name the columns.")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    header = rows[0]
    while header and not str(header[-1]).strip():  # trailing unnamed, empty columns
        header = header[:-1]
    body = pd.DataFrame([r[: len(header)] for r in rows[1:]], columns=range(len(header)), dtype=str)
    return Sheet(_check(body, header), sheet_names=names, sheet=chosen)


def _check_size(data: bytes) -> None:
    if not data:
        raise SpreadsheetError("The file is empty; the first row must name the columns.")
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(f"The file is {len(data) / 1e6:.1f} MB; a batch file may be at most "
                               f"{MAX_FILE_BYTES / 1e6:.0f} MB.")


def read_sheet(data: bytes, file_name: str, *, encoding: str | None = None, delimiter: str | None = None,
               sheet: str | None = None) -> Sheet:
    """:func:`read_xlsx` for ``.xlsx`` files (or any ZIP-based upload), :func:`read_csv` otherwise."""
    if file_name.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data, sheet=sheet)
    return read_csv(data, encoding=encoding, delimiter=delimiter)


#: First characters that make a spreadsheet program read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet program (:func:`safe_cell` on every text cell)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe_cell).astype(object)
    out.columns = [str(safe_cell(str(c))) for c in out.columns]
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads accents) of :func:`export_frame`."""
    return export_frame(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "Results") -> bytes:
    """An XLSX workbook of :func:`export_frame` (text cells stay text, never formulas)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    safe = export_frame(frame)
    ws.append(list(safe.columns))
    for row in safe.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
