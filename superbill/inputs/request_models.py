"""The prior-authorization request file as pydantic models (docs/reference.md "Input files")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from superbill.inputs.fields import (
    POS,
    Address,
    Diagnosis,
    Key,
    LongText,
    Phone,
    Strict,
    TextOf,
)
from superbill.inputs.models import MedicationInput, ServiceInput, Session

# ---------------------------------------------------------------- prior-authorization request


class PainScore(Strict):
    date: dt.date
    average: Annotated[int, Field(ge=0, le=10)]
    worst: Annotated[int, Field(ge=0, le=10)] | None = None


class Condition(Strict):
    onset: dt.date
    summary: LongText
    diagnostic_basis: LongText | None = None
    pain_scores: Annotated[list[PainScore], Field(min_length=1)]
    function: LongText | None = None


class PriorTreatment(Strict):
    treatment: Annotated[str, TextOf(200)]
    start: dt.date
    end: dt.date | None = None
    outcome: Annotated[str, TextOf(200)]
    reason_stopped: Annotated[str, TextOf(200)]

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.start:
            raise ValueError("the treatment ends before it starts")
        return self


SCREENING_KEYS = (
    "uncontrolled_hypertension",
    "psychosis_history",
    "pregnancy",
    "severe_hepatic_disease",
    "active_substance_use_disorder",
    "elevated_intracranial_or_intraocular_pressure",
)


class Screening(Strict):
    uncontrolled_hypertension: bool
    psychosis_history: bool
    pregnancy: bool
    severe_hepatic_disease: bool
    active_substance_use_disorder: bool
    elevated_intracranial_or_intraocular_pressure: bool

    def positives(self) -> list[str]:
        return [key for key in SCREENING_KEYS if getattr(self, key)]


class Plan(Strict):
    sessions: Annotated[int, Field(ge=1, le=100)]
    start: dt.date
    end: dt.date
    schedule: Annotated[str, TextOf(200)]
    dose: Annotated[str, TextOf(100)]
    infusion_minutes: Annotated[int, Field(ge=1, le=720)]
    medications: list[MedicationInput] = []
    services: list[ServiceInput] = []
    response_criteria: LongText
    reassessment: LongText | None = None
    monitoring: LongText | None = None
    place_of_service: POS | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("the plan ends before it starts")
        return self


class PayerContact(Strict):
    department: Annotated[str, TextOf(80)] | None = None
    address: Address | None = None
    fax: Phone | None = None
    phone: Phone | None = None
    policy: Annotated[str, TextOf(120)] | None = None  # the payer's medical policy cited


class Request(Strict):
    patient: Annotated[str, TextOf(1024)]
    provider: Key
    urgency: Literal["standard", "expedited"] = "standard"
    expedited_reason: LongText | None = None
    date: dt.date | None = None  # the letter's date; today when absent
    payer: PayerContact | None = None
    diagnoses: Annotated[list[Diagnosis], Field(min_length=1, max_length=12)]
    condition: Condition
    prior_treatments: list[PriorTreatment]
    screening: Screening
    screening_rationale: LongText | None = None
    plan: Plan

    @field_validator("diagnoses")
    @classmethod
    def _distinct(cls, diagnoses):
        return Session._distinct_diagnoses(diagnoses)

    @field_validator("prior_treatments")
    @classmethod
    def _at_least_one(cls, treatments):
        if not treatments:
            raise ValueError("list at least one prior treatment: plans deny requests without documented failed therapy")
        return treatments
