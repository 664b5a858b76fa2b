"""The 837P's loops for one billing provider, subscriber, patient and claim (docs/reference.md "Outputs").

* 2010AA: the practice (NM1*85*2), or for a solo practitioner (`practice.npi` is one provider's
  NPI) that person: NM1*85*1 with last, first and middle name; that provider is then not sent again
  as a 2310B rendering provider.
* 2010BA: the subscriber's name and member id; N3/N4/DMG only when the patient is the subscriber
  (TR3: "if not required by this implementation guide, do not send"); a dependent's address and DMG
  go in 2010CA under the 2000C PAT loop.
* 2010BB: the payer, with N3/N4 when `insurance.payer_address` is given.
* 2300: CLM with POS:B:frequency (1 an original, 7 a replacement, 8 a void: every line of the claim,
  as it was sent), provider signature on file (CLM06 Y), assignment CLM07/CLM08 (A/Y when the engine
  decided Medicare assignment, else C/N: the patient of a cash-pay clinic has paid and keeps the
  benefits, docs/reference.md "Outputs"), release of information Y; AMT*F5 when the patient paid (never above
  CLM02: `format_limits`), REF*G1 prior authorization, then REF*F8 the payer's claim control number
  for a 7 or 8 (the 2300 order of the implementation guide), HI without decimal points, 2310B when
  the renderer is not the billing NPI.
* 2400: LX restarting at 1, SV1 (the NOC description in SV101-7), DTP*472, REF*6R the line item
  control number (unique in the interchange, so an 835 SVC can be matched back), 2410 LIN/CTP.
"""

from __future__ import annotations

from decimal import Decimal

from superbill.engine import format_limits
from superbill.engine.claims import quantity_text
from superbill.exports.x12text import (
    X12DataError,
    amount,
    composite,
    date8,
    identifier,
    required_text,
    segment,
    text,
)

PAT01 = {"spouse": "01", "child": "19", "other": "G8"}


def name_elements(person, path: str) -> list[str]:
    """NM103..NM107 for a person: last, first, middle, (prefix), suffix."""
    return [
        required_text(person.last_name, 60, f"{path}.last_name"),
        required_text(person.first_name, 35, f"{path}.first_name"),
        text(getattr(person, "middle_name", None), 25),
        "",
        text(getattr(person, "suffix", None), 10),
    ]


def address_segments(address, path: str) -> list[str]:
    return [
        segment("N3", required_text(address.street, 55, f"{path}.street"), text(address.street2, 55)),
        segment("N4", required_text(address.city, 30, f"{path}.city", 2), address.state, address.zip),
    ]


def billing_provider_name(practice, solo, practice_name: str) -> str:
    """2010AA NM1*85: the practice as an organization, or the solo practitioner as a person."""
    if solo is not None:
        return segment("NM1", "85", "1", *name_elements(solo, f"providers({solo.id})"), "XX", practice.npi)
    return segment("NM1", "85", "2", practice_name, "", "", "", "", "XX", practice.npi)


def subscriber_segments(patient_file) -> list[str]:
    """2010BA (subscriber name; address and DMG only when the patient is the subscriber) and 2010BB."""
    insurance = patient_file.insurance
    member_id = identifier(insurance.member_id, 80, "insurance.member_id", 2)
    payer_id = identifier(insurance.payer_id, 80, "insurance.payer_id", 2)
    if insurance.subscriber is not None:
        out = [segment("NM1", "IL", "1", *name_elements(insurance.subscriber, "insurance.subscriber"),
                       "MI", member_id)]
    else:
        person = patient_file.patient
        out = [segment("NM1", "IL", "1", *name_elements(person, "patient"), "MI", member_id),
               *address_segments(person.address, "patient.address"),
               segment("DMG", "D8", date8(person.dob), person.sex)]
    out.append(segment("NM1", "PR", "2", required_text(insurance.payer_name, 60, "insurance.payer_name"),
                       "", "", "", "", "PI", payer_id))
    if insurance.payer_address is not None:
        out += address_segments(insurance.payer_address, "insurance.payer_address")
    return out


def sbr(patient_file) -> str:
    insurance = patient_file.insurance
    group_number = identifier(insurance.group_number, 50, "insurance.group_number") if insurance.group_number else ""
    # SBR04 (group name) only when there is no group number (IG situational rule).
    group_name = text(insurance.group_name, 60) if not group_number else ""
    relationship = "18" if insurance.subscriber is None else ""
    return segment("SBR", "P", relationship, group_number, group_name, "", "", "", "", insurance.filing_indicator)


def patient_segments(patient_file) -> list[str]:
    """2000C PAT and 2010CA, for a patient who is not the subscriber."""
    patient = patient_file.patient
    return [
        segment("PAT", PAT01[patient_file.insurance.subscriber.relationship]),
        segment("NM1", "QC", "1", *name_elements(patient, "patient")),
        *address_segments(patient.address, "patient.address"),
        segment("DMG", "D8", date8(patient.dob), patient.sex),
    ]


