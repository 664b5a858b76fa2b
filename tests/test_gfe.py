"""The Good Faith Estimate (`superbill gfe`, 45 CFR 149.610): lines from the billing engine (the same
as the prior-authorization letter's), the due date in business days, the $400 test against the bill,
refused input, and the PDF read back."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from helpers import edit_yaml, make_clinic, read_yaml, run, stderr_lines, write_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from superbill.engine.business_days import add_business_days, business_days_between, deadline, is_business_day
from superbill.engine.estimate import EstimateRecord, build_estimate, overrun_problems, planned_care
from superbill.inputs.load import load_clinic, load_estimate, load_patient
from superbill.paths import EXAMPLES_DIR

D = dt.date
FIXTURE_LEDGER = Path(__file__).parent / "fixtures" / "ledger-v0.1.sqlite3"


# ---------------------------------------------------------------- helpers


@pytest.fixture()
def clinic(tmp_path):
    folder = make_clinic(tmp_path / "clinic")
    gfe = read_yaml(EXAMPLES_DIR / "gfe" / "example.yaml")
    write_yaml(folder / "gfe" / "example.yaml", gfe)
    return folder


def gfe_data(folder) -> dict:
    return read_yaml(folder / "gfe" / "example.yaml")


def write_gfe(folder, name: str, data: dict):
    return write_yaml(folder / "gfe" / f"{name}.yaml", data)


def estimate_of(folder, path, **dates):
    loaded = load_clinic(folder / "clinic.yaml")
    model, patient_file = load_estimate(path, loaded)
    care = planned_care(model, **dates)
    return build_estimate(care, patient_file, loaded, getattr(model, "issued_on", None) or D(2026, 11, 20))


def line_rows(lines) -> list[tuple]:
    return [(line.code, line.modifiers, line.units, line.charge) for line in lines]


SIX_SESSION_LINES = [
    ("99214", ("25",), 1, Decimal("189.00")),  # E/M on an infusion day: modifier 25
    ("96365", (), 1, Decimal("450.00")),  # the first hour of 240 minutes
    ("96366", (), 3, Decimal("600.00")),  # 91-150, 151-210, 211-270 minutes: 3 x 200
    ("J3490", (), 1, Decimal("120.00")),  # ketamine, unclassified: 1 unit
]


# ---------------------------------------------------------------- the engine: the letter's lines


def test_six_session_series_has_the_letters_lines_and_totals(clinic):
    from superbill.documents.letter import prepare_letter

    loaded = load_clinic(clinic / "clinic.yaml")
    letter = prepare_letter(clinic / "requests" / "example.yaml", loaded, today=D(2026, 11, 10)).context
    estimate = estimate_of(clinic, clinic / "gfe" / "example.yaml")
    from_request = estimate_of(clinic, clinic / "requests" / "example.yaml", scheduled_on=D(2026, 11, 20))

    letter_rows = [(r["code"], tuple(r["modifiers"].split()), r["units"], r["charge"]) for r in letter["lines"]]
    assert letter_rows == SIX_SESSION_LINES
    assert line_rows(estimate.lines) == SIX_SESSION_LINES
    assert line_rows(from_request.lines) == SIX_SESSION_LINES
    assert estimate.sessions == from_request.sessions == letter["plan"]["sessions"] == 6
    assert estimate.per_session == from_request.per_session == letter["per_session"] == Decimal("1359.00")
    assert estimate.course_total == from_request.course_total == letter["per_course"] == Decimal("8154.00")


def test_a_bill_of_the_sessions_as_planned_equals_the_estimate(clinic):
    """Six sessions billed exactly as planned: the billed total is the estimate's course total."""
    from superbill.engine.claims import build_claims

    patient = read_yaml(clinic / "patients" / "example.yaml")
    days = [D(2026, 12, d) for d in (1, 3, 5, 8, 10, 14)]
    patient["sessions"] = [{"date": day.isoformat(), "provider": "dr-lee", "diagnoses": ["G90.511"],
                            "infusion": {"start": "09:00", "end": "13:00"},
                            "medications": [{"drug": "ketamine", "dose_mg": 140}],
                            "services": [{"code": "99214"}]} for day in days]
    path = write_yaml(clinic / "patients" / "series.yaml", patient)
    loaded = load_clinic(clinic / "clinic.yaml")
    claims = build_claims(load_patient(path, loaded), loaded.clinic, loaded.book)
    estimate = estimate_of(clinic, clinic / "gfe" / "example.yaml")
    assert [line_rows(c.lines) for c in claims] == [SIX_SESSION_LINES] * 6
    assert sum(c.total_charge for c in claims) == estimate.course_total == Decimal("8154.00")


# ---------------------------------------------------------------- the due date in business days


