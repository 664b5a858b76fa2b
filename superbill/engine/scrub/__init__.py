"""The claim scrubber: every rule a payer or clearinghouse would reject or question a claim for.

Errors mean the claim would be rejected, so nothing is produced for its file; warnings mean a payer
may deny or bundle a line: they are shown, not fatal. Pure: `scrub(claim, ...)` returns problems.

The rules are small named functions run in the order of `RULES` (beancount's validation list is
the model): each reports problems and none raises, so one run collects every problem of a claim.
Add a rule by writing a function in the module of its topic and placing it in `RULES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from superbill.engine.claims import Claim
from superbill.engine.scrub import claim_rules as c
from superbill.engine.scrub import day_rules as d
from superbill.engine.scrub.context import Rule, ScrubContext, each_line
from superbill.engine.scrub.line_rules import LINE_RULES
from superbill.problems import Problem
from superbill.tables.codebook import CodeBook

RULES: list[Rule] = [
    c.billing_npi_valid,
    c.rendering_provider_valid,
    c.date_in_icd10_era,
    c.date_not_in_future,
    c.diagnosis_count,
    c.diagnoses_distinct,
    c.diagnoses_valid_icd10cm,
    c.diagnoses_excludes1,
    c.place_of_service_valid,
    c.has_lines,
    each_line(*LINE_RULES),
    d.one_initial_administration,
    d.one_initial_administration_per_date,
    each_line(d.em_99211_with_administration, d.em_needs_25_with_administration),
    d.modifier_25_without_procedure,
    each_line(d.bundled_with_infusion),
    d.no_drugs_by_telehealth,
    d.infusion_within_six_hours,
    d.administration_in_facility,
    each_line(d.facility_only_96376),
    c.repeated_codes,
    c.total_is_sum_of_lines,
    c.total_above_zero,
    c.payments_within_total,
    c.medicare_assignment,
]


def scrub(claim: Claim, book: CodeBook, *, file: str = "", billing_npi: str | None = None,
          today: dt.date | None = None, same_date: Sequence[Claim] = ()) -> list[Problem]:
    """Every problem of `claim`, in rule order. `same_date`: the patient's claims of the claim's
    date of service, in claim order (`claims_by_date`), for the rules that look at the patient's
    whole day (modifier 25, initial administration codes)."""
    ctx = ScrubContext(claim, book, file=file, billing_npi=billing_npi, today=today, claims=tuple(same_date))
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(ctx))
    return problems


def claims_by_date(claims: Sequence[Claim]) -> dict[tuple[str, dt.date], list[Claim]]:
    """The claims grouped by patient and date of service, each group in claim order."""
    groups: dict[tuple[str, dt.date], list[Claim]] = {}
    for claim in claims:
        groups.setdefault((claim.patient_id, claim.date_of_service), []).append(claim)
    return groups


__all__ = ["RULES", "ScrubContext", "claims_by_date", "scrub"]
