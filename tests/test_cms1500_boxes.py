"""CMS-1500 data-only mode on a genuine 02/12 red form: every value inside its box, also when moved.

The boxes are written here by hand from the form's own grid — OpenEMR's Hcfa1500.php print grid
and the NUCC 1500 instructions: 10 characters per inch, 6 lines per inch, grid line 7 at the top
thick rule 1.33 in below the top edge, column 1 at 0.30 in — never read from superbill's table.
A box is (line, first column, last column); every printed character must lie wholly inside one.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pdfplumber
import pytest
from cms1500kit import TODAY, X0, Y0, _is_data, read_claims, write_clinic
from helpers import edit_yaml

from superbill.documents import cms1500
from superbill.inputs.load import load_clinic
from superbill.inputs.models import Address

# item: (line, first column, last column) on the 02/12 form
FORM = {
    "carrier 1": (2, 41, 71), "carrier 2": (3, 41, 71), "carrier 3": (4, 41, 71), "carrier 4": (5, 41, 71),
    "1 group health plan": (8, 31, 31), "1 medicare": (8, 1, 1), "1a": (8, 50, 80),
    "2": (10, 1, 29), "3 MM": (10, 31, 32), "3 DD": (10, 34, 35), "3 YYYY": (10, 37, 40),
    "3 M": (10, 42, 42), "3 F": (10, 47, 47), "4": (10, 50, 80),
    "5 street": (12, 1, 29), "6 self": (12, 33, 33), "6 spouse": (12, 38, 38), "7 street": (12, 50, 80),
    "5 city": (14, 1, 25), "5 state": (14, 26, 29), "7 city": (14, 50, 73), "7 state": (14, 74, 80),
    "5 zip": (16, 1, 13), "5 area code": (16, 15, 17), "5 phone": (16, 19, 29),
    "7 zip": (16, 50, 63), "7 area code": (16, 65, 67), "7 phone": (16, 69, 80),
    "11": (18, 50, 80), "10a NO": (20, 41, 41), "10b NO": (22, 41, 41), "10c NO": (24, 41, 41),
    "11a MM": (20, 53, 54), "11a DD": (20, 56, 57), "11a YYYY": (20, 59, 62), "11a F": (20, 75, 75),
    "11c": (24, 50, 80), "11d NO": (26, 57, 57),
    "12": (30, 7, 32), "13": (30, 56, 80),  # on the SIGNED lines, after the label
    "19": (36, 1, 49), "20 NO": (36, 57, 57), "21 ICD indicator": (37, 42, 42),
    **{f"21 {letter}": (38 + i // 4, 3 + 13 * (i % 4), 10 + 13 * (i % 4)) for i, letter in enumerate("ABCDEFGHIJKL")},
    "22 code": (38, 50, 60), "22 original ref": (38, 62, 80), "23": (40, 50, 80),
    "25": (56, 1, 15), "25 EIN": (56, 19, 19), "26": (56, 23, 37), "27 YES": (56, 38, 38), "27 NO": (56, 43, 43),
    "28 dollars": (56, 51, 56), "28 cents": (56, 58, 59), "29 dollars": (56, 62, 66), "29 cents": (56, 68, 69),
    "31 name": (59, 1, 22), "31 signature": (60, 1, 22), "31 date": (61, 14, 22),
    "32 name": (58, 23, 49), "32 street": (59, 23, 49), "32 city": (60, 23, 49), "32a": (61, 23, 34),
    "33 area code": (57, 66, 68), "33 phone": (57, 70, 80),
    "33 name": (58, 50, 80), "33 street": (59, 50, 80), "33 city": (60, 50, 80), "33a": (61, 50, 62),
}
for n in range(1, 7):  # item 24: the shaded supplemental line s, then the service line
    s = 43 + 2 * (n - 1)
    FORM.update({
        f"24 line {n} supplemental": (s, 1, 62),
        f"24A line {n} from MM": (s + 1, 1, 2), f"24A line {n} from DD": (s + 1, 4, 5),
        f"24A line {n} from YY": (s + 1, 7, 8), f"24A line {n} to MM": (s + 1, 10, 11),
        f"24A line {n} to DD": (s + 1, 13, 14), f"24A line {n} to YY": (s + 1, 16, 17),
        f"24B line {n}": (s + 1, 19, 20), f"24D line {n} code": (s + 1, 25, 31),
        f"24D line {n} modifier 1": (s + 1, 33, 34), f"24D line {n} modifier 2": (s + 1, 36, 37),
        f"24E line {n}": (s + 1, 45, 48), f"24F line {n} dollars": (s + 1, 50, 54), f"24F line {n} cents": (s + 1, 56, 57),
        f"24G line {n}": (s + 1, 59, 61), f"24J line {n}": (s + 1, 68, 80),
    })

TWELVE = ("G90.511", "F33.1", "M79.7", "M54.50", "E11.42", "G89.4", "F41.1", "M54.2", "R52", "G43.909", "F43.10",
          "M25.50")
LEFT, DOWN = 0.1, 2 / 25.4  # inches: the clinic's offset {left: 0.1in, top: 2mm}


def _bounds(box, left=0.0, down=0.0):
    line, first, last = box
    x0 = (X0 + left + (first - 1) * 0.1) * 72
    top = (Y0 + down + (line - 1) / 6) * 72
    return x0, (X0 + left + last * 0.1) * 72, top, top + 12


def _glyph(page, c) -> tuple[float, float, float, float]:
    """A character's extent: its advance across, and Courier's ascender (0.629 em) above its baseline
    and descender (0.157 em) below it (pdfminer's own top/bottom use the font's larger bounding box)."""
    baseline = page.height - c["matrix"][5]
    return c["x0"], c["x1"], baseline - 0.629 * c["size"], baseline + 0.157 * c["size"]


def _inside(glyph, bounds) -> bool:
    (x0, x1, top, bottom), (left, right, box_top, box_bottom) = glyph, bounds
    return x0 >= left - 0.01 and x1 <= right + 0.01 and top >= box_top - 0.01 and bottom <= box_bottom + 0.01


def read(page, item: str, left=0.0, down=0.0) -> str:
    """The characters printed wholly inside an item's box, in reading order."""
    bounds = _bounds(FORM[item], left, down)
    chars = [c for c in page.chars if _is_data(c) and _inside(_glyph(page, c), bounds)]
    return "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"])).strip()


