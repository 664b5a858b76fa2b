"""ICD-10-CM diagnosis codes, checked against the shipped FY2026 index (``superbill.tables.icd10cm_index``).

``validate`` accepts the code with or without its dot, in any case, and returns the dotted form of a
billable leaf ("g90511" -> "G90.511"). A header code (one with subcodes) is rejected with the subcodes
to choose from. ``compact`` gives the dot-less form used in X12.
"""

from __future__ import annotations

import re

from superbill.ids import InvalidIdentifier, _common
from superbill.tables import icd10cm_index

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


def validate(value: str) -> str:
    code = _checked_shape(value)
    entry = icd10cm_index.lookup(code)
    if entry is None:
        raise InvalidIdentifier(f"{icd10cm_index.dotted(code)} is not an ICD-10-CM code")
    if not entry.billable:
        kids = icd10cm_index.children(code)
        hint = ", ".join(kids[:MAX_HINTS]) + (", …" if len(kids) > MAX_HINTS else "")
        raise InvalidIdentifier(f"{entry.code} is not billable: it has subcodes; use one of {hint}")
    return entry.code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


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
