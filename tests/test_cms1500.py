"""CMS-1500 (02/12) PDF: items read back from the rendered form at their place on the form's grid
(`cms1500kit.cell`: the form's own grid, 1.33 in to the top rule, 10 cpi, 6 lpi)."""

from __future__ import annotations

import os
import stat
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from cms1500kit import TODAY, _is_data, amount, cell, date_at, page_lines, read_claims, write_clinic

from superbill.documents import cms1500
from superbill.inputs.load import load_clinic


@pytest.fixture(scope="module")
def clinic_dir(tmp_path_factory) -> Path:
    return write_clinic(tmp_path_factory.mktemp("clinic"))


@pytest.fixture(scope="module")
def loaded(clinic_dir):
    return load_clinic(clinic_dir / "clinic.yaml")


@pytest.fixture(scope="module")
def claims(clinic_dir, loaded) -> dict:
    return read_claims(clinic_dir, loaded)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("out")


def _open(path: Path):
    return pdfplumber.open(path)


@pytest.fixture(scope="module")
def six_pdf(claims, loaded, out_dir):
    path = cms1500.write_cms1500([claims["six"]], loaded, out_dir / "six.pdf", today=TODAY)
    with _open(path) as pdf:
        yield path, pdf


@pytest.fixture(scope="module")
def eleven_pdf(claims, loaded, out_dir):
    path = cms1500.write_cms1500([claims["eleven"]], loaded, out_dir / "eleven.pdf", today=TODAY)
    with _open(path) as pdf:
        yield path, pdf


@pytest.fixture(scope="module")
def batch_data_only(claims, loaded, out_dir):
    items = [claims["six"], claims["eleven"], claims["spouse"]]
    path = cms1500.write_cms1500(items, loaded, out_dir / "batch.pdf", data_only=True, today=TODAY)
    with _open(path) as pdf:
        yield path, pdf


# ---------------------------------------------------------------- page counts


def test_six_lines_fill_one_page_and_eleven_lines_two(six_pdf, eleven_pdf):
    assert len(six_pdf[1].pages) == 1
    assert len(eleven_pdf[1].pages) == 2
    first, second = eleven_pdf[1].pages
    assert len(page_lines(first)) == 6 and len(page_lines(second)) == 5


def test_a_batch_holds_every_claims_pages_in_order(batch_data_only, eleven_pdf):
    pages = batch_data_only[1].pages
    assert len(pages) == 1 + 2 + 1
    # item 26: the claim id without its hyphen (NUCC: no hyphens or spaces in the number)
    assert [cell(p, 56, 23, 15) for p in pages] == [
        "P000120261102", "P000120261105", "P000120261105", "P000220261102"]
    # the facsimile's note beneath the form numbers a claim's pages (data-only pages print none)
    footers = [p.extract_text().splitlines()[-1] for p in eleven_pdf[1].pages]
    assert "Claim P0001-20261105 \u00b7 form 1 of 2" in footers[0] and "form 2 of 2" in footers[1]


def test_output_is_owner_only_and_nothing_is_left_beside_it(six_pdf, out_dir):
    path, _ = six_pdf
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in os.listdir(out_dir) if p.endswith(".part")]


# ---------------------------------------------------------------- items 1-23


