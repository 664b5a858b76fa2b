"""A claim line and the arithmetic every line builder shares (money, NDC quantity text, charges)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MILLI = Decimal("0.001")


def hcpcs_units(amount: Decimal, unit_size: Decimal) -> int:
    """ceil(amount / unit size), at least 1 ("per X mg" and "up to X mg" codes alike)."""
    return max(1, math.ceil(amount / unit_size))


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):.2f}"


def quantity_text(value: Decimal | None) -> str | None:
    """An NDC quantity as text: at most 3 decimals, no trailing zeros ("0.7", "2.5", "2")."""
    if value is None:
        return None
    text = f"{value.quantize(MILLI, ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def line_charge(explicit, fee, units) -> Decimal | None:
    """The line's own `charge` when given, else fee x units; None when neither is known."""
    if explicit is not None:
        return Decimal(explicit).quantize(CENT)
    if fee is None:
        return None
    return (fee * units).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class ClaimLine:
    code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal | None  # None: no fee and no charge (the scrubber reports it)
    pointers: tuple[int, ...]
    description: str
    kind: str
    source: str  # where in the patient file the line comes from
    fee: Decimal | None = None
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None
    drug: str | None = None  # the medication key; None on a drug or supply code given as a service
    single_dose: bool | None = None
    unclassified: bool = False
    dose_mg: Decimal | None = None  # the administered dose (medication lines; not the JW line)
    # mg discarded from a single-dose container that could not be turned into JW units (the
    # scrubber refuses the line: a JZ would attest that nothing was discarded).
    unbilled_waste_mg: Decimal | None = None

    @property
    def what(self) -> str:
        """The code with the medication key when there is one: "J3490 (ketamine)", "J7050"."""
        return f"{self.code} ({self.drug})" if self.drug else self.code

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "modifiers": list(self.modifiers),
            "units": self.units,
            "charge": money(self.charge) if self.charge is not None else None,
            "pointers": list(self.pointers),
            "ndc": self.ndc,
            "ndc_quantity": quantity_text(self.ndc_quantity),
            "ndc_unit": self.ndc_unit,
        }


def total_of(lines) -> Decimal:
    return sum((line.charge for line in lines if line.charge is not None), Decimal("0.00"))
