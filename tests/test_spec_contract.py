"""The product contract (docs/reference.md), promise by promise, through the real command line only.

Every expected value here was worked out by hand from docs/reference.md ("Billing rules": infusion
time units, drug units; "Identifiers": NDC 5-4-2 padding, NPI Luhn; "Claim checks"; "Outputs"), not
read back from the program. The starter clinic (`superbill init`) is the clinic: fees per billing unit 99214 189.00,
93000 60.00, 96365 450.00, 96366 200.00, 96374 150.00, J3490 120.00, J2405 4.00; ketamine J3490,
NDC 0409-2051-05 (-> 00409205105), 100 mg/mL, multi-dose; ondansetron J2405 per 1 mg, NDC 0409-0009-25
(-> 00409000925), 2 mg/mL, single-dose; protocol ketamine-infusion = 99214 + ondansetron 4 mg.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import stat
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from cms1500kit import amount, cell, page_lines
from helpers import FY2027_NOTE, example_patient, read_yaml, run, write_yaml
from x12check import assert_valid_x12, segments

DOS = "2026-11-02"
NOTE = {"path": "sessions[0].date", "severity": "warning", "message": FY2027_NOTE}


# ---------------------------------------------------------------- the starter clinic and helpers


@pytest.fixture(scope="module")
def clinic_dir(tmp_path_factory) -> Path:
    """`superbill init DIR`: the clinic the whole file uses (never changed by a test)."""
    root = tmp_path_factory.mktemp("spec")
    result = run("init", root / "clinic")
    assert result.exit_code == 0, result.output
    return root / "clinic"


def clinic_yaml(clinic_dir: Path) -> Path:
    return clinic_dir / "clinic.yaml"


def base_session(**changes) -> dict:
    """The SPEC's example session, changed; a value of None removes the key."""
    session = copy.deepcopy(example_patient()["sessions"][0])
    session.update(changes)
    return {key: value for key, value in session.items() if value is not None}


def bare(**changes) -> dict:
    """A session with no protocol, no explicit services and no payments: only what the test gives."""
    return base_session(**{"protocol": None, "services": [], "payments": [], **changes})


def patient_file(folder: Path, name: str, sessions: list[dict], patient: dict | None = None,
                 insurance: dict | None = None) -> Path:
    data = example_patient()
    data["sessions"] = sessions
    data["patient"].update(patient or {})
    data["insurance"].update(insurance or {})
    return write_yaml(folder / name, data)


def claims_json(clinic_dir: Path, tmp_path: Path, sessions: list[dict], **parts):
    """`superbill claims --json` of one patient file: (exit code, the parsed object)."""
    path = patient_file(tmp_path, "p.yaml", sessions, **parts)
    result = run("claims", "--json", path, clinic=clinic_yaml(clinic_dir))
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def lines_of(claim: dict) -> list[tuple]:
    return [(ln["code"], ln["modifiers"], ln["units"], ln["charge"]) for ln in claim["lines"]]


def drug_of(claim: dict, code: str) -> list[tuple]:
    return [(ln["ndc"], ln["ndc_quantity"], ln["ndc_unit"]) for ln in claim["lines"] if ln["code"] == code]


def problems(out: dict, severity: str | None = None) -> list[tuple[str, str]]:
    """(path, message) of every problem but the FY2027 edition note."""
    return [(p["path"], p["message"]) for p in out["problems"]
            if p["message"] != FY2027_NOTE and (severity is None or p["severity"] == severity)]


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


# ---------------------------------------------------------------- `claims --json`: the SPEC example


def spec_line(code, modifiers, units, charge, pointers, ndc=None, qty=None, unit=None) -> dict:
    return {"code": code, "modifiers": modifiers, "units": units, "charge": charge, "pointers": pointers,
            "ndc": ndc, "ndc_quantity": qty, "ndc_unit": unit}


# 105 minutes (09:05-10:50): 96365 x1 + 96366 x1 (91-150); ketamine 70 mg: J3490 x1, 70/100 = 0.7 ML;
# ondansetron 4 mg single-dose, nothing wasted: J2405 x4 JZ, 4/2 = 2 ML; 99214 gets 25 (drug administration
# the same day); default pointers are the first up to four diagnoses: [1, 2]; 93000 gives [1].
SPEC_CLAIM = {
    "claim_id": "P0001-20261102", "patient_id": "P0001", "date_of_service": DOS, "place_of_service": "11",
    "provider_npi": "1003000126", "diagnoses": ["G90.511", "F33.1"],
    "lines": [
        spec_line("99214", ["25"], 1, "189.00", [1, 2]),
        spec_line("93000", [], 1, "60.00", [1]),
        spec_line("96365", [], 1, "450.00", [1, 2]),
        spec_line("96366", [], 1, "200.00", [1, 2]),
        spec_line("J3490", [], 1, "120.00", [1, 2], "00409205105", "0.7", "ML"),
        spec_line("J2405", ["JZ"], 4, "16.00", [1, 2], "00409000925", "2", "ML"),
    ],
    "total_charge": "1035.00",   # 189 + 60 + 450 + 200 + 120 + 16
    "amount_paid": "650.00",
}


def test_spec_example_claims_json_is_exactly_the_spec_claim(clinic_dir):
    result = run("claims", "--json", clinic_dir / "patients" / "example.yaml", clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert set(out) == {"claims", "problems"}
    assert out["claims"] == [SPEC_CLAIM]
    # DOS 2026-11-02 is in FY2027 (from 2026-10-01), not shipped: checked against FY2026 with one warning
    assert out["problems"] == [{"file": str(clinic_dir / "patients" / "example.yaml"), **NOTE}]


def test_json_patient_file_is_accepted_with_the_same_claims(clinic_dir, tmp_path):
    path = tmp_path / "example.json"
    path.write_text(json.dumps(example_patient(), default=str), encoding="utf-8")
    result = run("claims", "--json", path, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["claims"] == [SPEC_CLAIM]


def test_a_file_with_an_error_yields_no_claims_the_others_still_go_exit_1(clinic_dir, tmp_path):
    good = patient_file(tmp_path, "good.yaml", [base_session()])
    bad = patient_file(tmp_path, "bad.yaml", [base_session(diagnoses=["G90.51"])], patient={"id": "P0009"})
    result = run("claims", "--json", bad, good, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert [c["claim_id"] for c in out["claims"]] == ["P0001-20261102"]
    errors = [p for p in out["problems"] if p["severity"] == "error"]
    assert [(p["file"], p["path"]) for p in errors] == [(str(bad), "sessions[0].diagnoses[0]")]
    assert set(errors[0]) == {"file", "path", "severity", "message"}


# ---------------------------------------------------------------- infusion administration (§4.2, §8)


@pytest.mark.parametrize("end, expected", [
    ("09:15", [("96374", 1)]),                      # 15 min or less: a push
    ("09:16", [("96365", 1)]),                      # 16
    ("10:30", [("96365", 1)]),                      # 90
    ("10:31", [("96365", 1), ("96366", 1)]),        # 91
    ("11:30", [("96365", 1), ("96366", 1)]),        # 150
    ("11:31", [("96365", 1), ("96366", 2)]),        # 151
    ("12:30", [("96365", 1), ("96366", 2)]),        # 210
    ("12:31", [("96365", 1), ("96366", 3)]),        # 211
])
def test_infusion_units_at_every_boundary(clinic_dir, tmp_path, end, expected):
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion={"start": "09:00", "end": end})])
    assert code == 0
    (claim,) = out["claims"]
    admin = [(ln["code"], ln["units"]) for ln in claim["lines"] if ln["code"].startswith("963")]
    assert admin == expected
    fees = {"96374": Decimal("150.00"), "96365": Decimal("450.00"), "96366": Decimal("200.00")}
    total = sum(fees[c] * u for c, u in expected) + Decimal("120.00")  # + J3490 x1
    assert claim["total_charge"] == f"{total:.2f}"


def test_infusion_over_six_hours_is_a_warning_six_hours_is_not(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion={"start": "08:00", "end": "14:00"})])
    assert code == 0 and problems(out) == []
    # 360 min: 96366 = (360 - 91) // 60 + 1 = 5
    assert [(ln["code"], ln["units"]) for ln in out["claims"][0]["lines"]][:2] == [("96365", 1), ("96366", 5)]
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion={"start": "08:00", "end": "14:01"})])
    assert code == 0
    assert [(p, s) for p, s in [(p["path"], p["severity"]) for p in out["problems"]] if p != "sessions[0].date"] \
        == [("sessions[0].infusion", "warning")]


# ---------------------------------------------------------------- drug lines


def test_drug_units_round_up_and_unclassified_bills_one_unit(clinic_dir, tmp_path):
    # ondansetron 4.5 mg: ceil(4.5 / 1) = 5 units, 5 x 4.00 = 20.00, 4.5 / 2 = 2.25 ML, JZ (single-dose, no waste)
    # ketamine 250 mg under J3490: 1 unit whatever the dose, 250 / 100 = 2.5 ML; no JZ on a multi-dose vial
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion=None, medications=[
        {"drug": "ondansetron", "dose_mg": 4.5}, {"drug": "ketamine", "dose_mg": 250}])])
    assert code == 0, out
    (claim,) = out["claims"]
    assert lines_of(claim) == [("J2405", ["JZ"], 5, "20.00"), ("J3490", [], 1, "120.00")]
    assert drug_of(claim, "J2405") == [("00409000925", "2.25", "ML")]
    assert drug_of(claim, "J3490") == [("00409205105", "2.5", "ML")]


def test_ndc_quantity_has_at_most_three_decimals(clinic_dir, tmp_path):
    # 1.2345 mg / 100 mg/mL = 0.012345 mL -> 0.012
    code, out = claims_json(clinic_dir, tmp_path, [bare(medications=[{"drug": "ketamine", "dose_mg": 1.2345}])])
    assert code == 0
    assert drug_of(out["claims"][0], "J3490") == [("00409205105", "0.012", "ML")]


@pytest.mark.parametrize("ndc, eleven", [("25021-684-05", "25021068405"),    # 5-3-2
                                         ("71872-7296-1", "71872729601"),    # 5-4-1
                                         ("0409-2051-05", "00409205105"),    # 4-4-2
                                         ("00409205105", "00409205105")])    # already 11
