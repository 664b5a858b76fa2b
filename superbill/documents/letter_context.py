"""The data a letter template sees: `LetterContext`, filled from a checked request and its plan.

Every field here is documented in `templates/README.md` ("The data a letter template sees"), and
`tests/test_templates.py` fails when the two differ. The codes and units per session come from the
billing engine (`letter_plan.plan_claim`), the charges from the fee schedule, the evidence from
`codes/citations.yaml` by diagnosis (`superbill.documents.evidence`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from superbill.documents.evidence import Evidence, evidence_for
from superbill.documents.formatting import (
    address_lines,
    duration_text,
    long_date,
    minutes_text,
    ndc_text,
    number_text,
    person_name,
    phone_text,
)
from superbill.documents.images import Images
from superbill.documents.templating import TemplateData

UM_DEPARTMENT = "Utilization Management Department"

SCREENING_LABELS = {
    "uncontrolled_hypertension": "Uncontrolled hypertension or poorly controlled cardiovascular disease",
    "psychosis_history": "History of psychosis",
    "pregnancy": "Pregnancy",
    "severe_hepatic_disease": "Severe hepatic disease",
    "active_substance_use_disorder": "Active substance use disorder",
    "elevated_intracranial_or_intraocular_pressure": "Elevated intracranial or intraocular pressure",
}

DEFAULT_MONITORING = (
    "Each infusion is given in a monitored setting with continuous pulse oximetry (SpO2) and ECG "
    "monitoring and blood pressure measured at regular intervals, with a practitioner certified in "
    "advanced cardiac life support (ACLS) immediately available from the start of the infusion "
    "until discharge. Rescue medications (for psychotomimetic effects, blood pressure elevation and "
    "nausea) and airway equipment are at hand. The patient is discharged only when discharge "
    "criteria are met, to a responsible adult."
)


@dataclass(slots=True)
class LetterPractice(TemplateData):
    name: str
    address: list[str]
    phone: str | None
    fax: str | None
    email: str | None
    npi: str
    tin: str
    taxonomy: str
    logo: str | None


@dataclass(slots=True)
class LetterProvider(TemplateData):
    name: str
    display_name: str
    credentials: str | None
    npi: str
    taxonomy: str
    specialty: str | None
    signature: str | None


@dataclass(slots=True)
class LetterPayer(TemplateData):
    name: str
    payer_id: str
    department: str
    address: list[str]
    fax: str | None
    phone: str | None
    policy: str | None


@dataclass(slots=True)
class LetterSubscriber(TemplateData):
    name: str
    relationship: str
    dob: dt.date


@dataclass(slots=True)
class LetterPatient(TemplateData):
    name: str
    dob: dt.date
    account: str
    member_id: str
    group_number: str | None
    group_name: str | None
    subscriber: LetterSubscriber | None


@dataclass(slots=True)
class LetterPlaceOfService(TemplateData):
    code: str
    name: str


@dataclass(slots=True)
class LetterDiagnosis(TemplateData):
    code: str
    title: str


@dataclass(slots=True)
class PainScoreInfo(TemplateData):
    date: dt.date
    average: int
    worst: int | None


@dataclass(slots=True)
class ConditionInfo(TemplateData):
    onset: dt.date
    duration: str
    summary: str
    diagnostic_basis: str | None
    function: str | None
    pain_scores: list[PainScoreInfo]


@dataclass(slots=True)
class TreatmentInfo(TemplateData):
    treatment: str
    start: dt.date
    end: dt.date | None
    outcome: str
    reason_stopped: str


@dataclass(slots=True)
class ScreeningItem(TemplateData):
    key: str
    label: str
    present: bool
    answer: str


@dataclass(slots=True)
class MedicationInfo(TemplateData):
    name: str
    strength: str | None
    dose: str
    route: str
    hcpcs: str
    ndc: str | None


@dataclass(slots=True)
class PlanInfo(TemplateData):
    sessions: int
    start: dt.date
    end: dt.date
    schedule: str
    dose: str
    infusion_minutes: int
    infusion_length: str
    medications: list[MedicationInfo]
    response_criteria: str
    reassessment: str
    monitoring: str
    monitoring_is_default: bool


@dataclass(slots=True)
class LetterLine(TemplateData):
    code: str
    modifiers: str
    description: str
    units: int
    course_units: int
    fee: Decimal
    charge: Decimal
    course_charge: Decimal
    ndc: str | None
    ndc_quantity: str | None
    kind: str


@dataclass(slots=True)
class LetterContext(TemplateData):
    letter_date: dt.date
    practice: LetterPractice
    provider: LetterProvider
    payer: LetterPayer
    urgency: str
    expedited: bool
    expedited_reason: str | None
    patient: LetterPatient
    place_of_service: LetterPlaceOfService
    diagnoses: list[LetterDiagnosis]
    icd_edition: str
    condition: ConditionInfo
    prior_treatments: list[TreatmentInfo]
    screening: list[ScreeningItem]
    screening_all_negative: bool
    screening_rationale: str | None
    plan: PlanInfo
    lines: list[LetterLine]
    per_session: Decimal
    per_course: Decimal
    evidence: Evidence
    signature_style: str


# ---------------------------------------------------------------- the parts


def practice_part(practice, images: Images, loaded) -> LetterPractice:
    from superbill.ids import ein

    return LetterPractice(
        name=practice.name, address=address_lines(practice.address), phone=phone_text(practice.phone),
        fax=phone_text(practice.fax), email=practice.email, npi=practice.npi, tin=ein.format(practice.tax_id),
        taxonomy=practice.taxonomy, logo=images.url(loaded, practice.logo, "practice.logo"))


def provider_part(provider, images: Images, loaded) -> LetterProvider:
    where = f"providers[{loaded.clinic.providers.index(provider)}].signature"
    signature = provider.signature if loaded.clinic.signature_style == "image" else None
    return LetterProvider(
        name=person_name(provider), display_name=provider.display_name, credentials=provider.credentials,
        npi=provider.npi, taxonomy=provider.taxonomy, specialty=provider.specialty,
        signature=images.url(loaded, signature, where))


def payer_part(insurance, payer) -> LetterPayer:
    return LetterPayer(
        name=insurance.payer_name, payer_id=insurance.payer_id,
        department=payer.department if payer and payer.department else UM_DEPARTMENT,
        address=address_lines(payer.address) if payer else [],
        fax=phone_text(payer.fax) if payer else None, phone=phone_text(payer.phone) if payer else None,
        policy=payer.policy if payer else None)


def patient_part(patient, insurance) -> LetterPatient:
    subscriber = None
    if insurance.subscriber is not None:
        sub = insurance.subscriber
        subscriber = LetterSubscriber(name=person_name(sub), relationship=sub.relationship, dob=sub.dob)
    return LetterPatient(name=person_name(patient), dob=patient.dob, account=patient.id,
                         member_id=insurance.member_id, group_number=insurance.group_number,
                         group_name=insurance.group_name, subscriber=subscriber)


def line_part(line, sessions: int) -> LetterLine:
    quantity = f"{number_text(line.ndc_quantity)} {line.ndc_unit}" if line.ndc_quantity is not None else None
    return LetterLine(
        code=line.code, modifiers=" ".join(line.modifiers), description=line.description, units=line.units,
        course_units=line.units * sessions, fee=line.fee, charge=line.charge, course_charge=line.charge * sessions,
        ndc=ndc_text(line.ndc), ndc_quantity=quantity, kind=line.kind)


def medication_part(given, book) -> MedicationInfo:
    row = book.medications[given.drug]
    strength = f"{number_text(row.mg_per_ml)} mg/mL" if row.mg_per_ml else None
    dose = f"{number_text(given.dose_mg)} mg" if given.dose_mg is not None else f"{number_text(given.volume_ml)} mL"
    return MedicationInfo(name=row.name, strength=strength, dose=dose, route=given.route or "IV",
                          hcpcs=row.hcpcs, ndc=ndc_text(given.ndc or row.ndc))


def condition_part(condition, letter_date: dt.date) -> ConditionInfo:
    scores = sorted(condition.pain_scores, key=lambda s: s.date)
    return ConditionInfo(
        onset=condition.onset, duration=duration_text(condition.onset, letter_date), summary=condition.summary,
        diagnostic_basis=condition.diagnostic_basis, function=condition.function,
        pain_scores=[PainScoreInfo(date=s.date, average=s.average, worst=s.worst) for s in scores])


def plan_part(plan, book) -> PlanInfo:
    reassessment = plan.reassessment or (
        f"The response is assessed against these criteria at the end of the initial series "
        f"(after the last infusion, on or about {long_date(plan.end)}). If the criteria are not "
        f"met, infusions stop; any further (booster) infusions will be requested separately and "
        f"only on documented response."
    )
    return PlanInfo(
        sessions=plan.sessions, start=plan.start, end=plan.end, schedule=plan.schedule, dose=plan.dose,
        infusion_minutes=plan.infusion_minutes, infusion_length=minutes_text(plan.infusion_minutes),
        medications=[medication_part(given, book) for given in plan.medications],
        response_criteria=plan.response_criteria, reassessment=reassessment,
        monitoring=plan.monitoring or DEFAULT_MONITORING, monitoring_is_default=plan.monitoring is None)


def screening_part(screening) -> list[ScreeningItem]:
    return [ScreeningItem(key=key, label=label, present=getattr(screening, key),
                          answer="Yes" if getattr(screening, key) else "No")
            for key, label in SCREENING_LABELS.items()]


# ---------------------------------------------------------------- the whole


def letter_context(request, patient_file, loaded, claim, letter_date: dt.date, images: Images) -> LetterContext:
    """The letter's data for a request already checked (`letter.prepare_letter`); `claim` is its planned session."""
    from superbill.ids import pos
    from superbill.tables.icd10cm_index import EDITION, lookup

    clinic = loaded.clinic
    insurance = patient_file.insurance
    sessions = request.plan.sessions
    practice = practice_part(clinic.practice, images, loaded)  # the logo's warning before the signature's
    provider = provider_part(clinic.provider(request.provider), images, loaded)
    return LetterContext(
        letter_date=letter_date,
        practice=practice,
        provider=provider,
        payer=payer_part(insurance, request.payer),
        urgency=request.urgency,
        expedited=request.urgency == "expedited",
        expedited_reason=request.expedited_reason,
        patient=patient_part(patient_file.patient, insurance),
        place_of_service=LetterPlaceOfService(code=claim.place_of_service, name=pos.name(claim.place_of_service)),
        diagnoses=[LetterDiagnosis(code=code, title=(entry.title if (entry := lookup(code)) else ""))
                   for code in request.diagnoses],
        icd_edition=EDITION,
        condition=condition_part(request.condition, letter_date),
        prior_treatments=[TreatmentInfo(treatment=t.treatment, start=t.start, end=t.end, outcome=t.outcome,
                                        reason_stopped=t.reason_stopped) for t in request.prior_treatments],
        screening=screening_part(request.screening),
        screening_all_negative=not request.screening.positives(),
        screening_rationale=request.screening_rationale,
        plan=plan_part(request.plan, loaded.book),
        lines=[line_part(line, sessions) for line in claim.lines],
        per_session=claim.total_charge,
        per_course=claim.total_charge * sessions,
        evidence=evidence_for(request.diagnoses),
        signature_style=clinic.signature_style,
    )
