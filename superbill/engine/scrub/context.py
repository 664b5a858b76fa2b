"""What every scrub rule sees: the claim, the code book, the claims of the same day, and helpers.

A rule is a function `rule(ctx) -> Iterable[Problem]` (or `rule(ctx, line)` for a line rule); it
reports, it never raises and never changes the claim.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from superbill.engine.claims import Claim, ClaimLine
from superbill.problems import ERROR, WARNING, Problem
from superbill.tables.codebook import ADMINISTRATION_KINDS, CodeBook

INFUSION_KINDS = {"infusion_initial", "infusion_addon"}


@dataclass(frozen=True)
class ScrubContext:
    claim: Claim
    book: CodeBook
    file: str = ""
    billing_npi: str | None = None
    today: dt.date | None = None
    # Other claims of the patient's date of service (any others are ignored); rules about the
    # patient's day use them. Pass the day's claims, not the whole file: a 10,000-session file
    # would make every claim scan every other.
    claims: tuple[Claim, ...] = field(default_factory=tuple)

    @property
    def where(self) -> str:
        return f"sessions[{self.claim.session_index}]"

    def error(self, path: str, message: str) -> Problem:
        return Problem(self.file, path, ERROR, message)

    def warning(self, path: str, message: str) -> Problem:
        return Problem(self.file, path, WARNING, message)

    @cached_property
    def codes(self) -> list[str]:
        return [line.code for line in self.claim.lines]

    @cached_property
    def has_infusion(self) -> bool:
        return any(line.kind in INFUSION_KINDS for line in self.claim.lines)

    @cached_property
    def has_administration(self) -> bool:
        return any(line.kind in ADMINISTRATION_KINDS for line in self.claim.lines)

    @cached_property
    def same_date(self) -> tuple[Claim, ...]:
        """The claims of this patient and date of service, in claim order, this one included."""
        claim = self.claim
        others = [c for c in self.claims if c.patient_id == claim.patient_id and c.date_of_service == claim.date_of_service]
        return tuple(others) if any(c is claim for c in others) else (claim, *others)

    @cached_property
    def same_day(self) -> tuple[Claim, ...]:
        """The claims of this patient, rendering provider and date of service, this one included."""
        return tuple(c for c in self.same_date if c is self.claim or _npi(c) == _npi(self.claim))

    @cached_property
    def day_has_administration(self) -> bool:
        """A drug administration code on any claim of the patient's day with this provider."""
        return any(line.kind in ADMINISTRATION_KINDS for c in self.same_day for line in c.lines)


def _npi(claim: Claim) -> str | None:
    return getattr(claim.provider, "npi", None)


Rule = Callable[[ScrubContext], Iterable[Problem]]
LineRule = Callable[[ScrubContext, ClaimLine], Iterable[Problem]]


def each_line(*rules: LineRule) -> Rule:
    """One rule that runs `rules` on every line in turn (a line's problems stay together)."""

    def run(ctx: ScrubContext) -> Iterable[Problem]:
        for line in ctx.claim.lines:
            for rule in rules:
                yield from rule(ctx, line)

    run.__name__ = "each_line(" + ", ".join(rule.__name__ for rule in rules) + ")"
    run.rules = rules  # type: ignore[attr-defined]
    return run


def label(line: ClaimLine) -> str:
    return line.code + ("-" + "-".join(line.modifiers) if line.modifiers else "")
