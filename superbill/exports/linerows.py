"""The spreadsheet rows: one per service line, with its claim's identifiers, as typed values.

The CSV (`csvexport`) and the workbook (`xlsx`) write the same rows; each column has a kind that
says how a spreadsheet must hold it:

* ``id`` — an identifier (NDC, payer ID, member ID, group, ZIP, NPI, POS, ISA13): text always, even
  when it is all digits, because a number drops leading zeros (NDC 00409205105, payer 00621) and
  rounds past 15 digits;
* ``text`` — names, descriptions, lists (diagnoses, modifiers, pointer letters);
* ``money`` — a Decimal with two places (the balance alone may be negative: a credit); ``int`` — units, line numbers; ``quantity`` — the NDC
  quantity (up to three decimals); ``date`` — a `datetime.date`.

`line_records(items, loaded, x12_claims)` gives the rows; `items` is a list of `(patient_file,
claim)` pairs and `x12_claims` maps the claim id of every claim sent in this run's 837P to the
interchange control number (ISA13), so a row can be matched to its claim in the 837P (CLM01 is the
claim id; both are blank for a claim that was not in an 837P).
"""

from __future__ import annotations

from collections.abc import Mapping

COLUMNS: tuple[tuple[str, str], ...] = (
    ("claim_id", "text"),
    ("patient_id", "id"),
    ("patient_last_name", "text"),
    ("patient_first_name", "text"),
    ("dob", "date"),
    ("member_id", "id"),
    ("payer_name", "text"),
    ("payer_id", "id"),
    ("date_of_service", "date"),
    ("place_of_service", "id"),
    ("provider_npi", "id"),
    ("billing_npi", "id"),
    ("diagnoses", "text"),
    ("line", "int"),
    ("code", "id"),
    ("modifiers", "text"),
    ("units", "int"),
    ("charge", "money"),
    ("pointers", "text"),
    ("ndc", "id"),
    ("ndc_quantity", "quantity"),
    ("ndc_unit", "text"),
    ("description", "text"),
    ("total_charge", "money"),
    ("amount_paid", "money"),
    ("amount_adjusted", "money"),
    ("balance", "money"),  # charges - paid - adjusted; below zero, a credit (a negative number)
    # Added for the billing clerk (issue 17): appended, so the columns above keep their places.
    ("rendering_provider", "text"),
    ("group_number", "id"),
    ("subscriber_relationship", "text"),
    ("subscriber_last_name", "text"),
    ("subscriber_first_name", "text"),
    ("patient_zip", "id"),
    ("isa13", "id"),
    ("clm01", "text"),
)

FIELDS = tuple(name for name, _ in COLUMNS)
KINDS = dict(COLUMNS)
LETTERS = "ABCDEFGHIJKL"


def pointer_letters(pointers) -> str:
    return "".join(LETTERS[p - 1] for p in pointers if 1 <= p <= len(LETTERS))


def _claim_cells(patient_file, claim, billing_npi: str, isa13: str | None) -> dict:
    patient = patient_file.patient
    insurance = patient_file.insurance
    subscriber = insurance.subscriber
    return {
        "claim_id": claim.claim_id,
        "patient_id": claim.patient_id,
        "patient_last_name": patient.last_name,
        "patient_first_name": patient.first_name,
        "dob": patient.dob,
        "member_id": insurance.member_id,
        "payer_name": insurance.payer_name,
        "payer_id": insurance.payer_id,
        "date_of_service": claim.date_of_service,
        "place_of_service": claim.place_of_service,
        "provider_npi": claim.provider_npi,
        "billing_npi": billing_npi,
        "diagnoses": " ".join(claim.diagnoses),
        "total_charge": claim.total_charge,
        "amount_paid": claim.amount_paid,
        "amount_adjusted": claim.amount_adjusted,
        "balance": claim.balance,  # charges - payments - adjustments
        "rendering_provider": claim.provider.display_name if claim.provider is not None else None,
        "group_number": insurance.group_number,
        "subscriber_relationship": subscriber.relationship if subscriber is not None else "self",
        "subscriber_last_name": (subscriber or patient).last_name,
        "subscriber_first_name": (subscriber or patient).first_name,
        "patient_zip": patient.address.zip,
        "isa13": isa13,
        "clm01": claim.claim_id if isa13 else None,
    }


def line_records(items, loaded, x12_claims: Mapping[str, str] | None = None) -> list[dict]:
    """One dict per service line, keyed by FIELDS, each value typed as its column's kind (None when empty)."""
    billing_npi = loaded.clinic.practice.npi
    x12_claims = x12_claims or {}
    rows = []
    for patient_file, claim in items:
        cells = _claim_cells(patient_file, claim, billing_npi, x12_claims.get(claim.claim_id))
        for number, line in enumerate(claim.lines, start=1):
            row = dict(cells)
            row.update({
                "line": number,
                "code": line.code,
                "modifiers": " ".join(line.modifiers) or None,
                "units": line.units,
                "charge": line.charge,
                "pointers": pointer_letters(line.pointers) or None,
                "ndc": line.ndc or None,
                "ndc_quantity": line.ndc_quantity,
                "ndc_unit": (line.ndc_unit or None) if line.ndc else None,
                "description": line.description or None,
            })
            rows.append({key: row[key] for key in FIELDS})
    return rows
