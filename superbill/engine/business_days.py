"""Business days and the Good Faith Estimate's due date (45 CFR 149.610(b)(1)(vi)).

A business day is Monday to Friday except a federal holiday, including the weekday a holiday is
observed on when it falls on a weekend (the `holidays` package's US calendar). The rule:

- care scheduled at least 10 business days ahead: the estimate within 3 business days of scheduling;
- care scheduled at least 3 business days ahead: within 1 business day of scheduling;
- an estimate the patient asked for: within 3 business days of the request.

Care scheduled fewer than 3 business days ahead has no deadline in the rule. "N business days
ahead" counts the business days after the scheduling date up to and including the day of care, and
"within N business days of" a date is the N-th business day after it.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=64)
def _federal_holidays(year: int) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.country_holidays("US", years=year))


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def add_business_days(start: dt.date, count: int) -> dt.date:
    """The `count`-th business day after `start` (start itself does not count)."""
    day, seen = start, 0
    while seen < count:
        day += ONE_DAY
        if is_business_day(day):
            seen += 1
    return day


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Business days after `start` up to and including `end` (0 when end is not after start)."""
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_business_day(day):
            count += 1
    return count


@dataclass(frozen=True)
class Deadline:
    due: dt.date | None  # None: the rule sets no deadline (scheduled fewer than 3 business days ahead)
    business_days: int | None  # 1 or 3
    basis: str  # the rule, in words, for the estimate and the warning

    def late(self, issued: dt.date) -> bool:
        return self.due is not None and issued > self.due


def deadline(*, first_service: dt.date, scheduled_on: dt.date | None = None,
             requested_on: dt.date | None = None) -> Deadline:
    if requested_on is not None:
        return Deadline(add_business_days(requested_on, 3), 3,
                        "within 3 business days of the request (45 CFR 149.610(b)(1)(vi))")
    if scheduled_on is None:
        raise ValueError("a deadline needs scheduled_on or requested_on")
    ahead = business_days_between(scheduled_on, first_service)
    if ahead >= 10:
        return Deadline(add_business_days(scheduled_on, 3), 3,
                        f"within 3 business days of scheduling: care scheduled {ahead} business days ahead "
                        "(45 CFR 149.610(b)(1)(vi))")
    if ahead >= 3:
        return Deadline(add_business_days(scheduled_on, 1), 1,
                        f"within 1 business day of scheduling: care scheduled {ahead} business days ahead "
                        "(45 CFR 149.610(b)(1)(vi))")
    return Deadline(None, None, f"care scheduled {ahead} business day(s) ahead: the rule sets no deadline "
                                "under 3 business days; give the estimate before the care")
