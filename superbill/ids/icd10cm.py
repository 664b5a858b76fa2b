"""ICD-10-CM diagnosis codes, checked against the shipped editions (``superbill.tables.icd10cm_index``
holds the newest in full, ``superbill.tables.icd10cm_editions`` when each code is billable).

``validate`` accepts the code with or without its dot, in any case, and returns the dotted form of a
billable leaf ("g90511" -> "G90.511"). Without a date it accepts a code billable in any shipped edition;
with ``on=`` (the date of service) only a code billable in the edition in force that day. A header code
(one with subcodes) is rejected with the subcodes to choose from. ``compact`` gives the dot-less form
used in X12.

>>> validate("g90511")
'G90.511'
>>> validate("E11.A", on=dt.date(2025, 9, 23))
Traceback (most recent call last):
    ...
superbill.ids.InvalidIdentifier: E11.A is not valid on 2025-09-23 (ICD-10-CM FY2025): it is valid from 2025-10-01
>>> validate("B37.3", on=dt.date(2021, 3, 1))
'B37.3'
"""

from __future__ import annotations

import datetime as dt
import re

from superbill.ids import InvalidIdentifier, _common
from superbill.tables import icd10cm_editions, icd10cm_index

EDITION = icd10cm_index.EDITION
MAX_HINTS = 6

_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_ICD9 = re.compile(r"^(?:[0-9]{3}(?:\.[0-9]{1,2})?|E[0-9]{3}(?:\.[0-9])?)$")


def compact(value: str) -> str:
    """Strip spaces and the dot, upper-case: "g90.511" -> "G90511"."""
    return _common.clean(value, "ICD-10-CM code", " .")


def _checked_shape(value: str) -> str:
    raw = _common.clean(value, "ICD-10-CM code", " ")
    if _ICD9.match(raw) and not icd10cm_index.lookup(raw):
        raise InvalidIdentifier(f"{raw} looks like an ICD-9 code; claims need ICD-10-CM codes")
    if not _SHAPE.match(raw):
        raise InvalidIdentifier("not an ICD-10-CM code: expected a letter, a digit, a letter or digit, "
                                "then up to 4 more after the dot (e.g. G90.511)")
    return compact(raw)


def _subcodes_hint(code: str) -> str:
    kids = icd10cm_index.children(code)
    return ", ".join(kids[:MAX_HINTS]) + (", …" if len(kids) > MAX_HINTS else "")


def validate(value: str, on: dt.date | None = None) -> str:
    code = _checked_shape(value)
    entry = icd10cm_index.lookup(code)
    if entry is None:
        raise InvalidIdentifier(f"{icd10cm_index.dotted(code)} is not an ICD-10-CM code")
    if on is None:
        if icd10cm_editions.billable_in_some_edition(code, entry.billable):
            return entry.code
        raise InvalidIdentifier(f"{entry.code} is not billable: it has subcodes; use one of {_subcodes_hint(code)}")
    in_force = icd10cm_editions.edition_for(on)
    if icd10cm_editions.billable_on(code, in_force.day, entry.billable):
        return entry.code
    raise InvalidIdentifier(_not_valid_on(code, entry.code, on, in_force))


def _not_valid_on(code: str, shown: str, on: dt.date, in_force: icd10cm_editions.InForce) -> str:
    edition = f"ICD-10-CM {in_force.edition.name}" if in_force.shipped else \
        f"checked against ICD-10-CM {in_force.edition.name}"
    spans = icd10cm_editions.spans(code) or []
    later = [s.valid_from for s in spans if s.valid_from is not None and s.valid_from > in_force.day]
    earlier = [s.valid_to for s in spans if s.valid_to is not None and s.valid_to < in_force.day]
    if later:
        return f"{shown} is not valid on {on.isoformat()} ({edition}): {_since(min(later))}"
    kids = icd10cm_index.children(code)
    use = f"; use one of {_subcodes_hint(code)}" if kids else ""
    if earlier:
        return f"{shown} is not valid on {on.isoformat()} ({edition}): {_until(max(earlier))}{use}"
    return f"{shown} is not billable: it has subcodes{use}"


def _unshipped_gap(day: dt.date, *, opens: bool) -> str | None:
    """The editions not shipped next to the shipped edition that opens (or closes) on ``day``: the ones
    before it (or after it) up to the neighbouring shipped edition, as "FY2022-FY2024"; None when the
    neighbour is the very next year or there is none."""
    shipped = icd10cm_editions.SHIPPED
    at = next((i for i, e in enumerate(shipped) if (e.first_day if opens else e.last_day) == day), None)
    neighbour = None if at is None else at - 1 if opens else at + 1
    if at is None or neighbour is None or not 0 <= neighbour < len(shipped):
        return None
    low, high = sorted((shipped[at].fiscal_year, shipped[neighbour].fiscal_year))
    return None if high == low + 1 else f"FY{low + 1}-FY{high - 1}"


def _since(day: dt.date) -> str:
    gap = _unshipped_gap(day, opens=True)
    if gap is None:
        return f"it is valid from {day.isoformat()}"
    edition = icd10cm_editions.edition_for(day).edition.name
    return f"it is first found in {edition} (from {day.isoformat()}); {gap} are not shipped, so it may be older"


def _until(day: dt.date) -> str:
    gap = _unshipped_gap(day, opens=False)
    if gap is None:
        return f"it was valid until {day.isoformat()}"
    edition = icd10cm_editions.edition_for(day).edition.name
    return f"it is last found in {edition} (to {day.isoformat()}); {gap} are not shipped, so it may have lasted longer"


def is_valid(value: str, on: dt.date | None = None) -> bool:
    return _common.is_valid(lambda v: validate(v, on), value)


def format(value: str) -> str:
    """The dotted display form: "G90511" -> "G90.511"."""
    return icd10cm_index.dotted(compact(value))


def title(value: str) -> str:
    """The tabular title of a code (billable or not); raises InvalidIdentifier for an unknown code."""
    code = _checked_shape(value)
    entry = icd10cm_index.lookup(code)
    if entry is None:
        raise InvalidIdentifier(f"{icd10cm_index.dotted(code)} is not an ICD-10-CM code")
    return entry.title