def _unclassified(line, book) -> bool:
    if line.unclassified:
        return True
    drug = getattr(book, "drugs", {}).get(line.code) if book is not None else None
    return bool(drug and drug.unclassified)


def _refuse_over_limits(claim, where: str) -> None:
    """The format limits `check` reports too (engine/format_limits), with the same messages."""
    too_long = [p for p in format_limits.claim_id_problems(claim.patient_id, [claim]) if p.severity == "error"]
    for problem in (*too_long, format_limits.too_many_lines_problem(claim), format_limits.overpaid_problem(claim)):
        if problem is not None:
            raise X12DataError(problem.path, problem.message)
    identifier(claim.claim_id, format_limits.MAX_CLAIM_ID_837P, "patient.id")
    if not claim.lines:
        raise X12DataError(where, "a claim needs at least one service line")
    total = sum((line.charge for line in claim.lines), Decimal("0.00"))
    if total != claim.total_charge:
        raise X12DataError(where, "the claim total is not the sum of its lines")
    if not 1 <= len(claim.diagnoses) <= 12:
        raise X12DataError(f"{where}.diagnoses", "a claim carries 1 to 12 diagnoses")


def claim_header(claim, billing_npi: str | None) -> list[str]:
    """2300 CLM .. HI and the 2310B rendering provider."""
    where = f"sessions[{claim.session_index}]"
    _refuse_over_limits(claim, where)
    if claim.frequency_code not in ("1", "7", "8"):
        raise X12DataError(where, "the claim frequency code must be 1, 7 or 8")
    assignment, benefits = ("A", "Y") if claim.assigned else ("C", "N")
    out = [segment("CLM", claim.claim_id, amount(claim.total_charge), "", "",
                   composite(claim.place_of_service, "B", claim.frequency_code), "Y", assignment, benefits, "Y")]
    if claim.amount_paid > 0:
        out.append(segment("AMT", "F5", amount(claim.amount_paid)))
    if claim.prior_authorization:
        out.append(segment("REF", "G1", identifier(claim.prior_authorization, 50, f"{where}.prior_authorization")))
    if claim.frequency_code != "1":
        # A replacement or void names the claim the payer holds (835 CLP07): without it, it cannot be matched.
        out.append(segment("REF", "F8", identifier(claim.payer_claim_number, 50, "payer claim number")))
    out.append(segment("HI", *(composite("ABK" if i == 0 else "ABF", code.replace(".", ""))
                               for i, code in enumerate(claim.diagnoses))))
    provider = claim.provider
    if provider is not None and provider.npi != billing_npi:
        out.append(segment("NM1", "82", "1", *name_elements(provider, f"providers({provider.id})"), "XX", provider.npi))
        out.append(segment("PRV", "PE", "PXC", provider.taxonomy))
    return out


def line_segments(claim, line, number: int, control: str, book) -> list[str]:
    """One 2400 loop (and its 2410 drug loop)."""
    path = line.source
    if line.charge is None:
        raise X12DataError(path, f"{line.code} has no charge")
    description = ""
    if _unclassified(line, book):
        description = required_text(line.description, 80, f"{path}.description")
    modifiers = list(line.modifiers) + [""] * (4 - len(line.modifiers))
    pointers = [p for p in line.pointers if 1 <= p <= len(claim.diagnoses)]
    if not pointers or len(pointers) != len(line.pointers) or len(pointers) > 4:
        raise X12DataError(path, f"{line.code}: 1 to 4 diagnosis pointers, each to a listed diagnosis")
    out = [
        segment("LX", number),
        segment("SV1", composite("HC", line.code, *modifiers, description), amount(line.charge),
                "UN", line.units, "", "", composite(*pointers)),
        segment("DTP", "472", "D8", date8(claim.date_of_service)),
        segment("REF", "6R", control),
    ]
    if line.ndc:
        quantity = quantity_text(line.ndc_quantity)
        if not (len(line.ndc) == 11 and line.ndc.isdigit()):
            raise X12DataError(path, f"{line.code}: the NDC must be 11 digits (5-4-2)")
        if quantity is None or line.ndc_quantity <= 0 or not line.ndc_unit:
            raise X12DataError(path, f"{line.code}: the NDC quantity and unit are required with an NDC")
        out.append(segment("LIN", "", "N4", line.ndc))
        out.append(segment("CTP", "", "", "", quantity, line.ndc_unit))
    return out


def claim_segments(claim, billing_npi: str | None, book, controls=None) -> list[str]:
    """The 2300 loop with its lines; `controls` are the lines' REF*6R values (placeholders when
    only checking whether the claim can be carried)."""
    controls = list(controls) if controls is not None else [str(n) for n in range(1, len(claim.lines) + 1)]
    out = claim_header(claim, billing_npi)
    for number, (line, control) in enumerate(zip(claim.lines, controls, strict=True), start=1):
        out += line_segments(claim, line, number, control, book)
    return out
