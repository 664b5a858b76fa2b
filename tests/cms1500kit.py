"""CMS-1500 tests: reading the form back at its place on the form's own grid, and the test clinic.

The grid is the form's own (not superbill's table read back): 10 characters per inch and 6 lines
per inch; the top thick rule, where line 7 starts, 1.33 in below the top edge of the page; column 1
at 0.30 in (OpenEMR's Hcfa1500.php grid, Medplum's overlay). `cell(page, line, col, width)` reads
the black data characters printed in that box, so every check says where on the form a value landed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import yaml
from helpers import edit_yaml

from superbill.engine.process import process_patient
from superbill.inputs.starter import write_starter

TODAY = dt.date(2026, 11, 20)
TOP_RULE = 1.3333  # inches from the top edge: the form's top thick rule, where grid line 7 starts
X0, Y0 = 0.30, TOP_RULE - 6 / 6  # inches: left of column 1, top of line 1 (10 cpi, 6 lpi)


# ---------------------------------------------------------------- reading the form back


def _is_data(char) -> bool:
    color = char.get("non_stroking_color") or (0,)
    return max(color) < 0.1  # data is black; the form is red and the notes beneath it grey


_DATA_CHARS: dict = {}


def _data_chars(page) -> list[tuple[float, float, str]]:
    key = (id(page.pdf), page.page_number)
    if key not in _DATA_CHARS:
        _DATA_CHARS[key] = sorted(((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2, c["text"])
                                  for c in page.chars if _is_data(c))
    return _DATA_CHARS[key]


def cell(page, line: int, col: int, width: int = 1, shift: float = 0.0, down: float = 0.0) -> str:
    """The data text whose characters sit in columns col..col+width-1 of grid line `line`."""
    left = (X0 + shift + (col - 1) * 0.1) * 72
    right = left + width * 0.1 * 72
    top = (Y0 + down + (line - 1) / 6) * 72
    bottom = top + 72 / 6
    return "".join(t for x, y, t in _data_chars(page) if left <= x <= right and top <= y <= bottom).strip()


def date_at(page, line: int, col: int, year_digits: int = 2) -> str:
    """A date printed in its MM | DD | YY boxes, read box by box and joined with spaces."""
    return " ".join((cell(page, line, col, 2), cell(page, line, col + 3, 2), cell(page, line, col + 6, year_digits)))


def amount(page, line: int, dollars_end: int) -> Decimal:
    """A split amount (24F, 28, 29): dollars right-aligned ending at a column, cents two columns on."""
    dollars = cell(page, line, dollars_end - 4, 5)
    cents = cell(page, line, dollars_end + 2, 2)
    assert dollars.isdigit() and len(cents) == 2 and cents.isdigit(), (dollars, cents)
    return Decimal(f"{dollars}.{cents}")


def service_line(page, n: int) -> dict:
    """Service line n (1-6) of item 24: shaded supplemental line s, the line itself on s + 1."""
    s = 43 + 2 * (n - 1)
    return {
        "supplemental": cell(page, s, 1, 62),
        "from": date_at(page, s + 1, 1),
        "to": date_at(page, s + 1, 10),
        "pos": cell(page, s + 1, 19, 2),
        "code": cell(page, s + 1, 25, 7),
        "modifiers": [m for m in (cell(page, s + 1, 33 + 3 * i, 2) for i in range(4)) if m],
        "pointers": cell(page, s + 1, 45, 4),
        "charge": amount(page, s + 1, 54) if cell(page, s + 1, 50, 8) else None,
        "units": cell(page, s + 1, 59, 3),
        "npi": cell(page, s + 1, 68, 13),
    }


def page_lines(page) -> list[dict]:
    return [line for line in (service_line(page, n) for n in range(1, 7)) if line["code"]]



# ---------------------------------------------------------------- the clinic


def write_clinic(folder: Path) -> Path:
    """The starter clinic with five more drugs, an eleven-line session and a spouse's claim (P0002)."""
    write_starter(folder)

    def more_drugs(clinic):
        clinic["fees"].update({"J1885": 12.50, "J1100": 1.25, "J1200": 9.00, "J3475": 7.00, "J2250": 3.00})
        clinic["medications"].update({
            "ketorolac": {"ndc": "0409-3795-01", "mg_per_ml": 30, "single_dose": False},
            "dexamethasone": {"ndc": "63323-165-01", "mg_per_ml": 4, "single_dose": False},
            "diphenhydramine": {"ndc": "0641-0376-21", "mg_per_ml": 50, "single_dose": False},
            "magnesium": {"ndc": "0409-2168-02", "mg_per_ml": 500, "single_dose": False},
            "midazolam": {"ndc": "0409-2305-17", "mg_per_ml": 1, "single_dose": False},
        })

    edit_yaml(folder / "clinic.yaml", more_drugs)

    def eleven_lines(patient):
        session = dict(patient["sessions"][0])
        session.update({
            "date": "2026-11-05",
            "diagnoses": ["G90.511", "F33.1", "M79.7", "M54.50", "E11.42"],
            "infusion": {"start": "09:00", "end": "11:00"},
            "medications": [
                {"drug": "ketamine", "dose_mg": 70}, {"drug": "ketorolac", "dose_mg": 15},
                {"drug": "dexamethasone", "dose_mg": 4}, {"drug": "diphenhydramine", "dose_mg": 25},
                {"drug": "magnesium", "dose_mg": 1000}, {"drug": "midazolam", "dose_mg": 2},
            ],
            "payments": [{"date": "2026-11-05", "amount": 1050.00, "method": "card"}],
        })
        patient["sessions"].append(session)

    edit_yaml(folder / "patients" / "example.yaml", eleven_lines)

    spouse = yaml.safe_load((folder / "patients" / "example.yaml").read_text(encoding="utf-8"))
    spouse["patient"].update({"id": "P0002", "first_name": "José", "middle_name": "Luis", "last_name": "Núñez",
                              "suffix": "Jr.", "sex": "M", "dob": "1975-06-30"})
    spouse["insurance"].update({
        "filing_indicator": "BL", "member_id": "BCX998877", "group_number": "G-55",
        "payer_name": "Blue Cross & Blue Shield of Illinois, Federal Employee Plan",
        "subscriber": {"relationship": "spouse", "first_name": "Zoë", "last_name": "O'Brien-Núñez",
                       "dob": "1978-02-14", "sex": "F",
                       "address": {"street": "9 Oak Ave., Apt. #4", "city": "Chicago", "state": "IL", "zip": "60601"}},
    })
    spouse["sessions"] = [dict(spouse["sessions"][0], prior_authorization="PA12345", payments=[])]
    (folder / "patients" / "spouse.yaml").write_text(yaml.safe_dump(spouse, allow_unicode=True), encoding="utf-8")
    return folder


def read_claims(folder: Path, loaded) -> dict:
    """The clinic's three claims: "six" lines, "eleven" lines (two pages), "spouse" (a subscriber)."""
    found = {}
    for name in ("example", "spouse"):
        result = process_patient(folder / "patients" / f"{name}.yaml", loaded)
        assert result.ok, [p.line() for p in result.problems]
        for claim in result.claims:
            found[claim.claim_id] = (result.patient_file, claim)
    six, eleven, spouse = found["P0001-20261102"], found["P0001-20261105"], found["P0002-20261102"]
    assert len(six[1].lines) == 6 and len(eleven[1].lines) == 11
    return {"six": six, "eleven": eleven, "spouse": spouse}
