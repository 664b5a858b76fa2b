"""Output names and folders: safe, distinct for distinct patients, private."""

from __future__ import annotations

import stat

from helpers import example_patient, make_clinic, run, write_yaml

from superbill.outfiles import ensure_folder, safe_name


def test_safe_name_keeps_plain_ids_and_folds_accents():
    assert safe_name("P0001") == "P0001"
    assert safe_name("../../x") == "x"
    assert safe_name("José") == "Jose"
    assert safe_name("", fallback="patient") == "patient"


def test_ids_without_an_ascii_form_stay_distinct():
    first, second = safe_name("患者1"), safe_name("病人1")
    assert first != second
    assert first.startswith("1-") and second.startswith("1-")
    assert safe_name("Ωμέγα", fallback="patient").startswith("patient-")


def test_render_two_patients_whose_ids_have_no_ascii_form(tmp_path):
    make_clinic(tmp_path)
    files = []
    for pid in ("患者1", "病人1"):
        data = example_patient()
        data["patient"]["id"] = pid
        files.append(write_yaml(tmp_path / f"{len(files)}.yaml", data))
    out = tmp_path / "out"
    result = run("render", *files, "-o", out, "--html", clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 0, result.output
    assert len(list(out.iterdir())) == 2


def test_nested_output_folders_are_all_private(tmp_path):
    ensure_folder(tmp_path / "a" / "b" / "c")
    for part in ("a", "a/b", "a/b/c"):
        assert stat.S_IMODE((tmp_path / part).stat().st_mode) == 0o700


def test_overpayment_prints_a_credit_not_a_negative_balance(tmp_path):
    import pdfplumber

    make_clinic(tmp_path)
    data = example_patient()
    data["sessions"][0]["payments"] = [{"date": "2026-11-02", "amount": 1200.00, "method": "card"}]
    path = write_yaml(tmp_path / "over.yaml", data)
    out = tmp_path / "out"
    result = run("render", path, "-o", out, clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 0, result.output
    (pdf,) = out.glob("*.pdf")
    with pdfplumber.open(pdf) as document:
        text = "\n".join(page.extract_text() for page in document.pages)
    assert "Credit $165.00" in text
    assert "Balance due" not in text
    assert "-165.00" not in text
