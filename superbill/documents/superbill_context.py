"""`superbill_context`: the data a superbill template sees, filled from the claims and the clinic.

The types are in `superbill.documents.superbill_data` (documented field by field in
`templates/README.md`). Each small `*_info` function fills one part; `superbill_context` puts
them together.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from superbill.documents.formatting import (
    SEX_LABELS,
    address_lines,
    ndc_qualifier,
    ndc_text,
    number_text,
    person_name,
    phone_text,
    pointer_letter,
    quantity_text,
)
from superbill.documents.images import Images
from superbill.documents.superbill_data import (
    AdjustmentInfo,
    DiagnosisInfo,
    DocumentInfo,
    InsuranceInfo,
    LineInfo,
    ModifierInfo,
    NdcInfo,
    Notices,
    PatientInfo,
    PaymentInfo,
    PlaceOfServiceInfo,
    PracticeInfo,
    ProviderInfo,
    SessionInfo,
    SubscriberInfo,
    SuperbillContext,
    Totals,
)
from superbill.engine.claims import Claim

CPT_NOTICE = "CPT® is a registered trademark of the American Medical Association."
ZERO = Decimal("0.00")


# ---------------------------------------------------------------- the parts


def document_info(patient_id: str, claims: list[Claim], issued: dt.date, kind: str) -> DocumentInfo:
    start = min(c.date_of_service for c in claims)
    end = max(c.date_of_service for c in claims)
    if kind == "session":
        number = claims[0].claim_id
    elif start == end:
        number = f"{patient_id}-{start:%Y%m%d}"
    else:
        number = f"{patient_id}-{start:%Y%m%d}-{end:%Y%m%d}"
    return DocumentInfo(title=f"Superbill {number}", kind=kind, number=number, issued=issued,
                        period_start=start, period_end=end, multiple_sessions=len(claims) > 1)


def practice_info(practice, images: Images, loaded) -> PracticeInfo:
    from superbill.ids import ein

    return PracticeInfo(
        name=practice.name, address_lines=address_lines(practice.address), phone=phone_text(practice.phone),
        fax=phone_text(practice.fax), email=practice.email, npi=practice.npi, tax_id=ein.format(practice.tax_id),
        taxonomy=practice.taxonomy, logo_url=images.url(loaded, practice.logo, "practice.logo"))


def provider_info(provider, images: Images, loaded) -> ProviderInfo:
    index = next(i for i, p in enumerate(loaded.clinic.providers) if p.id == provider.id)
    signature = provider.signature if loaded.clinic.signature_style == "image" else None
    return ProviderInfo(
        id=provider.id, name=person_name(provider), first_name=provider.first_name,
        middle_name=provider.middle_name, last_name=provider.last_name, credentials=provider.credentials,
        display_name=provider.display_name, npi=provider.npi, taxonomy=provider.taxonomy,
        specialty=provider.specialty,
        signature_url=images.url(loaded, signature, f"providers[{index}].signature"))


def patient_info(patient) -> PatientInfo:
    return PatientInfo(
        id=patient.id, account=patient.id, name=person_name(patient), first_name=patient.first_name,
        middle_name=patient.middle_name, last_name=patient.last_name, suffix=patient.suffix, dob=patient.dob,
        sex=patient.sex, sex_label=SEX_LABELS[patient.sex], address_lines=address_lines(patient.address),
        phone=phone_text(patient.phone))


def insurance_info(insurance, claims: list[Claim]) -> InsuranceInfo:
    subscriber = None
    if insurance.subscriber is not None:
        s = insurance.subscriber
        subscriber = SubscriberInfo(
            name=person_name(s), first_name=s.first_name, middle_name=s.middle_name, last_name=s.last_name,
            dob=s.dob, sex=s.sex, sex_label=SEX_LABELS[s.sex], address_lines=address_lines(s.address),
            relationship=s.relationship.capitalize())
    return InsuranceInfo(
        payer_name=insurance.payer_name, payer_id=insurance.payer_id, member_id=insurance.member_id,
        group_number=insurance.group_number, group_name=insurance.group_name,
        filing_indicator=insurance.filing_indicator,
        relationship=subscriber.relationship if subscriber else "Self", subscriber=subscriber,
        prior_authorizations=sorted({c.prior_authorization for c in claims if c.prior_authorization}))


def diagnosis_positions(claims: list[Claim]) -> dict[str, int]:
    """One diagnosis list for the document, in order of first use; lines point into it by letter."""
    positions: dict[str, int] = {}
    for claim in claims:
        for code in claim.diagnoses:
            positions.setdefault(code, len(positions))
    return positions


def diagnosis_list(positions: dict[str, int]) -> list[DiagnosisInfo]:
    from superbill.tables import icd10cm_index

    out = []
    for code, i in positions.items():
        entry = icd10cm_index.lookup(code)
        out.append(DiagnosisInfo(letter=pointer_letter(i), code=icd10cm_index.dotted(code),
                                 title=entry.title if entry else ""))
    return out


def ndc_info(line) -> NdcInfo | None:
    if not line.ndc:
        return None
    quantity = quantity_text(line.ndc_quantity)
    return NdcInfo(code=line.ndc, formatted=ndc_text(line.ndc) or "", unit=line.ndc_unit, quantity=quantity,
                   n4=ndc_qualifier(line.ndc, line.ndc_unit, quantity))


def line_info(line, claim: Claim, provider: ProviderInfo, claim_letters: list[str]) -> LineInfo:
    pointer_letters = [claim_letters[p - 1] for p in line.pointers if 1 <= p <= len(claim_letters)]
    return LineInfo(
        claim_id=claim.claim_id, date=claim.date_of_service, place_of_service=claim.place_of_service,
        provider=provider, code=line.code, modifiers=list(line.modifiers), description=line.description,
        pointers="".join(pointer_letters), pointer_letters=pointer_letters, units=line.units, fee=line.fee,
        charge=line.charge, kind=line.kind, is_drug=line.kind == "drug", ndc=ndc_info(line))


def session_info(claim: Claim, provider: ProviderInfo, positions: dict[str, int]) -> SessionInfo:
    claim_letters = [pointer_letter(positions[c]) for c in claim.diagnoses]
    payments = [PaymentInfo(date=p.date, amount=p.amount, method=p.method, reference=p.reference,
                            claim_id=claim.claim_id, date_of_service=claim.date_of_service)
                for p in claim.payments]
    adjustments = [AdjustmentInfo(amount=a.amount, reason=a.reason, claim_id=claim.claim_id,
                                  date_of_service=claim.date_of_service) for a in claim.adjustments]
    return SessionInfo(
        claim_id=claim.claim_id, date=claim.date_of_service, place_of_service=claim.place_of_service,
        provider=provider, prior_authorization=claim.prior_authorization, diagnosis_letters=claim_letters,
        infusion_minutes=claim.infusion_minutes,
        lines=[line_info(line, claim, provider, claim_letters) for line in claim.lines],
        payments=payments, adjustments=adjustments, total=claim.total_charge, paid=claim.amount_paid,
        adjusted=claim.amount_adjusted, balance=claim.balance)


def places_of_service(claims: list[Claim]) -> list[PlaceOfServiceInfo]:
    from superbill.ids import pos as pos_ids

    used: dict[str, str] = {}
    for claim in claims:
        try:
            used.setdefault(claim.place_of_service, pos_ids.name(claim.place_of_service))
        except Exception:  # an unknown POS never reaches here (the scrubber rejects it)
            used.setdefault(claim.place_of_service, "")
    return [PlaceOfServiceInfo(code=k, name=v) for k, v in sorted(used.items())]


def modifiers_used(claims: list[Claim]) -> list[ModifierInfo]:
    """The modifiers on these lines with our labels (codes/modifiers.yaml), in order of first use:
    the legend that tells a patient what 25 or JZ means."""
    from superbill.ids import modifier

    seen: dict[str, str] = {}
    for claim in claims:
        for line in claim.lines:
            for code in line.modifiers:
                if code not in seen:
                    seen[code] = modifier.label(code) or "see your plan's claim instructions"
    return [ModifierInfo(code=code, label=label) for code, label in seen.items()]


def unit_notes(claims: list[Claim], loaded) -> list[str]:
    """What one unit of each drug code is ("J2405: 1 unit = 1 mg"), for the units legend."""
    notes: dict[str, str] = {}
    for claim in claims:
        for line in claim.lines:
            row = loaded.book.medications.get(line.drug) if line.drug else None
            if row is None or line.code in notes:
                continue
            if row.unit_mg:
                notes[line.code] = f"{line.code}: 1 unit = {number_text(row.unit_mg)} mg"
            elif row.unit_ml:
                notes[line.code] = f"{line.code}: 1 unit = {number_text(row.unit_ml)} mL"
            elif row.unclassified:
                notes[line.code] = f"{line.code}: 1 unit, the amount on its NDC line"
    return list(notes.values())


def notices() -> Notices:
    from superbill.tables import icd10cm_index

    return Notices(
        cpt=CPT_NOTICE,
        descriptions="Service descriptions are plain-language labels, not AMA CPT descriptors.",
        hcpcs="HCPCS Level II codes: CMS.",
        icd10cm=(f"ICD-10-CM codes and titles: CDC National Center for Health Statistics (NCHS), "
                 f"{icd10cm_index.EDITION}; public domain."),
        icd10cm_short="ICD-10-CM: CDC/NCHS, public domain.")


# ---------------------------------------------------------------- the whole


def _provider_id(claim: Claim) -> str:
    return claim.provider.id


def superbill_context(patient_file, claims: list[Claim], loaded, *, issued: dt.date | None = None,
                      kind: str = "patient") -> tuple[SuperbillContext, Images]:
    """(context, the images it uses and their warnings) for one superbill of `claims`."""
    if not claims:
        raise ValueError("a superbill needs at least one claim")
    images = Images("superbill")
    practice = practice_info(loaded.clinic.practice, images, loaded)
    providers: dict[str, ProviderInfo] = {}
    for claim in claims:
        provider_id = _provider_id(claim)
        if provider_id not in providers:
            providers[provider_id] = provider_info(claim.provider, images, loaded)
    positions = diagnosis_positions(claims)
    sessions = [session_info(claim, providers[_provider_id(claim)], positions) for claim in claims]
    payments = sorted((p for s in sessions for p in s.payments), key=lambda p: (p.date, p.date_of_service))
    charges = sum((c.total_charge for c in claims), ZERO)
    paid = sum((c.amount_paid for c in claims), ZERO)
    adjusted = sum((c.amount_adjusted for c in claims), ZERO)
    context = SuperbillContext(
        document=document_info(patient_file.patient.id, claims, issued or dt.date.today(), kind),
        practice=practice,
        providers=list(providers.values()),
        patient=patient_info(patient_file.patient),
        insurance=insurance_info(patient_file.insurance, claims),
        diagnoses=diagnosis_list(positions),
        sessions=sessions,
        lines=[line for s in sessions for line in s.lines],
        payments=payments,
        adjustments=[a for s in sessions for a in s.adjustments],
        totals=Totals(charges=charges, paid=paid, adjusted=adjusted, balance=charges - paid - adjusted),
        places_of_service=places_of_service(claims),
        modifiers=modifiers_used(claims),
        unit_notes=unit_notes(claims, loaded),
        signature_style=loaded.clinic.signature_style,
        notices=notices(),
    )
    return context, images
