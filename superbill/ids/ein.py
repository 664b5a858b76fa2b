"""EIN (US Employer Identification Number), the practice's TIN: 9 digits, shown 12-3456789.

Delegates to ``stdnum.us.ein``, which also checks that the two-digit prefix is one the IRS assigns.
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_exceptions
from stdnum.us import ein as _ein

from superbill.ids import InvalidIdentifier, _common


def compact(value: str) -> str:
    """Strip spaces and hyphens."""
    return _common.clean(value, "EIN")


def validate(value: str) -> str:
    number = compact(value)
    if len(number) != 9 or not number.isdigit():
        raise InvalidIdentifier("EIN must be 9 digits")
    try:
        return _ein.validate(number)
    except stdnum_exceptions.ValidationError:
        raise InvalidIdentifier(f"EIN prefix {number[:2]} is not one the IRS assigns") from None


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return _ein.format(compact(value))
