"""Issue 13: the 837P's situational rules that pyx12 does not check, each on both sides, and every
document of the acceptance mix through pyx12 and tests/x12rules.py (the checker of those rules)."""

from __future__ import annotations

import datetime as dt

import pytest
from exportkit import TODAY, clinic, items_of, load, patient, session, subscriber, write_patient
from x12check import assert_valid_x12, segments
from x12rules import violations

from superbill.engine.process import process_patient
from superbill.exports.x12 import Envelope, build_837p, line_controls, patient_problems

CREATED = dt.datetime(2026, 12, 1, 9, 30)
LEE = {"id": "dr-lee", "first_name": "Avery", "last_name": "Lee", "credentials": "MD",
       "npi": "1003000126", "taxonomy": "207LP2900X"}
KIM = {"id": "np-kim", "first_name": "Robin", "last_name": "Kim", "middle_name": "J", "credentials": "FNP-C",
       "npi": "1003000209", "taxonomy": "363LF0000X"}
PAYER_ADDRESS = {"street": "PO Box 1000", "city": "Chicago", "state": "IL", "zip": "60601"}
TWELVE = ["G90.511", "F33.1", "M54.50", "G43.709", "M79.7", "F41.1", "G47.00", "E11.9", "I10", "Z79.891",
          "M25.561", "F43.10"]


@pytest.fixture
def folder(tmp_path):
    clinic(tmp_path, providers=[LEE, KIM])
    return tmp_path


def build(loaded, items, control=101, **expect):
    text = build_837p(loaded, items, Envelope(control, CREATED))
    assert_valid_x12(text)
    assert violations(text, **expect) == []
    return text, segments(text)


def visit(day, paid=100.00, **changes):
    """An office visit: one E/M line, no infusion, no drugs."""
    base = dict(protocol=None, infusion=None, medications=[], services=[{"code": "99214"}])
    base.update(changes)
    return session(day, paid=paid, **base)


def problems_of(loaded, path):
    result = process_patient(path, loaded, today=TODAY)
    assert result.ok, [p.line() for p in result.problems]
    return result, patient_problems(result.patient_file, result.claims, str(path), loaded.book)


def recount(text):
    """The one-ST document with SE01 counted again after a test edited its segments."""
    lines = text.splitlines()
    st, se = next(i for i, x in enumerate(lines) if x.startswith("ST*")), next(i for i, x in enumerate(lines) if x.startswith("SE*"))
    lines[se] = f"SE*{se - st + 1}*{lines[se].split('*')[2]}"
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- 1. dependents


@pytest.mark.parametrize("relationship", ["spouse", "child", "other"])
def test_a_dependents_address_and_demographics_go_only_in_2010CA(folder, relationship):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient(subscriber=subscriber(relationship)))
    _, segs = build(loaded, items_of(loaded, path))
    il = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "IL"])
    assert segs[il] == ["NM1", "IL", "1", "DOE", "JOHN", "", "", "", "MI", "XYZ123456789"]
    assert segs[il + 1][:2] == ["NM1", "PR"]  # straight to the payer: no N3, N4, DMG of the subscriber
    qc = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "QC"])
    assert segs[qc - 1] == ["PAT", {"spouse": "01", "child": "19", "other": "G8"}[relationship]]
    assert segs[qc + 1:qc + 4] == [["N3", "1 ELM ST"], ["N4", "SPRINGFIELD", "IL", "62702"],
                                   ["DMG", "D8", "19800101", "F"]]
    assert sum(s[0] == "DMG" for s in segs) == 1


def test_a_patient_who_is_the_subscriber_has_address_and_demographics_in_2010BA(folder):
    loaded = load(folder)
    _, segs = build(loaded, items_of(loaded, folder / "patients" / "example.yaml"))
    il = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "IL"])
    assert segs[il + 1:il + 4] == [["N3", "1 ELM ST"], ["N4", "SPRINGFIELD", "IL", "62702"],
                                   ["DMG", "D8", "19800101", "F"]]
    assert not any(s[0] == "PAT" or s[:2] == ["NM1", "QC"] or (s[0] == "HL" and s[3] == "23") for s in segs)


def test_the_checker_catches_a_subscriber_address_sent_for_a_dependent(folder):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient(subscriber=subscriber("child")))
    text = build_837p(loaded, items_of(loaded, path), Envelope(5, CREATED))
    member = "NM1*IL*1*DOE*JOHN****MI*XYZ123456789~\n"
    broken = recount(text.replace(member, member + "N3*1 ELM ST~\nN4*SPRINGFIELD*IL*627021234~\nDMG*D8*19750505*M~\n"))
    assert_valid_x12(broken)  # pyx12 accepts it: only our checker sees the rule
    assert violations(broken) == ["HL 2: a dependent's subscriber loop 2010BA carries ['N3', 'N4', 'DMG'] (do not send)"]