def test_business_days_skip_weekends_and_federal_holidays():
    assert not is_business_day(D(2026, 11, 21))  # Saturday
    assert not is_business_day(D(2026, 11, 26))  # Thanksgiving Day
    assert is_business_day(D(2026, 11, 27))  # the day after is not a federal holiday
    assert not is_business_day(D(2026, 7, 3))  # Independence Day (Saturday) observed on Friday
    assert add_business_days(D(2026, 11, 20), 1) == D(2026, 11, 23)  # Friday -> Monday
    assert add_business_days(D(2026, 11, 25), 1) == D(2026, 11, 27)  # Wednesday -> over Thanksgiving
    assert add_business_days(D(2026, 11, 25), 3) == D(2026, 12, 1)  # Fri 27, Mon 30, Tue 1
    assert add_business_days(D(2026, 11, 21), 1) == D(2026, 11, 23)  # scheduled on a Saturday
    # Mon 23, Tue 24, Wed 25, (Thu 26 Thanksgiving), Fri 27, Mon 30, Tue Dec 1
    assert business_days_between(D(2026, 11, 20), D(2026, 12, 1)) == 6


def test_scheduled_3_to_9_business_days_ahead_due_within_1_business_day():
    # Friday Nov 20 for Tuesday Dec 1: 6 business days ahead -> due the next business day, Monday
    timing = deadline(first_service=D(2026, 12, 1), scheduled_on=D(2026, 11, 20))
    assert (timing.due, timing.business_days) == (D(2026, 11, 23), 1)
    # Wednesday before Thanksgiving: the next business day is Friday
    timing = deadline(first_service=D(2026, 12, 4), scheduled_on=D(2026, 11, 25))
    assert (timing.due, timing.business_days) == (D(2026, 11, 27), 1)
    # exactly 3 business days ahead: Wed Nov 25 -> Fri 27, Mon 30, Tue Dec 1
    assert deadline(first_service=D(2026, 12, 1), scheduled_on=D(2026, 11, 25)).due == D(2026, 11, 27)


def test_scheduled_10_or_more_business_days_ahead_due_within_3_business_days():
    # Friday Nov 20 for Tuesday Dec 15: 16 business days ahead -> Mon 23, Tue 24, Wed 25
    timing = deadline(first_service=D(2026, 12, 15), scheduled_on=D(2026, 11, 20))
    assert (timing.due, timing.business_days) == (D(2026, 11, 25), 3)
    # Tuesday Nov 24, ten business days ahead (Dec 9): Wed 25, Fri 27 (Thanksgiving skipped), Mon 30
    assert business_days_between(D(2026, 11, 24), D(2026, 12, 9)) == 10
    timing = deadline(first_service=D(2026, 12, 9), scheduled_on=D(2026, 11, 24))
    assert (timing.due, timing.business_days) == (D(2026, 11, 30), 3)
    # one business day fewer (Dec 8: 9 ahead) -> within 1 business day: Wednesday Nov 25
    assert deadline(first_service=D(2026, 12, 8), scheduled_on=D(2026, 11, 24)).due == D(2026, 11, 25)


def test_requested_estimate_due_within_3_business_days_of_the_request():
    # asked on Wednesday Nov 25: Fri 27, Mon 30, Tue Dec 1 (weekend and Thanksgiving skipped)
    timing = deadline(first_service=D(2027, 3, 1), requested_on=D(2026, 11, 25))
    assert (timing.due, timing.business_days) == (D(2026, 12, 1), 3)


def test_scheduled_fewer_than_3_business_days_ahead_has_no_deadline():
    # Friday for the next Tuesday: Mon, Tue = 2 business days ahead
    timing = deadline(first_service=D(2026, 11, 24), scheduled_on=D(2026, 11, 20))
    assert timing.due is None and not timing.late(D(2026, 11, 24))


# ---------------------------------------------------------------- the $400 test


OCTOBER = [D(2026, 10, d) for d in (1, 5, 7, 9, 12, 14)]  # in the past, so check accepts the sessions


def _series_claims(clinic, charge_delta: Decimal, days=OCTOBER):
    """Six sessions billed as planned, the last with `charge_delta` more (an explicit 99214 charge)."""
    from superbill.engine.claims import build_claims

    patient = read_yaml(clinic / "patients" / "example.yaml")
    patient["sessions"] = [{"date": day.isoformat(), "provider": "dr-lee", "diagnoses": ["G90.511"],
                            "infusion": {"start": "09:00", "end": "13:00"},
                            "medications": [{"drug": "ketamine", "dose_mg": 140}],
                            "services": [{"code": "99214"}]} for day in days]
    patient["sessions"][-1]["services"][0]["charge"] = float(Decimal("189.00") + charge_delta)
    path = write_yaml(clinic / "patients" / "series.yaml", patient)
    loaded = load_clinic(clinic / "clinic.yaml")
    return path, build_claims(load_patient(path, loaded), loaded.clinic, loaded.book)


