"""X12 text for the 837P: delimiters, X12-safe free text, identifiers, segments and composites.

Data is made X12-safe (docs/reference.md "Outputs"): upper-case ASCII with accents transliterated, the four
delimiters (``* ~ : ^``) and control characters never inside an element, each element truncated to
the implementation guide's maximum; trailing empty elements are dropped. An identifier is never
altered: one X12 cannot carry is rejected with the field's path (never its value: it may be PHI).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

from superbill.engine.claims import money

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
DELIMITERS = ELEMENT + COMPONENT + REPETITION + TERMINATOR

# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans({
    "ß": "SS", "Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "Ø": "O", "ø": "O", "Ł": "L",
    "ł": "L", "Đ": "D", "đ": "D", "Þ": "TH", "þ": "TH", "ı": "I",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
})
# The X12 basic character set without the delimiters we use (`*` and `:`).
_NOT_BASIC = re.compile(r"""[^A-Z0-9!"&'()+,\-./;?= ]""")
# Identifiers keep their case: letters, digits and the basic punctuation, never a delimiter.
_ID_OK = re.compile(r"""^[A-Za-z0-9!"&'()+,\-./;?= ]+$""")


class X12DataError(ValueError):
    """A value cannot be carried in the 837P (the path names the field, never its value)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def text(value, max_len: int) -> str:
    """Free text made X12-safe: upper-case ASCII, no delimiters or control characters, trimmed."""
    if value is None:
        return ""
    value = str(value)
    if not value.isascii():  # ASCII is already its own NFKC/NFKD form, with nothing to transliterate
        value = unicodedata.normalize("NFKC", value).translate(_TRANSLITERATE)
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    value = _NOT_BASIC.sub(" ", value.upper())
    return " ".join(value.split())[:max_len].rstrip()


def required_text(value, max_len: int, path: str, min_len: int = 1) -> str:
    cleaned = text(value, max_len)
    if len(cleaned) < min_len:
        raise X12DataError(path, "nothing usable is left once the characters X12 cannot carry are removed"
                           if cleaned == "" else f"needs at least {min_len} letters or digits for the 837P")
    return cleaned


def identifier(value, max_len: int, path: str, min_len: int = 1) -> str:
    """An identifier exactly as given: rejected, not altered, when X12 cannot carry it."""
    value = "" if value is None else str(value).strip()
    if not min_len <= len(value) <= max_len:
        raise X12DataError(path, f"must be {min_len} to {max_len} characters for the 837P")
    if not _ID_OK.match(value):
        raise X12DataError(path, "holds a character X12 cannot carry (letters, digits, '-', '.', '/' are safe)")
    return value


def segment(*elements) -> str:
    parts = ["" if e is None else str(e) for e in elements]
    while parts and parts[-1] == "":
        parts.pop()
    return ELEMENT.join(parts) + TERMINATOR


def composite(*components) -> str:
    parts = ["" if c is None else str(c) for c in components]
    while parts and parts[-1] == "":
        parts.pop()
    return COMPONENT.join(parts)


def date8(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def amount(value: Decimal) -> str:
    return money(value)