# ---------------------------------------------------------------- 2. patient paid never above the charge


def test_payments_above_the_charges_are_refused_for_the_837p(folder):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient(sessions=[visit("2026-11-02", paid=189.01)]))
    result, problems = problems_of(loaded, path)
    assert [(p.path, p.severity, p.message) for p in problems] == [(
        "sessions[0].payments", "error",
        "the payments (189.01) are more than the session's charges (189.00): neither the 837P (AMT*F5) nor the "
        "CMS-1500 (item 29) carries a patient payment above the claim's charge; record a prepayment for a series "
        "across its sessions (the superbill shows the credit)")]


def test_payments_equal_to_the_charges_are_sent_as_amt_f5(folder):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient(sessions=[visit("2026-11-02", paid=189.00)]))
    assert problems_of(loaded, path)[1] == []
    _, segs = build(loaded, items_of(loaded, path))
    clm = next(s for s in segs if s[0] == "CLM")
    assert clm[2] == "189.00" and ["AMT", "F5", "189.00"] in segs


# ---------------------------------------------------------------- 3. solo practitioner


def test_a_solo_practitioner_is_the_billing_provider_as_a_person(tmp_path):
    clinic(tmp_path, practice={"npi": "1003000209"}, providers=[KIM, LEE])
    loaded = load(tmp_path)
    path = write_patient(tmp_path / "patients", "p.yaml", patient(sessions=[session(provider="np-kim")]))
    _, segs = build(loaded, items_of(loaded, path), solo=("KIM", "ROBIN", "1003000209"))
    assert ["NM1", "85", "1", "KIM", "ROBIN", "J", "", "", "XX", "1003000209"] in segs
    assert not any(s[:2] in (["NM1", "82"], ["PRV", "PE"]) for s in segs)
    # a session the practitioner's colleague rendered still names its renderer in 2310B
    other = write_patient(tmp_path / "patients", "q.yaml", patient("P0002", member_id="M2",
                                                                   sessions=[session(provider="dr-lee")]))
    _, segs = build(loaded, items_of(loaded, other), solo=("KIM", "ROBIN", "1003000209"))
    assert ["NM1", "82", "1", "LEE", "AVERY", "", "", "", "XX", "1003000126"] in segs


def test_a_group_practice_bills_as_an_organization_with_its_rendering_provider(folder):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient(sessions=[session(provider="np-kim")]))
    _, segs = build(loaded, items_of(loaded, path))
    assert ["NM1", "85", "2", "EXAMPLE KETAMINE CLINIC LLC", "", "", "", "", "XX", "1234567893"] in segs
    assert ["NM1", "82", "1", "KIM", "ROBIN", "J", "", "", "XX", "1003000209"] in segs
    assert ["PRV", "PE", "PXC", "363LF0000X"] in segs


# ---------------------------------------------------------------- 4. line item control numbers


def test_every_line_has_a_line_item_control_number_unique_in_the_interchange(folder):
    loaded = load(folder)
    one = write_patient(folder / "patients", "a.yaml", patient(sessions=[session("2026-11-02"), session("2026-11-09")]))
    two = write_patient(folder / "patients", "b.yaml", patient("P0002", member_id="M2", sessions=[visit("2026-11-03")]))
    items = items_of(loaded, one, two)
    _, segs = build(loaded, items, control=4321)
    refs = [s[2] for s in segs if s[:2] == ["REF", "6R"]]
    assert len(refs) == sum(s[0] == "LX" for s in segs) == 6 + 6 + 1
    assert refs == [f"000004321-{n}" for n in range(1, 14)]
    # the ledger's record of them is the document's, claim by claim and line by line
    per_claim, current = {}, None
    for s in segs:
        if s[0] == "CLM":
            current = per_claim.setdefault(s[1], [])
        elif s[:2] == ["REF", "6R"]:
            current.append(s[2])
    assert line_controls(items, 4321) == per_claim


def test_the_checker_catches_a_missing_or_repeated_line_control_number(folder):
    loaded = load(folder)
    text = build_837p(loaded, items_of(loaded, folder / "patients" / "example.yaml"), Envelope(9, CREATED))
    repeated = text.replace("REF*6R*000000009-2~", "REF*6R*000000009-1~")
    assert violations(repeated) == ["P0001-20261102: REF*6R 000000009-1 repeated in the interchange"]
    missing = text.replace("REF*6R*000000009-3~\n", "")
    assert violations(missing) == ["P0001-20261102 LX 3: 0 REF*6R"]


