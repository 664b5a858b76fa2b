"""US ZIP codes: 5 digits, or ZIP+4 (9 digits, written 62701-1234 or 627011234)."""

from __future__ import annotations

import re

from superbill.ids import InvalidIdentifier, _common


def compact(value: str) -> str:
    """Digits only."""
    return _common.clean(value, "ZIP code")


def validate(value: str) -> str:
    raw = _common.text(value, "ZIP code").strip()
    code = compact(value)
    if not code.isdigit() or len(code) not in (5, 9):
        raise InvalidIdentifier("ZIP code must be 5 or 9 digits")
    if "-" in raw and not re.fullmatch(r"[0-9]{5}\s*-\s*[0-9]{4}", raw):
        raise InvalidIdentifier("ZIP+4 must be written 12345-6789")
    return code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    code = compact(value)
    return f"{code[:5]}-{code[5:]}" if len(code) == 9 else code
