"""A hand-computed set: claims worked out on paper first, then checked through the real pipeline.

Every expected line below was computed by hand from the rules (docs/reference.md "Billing
rules") with this file's own clinic, and is written literally: code, modifiers, units,
charge, NDC (11 digits), NDC quantity and unit, and the claim total. Nothing is derived from the
engine's own helpers.

Dates of service are in FY2026 (before 2026-10-01), so no edition note joins the problems; one pair
sits across the FY2025/FY2026 change. The clinic's fees (per billing unit): 99213 130.00, 99214 189.00,
96365 450.00, 96366 200.00, 96374 150.00, J3490 120.00, J2405 4.00, J7050 25.00. Its medications:

* ketamine: J3490, NDC 0409-2051-05 (4-4-2 -> 00409205105), 100 mg/mL, multi-dose
* ketamine-sagent: the same, its NDC given per session: 25021-684-05 (5-3-2 -> 25021068405)
* ketamine-eugia: J3490, NDC 55150-438-10 (5-3-2 -> 55150043810), 10 mg/mL, multi-dose
* ketamine-repack: J3490, NDC 71872-7296-1 (5-4-1 -> 71872729601), 100 mg/mL, multi-dose
* ketamine-sdv: J3490, NDC 65219-186-05 (5-3-2 -> 65219018605), 100 mg/mL, single-dose
* ondansetron: J2405 (1 mg units), NDC 0409-0009-25 (4-4-2 -> 00409000925), 2 mg/mL, single-dose
* saline-sdv: J7050 (250 mL units), NDC 0338-0049-02 (4-4-2 -> 00338004902), 9 mg/mL, single-dose
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import example_patient, write_yaml

from superbill.engine.process import process_patient
from superbill.inputs.load import load_clinic

NOW = __import__("datetime").date(2026, 11, 30)

CLINIC = {
    "practice": {"name": "Hand Computed Clinic", "npi": "1558598797", "tax_id": "98-7654321", "taxonomy": "207LP2900X",
                 "address": {"street": "5 Oak St", "city": "Springfield", "state": "IL", "zip": "62701"},
                 "phone": "2175550199"},
    "providers": [{"id": "dr-lee", "first_name": "Avery", "last_name": "Lee", "credentials": "MD",
                   "npi": "1003000126", "taxonomy": "207LP2900X"}],
    "fees": {"99213": 130.00, "99214": 189.00, "96365": 450.00, "96366": 200.00, "96374": 150.00,
             "J3490": 120.00, "J2405": 4.00, "J7050": 25.00},
    "medications": {
        "ketamine": {"hcpcs": "J3490", "name": "Ketamine HCl", "ndc": "0409-2051-05", "mg_per_ml": 100, "single_dose": False},
        "ketamine-sagent": {"hcpcs": "J3490", "name": "Ketamine HCl", "mg_per_ml": 100, "single_dose": False},
        "ketamine-eugia": {"hcpcs": "J3490", "name": "Ketamine HCl", "ndc": "55150-438-10", "mg_per_ml": 10, "single_dose": False},
        "ketamine-repack": {"hcpcs": "J3490", "name": "Ketamine HCl", "ndc": "71872-7296-1", "mg_per_ml": 100, "single_dose": False},
        "ketamine-sdv": {"hcpcs": "J3490", "name": "Ketamine HCl", "ndc": "65219-186-05", "mg_per_ml": 100, "single_dose": True},
        "ondansetron": {"hcpcs": "J2405", "name": "Ondansetron HCl", "ndc": "0409-0009-25", "mg_per_ml": 2, "single_dose": True},
        "saline-sdv": {"hcpcs": "J7050", "name": "Sodium chloride 0.9% 250 mL", "ndc": "0338-0049-02", "mg_per_ml": 9,
                       "ndc_unit": "ML", "single_dose": True},
    },
    "protocols": {"ketamine-infusion": {"services": [{"code": "99214"}],
                                        "medications": [{"drug": "ondansetron", "dose_mg": 4}]}},
}


def visit(date, *, start=None, end=None, meds=(), services=(), **extra):
    data = {"date": date, "provider": "dr-lee", "diagnoses": ["G90.511", "F33.1"],
            "medications": list(meds), "services": list(services), **extra}
    if start:
        data["infusion"] = {"start": start, "end": end}
    return data


def ketamine(mg, drug="ketamine", **extra):
    return {"drug": drug, "dose_mg": mg, **extra}


# ---- the sessions, in file order (index = sessions[i]); the dates keep independent cases apart
SESSIONS = [
    # 0-7: the infusion boundaries, and NDCs in every 10-digit layout
    visit("2026-08-01", start="09:00", end="09:15", meds=[ketamine(50)]),                     # 15 min: a push
    visit("2026-08-02", start="09:00", end="09:16", meds=[ketamine(50)]),                     # 16 min
    visit("2026-08-05", start="09:00", end="10:30", meds=[ketamine(100)]),                    # 90 min
    visit("2026-08-06", start="09:00", end="10:31", meds=[ketamine(150)]),                    # 91 min
    visit("2026-08-07", start="09:00", end="11:30",
          meds=[ketamine(250, "ketamine-sagent", ndc="25021-684-05")]),                       # 150 min
    visit("2026-08-08", start="09:00", end="11:31", meds=[ketamine(200, "ketamine-repack")]),  # 151 min
    visit("2026-08-09", start="09:00", end="12:30", meds=[ketamine(35, "ketamine-eugia")]),    # 210 min
    visit("2026-08-12", start="09:00", end="12:31", meds=[ketamine(300, "ketamine-sdv")]),     # 211 min
    # 8: the protocol: E/M-25, ondansetron 4 mg single-dose with nothing discarded (JZ)
    visit("2026-08-13", start="09:00", end="10:00", meds=[ketamine(70)], protocol="ketamine-infusion"),
    # 9-14: waste on single-dose containers (multi-dose vials never bill waste: refused on input)
    visit("2026-08-14", start="09:00", end="09:40", meds=[ketamine(80), {"drug": "ondansetron", "dose_mg": 3, "wasted_mg": 1}]),
    visit("2026-08-15", start="09:00", end="09:10", meds=[{"drug": "ondansetron", "dose_mg": 0.5, "wasted_mg": 0.4}]),
    visit("2026-08-16", start="09:00", end="09:50", meds=[ketamine(70, "ketamine-sdv", wasted_mg=30)]),
    visit("2026-08-19", start="09:00", end="09:40", meds=[ketamine(80, "ketamine-sdv", wasted_mg=20, charge=160)]),
    visit("2026-08-26", start="09:00", end="09:05", meds=[{"drug": "ondansetron", "dose_mg": 6, "wasted_mg": 2, "charge": 30}]),
    visit("2026-08-27", start="09:00", end="09:10", meds=[{"drug": "ondansetron", "dose_mg": 2.5, "wasted_mg": 1.5}]),
    # 15: a volume-dosed, per-volume single-dose container with waste: 250 mL given, 2250 mg = 250 mL discarded
    visit("2026-08-28", start="09:00", end="10:00",
          meds=[ketamine(100), {"drug": "saline-sdv", "volume_ml": 250, "wasted_mg": 2250}]),
    # 16-18: supply codes as services
    visit("2026-08-29", start="09:00", end="10:00", meds=[ketamine(60)],
          services=[{"code": "J7050", "units": 1, "ndc": "0338-0049-02", "ndc_quantity": 250, "ndc_unit": "ML"}]),
    visit("2026-08-30", start="09:00", end="09:30", meds=[ketamine(60)], services=[{"code": "J7050", "units": 1}]),
    visit("2026-09-02", start="09:00", end="09:30", meds=[ketamine(60)], services=[{"code": "J7050", "ndc": "0338-0049-02"}]),
    # 19: telehealth E/M alone is fine
    visit("2026-09-03", services=[{"code": "99213"}], place_of_service="10"),
    # 20-21: same day, morning infusion, afternoon visit (25 across claims); file order reversed on purpose
    visit("2026-09-04", services=[{"code": "99214"}], time="15:00"),
    visit("2026-09-04", start="09:00", end="10:00", meds=[ketamine(100)]),
    # 22-23: same day, morning visit (time 08:30), afternoon infusion: the visit is claim 1
    visit("2026-09-05", start="14:00", end="15:00", meds=[ketamine(100)]),
    visit("2026-09-05", services=[{"code": "99213"}], time="08:30"),
    # 24-25: same day, two initial administration codes on two claims without XE/59
    visit("2026-09-06", start="08:00", end="09:00", meds=[ketamine(100)]),
    visit("2026-09-06", start="14:00", end="14:10", meds=[{"drug": "ondansetron", "dose_mg": 4}]),
    # 26: an end time typo: 14 h 40 min
    visit("2026-09-09", start="09:05", end="23:45", meds=[ketamine(100)]),
    # 27: ketamine above the shipped max_dose_mg (500)
    visit("2026-09-10", start="09:00", end="10:00", meds=[ketamine(700)]),
]

N = None
# claim id -> (lines as (code, modifiers, units, charge, ndc, ndc quantity, ndc unit), total)
EXPECTED = {
    "H1-20260801": ([("96374", "", 1, "150.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "0.5", "ML")], "270.00"),
    "H1-20260802": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "0.5", "ML")], "570.00"),
    "H1-20260805": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "1", "ML")], "570.00"),
    "H1-20260806": ([("96365", "", 1, "450.00", N, N, N), ("96366", "", 1, "200.00", N, N, N),
                     ("J3490", "", 1, "120.00", "00409205105", "1.5", "ML")], "770.00"),
    "H1-20260807": ([("96365", "", 1, "450.00", N, N, N), ("96366", "", 1, "200.00", N, N, N),
                     ("J3490", "", 1, "120.00", "25021068405", "2.5", "ML")], "770.00"),
    "H1-20260808": ([("96365", "", 1, "450.00", N, N, N), ("96366", "", 2, "400.00", N, N, N),
                     ("J3490", "", 1, "120.00", "71872729601", "2", "ML")], "970.00"),
    "H1-20260809": ([("96365", "", 1, "450.00", N, N, N), ("96366", "", 2, "400.00", N, N, N),
                     ("J3490", "", 1, "120.00", "55150043810", "3.5", "ML")], "970.00"),
    "H1-20260812": ([("96365", "", 1, "450.00", N, N, N), ("96366", "", 3, "600.00", N, N, N),
                     ("J3490", "JZ", 1, "120.00", "65219018605", "3", "ML")], "1170.00"),
    "H1-20260813": ([("99214", "25", 1, "189.00", N, N, N), ("96365", "", 1, "450.00", N, N, N),
                     ("J3490", "", 1, "120.00", "00409205105", "0.7", "ML"),
                     ("J2405", "JZ", 4, "16.00", "00409000925", "2", "ML")], "775.00"),
    # 3 mg given = 3 units, 1 mg discarded = 1 JW unit (0.5 mL)
    "H1-20260814": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "0.8", "ML"),
                     ("J2405", "", 3, "12.00", "00409000925", "1.5", "ML"),
                     ("J2405", "JW", 1, "4.00", "00409000925", "0.5", "ML")], "586.00"),
    # 0.5 + 0.4 mg is inside the one 1 mg unit: nothing billable discarded, JZ
    "H1-20260815": ([("96374", "", 1, "150.00", N, N, N), ("J2405", "JZ", 1, "4.00", "00409000925", "0.25", "ML")], "154.00"),
    # unclassified single-dose with waste: the JW line is 1 unit priced for 30 of the 70 mg: 120 x 30/70 = 51.43
    "H1-20260816": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "65219018605", "0.7", "ML"),
                     ("J3490", "JW", 1, "51.43", "65219018605", "0.3", "ML")], "621.43"),
    # the medication's own charge prices the waste: 160 x 20/80 = 40.00
    "H1-20260819": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "160.00", "65219018605", "0.8", "ML"),
                     ("J3490", "JW", 1, "40.00", "65219018605", "0.2", "ML")], "650.00"),
    # 30.00 for 6 units = 5.00 a unit; 2 mg discarded = 2 JW units = 10.00
    "H1-20260826": ([("96374", "", 1, "150.00", N, N, N), ("J2405", "", 6, "30.00", "00409000925", "3", "ML"),
                     ("J2405", "JW", 2, "10.00", "00409000925", "1", "ML")], "190.00"),
    # a 4 mg vial: 2.5 mg given rounds up to 3 units, 1.5 mg discarded rounds down: floor(4.0 - 3) = 1 JW unit
    "H1-20260827": ([("96374", "", 1, "150.00", N, N, N), ("J2405", "", 3, "12.00", "00409000925", "1.25", "ML"),
                     ("J2405", "JW", 1, "4.00", "00409000925", "0.75", "ML")], "166.00"),
    "H1-20260828": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "1", "ML"),
                     ("J7050", "", 1, "25.00", "00338004902", "250", "ML"),
                     ("J7050", "JW", 1, "25.00", "00338004902", "250", "ML")], "620.00"),
    "H1-20260829": ([("J7050", "", 1, "25.00", "00338004902", "250", "ML"), ("96365", "", 1, "450.00", N, N, N),
                     ("J3490", "", 1, "120.00", "00409205105", "0.6", "ML")], "595.00"),
    "H1-20260830": ([("J7050", "", 1, "25.00", N, N, N), ("96365", "", 1, "450.00", N, N, N),
                     ("J3490", "", 1, "120.00", "00409205105", "0.6", "ML")], "595.00"),
    # ndc alone: 1 unit, NDC quantity 1 UN
    "H1-20260902": ([("J7050", "", 1, "25.00", "00338004902", "1", "UN"), ("96365", "", 1, "450.00", N, N, N),
                     ("J3490", "", 1, "120.00", "00409205105", "0.6", "ML")], "595.00"),
    "H1-20260903": ([("99213", "", 1, "130.00", N, N, N)], "130.00"),
    "H1-20260904": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "1", "ML")], "570.00"),
    "H1-20260904-2": ([("99214", "25", 1, "189.00", N, N, N)], "189.00"),
    "H1-20260905": ([("99213", "25", 1, "130.00", N, N, N)], "130.00"),
    "H1-20260905-2": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "1", "ML")], "570.00"),
    "H1-20260906": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "1", "ML")], "570.00"),
    "H1-20260906-2": ([("96374", "", 1, "150.00", N, N, N), ("J2405", "JZ", 4, "16.00", "00409000925", "2", "ML")], "166.00"),
    # 880 min: 96366 x ((880 - 91) // 60 + 1) = x14 = 2800.00
    "H1-20260909": ([("96365", "", 1, "450.00", N, N, N), ("96366", "", 14, "2800.00", N, N, N),
                     ("J3490", "", 1, "120.00", "00409205105", "1", "ML")], "3370.00"),
    "H1-20260910": ([("96365", "", 1, "450.00", N, N, N), ("J3490", "", 1, "120.00", "00409205105", "7", "ML")], "570.00"),
}

EXPECTED_WARNINGS = [
    ("sessions[17].services[0]", "J7050 has no NDC: payers that require one on drug and supply codes deny the line "
                                 "(give ndc on the service, with ndc_quantity and ndc_unit)"),
    ("sessions[25].infusion", "96374 is a second initial administration code for the patient on 2026-09-06 "
                              "(96365 on claim H1-20260906): a separate encounter's initial code needs modifier XE or 59"),
    ("sessions[26].infusion", "the infusion runs 14 h 40 min, over six hours: check its start and end times"),
    ("sessions[27].medications[0]", "J3490 (ketamine): 700 mg is above the medication's max_dose_mg of 500 mg: check the dose"),
]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hand")
    return load_clinic(write_yaml(folder / "clinic.yaml", CLINIC))


def patient_file(folder: Path, name: str, sessions) -> Path:
    data = example_patient()
    data["patient"]["id"] = "H1"
    data["sessions"] = sessions
    return write_yaml(folder / f"{name}.yaml", data)


def as_rows(claim):
    return [(line.code, "-".join(line.modifiers), line.units, line.as_json()["charge"], line.ndc,
             line.as_json()["ndc_quantity"], line.ndc_unit) for line in claim.lines]


def test_hand_computed_claims(clinic, tmp_path):
    result = process_patient(patient_file(tmp_path, "hand", SESSIONS), clinic, today=NOW)
    assert [(p.severity, p.path, p.message) for p in result.problems] == [
        ("warning", path, message) for path, message in EXPECTED_WARNINGS]
    assert len(result.claims) == len(SESSIONS) == len(EXPECTED) >= 20
    got = {claim.claim_id: (as_rows(claim), claim.as_json()["total_charge"]) for claim in result.claims}
    for claim_id, expected in EXPECTED.items():
        assert got[claim_id] == expected, claim_id
    assert list(got) == sorted(EXPECTED)  # ordered by date, then same-day order


def test_hand_computed_descriptions(clinic, tmp_path):
    claims = {c.claim_id: c for c in process_patient(patient_file(tmp_path, "hand", SESSIONS), clinic, today=NOW).claims}
    waste = [line.description for line in claims["H1-20260816"].lines if line.code == "J3490"]
    assert waste == ["Ketamine HCl 100 mg/mL 70 mg IV", "Ketamine HCl 100 mg/mL 30 mg discarded"]
    assert [line.description for line in claims["H1-20260827"].lines[1:]] == [
        "Ondansetron HCl 2 mg/mL 2.5 mg IV", "Ondansetron HCl 2 mg/mL 1.5 mg discarded"]


@pytest.mark.parametrize("pos, session, message", [
    ("02", visit("2026-09-11", start="09:00", end="09:10", meds=[{"drug": "ondansetron", "dose_mg": 4}]),
     "drug administration and drug lines (96374, J2405) cannot be billed with telehealth place of service 02"),
    ("10", visit("2026-09-11", start="09:00", end="10:00", meds=[ketamine(100)]),
     "an infusion cannot be billed with telehealth place of service 10"),
    ("10", visit("2026-09-11", services=[{"code": "99213"}, {"code": "J7050", "ndc": "0338-0049-02"}]),
     "drug administration and drug lines (J7050) cannot be billed with telehealth place of service 10"),
])
def test_hand_computed_telehealth_refusals(clinic, tmp_path, pos, session, message):
    result = process_patient(patient_file(tmp_path, "tele", [{**session, "place_of_service": pos}]), clinic, today=NOW)
    assert result.claims == []
    assert [(p.severity, p.path, p.message) for p in result.problems] == [
        ("error", "sessions[0].place_of_service", message)]


def test_hand_computed_fifth_modifier_refused(clinic, tmp_path):
    session = visit("2026-09-12", start="09:00", end="10:00", meds=[ketamine(100)],
                    services=[{"code": "99214", "modifiers": ["GT", "95", "GA", "KX"]}])
    result = process_patient(patient_file(tmp_path, "mods", [session]), clinic, today=NOW)
    assert result.claims == []
    assert [(p.severity, p.path, p.message) for p in result.problems] == [
        ("error", "sessions[0].services[0]", "99214-GT-95-GA-KX: needs modifier 25 (drug administration that day) "
                                             "but already has 4 modifiers, the most a line carries: remove one")]


def test_837p_of_a_supply_service_and_an_unclassified_jw_line(tmp_path):
    import datetime as dt

    from exportkit import clinic as starter_clinic
    from exportkit import items_of, load, patient, session, write_patient
    from x12check import assert_valid_x12

    from superbill.exports.x12 import Envelope, build_837p

    starter_clinic(tmp_path, fees={"J7050": 25.0}, medications={"ketamine": {"single_dose": True}})
    doc = patient(sessions=[session(paid=None, medications=[{"drug": "ketamine", "dose_mg": 70, "wasted_mg": 30}],
                                    services=[{"code": "J7050", "ndc": "0338-0049-02"}, {"code": "93000", "pointers": [1]}])])
    loaded = load(tmp_path)
    text = build_837p(loaded, items_of(loaded, write_patient(tmp_path, "p.yaml", doc)),
                      Envelope(5, dt.datetime(2026, 12, 1, 9, 30), "T"))
    assert_valid_x12(text)
    wanted = ("CLM", "SV1", "LIN", "CTP")
    assert [s for s in text.replace("\n", "").split("~") if s.startswith(wanted)] == [
        # 189 + 25 + 60 + 450 + 200 + 120 + 51.43 (120 x 30/70) + 16 = 1111.43
        "CLM*P0001-20261102*1111.43***11:B:1*Y*C*N*Y",
        "SV1*HC:99214:25*189.00*UN*1***1:2",
        "SV1*HC:J7050*25.00*UN*1***1:2", "LIN**N4*00338004902", "CTP****1*UN",
        "SV1*HC:93000*60.00*UN*1***1",
        "SV1*HC:96365*450.00*UN*1***1:2",
        "SV1*HC:96366*200.00*UN*1***1:2",
        "SV1*HC:J3490:::::KETAMINE HCL 100 MG/ML 70 MG IV*120.00*UN*1***1:2", "LIN**N4*00409205105", "CTP****0.7*ML",
        "SV1*HC:J3490:JW::::KETAMINE HCL 100 MG/ML 30 MG DISCARDED*51.43*UN*1***1:2", "LIN**N4*00409205105", "CTP****0.3*ML",
        "SV1*HC:J2405:JZ*16.00*UN*4***1:2", "LIN**N4*00409000925", "CTP****2*ML",
    ]


@pytest.mark.parametrize("day, problems, claims", [
    # E11.A (type 2 diabetes in remission) is new in FY2026, valid from 2025-10-01
    ("2025-09-30", [("error", "sessions[0].diagnoses[0]",
                     "E11.A is not valid on 2025-09-30 (ICD-10-CM FY2025): it is valid from 2025-10-01")], []),
    ("2025-10-01", [], [("H1-20251001", [("96365", "", 1, "450.00", N, N, N),
                                         ("J3490", "", 1, "120.00", "00409205105", "1", "ML")], "570.00")]),
])
def test_hand_computed_codes_around_an_edition_change(clinic, tmp_path, day, problems, claims):
    session = {**visit(day, start="09:00", end="10:00", meds=[ketamine(100)]), "diagnoses": ["E11.A", "G90.511"]}
    result = process_patient(patient_file(tmp_path, "edition", [session]), clinic, today=NOW)
    assert [(p.severity, p.path, p.message) for p in result.problems] == problems
    assert [(c.claim_id, as_rows(c), c.as_json()["total_charge"]) for c in result.claims] == claims