# ---------------------------------------------------------------- 5. payer address


def test_the_payer_address_goes_to_2010BB_when_given(folder):
    loaded = load(folder)
    path = write_patient(folder / "patients", "p.yaml", patient(payer_address=PAYER_ADDRESS))
    _, segs = build(loaded, items_of(loaded, path),
                    payer_addresses={"12345": ("PO BOX 1000", "CHICAGO", "IL", "60601")})
    pr = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "PR"])
    assert segs[pr + 1:pr + 3] == [["N3", "PO BOX 1000"], ["N4", "CHICAGO", "IL", "60601"]]
    assert segs[pr + 3][0] == "CLM"


def test_no_payer_address_means_no_2010BB_address(folder):
    loaded = load(folder)
    _, segs = build(loaded, items_of(loaded, folder / "patients" / "example.yaml"), payer_addresses={})
    pr = next(i for i, s in enumerate(segs) if s[:2] == ["NM1", "PR"])
    assert segs[pr + 1][0] == "CLM"


# ---------------------------------------------------------------- 6. Medicare assignment


@pytest.mark.parametrize("indicator, provider, drugs, assigned", [
    ("MB", "np-kim", True, True),
    ("MB", "dr-lee", True, True),
    ("MA", "np-kim", False, True),
    ("MB", "dr-lee", False, False),
    ("CI", "np-kim", True, False),
    ("CI", "dr-lee", False, False),
])
def test_medicare_claims_with_drugs_or_an_np_are_sent_assigned(folder, indicator, provider, drugs, assigned):
    loaded = load(folder)
    sessions = [session(provider=provider) if drugs else visit("2026-11-02", provider=provider)]
    path = write_patient(folder / "patients", "p.yaml", patient(sessions=sessions, filing_indicator=indicator))
    result, problems = problems_of(loaded, path)
    assert problems == [] and [c.assigned for c in result.claims] == [assigned]
    warnings = [p for p in result.problems if "Medicare requires assignment" in p.message]
    _, segs = build(loaded, items_of(loaded, path))
    clm = next(s for s in segs if s[0] == "CLM")
    if assigned:
        assert clm[6:10] == ["Y", "A", "Y", "Y"]
        why = " and ".join((["drug lines"] if drugs else [])
                           + (["a nurse practitioner or physician assistant"] if provider == "np-kim" else []))
        assert [(w.path, w.severity, w.message) for w in warnings] == [(
            "sessions[0]", "warning",
            f"Medicare requires assignment for {why}: the claim is sent assigned, so Medicare pays the clinic, "
            "not the patient; refund what the patient paid for the covered services once Medicare has paid")]
    else:
        assert clm[6:10] == ["Y", "C", "N", "Y"] and warnings == []


def test_a_physician_assistant_is_known_by_taxonomy_or_credentials():
    from types import SimpleNamespace

    from superbill.engine.assignment import non_physician_practitioner

    def who(taxonomy, credentials):
        return non_physician_practitioner(SimpleNamespace(taxonomy=taxonomy, credentials=credentials))

    assert who("363AM0700X", "MD") and who("207LP2900X", "PA-C") and who("207LP2900X", "MSN, APRN")
    assert not who("207LP2900X", "MD") and not who("207LP2900X", "DO, PhD") and not who("364SP0808X", "RN")


# ---------------------------------------------------------------- 8. format limits the export refuses


def _lines_session(count):
    """A session of exactly `count` lines: one E/M and count - 1 ECGs."""
    return visit("2026-11-02", paid=None, services=[{"code": "99214"}] + [{"code": "93000"}] * (count - 1))


def test_51_lines_are_refused_and_50_are_sent(folder):
    loaded = load(folder)
    over = write_patient(folder / "patients", "over.yaml", patient(sessions=[_lines_session(51)]))
    assert [(p.path, p.message) for p in problems_of(loaded, over)[1]] == [
        ("sessions[0]", "has 51 service lines; an 837P claim carries at most 50: split the services into a "
                        "second session of the same day")]
    fits = write_patient(folder / "patients", "fits.yaml", patient(sessions=[_lines_session(50)]))
    assert problems_of(loaded, fits)[1] == []
    _, segs = build(loaded, items_of(loaded, fits))
    assert sum(s[0] == "LX" for s in segs) == 50


