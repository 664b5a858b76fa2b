"""The 837P writer: every document built here is validated by pyx12 (its verdict, not an exit code),
and its figures are read back from the parsed segments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from exportkit import clinic, items_of, load, patient, session, subscriber, write_patient
from x12check import assert_valid_x12, segments, validate_x12

from superbill.exports import x12
from superbill.exports.x12 import Envelope, build_837p, claim_controls, clinic_problems, patient_problems

CREATED = dt.datetime(2026, 12, 1, 9, 30)


@pytest.fixture
def folder(tmp_path):
    clinic(tmp_path)
    return tmp_path


def build(loaded, items, control=101, usage="T"):
    text = build_837p(loaded, items, Envelope(control, CREATED, usage))
    assert_valid_x12(text)
    return text, segments(text)


def seg_ids(segs):
    return [s[0] for s in segs]


def claims_in(segs):
    """[(CLM segment, [SV1 segments])] in document order."""
    out = []
    for s in segs:
        if s[0] == "CLM":
            out.append((s, []))
        elif s[0] == "SV1":
            out[-1][1].append(s)
    return out


def check_totals(segs):
    for clm, lines in claims_in(segs):
        assert Decimal(clm[2]) == sum(Decimal(sv1[2]) for sv1 in lines), clm[1]


# ---------------------------------------------------------------- the reference example (docs/reference.md), segment by segment


def test_spec_example_is_valid_and_carries_every_element(folder):
    loaded = load(folder)
    items = items_of(loaded, folder / "patients" / "example.yaml")
    text, segs = build(loaded, items, control=101)
    lines = text.splitlines()
    assert len(lines[0]) == 106 and lines[0].endswith("*000000101*0*T*:~")
    assert lines[0].startswith("ISA*00*          *00*          *ZZ*EXAMPLECLIN    *ZZ*CLEARINGHOUSE  *261201*0930*^*00501*")
    assert "GS*HC*EXAMPLECLIN*CLEARINGHOUSE*20261201*0930*101*X*005010X222A1~" in lines
    assert "BHT*0019*00*0000001010001*20261201*0930*CH~" in lines
    body = lines[lines.index("NM1*41*2*EXAMPLE KETAMINE CLINIC LLC*****46*EXAMPLECLIN~"):]
    assert body[:34] == [
        "NM1*41*2*EXAMPLE KETAMINE CLINIC LLC*****46*EXAMPLECLIN~",
        "PER*IC*BILLING OFFICE*TE*2175550100~",
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*CLEARINGHOUSE~",
        "HL*1**20*1~",
        "PRV*BI*PXC*207LP2900X~",
        "NM1*85*2*EXAMPLE KETAMINE CLINIC LLC*****XX*1234567893~",
        "N3*100 MAIN ST~",
        "N4*SPRINGFIELD*IL*627011234~",
        "REF*EI*123456789~",
        "HL*2*1*22*0~",
        "SBR*P*18*GRP123******CI~",
        "NM1*IL*1*DOE*JANE****MI*XYZ123456789~",
        "N3*1 ELM ST~",
        "N4*SPRINGFIELD*IL*62702~",
        "DMG*D8*19800101*F~",
        "NM1*PR*2*EXAMPLE HEALTH PLAN*****PI*12345~",
        "CLM*P0001-20261102*1035.00***11:B:1*Y*C*N*Y~",
        "AMT*F5*650.00~",
        "HI*ABK:G90511*ABF:F331~",
        "NM1*82*1*LEE*AVERY****XX*1003000126~",
        "PRV*PE*PXC*207LP2900X~",
        "LX*1~",
        "SV1*HC:99214:25*189.00*UN*1***1:2~",
        "DTP*472*D8*20261102~",
        "REF*6R*000000101-1~",
        "LX*2~",
        "SV1*HC:93000*60.00*UN*1***1~",
        "DTP*472*D8*20261102~",
        "REF*6R*000000101-2~",
        "LX*3~",
        "SV1*HC:96365*450.00*UN*1***1:2~",
        "DTP*472*D8*20261102~",
        "REF*6R*000000101-3~",
        "LX*4~",
    ]
    # the drug lines: NOC description in SV101-7, the 11-digit NDC and its quantity
    assert "SV1*HC:J3490:::::KETAMINE HCL 100 MG/ML 70 MG IV*120.00*UN*1***1:2~" in lines
    j3490 = lines.index("SV1*HC:J3490:::::KETAMINE HCL 100 MG/ML 70 MG IV*120.00*UN*1***1:2~")
    assert lines[j3490 + 1:j3490 + 5] == ["DTP*472*D8*20261102~", "REF*6R*000000101-5~", "LIN**N4*00409205105~",
                                          "CTP****0.7*ML~"]
    j2405 = lines.index("SV1*HC:J2405:JZ*16.00*UN*4***1:2~")
    assert lines[j2405 + 1:j2405 + 5] == ["DTP*472*D8*20261102~", "REF*6R*000000101-6~", "LIN**N4*00409000925~",
                                          "CTP****2*ML~"]
    # trailer counts
    st = seg_ids(segs).index("ST")
    se = seg_ids(segs).index("SE")
    assert segs[se] == ["SE", str(se - st + 1), "0001"]
    assert lines[-2:] == ["GE*1*101~", "IEA*1*000000101~"]
    check_totals(segs)


def test_usage_and_control_number_reach_the_envelope(folder):
    loaded = load(folder)
    items = items_of(loaded, folder / "patients" / "example.yaml")
    text, segs = build(loaded, items, control=987654321, usage="P")
    isa = segs[0]
    assert isa[13] == "987654321" and isa[15] == "P"
    assert segs[1][6] == "987654321"
    assert segs[-2] == ["GE", "1", "987654321"] and segs[-1] == ["IEA", "1", "987654321"]


# ---------------------------------------------------------------- the matrix


def _check_subscriber_structure(segs, relationship):
    hl = [s for s in segs if s[0] == "HL"]
    sbr = next(s for s in segs if s[0] == "SBR")
    if relationship is None:
        assert [h[3] for h in hl] == ["20", "22"]
        assert hl[1][4] == "0" and sbr[2] == "18"
        assert "PAT" not in seg_ids(segs) and not any(s[:2] == ["NM1", "QC"] for s in segs)
    else:
        assert [h[3] for h in hl] == ["20", "22", "23"]
        assert hl[1][4] == "1" and hl[2][2] == hl[1][1] and hl[2][4] == "0"
        assert len(sbr) < 3 or sbr[2] == ""
        pat = next(s for s in segs if s[0] == "PAT")
        assert pat == ["PAT", {"spouse": "01", "child": "19", "other": "G8"}[relationship]]
        # 2010BA is the subscriber, 2010CA the patient with address and DMG
        il = next(s for s in segs if s[:2] == ["NM1", "IL"])
        qc_at = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "QC"])
        assert il[3:5] == ["DOE", "JOHN"] and il[-2:] == ["MI", "XYZ123456789"]
        assert segs[qc_at][3:5] == ["DOE", "JANE"]
        assert seg_ids(segs)[qc_at + 1:qc_at + 4] == ["N3", "N4", "DMG"]
        assert segs[qc_at + 3] == ["DMG", "D8", "19800101", "F"]


@pytest.mark.parametrize("relationship", [None, "spouse", "child", "other"])
@pytest.mark.parametrize("count", [1, 3])
def test_matrix_subscriber_and_claim_count(folder, relationship, count):
    loaded = load(folder)
    days = ["2026-11-02", "2026-11-09", "2026-11-16"][:count]
    # alternate payment and prior authorization so each document has both cases when count > 1
    sessions = [session(day, paid=650.00 if i % 2 == 0 else None, prior_auth="PA-998877" if i % 2 == 0 else None)
                for i, day in enumerate(days)]
    doc = patient(sessions=sessions, subscriber=subscriber(relationship) if relationship else None)
    path = write_patient(folder / "patients", "p.yaml", doc)
    text, segs = build(loaded, items_of(loaded, path))
    _check_subscriber_structure(segs, relationship)
    claims = claims_in(segs)
    assert [c[0][1] for c in claims] == [f"P0001-{d.replace('-', '')}" for d in days]
    check_totals(segs)
    # LX restarts at 1 in every claim
    lx_runs, current = [], None
    for s in segs:
        if s[0] == "CLM":
            current = []
            lx_runs.append(current)
        elif s[0] == "LX":
            current.append(int(s[1]))
    assert all(run == list(range(1, len(run) + 1)) for run in lx_runs)
    # AMT*F5 and REF*G1 exactly where the session has a payment / prior authorization
    per_claim = []
    for s in segs:
        if s[0] == "CLM":
            per_claim.append(set())
        elif per_claim and s[0] in ("AMT", "REF") and s[1] != "6R":
            per_claim[-1].add(tuple(s))
    for i, found in enumerate(per_claim):
        if i % 2 == 0:
            assert found == {("AMT", "F5", "650.00"), ("REF", "G1", "PA-998877")}
        else:
            assert found == set()


def test_many_patients_group_by_subscriber_with_hard_names(folder):
    loaded = load(folder)
    parent = subscriber("spouse", first="Ana María", last="Peña-Gómez")
    files = [
        write_patient(folder / "patients", "a.yaml",
                      patient("P0001", "José", "Núñez", sessions=[session("2026-11-02"), session("2026-11-09", paid=None)])),
        write_patient(folder / "patients", "b.yaml",
                      patient("P0002", "Siobhan", "O'Brien", member_id="M2", street="12 Main St #4 Apt ~5")),
        write_patient(folder / "patients", "c.yaml",
                      patient("P0003", "A:B^C", "O*Brien~", member_id="FAM1",
                              subscriber=dict(parent, relationship="child"))),
        write_patient(folder / "patients", "d.yaml",
                      patient("P0004", "Lucía", "Peña-Gómez", member_id="FAM1",
                              subscriber=dict(parent, relationship="child"))),
    ]
    items = items_of(loaded, *files)
    text, segs = build(loaded, items)
    names = [s[3:5] for s in segs if s[0] == "NM1" and s[1] in ("IL", "QC")]
    assert names == [["NUNEZ", "JOSE"], ["O'BRIEN", "SIOBHAN"], ["PENA-GOMEZ", "ANA MARIA"],
                     ["O BRIEN", "A B C"], ["PENA-GOMEZ", "LUCIA"]]
    assert ["N3", "12 MAIN ST 4 APT 5"] in segs
    # three subscribers; the two children share one 2000B, each with its own 2000C
    hl = [s for s in segs if s[0] == "HL"]
    assert [h[1:] for h in hl] == [["1", "", "20", "1"], ["2", "1", "22", "0"], ["3", "1", "22", "0"],
                                   ["4", "1", "22", "1"], ["5", "4", "23", "0"], ["6", "4", "23", "0"]]
    # José's two claims sit under his one 2000B, in date order
    first_hl = seg_ids(segs).index("HL", seg_ids(segs).index("HL") + 1)
    second_hl = seg_ids(segs).index("HL", first_hl + 1)
    assert [s[1] for s in segs[first_hl:second_hl] if s[0] == "CLM"] == ["P0001-20261102", "P0001-20261109"]
    check_totals(segs)
    # no delimiter inside any element: every segment has the element count its text implies
    for line in text.splitlines()[1:]:
        assert line.count("~") == 1 and line.endswith("~") and "^" not in line


def test_claim_controls_follow_transaction_splits(folder, monkeypatch):
    monkeypatch.setattr(x12, "MAX_CLAIMS_PER_HL", 2)
    monkeypatch.setattr(x12, "MAX_CLAIMS_PER_ST", 3)
    loaded = load(folder)
    days = [f"2026-11-{d:02d}" for d in (2, 3, 4, 5, 6)]
    path = write_patient(folder / "patients", "p.yaml", patient(sessions=[session(d) for d in days]))
    items = items_of(loaded, path)
    text, segs = build(loaded, items)
    st = [s for s in segs if s[0] == "ST"]
    assert [s[2] for s in st] == ["0001", "0002"]
    assert segs[-2] == ["GE", "2", "101"]
    where, current = {}, None
    for s in segs:
        if s[0] == "ST":
            current = s[2]
        elif s[0] == "CLM":
            where[s[1]] = current
    assert where == claim_controls(items)
    # HL chunks of 2, 2, 1 claims; a transaction takes whole chunks up to 3 claims: 2 | 2 + 1
    assert [where[c[1]] for c, _ in claims_in(segs)] == ["0001", "0001", "0002", "0002", "0002"]
    # at most 2 claims under one subscriber HL
    counts, current = [], 0
    for s in segs:
        if s[0] == "HL" and s[3] == "22":
            counts.append(0)
        elif s[0] == "CLM":
            counts[-1] += 1
    assert max(counts) == 2 and sum(counts) == 5
    check_totals(segs)


def test_rendering_provider_loop_is_left_out_when_it_is_the_billing_npi(tmp_path):
    clinic(tmp_path, providers=[{"id": "dr-lee", "first_name": "Avery", "last_name": "Lee", "credentials": "MD",
                                 "npi": "1234567893", "taxonomy": "207LP2900X"}])
    loaded = load(tmp_path)
    text, segs = build(loaded, items_of(loaded, tmp_path / "patients" / "example.yaml"))
    assert not any(s[:2] == ["NM1", "82"] for s in segs)
    assert not any(s[:2] == ["PRV", "PE"] for s in segs)


# ---------------------------------------------------------------- X12-safe text


@pytest.mark.parametrize("raw, expected", [
    ("José Núñez", "JOSE NUNEZ"),
    ("O'Brien", "O'BRIEN"),
    ("O*Brien~", "O BRIEN"),
    ("A:B^C", "A B C"),
    ("Straße", "STRASSE"),
    ("Ærø\tTab\nLine\x1cFS", "AERO TAB LINE FS"),
    ("  lots   of   space  ", "LOTS OF SPACE"),
    ("50% off @ #4 [x] {y} <z> | $", "50 OFF 4 X Y Z"),
])
def test_text_is_x12_safe(raw, expected):
    assert x12.text(raw, 60) == expected


def test_text_is_truncated_to_the_element_maximum():
    assert x12.text("A" * 70, 60) == "A" * 60
    assert x12.text("word " * 20, 12) == "WORD WORD WO"


# ---------------------------------------------------------------- problems reported before building


def test_billing_zip_must_have_nine_digits(tmp_path):
    clinic(tmp_path, practice={"address": {"street": "100 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}})
    loaded = load(tmp_path)
    lines = [p.line() for p in clinic_problems(loaded)]
    assert lines == [f"{tmp_path / 'clinic.yaml'}: practice.address.zip: error: the 837P needs the billing "
                     "provider's 9-digit ZIP+4 (for example 62701-1234); look it up with the USPS"]


def test_missing_x12_section_is_reported(tmp_path):
    path = clinic(tmp_path)
    import yaml

    data = yaml.safe_load(path.read_text())
    del data["x12"]
    path.write_text(yaml.safe_dump(data))
    loaded = load(tmp_path)
    assert [(p.path, p.message) for p in clinic_problems(loaded)] == [
        ("x12", "is required for the 837P export (submitter_id, submitter_name, receiver_id, receiver_name, contact)")]


def test_values_x12_cannot_carry_are_reported_by_path(folder):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient("P*01", "Jane", "~~~"))
    from superbill.engine.process import process_patient

    result = process_patient(path, loaded, today=dt.date(2026, 12, 31))
    problems = patient_problems(result.patient_file, result.claims, str(path), loaded.book)
    assert sorted((p.path, p.message) for p in problems) == [
        ("patient.id", "holds a character X12 cannot carry (letters, digits, '-', '.', '/' are safe)"),
        ("patient.last_name", "nothing usable is left once the characters X12 cannot carry are removed"),
    ]
    # and nothing about the value itself (PHI) is in the messages
    assert not any("~" in p.line() or "P*01" in p.message for p in problems)


def test_validator_catches_a_broken_document(folder):
    # the helper must fail documents pyx12 rejects, or every other test here proves nothing
    loaded = load(folder)
    text = build_837p(loaded, items_of(loaded, folder / "patients" / "example.yaml"), Envelope(7, CREATED))
    ok, errors = validate_x12(text.replace("CTP****0.7*ML", "CTP****0.7*MG"))
    assert not ok and any("MG" in e for e in errors)
    ok, errors = validate_x12(text.replace("SE*52*0001", "SE*51*0001"))
    assert not ok and any("SE count" in e for e in errors)
