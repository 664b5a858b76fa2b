"""CMS Place of Service codes: two digits, one of the codes in ``codes/place_of_service.yaml``.

``TELEHEALTH`` and ``FACILITY`` are read from the same file (see its note for what they mean).
"""

from __future__ import annotations

import functools

from superbill.ids import InvalidIdentifier, _common


@functools.cache
def _table() -> dict:
    import yaml

    from superbill.paths import CODES_DIR

    with open(CODES_DIR / "place_of_service.yaml", encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return {str(code): row for code, row in data["codes"].items()}


def codes() -> dict[str, str]:
    """Every POS code -> its CMS name."""
    return {code: row["name"] for code, row in _table().items()}


def __getattr__(attr: str):
    # TELEHEALTH and FACILITY are built from the data file on first use, not at import
    if attr == "TELEHEALTH":
        return frozenset(c for c, row in _table().items() if row.get("telehealth"))
    if attr == "FACILITY":
        return frozenset(c for c, row in _table().items() if row.get("facility"))
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def compact(value: str) -> str:
    """Strip spaces; a single digit (YAML reads 02 as the number 2) gets its leading zero back."""
    code = _common.clean(value, "place of service", " ")
    return code.zfill(2) if len(code) == 1 and code.isdigit() else code


def validate(value: str) -> str:
    code = compact(value)
    if len(code) != 2 or not code.isdigit():
        raise InvalidIdentifier("place of service must be 2 digits")
    if code not in _table():
        raise InvalidIdentifier(f"place of service {code} is not in the CMS code set")
    return code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return compact(value)


def name(value: str) -> str:
    """The CMS name of a POS code (raises InvalidIdentifier for an unknown one)."""
    return _table()[validate(value)]["name"]
