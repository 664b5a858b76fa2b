"""The spreadsheet export: one CSV row per service line, with its claim's identifiers.

`csv_rows(items, loaded)` gives the rows exactly as written (formula-guarded text);
`write_csv(items, loaded, path)` writes them atomically, owner-only. `items` is a list of
`(patient_file, claim)` pairs.

* Safe to open in a spreadsheet: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading single quote (the OWASP CSV-injection guard), so a patient named
  ``=HYPERLINK(...)`` is shown as text and never runs as a formula. The numeric columns (charges,
  units, totals, NDC quantity) are written by us as plain non-negative decimals and never need it;
  `balance` (charges - paid - adjusted) is the one that may be negative, a credit, and is written
  as the number it is (-25.00), unguarded: we made it from a Decimal, no input text reaches it.
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
from pathlib import Path

from superbill.engine.claims import money, quantity_text

FIELDS = (
    "claim_id",
    "patient_id",
    "patient_last_name",
    "patient_first_name",
    "dob",
    "member_id",
    "payer_name",
    "payer_id",
    "date_of_service",
    "place_of_service",
    "provider_npi",
    "billing_npi",
    "diagnoses",
    "line",
    "code",
    "modifiers",
    "units",
    "charge",
    "pointers",
    "ndc",
    "ndc_quantity",
    "ndc_unit",
    "description",
    "total_charge",
    "amount_paid",
    "amount_adjusted",
    "balance",
)

SIGNED_NUMBERS = {"balance"}  # formatted by us from a Decimal: a leading "-" is a minus sign, never a formula
LETTERS = "ABCDEFGHIJKL"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard(value) -> str:
    """A cell's text, with a leading ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _pointers(pointers) -> str:
    return "".join(LETTERS[p - 1] for p in pointers if 1 <= p <= len(LETTERS))


def csv_rows(items, loaded) -> list[dict]:
    """One dict per service line, keyed by FIELDS, every value the text written to the CSV."""
    billing_npi = loaded.clinic.practice.npi
    rows = []
    for patient_file, claim in items:
        patient = patient_file.patient
        insurance = patient_file.insurance
        claim_cells = {
            "claim_id": claim.claim_id,
            "patient_id": claim.patient_id,
            "patient_last_name": patient.last_name,
            "patient_first_name": patient.first_name,
            "dob": patient.dob.isoformat(),
            "member_id": insurance.member_id,
            "payer_name": insurance.payer_name,
            "payer_id": insurance.payer_id,
            "date_of_service": claim.date_of_service.isoformat(),
            "place_of_service": claim.place_of_service,
            "provider_npi": claim.provider_npi,
            "billing_npi": billing_npi,
            "diagnoses": " ".join(claim.diagnoses),
            "total_charge": money(claim.total_charge),
            "amount_paid": money(claim.amount_paid),
            "amount_adjusted": money(claim.amount_adjusted),
            "balance": money(claim.balance),  # charges - paid - adjusted; below zero, a credit
        }
        for number, line in enumerate(claim.lines, start=1):
            row = dict(claim_cells)
            row.update({
                "line": str(number),
                "code": line.code,
                "modifiers": " ".join(line.modifiers),
                "units": str(line.units),
                "charge": money(line.charge) if line.charge is not None else "",
                "pointers": _pointers(line.pointers),
                "ndc": line.ndc or "",
                "ndc_quantity": quantity_text(line.ndc_quantity) or "",
                "ndc_unit": (line.ndc_unit or "") if line.ndc else "",
                "description": line.description or "",
            })
            rows.append({key: row[key] if key in SIGNED_NUMBERS else guard(row[key]) for key in FIELDS})
    return rows


def csv_text(items, loaded) -> str:
    """The CSV document (without the byte-order mark)."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(csv_rows(items, loaded))
    return buffer.getvalue()


def write_csv(items, loaded, out_path) -> Path:
    """Write the CSV atomically, owner-only, as UTF-8 with a BOM so Excel reads accents right."""
    from superbill.outfiles import write_atomic

    return write_atomic(Path(out_path), csv_text(items, loaded).encode("utf-8-sig"))