def assert_every_character_in_a_box(page, left=0.0, down=0.0):
    boxes = [_bounds(box, left, down) for box in FORM.values()]
    for c in page.chars:
        assert _is_data(c), c["text"]  # data only: nothing of the form, no note beneath it
        if c["text"] == " ":
            continue  # a space prints nothing (the ones between MM DD YY fall on the form's dividers)
        assert any(_inside(_glyph(page, c), bounds) for bounds in boxes), (c["text"], c["x0"], c["top"])


@pytest.fixture(scope="module")
def clinic_dir(tmp_path_factory):
    return write_clinic(tmp_path_factory.mktemp("clinic"))


@pytest.fixture(scope="module")
def claims(clinic_dir):
    return read_claims(clinic_dir, load_clinic(clinic_dir / "clinic.yaml"))


@pytest.fixture(scope="module")
def full(claims):
    """A claim that fills every item superbill prints: a subscriber, a carrier address, 12 diagnoses,
    six lines with NDCs and an unclassified drug, a prior authorization, a replacement, assignment."""
    patient_file, claim = claims["spouse"]
    insurance = patient_file.insurance.model_copy(update={
        "payer_name": "Blue Cross Blue Shield of IL",
        "payer_address": Address(street="PO Box 805107", street2="Attn Claims", city="Chicago", state="IL",
                                 zip="606805107")})
    lines = claims["eleven"][1].lines[:6]
    claim = dataclasses.replace(claim, diagnoses=TWELVE, lines=lines, total_charge=sum(x.charge for x in lines),
                                prior_authorization="PA-123 45", assigned=True, frequency_code="7",
                                payer_claim_number="2026 1234-56789")
    return patient_file.model_copy(update={"insurance": insurance}), claim


def _data_only(items, clinic_dir, tmp_path, offset=None):
    if offset:
        edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"cms1500": {"offset": offset}}))
    try:
        loaded = load_clinic(clinic_dir / "clinic.yaml")
        path = cms1500.write_cms1500(items, loaded, tmp_path / "forms.pdf", data_only=True, today=TODAY)
    finally:
        if offset:
            edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.pop("cms1500"))
    return pdfplumber.open(path)


