"""The billing engine: a session becomes the claim lines a payer must see.

Pure functions, no I/O: the superbill, the letter and every export share this one truth.
Rules (SPEC "Billing rules"; domain.md §4, §5, §8, §10):

* lines = the protocol's services + the session's services + the infusion's administration codes
  + one drug line per medication (protocol's medications, then the session's);
* infusion time: 15 min or less is a push (96374); 16-90 min is 96365 x1; each further hour
  counts only when more than 30 minutes run past the last counted hour (96366);
* drug units = ceil(dose / unit size), at least 1; unclassified codes (J3490) bill 1 unit and
  carry the drug name, strength and dose as the line's description;
* single-dose containers: JZ when nothing was wasted, else a second line with JW for the waste;
* an E/M on a day with a drug-administration code carries modifier 25;
* charge = fee x units unless the line gives `charge`; default pointers are the first four.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from superbill.tables.codebook import ADMINISTRATION_KINDS, CodeBook, Medication

if TYPE_CHECKING:
    from superbill.inputs.models import Provider

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
EM_KINDS = {"em"}


# ---------------------------------------------------------------- calculators (domain.md §8)


def infusion_codes(minutes: int) -> list[tuple[str, int]]:
    """Administration codes and units for one therapeutic infusion of `minutes`."""
    if minutes <= 0:
        return []
    if minutes <= 15:
        return [("96374", 1)]
    extra_hours = 0 if minutes <= 90 else (minutes - 91) // 60 + 1
    return [("96365", 1)] + ([("96366", extra_hours)] if extra_hours else [])


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


def _number(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


# ---------------------------------------------------------------- the claim


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
    drug: str | None = None
    single_dose: bool | None = None
    unclassified: bool = False

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


@dataclass(frozen=True)
class Claim:
    claim_id: str
    patient_id: str
    date_of_service: dt.date
    place_of_service: str
    provider: Provider
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLine, ...]
    total_charge: Decimal
    amount_paid: Decimal
    payments: tuple = ()
    prior_authorization: str | None = None
    session_index: int = 0
    infusion_minutes: int | None = None
    allow_sedation: bool = False
    filing_indicator: str = "CI"
    # Medicare assignment (SPEC "Billing rules"): 837P CLM07 A / CLM08 Y, CMS-1500 items 13 and 27.
    assigned: bool = False
    # 1 original, 7 replacement, 8 void (837P CLM05-3, CMS-1500 item 22); a 7 or 8 carries the payer's
    # claim control number (837P REF*F8, item 22's original reference number).
    frequency_code: str = "1"
    payer_claim_number: str | None = None
    # SPEC "Money on a session": what the clinic wrote off (models.Adjustment), and their sum.
    adjustments: tuple = ()
    amount_adjusted: Decimal = Decimal("0.00")

    @property
    def provider_npi(self) -> str:
        return self.provider.npi

    @property
    def balance(self) -> Decimal:
        """What the patient still owes: charges - payments - adjustments (below zero: a credit)."""
        return self.total_charge - self.amount_paid - self.amount_adjusted

    def as_json(self) -> dict:
        return {
            "claim_id": self.claim_id,
            "patient_id": self.patient_id,
            "date_of_service": self.date_of_service.isoformat(),
            "place_of_service": self.place_of_service,
            "provider_npi": self.provider_npi,
            "diagnoses": list(self.diagnoses),
            "lines": [line.as_json() for line in self.lines],
            "total_charge": money(self.total_charge),
            "amount_paid": money(self.amount_paid),
        }


def total_of(lines) -> Decimal:
    return sum((line.charge for line in lines if line.charge is not None), Decimal("0.00"))


# ---------------------------------------------------------------- building lines


@dataclass
class _Context:
    book: CodeBook
    diagnoses_count: int
    place_of_service: str
    path: str
    lines: list[ClaimLine] = field(default_factory=list)

    def default_pointers(self) -> tuple[int, ...]:
        return tuple(range(1, min(4, self.diagnoses_count) + 1))

    def fee(self, code: str) -> Decimal | None:
        return self.book.fees.get(code)


def _charge(explicit, fee, units) -> Decimal | None:
    if explicit is not None:
        return Decimal(explicit).quantize(CENT)
    if fee is None:
        return None
    return (fee * units).quantize(CENT, ROUND_HALF_UP)


def _service_line(ctx: _Context, service, source: str) -> ClaimLine:
    units = service.units or 1
    fee = ctx.fee(service.code)
    return ClaimLine(
        code=service.code,
        modifiers=tuple(service.modifiers),
        units=units,
        charge=_charge(service.charge, fee, units),
        pointers=tuple(service.pointers) if service.pointers else ctx.default_pointers(),
        description=service.description or ctx.book.label(service.code),
        kind=ctx.book.kind(service.code),
        source=source,
        fee=fee,
    )


def _ndc_quantity(med: Medication, dose_mg: Decimal | None, volume_ml: Decimal | None) -> Decimal | None:
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


def _drug_units(med: Medication, dose_mg, volume_ml) -> int:
    if med.unclassified:
        return 1
    if med.unit_ml is not None and volume_ml is not None:
        return hcpcs_units(volume_ml, med.unit_ml)
    if med.unit_mg is not None and dose_mg is not None:
        return hcpcs_units(dose_mg, med.unit_mg)
    if med.unit_ml is not None and dose_mg is not None and med.mg_per_ml:
        return hcpcs_units(dose_mg / med.mg_per_ml, med.unit_ml)
    return 1


def _drug_description(med: Medication, dose_mg, volume_ml, route: str | None) -> str:
    parts = [med.name]
    if med.mg_per_ml:
        parts.append(f"{_number(med.mg_per_ml)} mg/mL")
    if dose_mg is not None:
        parts.append(f"{_number(dose_mg)} mg")
    elif volume_ml is not None:
        parts.append(f"{_number(volume_ml)} mL")
    parts.append(route or "IV")
    return " ".join(parts)


def _drug_lines(ctx: _Context, given, source: str) -> list[ClaimLine]:
    med = ctx.book.medications[given.drug]
    dose, volume = given.dose_mg, given.volume_ml
    fee = med.fee if med.fee is not None else ctx.fee(med.hcpcs)
    pointers = tuple(given.pointers) if given.pointers else ctx.default_pointers()
    description = _drug_description(med, dose, volume, given.route)
    units = _drug_units(med, dose, volume)
    base = ClaimLine(
        code=med.hcpcs, modifiers=(), units=units, charge=_charge(given.charge, fee, units),
        pointers=pointers, description=description, kind="drug", source=source, fee=fee,
        ndc=given.ndc or med.ndc, ndc_quantity=_ndc_quantity(med, dose, volume), ndc_unit=med.ndc_unit,
        drug=med.key, single_dose=med.single_dose, unclassified=med.unclassified,
    )
    if not med.single_dose:
        return [base]
    wasted = given.wasted_mg or Decimal(0)
    if wasted > 0 and dose is not None:
        if med.unclassified:
            waste_units = 1
        else:
            waste_units = _drug_units(med, dose + wasted, None) - units
        if waste_units > 0:
            waste = replace(
                base, modifiers=("JW",), units=waste_units,
                charge=_charge(None, fee, waste_units),
                description=f"{med.name} {_number(wasted)} mg discarded",
                ndc_quantity=_ndc_quantity(med, wasted, None), source=source + ".wasted_mg",
            )
            return [base, waste]
    return [replace(base, modifiers=("JZ",))]


def _with_modifier_25(lines: list[ClaimLine], book: CodeBook) -> list[ClaimLine]:
    has_administration = any(line.kind in ADMINISTRATION_KINDS for line in lines)
    if not has_administration:
        return lines
    return [
        replace(line, modifiers=("25",) + line.modifiers)
        if line.kind in EM_KINDS and "25" not in line.modifiers else line
        for line in lines
    ]


def session_lines(session, session_index: int, clinic, book: CodeBook) -> list[ClaimLine]:
    """The claim lines of one validated session, in SPEC order."""
    ctx = _Context(
        book=book,
        diagnoses_count=len(session.diagnoses),
        place_of_service=session.place_of_service or clinic.place_of_service,
        path=f"sessions[{session_index}]",
    )
    lines: list[ClaimLine] = []
    protocol = clinic.protocols.get(session.protocol) if session.protocol else None
    if protocol:
        lines += [_service_line(ctx, s, f"{ctx.path}.protocol") for s in protocol.services]
    lines += [_service_line(ctx, s, f"{ctx.path}.services[{i}]") for i, s in enumerate(session.services)]
    if session.infusion:
        for code, units in infusion_codes(session.infusion.minutes):
            fee = ctx.fee(code)
            lines.append(ClaimLine(
                code=code, modifiers=(), units=units, charge=_charge(None, fee, units),
                pointers=ctx.default_pointers(), description=book.label(code),
                kind=book.kind(code), source=f"{ctx.path}.infusion", fee=fee,
            ))
    medications = [(m, f"{ctx.path}.protocol") for m in (protocol.medications if protocol else [])]
    # The session's own medications (the reason for the visit) come before the protocol's extras.
    medications = [(m, f"{ctx.path}.medications[{i}]") for i, m in enumerate(session.medications)] + medications
    for given, source in medications:
        lines += _drug_lines(ctx, given, source)
    return _with_modifier_25(lines, book)


def _order_key(indexed_session):
    index, session = indexed_session
    start = session.infusion.start if session.infusion else "99:99"
    return (session.date, start, json.dumps(session.model_dump(mode="json"), sort_keys=True))


def build_claims(patient_file, clinic, book: CodeBook) -> list[Claim]:
    """Every session of a validated patient file as a claim, ordered by date of service.

    Claim ids are the patient id and the date, with -2, -3 for further sessions that day (in
    order of infusion start), so they do not depend on the order of sessions in the file.
    """
    claims = []
    per_day: dict[dt.date, int] = {}
    ordered = sorted(enumerate(patient_file.sessions), key=_order_key)
    for index, session in ordered:
        lines = session_lines(session, index, clinic, book)
        nth = per_day[session.date] = per_day.get(session.date, 0) + 1
        claim_id = f"{patient_file.patient.id}-{session.date:%Y%m%d}" + (f"-{nth}" if nth > 1 else "")
        claims.append(Claim(
            claim_id=claim_id,
            patient_id=patient_file.patient.id,
            date_of_service=session.date,
            place_of_service=session.place_of_service or clinic.place_of_service,
            provider=clinic.provider(session.provider),
            diagnoses=tuple(session.diagnoses),
            lines=tuple(lines),
            total_charge=total_of(lines),
            amount_paid=sum((p.amount for p in session.payments), Decimal("0.00")),
            payments=tuple(session.payments),
            adjustments=tuple(session.adjustments),
            amount_adjusted=sum((a.amount for a in session.adjustments), Decimal("0.00")),
            prior_authorization=session.prior_authorization,
            session_index=index,
            infusion_minutes=session.infusion.minutes if session.infusion else None,
            allow_sedation=session.allow_sedation,
            filing_indicator=patient_file.insurance.filing_indicator,
        ))
    return claims