def _october_estimate(clinic):
    data = gfe_data(clinic)
    data.update(scheduled_on="2026-09-18", issued_on="2026-09-18")
    data["plan"].update(start="2026-10-01", end="2026-10-14")
    return write_gfe(clinic, "october", data)


def _record(total="8154.00", **kw):
    fields = {"number": "GFE-20260918-0001", "patient_id": "P0001", "start": D(2026, 10, 1),
              "end": D(2026, 10, 14), "course_total": Decimal(total), "issued_on": D(2026, 9, 18)}
    fields.update(kw)
    return EstimateRecord(**fields)


def test_billed_399_99_over_the_estimate_is_no_warning(clinic):
    _, claims = _series_claims(clinic, Decimal("399.99"))
    assert sum(c.total_charge for c in claims) == Decimal("8553.99")
    assert overrun_problems([_record()], claims, "series.yaml") == []


def test_billed_400_00_over_the_estimate_warns_with_the_amounts(clinic):
    _, claims = _series_claims(clinic, Decimal("400.00"))
    problems = overrun_problems([_record()], claims, "series.yaml")
    assert [p.line() for p in problems] == [
        "series.yaml: sessions: warning: billed $8,554.00 for 2026-10-01 to 2026-10-14, $400.00 more than Good "
        "Faith Estimate GFE-20260918-0001 ($8,154.00): at $400 or more over the estimate the patient may start "
        "patient-provider dispute resolution (45 CFR 149.620)"]


def test_only_the_latest_estimate_of_a_period_and_only_its_patient_count(clinic):
    _, claims = _series_claims(clinic, Decimal("400.00"))
    reissued = _record("8554.00", number="GFE-20260925-0002", issued_on=D(2026, 9, 25))
    assert overrun_problems([_record(), reissued], claims, "f") == []
    assert overrun_problems([_record(patient_id="P0002")], claims, "f") == []
    outside = _record(start=D(2027, 1, 4), end=D(2027, 1, 15), total="1.00")
    assert overrun_problems([outside], claims, "f") == []


# ---------------------------------------------------------------- the command and the PDF