def expected(full) -> dict:
    """Every item's text, worked out by hand from the claim and the NUCC rules."""
    _, claim = full
    values = {
        "carrier 1": "BLUE CROSS BLUE SHIELD OF IL", "carrier 2": "PO BOX 805107", "carrier 3": "ATTN CLAIMS",
        "carrier 4": "CHICAGO IL 60680-5107", "1 group health plan": "X", "1a": "BCX998877",
        "2": "NUNEZ JR, JOSE, L", "3 MM": "06", "3 DD": "30", "3 YYYY": "1975", "3 M": "X",
        "4": "O'BRIEN-NUNEZ, ZOE", "5 street": "1 ELM ST", "6 spouse": "X", "7 street": "9 OAK AVE APT 4",
        "5 city": "SPRINGFIELD", "5 state": "IL", "7 city": "CHICAGO", "7 state": "IL", "5 zip": "62702",
        "5 area code": "217", "5 phone": "5550101", "7 zip": "60601", "11": "G-55", "10a NO": "X",
        "10b NO": "X", "10c NO": "X", "11a MM": "02", "11a DD": "14", "11a YYYY": "1978", "11a F": "X",
        "11c": "BLUE CROSS BLUE SHIELD OF IL", "11d NO": "X", "12": "SIGNATURE ON FILE",
        "13": "SIGNATURE ON FILE", "19": "KETAMINE HCL 100 MG/ML 70 MG IV", "20 NO": "X", "21 ICD indicator": "0",
        "22 code": "7", "22 original ref": "2026123456789", "23": "PA12345",
        "25": "123456789", "25 EIN": "X", "26": "P000220261102", "27 YES": "X",
        "28 dollars": "1031", "28 cents": "50", "29 dollars": "0", "29 cents": "00",
        "31 name": "AVERY LEE MD", "31 signature": "SIGNATURE ON FILE", "31 date": "11 20 26",
        "32 name": "EXAMPLE KETAMINE CLINIC LLC", "32 street": "100 MAIN ST", "32 city": "SPRINGFIELD IL 62701-1234",
        "32a": "1234567893", "33 area code": "217", "33 phone": "5550100", "33 name": "EXAMPLE KETAMINE CLINIC LLC",
        "33 street": "100 MAIN ST", "33 city": "SPRINGFIELD IL 62701-1234", "33a": "1234567893",
    }
    values.update({f"21 {letter}": code.replace(".", "") for letter, code in zip("ABCDEFGHIJKL", TWELVE, strict=True)})
    for n, line in enumerate(claim.lines, start=1):
        dollars, cents = f"{line.charge:.2f}".split(".")
        values.update({
            f"24A line {n} from MM": "11", f"24A line {n} from DD": "02", f"24A line {n} from YY": "26",
            f"24A line {n} to MM": "11", f"24A line {n} to DD": "02", f"24A line {n} to YY": "26",
            f"24B line {n}": "11", f"24D line {n} code": line.code, f"24E line {n}": "".join(
                "ABCDEFGHIJKL"[p - 1] for p in line.pointers), f"24F line {n} dollars": dollars,
            f"24F line {n} cents": cents, f"24G line {n}": str(line.units), f"24J line {n}": "1003000126",
            f"24 line {n} supplemental": cms1500.supplemental_text(line),
        })
        for i, modifier in enumerate(line.modifiers, start=1):
            values[f"24D line {n} modifier {i}"] = modifier
    return values


def test_the_full_claim_fills_what_the_test_expects(full):
    _, claim = full
    assert claim.total_charge == Decimal("1031.50")  # the eleven-line session's first six lines
    assert [line.code for line in claim.lines] == ["99214", "93000", "96365", "96366", "J3490", "J1885"]
    assert cms1500.supplemental_text(claim.lines[4]) == "N400409205105   ML0.7"


@pytest.mark.parametrize("offset", [None, {"left": "0.1in", "top": "2mm"}], ids=["no offset", "offset"])
def test_every_data_only_value_lies_inside_its_box_on_the_02_12_grid(full, clinic_dir, tmp_path, offset):
    left, down = (LEFT, DOWN) if offset else (0.0, 0.0)
    with _data_only([full], clinic_dir, tmp_path, offset) as pdf:
        (page,) = pdf.pages
        assert_every_character_in_a_box(page, left, down)
        want = expected(full)
        assert {item: read(page, item, left, down) for item in want} == want
        for item in set(FORM) - set(want):  # the boxes of items this claim leaves blank stay empty
            assert read(page, item, left, down) == "", item


def test_items_23_and_26_carry_no_hyphens_or_spaces(full, clinic_dir, tmp_path):
    with _data_only([full], clinic_dir, tmp_path) as pdf:
        page = pdf.pages[0]
        assert read(page, "23") == "PA12345"  # entered as "PA-123 45"
        assert read(page, "26") == "P000220261102"  # the claim id P0002-20261102
        assert read(page, "22 original ref") == "2026123456789"


def test_every_claim_of_a_batch_stays_inside_the_boxes(claims, clinic_dir, tmp_path):
    with _data_only([claims["six"], claims["eleven"], claims["spouse"]], clinic_dir, tmp_path) as pdf:
        assert len(pdf.pages) == 4
        for page in pdf.pages:
            assert_every_character_in_a_box(page)


def test_medicare_primary_prints_none_in_item_11_and_leaves_item_4_blank(claims, clinic_dir, tmp_path):
    patient_file, claim = claims["spouse"]
    medicare = patient_file.model_copy(update={"insurance": patient_file.insurance.model_copy(
        update={"filing_indicator": "MB", "payer_name": "Medicare Part B"})})
    claim = dataclasses.replace(claim, filing_indicator="MB", assigned=True)
    with _data_only([(medicare, claim)], clinic_dir, tmp_path) as pdf:
        page = pdf.pages[0]
        assert_every_character_in_a_box(page)
        assert read(page, "11") == "NONE"
        assert read(page, "1 medicare") == "X" and read(page, "1 group health plan") == ""
        for item in ("4", "6 spouse", "7 street", "7 city", "7 zip", "11a MM", "11a F", "11c", "11d NO"):
            assert read(page, item) == "", item  # completed only when another plan is primary to Medicare
        assert (read(page, "13"), read(page, "27 YES"), read(page, "27 NO")) == ("SIGNATURE ON FILE", "X", "")
        assert read(page, "2") == "NUNEZ JR, JOSE, L"
