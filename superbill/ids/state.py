"""USPS two-letter state and territory codes, including DC, the territories, the freely associated
states and the military "states" AA, AE and AP."""

from __future__ import annotations

from superbill.ids import InvalidIdentifier, _common

NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    # territories
    "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands", "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
    # freely associated states served by USPS
    "FM": "Federated States of Micronesia", "MH": "Marshall Islands", "PW": "Palau",
    # military mail
    "AA": "Armed Forces Americas", "AE": "Armed Forces Europe, Middle East, Africa and Canada",
    "AP": "Armed Forces Pacific",
}
CODES = frozenset(NAMES)


def compact(value: str) -> str:
    """Strip spaces and upper-case."""
    return _common.clean(value, "state", " ")


def validate(value: str) -> str:
    code = compact(value)
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidIdentifier("state must be a two-letter USPS code")
    if code not in CODES:
        raise InvalidIdentifier(f"{code} is not a USPS state or territory code")
    return code


def is_valid(value: str) -> bool:
    return _common.is_valid(validate, value)


def format(value: str) -> str:
    return compact(value)


def name(value: str) -> str:
    return NAMES[validate(value)]