def pdf_text(path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def gfe(folder, source, out, *extra):
    return run("gfe", source, "-o", out, "--ledger", folder / "ledger.sqlite3", *extra, clinic=folder / "clinic.yaml")


@pytest.fixture()
def written(clinic):
    out = clinic / "out" / "estimate.pdf"
    result = gfe(clinic, clinic / "gfe" / "example.yaml", out)
    assert result.exit_code == 0, result.stderr
    return {"folder": clinic, "out": out, "result": result, "text": pdf_text(out), "flat": flat(pdf_text(out))}


def test_gfe_command_writes_an_owner_only_pdf_and_numbers_it(written):
    import stat

    out = written["out"]
    assert written["result"].stdout.strip() == (
        f"wrote {out}: Good Faith Estimate GFE-20261120-0001, total $8,154.00, due 2026-11-23")
    assert stderr_lines(written["result"]) == []
    assert out.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["estimate.pdf"]


def test_pdf_holds_every_element_of_the_rule(written):
    words = written["flat"]
    # the heading: number, issue date, scheduling date, due date (1 business day after Friday Nov 20)
    assert "Good Faith Estimate for Health Care Items and Services" in words
    assert "Estimate number GFE-20261120-0001" in words
    assert "Date issued November 20, 2026" in words
    assert "Care scheduled on November 20, 2026" in words
    assert "To be given by November 23, 2026" in words
    # (c)(1)(i) patient name and date of birth
    assert "Patient name Jane Doe Date of birth 01/01/1980" in words
    assert "Mailing address and phone 1 Elm St, Springfield, IL 62702 · (217) 555-0101" in words
    assert "Patient identification number P0001" in words
    # (c)(1)(ii) the primary service in plain words, and when
    assert "Primary service A series of 6 intravenous (IV) infusions of Ketamine HCl, 4 hours each" in words
    assert "Scheduled dates 6 sessions between December 1, 2026 and December 14, 2026" in words
    # (c)(1)(iv) diagnosis codes
    assert "Diagnosis G90.511 Complex regional pain syndrome I of right upper limb" in words
    # (c)(1)(v) the provider's name, NPI, TIN, location and state
    assert "Provider name Example Ketamine Clinic LLC" in words
    assert "National Provider Identifier (NPI) 1234567893" in words
    assert "Taxpayer Identification Number (TIN) 12-3456789" in words
    assert "100 Main St, Springfield, IL 62701-1234 (11 Office); state: IL" in words
    # summary and totals
    assert "Example Ketamine Clinic LLC $1,359.00 6 $8,154.00 Total estimated cost $8,154.00" in words
    assert "Total expected charges per session $1,359.00" in words
    assert "Total expected charges from Example Ketamine Clinic LLC for 6 sessions $8,154.00" in words
    # (c)(1)(vi) items scheduled separately
    assert "booster infusions, on response to the series (after the series)" in words
    # (c)(1)(vii)-(ix) the disclaimers, the $400 threshold, 120 days, the CMS contact, keep a copy
    assert "is not a contract" in words
    assert ("additional items or services your provider recommends as part of your course of care that must be "
            "scheduled or requested separately and are not included in this Good Faith Estimate") in words
    assert "actual items, services or charges may differ from this Good Faith Estimate" in words
    assert "If you are billed at least $400 more than the total expected charges" in words
    assert "within 120 calendar days (about 4 months) of the date on the original bill" in words
    assert "There is a $25 fee to use the dispute process" in words
    assert "will not adversely affect the quality of the health care services" in words
    assert "www.cms.gov/nosurprises/consumers" in words and "1-800-985-3059" in words
    assert "FederalPPDRQuestions@cms.hhs.gov" in words
    assert "Keep a copy of this Good Faith Estimate" in words
    assert "CPT® is a registered trademark of the American Medical Association" in words


def test_pdf_itemizes_each_line_per_session_and_for_the_course(written):
    rows = {line.split()[0]: line.split() for line in written["text"].splitlines() if line.split()}
    lines = [line for line in written["text"].splitlines()]

    def row_with(code):
        return next(line.split() for line in lines if f" {code} " in f" {line} " and "G90.511" in line)

    assert row_with("99214")[-8:] == ["CPT", "99214", "25", "G90.511", "1", "$189.00", "6", "$1,134.00"]
    assert row_with("96365")[-7:] == ["CPT", "96365", "G90.511", "1", "$450.00", "6", "$2,700.00"]
    assert row_with("96366")[-7:] == ["CPT", "96366", "G90.511", "3", "$600.00", "18", "$3,600.00"]
    assert row_with("J3490")[-7:] == ["HCPCS", "J3490", "G90.511", "1", "$120.00", "6", "$720.00"]
    assert "NDC 00409-2051-05 1.4 ML" in written["flat"]
    assert rows  # the table was read


def test_the_same_estimate_keeps_its_number_and_the_ledger_lists_it(written):
    folder = written["folder"]
    again = gfe(folder, folder / "gfe" / "example.yaml", folder / "out" / "again.pdf")
    assert again.exit_code == 0
    assert "GFE-20261120-0001 (issued before: same number)" in again.stdout
    changed = edit_yaml(folder / "gfe" / "example.yaml", lambda d: d["plan"].update(sessions=4))
    third = gfe(folder, changed, folder / "out" / "four.pdf")
    assert "GFE-20261120-0002, total $5,436.00" in third.stdout
    listing = run("ledger", "list", "--ledger", folder / "ledger.sqlite3", clinic=folder / "clinic.yaml")
    estimates = [line for line in listing.stdout.splitlines() if line.startswith("estimate ")]
    assert [line.split("  sha256")[0] for line in estimates] == [
        "estimate GFE-20261120-0001  issued 2026-11-20  due 2026-11-23  patient P0001  2026-12-01 to 2026-12-14  "
        "6 session(s) x 1359.00 = 8154.00",
        "estimate GFE-20261120-0002  issued 2026-11-20  due 2026-11-23  patient P0001  2026-12-01 to 2026-12-14  "
        "4 session(s) x 1359.00 = 5436.00",
    ]
    as_json = run("ledger", "list", "--json", "--ledger", folder / "ledger.sqlite3", clinic=folder / "clinic.yaml")
    import json

    first = json.loads(as_json.stdout)["estimates"][0]
    assert (first["number"], first["course_total"], first["per_session"], len(first["content_hash"])) == (
        "GFE-20261120-0001", "8154.00", "1359.00", 64)


def test_a_request_file_is_accepted_with_a_scheduling_date(clinic):
    out = clinic / "from-request.pdf"
    result = gfe(clinic, clinic / "requests" / "example.yaml", out, "--scheduled-on", "2026-11-13")
    assert result.exit_code == 0, result.stderr
    # Friday Nov 13 for Dec 1: 11 business days ahead (Nov 26 is Thanksgiving) -> 3 business days: Nov 18
    assert result.stdout.strip().endswith("total $8,154.00, due 2026-11-18")
    words = flat(pdf_text(out))
    assert "Total expected charges from Example Ketamine Clinic LLC for 6 sessions $8,154.00" in words
    without = gfe(clinic, clinic / "requests" / "example.yaml", clinic / "x.pdf")
    assert without.exit_code == 1
    assert stderr_lines(without) == [f"{clinic / 'requests' / 'example.yaml'}: error: a request file has no scheduling "
                                     "date: give --scheduled-on or --requested-on (the estimate's due date is counted "
                                     "from it)"]
    assert not (clinic / "x.pdf").exists()


def test_an_estimate_issued_after_its_due_date_is_written_with_a_warning(clinic):
    data = gfe_data(clinic)
    data["issued_on"] = "2026-11-24"
    source = write_gfe(clinic, "late", data)
    result = gfe(clinic, source, clinic / "late.pdf")
    assert result.exit_code == 0
    assert stderr_lines(result) == [
        f"{source}: issued_on: warning: the estimate is issued on 2026-11-24, after its due date 2026-11-23 "
        "(within 1 business day of scheduling: care scheduled 6 business days ahead (45 CFR 149.610(b)(1)(vi)))"]
    assert "To be given by November 23, 2026" in flat(pdf_text(clinic / "late.pdf"))


def test_without_diagnoses_the_estimate_says_to_be_determined(clinic):
    data = gfe_data(clinic)
    del data["diagnoses"]
    data["requested_on"] = data.pop("scheduled_on")
    data["session_dates"] = ["2026-12-01", "2026-12-03", "2026-12-05", "2026-12-08", "2026-12-10", "2026-12-14"]
    source = write_gfe(clinic, "nodx", data)
    out = clinic / "nodx.html"
    result = gfe(clinic, source, out, "--html")
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    assert "To be determined at evaluation" in html and "R69" not in html
    assert "Estimate requested on</th><td>November 20, 2026" in html
    assert "To be given by</th><td>November 25, 2026" in html  # 3 business days after the request
    assert "December 1, 2026; December 3, 2026; December 5, 2026" in html
    assert "$8,154.00" in html


# ---------------------------------------------------------------- refused input


def _no_plan(data):
    del data["plan"]


def _scrubber_rejects(data):
    data["plan"]["services"] = [{"code": "99214", "modifiers": ["59", "XE", "XS", "XU"]}]


def _no_date(data):
    del data["scheduled_on"]


def _unknown_provider(data):
    data["provider"] = "dr-nobody"


def _dates_not_matching(data):
    data["session_dates"] = ["2026-12-01", "2026-12-20"]


REFUSALS = [
    (_no_plan, ["plan: error: is required"]),
    (_scrubber_rejects, ["plan.services[0]: error: 99214-59-XE-XS-XU: needs modifier 25 (drug administration "
                         "that day) but already has 4 modifiers, the most a line carries: remove one"]),
    (_no_date, ["(top level): error: give scheduled_on (when the care was scheduled) or requested_on (when the "
                "patient asked for an estimate): the due date is counted from it"]),
    (_unknown_provider, ["provider: error: unknown provider id 'dr-nobody' (not in clinic.yaml providers)"]),
    (_dates_not_matching, ["session_dates: error: lists 2 date(s) but the plan has 6 session(s)",
                           "session_dates[1]: error: 2026-12-20 is outside the plan's 2026-12-01 to 2026-12-14"]),
]


@pytest.mark.parametrize("mutate,expected", REFUSALS, ids=[m.__name__.strip("_") for m, _ in REFUSALS])
def test_refusals_exit_1_with_one_line_each_and_write_nothing(clinic, mutate, expected):
    data = gfe_data(clinic)
    mutate(data)
    source = write_gfe(clinic, "bad", data)
    out = clinic / "out" / "gfe.pdf"
    result = gfe(clinic, source, out)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{source}: {line}" for line in expected]
    assert result.stdout == ""
    assert not out.exists() and not out.parent.exists()
    listing = run("ledger", "list", "--ledger", clinic / "ledger.sqlite3", clinic=clinic / "clinic.yaml")
    assert "estimate " not in listing.stdout
    checked = run("check", source, clinic=clinic / "clinic.yaml")
    assert checked.exit_code == 1
    assert [line for line in stderr_lines(checked)] == [f"{source}: {line}" for line in expected]


def test_a_drug_without_a_fee_is_refused(clinic):
    edit_yaml(clinic / "clinic.yaml", lambda d: d["fees"].pop("J3490"))
    source = clinic / "gfe" / "example.yaml"
    result = gfe(clinic, source, clinic / "gfe.pdf")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{source}: plan.medications[0]: error: J3490 has no fee in clinic.yaml fees and no charge on the line"]
    assert not (clinic / "gfe.pdf").exists()


# ---------------------------------------------------------------- the $400 test in check and export


@pytest.mark.parametrize("delta,warned", [("399.99", False), ("400.00", True)])
def test_check_and_export_warn_at_400_over_an_issued_estimate(clinic, delta, warned):
    issued = gfe(clinic, _october_estimate(clinic), clinic / "estimate.pdf")
    assert issued.exit_code == 0, issued.stderr
    series, _ = _series_claims(clinic, Decimal(delta))
    billed = Decimal("8154.00") + Decimal(delta)
    expected = [f"{series}: sessions: warning: billed ${billed:,.2f} for 2026-10-01 to 2026-10-14, ${delta} more than "
                "Good Faith Estimate GFE-20260918-0001 ($8,154.00): at $400 or more over the estimate the patient "
                "may start patient-provider dispute resolution (45 CFR 149.620)"] if warned else []
    ledger = clinic / "ledger.sqlite3"
    checked = run("check", series, "--ledger", ledger, clinic=clinic / "clinic.yaml")
    assert checked.exit_code == 0
    assert [line for line in checked.output.splitlines() if "Good Faith Estimate" in line] == expected
    exported = run("export", series, "-o", clinic / "export", "--format", "csv", "--ledger", ledger, "--jobs", "1",
                   clinic=clinic / "clinic.yaml")
    assert exported.exit_code == 0, exported.stderr
    assert [line for line in stderr_lines(exported) if "Good Faith Estimate" in line] == expected
    assert "exported 6 claim(s)" in exported.stdout


def test_check_without_a_ledger_and_export_skip_gfe_files(clinic):
    series, _ = _series_claims(clinic, Decimal("900.00"))
    checked = run("check", series, clinic=clinic / "clinic.yaml")  # no ledger beside the clinic: no estimates
    assert checked.exit_code == 0 and "Good Faith Estimate" not in checked.output
    _october_estimate(clinic)
    exported = run("export", clinic / "gfe", "-o", clinic / "export", "--format", "csv", "--jobs", "1",
                   clinic=clinic / "clinic.yaml")
    assert "skipped 2 Good Faith Estimate(s): not patient files" in exported.stdout


# ---------------------------------------------------------------- templates


def test_readme_documents_exactly_the_gfe_template_data():
    from test_templates import _documented, _fields

    from superbill.documents.gfe import GfeContext

    assert _documented("The data a Good Faith Estimate template sees") == _fields(GfeContext)


def test_html_preview_is_escaped(clinic):
    patient = read_yaml(clinic / "patients" / "example.yaml")
    patient["patient"]["first_name"] = "<b>Jane</b>"
    write_yaml(clinic / "patients" / "example.yaml", patient)
    out = clinic / "gfe.html"
    result = gfe(clinic, clinic / "gfe" / "example.yaml", out, "--html")
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    assert "&lt;b&gt;Jane&lt;/b&gt; Doe" in html and "<b>Jane</b>" not in html


def test_clinic_template_replaces_one_block_and_a_broken_one_names_file_and_line(clinic):
    mine = clinic / "mine"
    mine.mkdir()
    (mine / "gfe.html").write_text('{% extends "default:gfe.html" %}\n'
                                   '{% block notes %}<p>Ask us about a payment plan.</p>{% endblock %}\n')
    out = clinic / "custom.pdf"
    result = gfe(clinic, clinic / "gfe" / "example.yaml", out, "--templates", mine)
    assert result.exit_code == 0, result.stderr
    words = flat(pdf_text(out))
    assert "Ask us about a payment plan." in words
    assert "Total expected charges from Example Ketamine Clinic LLC for 6 sessions $8,154.00" in words
    (mine / "gfe.html").write_text('{% extends "default:gfe.html" %}\n{% block notes %}\n{{ patient.nickname }}'
                                   '{% endblock %}\n')
    broken = gfe(clinic, clinic / "gfe" / "example.yaml", clinic / "broken.pdf", "--templates", mine)
    assert broken.exit_code == 1
    assert stderr_lines(broken) == [f"{mine / 'gfe.html'}: line 3: error: template error: "
                                    "'GfePatient object' has no attribute 'nickname'"]
    assert not (clinic / "broken.pdf").exists()
    listing = run("ledger", "list", "--ledger", clinic / "ledger.sqlite3", clinic=clinic / "clinic.yaml")
    assert [line.split()[1] for line in listing.stdout.splitlines() if line.startswith("estimate ")] == [
        "GFE-20261120-0001"]  # the failed document's estimate was taken back


def test_logo_is_printed_and_a_missing_one_warns(clinic):
    import base64

    logo = clinic / "logo.png"
    logo.write_bytes(base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="))
    edit_yaml(clinic / "clinic.yaml", lambda d: d["practice"].update(logo="logo.png"))
    out = clinic / "logo.html"
    result = gfe(clinic, clinic / "gfe" / "example.yaml", out, "--html")
    assert result.exit_code == 0 and stderr_lines(result) == []
    assert logo.resolve().as_uri() in out.read_text()
    edit_yaml(clinic / "clinic.yaml", lambda d: d["practice"].update(logo="missing.png"))
    result = gfe(clinic, clinic / "gfe" / "example.yaml", clinic / "nologo.pdf")
    assert result.exit_code == 0
    assert stderr_lines(result) == [f"{clinic / 'clinic.yaml'}: practice.logo: warning: file not found; left off "
                                    "the Good Faith Estimate"]


# ---------------------------------------------------------------- the ledger migration


def test_a_0_1_ledger_migrates_to_hold_estimates_and_keeps_its_runs(tmp_path):
    import shutil
    import sqlite3

    from superbill.batch import ledger_schema
    from superbill.batch.estimates import estimates, record_estimate
    from superbill.batch.ledger import Ledger

    path = tmp_path / "superbill-ledger.sqlite3"
    shutil.copy(FIXTURE_LEDGER, path)
    with Ledger(path) as book:
        assert estimates(book) == []
        assert [r["interchange"] for r in book.runs()] == ["000000001", "000000002"]
        number, new = record_estimate(
            book, patient_id="P0001", start=D(2026, 12, 1), end=D(2026, 12, 14), sessions=6,
            per_session=Decimal("1359.00"), course_total=Decimal("8154.00"), issued_on=D(2026, 11, 20),
            due_on=D(2026, 11, 23), provider_npi="1234567893", content_hash="ab" * 32, source_file="gfe.yaml")
        assert (number, new) == ("GFE-20261120-0001", True)
        assert [(r.number, r.course_total) for r in estimates(book, "P0001")] == [("GFE-20261120-0001",
                                                                                  Decimal("8154.00"))]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == ledger_schema.latest_version() >= 3
    assert db.execute("SELECT value FROM counters WHERE name = 'interchange'").fetchone()[0] == 2  # untouched
    db.close()


# ---------------------------------------------------------------- the SPEC's file, the schema, the options


SPEC_GFE = """
patient: ../patients/example.yaml
provider: dr-lee
scheduled_on: 2026-11-20
diagnoses: [G90.511]
plan:
  sessions: 6
  start: 2026-12-01
  end: 2026-12-14
  infusion_minutes: 240
  medications: [{drug: ketamine, dose_mg: 140}]
  services: [{code: "99214"}]
"""


def test_the_specs_gfe_file_as_written(clinic):
    source = clinic / "gfe" / "spec.yaml"
    source.write_text(SPEC_GFE)
    checked = run("check", source, clinic=clinic / "clinic.yaml")
    assert checked.exit_code == 0
    out = clinic / "spec.pdf"
    result = gfe(clinic, source, out)
    assert result.exit_code == 0, result.stderr
    assert "Total expected charges from Example Ketamine Clinic LLC for 6 sessions $8,154.00" in flat(pdf_text(out))


def test_schema_gfe_and_the_date_options(clinic):
    import json

    schema = json.loads(run("schema", "gfe").stdout)
    assert {"patient", "provider", "scheduled_on", "requested_on", "diagnoses", "plan"} <= set(schema["properties"])
    both = gfe(clinic, clinic / "requests" / "example.yaml", clinic / "x.pdf", "--scheduled-on", "2026-11-20",
               "--requested-on", "2026-11-20")
    assert both.exit_code == 2 and "give --scheduled-on or --requested-on, not both" in both.stderr
    asked = gfe(clinic, clinic / "requests" / "example.yaml", clinic / "asked.pdf", "--requested-on", "2026-11-25")
    assert asked.exit_code == 0, asked.stderr
    assert asked.stdout.strip().endswith("due 2026-12-01")  # Fri 27, Mon 30, Tue Dec 1 (Thanksgiving skipped)
    assert "Estimate requested on November 25, 2026" in flat(pdf_text(clinic / "asked.pdf"))


def test_an_output_that_cannot_be_written_is_one_line_and_records_nothing(clinic):
    blocker = clinic / "afile"
    blocker.write_text("")
    result = gfe(clinic, clinic / "gfe" / "example.yaml", blocker / "gfe.pdf")
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{blocker / 'gfe.pdf'}: error: cannot be written (File exists); "
                                    "no estimate recorded"]
    listing = run("ledger", "list", "--ledger", clinic / "ledger.sqlite3", clinic=clinic / "clinic.yaml")
    assert "estimate " not in listing.stdout


def test_an_uninsured_patient_file_needs_no_insurance_block(clinic):
    patient = read_yaml(clinic / "patients" / "example.yaml")
    del patient["insurance"]
    write_yaml(clinic / "patients" / "uninsured.yaml", patient)
    data = gfe_data(clinic)
    data["patient"] = "../patients/uninsured.yaml"
    source = write_gfe(clinic, "uninsured", data)
    assert line_rows(estimate_of(clinic, source).lines) == SIX_SESSION_LINES
    out = clinic / "uninsured.pdf"
    result = gfe(clinic, source, out)
    assert result.exit_code == 0, result.stderr
    words = flat(pdf_text(out))
    assert "Patient name Jane Doe Date of birth 01/01/1980" in words
    assert "Total expected charges from Example Ketamine Clinic LLC for 6 sessions $8,154.00" in words
    assert "Self-pay" not in words and "SELFPAY" not in words
    patient["patient"]["dob"] = "2027-01-01"
    write_yaml(clinic / "patients" / "uninsured.yaml", patient)
    refused = gfe(clinic, source, clinic / "x.pdf")
    assert refused.exit_code == 1
    assert stderr_lines(refused) == [f"{source}: patient: error: the patient file cannot be used: "
                                     f"{clinic / 'gfe' / '..' / 'patients' / 'uninsured.yaml'}: sessions[0].date: "
                                     "error: the visit is before the patient's birth date"]


# ---------------------------------------------------------------- properties: one engine, business days

PROPERTY_EXAMPLES = int(os.environ.get("SUPERBILL_FUZZ_EXAMPLES", "40"))


@st.composite
def plans(draw):
    services = draw(st.lists(st.sampled_from(["99214", "93000"]), unique=True, max_size=2))
    medications = []
    if draw(st.booleans()):
        medications.append({"drug": "ketamine", "dose_mg": str(draw(st.decimals("1", "600", places=1)))})
    if draw(st.booleans()):
        medications.append({"drug": "ondansetron", "dose_mg": str(draw(st.decimals("1", "16", places=0)))})
    sessions = draw(st.integers(1, 8))
    return {"sessions": sessions, "start": "2026-10-01", "end": "2026-10-30",
            "infusion_minutes": draw(st.integers(16, 720)), "medications": medications,
            "services": [{"code": code} for code in services]}


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    folder = make_clinic(tmp_path_factory.mktemp("starter"))
    loaded = load_clinic(folder / "clinic.yaml")
    return loaded, load_patient(folder / "patients" / "example.yaml", loaded)


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=plans())
def test_an_estimate_equals_the_bill_of_its_sessions_given_as_planned(starter, plan):
    from superbill.engine.claims import build_claims
    from superbill.engine.estimate import PlannedCare
    from superbill.inputs.estimate_models import EstimatePlan
    from superbill.inputs.models import PatientFile

    loaded, patient_file = starter
    care = PlannedCare("dr-lee", ("G90.511",), EstimatePlan.model_validate(plan), scheduled_on=D(2026, 9, 1))
    estimate = build_estimate(care, patient_file, loaded, D(2026, 9, 1))
    minutes = plan["infusion_minutes"]
    given_sessions = [{"date": f"2026-10-{day:02d}", "provider": "dr-lee", "diagnoses": ["G90.511"],
                       "infusion": {"start": "06:00", "end": f"{6 + minutes // 60:02d}:{minutes % 60:02d}"},
                       "medications": plan["medications"], "services": plan["services"]}
                      for day in range(1, plan["sessions"] + 1)]
    bill = PatientFile.model_validate({**patient_file.model_dump(mode="json"), "sessions": given_sessions})
    claims = build_claims(bill, loaded.clinic, loaded.book)
    assert all(line_rows(c.lines) == line_rows(estimate.lines) for c in claims)
    assert sum(c.total_charge for c in claims) == estimate.course_total == estimate.per_session * plan["sessions"]


@settings(max_examples=200, deadline=None)
@given(day=st.dates(D(2025, 1, 1), D(2028, 12, 31)), ahead=st.integers(0, 40), requested=st.booleans())
def test_the_due_date_is_the_nth_business_day_after(day, ahead, requested):
    service = day + dt.timedelta(days=ahead)
    timing = deadline(first_service=service, requested_on=day) if requested else deadline(
        first_service=service, scheduled_on=day)
    lead = business_days_between(day, service)
    if requested or lead >= 10:
        assert timing.business_days == 3
    elif lead >= 3:
        assert timing.business_days == 1
    else:
        assert timing.due is None
        return
    assert is_business_day(timing.due) and timing.due > day
    assert business_days_between(day, timing.due) == timing.business_days
