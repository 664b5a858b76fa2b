"""Health-care provider taxonomy codes (NUCC): 10 characters, 3 digits, 6 letters or digits, then X.

Format only: the NUCC code list is AMA copyright and is not shipped.
"""

from __future__ import annotations

import re

from superbill.ids import InvalidIdentifier, _common

_FORMAT = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")


def compact(value: str) -> str:
    """Strip spaces and upper-case."""
    return _common.clean(value, "taxonomy code", " ")


def validate(value: str) -> str:
    code = compact(value)
    if len(code) != 10:
        raise InvalidIdentifier("taxonomy code must be 10 characters")
    if not code.endswith("X"):
        raise InvalidIdentifier("taxonomy code must end in X")
    if not _FORMAT.match(code):
        raise InvalidIdentifier("taxonomy code must be 3 digits, then 6 letters or digits, then X")
    return code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return compact(value)
