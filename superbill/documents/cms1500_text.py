"""Text for the CMS-1500 the way the NUCC 1500 instructions and OCR scanners want it.

Upper-case ASCII (accents transliterated), names LAST SUFFIX, FIRST, MIDDLE INITIAL without periods,
addresses without punctuation, dates in the form's MM | DD | YY boxes, amounts in its dollars |
cents columns, the NDC supplemental line of item 24.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from superbill.documents.formatting import zip_text  # 62701-1234, as on every document
from superbill.engine.claims import money, quantity_text  # 2268.00: no $ and no commas on the form


def ascii_upper(text: str | None) -> str:
    """Upper-case ASCII with single spaces: accents transliterated, anything else dropped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return re.sub(r"\s+", " ", text).strip().upper()


def name_part(text: str | None) -> str:
    return ascii_upper(text).replace(".", "").replace(",", " ").strip()


def person_name(last: str, first: str, middle: str | None = None, suffix: str | None = None) -> str:
    """NUCC: LAST SUFFIX, FIRST, MIDDLE INITIAL, commas between, no periods."""
    last_part = name_part(last)
    if suffix:
        last_part = f"{last_part} {name_part(suffix)}"
    parts = [last_part, name_part(first)]
    if middle and name_part(middle):
        parts.append(name_part(middle)[0])
    return re.sub(r"\s+", " ", ", ".join(parts))


def signer_name(person) -> str:
    """A provider as they sign: FIRST MIDDLE LAST CREDENTIALS ("AVERY LEE MD")."""
    parts = (person.first_name, person.middle_name, person.last_name, getattr(person, "credentials", None))
    return " ".join(name_part(p) for p in parts if p and name_part(p))


def address_text(text: str | None) -> str:
    """NUCC: no commas, periods or other symbols in addresses ("123 N MAIN ST 101")."""
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z0-9 /-]", " ", ascii_upper(text))).strip()


def org_text(text: str | None) -> str:
    """An organization's name: no periods or commas; "&", "'", "-" and "/" kept ("BLUE CROSS & BLUE SHIELD")."""
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z0-9 &'/-]", " ", ascii_upper(text))).strip()


def compact_number(text: str | None) -> str:
    """Items 23 and 26, NUCC: "Do not enter hyphens or spaces within the number"."""
    return re.sub(r"[\s-]", "", ascii_upper(text))


def address_lines(address, phone: str | None = None) -> dict:
    street = " ".join([address.street] + ([address.street2] if getattr(address, "street2", None) else []))
    digits = re.sub(r"\D", "", phone or "")
    return {
        "street": address_text(street),
        "city": address_text(address.city),
        "state": address.state.upper(),
        "zip": zip_text(address.zip),
        "city_line": " ".join(p for p in (address_text(address.city), address.state.upper(),
                                          zip_text(address.zip)) if p),
        "area_code": digits[:3] if len(digits) == 10 else "",
        "phone": digits[3:] if len(digits) == 10 else "",
    }


def carrier_lines(payer_name: str, address) -> list[str]:
    """The carrier block, NUCC: name; address line 1; line 2 if any; city, state and ZIP."""
    lines = [org_text(payer_name)]
    if address is not None:
        lines.append(address_text(address.street))
        if getattr(address, "street2", None):
            lines.append(address_text(address.street2))
        lines.append(address_lines(address)["city_line"])
    return lines


def date8(value: dt.date) -> str:
    """MM DD YYYY in the date boxes of items 3 and 11a (the spaces fall on the form's dividers)."""
    return f"{value:%m %d %Y}"


def date6(value: dt.date) -> str:
    """MM DD YY in the date boxes of item 24A, and item 31's date."""
    return f"{value:%m %d %y}"


def amount_text(value: Decimal, width: int) -> str:
    """An amount for the split dollars | cents columns: no $, no commas, "00" cents ("  189 00" in 8)."""
    dollars, cents = money(value).split(".")
    return f"{dollars:>{width - 3}} {cents}"


def diagnosis_code(code: str) -> str:
    """Item 21 form of a diagnosis: upper-case, without the (implied) decimal point."""
    return code.replace(".", "").replace(" ", "").upper()


def supplemental_text(line) -> str:
    """The shaded line of 24: N4 + 11-digit NDC + 3 spaces + unit qualifier + quantity."""
    if not line.ndc:
        return ""
    ndc = re.sub(r"\D", "", line.ndc)
    quantity = quantity_text(line.ndc_quantity)
    if not quantity or not line.ndc_unit:
        return f"N4{ndc}"
    return f"N4{ndc}   {line.ndc_unit}{quantity}"
