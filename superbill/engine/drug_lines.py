"""Drug lines: HCPCS units, NDC quantity, the description, and the JW/JZ rules for waste.

Rules (docs/reference.md "Billing rules"; CMS JW/JZ policy):

* units = ceil(administered amount / HCPCS unit), at least 1; unclassified codes (J3490) bill 1
  unit, with the drug name, strength and dose as the description (the payer prices the narrative);
* single-dose containers: JZ when nothing billable was discarded, else a second line with JW for
  the discarded units. The administered amount rounds up and the discarded amount rounds down
  ("JW units = floor(administered + discarded) - administered units"), so the two lines never bill
  more than the container held; waste inside the last administered unit is no JW line (JZ);
* an unclassified drug's JW line bills 1 unit with the discarded amount as its NDC quantity and
  description, priced pro rata (the administered line's charge per mg x the mg discarded): never
  a second full unit;
* waste given as mg on a volume-dosed drug is converted with mg_per_ml; when it cannot be, the
  line carries the waste unbilled (the scrubber refuses it) rather than a JZ that would be false;
* the JW line's price per unit is the administered line's: a medication-level `charge` sets it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

from superbill.engine.lines import CENT, MILLI, ClaimLine, hcpcs_units, line_charge, number_text
from superbill.tables.codebook import Medication


def ndc_quantity(med: Medication, dose_mg: Decimal | None, volume_ml: Decimal | None) -> Decimal | None:
    amount: Decimal | None
    if med.ndc_unit == "ML":
        if volume_ml is not None:
            amount = volume_ml
        elif dose_mg is not None and med.mg_per_ml:
            amount = dose_mg / med.mg_per_ml
        else:
            return None
    elif med.ndc_unit == "ME":
        amount = dose_mg
    elif med.ndc_unit == "GR":
        amount = dose_mg / 1000 if dose_mg is not None else None
    else:  # UN
        amount = dose_mg / med.mg_per_unit if dose_mg is not None and med.mg_per_unit else None
    if amount is None:
        return None
    return amount.quantize(MILLI, ROUND_HALF_UP)


def _billed_measure(med: Medication, dose_mg, volume_ml) -> tuple[Decimal, Decimal, bool] | None:
    """(administered amount, HCPCS unit size, measured in mL?) in the measure of the HCPCS unit."""
    if med.unit_ml is not None and volume_ml is not None:
        return volume_ml, med.unit_ml, True
    if med.unit_mg is not None and dose_mg is not None:
        return dose_mg, med.unit_mg, False
    if med.unit_ml is not None and dose_mg is not None and med.mg_per_ml:
        return dose_mg / med.mg_per_ml, med.unit_ml, True
    if med.unit_mg is not None and volume_ml is not None and med.mg_per_ml:
        return volume_ml * med.mg_per_ml, med.unit_mg, False  # an mg-unit drug drawn up by volume
    return None


def drug_units(med: Medication, dose_mg, volume_ml) -> int:
    if med.unclassified:
        return 1
    measure = _billed_measure(med, dose_mg, volume_ml)
    return hcpcs_units(measure[0], measure[1]) if measure else 1


def _administered_mg(med: Medication, dose_mg, volume_ml) -> Decimal | None:
    if dose_mg is not None:
        return dose_mg
    return volume_ml * med.mg_per_ml if volume_ml is not None and med.mg_per_ml else None


def discarded_units(med: Medication, dose_mg, volume_ml, wasted_mg: Decimal, units: int) -> int | None:
    """JW units for `wasted_mg` discarded after `units` administered; None when not computable."""
    measure = _billed_measure(med, dose_mg, volume_ml)
    if measure is None:
        return None
    given, unit_size, in_ml = measure
    if in_ml:
        if not med.mg_per_ml:
            return None
        wasted = wasted_mg / med.mg_per_ml
    else:
        wasted = wasted_mg
    return max(0, math.floor((given + wasted) / unit_size - units))


def drug_description(med: Medication, dose_mg, volume_ml, route: str | None) -> str:
    parts = [med.name]
    if med.mg_per_ml:
        parts.append(f"{number_text(med.mg_per_ml)} mg/mL")
    if dose_mg is not None:
        parts.append(f"{number_text(dose_mg)} mg")
    elif volume_ml is not None:
        parts.append(f"{number_text(volume_ml)} mL")
    parts.append(route or "IV")
    return " ".join(parts)


def _waste_description(med: Medication, wasted_mg: Decimal) -> str:
    strength = f" {number_text(med.mg_per_ml)} mg/mL" if med.mg_per_ml else ""
    return f"{med.name}{strength} {number_text(wasted_mg)} mg discarded"


def _pro_rata(charge: Decimal | None, part: Decimal, whole: Decimal) -> Decimal | None:
    if charge is None:
        return None
    return (charge * part / whole).quantize(CENT, ROUND_HALF_UP)


def _waste_line(base: ClaimLine, med: Medication, given, wasted: Decimal) -> ClaimLine | None:
    """The JW line for `wasted` mg, or None when the discarded amount cannot be billed in units."""
    dose, volume = given.dose_mg, given.volume_ml
    if med.unclassified:
        administered = _administered_mg(med, dose, volume)
        if administered is None:
            return None
        units, charge = 1, _pro_rata(base.charge, wasted, administered)
    else:
        count = discarded_units(med, dose, volume, wasted, base.units)
        if count is None:
            return None
        if count == 0:
            return base  # inside the last administered unit: nothing billable was discarded
        units, charge = count, _pro_rata(base.charge, Decimal(count), Decimal(base.units))
    return replace(
        base, modifiers=("JW",), units=units, charge=charge, dose_mg=None,
        description=_waste_description(med, wasted),
        ndc_quantity=ndc_quantity(med, wasted, None), source=base.source + ".wasted_mg",
    )


def drug_lines(med: Medication, given, source: str, fee: Decimal | None,
               pointers: tuple[int, ...]) -> list[ClaimLine]:
    """The line(s) of one medication given: the administered line, and a JW line for waste."""
    dose, volume = given.dose_mg, given.volume_ml
    units = drug_units(med, dose, volume)
    base = ClaimLine(
        code=med.hcpcs, modifiers=(), units=units, charge=line_charge(given.charge, fee, units),
        pointers=pointers, description=drug_description(med, dose, volume, given.route), kind="drug",
        source=source, fee=fee, ndc=given.ndc or med.ndc, ndc_quantity=ndc_quantity(med, dose, volume),
        ndc_unit=med.ndc_unit, drug=med.key, single_dose=med.single_dose, unclassified=med.unclassified,
        dose_mg=_administered_mg(med, dose, volume),
    )
    if not med.single_dose:
        return [base]
    wasted = given.wasted_mg or Decimal(0)
    if wasted <= 0:
        return [replace(base, modifiers=("JZ",))]
    waste = _waste_line(base, med, given, wasted)
    if waste is None:
        return [replace(base, unbilled_waste_mg=wasted)]
    if waste is base:
        return [replace(base, modifiers=("JZ",))]
    return [base, waste]