def test_patient_insured_and_plan_items(six_pdf, claims):
    page = six_pdf[1].pages[0]
    assert cell(page, 2, 41, 31) == "EXAMPLE HEALTH PLAN"  # carrier block
    assert cell(page, 8, 31) == "X"  # 1: group health plan for a CI plan
    assert all(cell(page, 8, col) == "" for col in (1, 8, 15, 24, 39, 45))
    assert cell(page, 8, 50, 30) == "XYZ123456789"  # 1a
    assert cell(page, 10, 1, 28) == "DOE, JANE"  # 2
    assert date_at(page, 10, 31, 4) == "01 01 1980"  # 3 MM DD YYYY
    assert (cell(page, 10, 42), cell(page, 10, 47)) == ("", "X")  # 3 sex F
    assert cell(page, 10, 50, 30) == "DOE, JANE"  # 4: the patient is the insured
    assert cell(page, 12, 1, 28) == "1 ELM ST"  # 5
    assert (cell(page, 14, 1, 24), cell(page, 14, 26, 2), cell(page, 16, 1, 12)) == ("SPRINGFIELD", "IL", "62702")
    assert (cell(page, 16, 15, 3), cell(page, 16, 19, 10)) == ("217", "5550101")
    assert [cell(page, 12, col) for col in (33, 38, 42, 47)] == ["X", "", "", ""]  # 6: self
    assert cell(page, 12, 50, 30) == "1 ELM ST"  # 7
    assert cell(page, 18, 50, 30) == "GRP123"  # 11
    assert date_at(page, 20, 53, 4) == "01 01 1980" and cell(page, 20, 75) == "X"  # 11a
    assert [cell(page, line, 41) for line in (20, 22, 24)] == ["X", "X", "X"]  # 10a-c NO
    assert cell(page, 24, 50, 30) == "EXAMPLE HEALTH PLAN"  # 11c
    assert (cell(page, 26, 52), cell(page, 26, 57)) == ("", "X")  # 11d NO
    assert cell(page, 30, 7, 25) == "SIGNATURE ON FILE"  # 12
    assert cell(page, 30, 50, 30) == ""  # 13 blank: the patient keeps the benefits
    assert cell(page, 36, 1, 48) == "KETAMINE HCL 100 MG/ML 70 MG IV"  # 19: the NOC drug, strength, dose
    assert cell(page, 37, 42) == "0"  # 21 ICD indicator
    assert (cell(page, 38, 3, 9), cell(page, 38, 16, 9), cell(page, 38, 29, 9)) == ("G90511", "F331", "")
    assert cell(page, 40, 50, 30) == ""  # 23: no prior authorization on this session
    assert cell(page, 38, 50, 30) == ""  # 22: an original claim has no resubmission code


def test_twelve_letters_and_prior_authorization_on_a_subscriber_claim(batch_data_only):
    page = batch_data_only[1].pages[3]
    assert cell(page, 8, 31) == "X"  # BL is a group health plan too
    assert cell(page, 8, 50, 30) == "BCX998877"
    assert cell(page, 10, 1, 28) == "NUNEZ JR, JOSE, L"  # accents transliterated, suffix after last, no period
    assert (date_at(page, 10, 31, 4), cell(page, 10, 42), cell(page, 10, 47)) == ("06 30 1975", "X", "")
    assert cell(page, 10, 50, 30) == "O'BRIEN-NUNEZ, ZOE"  # 4: the subscriber
    assert [cell(page, 12, col) for col in (33, 38, 42, 47)] == ["", "X", "", ""]  # 6: spouse
    assert cell(page, 12, 50, 30) == "9 OAK AVE APT 4"  # 7: no punctuation in addresses
    assert (cell(page, 14, 50, 23), cell(page, 14, 74, 2), cell(page, 16, 50, 13)) == ("CHICAGO", "IL", "60601")
    assert cell(page, 18, 50, 30) == "G-55"
    assert (date_at(page, 20, 53, 4), cell(page, 20, 68), cell(page, 20, 75)) == ("02 14 1978", "", "X")
    assert cell(page, 40, 50, 30) == "PA12345"  # 23
    # a 57-character plan name is cut at its box (a warning names the item), never shrunk
    name = "BLUE CROSS & BLUE SHIELD OF ILLINOIS FEDERAL EMPLOYEE PLAN"
    assert cell(page, 24, 50, 31) == name[:30] and cell(page, 2, 41, 31) == name[:31]
    assert {c["fontname"] for c in page.chars} == {"Courier"} and {round(c["size"], 2) for c in page.chars} == {12}
    assert max(c["x1"] for c in page.chars if _is_data(c)) < 8.28 * 72  # nothing beyond the form's frame
    assert amount(page, 56, 66) == Decimal("0.00")  # 29: nothing paid


