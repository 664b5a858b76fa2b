"""The data a superbill template sees, as types: `SuperbillContext` and its parts.

Every field is documented in `templates/README.md` ("The data a superbill template sees");
`tests/test_templates.py` fails when the two differ. `superbill.documents.superbill_context`
fills them from the claims and the clinic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from superbill.documents.templating import TemplateData


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
class AdjustmentInfo(TemplateData):
    amount: Decimal
    reason: str
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
    adjustments: list[AdjustmentInfo]
    total: Decimal
    paid: Decimal
    adjusted: Decimal
    balance: Decimal


@dataclass(slots=True)
class Totals(TemplateData):
    charges: Decimal
    paid: Decimal
    adjusted: Decimal
    balance: Decimal


@dataclass(slots=True)
class PlaceOfServiceInfo(TemplateData):
    code: str
    name: str


@dataclass(slots=True)
class ModifierInfo(TemplateData):
    code: str
    label: str


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
    adjustments: list[AdjustmentInfo]
    totals: Totals
    places_of_service: list[PlaceOfServiceInfo]
    modifiers: list[ModifierInfo]
    unit_notes: list[str]
    signature_style: str
    notices: Notices
