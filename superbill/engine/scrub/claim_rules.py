"""Rules on the claim as a whole: who bills, when, for which diagnoses, where, and its totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from superbill.engine.assignment import assignment_warning
from superbill.engine.claims import total_of
from superbill.engine.scrub.context import ScrubContext
from superbill.ids import InvalidIdentifier, icd10cm, npi
from superbill.ids import pos as pos_codes
from superbill.problems import Problem
from superbill.tables import icd10cm_index

ICD10_START = dt.date(2015, 10, 1)


# ---------------------------------------------------------------- identity


def billing_npi_valid(ctx: ScrubContext) -> Iterator[Problem]:
    if ctx.billing_npi is not None and not npi.is_valid(ctx.billing_npi):
        yield ctx.error("practice.npi", "billing NPI fails the NPI check (10 digits, Luhn with the 80840 prefix)")


def rendering_provider_valid(ctx: ScrubContext) -> Iterator[Problem]:
    provider = ctx.claim.provider
    if provider is None:
        yield ctx.error(f"{ctx.where}.provider", "no rendering provider")
    elif not npi.is_valid(getattr(provider, "npi", "")):
        yield ctx.error(f"{ctx.where}.provider", "rendering provider NPI fails the NPI check")


# ---------------------------------------------------------------- dates


def date_in_icd10_era(ctx: ScrubContext) -> Iterator[Problem]:
    if ctx.claim.date_of_service < ICD10_START:
        yield ctx.error(f"{ctx.where}.date", "date of service is before 2015-10-01: ICD-10-CM codes are not valid then")


def date_not_in_future(ctx: ScrubContext) -> Iterator[Problem]:
    if ctx.today is not None and ctx.claim.date_of_service > ctx.today:
        yield ctx.error(f"{ctx.where}.date", "date of service is in the future")


# ---------------------------------------------------------------- diagnoses


def diagnosis_count(ctx: ScrubContext) -> Iterator[Problem]:
    count = len(ctx.claim.diagnoses)
    if not 1 <= count <= 12:
        yield ctx.error(f"{ctx.where}.diagnoses", f"a claim carries 1 to 12 diagnoses, not {count}")


def diagnoses_distinct(ctx: ScrubContext) -> Iterator[Problem]:
    seen = set()
    for i, code in enumerate(ctx.claim.diagnoses):
        if code in seen:
            yield ctx.error(f"{ctx.where}.diagnoses[{i}]", f"{code} is listed twice")
        seen.add(code)


def diagnoses_valid_icd10cm(ctx: ScrubContext) -> Iterator[Problem]:
    """Each code is billable in the ICD-10-CM edition in force on the date of service."""
    for i, code in enumerate(ctx.claim.diagnoses):
        try:
            icd10cm.validate(code, on=ctx.claim.date_of_service)
        except InvalidIdentifier as exc:
            yield ctx.error(f"{ctx.where}.diagnoses[{i}]", str(exc))


def diagnoses_excludes1(ctx: ScrubContext) -> Iterator[Problem]:
    for first, second, note in icd10cm_index.excludes1_conflicts(list(ctx.claim.diagnoses)):
        yield ctx.error(f"{ctx.where}.diagnoses",
                        f"{first} and {second} cannot be reported together (ICD-10-CM Excludes1: {note})")


# ---------------------------------------------------------------- place of service and lines


def place_of_service_valid(ctx: ScrubContext) -> Iterator[Problem]:
    pos = ctx.claim.place_of_service
    if not pos_codes.is_valid(pos):
        yield ctx.error(f"{ctx.where}.place_of_service", f"{pos} is not a CMS place of service code")


def has_lines(ctx: ScrubContext) -> Iterator[Problem]:
    if not ctx.claim.lines:
        yield ctx.error(ctx.where, "the session produces no claim lines")


# ---------------------------------------------------------------- duplicates and totals


def repeated_codes(ctx: ScrubContext) -> Iterator[Problem]:
    codes = ctx.codes
    repeated = {code for code in codes if codes.count(code) > 1 and code[0].isdigit()}
    for code in sorted(repeated):
        yield ctx.warning(ctx.where, f"{code} appears on more than one line")


def total_is_sum_of_lines(ctx: ScrubContext) -> Iterator[Problem]:
    claim = ctx.claim
    if claim.total_charge != total_of(claim.lines):
        yield ctx.error(ctx.where, f"total {claim.total_charge} is not the sum of the lines {total_of(claim.lines)}")


def total_above_zero(ctx: ScrubContext) -> Iterator[Problem]:
    claim = ctx.claim
    if claim.lines and claim.total_charge <= 0 and all(line.charge is not None for line in claim.lines):
        yield ctx.error(ctx.where, "the claim's total charge is 0: a chargeable claim needs a total above 0")


def payments_within_total(ctx: ScrubContext) -> Iterator[Problem]:
    claim = ctx.claim
    if claim.amount_paid > claim.total_charge and claim.total_charge > Decimal(0):
        yield ctx.warning(f"{ctx.where}.payments", "payments exceed the total charge")


def medicare_assignment(ctx: ScrubContext) -> Iterator[Problem]:
    """A Medicare claim sent assigned (drugs, NP/PA: `engine.assignment`): Medicare pays the clinic."""
    warning = assignment_warning(ctx.claim, ctx.file)
    if warning is not None:
        yield warning

