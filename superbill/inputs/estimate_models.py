"""The Good Faith Estimate file (`gfe.yaml`, docs/reference.md "A Good Faith Estimate") as pydantic models.

Its `plan` is the same block as a prior-authorization request's plan: the keys the letter needs
and the estimate does not (schedule, dose, response criteria, ...) are accepted and optional here,
so a request's plan can be pasted in unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from superbill.inputs.fields import POS, Diagnosis, Key, LongText, Strict, TextOf
from superbill.inputs.models import Insurance, MedicationInput, Patient, ServiceInput, Session


class EstimatePlan(Strict):
    sessions: Annotated[int, Field(ge=1, le=100)]
    start: dt.date
    end: dt.date
    infusion_minutes: Annotated[int, Field(ge=1, le=720)]
    medications: list[MedicationInput] = []
    services: list[ServiceInput] = []
    place_of_service: POS | None = None
    schedule: Annotated[str, TextOf(200)] | None = None
    dose: Annotated[str, TextOf(100)] | None = None
    response_criteria: LongText | None = None
    reassessment: LongText | None = None
    monitoring: LongText | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError("the plan ends before it starts")
        return self


class SeparateItem(Strict):
    """An item the provider expects to need scheduling on its own, before or after this care."""

    description: Annotated[str, TextOf(200)]
    timing: Annotated[str, TextOf(200)] | None = None  # "after the series, on response", "before the first infusion"


class EstimateFile(Strict):
    patient: Annotated[str, TextOf(1024)]  # a patient file, relative to this file (its patient block is used)
    provider: Key
    scheduled_on: dt.date | None = None  # when the care was scheduled
    requested_on: dt.date | None = None  # or when the patient asked for an estimate
    issued_on: dt.date | None = None  # the estimate's date; the day it is written when absent
    diagnoses: Annotated[list[Diagnosis], Field(min_length=1, max_length=12)] | None = None
    primary_service: Annotated[str, TextOf(200)] | None = None  # plain words; derived from the plan when absent
    session_dates: Annotated[list[dt.date], Field(min_length=1, max_length=100)] | None = None
    separately_scheduled: list[SeparateItem] = []
    notes: LongText | None = None
    plan: EstimatePlan

    @field_validator("diagnoses")
    @classmethod
    def _distinct(cls, diagnoses):
        return diagnoses if diagnoses is None else Session._distinct_diagnoses(diagnoses)

    @model_validator(mode="after")
    def _one_trigger(self):
        if self.scheduled_on is None and self.requested_on is None:
            raise ValueError("give scheduled_on (when the care was scheduled) or requested_on (when the "
                             "patient asked for an estimate): the due date is counted from it")
        if self.scheduled_on is not None and self.requested_on is not None:
            raise ValueError("give scheduled_on or requested_on, not both")
        return self


class EstimatePatientFile(Strict):
    """A patient file as an estimate reads it: uninsured patients have no insurance block."""

    patient: Patient
    insurance: Insurance | None = None
    sessions: list[Session] = []