def test_diagnoses_run_across_then_down(eleven_pdf, claims):
    page = eleven_pdf[1].pages[1]  # every page carries every diagnosis: pointers refer to them
    expected = [code.replace(".", "") for code in claims["eleven"][1].diagnoses]
    found = [cell(page, 38 + i // 4, 3 + 13 * (i % 4), 9) for i in range(12)]
    assert found == expected + [""] * (12 - len(expected))
    assert found[4] == "E1142"  # E starts the second row


# ---------------------------------------------------------------- item 24


def test_service_lines_match_the_claim(six_pdf, claims):
    page = six_pdf[1].pages[0]
    claim = claims["six"][1]
    lines = page_lines(page)
    assert [line["code"] for line in lines] == [line.code for line in claim.lines]
    assert [line["modifiers"] for line in lines] == [list(line.modifiers) for line in claim.lines]
    assert [line["units"] for line in lines] == [str(line.units) for line in claim.lines]
    assert [line["charge"] for line in lines] == [line.charge for line in claim.lines]
    assert [line["pointers"] for line in lines] == ["".join("ABCDEFGHIJKL"[p - 1] for p in line.pointers)
                                                     for line in claim.lines]
    assert {(line["from"], line["to"], line["pos"], line["npi"]) for line in lines} == {
        ("11 02 26", "11 02 26", "11", "1003000126")}
    # the reference example (docs/reference.md "Commands"), as a clerk reads it off the form
    assert lines[0]["code"] == "99214" and lines[0]["modifiers"] == ["25"] and lines[0]["pointers"] == "AB"
    assert lines[5]["code"] == "J2405" and lines[5]["modifiers"] == ["JZ"] and lines[5]["units"] == "4"
    assert lines[5]["charge"] == Decimal("16.00")


def test_ndc_sits_in_the_shaded_line_above_its_drug_line(six_pdf):
    page = six_pdf[1].pages[0]
    lines = page_lines(page)
    assert lines[4]["code"] == "J3490"
    assert lines[4]["supplemental"] == "N400409205105   ML0.7"
    assert lines[5]["supplemental"] == "N400409000925   ML2"
    assert [line["supplemental"] for line in lines[:4]] == ["", "", "", ""]
    # Medicare's layout: the NDC in positions 1-13, the quantity from position 17
    s = 43 + 2 * 4
    assert cell(page, s, 1, 13) == "N400409205105" and cell(page, s, 17, 8) == "ML0.7"


# ---------------------------------------------------------------- items 25-33 and per-page totals


def test_billing_items(six_pdf):
    page = six_pdf[1].pages[0]
    assert cell(page, 56, 1, 15) == "123456789"  # 25 EIN without the hyphen
    assert (cell(page, 56, 17), cell(page, 56, 19)) == ("", "X")  # the EIN box
    assert cell(page, 56, 23, 15) == "P000120261102"  # 26: the claim id (CLM01) without the hyphen
    assert (cell(page, 56, 38), cell(page, 56, 43)) == ("", "X")  # 27 accept assignment: NO
    assert amount(page, 56, 56) == Decimal("1035.00")  # 28
    assert amount(page, 56, 66) == Decimal("650.00")  # 29
    assert cell(page, 59, 1, 21) == "AVERY LEE MD"  # 31
    assert cell(page, 60, 1, 21) == "SIGNATURE ON FILE"
    assert cell(page, 61, 14, 8) == "11 20 26"  # 31: MM DD YY, the day the form was made
    assert [cell(page, line, 23, 27) for line in (58, 59, 60)] == [
        "EXAMPLE KETAMINE CLINIC LLC", "100 MAIN ST", "SPRINGFIELD IL 62701-1234"]  # 32
    assert cell(page, 61, 24, 10) == "1234567893"  # 32a
    assert (cell(page, 57, 66, 3), cell(page, 57, 70, 10)) == ("217", "5550100")  # 33 phone
    assert cell(page, 58, 50, 30) == "EXAMPLE KETAMINE CLINIC LLC"  # 33
    assert cell(page, 61, 51, 11) == "1234567893"  # 33a billing NPI


def test_each_page_stands_alone_with_its_own_totals(eleven_pdf, claims):
    claim = claims["eleven"][1]
    totals, paid = [], []
    for page in eleven_pdf[1].pages:
        lines = page_lines(page)
        totals.append(amount(page, 56, 56))
        paid.append(amount(page, 56, 66))
        assert totals[-1] == sum(line["charge"] for line in lines)  # 28 = sum of this page's 24F
        assert paid[-1] <= totals[-1]  # a page never shows more paid than it charges
        assert cell(page, 56, 23, 15) == claim.claim_id.replace("-", "")  # and carries the claim's identifiers
        assert cell(page, 8, 50, 30) == "XYZ123456789"
        assert cell(page, 61, 51, 11) == "1234567893"
    assert sum(totals) == claim.total_charge == Decimal("1081.50")
    assert paid == [Decimal("1031.50"), Decimal("18.50")]  # 1050.00 paid, filled page by page
    assert sum(paid) == claim.amount_paid
    second = page_lines(eleven_pdf[1].pages[1])
    assert [line["code"] for line in second] == [line.code for line in claim.lines[6:]]
    assert second[0]["supplemental"] == "N463323016501   ML1"


def test_the_cpt_notice_is_on_every_facsimile_page_and_never_on_a_pre_printed_form(eleven_pdf, batch_data_only):
    for page in eleven_pdf[1].pages:
        assert "CPT® is a registered trademark of the American Medical Association." in page.extract_text()
    for page in batch_data_only[1].pages:  # data-only: it would land on the form's bottom text line
        assert "CPT" not in page.extract_text() and "Claim" not in page.extract_text()


# ---------------------------------------------------------------- data-only mode


def test_data_only_prints_the_same_data_without_the_form(six_pdf, batch_data_only):
    facsimile, data_only = six_pdf[1].pages[0], batch_data_only[1].pages[0]
    facsimile_text = facsimile.extract_text()
    for label in ("HEALTH INSURANCE CLAIM FORM", "PATIENT'S NAME", "INSURED'S I.D. NUMBER", "TOTAL CHARGE"):
        assert label in facsimile_text
    text = data_only.extract_text()
    for label in ("HEALTH INSURANCE CLAIM FORM", "PATIENT'S NAME", "INSURED'S I.D. NUMBER", "TOTAL CHARGE",
                  "NUCC", "facsimile"):
        assert label not in text
    assert not data_only.rects and not data_only.lines and not data_only.curves  # no boxes, no rules
    assert all(_is_data(c) for c in data_only.chars)  # nothing but the data: no notes beneath the form
    data = sorted((round(c["x0"], 1), round(c["top"], 1), c["text"]) for c in facsimile.chars if _is_data(c))
    assert data == sorted((round(c["x0"], 1), round(c["top"], 1), c["text"]) for c in data_only.chars if _is_data(c))


# ---------------------------------------------------------------- the pieces


def test_supplemental_text_and_names():
    from superbill.engine.claims import ClaimLine

    line = ClaimLine(code="J3490", modifiers=(), units=1, charge=Decimal("120.00"), pointers=(1,),
                     description="", kind="drug", source="", ndc="00409205105",
                     ndc_quantity=Decimal("2.500"), ndc_unit="ML")
    assert cms1500.supplemental_text(line) == "N400409205105   ML2.5"
    assert cms1500.supplemental_text(ClaimLine(code="99214", modifiers=(), units=1, charge=None, pointers=(1,),
                                               description="", kind="em", source="")) == ""
    assert cms1500.person_name("St. John", "Mary-Kate", "Anne", "Sr.") == "ST JOHN SR, MARY-KATE, A"
    assert cms1500.person_name("Çelik", "Ayşe") == "CELIK, AYSE"
    assert cms1500.diagnosis_code("g90.511") == "G90511"


@pytest.mark.parametrize("paid, totals, expected", [
    ("650.00", ["1035.00"], ["650.00"]),
    ("1050.00", ["1031.50", "50.00"], ["1031.50", "18.50"]),
    ("100.00", ["600.00", "400.00"], ["100.00", "0.00"]),
    ("0.00", ["600.00", "400.00"], ["0.00", "0.00"]),
    ("1200.00", ["600.00", "400.00"], ["600.00", "600.00"]),  # an overpayment stays on the last page
])
def test_paid_amount_is_spread_page_by_page(paid, totals, expected):
    shares = cms1500._allocate(Decimal(paid), [Decimal(t) for t in totals])
    assert shares == [Decimal(e) for e in expected]
    assert sum(shares) == Decimal(paid)


def test_patient_text_is_printed_as_text(claims, loaded, tmp_path):
    patient_file, claim = claims["six"]
    hostile = patient_file.model_copy(update={
        "patient": patient_file.patient.model_copy(update={"last_name": "<img src=x>(\\)"})})
    path = cms1500.write_cms1500([(hostile, claim)], loaded, tmp_path / "hostile.pdf", data_only=True, today=TODAY)
    with _open(path) as pdf:
        assert cell(pdf.pages[0], 10, 1, 28) == "<IMG SRC=X>(\\), JANE"


def test_no_claims_is_an_error_not_an_empty_pdf(loaded, tmp_path):
    with pytest.raises(ValueError):
        cms1500.write_cms1500([], loaded, tmp_path / "none.pdf")
    assert not (tmp_path / "none.pdf").exists()
