"""The Good Faith Estimate (`superbill gfe`, 45 CFR 149.610): lines from the billing engine (the same
as the prior-authorization letter's), the due date in business days, the $400 test against the bill,
refused input, and the PDF read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from helpers import make_clinic, read_yaml, write_yaml

from superbill.engine.business_days import add_business_days, business_days_between, deadline, is_business_day
from superbill.engine.estimate import EstimateRecord, build_estimate, overrun_problems, planned_care
from superbill.inputs.load import load_clinic, load_estimate, load_patient
from superbill.paths import EXAMPLES_DIR

D = dt.date


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


def _series_claims(clinic, charge_delta: Decimal):
    """Six sessions billed as planned, the last with `charge_delta` more (an explicit 99214 charge)."""
    from superbill.engine.claims import build_claims

    patient = read_yaml(clinic / "patients" / "example.yaml")
    days = [D(2026, 12, d) for d in (1, 3, 5, 8, 10, 14)]
    patient["sessions"] = [{"date": day.isoformat(), "provider": "dr-lee", "diagnoses": ["G90.511"],
                            "infusion": {"start": "09:00", "end": "13:00"},
                            "medications": [{"drug": "ketamine", "dose_mg": 140}],
                            "services": [{"code": "99214"}]} for day in days]
    patient["sessions"][-1]["services"][0]["charge"] = float(Decimal("189.00") + charge_delta)
    path = write_yaml(clinic / "patients" / "series.yaml", patient)
    loaded = load_clinic(clinic / "clinic.yaml")
    return path, build_claims(load_patient(path, loaded), loaded.clinic, loaded.book)


def _record(total="8154.00", **kw):
    fields = {"number": "GFE-20261120-0001", "patient_id": "P0001", "start": D(2026, 12, 1),
              "end": D(2026, 12, 14), "course_total": Decimal(total), "issued_on": D(2026, 11, 20)}
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
        "series.yaml: sessions: warning: billed $8,554.00 for 2026-12-01 to 2026-12-14, $400.00 more than Good "
        "Faith Estimate GFE-20261120-0001 ($8,154.00): at $400 or more over the estimate the patient may start "
        "patient-provider dispute resolution (45 CFR 149.620)"]


def test_only_the_latest_estimate_of_a_period_and_only_its_patient_count(clinic):
    _, claims = _series_claims(clinic, Decimal("400.00"))
    reissued = _record("8554.00", number="GFE-20261125-0002", issued_on=D(2026, 11, 25))
    assert overrun_problems([_record(), reissued], claims, "f") == []
    assert overrun_problems([_record(patient_id="P0002")], claims, "f") == []
    outside = _record(start=D(2027, 1, 4), end=D(2027, 1, 15), total="1.00")
    assert overrun_problems([outside], claims, "f") == []