def test_a_claim_id_over_38_characters_names_the_patient_id(folder):
    loaded = load(folder)
    over = write_patient(folder / "patients", "over.yaml", patient("P" * 30))
    assert [(p.path, p.severity, p.message) for p in problems_of(loaded, over)[1]] == [
        ("patient.id", "error", "is 30 characters, so the 837P claim id (CLM01: patient id, '-', date of service) "
                                "is 39 characters, over the 38 an 837P carries: use a patient id of at most 29 "
                                "characters")]
    fits = write_patient(folder / "patients", "fits.yaml", patient("P" * 29))
    result, problems = problems_of(loaded, fits)
    assert [(p.path, p.severity) for p in problems] == [("patient.id", "warning")]
    assert problems[0].message == (
        "the 837P claim id (CLM01) is 38 characters; many payers return only 20 in the remittance, so the payment "
        "may not match the claim (a patient id of at most 11 characters avoids it)")
    build(loaded, items_of(loaded, fits))
    short = write_patient(folder / "patients", "short.yaml", patient("P" * 11))
    assert problems_of(loaded, short)[1] == []


def test_a_claim_id_over_38_characters_is_said_once_for_two_sessions_that_day(folder):
    loaded = load(folder)
    two = write_patient(folder / "patients", "two.yaml", patient("P" * 29, sessions=[
        session("2026-11-02"), session("2026-11-02", infusion={"start": "13:00", "end": "14:00"})]))
    assert [(p.path, p.severity, p.message) for p in problems_of(loaded, two)[1]] == [
        ("patient.id", "error", "is 29 characters, so the 837P claim id (CLM01: patient id, '-', date of service) "
                                "reaches 40 characters, over the 38 an 837P carries: use a patient id of at most 27 "
                                "characters")]


# ---------------------------------------------------------------- acceptance: the whole mix in one interchange