def test_ndc_is_sent_as_eleven_digits_5_4_2(clinic_dir, tmp_path, ndc, eleven):
    code, out = claims_json(clinic_dir, tmp_path, [bare(medications=[{"drug": "ketamine", "dose_mg": 70, "ndc": ndc}])])
    assert code == 0, out
    assert drug_of(out["claims"][0], "J3490") == [(eleven, "0.7", "ML")]


def test_single_dose_waste_goes_on_its_own_jw_line_never_jz_with_it(clinic_dir, tmp_path):
    # 4 mg given, 2 mg discarded from a single-dose vial: J2405 x4 (no JZ: something was wasted) 16.00,
    # J2405-JW x2 8.00 (2 / 2 = 1 ML)
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion=None, medications=[
        {"drug": "ondansetron", "dose_mg": 4, "wasted_mg": 2}])])
    assert code == 0, out
    (claim,) = out["claims"]
    assert lines_of(claim) == [("J2405", [], 4, "16.00"), ("J2405", ["JW"], 2, "8.00")]
    assert drug_of(claim, "J2405") == [("00409000925", "2", "ML"), ("00409000925", "1", "ML")]
    assert claim["total_charge"] == "24.00"


def test_waste_on_a_multi_dose_vial_is_an_error(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(medications=[{"drug": "ketamine", "dose_mg": 70, "wasted_mg": 30}])])
    assert code == 1 and out["claims"] == []
    assert [p for p, _ in problems(out, "error")] == ["sessions[0].medications[0].wasted_mg"]


def test_dose_above_the_shipped_max_dose_is_a_warning(clinic_dir, tmp_path):
    # codes/medications.yaml ships ketamine max_dose_mg 500; the starter clinic's ketamine row is merged over it
    code, out = claims_json(clinic_dir, tmp_path, [bare(medications=[{"drug": "ketamine", "dose_mg": 600}])])
    assert code == 0
    found = problems(out, "warning")
    assert [p for p, _ in found] == ["sessions[0].medications[0]"] and "500" in found[0][1]
    assert drug_of(out["claims"][0], "J3490") == [("00409205105", "6", "ML")]


def test_max_dose_is_settable_in_clinic_yaml(clinic_dir, tmp_path):
    clinic = read_yaml(clinic_yaml(clinic_dir))
    clinic["medications"]["ketamine"]["max_dose_mg"] = 50
    own = write_yaml(tmp_path / "clinic.yaml", clinic)
    path = patient_file(tmp_path, "p.yaml", [bare()])
    out = json.loads(run("claims", "--json", path, clinic=own).stdout)
    assert [p for p, _ in problems(out, "warning")] == ["sessions[0].medications[0]"]


def test_supply_code_as_a_service_with_ndc_and_charge(clinic_dir, tmp_path):
    # J7050 (normal saline 250 cc) as a service with its own charge; ndc_unit defaults to UN
    code, out = claims_json(clinic_dir, tmp_path, [bare(medications=[], services=[
        {"code": "J7050", "charge": 25.00, "ndc": "0338-0049-02", "ndc_quantity": 1}])])
    assert code == 0, out
    (claim,) = out["claims"]
    assert [ln for ln in claim["lines"] if ln["code"] == "J7050"] == [
        spec_line("J7050", [], 1, "25.00", [1, 2], "00338004902", "1", "UN")]


# ---------------------------------------------------------------- modifiers, same-day sessions, telehealth


def test_modifier_25_across_claims_and_time_orders_the_day(clinic_dir, tmp_path):
    visit = bare(infusion=None, medications=[], services=[{"code": "99214"}], time="08:00")
    infusion = bare()  # starts 09:05
    code, out = claims_json(clinic_dir, tmp_path, [infusion, visit])
    assert code == 0, out
    by_id = {c["claim_id"]: lines_of(c) for c in out["claims"]}
    # the 08:00 visit comes first that day: P0001-20261102; the 09:05 infusion is the second: -2
    assert by_id == {"P0001-20261102": [("99214", ["25"], 1, "189.00")],
                     "P0001-20261102-2": [("96365", [], 1, "450.00"), ("96366", [], 1, "200.00"),
                                          ("J3490", [], 1, "120.00")]}
    later = dict(visit, time="11:00")
    code, out = claims_json(clinic_dir, tmp_path, [infusion, later])
    assert [(c["claim_id"], c["lines"][0]["code"]) for c in out["claims"]] == [
        ("P0001-20261102", "96365"), ("P0001-20261102-2", "99214")]
    assert out["claims"][1]["lines"][0]["modifiers"] == ["25"]


def test_modifier_25_never_makes_a_fifth_modifier(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(services=[{"code": "99214", "modifiers": ["GT", "95", "GC", "GE"]}])])
    assert code == 1 and out["claims"] == []
    assert [p for p, _ in problems(out, "error")] == ["sessions[0].services[0]"]


def test_no_modifier_25_without_drug_administration(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion=None, medications=[], services=[{"code": "99214"}])])
    assert code == 0
    assert lines_of(out["claims"][0]) == [("99214", [], 1, "189.00")]


def test_two_initial_codes_on_one_date_warn_unless_marked_distinct(clinic_dir, tmp_path):
    second = bare(infusion={"start": "13:00", "end": "14:00"})
    code, out = claims_json(clinic_dir, tmp_path, [bare(), second])
    assert code == 0
    assert [p for p, _ in problems(out, "warning")] == ["sessions[1].infusion"]
    marked = bare(infusion=None, medications=[], services=[{"code": "96365", "modifiers": ["XE"]}])
    code, out = claims_json(clinic_dir, tmp_path, [bare(), marked])
    assert code == 0 and problems(out) == []


@pytest.mark.parametrize("pos", ["02", "10"])
def test_telehealth_carries_no_drug_administration_and_no_drug_lines(clinic_dir, tmp_path, pos):
    code, out = claims_json(clinic_dir, tmp_path, [bare(place_of_service=pos)])
    assert code == 1 and out["claims"] == []
    assert [p for p, _ in problems(out, "error")] == ["sessions[0].place_of_service"]
    code, out = claims_json(clinic_dir, tmp_path, [bare(place_of_service=pos, infusion=None)])  # the drug alone
    assert code == 1 and [p for p, _ in problems(out, "error")] == ["sessions[0].place_of_service"]
    code, out = claims_json(clinic_dir, tmp_path, [bare(place_of_service=pos, infusion=None, medications=[],
                                                        services=[{"code": "99214"}])])
    assert code == 0 and out["claims"][0]["place_of_service"] == pos


# ---------------------------------------------------------------- identifiers, diagnoses, pointers, codes


def test_a_provider_npi_failing_luhn_is_an_error_naming_it(clinic_dir, tmp_path):
    # 100300012 -> check digit 6 (24 + Luhn of the 9 digits); 1003000127 is off by one
    clinic = read_yaml(clinic_yaml(clinic_dir))
    clinic["providers"][0]["npi"] = "1003000127"
    own = write_yaml(tmp_path / "clinic.yaml", clinic)
    result = run("check", patient_file(tmp_path, "p.yaml", [base_session()]), clinic=own)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert any(line.startswith(f"{own}: providers[0].npi: error:") for line in result.stderr.splitlines())


@pytest.mark.parametrize("diagnoses, path", [
    ([], "sessions[0].diagnoses"),
    (["G90.511", "G90.511"], "sessions[0].diagnoses"),
    (["G90.51"], "sessions[0].diagnoses[0]"),                 # a category with subcodes is not billable
    (["G90.511", "F33.1", "M79.7", "M54.50", "E11.42", "G43.909", "F41.1", "F43.10", "I10", "E78.5",
      "K21.9", "J45.909", "N39.0"], "sessions[0].diagnoses"),  # 13
])
def test_diagnosis_list_rules(clinic_dir, tmp_path, diagnoses, path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(diagnoses=diagnoses)])
    assert code == 1 and out["claims"] == []
    assert path in [p for p, _ in problems(out, "error")]


def test_twelve_diagnoses_are_allowed_and_the_default_pointers_are_the_first_four(clinic_dir, tmp_path):
    twelve = ["G90.511", "F33.1", "M79.7", "M54.50", "E11.42", "G43.909", "F41.1", "F43.10", "I10", "E78.5",
              "K21.9", "J45.909"]
    code, out = claims_json(clinic_dir, tmp_path, [bare(diagnoses=twelve)])
    assert code == 0, problems(out)
    claim = out["claims"][0]
    assert claim["diagnoses"] == twelve
    assert {tuple(ln["pointers"]) for ln in claim["lines"]} == {(1, 2, 3, 4)}


def test_diagnosis_valid_on_the_date_of_service_by_edition(clinic_dir, tmp_path):
    # E11.A (type 2 diabetes in remission) exists from FY2026 (2025-10-01), not in FY2025
    code, out = claims_json(clinic_dir, tmp_path, [bare(date="2025-09-30", diagnoses=["E11.A"])])
    assert code == 1 and [p for p, _ in problems(out, "error")] == ["sessions[0].diagnoses[0]"]
    code, out = claims_json(clinic_dir, tmp_path, [bare(date="2025-10-01", diagnoses=["E11.A"])])
    assert code == 0 and out["problems"] == []   # FY2026 is shipped: no edition note


@pytest.mark.parametrize("date, asked, used", [("2019-06-03", "FY2019", "FY2021"), ("2022-03-01", "FY2022", "FY2021"),
                                               ("2024-06-01", "FY2024", "FY2025"), ("2026-10-01", "FY2027", "FY2026")])
def test_an_edition_not_shipped_is_checked_against_the_nearest_with_a_warning(clinic_dir, tmp_path, date, asked, used):
    code, out = claims_json(clinic_dir, tmp_path, [bare(date=date)])
    assert code == 0
    notes = [p for p in out["problems"] if p["path"] == "sessions[0].date"]
    assert len(notes) == 1 and notes[0]["severity"] == "warning"
    assert asked in notes[0]["message"] and used in notes[0]["message"]


