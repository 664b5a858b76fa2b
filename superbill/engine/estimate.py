"""The Good Faith Estimate from the billing engine: the same lines as a bill of the planned session.

One session of the plan goes through `letter_plan.plan_claim` (the claim builder: infusion minutes
to 96365/96366 units, drug units, fee x units, modifier 25), exactly as the prior-authorization
letter does, so an estimate and a letter of the same plan carry the same lines and totals, and a
bill of the sessions as planned equals the estimate. The scrubber's errors for that session refuse
the estimate (`estimate_problems`), as they refuse the letter.

`overrun_problems` is the $400 test of 45 CFR 149.620: a patient billed at least $400 more than an
estimate's total for the sessions in its period may start patient-provider dispute resolution.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from superbill.engine.business_days import Deadline, deadline
from superbill.engine.claims import Claim
from superbill.problems import ERROR, WARNING, Problem

if TYPE_CHECKING:
    from superbill.inputs.estimate_models import EstimatePlan
    from superbill.inputs.request_models import Plan

# The claim builder needs a diagnosis for its pointers; charges never depend on it. When the estimate
# names none ("to be determined at evaluation"), this neutral code stands in and is never printed.
STAND_IN_DIAGNOSIS = "R69"
DISPUTE_THRESHOLD = Decimal("400.00")


@dataclass(frozen=True)
class PlannedCare:
    """What an estimate is made from: a GFE file's or a request's provider, diagnoses and plan."""

    provider: str
    diagnoses: tuple[str, ...]
    plan: Plan | EstimatePlan  # a request's plan or a GFE file's
    scheduled_on: dt.date | None = None
    requested_on: dt.date | None = None
    session_dates: tuple[dt.date, ...] = ()
    patient: str = ""  # the patient file, relative to the estimate file


@dataclass(frozen=True)
class Estimate:
    claim: Claim  # one planned session
    sessions: int
    start: dt.date
    end: dt.date
    session_dates: tuple[dt.date, ...]
    diagnoses: tuple[str, ...]  # empty: to be determined at evaluation
    issued_on: dt.date
    deadline: Deadline
    primary_service: str

    @property
    def lines(self):
        return self.claim.lines

    @property
    def per_session(self) -> Decimal:
        return self.claim.total_charge

    @property
    def course_total(self) -> Decimal:
        return self.claim.total_charge * self.sessions

    @property
    def first_service(self) -> dt.date:
        return self.session_dates[0] if self.session_dates else self.start

    @property
    def late(self) -> bool:
        return self.deadline.late(self.issued_on)


@dataclass(frozen=True)
class _Billable:
    patient: object
    insurance: object


def _billable(patient_file) -> _Billable:
    """The claim builder reads the insurance only for its filing indicator (Medicare's assignment rule);
    an uninsured patient's planned session goes through it as self-pay commercial (CI), which changes
    no line and no charge."""
    from superbill.inputs.models import Insurance

    insurance = patient_file.insurance or Insurance(payer_name="Self-pay", payer_id="SELFPAY", member_id="SELFPAY")
    return _Billable(patient_file.patient, insurance)


def _claim_care(care: PlannedCare) -> PlannedCare:
    if care.diagnoses:
        return care
    return PlannedCare(care.provider, (STAND_IN_DIAGNOSIS,), care.plan, care.scheduled_on, care.requested_on,
                       care.session_dates, care.patient)


def duration_words(minutes: int) -> str:
    """240 -> '4 hours'; 150 -> '2 hours 30 minutes'; 45 -> '45 minutes'."""
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("s" if hours != 1 else ""))
    if rest:
        parts.append(f"{rest} minute" + ("s" if rest != 1 else ""))
    return " ".join(parts)


def primary_service_text(plan, book) -> str:
    """The primary service in plain words, from the plan."""
    drugs = [book.medications[m.drug].name for m in plan.medications if m.drug in book.medications]
    what = "intravenous (IV) infusion" + ("s" if plan.sessions != 1 else "")
    if drugs:
        what += " of " + " and ".join(drugs)
    count = "One" if plan.sessions == 1 else f"A series of {plan.sessions}"
    return f"{count} {what}, {duration_words(plan.infusion_minutes)} each"


def estimate_problems(care: PlannedCare, patient_file, loaded, file: str,
                      issued_on: dt.date) -> list[Problem]:
    """Scrubber problems of the planned session, and the estimate's own checks, against `file`."""
    from superbill.engine.letter_plan import plan_problems

    problems = plan_problems(_claim_care(care), loaded, file, _billable(patient_file))
    plan = care.plan

    def error(path, message):
        problems.append(Problem(file, path, ERROR, message))

    dates = care.session_dates
    if dates:
        if len(dates) != plan.sessions:
            error("session_dates", f"lists {len(dates)} date(s) but the plan has {plan.sessions} session(s)")
        for i, day in enumerate(dates):
            if not plan.start <= day <= plan.end:
                error(f"session_dates[{i}]", f"{day} is outside the plan's {plan.start} to {plan.end}")
        if list(dates) != sorted(set(dates)):
            error("session_dates", "dates must be in order, each once")
    first = dates[0] if dates else plan.start
    if care.scheduled_on is not None and care.scheduled_on > first:
        error("scheduled_on", "is after the first session: the care is scheduled before it is given")
    if patient_file.patient.dob > plan.start:
        error("plan.start", "is before the patient's birth date")
    if not any(p.severity == ERROR for p in problems):
        timing = deadline(first_service=first, scheduled_on=care.scheduled_on, requested_on=care.requested_on)
        if timing.late(issued_on):
            problems.append(Problem(file, "issued_on", WARNING,
                                    f"the estimate is issued on {issued_on}, after its due date {timing.due} "
                                    f"({timing.basis})"))
        if issued_on > first:
            problems.append(Problem(file, "issued_on", WARNING,
                                    f"the estimate is issued on {issued_on}, after the first session on {first}: "
                                    "an estimate is given before the care"))
    return problems


def build_estimate(care: PlannedCare, patient_file, loaded, issued_on: dt.date,
                   primary_service: str | None = None) -> Estimate:
    """The estimate of a validated plan (call `estimate_problems` first)."""
    from superbill.engine.letter_plan import plan_claim

    plan = care.plan
    claim = plan_claim(_claim_care(care), _billable(patient_file), loaded)
    first = care.session_dates[0] if care.session_dates else plan.start
    timing = deadline(first_service=first, scheduled_on=care.scheduled_on, requested_on=care.requested_on)
    return Estimate(
        claim=claim, sessions=plan.sessions, start=plan.start, end=plan.end,
        session_dates=tuple(care.session_dates), diagnoses=tuple(care.diagnoses), issued_on=issued_on,
        deadline=timing, primary_service=primary_service or primary_service_text(plan, loaded.book),
    )


def content_hash(estimate: Estimate, patient_id: str, billing_npi: str) -> str:
    """What the estimate says, hashed: the same estimate printed twice keeps its number."""
    body = {
        "patient": patient_id, "npi": billing_npi, "provider": estimate.claim.provider_npi,
        "issued_on": estimate.issued_on.isoformat(), "start": estimate.start.isoformat(),
        "end": estimate.end.isoformat(), "sessions": estimate.sessions,
        "dates": [d.isoformat() for d in estimate.session_dates], "diagnoses": list(estimate.diagnoses),
        "lines": [[line.code, list(line.modifiers), line.units, str(line.charge)] for line in estimate.lines],
        "per_session": str(estimate.per_session), "course_total": str(estimate.course_total),
        "primary_service": estimate.primary_service,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------- the $400 test


@dataclass(frozen=True)
class EstimateRecord:
    """An issued estimate as the ledger keeps it."""

    number: str
    patient_id: str
    start: dt.date
    end: dt.date
    course_total: Decimal
    issued_on: dt.date
    details: dict = field(default_factory=dict, compare=False)


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def current_estimates(records: list[EstimateRecord]) -> list[EstimateRecord]:
    """The latest estimate for each patient and period (a re-issued estimate replaces the earlier one)."""
    latest: dict[tuple, EstimateRecord] = {}
    for record in sorted(records, key=lambda r: (r.issued_on, r.number)):
        latest[(record.patient_id, record.start, record.end)] = record
    return list(latest.values())


def overrun_problems(records: list[EstimateRecord], claims, file: str) -> list[Problem]:
    """A warning for each estimate whose patient is billed at least $400 more in its period."""
    problems = []
    for record in current_estimates(records):
        billed_claims = [c for c in claims if c.patient_id == record.patient_id
                         and record.start <= c.date_of_service <= record.end]
        if not billed_claims:
            continue
        billed = sum((c.total_charge for c in billed_claims), Decimal("0.00"))
        over = billed - record.course_total
        if over >= DISPUTE_THRESHOLD:
            problems.append(Problem(file, "sessions", WARNING,
                f"billed {_money(billed)} for {record.start} to {record.end}, {_money(over)} more than Good "
                f"Faith Estimate {record.number} ({_money(record.course_total)}): at $400 or more over the "
                "estimate the patient may start patient-provider dispute resolution (45 CFR 149.620)"))
    return problems


# ---------------------------------------------------------------- from the input files


def planned_care(model, *, scheduled_on: dt.date | None = None, requested_on: dt.date | None = None,
                 file: str = "") -> PlannedCare:
    """A GFE file or a request as PlannedCare; dates given here win over the file's.

    A request file has no scheduling date: one must be given (`--scheduled-on`/`--requested-on`).
    """
    from superbill.problems import InputRejected

    if scheduled_on is None and requested_on is None:
        scheduled_on = getattr(model, "scheduled_on", None)
        requested_on = getattr(model, "requested_on", None)
    if scheduled_on is None and requested_on is None:
        raise InputRejected([Problem(file, "", ERROR, "a request file has no scheduling date: give --scheduled-on "
                                     "or --requested-on (the estimate's due date is counted from it)")])
    return PlannedCare(
        provider=model.provider, diagnoses=tuple(model.diagnoses or ()), plan=model.plan,
        scheduled_on=scheduled_on if requested_on is None else None, requested_on=requested_on,
        session_dates=tuple(getattr(model, "session_dates", None) or ()), patient=model.patient,
    )


def check_estimate_file(path, loaded, data=None, today: dt.date | None = None) -> list[Problem]:
    """`check` of a GFE file: its own problems and the planned session's scrubber problems."""
    from superbill.inputs.load import load_estimate
    from superbill.problems import InputRejected

    try:
        model, patient_file = load_estimate(path, loaded, data)
        care = planned_care(model, file=str(path))
    except InputRejected as exc:
        return exc.problems
    issued_on = getattr(model, "issued_on", None) or today or dt.date.today()
    return estimate_problems(care, patient_file, loaded, str(path), issued_on)
