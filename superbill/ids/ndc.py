"""NDC (US National Drug Code), as billed: 11 digits in the 5-4-2 layout.

Packages print a 10-digit NDC with hyphens in one of three layouts (4-4-2, 5-3-2, 5-4-1); billing pads
the short segment with a leading zero to 5-4-2 (0409-2051-05 -> 00409205105). A 10-digit NDC written
without hyphens cannot be padded: the short segment is unknown, so it is rejected.
"""

from __future__ import annotations

import re

from superbill.ids import InvalidIdentifier, _common

# segment lengths accepted when written with hyphens
LAYOUTS = {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}

_AMBIGUOUS = ("a 10-digit NDC without hyphens is ambiguous: write it with hyphens as printed on the "
              "package (4-4-2, 5-3-2 or 5-4-1)")


def _segments(value: str) -> list[str]:
    value = _common.text(value, "NDC").strip()
    if "-" in value:
        return re.sub(r"\s+", "", value).split("-")
    return value.split()


def compact(value: str) -> str:
    """The 11-digit 5-4-2 string when the hyphen layout is recognised, else the digits as given."""
    parts = _segments(value)
    if len(parts) == 3 and tuple(len(p) for p in parts) in LAYOUTS:
        return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)
    return "".join(parts)


def validate(value: str) -> str:
    parts = _segments(value)
    if not "".join(parts).isdigit():
        raise InvalidIdentifier("NDC must contain only digits and hyphens")
    if len(parts) == 1:
        if len(parts[0]) == 11:
            return parts[0]
        if len(parts[0]) == 10:
            raise InvalidIdentifier(_AMBIGUOUS)
        raise InvalidIdentifier("NDC must be 11 digits, or 10 digits with hyphens (4-4-2, 5-3-2 or 5-4-1)")
    if len(parts) != 3 or tuple(len(p) for p in parts) not in LAYOUTS:
        raise InvalidIdentifier("NDC hyphens must split it 4-4-2, 5-3-2, 5-4-1 or 5-4-2")
    return compact(value)


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    """5-4-2 with hyphens: 00409-2051-05."""
    number = compact(value)
    if len(number) == 11 and number.isdigit():
        return f"{number[:5]}-{number[5:9]}-{number[9:]}"
    return number
