"""Procedure codes: CPT (5 digits; category II/III and PLA: 4 digits then F, T or U) and HCPCS
Level II (a letter A-V then 4 digits). Format only: CPT descriptors are AMA copyright and not shipped.
"""

from __future__ import annotations

import re

from superbill.ids import InvalidIdentifier, _common

_FORMAT = re.compile(r"^(?:[0-9]{5}|[0-9]{4}[FTU]|[A-V][0-9]{4})$")
_EXPECTED = "5 digits (CPT), 4 digits then F, T or U (CPT category II/III, PLA), or a letter A-V then 4 digits (HCPCS)"


def compact(value: str) -> str:
    """Strip spaces and upper-case."""
    return _common.clean(value, "procedure code", " ")


def validate(value: str) -> str:
    code = compact(value)
    if len(code) != 5:
        raise InvalidIdentifier(f"procedure code must be 5 characters: {_EXPECTED}")
    if not _FORMAT.match(code):
        shown = f"{code} " if code.isalnum() else ""
        raise InvalidIdentifier(f"procedure code {shown}is not a CPT or HCPCS code: expected {_EXPECTED}")
    return code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return compact(value)


def kind(value: str) -> str:
    """'cpt', 'cpt-ii', 'cpt-iii', 'pla' or 'hcpcs' for a valid code."""
    code = validate(value)
    if code[0].isalpha():
        return "hcpcs"
    return {"F": "cpt-ii", "T": "cpt-iii", "U": "pla"}.get(code[4], "cpt")


def is_cpt(value: str) -> bool:
    """True for any AMA CPT code (category I, II, III or PLA)."""
    return is_valid(value) and not compact(value)[0].isalpha()