@pytest.mark.parametrize("service, path", [
    ({"code": "93000", "pointers": [3]}, "sessions[0].services[0].pointers[0]"),   # only 2 diagnoses
    ({"code": "93000", "pointers": [1, 2, 1, 2, 1]}, "sessions[0].services[0].pointers"),
    ({"code": "93000", "pointers": []}, "sessions[0].services[0].pointers"),
    ({"code": "9300"}, "sessions[0].services[0].code"),
    ({"code": "93000", "modifiers": ["XYZ"]}, "sessions[0].services[0].modifiers[0]"),
    ({"code": "93000", "modifiers": ["59", "XE", "XU", "GA", "GY"]}, "sessions[0].services[0].modifiers"),
    ({"code": "93000", "units": 0}, "sessions[0].services[0].units"),
])
def test_line_rules_name_the_line(clinic_dir, tmp_path, service, path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(services=[service])])
    assert code == 1 and out["claims"] == []
    assert [p for p, _ in problems(out, "error")] == [path]


def test_units_multiply_the_fee_and_a_line_charge_overrides_it(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion=None, medications=[], services=[
        {"code": "93000", "units": 3}, {"code": "99214", "charge": 99.99}])])
    assert code == 0
    (claim,) = out["claims"]
    assert lines_of(claim) == [("93000", [], 3, "180.00"), ("99214", [], 1, "99.99")]
    assert claim["total_charge"] == "279.99"


# ---------------------------------------------------------------- input-file errors, exit codes


def test_unknown_key_and_bad_value_are_one_line_each_naming_file_and_path(clinic_dir, tmp_path):
    data = example_patient()
    data["insurance"]["payerid"] = "x"                       # a typo must not silently drop data
    data["sessions"][0]["medications"][0]["dose_mg"] = "seventy"
    path = write_yaml(tmp_path / "typo.yaml", data)
    result = run("check", path, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if ": error:" in line]
    assert [line.split(": error:")[0] for line in errors] == [f"{path}: insurance.payerid",
                                                             f"{path}: sessions[0].medications[0].dose_mg"]


def test_usage_errors_exit_2(clinic_dir, tmp_path):
    example = clinic_dir / "patients" / "example.yaml"
    for args in (["check", "--bogus", example], ["export", example, "-o", tmp_path / "o", "--format", "pdf"],
                 ["claims"], ["render", example]):
        result = run(*args, clinic=clinic_yaml(clinic_dir))
        assert result.exit_code == 2, (args, result.output)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["init", "check", "claims", "render", "letter", "export", "gfe", "codes",
                                     "templates"])
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.exit_code == 0 and result.stdout.startswith("Usage:")


def test_init_writes_a_working_owner_only_starter_folder(clinic_dir, monkeypatch):
    for name in ("clinic.yaml", "patients/example.yaml", "requests/example.yaml"):
        assert owner_only(clinic_dir / name), name
    monkeypatch.chdir(clinic_dir)          # ./clinic.yaml is found without --clinic
    monkeypatch.delenv("SUPERBILL_CLINIC", raising=False)
    result = run("check", "patients/example.yaml", "requests/example.yaml")
    assert result.exit_code == 0, result.output
    # the starter's placeholder NPIs and tax ID are a warning a clerk sees
    assert any("clinic.yaml: practice: warning:" in line and "1234567893" in line and "12-3456789" in line
               for line in result.output.splitlines())


