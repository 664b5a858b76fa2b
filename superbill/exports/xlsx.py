"""The workbook export: the CSV's rows (`linerows`) as an .xlsx a billing clerk can sort and sum.

Each cell holds its column's kind, not text that a spreadsheet has to guess at:

* identifiers (NDC, payer ID, member ID, group, ZIP, NPI, POS, ISA13, code) are text cells with
  the Text number format, so 00409205105 keeps its zeros and stays text when edited;
* money is a number shown with two decimals (a charge of 475.00 is the number 475), units and line
  numbers are whole numbers, the NDC quantity a number, dates real dates shown YYYY-MM-DD;
* names and descriptions are text cells: a value starting with ``=`` is stored as a string, never
  as a formula (unlike a CSV, a workbook says what each cell is, so no quote guard is needed).

The header row is bold, frozen, filterable and repeated on printed pages; each column is as wide
as its longest value (within 8 and 60 characters). Written with openpyxl's write-only mode, which
streams rows instead of holding the sheet in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from superbill.engine.claims import money, quantity_text
from superbill.exports.linerows import COLUMNS, line_records

SHEET = "claims"
NUMBER_FORMATS = {"id": "@", "text": "@", "money": "#,##0.00", "int": "0", "quantity": "0.###",
                  "date": "yyyy-mm-dd"}
MIN_WIDTH, MAX_WIDTH = 8, 60


def _shown(kind: str, value) -> str:
    """About what the cell shows: for the column width."""
    if value is None:
        return ""
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "quantity":
        return quantity_text(value) or ""
    if kind == "date":
        return value.isoformat()
    return str(value)


def column_widths(records: list[dict]) -> list[float]:
    widths = []
    for name, kind in COLUMNS:
        longest = max([len(name)] + [max(map(len, _shown(kind, r[name]).splitlines() or [""])) for r in records])
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))))
    return widths


def _cell(sheet, kind: str, value):
    from openpyxl.cell import WriteOnlyCell

    if value is None or (kind in ("text", "int") and not (isinstance(value, str) and value.startswith("="))):
        return value  # a plain string or whole number is written as itself (and quickly)
    if kind == "money":
        value = Decimal(money(value))  # exactly the cents the claim says, as a number
    cell = WriteOnlyCell(sheet, value=value)
    if kind in ("id", "text"):
        cell.data_type = "s"  # a string, even when it starts with "=": never a formula
    cell.number_format = NUMBER_FORMATS[kind]
    return cell


def workbook_bytes(items, loaded, x12_claims=None, *, created: dt.datetime | None = None) -> bytes:
    """The .xlsx document: one sheet, one row per service line."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    records = line_records(items, loaded, x12_claims)
    book = Workbook(write_only=True)
    book.properties.creator = "superbill"
    if created is not None:
        book.properties.created = created
    sheet = book.create_sheet(SHEET)
    for index, width in enumerate(column_widths(records), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    last = get_column_letter(len(COLUMNS))
    sheet.auto_filter.ref = f"A1:{last}{len(records) + 1}"
    bold = Font(bold=True)
    header = []
    for name, _ in COLUMNS:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for record in records:
        sheet.append([_cell(sheet, kind, record[name]) for name, kind in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_xlsx(items, loaded, out_path, x12_claims=None) -> Path:
    """Write the workbook atomically, owner-only."""
    from superbill.outfiles import write_atomic

    return write_atomic(Path(out_path), workbook_bytes(items, loaded, x12_claims))
