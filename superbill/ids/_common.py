"""Small helpers shared by the identifier modules."""

from __future__ import annotations

import re

from superbill.ids import InvalidIdentifier

_WHITESPACE = re.compile(r"\s+")


def text(value: object, label: str) -> str:
    """The value as text. Integers are accepted (YAML reads unquoted digits as numbers)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidIdentifier(f"{label} must be text")
    return str(value)


def clean(value: object, label: str, deletechars: str = " -") -> str:
    """Upper-cased text with whitespace and the given separator characters removed."""
    value = _WHITESPACE.sub("", text(value, label))
    for ch in deletechars:
        value = value.replace(ch, "")
    return value.upper()


def is_valid(validate, value: object) -> bool:
    try:
        validate(value)
    except InvalidIdentifier:
        return False
    return True
