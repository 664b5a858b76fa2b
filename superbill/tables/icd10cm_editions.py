"""ICD-10-CM by date of service: which edition is in force on a day, and whether a code is billable then.

A diagnosis is valid on a claim only in the edition in force on its date of service (an edition runs
from October 1 to September 30 and is named for the fiscal year it ends in; mid-year updates add codes
from their own date). Three editions are shipped, one per tabular the package registries carry; a date
of service in an edition that is not shipped is checked against the nearest shipped one, and
`edition_for` says so, so the caller can warn.

The newest edition is ``codes/icd10cm-2026.tsv`` in full (`icd10cm_index`); ``codes/icd10cm-editions.tsv``
holds only the codes that are not billable in every shipped edition, as "valid from / valid to"
intervals (see ``scripts/build_icd10cm_editions.py``). A code without a row there is billable on every
date exactly when the newest edition calls it billable. The table is read on first use (a few ms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from superbill.paths import CODES_DIR

EDITIONS_FILE = CODES_DIR / "icd10cm-editions.tsv"


@dataclass(frozen=True)
class Edition:
    fiscal_year: int
    first_day: dt.date
    last_day: dt.date
    source: str

    @property
    def name(self) -> str:
        return f"FY{self.fiscal_year}"


# oldest first; must match scripts/build_icd10cm_editions.py
SHIPPED = (
    Edition(2021, dt.date(2020, 10, 1), dt.date(2021, 9, 30), "simple-icd-10-cm 1.2.0 (2021 tabular, January 2021 update)"),
    Edition(2025, dt.date(2024, 10, 1), dt.date(2025, 9, 30), "simple-icd-10-cm 1.4.0 (April 1, 2025 update)"),
    Edition(2026, dt.date(2025, 10, 1), dt.date(2026, 9, 30), "simple-icd-10-cm 1.5.0 (April 1, 2026 update)"),
)


@dataclass(frozen=True)
class InForce:
    """The edition a date of service is checked against, and the day inside it that stands for the date."""

    edition: Edition
    day: dt.date
    fiscal_year: int  # the fiscal year of the date of service itself

    @property
    def shipped(self) -> bool:
        return self.edition.fiscal_year == self.fiscal_year

    def note(self) -> str:
        """The warning for a date in an edition that is not shipped."""
        return (f"ICD-10-CM FY{self.fiscal_year} is not shipped with superbill: its diagnoses were checked "
                f"against {self.edition.name}, the nearest shipped edition")


def fiscal_year(day: dt.date) -> int:
    """The ICD-10-CM edition year of a date: October 1 opens the next year's edition."""
    return day.year + 1 if day.month >= 10 else day.year


def edition_for(day: dt.date) -> InForce:
    """The shipped edition for a date of service: its own when shipped, else the nearest by fiscal year
    (a tie goes to the newer edition). For a date before the stand-in edition its first day stands for
    the date, after it its last day."""
    year = fiscal_year(day)
    for edition in SHIPPED:
        if edition.fiscal_year == year:
            return InForce(edition, day, year)
    nearest = min(SHIPPED, key=lambda e: (abs(e.fiscal_year - year), -e.fiscal_year))
    stand_in = nearest.first_day if day < nearest.first_day else nearest.last_day
    return InForce(nearest, stand_in, year)


@dataclass(frozen=True)
class Span:
    valid_from: dt.date | None  # None: since before the oldest shipped edition
    valid_to: dt.date | None  # None: still valid in the newest

    def holds(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)


class _Table:
    """Rows kept as text until asked for: ISO dates compare as strings, and a check looks up a few codes."""

    def __init__(self, text: str) -> None:
        self.rows: dict[str, list[str]] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                self.rows.setdefault(line[: line.index("\t")], []).append(line)

    def spans(self, code: str) -> list[Span] | None:
        rows = self.rows.get(code)
        if rows is None:
            return None
        out = []
        for row in rows:
            _, start, end, _ = row.split("\t", 3)
            out.append(Span(dt.date.fromisoformat(start) if start else None, dt.date.fromisoformat(end) if end else None))
        return out

    def title(self, code: str) -> str | None:
        rows = self.rows.get(code)
        return rows[0].split("\t", 3)[3] or None if rows else None


@lru_cache(maxsize=1)
def _load() -> _Table:
    return _Table(EDITIONS_FILE.read_text(encoding="utf-8"))


def spans(code: str) -> list[Span] | None:
    """The billable intervals of a dot-less code, or None when the newest edition's flag holds on every date."""
    return _load().spans(code)


def retired_title(code: str) -> str | None:
    """The title of a dot-less code that an older shipped edition has and the newest does not."""
    return _load().title(code)


def billable_in_some_edition(code: str, newest_billable: bool) -> bool:
    found = spans(code)
    return newest_billable if found is None else bool(found)


def billable_on(code: str, day: dt.date, newest_billable: bool) -> bool:
    """Whether a dot-less code is a billable leaf on ``day`` (a date inside a shipped edition)."""
    found = spans(code)
    return newest_billable if found is None else any(span.holds(day) for span in found)
