"""The spreadsheet export: one CSV row per service line, with its claim's identifiers.

`csv_rows(items, loaded)` gives the rows exactly as written (text); `write_csv(items, loaded, path)`
writes them atomically, owner-only. `items` is a list of `(patient_file, claim)` pairs; the columns
and their kinds are `linerows.COLUMNS` (the xlsx export writes the same rows as typed cells).

* Safe to open in a spreadsheet: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading single quote (the OWASP CSV-injection guard), so a patient named
  ``=HYPERLINK(...)`` is shown as text and never runs as a formula. The numeric columns (charges,
  units, totals, NDC quantity) are written by us from Decimals and never need it: `balance`
  (charges - paid - adjusted) may be negative, a credit, written as the number it is (-25.00).
* Identifiers keep their leading zeros. A spreadsheet opening a CSV turns ``00409205105`` into the
  number 409205105 (and ``0871622``, ZIP ``02134``, POS ``02`` alike; 16+ digits are rounded,
  ``1-2`` becomes a date). An identifier cell a spreadsheet would change that way is written as
  ``="00409205105"``: Excel opening the file and Google Sheets evaluate it to the text
  00409205105; LibreOffice Calc does when "Evaluate formulas" is ticked in its Text Import dialog
  (it is off by default, and the cell then shows ``="00409205105"`` itself, zeros intact). It is
  the only formula we write, and only around digits, letters and ``-./% `` (nothing that can end
  the string). The alternatives are worse: a leading apostrophe is an entry-time prefix, shown as a
  literal ``'`` in a CSV; a leading tab stays in the cell and travels into whatever the clerk
  pastes the ID into (a payer's portal). A program reading the CSV gets the value back with
  `unwrap`; the XLSX export holds identifiers as text cells and needs no convention at all.
* UTF-8 with a byte-order mark and CRLF line ends (RFC 4180): Excel only reads a CSV as UTF-8 when
  it starts with the BOM (without it, accented names come out garbled); LibreOffice, Google
  Sheets, Python's ``utf-8-sig`` and pandas all accept it.
* Money has two decimals without a currency sign or thousands separators; dates are ISO
  YYYY-MM-DD; lists (diagnoses, modifiers) are space-separated; pointers are letters A-L as on
  the CMS-1500.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from superbill.engine.claims import money, quantity_text
from superbill.exports.linerows import COLUMNS, FIELDS, line_records

__all__ = ["FIELDS", "csv_rows", "csv_text", "guard", "unwrap", "write_csv"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
# Text a spreadsheet reads as something else: a number that loses its leading zeros or digits past
# the 15th, a number in scientific notation, a date, a percentage, a truth value.
_MISREAD = re.compile(
    r"0\d+|\d{16,}"
    r"|\d+(?:\.\d+)?e[+-]?\d+"
    r"|\d{1,4}[-/.]\d{1,4}(?:[-/.]\d{1,4})?"
    rf"|{_MONTH}[- /]?\d{{1,4}}|\d{{1,2}}[- /]{_MONTH}"
    r"|\d+(?:\.\d+)?%"
    r"|true|false",
    re.IGNORECASE,
)
_WRAPPED = re.compile(r'="([0-9A-Za-z ./%-]*)"')


def guard(value) -> str:
    """A cell's text, with a leading ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def identifier_cell(value) -> str:
    """An identifier's text, written as ="..." when a spreadsheet would otherwise change it."""
    text = "" if value is None else str(value)
    if _MISREAD.fullmatch(text):
        return f'="{text}"'
    return guard(text)


def unwrap(cell: str) -> str:
    """The identifier in a cell as written by `identifier_cell` (for programs reading the CSV)."""
    match = _WRAPPED.fullmatch(cell)
    return match.group(1) if match else cell


def _text(kind: str, value) -> str:
    if value is None:
        return ""
    if kind == "id":
        return identifier_cell(value)
    if kind == "money":
        return money(value)
    if kind == "quantity":
        return quantity_text(value) or ""
    if kind == "date":
        return value.isoformat()
    if kind == "int":
        return str(value)
    return guard(value)


def csv_rows(items, loaded, x12_claims=None) -> list[dict]:
    """One dict per service line, keyed by FIELDS, every value the text written to the CSV.

    `x12_claims` maps the claims of this run's 837P to its ISA13 (the isa13 and clm01 columns)."""
    return [{name: _text(kind, record[name]) for name, kind in COLUMNS}
            for record in line_records(items, loaded, x12_claims)]


def csv_text(items, loaded, x12_claims=None) -> str:
    """The CSV document (without the byte-order mark)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(csv_rows(items, loaded, x12_claims))
    return buffer.getvalue()


def write_csv(items, loaded, out_path, x12_claims=None) -> Path:
    """Write the CSV atomically, owner-only, as UTF-8 with a BOM so Excel reads accents right."""
    from superbill.outfiles import write_atomic

    return write_atomic(Path(out_path), csv_text(items, loaded, x12_claims).encode("utf-8-sig"))
