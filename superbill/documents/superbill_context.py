"""The data a superbill template sees: `SuperbillContext`, filled from the claims and the clinic.

Every field here is documented in `templates/README.md` ("The data a superbill template sees"), and
`tests/test_templates.py` fails when the two differ. Each small `*_info` function fills one part;
`superbill_context` puts them together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from superbill.documents.formatting import (
    SEX_LABELS,
    address_lines,
    ndc_qualifier,
    ndc_text,
    person_name,
    phone_text,
    pointer_letter,
    quantity_text,
)
from superbill.documents.images import Images
from superbill.documents.templating import TemplateData
from superbill.engine.claims import Claim

CPT_NOTICE = "CPT® is a registered trademark of the American Medical Association."
ZERO = Decimal("0.00")


@dataclass(slots=True)
class DocumentInfo(TemplateData):
    title: str
    kind: str  # "patient" or "session"
    number: str
    issued: dt.date
    period_start: dt.date
    period_end: dt.date
    multiple_sessions: bool


@dataclass(slots=True)
class PracticeInfo(TemplateData):
    name: str
    address_lines: list[str]
    phone: str | None
    fax: str | None
    email: str | None
    npi: str
    tax_id: str
    taxonomy: str
    logo_url: str | None


@dataclass(slots=True)
class ProviderInfo(TemplateData):
    id: str
    name: str
    first_name: str
    middle_name: str | None
    last_name: str
    credentials: str | None
    display_name: str
    npi: str
    taxonomy: str
    specialty: str | None
    signature_url: str | None


@dataclass(slots=True)
class PatientInfo(TemplateData):
    id: str
    account: str
    name: str
    first_name: str
    middle_name: str | None
    last_name: str
    suffix: str | None
    dob: dt.date
    sex: str
    sex_label: str
    address_lines: list[str]
    phone: str | None


@dataclass(slots=True)
class SubscriberInfo(TemplateData):
    name: str
    first_name: str
    middle_name: str | None
    last_name: str
    dob: dt.date
    sex: str
    sex_label: str
    address_lines: list[str]
    relationship: str


@dataclass(slots=True)
class InsuranceInfo(TemplateData):
    payer_name: str
    payer_id: str
    member_id: str
    group_number: str | None
    group_name: str | None
    filing_indicator: str
    relationship: str
    subscriber: SubscriberInfo | None
    prior_authorizations: list[str]


@dataclass(slots=True)
class DiagnosisInfo(TemplateData):
    letter: str
    code: str
    title: str


@dataclass(slots=True)
class NdcInfo(TemplateData):
    code: str
    formatted: str
    unit: str | None
    quantity: str | None
    n4: str


@dataclass(slots=True)
class LineInfo(TemplateData):
    claim_id: str
    date: dt.date
    place_of_service: str
    provider: ProviderInfo
    code: str
    modifiers: list[str]
    description: str
    pointers: str
    pointer_letters: list[str]
    units: int
    fee: Decimal
    charge: Decimal
    kind: str
    is_drug: bool
    ndc: NdcInfo | None


@dataclass(slots=True)
class PaymentInfo(TemplateData):
    date: dt.date
    amount: Decimal
    method: str | None
    reference: str | None
    claim_id: str
    date_of_service: dt.date


@dataclass(slots=True)
class SessionInfo(TemplateData):
    claim_id: str
    date: dt.date
    place_of_service: str
    provider: ProviderInfo
    prior_authorization: str | None
    diagnosis_letters: list[str]
    infusion_minutes: int | None
    lines: list[LineInfo]
    payments: list[PaymentInfo]
    total: Decimal
    paid: Decimal
    balance: Decimal


@dataclass(slots=True)
class Totals(TemplateData):
    charges: Decimal
    paid: Decimal
    balance: Decimal


@dataclass(slots=True)
class PlaceOfServiceInfo(TemplateData):
    code: str
    name: str


@dataclass(slots=True)
class Notices(TemplateData):
    cpt: str
    descriptions: str
    hcpcs: str
    icd10cm: str
    icd10cm_short: str


@dataclass(slots=True)
class SuperbillContext(TemplateData):
    document: DocumentInfo
    practice: PracticeInfo
    providers: list[ProviderInfo]
    patient: PatientInfo
    insurance: InsuranceInfo
    diagnoses: list[DiagnosisInfo]
    sessions: list[SessionInfo]
    lines: list[LineInfo]
    payments: list[PaymentInfo]
    totals: Totals
    places_of_service: list[PlaceOfServiceInfo]
    notices: Notices


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
    return ProviderInfo(
        id=provider.id, name=person_name(provider), first_name=provider.first_name,
        middle_name=provider.middle_name, last_name=provider.last_name, credentials=provider.credentials,
        display_name=provider.display_name, npi=provider.npi, taxonomy=provider.taxonomy,
        specialty=provider.specialty,
        signature_url=images.url(loaded, provider.signature, f"providers[{index}].signature"))


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
    return SessionInfo(
        claim_id=claim.claim_id, date=claim.date_of_service, place_of_service=claim.place_of_service,
        provider=provider, prior_authorization=claim.prior_authorization, diagnosis_letters=claim_letters,
        infusion_minutes=claim.infusion_minutes,
        lines=[line_info(line, claim, provider, claim_letters) for line in claim.lines],
        payments=payments, total=claim.total_charge, paid=claim.amount_paid, balance=claim.balance)


def places_of_service(claims: list[Claim]) -> list[PlaceOfServiceInfo]:
    from superbill.ids import pos as pos_ids

    used: dict[str, str] = {}
    for claim in claims:
        try:
            used.setdefault(claim.place_of_service, pos_ids.name(claim.place_of_service))
        except Exception:  # an unknown POS never reaches here (the scrubber rejects it)
            used.setdefault(claim.place_of_service, "")
    return [PlaceOfServiceInfo(code=k, name=v) for k, v in sorted(used.items())]


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
        totals=Totals(charges=charges, paid=paid, balance=charges - paid),
        places_of_service=places_of_service(claims),
        notices=notices(),
    )
    return context, images