def test_the_acceptance_mix_passes_pyx12_and_the_rule_checker(folder):
    loaded = load(folder)
    patients = folder / "patients"
    parent = subscriber("spouse", first="Sam", last="Roe")
    files = [
        write_patient(patients, "spouse.yaml", patient("S1", "Pat", "Roe", member_id="FAM9", subscriber=parent)),
        write_patient(patients, "child.yaml", patient("C1", "Kid", "Roe", member_id="FAM9",
                                                      subscriber=dict(parent, relationship="child"))),
        write_patient(patients, "other.yaml", patient("O1", "Ward", "Poe", member_id="OTH1",
                                                      subscriber=subscriber("other", first="Guardian", last="Poe"))),
        write_patient(patients, "medicare.yaml", patient(
            "M1", "Mary", "Major", member_id="1EG4TE5MK73", filing_indicator="MB", payer_address=PAYER_ADDRESS,
            sessions=[session("2026-11-02", provider="np-kim"),
                      visit("2026-11-03", provider="np-kim", place_of_service="10"),
                      visit("2026-11-04", provider="dr-lee")])),
        write_patient(patients, "telehealth.yaml", patient("T1", member_id="TELE1", sessions=[
            visit("2026-11-05", place_of_service="02"), visit("2026-11-06", place_of_service="10")])),
        write_patient(patients, "twelve.yaml", patient("D12", member_id="DX12", sessions=[
            session("2026-11-07", diagnoses=TWELVE, prior_auth="PA-2026-0001",
                    services=[{"code": "93000", "pointers": [9, 10, 11, 12]}])])),
        write_patient(patients, "many.yaml", patient("MANY", member_id="MANY1", sessions=[
            visit((dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat()) for n in range(101)])),
        write_patient(patients, "fifty.yaml", patient("L50", member_id="L50", sessions=[_lines_session(50)])),
    ]
    items = items_of(loaded, *files)
    text, segs = build(loaded, items, control=777)
    clms = {s[1]: s for s in segs if s[0] == "CLM"}
    assert len(clms) == 1 + 1 + 1 + 3 + 2 + 1 + 101 + 1
    assert [clms[c][7:9] for c in ("M1-20261102", "M1-20261103", "M1-20261104")] == [["A", "Y"], ["A", "Y"], ["C", "N"]]
    hi = next(s for s in segs if s[0] == "HI" and len(s) == 13)
    assert hi[1] == "ABK:G90511" and hi[12] == "ABF:F4310"
    assert ["REF", "G1", "PA-2026-0001"] in segs
    # 101 claims of one subscriber: two 2000B loops of 100 and 1
    counts = []
    for s in segs:
        if s[:4:3] == ["HL", "22"]:
            counts.append(0)
        elif s[0] == "CLM" and s[1].startswith("MANY-"):
            counts[-1] += 1
    assert sorted(c for c in counts if c) == [1, 100]
    # the spouse and the child share their subscriber's 2000B
    assert sum(s[:2] == ["NM1", "IL"] and s[3:5] == ["ROE", "SAM"] for s in segs) == 1


def test_check_reports_what_export_would_refuse_with_exit_1(folder):
    from helpers import run

    over = write_patient(folder / "patients", "over.yaml", patient("P" * 30, sessions=[_lines_session(51)]))
    result = run("check", over, clinic=folder / "clinic.yaml")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == [
        f"{over}: sessions[0]: error: has 51 service lines; an 837P claim carries at most 50: split the services "
        "into a second session of the same day",
        f"{over}: patient.id: error: is 30 characters, so the 837P claim id (CLM01: patient id, '-', date of "
        "service) is 39 characters, over the 38 an 837P carries: use a patient id of at most 29 characters",
    ]
    assert result.stdout.splitlines()[-1].startswith("1 file(s) checked: 0 ok, 1 with errors; 1 claim(s); 2 error(s)")
    # the same file with 50 lines and a short id: only the remittance warning would remain, exit 0
    fits = write_patient(folder / "patients", "over.yaml", patient("P0001", sessions=[_lines_session(50)]))
    again = run("check", fits, clinic=folder / "clinic.yaml")
    assert again.exit_code == 0 and ": error: " not in again.stderr


def test_check_reports_an_overpaid_visit_and_the_export_refuses_it(folder):
    from helpers import run

    path = write_patient(folder / "patients", "p.yaml", patient(sessions=[visit("2026-11-02", paid=200.00)]))
    result = run("check", path, clinic=folder / "clinic.yaml")
    assert result.exit_code == 1
    assert (f"{path}: sessions[0].payments: error: the payments (200.00) are more than the session's charges "
            "(189.00)") in result.stderr
    for fmt in ("837p", "cms1500"):
        out = folder / f"out-{fmt}"
        refused = run("export", path, "-o", out, "--format", fmt, "--jobs", "1", clinic=folder / "clinic.yaml")
        assert refused.exit_code == 1 and "sessions[0].payments: error: the payments (200.00)" in refused.stderr
        assert not out.exists() or not any(out.iterdir())
    superbill = run("export", path, "-o", folder / "out-sb", "--format", "superbill", "--jobs", "1",
                    clinic=folder / "clinic.yaml")
    assert superbill.exit_code == 0, superbill.output


def test_check_reports_a_clinic_the_837p_cannot_be_written_for(tmp_path):
    from helpers import run

    clinic(tmp_path, practice={"address": {"street": "100 Main St", "city": "Springfield", "state": "IL",
                                           "zip": "62701"}})
    result = run("check", tmp_path / "patients" / "example.yaml", clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if ": error: " in line] == [
        f"{tmp_path / 'clinic.yaml'}: practice.address.zip: error: the 837P needs the billing provider's 9-digit "
        "ZIP+4 (for example 62701-1234); look it up with the USPS"]
    ok = tmp_path / "ok"
    clinic(ok)
    assert run("check", ok / "patients" / "example.yaml", clinic=ok / "clinic.yaml").exit_code == 0


def test_a_charge_too_large_for_the_cms1500_boxes_is_refused_for_that_format_only(folder):
    """Items 24F, 28 and 29 hold five dollar digits: 100,000.00 cut to its box would print 00000 00."""
    from superbill.engine.format_limits import limit_problems

    loaded = load(folder)
    big = write_patient(folder / "patients", "big.yaml", patient(sessions=[
        session("2026-11-02", services=[{"code": "93000", "charge": 99999.99 - 1035.00 + 60.00}])]))
    result, _ = problems_of(loaded, big)
    [claim] = result.claims
    assert f"{claim.total_charge:.2f}" == "99999.99"  # 1035.00 - 60.00 + 99024.99: fits exactly
    assert limit_problems(claim.patient_id, result.claims, str(big), ("cms1500",)) == []
    bigger = write_patient(folder / "patients", "bigger.yaml", patient(sessions=[
        session("2026-11-02", services=[{"code": "93000", "charge": 99025.00}])]))
    result, _ = problems_of(loaded, bigger)
    assert [p.line() for p in limit_problems(result.claims[0].patient_id, result.claims, str(bigger),
                                            ("cms1500",))] == [
        f"{bigger}: sessions[0]: error: the claim's charges (100000.00) do not fit the CMS-1500's amount boxes "
        "(items 24F, 28 and 29 hold at most 99999.99): send it as an 837P or split the services into a second "
        "session of the same day"]
    assert limit_problems(result.claims[0].patient_id, result.claims, str(bigger), ("837p",)) == []
