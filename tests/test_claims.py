"""The billing engine: sessions become exact claim lines (SPEC "Billing rules", domain.md §4, §8)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from engine import claim_for, claims_for, codes, loaded_clinic, session
from helpers import make_clinic, run

from superbill.engine.claims import hcpcs_units, infusion_codes


def test_spec_worked_example_exact(tmp_path):
    make_clinic(tmp_path)
    result = run("claims", "--json", tmp_path / "patients" / "example.yaml", clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["problems"] == []
    (claim,) = out["claims"]
    assert {k: v for k, v in claim.items() if k != "lines"} == {
        "claim_id": "P0001-20261102", "patient_id": "P0001", "date_of_service": "2026-11-02",
        "place_of_service": "11", "provider_npi": "1003000126", "diagnoses": ["G90.511", "F33.1"],
        "total_charge": "1035.00", "amount_paid": "650.00",
    }
    assert claim["lines"] == [
        {"code": "99214", "modifiers": ["25"], "units": 1, "charge": "189.00", "pointers": [1, 2],
         "ndc": None, "ndc_quantity": None, "ndc_unit": None},
        {"code": "93000", "modifiers": [], "units": 1, "charge": "60.00", "pointers": [1],
         "ndc": None, "ndc_quantity": None, "ndc_unit": None},
        {"code": "96365", "modifiers": [], "units": 1, "charge": "450.00", "pointers": [1, 2],
         "ndc": None, "ndc_quantity": None, "ndc_unit": None},
        {"code": "96366", "modifiers": [], "units": 1, "charge": "200.00", "pointers": [1, 2],
         "ndc": None, "ndc_quantity": None, "ndc_unit": None},
        {"code": "J3490", "modifiers": [], "units": 1, "charge": "120.00", "pointers": [1, 2],
         "ndc": "00409205105", "ndc_quantity": "0.7", "ndc_unit": "ML"},
        {"code": "J2405", "modifiers": ["JZ"], "units": 4, "charge": "16.00", "pointers": [1, 2],
         "ndc": "00409000925", "ndc_quantity": "2", "ndc_unit": "ML"},
    ]


def test_claims_table_is_readable(tmp_path):
    make_clinic(tmp_path)
    result = run("claims", tmp_path / "patients" / "example.yaml", clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Claim P0001-20261102  date 2026-11-02  POS 11  provider Avery Lee, MD (NPI 1003000126)")
    assert any(line.split()[:4] == ["J3490", "1", "120.00", "AB"] for line in lines)
    assert "NDC 00409205105 ML 0.7" in result.stdout
    assert lines[-2].split() == ["total", "1035.00", "paid", "650.00", "balance", "385.00"]


def test_unclassified_drug_description_names_drug_strength_dose():
    claim = claim_for()
    j3490 = next(line for line in claim.lines if line.code == "J3490")
    assert j3490.description == "Ketamine HCl 100 mg/mL 70 mg IV"


@pytest.mark.parametrize("minutes, expected", [
    (1, [("96374", 1)]), (15, [("96374", 1)]),
    (16, [("96365", 1)]), (90, [("96365", 1)]),
    (91, [("96365", 1), ("96366", 1)]), (150, [("96365", 1), ("96366", 1)]),
    (151, [("96365", 1), ("96366", 2)]), (210, [("96365", 1), ("96366", 2)]),
    (211, [("96365", 1), ("96366", 3)]), (240, [("96365", 1), ("96366", 3)]),
    (270, [("96365", 1), ("96366", 3)]), (271, [("96365", 1), ("96366", 4)]),
])
def test_infusion_time_boundaries(minutes, expected):
    assert infusion_codes(minutes) == expected
    start_h, start_m = 8, 0
    end = start_h * 60 + start_m + minutes
    claim = claim_for(infusion={"start": "08:00", "end": f"{end // 60:02d}:{end % 60:02d}"})
    admin = [(line.code, line.units) for line in claim.lines if line.code in ("96365", "96366", "96374")]
    assert admin == expected


@pytest.mark.parametrize("dose, unit, units", [
    (Decimal("4"), Decimal("1"), 4), (Decimal("4.5"), Decimal("1"), 5), (Decimal("30"), Decimal("15"), 2),
    (Decimal("31"), Decimal("15"), 3), (Decimal("15"), Decimal("15"), 1), (Decimal("1"), Decimal("15"), 1),
    (Decimal("70"), Decimal("100"), 1), (Decimal("0.1"), Decimal("1"), 1),
])
def test_hcpcs_units_round_up(dose, unit, units):
    assert hcpcs_units(dose, unit) == units


def test_drug_units_from_dose_in_a_claim():
    claim = claim_for(medications=[{"drug": "ketamine", "dose_mg": 70}],
                      protocol=None, services=[])
    claim2 = claim_for(protocol=None, services=[], medications=[{"drug": "ondansetron", "dose_mg": 4.5}])
    assert codes(claim) == [("96365", (), 1), ("96366", (), 1), ("J3490", (), 1)]
    assert [(c, u) for c, _, u in codes(claim2) if c == "J2405"] == [("J2405", 5)]
    line = next(line for line in claim2.lines if line.code == "J2405")
    assert line.charge == Decimal("20.00")  # 5 units x 4.00


@pytest.mark.parametrize("dose, quantity", [
    ("70", "0.7"), ("250", "2.5"), ("33.3333", "0.333"), ("33.3350", "0.333"), ("0.05", "0.001"),
    ("123.45", "1.235"), ("100", "1"),
])
def test_ndc_quantity_three_decimals(dose, quantity):
    claim = claim_for(medications=[{"drug": "ketamine", "dose_mg": dose}])
    line = next(line for line in claim.lines if line.code == "J3490")
    assert line.as_json()["ndc_quantity"] == quantity
    assert line.ndc_unit == "ML"


def test_single_dose_without_waste_gets_jz():
    claim = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 4}])
    assert [c for c in codes(claim) if c[0] == "J2405"] == [("J2405", ("JZ",), 4)]


def test_single_dose_with_waste_gets_a_jw_line():
    claim = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 3, "wasted_mg": 1}])
    drug_lines = [line for line in claim.lines if line.code == "J2405"]
    assert [(line.modifiers, line.units, line.charge) for line in drug_lines] == [
        ((), 3, Decimal("12.00")), (("JW",), 1, Decimal("4.00"))]
    assert drug_lines[1].as_json()["ndc_quantity"] == "0.5"
    assert claim.total_charge == sum(line.charge for line in claim.lines)


def test_waste_within_the_billed_unit_is_jz_not_jw():
    # 0.5 mg given, 0.4 mg discarded, 1 mg units: ceil(0.5) == ceil(0.9) == 1 unit, so JZ (domain §4.6).
    claim = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 0.5, "wasted_mg": 0.4}])
    assert [c for c in codes(claim) if c[0] == "J2405"] == [("J2405", ("JZ",), 1)]


def test_multi_dose_never_gets_jw_or_jz():
    claim = claim_for(medications=[{"drug": "ketamine", "dose_mg": 140}])
    line = next(line for line in claim.lines if line.code == "J3490")
    assert line.modifiers == ()


def test_modifier_25_only_with_drug_administration():
    with_infusion = claim_for()
    assert with_infusion.lines[0].code == "99214" and with_infusion.lines[0].modifiers == ("25",)
    without = claim_for(infusion=None, medications=[], protocol=None,
                        services=[{"code": "99214"}, {"code": "93000"}])
    assert without.lines[0].modifiers == ()
    already = claim_for(protocol=None, services=[{"code": "99214", "modifiers": ["25"]}])
    assert already.lines[0].modifiers == ("25",)


@pytest.mark.parametrize("diagnoses, pointers", [
    (["G90.511"], (1,)), (["G90.511", "F33.1"], (1, 2)),
    (["G90.511", "F33.1", "M79.7", "G43.709", "G54.6"], (1, 2, 3, 4)),
])
def test_default_pointers_are_the_first_four(diagnoses, pointers):
    claim = claim_for(diagnoses=diagnoses, services=[])
    assert {line.pointers for line in claim.lines} == {pointers}


def test_explicit_pointers_and_charge_override():
    claim = claim_for(protocol=None, services=[{"code": "93000", "pointers": [2], "charge": 75.5}])
    line = claim.lines[0]
    assert (line.code, line.pointers, line.charge) == ("93000", (2,), Decimal("75.50"))


def test_fee_times_units():
    claim = claim_for(infusion={"start": "08:00", "end": "12:00"})
    line = next(line for line in claim.lines if line.code == "96366")
    assert (line.units, line.charge) == (3, Decimal("600.00"))


def test_same_day_sessions_get_suffixes_by_start_time_not_file_order():
    morning = session(infusion={"start": "08:00", "end": "09:00"})
    evening = session(infusion={"start": "17:00", "end": "18:30"})
    a = claims_for(evening, morning)
    b = claims_for(morning, evening)
    assert [c.claim_id for c in a] == ["P0001-20261102", "P0001-20261102-2"]
    assert [c.as_json() for c in a] == [c.as_json() for c in b]
    assert a[0].infusion_minutes == 60


def test_amount_paid_sums_payments():
    claim = claim_for(payments=[{"date": "2026-11-02", "amount": 400}, {"date": "2026-11-03", "amount": 250.5}])
    assert claim.amount_paid == Decimal("650.50")
    assert claim.balance == Decimal("384.50")


def test_fluid_billed_by_volume():
    loaded = loaded_clinic(extra_fees=(("J7050", 25.0),),
                           extra_meds=(("saline-250", (("ndc", "0338-0049-02"),)),))
    claim = claim_for(loaded=loaded, protocol=None, medications=[{"drug": "saline-250", "volume_ml": 250}])
    line = next(line for line in claim.lines if line.code == "J7050")
    assert (line.units, line.charge, line.as_json()["ndc_quantity"]) == (1, Decimal("25.00"), "250")