def test_clinic_from_the_environment(clinic_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SUPERBILL_CLINIC", str(clinic_yaml(clinic_dir)))
    result = run("claims", "--json", clinic_dir / "patients" / "example.yaml")
    assert result.exit_code == 0 and json.loads(result.stdout)["claims"] == [SPEC_CLAIM]


def test_check_json_is_machine_readable(clinic_dir, tmp_path):
    bad = patient_file(tmp_path, "bad.yaml", [bare(services=[{"code": "93000", "pointers": [3]}])])
    result = run("check", "--json", bad, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    found = [p for p in out["problems"] if p["severity"] == "error"]
    assert found == [{"file": str(bad), "path": "sessions[0].services[0].pointers[0]", "severity": "error",
                      "message": found[0]["message"]}]


# ---------------------------------------------------------------- codes and templates


def test_codes_show_and_search(clinic_dir):
    show = run("codes", "show", "G90.511")
    assert show.exit_code == 0 and "Complex regional pain syndrome I of right upper limb" in show.stdout
    show = run("codes", "show", "J2405")
    assert show.exit_code == 0 and "1 mg" in show.stdout
    search = run("codes", "search", "complex regional right upper")
    assert search.exit_code == 0 and any(line.startswith("G90.511") for line in search.stdout.splitlines())
    assert run("codes", "show", "ZZZZZ").exit_code == 1
    assert "Office" in run("codes", "show", "11").stdout                       # a place of service
    assert "single-dose" in run("codes", "show", "JZ").stdout                  # a modifier
    assert "2025-10-01" in run("codes", "show", "E11.A").stdout                # its validity by date of service


def test_templates_list_and_copy(tmp_path):
    listed = run("templates", "list")
    assert listed.exit_code == 0
    for name in ("superbill.html", "letter.html", "gfe.html"):
        assert name in listed.stdout
    copied = run("templates", "copy", tmp_path / "mine")
    assert copied.exit_code == 0
    assert {"superbill.html", "letter.html", "gfe.html"} <= {p.name for p in (tmp_path / "mine").iterdir()}


# ---------------------------------------------------------------- one export of three patients, every format

PAYER_ADDRESS = {"street": "PO Box 1000", "city": "Chicago", "state": "IL", "zip": "60601"}
CHILD = {"relationship": "child", "first_name": "John", "last_name": "Doe", "dob": "1979-02-02", "sex": "M",
         "address": {"street": "9 Oak St", "city": "Springfield", "state": "IL", "zip": "62704"}}
IDS = ["P0001-20261102", "P0002-20261102", "P0003-20261102"]


def write_practice(folder: Path) -> Path:
    """The starter clinic and three patients: P0001 the SPEC example with a payer address and a prior
    authorization; P0002 on Medicare Part B (MB); P0003 a child on the father's plan, unpaid, $100 written off."""
    assert run("init", folder).exit_code == 0
    patients = folder / "patients"
    (patients / "example.yaml").unlink()
    session = base_session()
    patient_file(patients, "a.yaml", [dict(session, prior_authorization="PA-12-34")],
                 insurance={"payer_address": PAYER_ADDRESS})
    medicare = example_patient()
    medicare["patient"].update(id="P0002", first_name="Mary")
    medicare["insurance"] = {"payer_name": "Medicare Part B", "payer_id": "00952", "member_id": "1EG4TE5MK73",
                             "filing_indicator": "MB"}
    write_yaml(patients / "b.yaml", medicare)
    patient_file(patients, "c.yaml", [dict(session, payments=[], adjustments=[{"amount": 100.00, "reason": "courtesy"}])],
                 patient={"id": "P0003", "first_name": "Tim", "dob": "2012-05-05", "sex": "M"},
                 insurance={"subscriber": CHILD})
    return folder


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = write_practice(tmp_path_factory.mktemp("practice") / "clinic")
    result = run("export", folder / "patients", "-o", folder / "out" / "run1", "--format", "837p,cms1500,csv,superbill",
                 "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    return folder, folder / "out" / "run1", result


def only(folder: Path, pattern: str) -> Path:
    (found,) = sorted(folder.glob(pattern))
    return found


def claim_loop(text: str, claim_id: str) -> list[list[str]]:
    """The 2300 loop of one claim and its lines, from its CLM to the next HL or SE."""
    out: list[list[str]] = []
    for seg in segments(text):
        if out and seg[0] in ("HL", "SE"):
            break
        if out or (seg[0] == "CLM" and seg[1] == claim_id):
            out.append(seg)
    assert out, claim_id
    return out


def subscriber_loop(text: str, claim_id: str) -> list[list[str]]:
    """The segments from the claim's subscriber HL (2000B) up to its CLM."""
    segs = segments(text)
    at = next(i for i, s in enumerate(segs) if s[0] == "CLM" and s[1] == claim_id)
    start = max(i for i, s in enumerate(segs[:at]) if s[0] == "HL" and s[3] == "22")
    return segs[start:at]


def test_export_writes_every_format_owner_only_in_a_new_folder(exported):
    folder, out, result = exported
    names = sorted(p.name for p in out.iterdir())
    assert len([n for n in names if n.endswith(".837")]) == 1
    assert len([n for n in names if n.startswith("cms1500") and n.endswith(".pdf")]) == 1
    assert len([n for n in names if n.endswith(".csv")]) == 1
    assert len([n for n in names if n.startswith("superbill")]) == 3   # one per patient
    assert all(owner_only(out / n) for n in names)


def test_837p_is_valid_and_its_claims_are_the_hand_computed_ones(exported):
    _, out, _ = exported
    text = only(out, "*.837").read_text(encoding="ascii")
    assert_valid_x12(text)
    segs = segments(text)
    assert segs[0][0] == "ISA" and len(text.split("~")[0]) + 1 == 106      # fixed-width ISA
    assert sorted(s[1] for s in segs if s[0] == "CLM") == IDS
    for claim_id in IDS:
        loop = claim_loop(text, claim_id)
        clm = loop[0]
        assert clm[2] == "1035.00"
        assert clm[5] == "11:B:1"                                            # POS 11, original
        sv1 = [s for s in loop if s[0] == "SV1"]
        assert [s[1] for s in sv1] == ["HC:99214:25", "HC:93000", "HC:96365", "HC:96366",
                                       "HC:J3490:::::KETAMINE HCL 100 MG/ML 70 MG IV", "HC:J2405:JZ"]
        assert sum(Decimal(s[2]) for s in sv1) == Decimal("1035.00")          # CLM02 = sum of SV102
        assert [s[4] for s in sv1] == ["1", "1", "1", "1", "1", "4"]
        assert [s for s in loop if s[0] == "HI"] == [["HI", "ABK:G90511", "ABF:F331"]]   # no decimal point
        assert [s[1:] for s in loop if s[0] in ("LIN", "CTP")] == [
            ["", "N4", "00409205105"], ["", "", "", "0.7", "ML"], ["", "N4", "00409000925"], ["", "", "", "2", "ML"]]
        assert all(Decimal(s[2]) <= Decimal(clm[2]) for s in loop if s[:2] == ["AMT", "F5"])
        assert [s for s in loop if s[0] == "DTP" and s[1] == "472"] == [["DTP", "472", "D8", "20261102"]] * 6
    assert [s for s in claim_loop(text, IDS[0]) if s[:2] == ["AMT", "F5"]] == [["AMT", "F5", "650.00"]]
    assert [s[2] for s in claim_loop(text, IDS[0]) if s[:2] == ["REF", "G1"]] == ["PA-12-34"]
    # control numbers match their trailers
    assert segs[0][13] == segs[-1][2] and segs[1][6] == segs[-2][2]
    st = next(i for i, s in enumerate(segs) if s[0] == "ST")
    se = next(i for i, s in enumerate(segs) if s[0] == "SE")
    assert int(segs[se][1]) == se - st + 1 and segs[se][2] == segs[st][2]


def test_837p_dependent_patient_goes_in_2000c(exported):
    _, out, _ = exported
    text = only(out, "*.837").read_text(encoding="ascii")
    sub = subscriber_loop(text, IDS[2])
    sbr = next(s for s in sub if s[0] == "SBR")
    assert sbr[2] == ""                                                  # SBR02 18 only for self
    assert next(s for s in sub if s[:2] == ["NM1", "IL"])[3:5] == ["DOE", "JOHN"]
    assert ["PAT", "19"] in sub                                          # 19 = child
    assert next(s for s in sub if s[:2] == ["NM1", "QC"])[3:5] == ["DOE", "TIM"]
    assert ["DMG", "D8", "20120505", "M"] in sub
    # the patient who is the subscriber: SBR02 18, no 2000C
    own = subscriber_loop(text, IDS[0])
    assert next(s for s in own if s[0] == "SBR")[2] == "18" and not any(s[0] == "PAT" for s in own)
    assert ["DMG", "D8", "19800101", "F"] in own


CMS = {"carrier 1": (2, 41, 71), "carrier 2": (3, 41, 71), "carrier 3": (4, 41, 71), "4": (10, 50, 80),
       "11": (18, 50, 80), "23": (40, 50, 80), "26": (56, 23, 37), "22 code": (38, 50, 60),
       "22 original ref": (38, 62, 80), "1a": (8, 50, 80), "33 name": (58, 50, 80), "33a": (61, 50, 62)}


def cms_item(page, item: str) -> str:
    line, first, last = CMS[item]
    return cell(page, line, first, last - first + 1)


def cms_pages(pdf_path: Path) -> dict[str, object]:
    """{item 26 (the patient account number = claim id without hyphens): page}, pages kept open by the caller."""
    pdf = pdfplumber.open(pdf_path)
    return pdf, {cms_item(page, "26"): page for page in pdf.pages}


def test_cms1500_items_from_the_nucc_rules(exported):
    _, out, _ = exported
    pdf, pages = cms_pages(only(out, "cms1500*.pdf"))
    with pdf:
        # item 26 and item 23: no hyphens or spaces
        assert sorted(pages) == ["P000120261102", "P000220261102", "P000320261102"]
        jane, medicare, child = pages["P000120261102"], pages["P000220261102"], pages["P000320261102"]
        assert cms_item(jane, "23") == "PA1234"
        # the carrier block: the payer's name and claims address
        assert [cms_item(jane, f"carrier {n}") for n in (1, 2, 3)] == ["EXAMPLE HEALTH PLAN", "PO BOX 1000",
                                                                        "CHICAGO IL 60601"]
        assert cms_item(jane, "11") == "GRP123" and cms_item(jane, "4") == "DOE, JANE"
        # Medicare primary: item 11 NONE, item 4 blank
        assert cms_item(medicare, "11") == "NONE" and cms_item(medicare, "4") == ""
        assert cms_item(medicare, "carrier 1") == "MEDICARE PART B"
        # the child: item 4 is the insured (the father)
        assert cms_item(child, "4") == "DOE, JOHN"
        assert all(cms_item(p, "22 code") == "" for p in pages.values())


def csv_rows(path: Path) -> list[dict]:
    import csv
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:  # an identifier may be guarded as ="..." against spreadsheet number conversion
        for key, value in row.items():
            if value and value.startswith('="') and value.endswith('"'):
                row[key] = value[2:-1]
    return rows


def test_csv_one_row_per_service_line_with_the_claims_identifiers_and_balance(exported):
    _, out, _ = exported
    rows = csv_rows(only(out, "*.csv"))
    assert len(rows) == 18                                   # 3 claims x 6 lines
    assert sorted({r["claim_id"] for r in rows}) == IDS
    child = [r for r in rows if r["claim_id"] == IDS[2]]
    assert [r["code"] for r in child] == ["99214", "93000", "96365", "96366", "J3490", "J2405"]
    assert [r["ndc"] for r in child][4:] == ["00409205105", "00409000925"]
    # balance = charges - payments - adjustments: 1035.00 - 0 - 100.00
    assert {(r["total_charge"], r["amount_paid"], r["amount_adjusted"], r["balance"]) for r in child} == {
        ("1035.00", "0.00", "100.00", "935.00")}
    jane = [r for r in rows if r["claim_id"] == IDS[0]]
    assert {(r["member_id"], r["payer_id"], r["balance"]) for r in jane} == {("XYZ123456789", "12345", "385.00")}
    assert {r["payer_id"] for r in rows if r["claim_id"] == IDS[1]} == {"00952"}   # the leading zero kept


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_superbill_pdf_carries_every_spec_element(exported):
    _, out, _ = exported
    text = pdf_text(only(out, "superbill*P0001*.pdf"))
    flat = " ".join(text.split())
    for expected in ("Example Ketamine Clinic LLC", "100 Main St", "(217) 555-0100", "1234567893", "12-3456789",
                     "207LP2900X",                                          # practice block
                     "Avery Lee", "1003000126",                              # rendering provider with NPI
                     "Jane Doe", "XYZ123456789", "GRP123",                   # patient and insurance
                     "99214", "25", "93000", "96365", "96366", "J3490", "J2405", "JZ",
                     "00409205105", "0.7", "00409000925",                    # NDC and quantity on drug lines
                     "G90.511", "Complex regional pain syndrome I of right upper limb", "F33.1",
                     "$1,035.00", "$650.00", "$385.00",                      # charges, paid, balance
                     "CPT® is a registered trademark of the American Medical Association"):
        assert expected in flat, expected


def test_superbill_shows_the_subscriber_relationship_and_adjustments(exported):
    _, out, _ = exported
    flat = " ".join(pdf_text(only(out, "superbill*P0003*.pdf")).split())
    assert "John Doe" in flat and "Child" in flat
    # money on a session: 1035.00 charged, nothing paid, 100.00 written off ("courtesy"): balance 935.00
    assert "$1,035.00" in flat and "$100.00" in flat and "courtesy" in flat and "$935.00" in flat
    assert "$1,035.00 balance" not in flat.lower() and "Balance due $1,035.00" not in flat


def test_second_export_exports_nothing_new(exported, tmp_path):
    folder, _, _ = exported
    again = run("export", folder / "patients", "-o", tmp_path / "again", "--format", "837p,csv", "--jobs", "1",
                clinic=folder / "clinic.yaml")
    assert again.exit_code == 0, again.output
    assert not list((tmp_path / "again").glob("*.837")) and not list((tmp_path / "again").glob("*.csv"))
    assert any("skipped" in line and "3" in line for line in again.output.splitlines())


# ---------------------------------------------------------------- resubmit, replace, void (frequency codes 1, 7, 8)

CLAIM = "P0001-20261102"


def clm_and_f8(path: Path) -> list[list[str]]:
    return [s for s in segments(path.read_text(encoding="ascii")) if s[0] == "CLM" or s[:2] == ["REF", "F8"]]


def test_replace_void_resubmit_through_the_cli(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = folder / "clinic.yaml"

    def export(out, *args):
        return run("export", folder / "patients", "-o", folder / out, "--jobs", "1", *args, clinic=clinic)

    first = export("o1", "--format", "837p")
    assert first.exit_code == 0
    isa = [segments(only(folder / "o1", "*.837").read_text())[0][13]]

    replaced = export("o2", "--format", "837p,cms1500", "--replace", f"{CLAIM}=2026123456789")
    assert replaced.exit_code == 0, replaced.output
    text = only(folder / "o2", "*.837").read_text()
    assert_valid_x12(text)
    assert [s[:6] if s[0] == "CLM" else s for s in clm_and_f8(folder / "o2" / only(folder / "o2", "*.837").name)] == [
        ["CLM", CLAIM, "1035.00", "", "", "11:B:7"], ["REF", "F8", "2026123456789"]]
    isa.append(segments(text)[0][13])
    pdf, pages = cms_pages(only(folder / "o2", "cms1500*.pdf"))
    with pdf:
        (page,) = pages.values()
        assert (cms_item(page, "22 code"), cms_item(page, "22 original ref")) == ("7", "2026123456789")

    voided = export("o3", "--format", "837p", "--void", f"{CLAIM}=2026123456789")
    assert voided.exit_code == 0, voided.output
    text = only(folder / "o3", "*.837").read_text()
    assert_valid_x12(text)
    assert [s[5] for s in clm_and_f8(only(folder / "o3", "*.837")) if s[0] == "CLM"] == ["11:B:8"]
    assert ["REF", "F8", "2026123456789"] in clm_and_f8(only(folder / "o3", "*.837"))
    isa.append(segments(text)[0][13])

    # unchanged: a plain export sends nothing; --resubmit-claim sends it anyway, as an original
    assert not list((folder / "o4").glob("*.837")) if export("o4", "--format", "837p").exit_code == 0 else False
    again = export("o5", "--format", "837p", "--resubmit-claim", CLAIM)
    assert again.exit_code == 0
    assert [s[5] for s in clm_and_f8(only(folder / "o5", "*.837"))] == ["11:B:1"]
    isa.append(segments(only(folder / "o5", "*.837").read_text())[0][13])

    # changed: not re-sent without --resubmit, re-sent with it
    data = read_yaml(folder / "patients" / "example.yaml")
    data["sessions"][0]["payments"][0]["amount"] = 600.00
    write_yaml(folder / "patients" / "example.yaml", data)
    held = export("o6", "--format", "837p")
    assert held.exit_code == 0 and not list((folder / "o6").glob("*.837"))
    assert any(CLAIM in line and "changed" in line for line in held.output.splitlines())
    sent = export("o7", "--format", "837p", "--resubmit")
    assert sent.exit_code == 0
    loop = claim_loop(only(folder / "o7", "*.837").read_text(), CLAIM)
    assert loop[0][5] == "11:B:1" and ["AMT", "F5", "600.00"] in loop
    isa.append(segments(only(folder / "o7", "*.837").read_text())[0][13])
    assert len(set(isa)) == len(isa) == 5                                   # no interchange number repeats

    listing = run("ledger", "list", clinic=clinic).stdout
    assert "replacement of payer claim 2026123456789" in listing and "void of payer claim 2026123456789" in listing


def test_replace_refusals(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = folder / "clinic.yaml"
    bad_syntax = run("export", folder / "patients", "-o", folder / "o", "--replace", CLAIM, clinic=clinic)
    assert bad_syntax.exit_code == 2
    unknown = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", "--replace", "P0009-20261102=1",
                  clinic=clinic)
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert any(line.startswith("P0009-20261102: error:") for line in unknown.stderr.splitlines())
    assert not (folder / "o").exists() or not list((folder / "o").iterdir())      # nothing half-written


# ---------------------------------------------------------------- render, letter, gfe


def test_render_per_patient_per_session_html_and_range(clinic_dir, tmp_path):
    example = clinic_dir / "patients" / "example.yaml"
    clinic = clinic_yaml(clinic_dir)
    html = run("render", example, "-o", tmp_path / "html" / "deep", "--html", clinic=clinic)   # folder created
    assert html.exit_code == 0, html.output
    (page,) = (tmp_path / "html" / "deep").iterdir()
    assert page.suffix == ".html" and owner_only(page)
    body = page.read_text(encoding="utf-8")
    assert "00409205105" in body and "1,035.00" in body and "G90.511" in body
    per = run("render", example, "-o", tmp_path / "per", "--per-session", "--from", "2026-11-01", "--to", "2026-11-30",
              clinic=clinic)
    assert per.exit_code == 0
    (pdf,) = (tmp_path / "per").iterdir()
    assert pdf.suffix == ".pdf" and owner_only(pdf) and pdf.read_bytes().startswith(b"%PDF")
    outside = run("render", example, "-o", tmp_path / "none", "--from", "2026-12-01", clinic=clinic)
    assert outside.exit_code == 0
    assert not (tmp_path / "none").exists() or not list((tmp_path / "none").iterdir())


def test_letter_has_the_domain_7_2_elements_and_hand_computed_costs(clinic_dir, tmp_path):
    out = tmp_path / "letters" / "letter.pdf"
    result = run("letter", clinic_dir / "requests" / "example.yaml", "-o", out, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 0, result.output
    assert owner_only(out)
    flat = " ".join(pdf_text(out).split())
    # 240 min per session: 96365 x1 + 96366 x((240 - 91) // 60 + 1 = 3); ketamine 140 mg J3490 x1 (1.4 ML)
    # per session 189 + 450 + 3 x 200 + 120 = 1359.00; the course of 6: 8154.00
    for expected in ("Example Health Plan", "XYZ123456789", "Jane Doe", "01/01/1980", "Standard",
                     "Avery Lee", "1003000126", "1234567893", "G90.511", "99214", "96365", "96366", "J3490",
                     "$1,359.00", "$8,154.00", "gabapentin", "inadequate relief", "Psychosis",
                     "0.5 mg/kg/h", "at least 30% reduction", "Monitoring", "Cohen SP", "Sincerely"):
        assert expected.lower() in flat.lower(), expected
    assert "6 sessions" in flat and "$600.00" in flat                          # 96366 3 units x 200.00
    today = dt.date.today()
    assert f"{today:%B} {today.day}, {today.year}" in flat                   # a dated letter


def test_gfe_elements_number_and_total(clinic_dir, tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    out = tmp_path / "gfe" / "estimate.pdf"
    result = run("gfe", folder / "gfe" / "example.yaml", "-o", out, clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    assert owner_only(out)
    flat = " ".join(pdf_text(out).split())
    # the same plan as the letter: 1359.00 per session, 8154.00 for the 6 sessions
    for expected in ("Jane Doe", "01/01/1980", "December 1, 2026", "December 14, 2026", "99214", "96365", "96366",
                     "J3490", "$1,359.00", "$8,154.00", "1234567893", "12-3456789", "100 Main St", "G90.511",
                     "not a contract", "additional items or services", "$400", "dispute", "Keep a copy"):
        assert expected.lower() in flat.lower(), expected
    number = next(word for word in flat.split() if word.startswith("GFE-"))
    # a different estimate (5 sessions: 5 x 1359.00 = 6795.00) gets its own number, recorded in the ledger
    data = read_yaml(folder / "gfe" / "example.yaml")
    data["plan"]["sessions"] = 5
    write_yaml(folder / "gfe" / "five.yaml", data)
    other = run("gfe", folder / "gfe" / "five.yaml", "-o", tmp_path / "gfe" / "second.html", "--html",
                clinic=folder / "clinic.yaml")
    assert other.exit_code == 0, other.output
    body = (tmp_path / "gfe" / "second.html").read_text(encoding="utf-8")
    assert "$6,795.00" in body
    second = next(word for word in re.split(r"[\s<>]+", body) if word.startswith("GFE-"))
    assert second != number                                                  # a unique number each
    assert second in run("ledger", "list", clinic=folder / "clinic.yaml").stdout
    assert number in run("ledger", "list", clinic=folder / "clinic.yaml").stdout


@pytest.mark.parametrize("extra, warned", [("400.00", True), ("399.99", False)])
def test_check_warns_at_400_over_an_estimate(tmp_path, extra, warned):
    # an estimate for one session: 189 + 450 + 3 x 200 + 120 = 1359.00; billed in its period: the same session
    # (1359.00) and a visit charged `extra`: over by exactly 400.00 warns ("$400 or more"), by 399.99 does not
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = folder / "clinic.yaml"
    estimate = read_yaml(folder / "gfe" / "example.yaml")
    estimate.update(scheduled_on="2026-10-20", issued_on="2026-10-20")
    estimate["plan"].update(sessions=1, start="2026-11-01", end="2026-11-14")
    write_yaml(folder / "gfe" / "example.yaml", estimate)
    assert run("gfe", folder / "gfe" / "example.yaml", "-o", tmp_path / "e.html", "--html", clinic=clinic).exit_code == 0
    infusion = bare(date="2026-11-02", infusion={"start": "09:00", "end": "13:00"},
                    medications=[{"drug": "ketamine", "dose_mg": 140}], services=[{"code": "99214"}])
    visit = bare(date="2026-11-03", infusion=None, medications=[], services=[{"code": "99214", "charge": float(extra)}])
    path = patient_file(folder / "patients", "example.yaml", [infusion, visit])
    claims = json.loads(run("claims", "--json", path, clinic=clinic).stdout)["claims"]
    assert [c["total_charge"] for c in claims] == ["1359.00", extra]
    result = run("check", "--json", path, clinic=clinic)
    assert result.exit_code == 0
    over = [p for p in json.loads(result.stdout)["problems"] if "400" in p["message"] or "estimate" in p["message"].lower()]
    assert bool(over) == warned and all(p["severity"] == "warning" for p in over)


# ---------------------------------------------------------------- more of the day's rules, money, paper


def with_second_provider(clinic_dir: Path, tmp_path: Path, **practice) -> Path:
    clinic = read_yaml(clinic_yaml(clinic_dir))
    clinic["providers"].append({"id": "dr-kim", "first_name": "Sam", "last_name": "Kim", "credentials": "MD",
                                "npi": "1558598797", "taxonomy": "207LP2900X"})   # a valid NPI (Luhn with 80840)
    clinic["practice"].update(practice)
    return write_yaml(tmp_path / "clinic.yaml", clinic)


def test_modifier_25_is_judged_per_provider_the_second_initial_code_per_patient(clinic_dir, tmp_path):
    own = with_second_provider(clinic_dir, tmp_path)
    kim_visit = bare(provider="dr-kim", infusion=None, medications=[], services=[{"code": "99214"}], time="08:00")
    path = patient_file(tmp_path, "p.yaml", [bare(), kim_visit])
    out = json.loads(run("claims", "--json", path, clinic=own).stdout)
    # dr-kim gave no drug administration that day: no 25 on her E/M
    assert [lines_of(c)[0] for c in out["claims"]] == [("99214", [], 1, "189.00"), ("96365", [], 1, "450.00")]
    kim_infusion = bare(provider="dr-kim", infusion={"start": "13:00", "end": "14:00"})
    path = patient_file(tmp_path, "p.yaml", [bare(), kim_infusion])
    out = json.loads(run("claims", "--json", path, clinic=own).stdout)
    assert [p for p, _ in problems(out, "warning")] == ["sessions[1].infusion"]


def test_payments_above_the_charges_are_a_credit_on_the_superbill(clinic_dir, tmp_path):
    paid = base_session(payments=[{"date": DOS, "amount": 2000.00, "method": "card"}])
    path = patient_file(tmp_path, "p.yaml", [paid])
    result = run("render", path, "-o", tmp_path / "out", "--html", clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 0
    (page,) = (tmp_path / "out").iterdir()
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())
    assert "$2,000.00" in text and "$965.00" in text and "Credit" in text     # 2000.00 - 1035.00


def test_cms1500_six_lines_a_page_each_page_totalled_and_data_only(clinic_dir, tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    eight = base_session(services=[{"code": "93000", "pointers": [1]}, {"code": "94760", "charge": 10.00},
                                   {"code": "J7050", "charge": 25.00}])
    patient_file(folder / "patients", "example.yaml", [eight])
    result = run("export", folder / "patients", "-o", folder / "o", "--format", "cms1500", "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    with pdfplumber.open(only(folder / "o", "cms1500*.pdf")) as pdf:
        assert len(pdf.pages) == 2
        codes = [[line["code"] for line in page_lines(page)] for page in pdf.pages]
        assert codes == [["99214", "93000", "94760", "J7050", "96365", "96366"], ["J3490", "J2405"]]
        # per page: 189 + 60 + 10 + 25 + 450 + 200 = 934.00; 120 + 16 = 136.00 (item 28)
        assert [amount(page, 56, 56) for page in pdf.pages] == [Decimal("934.00"), Decimal("136.00")]
        assert all(cms_item(page, "26") == "P000120261102" and cms_item(page, "1a") == "XYZ123456789"
                   for page in pdf.pages)                                 # each page self-contained
    data_only = run("export", folder / "patients", "-o", folder / "d", "--format", "cms1500", "--jobs", "1",
                    "--resubmit-claim", CLAIM, "--cms1500-data-only", clinic=folder / "clinic.yaml")
    assert data_only.exit_code == 0, data_only.output
    with pdfplumber.open(only(folder / "d", "cms1500*.pdf")) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
        assert "HEALTH INSURANCE CLAIM FORM" not in text and "P000120261102" in text


def test_solo_practitioner_is_the_billing_provider_on_the_cms1500(clinic_dir, tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["practice"]["npi"] = clinic["providers"][0]["npi"]            # Avery Lee bills under her own NPI
    write_yaml(folder / "clinic.yaml", clinic)
    result = run("export", folder / "patients", "-o", folder / "o", "--format", "cms1500", "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    with pdfplumber.open(only(folder / "o", "cms1500*.pdf")) as pdf:
        page = pdf.pages[0]
        assert "LEE" in cms_item(page, "33 name") and "AVERY" in cms_item(page, "33 name")
        assert cms_item(page, "33a") == "1003000126"


def test_clinic_templates_and_logo_paths_are_relative_to_the_clinic_file(clinic_dir, tmp_path, monkeypatch):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    assert run("templates", "copy", folder / "mine").exit_code == 0
    page = folder / "mine" / "superbill.html"
    page.write_text('{% extends "default:superbill.html" %}\n'            # templates/README.md's own example
                    '{% block notes %}<section class="notes">OUR-OWN-WORDING</section>{% endblock %}\n',
                    encoding="utf-8")
    from PIL import Image
    Image.new("RGB", (40, 20), (200, 0, 0)).save(folder / "logo.png")
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["templates"] = "./mine"
    clinic["practice"]["logo"] = "./logo.png"
    write_yaml(folder / "clinic.yaml", clinic)
    monkeypatch.chdir(tmp_path)                                          # not the clinic's folder
    result = run("render", folder / "patients" / "example.yaml", "-o", tmp_path / "out", "--html",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    (html,) = (tmp_path / "out").iterdir()
    assert "OUR-OWN-WORDING" in html.read_text(encoding="utf-8")
    assert (folder / "logo.png").as_uri() in html.read_text(encoding="utf-8")          # the logo, beside clinic.yaml


def test_a_rejected_request_writes_no_letter(clinic_dir, tmp_path):
    request = read_yaml(clinic_dir / "requests" / "example.yaml")
    request["patient"] = str(clinic_dir / "patients" / "example.yaml")
    request["screening"]["pregnancy"] = True                             # true needs screening_rationale
    path = write_yaml(tmp_path / "request.yaml", request)
    out = tmp_path / "letters" / "letter.pdf"
    result = run("letter", path, "-o", out, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert any(line.startswith(f"{path}: ") for line in result.stderr.splitlines())
    assert not out.exists()


def test_clinic_after_the_command_is_a_usage_error(clinic_dir):
    result = run("check", "--clinic", clinic_yaml(clinic_dir), clinic_dir / "patients" / "example.yaml")
    assert result.exit_code == 2


@pytest.mark.parametrize("change, path", [
    (lambda s: s["infusion"].update(end="24:10"), "sessions[0].infusion.end"),
    (lambda s: s["payments"][0].update(amount="650.005"), "sessions[0].payments[0].amount"),
    (lambda s: s.update(date="11/02/2026"), "sessions[0].date"),
    (lambda s: s["medications"][0].update(route="XX"), "sessions[0].medications[0].route"),
])
def test_dates_times_money_and_choices_are_checked_by_path(clinic_dir, tmp_path, change, path):
    session = base_session()
    change(session)
    code, out = claims_json(clinic_dir, tmp_path, [session])
    assert code == 1 and out["claims"] == []
    assert path in [p for p, _ in problems(out, "error")]


def test_a_broken_yaml_file_is_one_line_naming_it(clinic_dir, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("patient: {id: P1\nsessions: [\n", encoding="utf-8")
    result = run("check", path, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith(f"{path}: ")


def test_an_unknown_key_in_the_clinic_holds_back_everything(clinic_dir, tmp_path):
    clinic = read_yaml(clinic_yaml(clinic_dir))
    clinic["practice"]["fone"] = "2175550100"
    own = write_yaml(tmp_path / "clinic.yaml", clinic)
    result = run("check", "--json", clinic_dir / "patients" / "example.yaml", clinic=own)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert ("practice.fone", "error") in [(p["path"], p["severity"]) for p in out["problems"] if p["file"] == str(own)]
    claims = run("claims", clinic_dir / "patients" / "example.yaml", clinic=own)
    assert claims.exit_code == 1 and "Traceback" not in claims.output
    assert f"{own}: practice.fone: error: unknown key (is it a typo?)" in claims.stderr.splitlines()


def test_the_route_is_in_the_drug_lines_description(clinic_dir, tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    session = base_session()
    session["medications"][0]["route"] = "IM"
    patient_file(folder / "patients", "example.yaml", [session])
    result = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 0
    sv1 = [s[1] for s in segments(only(folder / "o", "*.837").read_text()) if s[0] == "SV1"]
    assert "HC:J3490:::::KETAMINE HCL 100 MG/ML 70 MG IM" in sv1                # name, strength, dose (and route)


def test_a_request_file_in_json_and_as_a_gfe(clinic_dir, tmp_path):
    request = read_yaml(clinic_dir / "requests" / "example.yaml")
    request["patient"] = str(clinic_dir / "patients" / "example.yaml")
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request, default=str), encoding="utf-8")
    letter = run("letter", path, "-o", tmp_path / "letter.html", "--html", clinic=clinic_yaml(clinic_dir))
    assert letter.exit_code == 0, letter.output
    text = " ".join(re.sub(r"<[^>]+>", " ", (tmp_path / "letter.html").read_text(encoding="utf-8")).split())
    assert "$8,154.00" in text
    # a request file as a GFE: its plan is the estimate's (a scheduling date is needed)
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    gfe = run("gfe", folder / "requests" / "example.yaml", "-o", tmp_path / "gfe.html", "--html", "--scheduled-on",
              "2026-11-20", clinic=folder / "clinic.yaml")
    assert gfe.exit_code == 0, gfe.output
    text = " ".join(re.sub(r"<[^>]+>", " ", (tmp_path / "gfe.html").read_text(encoding="utf-8")).split())
    assert "$1,359.00" in text and "$8,154.00" in text


def test_cms1500_a_value_too_long_for_its_box_is_cut_with_a_warning_never_shrunk(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    name = "Blue Cross and Blue Shield of Illinois Federal Plan"             # 51 characters
    patient_file(folder / "patients", "example.yaml", [base_session()], insurance={"payer_name": name})
    result = run("export", folder / "patients", "-o", folder / "o", "--format", "cms1500", "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    assert any("warning" in line and "carrier" in line and "cut" in line for line in result.output.splitlines())
    with pdfplumber.open(only(folder / "o", "cms1500*.pdf")) as pdf:
        page = pdf.pages[0]
        assert cms_item(page, "carrier 1") == name.upper()[:31]             # the box holds 31 characters
        data = [c for c in page.chars if max(c.get("non_stroking_color") or (0,)) < 0.1]
        # 10 characters per inch: every data character 12 pt Courier, 7.2 pt wide
        assert {round(c["size"], 1) for c in data} == {12.0}
        assert {round(c["x1"] - c["x0"], 1) for c in data} == {7.2}
        assert not any(c["text"].islower() for c in data)                   # capitals only


def test_render_one_superbill_per_patient_or_per_session(clinic_dir, tmp_path):
    later = base_session(date="2026-11-05", payments=[{"date": "2026-11-05", "amount": 650.00, "method": "card"}])
    path = patient_file(tmp_path, "p.yaml", [base_session(), later])
    clinic = clinic_yaml(clinic_dir)
    assert run("render", path, "-o", tmp_path / "one", "--html", clinic=clinic).exit_code == 0
    (page,) = (tmp_path / "one").iterdir()
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())
    assert "11/02/2026" in text and "11/05/2026" in text and "$2,070.00" in text      # 2 x 1035.00
    assert run("render", path, "-o", tmp_path / "two", "--html", "--per-session", clinic=clinic).exit_code == 0
    assert len(list((tmp_path / "two").iterdir())) == 2
    assert run("render", path, "-o", tmp_path / "late", "--html", "--from", "2026-11-03", clinic=clinic).exit_code == 0
    (page,) = (tmp_path / "late").iterdir()
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")).split())
    assert "11/05/2026" in text and "11/02/2026" not in text


def test_export_a_rejected_file_among_good_ones_exits_1_and_the_rest_go(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    bad = patient_file(folder / "patients", "bad.yaml", [base_session(diagnoses=["G90.51"])], patient={"id": "P0009"})
    result = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert [s[1] for s in segments(only(folder / "o", "*.837").read_text()) if s[0] == "CLM"] == [CLAIM]
    assert any(line.startswith(f"{bad}: sessions[0].diagnoses[0]: error:")
               for line in result.stderr.splitlines())


@pytest.mark.parametrize("code, date, valid", [
    # U09.9 (post COVID-19 condition) is new in FY2022: not in the shipped FY2021 tabular, in FY2025's
    ("U09.9", "2022-06-01", False),   # FY2022 -> nearest shipped FY2021: not there
    ("U09.9", "2024-06-01", True),    # FY2024 -> nearest shipped FY2025: there
    # B37.3 (candidiasis of vulva and vagina) was split into B37.31/B37.32 by FY2025
    ("B37.3", "2021-06-01", True),    # FY2021, shipped: billable
    ("B37.3", "2024-06-01", False),   # FY2024 -> FY2025: a category now
])
def test_a_date_in_an_edition_not_shipped_uses_the_nearest_shipped_edition(clinic_dir, tmp_path, code, date, valid):
    code_, out = claims_json(clinic_dir, tmp_path, [bare(date=date, diagnoses=[code])])
    assert (code_ == 0) == valid
    assert [p for p, _ in problems(out, "error")] == ([] if valid else ["sessions[0].diagnoses[0]"])


def test_a_line_charge_is_per_line_and_a_tiny_dose_is_one_unit(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion=None, medications=[{"drug": "ondansetron", "dose_mg": 0.5}],
                                                        services=[{"code": "93000", "units": 3, "charge": 100.00}])])
    assert code == 0
    (claim,) = out["claims"]
    # the line's charge is the line's (not x3); 0.5 mg of a per-1-mg code: ceil = 1 unit, at least 1; 0.5/2 = 0.25 ML
    assert lines_of(claim) == [("93000", [], 3, "100.00"), ("J2405", ["JZ"], 1, "4.00")]
    assert drug_of(claim, "J2405") == [("00409000925", "0.25", "ML")]
    assert claim["total_charge"] == "104.00"


@pytest.mark.parametrize("session, path", [
    (bare(provider="dr-who"), "sessions[0].provider"),
    (bare(protocol="nope"), "sessions[0].protocol"),
    (bare(medications=[{"drug": "unobtainium", "dose_mg": 1}]), "sessions[0].medications[0].drug"),
    (bare(medications=[{"drug": "ondansetron", "dose_mg": 0}]), "sessions[0].medications[0].dose_mg"),
    (bare(infusion=None, medications=[], services=[{"code": "99215"}]), "sessions[0].services[0]"),  # no fee
    (bare(infusion={"start": "10:00", "end": "09:00"}), "sessions[0].infusion"),
])
def test_references_that_do_not_resolve_are_errors_naming_the_path(clinic_dir, tmp_path, session, path):
    code, out = claims_json(clinic_dir, tmp_path, [session])
    assert code == 1 and out["claims"] == []
    assert [p for p, _ in problems(out, "error")] == [path]


@pytest.mark.parametrize("change, path", [
    (lambda r: r.update(urgency="expedited"), "expedited_reason"),
    (lambda r: r["screening"].pop("pregnancy"), "screening.pregnancy"),
    (lambda r: r.update(prior_treatments=[]), "prior_treatments"),
    (lambda r: r["screening"].update(psychosis_history=True), "screening_rationale"),
])
def test_request_rules_name_the_path(clinic_dir, tmp_path, change, path):
    request = read_yaml(clinic_dir / "requests" / "example.yaml")
    request["patient"] = str(clinic_dir / "patients" / "example.yaml")
    change(request)
    file = write_yaml(tmp_path / "request.yaml", request)
    result = run("check", "--json", file, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1
    errors = [p for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    assert errors and all(p["file"] == str(file) for p in errors)
    assert any(path in p["path"] or path in p["message"] for p in errors), errors


def test_export_from_to_limits_the_claims(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    later = base_session(date="2026-11-05", payments=[])
    patient_file(folder / "patients", "example.yaml", [base_session(), later])
    result = run("export", folder / "patients", "-o", folder / "o", "--from", "2026-11-03", "--to", "2026-11-30",
                 "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 0
    assert [s[1] for s in segments(only(folder / "o", "*.837").read_text()) if s[0] == "CLM"] == ["P0001-20261105"]


def test_an_output_that_cannot_be_written_is_one_line_no_traceback(clinic_dir, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder", encoding="utf-8")
    clinic = clinic_yaml(clinic_dir)
    letter = run("letter", clinic_dir / "requests" / "example.yaml", "-o", blocker / "letter.pdf", clinic=clinic)
    assert letter.exit_code == 1
    lines = [line for line in letter.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"{blocker / 'letter.pdf'}: error: cannot be written (")
    init = run("init", blocker / "clinic")
    assert init.exit_code == 1
    lines = [line for line in init.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and ": error: cannot write: Not a directory" in lines[0] and str(blocker) in lines[0]
    for args in (["render", clinic_dir / "patients" / "example.yaml", "-o", blocker / "out"],
                 ["export", clinic_dir / "patients", "-o", blocker / "out", "--jobs", "1", "--ledger", tmp_path / "l.db"]):
        result = run(*args, clinic=clinic)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert any(line.startswith(f"{blocker / 'out'}: error:") for line in result.stderr.splitlines())
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_cms1500_offset_moves_every_data_only_value_by_the_printers_drift(tmp_path):
    def first_chars(offset):
        folder = tmp_path / f"clinic-{len(offset)}"
        assert run("init", folder).exit_code == 0
        if offset:
            clinic = read_yaml(folder / "clinic.yaml")
            clinic["cms1500"] = {"offset": offset}
            write_yaml(folder / "clinic.yaml", clinic)
        result = run("export", folder / "patients", "-o", folder / "o", "--format", "cms1500", "--cms1500-data-only",
                     "--jobs", "1", clinic=folder / "clinic.yaml")
        assert result.exit_code == 0, result.output
        with pdfplumber.open(only(folder / "o", "cms1500*.pdf")) as pdf:
            return sorted((round(c["x0"], 2), round(c["top"], 2), c["text"]) for c in pdf.pages[0].chars)

    plain = first_chars({})
    moved = first_chars({"left": "0.1in", "top": "2mm"})            # 7.2 pt right, 5.67 pt down
    assert len(plain) == len(moved) > 100
    for (x0, top0, t0), (x1, top1, t1) in zip(plain, moved, strict=True):
        assert t0 == t1 and abs(x1 - x0 - 7.2) < 0.02 and abs(top1 - top0 - 2 / 25.4 * 72) < 0.02
    # item 1a (insured's ID) on grid line 8: 1.33 in + 1/6 in = 108 pt from the top edge (docs/reference.md "Outputs"; Medplum's
    # overlay puts 1a at y=108 pt), column 50 at 0.30 in + 4.9 in (10 cpi)
    assert cell_text_at(plain, line=8, col=50, width=29) == "XYZ123456789"


def cell_text_at(chars, line: int, col: int, width: int) -> str:
    left, top = (0.30 + (col - 1) * 0.1) * 72, (1.3333 - 1 + (line - 1) / 6) * 72
    return "".join(t for x, y, t in chars if left - 1 <= x <= left + width * 7.2 and top - 2 <= y <= top + 12).strip()


def test_a_supply_code_without_ndc_is_a_warning_not_an_error(clinic_dir, tmp_path):
    code, out = claims_json(clinic_dir, tmp_path, [bare(infusion=None, medications=[],
                                                        services=[{"code": "J7050", "charge": 25.00}])])
    assert code == 0
    assert lines_of(out["claims"][0]) == [("J7050", [], 1, "25.00")]
    assert [p for p, _ in problems(out, "warning")] == ["sessions[0].services[0]"]


@pytest.mark.parametrize("field, value", [("npi", "1234567890"), ("npi", "3234567893"), ("tax_id", "12-345678")])
def test_a_bad_practice_identifier_holds_back_everything(clinic_dir, tmp_path, field, value):
    # 123456789 -> Luhn check digit 3 (docs/reference.md "Identifiers"), so ...890 fails; an NPI starts with 1 or 2; an EIN has 9 digits
    clinic = read_yaml(clinic_yaml(clinic_dir))
    clinic["practice"][field] = value
    own = write_yaml(tmp_path / "clinic.yaml", clinic)
    result = run("check", "--json", clinic_dir / "patients" / "example.yaml", clinic=own)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert (str(own), f"practice.{field}", "error") in [(p["file"], p["path"], p["severity"]) for p in out["problems"]]


@pytest.mark.parametrize("kind", ["requests", "gfe"])
def test_check_scrubs_the_claims_a_request_or_gfe_plan_derives(clinic_dir, tmp_path, kind):
    data = read_yaml(clinic_dir / kind / "example.yaml")
    data["patient"] = str(clinic_dir / "patients" / "example.yaml")
    data["plan"]["services"] = [{"code": "99214", "pointers": [2]}]          # the plan has one diagnosis
    path = write_yaml(tmp_path / f"{kind}.yaml", data)
    result = run("check", "--json", path, clinic=clinic_yaml(clinic_dir))
    assert result.exit_code == 1
    errors = [(p["file"], p["path"]) for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    assert errors == [(str(path), "plan.services[0]")]


# ---------------------------------------------------------------- the clerk's export (issue 17)


def export_practice(tmp_path, *formats):
    folder = write_practice(tmp_path / "clinic")
    result = run("export", folder / "patients", "-o", folder / "o", "--format", ",".join(formats), "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    return folder, result


def test_check_folders_and_export_with_no_patient_file(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    checked = run("check", folder / "patients", folder / "requests", clinic=folder / "clinic.yaml")
    assert checked.exit_code == 0, checked.output
    (tmp_path / "empty").mkdir()
    none = run("export", tmp_path / "empty", "-o", tmp_path / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert none.exit_code == 1


def test_xlsx_identifiers_text_money_numbers_dates_typed(tmp_path):
    import openpyxl
    folder, result = export_practice(tmp_path, "xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(only(folder / "o", "*.xlsx"))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert len(rows) == 18
    medicare = [r for r in rows if r["claim_id"] == IDS[1]]
    assert {r["payer_id"] for r in medicare} == {"00952"}
    drug = [r for r in rows if r["code"] == "J3490"]
    assert {r["ndc"] for r in drug} == {"00409205105"}
    for r in rows:
        for key in ("ndc", "payer_id", "member_id", "provider_npi", "billing_npi", "group_number", "patient_zip"):
            assert r.get(key) is None or isinstance(r[key], str), (key, r[key])
        assert isinstance(r["charge"], (int, float)) and isinstance(r["units"], (int, float))
        assert isinstance(r["date_of_service"], (dt.date, dt.datetime)) and isinstance(r["dob"], (dt.date, dt.datetime))
    assert {r["patient_zip"] for r in rows} == {"62702"} and {r["billing_npi"] for r in rows} == {"1234567893"}
    assert sum(Decimal(str(r["charge"])) for r in rows) == Decimal("3105.00")


def test_a_bad_provider_holds_back_only_its_claims(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["providers"].append({"id": "dr-kim", "first_name": "Sam", "last_name": "Kim", "credentials": "MD",
                                "npi": "1558598798", "taxonomy": "207LP2900X"})          # Luhn fails
    write_yaml(folder / "clinic.yaml", clinic)
    patient_file(folder / "patients", "example.yaml", [base_session(), base_session(date="2026-11-03", provider="dr-kim")])
    result = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 1
    text = only(folder / "o", "*.837").read_text()
    assert [s[1] for s in segments(text) if s[0] == "CLM"] == [CLAIM]
    out = json.loads(run("claims", "--json", folder / "patients" / "example.yaml", clinic=folder / "clinic.yaml").stdout)
    assert [c["claim_id"] for c in out["claims"]] == [CLAIM]
    assert [p["path"] for p in out["problems"] if p["severity"] == "error"] == ["sessions[1].provider"]


def test_the_closing_summary_names_each_rejected_file(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    bad = folder / "patients" / "bad.yaml"
    bad.write_text("patient: {id: P1\n", encoding="utf-8")
    result = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 1
    after = result.stdout.split("rejected", 1)
    assert len(after) == 2 and str(bad) in after[1]
    assert [s[1] for s in segments(only(folder / "o", "*.837").read_text()) if s[0] == "CLM"] == [CLAIM]


def test_claims_json_is_one_object_also_when_the_clinic_is_rejected(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["practice"]["fone"] = "2175550100"
    own = write_yaml(tmp_path / "clinic.yaml", clinic)
    result = run("claims", "--json", folder / "patients" / "example.yaml", clinic=own)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["claims"] == []
    assert ("practice.fone", "error") in [(p["path"], p["severity"]) for p in out["problems"] if p["file"] == str(own)]
    assert f"{own}: practice.fone: error: unknown key (is it a typo?)" in result.stderr.splitlines()   # and on stderr


def test_a_third_session_that_day_is_dash_3_in_time_order(clinic_dir, tmp_path):
    visit = bare(infusion=None, medications=[], services=[{"code": "99214"}])
    sessions = [dict(visit, time="14:00", services=[{"code": "93000"}]), dict(visit, time="08:00"),
                dict(visit, time="11:00", services=[{"code": "99214", "charge": 100.00}])]
    code, out = claims_json(clinic_dir, tmp_path, sessions)
    assert code == 0
    # 08:00 (99214, 189.00) is the day's first claim, 11:00 (100.00) the second, 14:00 (93000, 60.00) the third
    assert {c["claim_id"]: c["total_charge"] for c in out["claims"]} == {
        "P0001-20261102": "189.00", "P0001-20261102-2": "100.00", "P0001-20261102-3": "60.00"}


# ---------------------------------------------------------------- 837P situational rules, control numbers, Medicare (issue 13)


def test_837p_2010ba_address_and_demographics_only_when_the_patient_is_the_subscriber(exported):
    _, out, _ = exported
    text = only(out, "*.837").read_text(encoding="ascii")
    dependent = subscriber_loop(text, IDS[2])
    nm1_il = next(i for i, s in enumerate(dependent) if s[:2] == ["NM1", "IL"])
    assert dependent[nm1_il + 1][:2] == ["NM1", "PR"]                     # no N3/N4/DMG in 2010BA (X12 RFI 2281)
    own = subscriber_loop(text, IDS[0])
    nm1_il = next(i for i, s in enumerate(own) if s[:2] == ["NM1", "IL"])
    assert [s[0] for s in own[nm1_il + 1:nm1_il + 4]] == ["N3", "N4", "DMG"]


def test_837p_ref_6r_on_every_line_unique_in_the_interchange(exported):
    _, out, _ = exported
    segs = segments(only(out, "*.837").read_text(encoding="ascii"))
    starts = [i for i, s in enumerate(segs) if s[0] == "LX"]
    ends = starts[1:] + [next(i for i, s in enumerate(segs) if s[0] == "SE")]
    refs = []
    for start, end in zip(starts, ends, strict=True):
        block = segs[start:end]
        block = block[:next((i for i, s in enumerate(block) if s[0] in ("HL", "CLM")), len(block))]
        found = [s[2] for s in block if s[:2] == ["REF", "6R"]]
        assert len(found) == 1, block
        refs.append(found[0])
    assert len(refs) == 18 and len(set(refs)) == 18


def test_837p_payer_address_in_2010bb(exported):
    _, out, _ = exported
    sub = subscriber_loop(only(out, "*.837").read_text(encoding="ascii"), IDS[0])
    payer = next(i for i, s in enumerate(sub) if s[:2] == ["NM1", "PR"])
    assert sub[payer + 1:payer + 3] == [["N3", "PO BOX 1000"], ["N4", "CHICAGO", "IL", "60601"]]


def test_medicare_drug_claim_is_sent_assigned_with_a_warning(exported):
    _, out, result = exported
    assert any("Medicare" in line and "warning" in line and "b.yaml" in line for line in result.output.splitlines())
    text = only(out, "*.837").read_text(encoding="ascii")
    assert claim_loop(text, IDS[1])[0][6:9] == ["Y", "A", "Y"]            # CLM07 A, CLM08 Y
    assert claim_loop(text, IDS[0])[0][6:9] == ["Y", "C", "N"]            # commercial, patient-paid: not assigned
    pdf, pages = cms_pages(only(out, "cms1500*.pdf"))
    with pdf:
        medicare, jane = pages["P000220261102"], pages["P000120261102"]
        assert cell(medicare, 30, 56, 25) == "SIGNATURE ON FILE"          # item 13
        assert (cell(medicare, 56, 38), cell(medicare, 56, 43)) == ("X", "")   # item 27 YES
        assert (cell(jane, 30, 56, 25), cell(jane, 56, 38), cell(jane, 56, 43)) == ("", "", "X")


def test_payments_above_the_charges_are_refused_by_the_837p_and_cms1500(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    patient_file(folder / "patients", "example.yaml", [base_session(payments=[{"date": DOS, "amount": 2000.00}])])
    result = run("export", folder / "patients", "-o", folder / "o", "--format", "837p,cms1500", "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not (folder / "o").exists() or not [p for p in (folder / "o").iterdir() if p.suffix in (".837", ".pdf")]
    check = run("check", "--json", folder / "patients" / "example.yaml", clinic=folder / "clinic.yaml")
    assert check.exit_code == 1
    errors = [p["path"] for p in json.loads(check.stdout)["problems"] if p["severity"] == "error"]
    assert errors == ["sessions[0].payments"]


def test_a_new_ledger_does_not_restart_the_control_numbers(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    first = run("export", folder / "patients", "-o", folder / "a", "--jobs", "1", clinic=folder / "clinic.yaml")
    second = run("export", folder / "patients", "-o", folder / "b", "--jobs", "1", "--ledger", tmp_path / "new.sqlite3",
                 clinic=folder / "clinic.yaml")
    assert first.exit_code == second.exit_code == 0
    a, b = (segments(only(folder / x, "*.837").read_text()) for x in "ab")
    assert a[0][13] != b[0][13] and a[1][6] != b[1][6]                     # ISA13 and GS06 both new
    line_ids = [{s[2] for s in segs if s[:2] == ["REF", "6R"]} for segs in (a, b)]
    assert not line_ids[0] & line_ids[1]


def test_solo_practitioner_is_the_837p_billing_provider_as_a_person(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["practice"]["npi"] = clinic["providers"][0]["npi"]
    write_yaml(folder / "clinic.yaml", clinic)
    result = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    text = only(folder / "o", "*.837").read_text()
    assert_valid_x12(text)
    segs = segments(text)
    assert [s[:5] + s[8:10] for s in segs if s[:2] == ["NM1", "85"]] == [["NM1", "85", "1", "LEE", "AVERY", "XX", "1003000126"]]
    assert not [s for s in segs if s[:2] == ["NM1", "82"]]                 # no separate rendering provider


def test_check_reports_what_the_837p_would_refuse(tmp_path):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    many = bare(infusion=None, medications=[], services=[{"code": "93000", "charge": 1.00}] * 51)   # 50 lines a claim
    path = patient_file(folder / "patients", "example.yaml", [many])
    result = run("check", path, clinic=folder / "clinic.yaml")
    assert result.exit_code == 1 and any(": error:" in line for line in result.stderr.splitlines())


def medicare_claim(tmp_path, session, **provider):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["providers"][0].update(provider)
    write_yaml(folder / "clinic.yaml", clinic)
    data = example_patient()
    data["insurance"] = {"payer_name": "Medicare Part B", "payer_id": "00952", "member_id": "1EG4TE5MK73",
                         "filing_indicator": "MB"}
    data["sessions"] = [session]
    write_yaml(folder / "patients" / "example.yaml", data)
    result = run("export", folder / "patients", "-o", folder / "o", "--jobs", "1", clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    return claim_loop(only(folder / "o", "*.837").read_text(), CLAIM)[0]


@pytest.mark.parametrize("services, provider, assigned", [
    ([{"code": "99214"}], {"credentials": "NP", "taxonomy": "363LF0000X"}, True),   # a nurse practitioner
    ([{"code": "99214"}], {}, False),                                                # a physician, no drug
    ([{"code": "99214"}, {"code": "J2405", "units": 4, "charge": 16.00, "ndc": "0409-0009-25", "ndc_quantity": 2,
                          "ndc_unit": "ML"}], {}, True),                            # a drug code as a service
])
def test_medicare_assignment_for_drugs_and_np_pa_services(tmp_path, services, provider, assigned):
    clm = medicare_claim(tmp_path, bare(infusion=None, medications=[], services=services), **provider)
    assert clm[7:9] == (["A", "Y"] if assigned else ["C", "N"])


@pytest.mark.parametrize("block, change", [
    ("fees", lambda c: c["fees"].update({"99214": -5})),
    ("x12", lambda c: c["x12"].update(usage="X")),
    ("practice", lambda c: c["practice"].update(tax_id="12-345")),
])
def test_an_error_in_practice_fees_or_x12_holds_back_everything_with_one_line(tmp_path, block, change):
    folder = tmp_path / "clinic"
    assert run("init", folder).exit_code == 0
    clinic = read_yaml(folder / "clinic.yaml")
    change(clinic)
    write_yaml(folder / "clinic.yaml", clinic)
    result = run("export", folder / "patients", "-o", folder / "o", "--format", "csv", "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert not (folder / "o").exists() or not list((folder / "o").iterdir())
    held = [line for line in result.stderr.splitlines() if "held back" in line]
    assert len(held) == 1 and held[0].startswith(f"{folder / 'clinic.yaml'}: error:") and block in held[0]


@pytest.mark.parametrize("id_length, same_day, refused", [(29, 1, False), (30, 1, True), (29, 2, True), (27, 2, False)])
def test_check_refuses_a_clm01_over_38_characters(clinic_dir, tmp_path, id_length, same_day, refused):
    # CLM01 = patient id + "-" + YYYYMMDD (+ "-2" for the day's second claim): 29 + 9 = 38 fits, 30 + 9 or 29 + 11 do not
    patient_id = "P" + "0" * (id_length - 2) + "1"
    sessions = [bare(), bare(infusion={"start": "13:00", "end": "14:00"})][:same_day]
    path = patient_file(tmp_path, "p.yaml", sessions, patient={"id": patient_id})
    result = run("check", "--json", path, clinic=clinic_yaml(clinic_dir))
    errors = [p["path"] for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    assert (result.exit_code == 1) == refused
    assert ("patient.id" in errors) == refused
