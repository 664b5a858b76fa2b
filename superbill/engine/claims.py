"""The billing engine: a session becomes the claim lines a payer must see.

Pure functions, no I/O: the superbill, the letter and every export share this one truth.
Rules (docs/reference.md "Billing rules"):

* lines = the protocol's services + the session's services + the infusion's administration codes
  + the drug line(s) of each medication (the session's, then the protocol's);
* infusion time: 15 min or less is a push (96374); 16-90 min is 96365 x1; each further hour
  counts only when more than 30 minutes run past the last counted hour (96366);
* drug lines, units and JW/JZ for waste: `engine.drug_lines`;
* a HCPCS drug or supply code given as a service (J7050 as the carrier bag) carries the NDC the
  service gives, in its `ndc_unit` (default UN), its `ndc_quantity` defaulting to the units;
* an E/M carries modifier 25 when the same patient, provider and date has a drug-administration
  code on any of its claims (a morning infusion, an afternoon visit), unless the line already has
  four modifiers (the scrubber then names the line);
* charge = fee x units unless the line gives `charge`; default pointers are the first four;
* claim ids: the patient id and the date, -2, -3 for further sessions that day in the order of
  their infusion start, else their `time`, sessions with neither last.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from superbill.engine.assignment import medicare_requires_assignment
from superbill.engine.drug_lines import drug_lines
from superbill.engine.lines import (  # noqa: F401  (re-exported: callers import them from here)
    CENT,
    MILLI,
    ClaimLine,
    hcpcs_units,
    line_charge,
    money,
    quantity_text,
    total_of,
)
from superbill.tables.codebook import ADMINISTRATION_KINDS, CodeBook

if TYPE_CHECKING:
    from superbill.inputs.models import Provider

EM_KINDS = {"em"}
MAX_MODIFIERS = 4


# ---------------------------------------------------------------- calculators (docs/reference.md "Billing rules")


def infusion_codes(minutes: int) -> list[tuple[str, int]]:
    """Administration codes and units for one therapeutic infusion of `minutes`."""
    if minutes <= 0:
        return []
    if minutes <= 15:
        return [("96374", 1)]
    extra_hours = 0 if minutes <= 90 else (minutes - 91) // 60 + 1
    return [("96365", 1)] + ([("96366", extra_hours)] if extra_hours else [])


# ---------------------------------------------------------------- the claim


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
    # Medicare assignment (docs/reference.md "Billing rules"): 837P CLM07 A / CLM08 Y, CMS-1500 items 13 and 27.
    assigned: bool = False
    # 1 original, 7 replacement, 8 void (837P CLM05-3, CMS-1500 item 22); a 7 or 8 carries the payer's
    # claim control number (837P REF*F8, item 22's original reference number).
    frequency_code: str = "1"
    payer_claim_number: str | None = None
    # docs/reference.md "Money on a session": what the clinic wrote off (models.Adjustment), and their sum.
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


def _service_line(ctx: _Context, service, source: str) -> ClaimLine:
    units = service.units or 1
    fee = ctx.fee(service.code)
    ndc_unit = (service.ndc_unit or "UN") if service.ndc else None
    quantity = service.ndc_quantity if service.ndc_quantity is not None else (Decimal(units) if service.ndc else None)
    return ClaimLine(
        code=service.code,
        modifiers=tuple(service.modifiers),
        units=units,
        charge=line_charge(service.charge, fee, units),
        pointers=tuple(service.pointers) if service.pointers else ctx.default_pointers(),
        description=service.description or ctx.book.label(service.code),
        kind=ctx.book.kind(service.code),
        source=source,
        fee=fee,
        ndc=service.ndc,
        ndc_quantity=quantity,
        ndc_unit=ndc_unit,
    )


def _medication_lines(ctx: _Context, given, source: str) -> list[ClaimLine]:
    med = ctx.book.medications[given.drug]
    fee = med.fee if med.fee is not None else ctx.fee(med.hcpcs)
    pointers = tuple(given.pointers) if given.pointers else ctx.default_pointers()
    return drug_lines(med, given, source, fee, pointers)


def has_administration(lines) -> bool:
    return any(line.kind in ADMINISTRATION_KINDS for line in lines)


def with_modifier_25(lines, day_has_administration: bool) -> list[ClaimLine]:
    """25 first on each E/M of a day with drug administration (never as a fifth modifier)."""
    if not day_has_administration:
        return list(lines)
    return [
        replace(line, modifiers=("25",) + line.modifiers)
        if line.kind in EM_KINDS and "25" not in line.modifiers and len(line.modifiers) < MAX_MODIFIERS
        else line
        for line in lines
    ]


def session_lines(session, session_index: int, clinic, book: CodeBook, *,
                  day_has_administration: bool | None = None) -> list[ClaimLine]:
    """The claim lines of one validated session, in the order of docs/reference.md "Billing rules".

    `day_has_administration`: whether the patient's day with this provider has a drug
    administration code on any claim (build_claims decides it); by default, this session's own.
    """
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
                code=code, modifiers=(), units=units, charge=line_charge(None, fee, units),
                pointers=ctx.default_pointers(), description=book.label(code),
                kind=book.kind(code), source=f"{ctx.path}.infusion", fee=fee,
            ))
    medications = [(m, f"{ctx.path}.protocol") for m in (protocol.medications if protocol else [])]
    # The session's own medications (the reason for the visit) come before the protocol's extras.
    medications = [(m, f"{ctx.path}.medications[{i}]") for i, m in enumerate(session.medications)] + medications
    for given, source in medications:
        lines += _medication_lines(ctx, given, source)
    if day_has_administration is None:
        day_has_administration = has_administration(lines)
    return with_modifier_25(lines, day_has_administration)


def _order_key(indexed_session):
    """Same-day order: the infusion's start, else the visit's `time`, else after both."""
    index, session = indexed_session
    start = session.infusion.start if session.infusion else (session.time or "99:99")
    return (session.date, start, json.dumps(session.model_dump(mode="json"), sort_keys=True))


def build_claims(patient_file, clinic, book: CodeBook) -> list[Claim]:
    """Every session of a validated patient file as a claim, ordered by date of service.

    Claim ids are the patient id and the date, with -2, -3 for further sessions that day (in
    order of infusion start, else visit time), so they do not depend on the order of sessions in
    the file. Modifier 25 is decided over the patient's day with the provider, across claims.
    """
    claims = []
    per_day: dict[dt.date, int] = {}
    ordered = sorted(enumerate(patient_file.sessions), key=_order_key)
    built = {index: session_lines(session, index, clinic, book, day_has_administration=False)
             for index, session in ordered}
    administration_days = {(session.date, session.provider) for index, session in ordered if has_administration(built[index])}
    for index, session in ordered:
        lines = with_modifier_25(built[index], (session.date, session.provider) in administration_days)
        nth = per_day[session.date] = per_day.get(session.date, 0) + 1
        claim_id = f"{patient_file.patient.id}-{session.date:%Y%m%d}" + (f"-{nth}" if nth > 1 else "")
        provider = clinic.provider(session.provider)
        filing_indicator = patient_file.insurance.filing_indicator
        claims.append(Claim(
            claim_id=claim_id,
            patient_id=patient_file.patient.id,
            date_of_service=session.date,
            place_of_service=session.place_of_service or clinic.place_of_service,
            provider=provider,
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
            filing_indicator=filing_indicator,
            assigned=medicare_requires_assignment(filing_indicator, lines, provider),
        ))
    return claims
