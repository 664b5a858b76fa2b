"""The billing engine: sessions become exact claim lines (docs/reference.md "Billing rules")."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from engine import claim_for, claims_for, codes, loaded_clinic, session
from helpers import edition_note, make_clinic, run

from superbill.engine.claims import hcpcs_units, infusion_codes


def test_spec_worked_example_exact(tmp_path):
    make_clinic(tmp_path)
    result = run("claims", "--json", tmp_path / "patients" / "example.yaml", clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["problems"] == [edition_note(tmp_path / "patients" / "example.yaml")]  # a 2026-11-02 date of service
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
    # 0.5 mg given, 0.4 mg discarded, 1 mg units: ceil(0.5) == ceil(0.9) == 1 unit, so JZ (docs/reference.md "Billing rules").
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


# ---------------------------------------------------------------- issue 14


def test_modifier_25_decided_per_patient_provider_and_date():
    infusion = session(protocol=None, services=[], time="08:00")
    visit = session(protocol=None, infusion=None, medications=[], services=[{"code": "99214"}], time="15:00")
    same_day = claims_for(visit, infusion)
    assert [(c.claim_id, codes(c)) for c in same_day] == [
        ("P0001-20261102", [("96365", (), 1), ("96366", (), 1), ("J3490", (), 1)]),
        ("P0001-20261102-2", [("99214", ("25",), 1)]),
    ]
    next_day = claims_for({**visit, "date": "2026-11-03"}, infusion)
    assert codes(next_day[1]) == [("99214", (), 1)]
    loaded = loaded_clinic(extra_providers=(("dr-kim", "1987654328"),))
    other_provider = claims_for({**visit, "provider": "dr-kim"}, infusion, loaded=loaded)
    assert codes(other_provider[1]) == [("99214", (), 1)]


def test_modifier_25_is_never_a_fifth_modifier():
    full = claim_for(protocol=None, services=[{"code": "99214", "modifiers": ["GT", "95", "GA", "KX"]}])
    assert full.lines[0].modifiers == ("GT", "95", "GA", "KX")


def test_same_day_order_by_infusion_start_else_visit_time():
    morning_visit = session(protocol=None, infusion=None, medications=[], services=[{"code": "99214"}], time="08:30")
    afternoon_infusion = session(infusion={"start": "13:00", "end": "14:00"})
    evening_visit = {**morning_visit, "time": "18:00", "services": [{"code": "93000"}]}
    untimed = {**morning_visit, "time": None, "services": [{"code": "99214", "charge": 100}]}
    for order in ([untimed, evening_visit, afternoon_infusion, morning_visit],
                  [morning_visit, afternoon_infusion, evening_visit, untimed]):
        claims = claims_for(*order)
        assert [(c.claim_id, c.lines[0].code, c.lines[0].charge) for c in claims] == [
            ("P0001-20261102", "99214", Decimal("189.00")),
            ("P0001-20261102-2", "99214", Decimal("189.00")),
            ("P0001-20261102-3", "93000", Decimal("60.00")),
            ("P0001-20261102-4", "99214", Decimal("100.00")),
        ]


@pytest.mark.parametrize("value, stored", [("8:05", "08:05"), ("23:59", "23:59")])
def test_session_time_is_a_clock_time(value, stored):
    from superbill.inputs.models import Session

    assert Session.model_validate(session(time=value)).time == stored


@pytest.mark.parametrize("value", ["24:00", "8h05", "12:60"])
def test_session_time_refuses_non_clock_text(value):
    from pydantic import ValidationError

    from superbill.inputs.models import Session

    with pytest.raises(ValidationError, match="time must be HH:MM"):
        Session.model_validate(session(time=value))


def test_supply_code_as_a_service_carries_its_ndc():
    claim = claim_for(protocol=None, services=[
        {"code": "J7050", "units": 1, "ndc": "0338-0049-02", "ndc_quantity": 250, "ndc_unit": "ML", "charge": 25},
        {"code": "J7050", "units": 2, "ndc": "0338-0049-02", "charge": 50},
        {"code": "J7050", "charge": 25},
    ])
    assert [line.as_json() | {"description": line.description} for line in claim.lines[:3]] == [
        {"code": "J7050", "modifiers": [], "units": 1, "charge": "25.00", "pointers": [1, 2], "ndc": "00338004902",
         "ndc_quantity": "250", "ndc_unit": "ML", "description": "Normal saline infusion, 250 cc"},
        {"code": "J7050", "modifiers": [], "units": 2, "charge": "50.00", "pointers": [1, 2], "ndc": "00338004902",
         "ndc_quantity": "2", "ndc_unit": "UN", "description": "Normal saline infusion, 250 cc"},
        {"code": "J7050", "modifiers": [], "units": 1, "charge": "25.00", "pointers": [1, 2], "ndc": None,
         "ndc_quantity": None, "ndc_unit": None, "description": "Normal saline infusion, 250 cc"},
    ]


def test_service_ndc_quantity_needs_its_ndc():
    from pydantic import ValidationError

    from superbill.inputs.models import ServiceInput

    with pytest.raises(ValidationError, match="ndc_quantity and ndc_unit describe an NDC: give ndc too"):
        ServiceInput.model_validate({"code": "J7050", "ndc_quantity": 250})
    assert ServiceInput.model_validate({"code": "J7050", "ndc": "0338-0049-02"}).ndc == "00338004902"


def test_unclassified_single_dose_waste_is_priced_for_the_amount_discarded():
    loaded = loaded_clinic(extra_meds=(("ketamine", (("single_dose", True),)),))
    claim = claim_for(loaded=loaded, protocol=None, medications=[{"drug": "ketamine", "dose_mg": 70, "wasted_mg": 30}])
    drug = [(line.modifiers, line.units, line.charge, line.as_json()["ndc_quantity"]) for line in claim.lines if line.code == "J3490"]
    # 120.00 for 70 mg; 30 mg discarded: 120 x 30 / 70 = 51.43, never a second full 120.00 unit
    assert drug == [((), 1, Decimal("120.00"), "0.7"), (("JW",), 1, Decimal("51.43"), "0.3")]
    nothing_wasted = claim_for(loaded=loaded, protocol=None, medications=[{"drug": "ketamine", "dose_mg": 70}])
    assert [line.modifiers for line in nothing_wasted.lines if line.code == "J3490"] == [("JZ",)]


def test_waste_line_uses_the_medication_charge_per_unit():
    claim = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 3, "wasted_mg": 1, "charge": 9}])
    assert [(line.modifiers, line.units, line.charge) for line in claim.lines if line.code == "J2405"] == [
        ((), 3, Decimal("9.00")), (("JW",), 1, Decimal("3.00"))]


def test_waste_rounds_down_so_the_vial_is_never_overbilled():
    # 4 mg vial: 2.5 mg given (3 units), 1.5 mg discarded: 1 JW unit (3 + 1 = the vial's 4 mg), not 2.
    claim = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 2.5, "wasted_mg": 1.5}])
    assert [(line.modifiers, line.units) for line in claim.lines if line.code == "J2405"] == [((), 3), (("JW",), 1)]
    # 2.5 mg given, 1.6 mg discarded (4.1 mg): still 1 JW unit; the 0.1 mg is inside no billable unit.
    more = claim_for(protocol=None, medications=[{"drug": "ondansetron", "dose_mg": 2.5, "wasted_mg": 1.6}])
    assert [(line.modifiers, line.units) for line in more.lines if line.code == "J2405"] == [((), 3), (("JW",), 1)]


def test_volume_dosed_single_dose_drug_keeps_its_waste():
    # ondansetron drawn up by volume: 1.5 mL x 2 mg/mL = 3 mg = 3 units; 1 mg discarded = 1 JW unit, never JZ
    claim = claim_for(protocol=None, medications=[{"drug": "ondansetron", "volume_ml": 1.5, "wasted_mg": 1}])
    assert [(line.modifiers, line.units, line.as_json()["ndc_quantity"]) for line in claim.lines if line.code == "J2405"] == [
        ((), 3, "1.5"), (("JW",), 1, "0.5")]
    loaded = loaded_clinic(extra_fees=(("J7050", 25.0),),
                           extra_meds=(("saline-250", (("ndc", "0338-0049-02"), ("single_dose", True), ("mg_per_ml", 9))),))
    bag = claim_for(loaded=loaded, protocol=None, medications=[{"drug": "saline-250", "volume_ml": 250, "wasted_mg": 2250}])
    assert [(line.modifiers, line.units, line.as_json()["ndc_quantity"]) for line in bag.lines if line.code == "J7050"] == [
        ((), 1, "250"), (("JW",), 1, "250")]
