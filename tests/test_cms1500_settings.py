"""CMS-1500 clinic settings and claim fields: multi-page totals, the printer offset, one item moved
by the clinic's grid row, a solo practitioner in item 33, a resubmission in item 22, values cut at
their box with a warning. Read back on the form's own grid (cms1500kit.cell)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pdfplumber
import pytest
from cms1500kit import TODAY, amount, cell, read_claims, write_clinic
from helpers import edit_yaml

from superbill.documents import cms1500
from superbill.documents.cms1500_layout import LayoutProblem
from superbill.inputs.load import load_clinic
from superbill.problems import InputRejected


@pytest.fixture
def clinic_dir(tmp_path):
    return write_clinic(tmp_path / "clinic")


def _claims(clinic_dir):
    loaded = load_clinic(clinic_dir / "clinic.yaml")
    return loaded, read_claims(clinic_dir, loaded)


def _pdf(items, loaded, path, data_only=False):
    return pdfplumber.open(cms1500.write_cms1500(items, loaded, path, data_only=data_only, today=TODAY))


def test_continued_multipage_claims_total_on_the_last_page_only(clinic_dir, tmp_path):
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"cms1500": {"multipage": "continued"}}))
    loaded, claims = _claims(clinic_dir)
    with _pdf([claims["eleven"]], loaded, tmp_path / "continued.pdf", data_only=True) as pdf:
        first, last = pdf.pages
        assert cell(first, 56, 51, 10) == "CONTINUED"  # item 28
        assert cell(first, 56, 62, 8) == ""  # item 29 waits for the last page
        assert amount(last, 56, 56) == Decimal("1081.50")  # the claim's total charge, all 11 lines
        assert amount(last, 56, 66) == Decimal("1050.00")  # and its whole amount paid
        assert "CONTINUED" not in last.extract_text()


def test_per_page_totals_are_the_default(clinic_dir, tmp_path):
    loaded, claims = _claims(clinic_dir)
    assert loaded.clinic.cms1500.multipage == "per-page"
    with _pdf([claims["eleven"]], loaded, tmp_path / "per-page.pdf", data_only=True) as pdf:
        assert [amount(p, 56, 56) for p in pdf.pages] == [Decimal("1031.50"), Decimal("50.00")]


@pytest.mark.parametrize("value, points", [("0.04in", 2.88), ("-1mm", -72 / 25.4), ("3pt", 3.0), (0, 0.0)])
def test_the_offset_takes_inches_millimetres_or_points(clinic_dir, value, points):
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"cms1500": {"offset": {"left": value}}}))
    assert load_clinic(clinic_dir / "clinic.yaml").clinic.cms1500.offset.left == pytest.approx(points)


@pytest.mark.parametrize("value", ["0.04", 0.04, "2 inches", "3in", True])
def test_an_offset_without_a_unit_or_beyond_an_inch_is_an_error(clinic_dir, value):
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"cms1500": {"offset": {"top": value}}}))
    with pytest.raises(InputRejected) as caught:
        load_clinic(clinic_dir / "clinic.yaml")
    assert any(p.path == "cms1500.offset.top" for p in caught.value.problems)


def test_the_offset_moves_every_value(clinic_dir, tmp_path):
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"cms1500": {"offset": {"left": "0.1in", "top": "-1pt"}}}))
    loaded, claims = _claims(clinic_dir)
    with _pdf([claims["six"]], loaded, tmp_path / "moved.pdf", data_only=True) as pdf:
        page = pdf.pages[0]
        assert cell(page, 8, 50, 30, shift=0.1, down=-1 / 72) == "XYZ123456789"
        assert cell(page, 10, 1, 28, shift=0.1, down=-1 / 72) == "DOE, JANE"
        assert cell(page, 10, 1) == "" and cell(page, 10, 2) == "D"  # one column on, not where it was


def test_a_clinic_grid_row_moves_one_item_and_nothing_else(clinic_dir, tmp_path):
    templates = clinic_dir / "templates"
    templates.mkdir()
    (templates / "cms1500-grid.yaml").write_text("items:\n  item26: [56, 24, 13]\n", encoding="utf-8")
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"templates": "./templates"}))
    loaded, claims = _claims(clinic_dir)
    with _pdf([claims["six"]], loaded, tmp_path / "row.pdf", data_only=True) as pdf:
        page = pdf.pages[0]
        assert cell(page, 56, 24, 13) == "P000120261102" and cell(page, 56, 23) == ""
        assert cell(page, 56, 1, 15) == "123456789" and cell(page, 10, 1, 28) == "DOE, JANE"


def test_a_bad_clinic_grid_row_names_the_file_and_the_row(clinic_dir, tmp_path):
    templates = clinic_dir / "templates"
    templates.mkdir()
    (templates / "cms1500-grid.yaml").write_text("items:\n  item26: [56, 23]\n", encoding="utf-8")
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"templates": "./templates"}))
    loaded, claims = _claims(clinic_dir)
    with pytest.raises(LayoutProblem) as caught:
        cms1500.cms1500_pdf([claims["six"]], loaded)
    assert caught.value.problem.file == str(templates / "cms1500-grid.yaml")
    assert caught.value.problem.path == "items.item26"


def test_a_solo_practitioner_bills_under_their_own_name_in_item_33(clinic_dir, tmp_path):
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c["practice"].update({"npi": "1003000126"}))
    loaded, claims = _claims(clinic_dir)
    with _pdf([claims["six"]], loaded, tmp_path / "solo.pdf") as pdf:
        page = pdf.pages[0]
        assert cell(page, 58, 50, 30) == "AVERY LEE MD"  # 33: the person, not the practice
        assert cell(page, 61, 51, 11) == "1003000126"  # 33a: their own Type 1 NPI
        assert cell(page, 58, 23, 27) == "EXAMPLE KETAMINE CLINIC LLC"  # 32: where the sessions happen


def test_a_replacement_claim_carries_code_7_and_the_payers_number_in_item_22(clinic_dir, tmp_path):
    loaded, claims = _claims(clinic_dir)
    patient_file, claim = claims["six"]
    items = [(patient_file, dataclasses.replace(claim, frequency_code=code, payer_claim_number="ICN 2026-0042"))
             for code in ("7", "8")] + [(patient_file, claim)]
    with _pdf(items, loaded, tmp_path / "resubmit.pdf", data_only=True) as pdf:
        assert [(cell(p, 38, 50, 10), cell(p, 38, 62, 18)) for p in pdf.pages] == [
            ("7", "ICN20260042"), ("8", "ICN20260042"), ("", "")]


def test_assignment_fills_items_13_and_27(clinic_dir, tmp_path):
    loaded, claims = _claims(clinic_dir)
    patient_file, claim = claims["six"]
    with _pdf([(patient_file, dataclasses.replace(claim, assigned=True)), (patient_file, claim)], loaded,
              tmp_path / "assigned.pdf", data_only=True) as pdf:
        assigned, kept = pdf.pages
        assert (cell(assigned, 30, 56, 24), cell(assigned, 56, 38), cell(assigned, 56, 43)) == (
            "SIGNATURE ON FILE", "X", "")
        assert (cell(kept, 30, 56, 24), cell(kept, 56, 38), cell(kept, 56, 43)) == ("", "", "X")


def test_a_value_too_long_for_its_box_is_cut_with_a_warning_naming_the_item(clinic_dir):
    loaded, claims = _claims(clinic_dir)
    patient_file, claim = claims["spouse"]  # its payer's name: 58 characters without the comma
    problems = cms1500.claim_problems(patient_file, claim, loaded, "spouse.yaml", today=TODAY)
    assert [p.line() for p in problems] == [
        "spouse.yaml: warning: claim P0002-20261102: CMS-1500 carrier block (line 1) holds 31 characters; "
        "the value has 58 and is cut at the box",
        "spouse.yaml: warning: claim P0002-20261102: CMS-1500 item 11c holds 30 characters; "
        "the value has 58 and is cut at the box",
    ]
    assert cms1500.claim_problems(*claims["six"], loaded, "example.yaml", today=TODAY) == []


def test_a_clinic_form_file_redraws_the_facsimile_and_a_typo_in_it_is_named(clinic_dir, tmp_path):
    from superbill.paths import TEMPLATES_DIR

    templates = clinic_dir / "templates"
    templates.mkdir()
    shipped = (TEMPLATES_DIR / "cms1500-form.yaml").read_text(encoding="utf-8")
    form = templates / "cms1500-form.yaml"
    form.write_text(shipped.replace('"HEALTH INSURANCE CLAIM FORM"', '"CLAIM FORM OF EXAMPLE CLINIC"'), encoding="utf-8")
    edit_yaml(clinic_dir / "clinic.yaml", lambda c: c.update({"templates": "./templates"}))
    loaded, claims = _claims(clinic_dir)
    with _pdf([claims["six"]], loaded, tmp_path / "own.pdf") as pdf:
        text = pdf.pages[0].extract_text()
        assert "CLAIM FORM OF EXAMPLE CLINIC" in text and "HEALTH INSURANCE CLAIM FORM" not in text
        assert cell(pdf.pages[0], 10, 1, 28) == "DOE, JANE"  # the data does not move
    form.write_text(shipped.replace("  - H 9 1 81\n", "  - H 9 1\n"), encoding="utf-8")
    with pytest.raises(LayoutProblem) as caught:
        cms1500.cms1500_pdf([claims["six"]], loaded)
    assert (caught.value.problem.file, caught.value.problem.path) == (str(form), "thin[13]")
