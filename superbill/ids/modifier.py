"""Procedure-code modifiers: exactly 2 letters or digits. Labels (our own words) come from
``codes/modifiers.yaml``; a modifier not listed there is still accepted.
"""

from __future__ import annotations

import functools

from superbill.ids import InvalidIdentifier, _common


def compact(value: str) -> str:
    """Strip spaces and upper-case."""
    return _common.clean(value, "modifier", " ")


def validate(value: str) -> str:
    code = compact(value)
    if len(code) != 2 or not code.isascii() or not code.isalnum():
        raise InvalidIdentifier("modifier must be 2 letters or digits")
    return code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return compact(value)


@functools.cache
def _table() -> dict:
    import yaml

    from superbill.paths import CODES_DIR

    with open(CODES_DIR / "modifiers.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def labels() -> dict[str, str]:
    """Modifier -> short label, for the modifiers the project knows."""
    return {str(k): v["label"] for k, v in _table()["modifiers"].items()}


def label(value: str) -> str | None:
    """Our label for a modifier, or None when it is not in codes/modifiers.yaml."""
    return labels().get(compact(value))
