"""The scrubber: one test per rule, each on both sides of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from engine import claim_for, loaded_clinic, messages, problems_of

from superbill.inputs.models import Provider


def errors(claim, loaded=None):
    return messages(claim, "error", loaded)


def warnings(claim, loaded=None):
    return messages(claim, "warning", loaded)


def test_clean_example_has_no_problems():
    assert problems_of(claim_for()) == []


def test_billing_and_rendering_npi():
    claim = claim_for()
    loaded = loaded_clinic()
    from superbill.engine.scrub import scrub

    bad_billing = scrub(claim, loaded.book, billing_npi="1234567890")
    assert [p.message for p in bad_billing] == [
        "billing NPI fails the NPI check (10 digits, Luhn with the 80840 prefix)"]
    bad_provider = Provider.model_construct(**{**claim.provider.model_dump(), "npi": "1003000127"})
    assert errors(replace(claim, provider=bad_provider)) == ["rendering provider NPI fails the NPI check"]


def test_diagnosis_count_and_duplicates():
    claim = claim_for()
    assert "a claim carries 1 to 12 diagnoses, not 0" in errors(replace(claim, diagnoses=()))
    assert "G90.511 is listed twice" in errors(replace(claim, diagnoses=("G90.511", "G90.511")))
    assert errors(claim_for(diagnoses=["G90.511"])) == []


def test_non_billable_diagnosis_on_a_claim():
    claim = replace(claim_for(), diagnoses=("G90.51", "F33.1"))
    assert any(m.startswith("G90.51 is not billable") for m in errors(claim))


def test_excludes1_pairs():
    assert errors(claim_for(diagnoses=["F32.1", "F33.1"])) == [
        "F32.1 and F33.1 cannot be reported together (ICD-10-CM Excludes1: recurrent depressive disorder (F33.-))"]
    crps2 = errors(claim_for(diagnoses=["G56.41", "G89.29"]))
    assert len(crps2) == 1 and "G89.29" in crps2[0] and "G56.41" in crps2[0] and "Excludes1" in crps2[0]
    assert errors(claim_for(diagnoses=["G90.511", "F33.1", "M79.7"])) == []


def test_pointers_must_exist_and_be_one_to_four():
    claim = claim_for()
    line = claim.lines[1]
    past = replace(claim, lines=(replace(line, pointers=(1, 3)),) + claim.lines[2:],
                   total_charge=claim.total_charge - claim.lines[0].charge)
    assert errors(past) == ["93000: diagnosis pointer 3 points past the 2 diagnoses"]
    five = replace(claim, diagnoses=("G90.511", "F33.1", "M79.7", "G43.709", "G54.6"))
    five = replace(five, lines=(replace(line, pointers=(1, 2, 3, 4, 5)),) + claim.lines[2:],
                   total_charge=past.total_charge)
    assert errors(five) == ["93000: a line points to 1 to 4 diagnoses"]
    none = replace(five, lines=(replace(line, pointers=()),) + claim.lines[2:])
    assert errors(none) == ["93000: a line points to 1 to 4 diagnoses"]


def test_addon_without_primary():
    claim = claim_for()
    without = [line for line in claim.lines if line.code != "96365"]
    bad = replace(claim, lines=tuple(without), total_charge=sum(line.charge for line in without))
    assert errors(bad) == ["add-on code 96366 is billed without its primary code (96365, 96367)"]
    assert errors(claim) == []
    loaded = loaded_clinic(extra_fees=(("99417", 80.0), ("99215", 250.0)))
    prolonged = claim_for(loaded=loaded, protocol=None, services=[{"code": "99214"}, {"code": "99417"}])
    assert "add-on code 99417 is billed without its primary code (99205, 99215)" in errors(prolonged, loaded)
    fine = claim_for(loaded=loaded, protocol=None, services=[{"code": "99215"}, {"code": "99417"}])
    assert errors(fine, loaded) == []


def test_one_initial_administration_code():
    two = claim_for(services=[{"code": "96374"}])
    assert errors(two) == [
        "more than one initial administration code (96374, 96365); a second needs a documented second IV site and modifier 59 or XU"]
    second_site = claim_for(services=[{"code": "96374", "modifiers": ["59"]}])
    assert errors(second_site) == []


def test_units_must_be_positive():
    claim = claim_for()
    zero = replace(claim, lines=(replace(claim.lines[0], units=0),) + claim.lines[1:])
    assert "99214: units must be more than 0" in errors(zero)


def test_code_with_no_fee_and_no_charge():
    assert errors(claim_for(services=[{"code": "96372"}])) == [
        "96372 has no fee in clinic.yaml fees and no charge on the line"]
    assert errors(claim_for(services=[{"code": "96372", "charge": 40}])) == []


def test_99211_with_drug_administration():
    loaded = loaded_clinic(extra_fees=(("99211", 40.0),))
    commercial = claim_for(loaded=loaded, protocol=None, services=[{"code": "99211"}])
    assert warnings(commercial, loaded) == ["99211 is not paid with drug administration codes on the same day (CMS)"]
    assert errors(commercial, loaded) == []
    medicare = claim_for(loaded=loaded, protocol=None, services=[{"code": "99211"}], insurance={"filing_indicator": "MB"})
    assert errors(medicare, loaded) == ["99211 is not paid with drug administration codes on the same day (CMS)"]
    no_admin = claim_for(loaded=loaded, protocol=None, infusion=None, medications=[], services=[{"code": "99211"}],
                         payments=[])
    assert problems_of(no_admin, loaded) == []


def test_oximetry_and_rhythm_strips_with_an_infusion():
    loaded = loaded_clinic(extra_fees=(("94760", 20.0), ("93040", 30.0)))
    during = claim_for(loaded=loaded, services=[{"code": "94760"}, {"code": "93040"}])
    assert warnings(during, loaded) == [
        "94760: pulse oximetry is bundled into the infusion by most payers",
        "93040: rhythm-strip review during an infusion is part of the infusion; bill only an ordered, separately reported study",
    ]
    alone = claim_for(loaded=loaded, protocol=None, infusion=None, medications=[], payments=[],
                      services=[{"code": "94760"}, {"code": "93040"}])
    assert problems_of(alone, loaded) == []


def test_moderate_sedation_on_an_analgesic_infusion():
    loaded = loaded_clinic(extra_fees=(("99152", 100.0),))
    refused = claim_for(loaded=loaded, services=[{"code": "99152"}])
    assert errors(refused, loaded) == [
        "99152: moderate sedation is not billed for an analgesic ketamine infusion (set allow_sedation on the session to override)"]
    allowed = claim_for(loaded=loaded, services=[{"code": "99152"}], allow_sedation=True)
    assert errors(allowed, loaded) == []
    assert warnings(allowed, loaded) == [
        "99152: moderate sedation billed with an analgesic infusion (allowed by allow_sedation); expect review"]


def test_telehealth_pos_on_an_infusion():
    assert errors(claim_for(place_of_service="02")) == [
        "an infusion cannot be billed with telehealth place of service 02"]
    tele_visit = claim_for(place_of_service="10", protocol=None, infusion=None, medications=[], payments=[],
                           services=[{"code": "99214"}])
    assert problems_of(tele_visit) == []


def test_jw_jz_on_a_multi_dose_drug():
    claim = claim_for()
    lines = tuple(replace(line, modifiers=("JZ",)) if line.code == "J3490" else line for line in claim.lines)
    assert errors(replace(claim, lines=lines)) == [
        "J3490 (ketamine): JW/JZ are for single-dose containers only; this drug is multi-dose"]
    assert errors(claim) == []  # ondansetron (single-dose) keeps its JZ


def test_total_must_equal_the_sum_of_lines():
    claim = claim_for()
    assert errors(replace(claim, total_charge=Decimal("1000.00"))) == [
        "total 1000.00 is not the sum of the lines 1035.00"]


def test_em_without_25_on_an_infusion_day():
    claim = claim_for()
    stripped = replace(claim, lines=(replace(claim.lines[0], modifiers=()),) + claim.lines[1:])
    assert errors(stripped) == ["99214 on a day with drug administration needs modifier 25"]


def test_drug_line_needs_an_ndc_and_quantity():
    loaded = loaded_clinic(extra_fees=(("J1885", 10.0),))
    claim = claim_for(loaded=loaded, medications=[{"drug": "ketorolac", "dose_mg": 30}])
    assert errors(claim, loaded) == [
        "J1885 (ketorolac) needs an NDC: set ndc on the medication in clinic.yaml or on the session",
        "J1885 (ketorolac): cannot compute the NDC quantity (set mg_per_ml, or mg_per_unit for UN)",
    ]
    fixed = claim_for(loaded=loaded, medications=[{"drug": "ketorolac", "dose_mg": 30, "ndc": "0409-3795-01"}])
    assert errors(fixed, loaded) == [
        "J1885 (ketorolac): cannot compute the NDC quantity (set mg_per_ml, or mg_per_unit for UN)"]


def test_dates_of_service():
    assert errors(claim_for(date="2026-11-23")) == ["date of service is in the future"]
    old = claim_for(date="2015-09-30")
    assert errors(old) == ["date of service is before 2015-10-01: ICD-10-CM codes are not valid then"]
    assert errors(claim_for(date="2026-11-22")) == []


def test_facility_pos_warns_on_administration_codes():
    assert warnings(claim_for(place_of_service="22")) == [
        "place of service 22 is a facility: the hospital bills the administration codes, not the physician"]


def test_iv_start_is_never_separate():
    claim = claim_for(services=[{"code": "36000", "charge": 25}])
    assert errors(claim) == ["36000 (IV start) is included in the administration codes; do not bill it"]


def test_payments_above_the_total_warn():
    claim = claim_for(payments=[{"date": "2026-11-02", "amount": 2000}])
    assert warnings(claim) == ["payments exceed the total charge"]


def test_scrubber_errors_stop_the_file_in_claims(tmp_path):
    from helpers import edition_note, example_patient, make_clinic, run, write_yaml

    make_clinic(tmp_path)
    data = example_patient()
    data["sessions"][0]["services"].append({"code": "96372"})
    path = write_yaml(tmp_path / "p.yaml", data)
    result = run("claims", "--json", path, clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 1
    import json

    out = json.loads(result.stdout)
    assert out["claims"] == []
    assert out["problems"] == [{"file": str(path), "path": "sessions[0].services[1]", "severity": "error",
                                "message": "96372 has no fee in clinic.yaml fees and no charge on the line"},
                               edition_note(path)]


def test_today_is_injectable_for_reproducible_checks():
    claim = claim_for(date="2026-11-02")
    assert problems_of(claim, today=dt.date(2026, 11, 1))[0].message == "date of service is in the future"
