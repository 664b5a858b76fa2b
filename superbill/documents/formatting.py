"""How every document prints money, dates, phone numbers, addresses, names and codes.

One module for the superbill, the letter, the CMS-1500 and the Good Faith Estimate, so the same
value reads the same on all of them: `money` is "$2,268.00" wherever a currency sign is shown,
`us_date` is 11/02/2026, `long_date` is November 2, 2026, `phone_text` is (217) 555-0100. The
Jinja filters of the same names (`money`, `date`, `longdate`, `phone`) are these functions
(`superbill.documents.templating`). The 837P and the CSV keep their own plain "2268.00"
(`superbill.engine.claims.money`): machines read those.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
SEX_LABELS = {"F": "Female", "M": "Male", "U": "Unknown"}
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def money(value) -> str:
    """$2,268.00 (-$5.00 below zero); "" for None. Rounded half up to the cent."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(CENT, ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def us_date(value: dt.date | None, fmt: str = "%m/%d/%Y") -> str:
    """A date as US forms print it (11/02/2026); a template may pass another strftime format."""
    if value is None:
        return ""
    return value.strftime(fmt)


def long_date(value: dt.date | None) -> str:
    """December 1, 2026"""
    if value is None:
        return ""
    return f"{value:%B} {value.day}, {value.year}"


def phone_text(digits: str | None) -> str | None:
    """(217) 555-0100 for ten digits; anything else as given; None for no number."""
    if not digits:
        return None
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


def zip_text(value: str) -> str:
    """62701-1234 for a ZIP+4, else the 5 digits."""
    from superbill.ids import zipcode

    return zipcode.format(value)


def address_lines(address) -> list[str]:
    """["100 Main St", "Suite 2", "Springfield, IL 62701-1234"]; [] for no address."""
    if address is None:
        return []
    lines = [address.street]
    if address.street2:
        lines.append(address.street2)
    lines.append(f"{address.city}, {address.state} {zip_text(address.zip)}")
    return lines


def person_name(person) -> str:
    """First, middle, last name and suffix: "Jane Q Doe Jr"."""
    parts = [person.first_name, getattr(person, "middle_name", None), person.last_name,
             getattr(person, "suffix", None)]
    return " ".join(p for p in parts if p)


def number_text(value: Decimal) -> str:
    """A dose or strength without trailing zeros: 70, 0.7, 2.5."""
    return f"{Decimal(value).normalize():f}"


def quantity_text(value: Decimal | None) -> str | None:
    """An NDC quantity: at most 3 decimals, no trailing zeros ("0.7", "2")."""
    from superbill.engine.claims import quantity_text as claim_quantity

    return claim_quantity(value)


def ndc_text(code: str | None) -> str | None:
    """An 11-digit NDC as printed on the package, 5-4-2: 00409-2051-05."""
    from superbill.ids import ndc

    return ndc.format(code) if code else None


def ndc_qualifier(code: str, unit: str | None, quantity: str | None) -> str:
    """The NDC as the 837P and CMS-1500 item 24 shaded area carry it: "N4 00409205105 ML 0.7"."""
    return " ".join(x for x in ("N4", code, unit, quantity) if x)


def pointer_letter(index: int) -> str:
    """0 -> A ... 11 -> L (then M, N, ... for a many-session document), 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = LETTERS[rest] + out
    return out


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration_text(start: dt.date, end: dt.date) -> str:
    """Whole years and months from start to end ("2 years 8 months"); days under a month."""
    from dateutil.relativedelta import relativedelta

    delta = relativedelta(end, start)
    if delta.years == 0 and delta.months == 0:
        return plural((end - start).days, "day")
    parts = []
    if delta.years:
        parts.append(plural(delta.years, "year"))
    if delta.months:
        parts.append(plural(delta.months, "month"))
    return " ".join(parts)


def minutes_text(minutes: int) -> str:
    """240 -> '240 minutes (4 hours)'; 150 -> '150 minutes (2 hours 30 minutes)'."""
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return plural(minutes, "minute")
    inner = plural(hours, "hour") + (f" {plural(rest, 'minute')}" if rest else "")
    return f"{minutes} minutes ({inner})"
