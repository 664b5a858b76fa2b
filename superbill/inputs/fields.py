"""The value types of the input files: text, identifiers, money, doses, and the strict base model.

Every identifier is checked with its `superbill.ids` module and stored in its compact canonical form;
unknown keys are rejected by `Strict` so a typo never silently drops data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
)
from pydantic_core import CoreSchema

from superbill.ids import InvalidIdentifier, ein, hcpcs, icd10cm, modifier, ndc, npi, pos, state, taxonomy, zipcode


def _as_text(value):
    # YAML turns unquoted 99214 or 2175550100 into ints; codes and numbers-as-ids are text here.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


def _checked(module):
    def check(value: str) -> str:
        try:
            return module.validate(value)
        except InvalidIdentifier as exc:
            raise ValueError(str(exc)) from None

    return check


def _phone(value: str) -> str:
    digits = re.sub(r"[\s().+-]", "", value)
    if digits.startswith("1") and len(digits) == 11:
        digits = digits[1:]
    if not digits.isdigit() or len(digits) != 10:
        raise ValueError("phone number must be 10 digits")
    if digits[0] in "01" or digits[3] in "01":
        raise ValueError("phone area code and exchange cannot start with 0 or 1")
    return digits


# Control characters (NUL, ESC, BEL, DEL, C1) are never part of a name, an address or a note; in a
# CSV or on a terminal they become escape sequences. Tab and line breaks stay (YAML block text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("has a control character, which text cannot hold")
    return value


@dataclass(frozen=True)
class TextOf:
    """Field metadata, `Annotated[str, TextOf(55)]`: text of at most that many characters, surrounding
    whitespace stripped, no control characters. (A class rather than a function returning `Annotated`,
    so type checkers see the field as the `str` it is.)"""

    max_length: int
    min_length: int = 1

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        limits = StringConstraints(strip_whitespace=True, min_length=self.min_length, max_length=self.max_length)
        return handler.generate_schema(Annotated[str, BeforeValidator(_as_text), limits, AfterValidator(_no_control)])


Text = Annotated[str, TextOf(200)]
Name = Annotated[str, TextOf(60)]
LongText = Annotated[str, TextOf(4000)]
Key = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_no_control),
]
NPI = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(npi))]
EIN = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(ein))]
NDC = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(ndc))]
Taxonomy = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(taxonomy))]
POS = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(pos))]
State = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(state))]
ZIP = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(zipcode))]
ProcedureCode = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(hcpcs))]
Modifier = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(modifier))]
Diagnosis = Annotated[str, BeforeValidator(_as_text), AfterValidator(_checked(icd10cm))]
Phone = Annotated[str, BeforeValidator(_as_text), AfterValidator(_phone)]

Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999.99"), decimal_places=2, allow_inf_nan=False)]
PositiveMoney = Annotated[Decimal, Field(gt=0, le=Decimal("9999999.99"), decimal_places=2, allow_inf_nan=False)]
Milligrams = Annotated[Decimal, Field(gt=0, le=Decimal("1000000"), decimal_places=4, allow_inf_nan=False)]
WasteMilligrams = Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), decimal_places=4, allow_inf_nan=False)]
Concentration = Annotated[Decimal, Field(gt=0, le=Decimal("100000"), decimal_places=4, allow_inf_nan=False)]
Units = Annotated[int, Field(ge=1, le=9999)]
Pointer = Annotated[int, Field(ge=1, le=12)]
ClockTime = Annotated[str, BeforeValidator(_as_text)]
Sex = Literal["F", "M", "U"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Address(Strict):
    street: Annotated[str, TextOf(55)]
    street2: Annotated[str, TextOf(55)] | None = None
    city: Annotated[str, TextOf(30)]
    state: State
    zip: ZIP
