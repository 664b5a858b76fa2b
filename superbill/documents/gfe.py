"""The Good Faith Estimate document (docs/reference.md "Outputs", 45 CFR 149.610(c)).

`prepare_estimate` validates a GFE file (or a request file) and computes the estimate with the
billing engine (`superbill.engine.estimate`); `gfe_context` turns it into the template's typed
context (`GfeContext`, documented in templates/README.md); `render_gfe` prints it with
`templates/gfe.html` through the shared templating and PDF layers. The sections follow the order of
CMS's model form (CMS-10791): patient, primary service and diagnoses, summary of expected charges,
the provider's details and itemized charges, items scheduled separately, the disclaimer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from superbill.documents.images import Images
from superbill.documents.templating import TemplateData
from superbill.engine.estimate import Estimate, PlannedCare
from superbill.problems import ERROR, InputRejected, Problem

# CMS's contacts for the patient-provider dispute resolution process (the model notice and form).
CMS_WEBSITE = "www.cms.gov/nosurprises/consumers"
CMS_PHONE = "1-800-985-3059"
CMS_EMAIL = "FederalPPDRQuestions@cms.hhs.gov"


@dataclass
class PreparedEstimate:
    estimate: Estimate
    care: PlannedCare
    patient_file: Any  # models.PatientFile
    model: Any  # EstimateFile or Request
    file: str
    warnings: list[Problem] = field(default_factory=list)
    separately_scheduled: list = field(default_factory=list)
    notes: str | None = None
    images: Images = field(default_factory=lambda: Images("Good Faith Estimate"))


def prepare_estimate(path: str | Path, loaded, *, today: dt.date | None = None,
                     scheduled_on: dt.date | None = None, requested_on: dt.date | None = None) -> PreparedEstimate:
    """Validate the file and compute the estimate, or raise InputRejected (one problem a line)."""
    from superbill.engine.estimate import build_estimate, estimate_problems, planned_care
    from superbill.inputs.load import load_estimate

    file = str(path)
    model, patient_file = load_estimate(Path(path), loaded)
    care = planned_care(model, scheduled_on=scheduled_on, requested_on=requested_on, file=file)
    issued_on = getattr(model, "issued_on", None) or today or dt.date.today()
    problems = estimate_problems(care, patient_file, loaded, file, issued_on)
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        raise InputRejected(errors)
    estimate = build_estimate(care, patient_file, loaded, issued_on, getattr(model, "primary_service", None))
    return PreparedEstimate(estimate, care, patient_file, model, file,
                            [p for p in problems if p.severity != ERROR],
                            list(getattr(model, "separately_scheduled", []) or []), getattr(model, "notes", None))


# ---------------------------------------------------------------- the template's context


@dataclass(frozen=True, slots=True)
class GfePatient(TemplateData):
    name: str
    first_name: str
    middle_name: str | None
    last_name: str
    dob: dt.date
    account: str
    address_lines: list[str]
    phone: str | None


@dataclass(frozen=True, slots=True)
class GfeProvider(TemplateData):
    """The provider the estimate is for: the billing practice, its rendering provider and location."""

    name: str  # the practice (the billing provider, whose charges the estimate lists)
    npi: str
    tin: str
    taxonomy: str
    address_lines: list[str]  # where the items and services are expected to be furnished
    state: str
    phone: str | None
    email: str | None
    logo_url: str | None
    clinician: str  # the rendering provider, "Avery Lee, MD"
    clinician_npi: str
    place_of_service: str  # "11 Office"


@dataclass(frozen=True, slots=True)
class GfeLine(TemplateData):
    code: str
    modifiers: list[str]
    description: str
    code_type: str  # "CPT" or "HCPCS"
    diagnosis_codes: list[str]
    units: int  # per session
    fee: Decimal | None
    charge: Decimal  # per session
    course_units: int
    course_charge: Decimal
    ndc: str | None  # 00409-2051-05 and the quantity per session, for drug lines


@dataclass(frozen=True, slots=True)
class GfeDiagnosis(TemplateData):
    code: str
    title: str


@dataclass(frozen=True, slots=True)
class GfeSeparateItem(TemplateData):
    description: str
    timing: str | None


@dataclass(frozen=True, slots=True)
class GfeContext(TemplateData):
    number: str
    issued_on: dt.date
    due_on: dt.date | None
    due_basis: str
    late: bool
    scheduled_on: dt.date | None
    requested_on: dt.date | None
    patient: GfePatient
    primary_service: str
    sessions: int
    start: dt.date
    end: dt.date
    session_dates: list[dt.date]  # empty when only the period is known
    infusion_minutes: int
    diagnoses: list[GfeDiagnosis]  # empty: to be determined at evaluation
    provider: GfeProvider
    lines: list[GfeLine]
    per_session: Decimal
    course_total: Decimal
    separately_scheduled: list[GfeSeparateItem]
    notes: str | None
    dispute_threshold: Decimal
    cms: dict[str, str]
    icd_edition: str


def _title(entry) -> str:
    return entry.title if entry is not None else ""


def _code_type(code: str) -> str:
    return "CPT" if code[:1].isdigit() else "HCPCS"


def gfe_context(prepared: PreparedEstimate, loaded, number: str) -> GfeContext:
    """The template's context; the practice logo goes through the one image check (a warning when unusable)."""
    from superbill.documents.formatting import address_lines, person_name, phone_text
    from superbill.engine.estimate import DISPUTE_THRESHOLD
    from superbill.ids import ein, ndc, pos
    from superbill.tables.icd10cm_index import EDITION, lookup

    estimate = prepared.estimate
    clinic = loaded.clinic
    practice = clinic.practice
    clinician = clinic.provider(prepared.care.provider)
    person = prepared.patient_file.patient
    claim = estimate.claim
    codes = list(estimate.diagnoses)
    lines = []
    for line in estimate.lines:
        drug = None
        if line.ndc:
            quantity = f" {line.ndc_quantity.normalize():f} {line.ndc_unit}" if line.ndc_quantity is not None else ""
            drug = f"{ndc.format(line.ndc)}{quantity}"
        lines.append(GfeLine(
            code=line.code, modifiers=list(line.modifiers), description=line.description,
            code_type=_code_type(line.code),
            diagnosis_codes=[codes[p - 1] for p in line.pointers if p <= len(codes)],
            units=line.units, fee=line.fee, charge=line.charge, course_units=line.units * estimate.sessions,
            course_charge=line.charge * estimate.sessions, ndc=drug,
        ))
    return GfeContext(
        number=number, issued_on=estimate.issued_on, due_on=estimate.deadline.due,
        due_basis=estimate.deadline.basis, late=estimate.late,
        scheduled_on=prepared.care.scheduled_on, requested_on=prepared.care.requested_on,
        patient=GfePatient(name=person_name(person), first_name=person.first_name, middle_name=person.middle_name,
                           last_name=person.last_name, dob=person.dob, account=person.id,
                           address_lines=address_lines(person.address), phone=phone_text(person.phone)),
        primary_service=estimate.primary_service, sessions=estimate.sessions, start=estimate.start,
        end=estimate.end, session_dates=list(estimate.session_dates),
        infusion_minutes=prepared.care.plan.infusion_minutes,
        diagnoses=[GfeDiagnosis(code, _title(lookup(code))) for code in codes],
        provider=GfeProvider(
            name=practice.name, npi=practice.npi, tin=ein.format(practice.tax_id), taxonomy=practice.taxonomy,
            address_lines=address_lines(practice.address), state=practice.address.state,
            phone=phone_text(practice.phone), email=practice.email,
            logo_url=prepared.images.url(loaded, practice.logo, "practice.logo"),
            clinician=clinician.display_name, clinician_npi=clinician.npi,
            place_of_service=f"{claim.place_of_service} {pos.name(claim.place_of_service)}",
        ),
        lines=lines, per_session=estimate.per_session, course_total=estimate.course_total,
        separately_scheduled=[GfeSeparateItem(i.description, i.timing) for i in prepared.separately_scheduled],
        notes=prepared.notes, dispute_threshold=DISPUTE_THRESHOLD,
        cms={"website": CMS_WEBSITE, "phone": CMS_PHONE, "email": CMS_EMAIL}, icd_edition=EDITION,
    )


# ---------------------------------------------------------------- rendering


def render_gfe(context: GfeContext, user_dir: str | Path | None = None, files=(), *, as_html: bool = False):
    """The HTML (as_html) or the PDF bytes; a template error raises InputRejected naming file and line."""
    from superbill.documents.pdf import document_pdf
    from superbill.documents.templating import TemplateProblem, render

    try:
        html = render("gfe.html", context, user_dir)
    except TemplateProblem as exc:
        raise InputRejected([exc.problem]) from None
    return html if as_html else document_pdf(html, user_dir, files)
