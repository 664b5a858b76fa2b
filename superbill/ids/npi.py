"""NPI (US National Provider Identifier).

Ten digits: the first is 1 or 2, the last a Luhn check digit computed as if the ISO health-card
prefix "80840" stood in front of the first nine (the same as adding 24 to their Luhn sum). python-stdnum
has no US NPI module, so this one uses ``stdnum.luhn`` with the prefix.

>>> validate("123 456 7893")
'1234567893'
"""

from __future__ import annotations

from stdnum import luhn

from superbill.ids import InvalidIdentifier, _common

PREFIX = "80840"


def compact(value: str) -> str:
    """Strip spaces and hyphens."""
    return _common.clean(value, "NPI")


def calc_check_digit(first_nine: str) -> str:
    """The check digit for the first nine digits of an NPI."""
    return luhn.calc_check_digit(PREFIX + first_nine)


def validate(value: str) -> str:
    number = compact(value)
    if len(number) != 10 or not number.isdigit():
        raise InvalidIdentifier("NPI must be 10 digits")
    if number[0] not in "12":
        raise InvalidIdentifier("NPI must start with 1 or 2")
    if luhn.checksum(PREFIX + number) != 0:
        raise InvalidIdentifier("NPI check digit is wrong (Luhn with the 80840 prefix)")
    return number


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return compact(value)
