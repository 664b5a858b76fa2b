"""Load and validate input files: the first stage of the pipeline.

`load_clinic`, `load_patient` and `load_request` return models or raise `InputRejected` with every
problem of the file, each naming the file, the path inside it and what is wrong. The engine takes a
patient file one stage further (`engine.process.process_patient`: claims and the scrubber).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from superbill.inputs.clinic_profile import LoadedClinic, find_clinic, load_clinic, locate_clinic  # noqa: F401 (the API)
from superbill.inputs.hints import misplaced_key, wrong_kind
from superbill.inputs.readfile import read_document
from superbill.problems import ERROR, InputRejected, Problem, format_path

if TYPE_CHECKING:  # imported where used: `superbill --help` stays fast
    from pydantic_core import ErrorDetails

    from superbill.inputs.models import PatientFile
    from superbill.tables.codebook import CodeBook

_MESSAGES = {
    "extra_forbidden": "unknown key (is it a typo?)",
    "missing": "is required",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "date_from_datetime_parsing": "must be a real date, YYYY-MM-DD",
    "date_parsing": "must be a real date, YYYY-MM-DD",
    "date_type": "must be a date, YYYY-MM-DD",
    "finite_number": "must be a finite number (not NaN or infinity)",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "string_unicode": "must be valid Unicode text",
}


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    if kind == "date_from_datetime_inexact":
        return "must be a date without a time"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(err.get("ctx", {}).values()), "")
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        if kind == "greater_than_equal" and str(bound) == "0":
            return "cannot be negative"
        return f"must be {words} {bound}"
    if kind == "decimal_max_places":
        return f"has more than {err['ctx']['decimal_places']} decimal places"
    # Text fields (their length checked after a BeforeValidator) report field_type "Value".
    text = err.get("ctx", {}).get("field_type") == "Value"
    if kind == "too_long":
        if text:
            return f"is longer than {err['ctx']['max_length']} characters"
        return f"has more than {err['ctx']['max_length']} items"
    if kind == "too_short":
        if text:
            return "cannot be empty" if err["ctx"]["min_length"] == 1 else f"needs at least {err['ctx']['min_length']} characters"
        return f"needs at least {err['ctx']['min_length']} item(s)"
    if kind == "string_too_long":
        return f"is longer than {err['ctx']['max_length']} characters"
    if kind == "string_too_short":
        return "cannot be empty"
    if kind == "string_pattern_mismatch":
        return "has characters that are not allowed here"
    if kind == "literal_error":
        return "must be one of " + err["ctx"]["expected"]
    return err["msg"][:1].lower() + err["msg"][1:]


def _clean_loc(loc) -> tuple:
    # pydantic appends validator names ("function-after[...]") for Annotated chains; drop them.
    return tuple(part for part in loc if not (isinstance(part, str) and ("[" in part or part.startswith("function-"))))


def validation_problems(exc: ValidationError, file: str, prefix: tuple = (), model=None) -> list[Problem]:
    """One problem per pydantic error; with `model` (the file's root model), an unknown key that is
    valid in another block of the file says where it belongs."""
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = prefix + _clean_loc(err["loc"])
        message = _message(err)
        if err["type"] == "extra_forbidden" and model is not None:
            message = misplaced_key(model, loc) or message
        problems.append(Problem(file, format_path(loc) or "(top level)", ERROR, message))
    return problems


def _parse(model, path: Path, data=None):
    if data is None:
        data = read_document(path)
    mismatch = wrong_kind(data, model)
    if mismatch:
        # A patient file given to `letter` is not nine missing fields: it is the wrong file.
        raise InputRejected([Problem(str(path), "", ERROR, mismatch)])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputRejected(validation_problems(exc, str(path), model=model)) from None
    except RecursionError:
        raise InputRejected([Problem(str(path), "", ERROR, "nested too deeply")]) from None


# ---------------------------------------------------------------- patient files


def _session_problems(file: str, patient_file: PatientFile, loaded: LoadedClinic) -> list[Problem]:
    """What the models alone cannot see: references to the clinic profile, dates, diagnosis pointers."""
    problems: list[Problem] = []

    def error(path: str, message: str) -> None:
        problems.append(Problem(file, path, ERROR, message))

    clinic = loaded.clinic
    patient = patient_file.patient
    subscriber = patient_file.insurance.subscriber if patient_file.insurance is not None else None
    for s, session in enumerate(patient_file.sessions):
        where = f"sessions[{s}]"
        if clinic.provider(session.provider) is None and session.provider not in loaded.held_providers:
            error(f"{where}.provider", f"unknown provider id {session.provider!r} (not in clinic.yaml providers)")
        protocol = None
        if session.protocol is not None:
            protocol = clinic.protocols.get(session.protocol)
            if protocol is None:
                error(f"{where}.protocol", f"unknown protocol {session.protocol!r} (not in clinic.yaml protocols)")
        if patient.dob > session.date:
            error(f"{where}.date", "the visit is before the patient's birth date")
        if subscriber is not None and subscriber.dob > session.date:
            error(f"{where}.date", "the visit is before the subscriber's birth date")
        services = [(f"{where}.services[{i}]", svc) for i, svc in enumerate(session.services)]
        meds = [(f"{where}.medications[{i}]", med) for i, med in enumerate(session.medications)]
        if protocol:
            services += [(f"{where}.protocol({session.protocol}).services[{i}]", svc) for i, svc in enumerate(protocol.services)]
            meds += [(f"{where}.protocol({session.protocol}).medications[{i}]", med) for i, med in enumerate(protocol.medications)]
        count = len(session.diagnoses)
        for path, service in services:
            _pointer_problems(error, path, service.pointers, count)
        _medication_problems(error, meds, loaded.book, count)
        for p, payment in enumerate(session.payments):
            if payment.date < session.date - dt.timedelta(days=366):
                error(f"{where}.payments[{p}].date", "is more than a year before the visit")
    return problems


def _pointer_problems(error, path: str, pointers, count: int) -> None:
    for p, pointer in enumerate(pointers or ()):
        if pointer > count:
            error(f"{path}.pointers[{p}]", f"points to diagnosis {pointer} but the session has {count}")


def _medication_problems(error, meds: list, book: CodeBook, count: int) -> None:
    for path, med in meds:
        row = book.medications.get(med.drug)
        if row is None:
            error(f"{path}.drug", f"unknown drug {med.drug!r} (not in codes/medications.yaml or clinic.yaml medications)")
            continue
        _pointer_problems(error, path, med.pointers, count)
        if med.wasted_mg and not row.single_dose:
            error(f"{path}.wasted_mg", f"{med.drug} is a multi-dose vial: waste is not billed (JW is for single-dose containers)")
        if med.dose_mg is None and row.unit_ml is None:
            error(f"{path}.dose_mg", "is required for this drug")


def load_patient(path: str | Path, loaded: LoadedClinic, data=None):
    """A validated PatientFile, or InputRejected with every problem found.

    `data` is the already-parsed document when the caller has read it (parsing YAML is the
    costliest step for big files: do it once).
    """
    from superbill.inputs.models import PatientFile

    path = Path(path)
    patient_file = _parse(PatientFile, path, data)
    problems = _session_problems(str(path), patient_file, loaded)
    if problems:
        raise InputRejected(problems)
    return patient_file


# ---------------------------------------------------------------- prior-authorization requests


def load_request(path: str | Path, loaded: LoadedClinic, data=None):
    """(request, patient_file) validated, or InputRejected."""
    from superbill.inputs.request_models import Request

    path = Path(path)
    request = _parse(Request, path, data)
    file = str(path)
    problems = []
    if request.urgency == "expedited" and not request.expedited_reason:
        problems.append(Problem(file, "expedited_reason", ERROR, "is required for an expedited request"))
    positives = request.screening.positives()
    if positives and not request.screening_rationale:
        problems.append(Problem(file, "screening_rationale", ERROR,
                                "is required when a screening answer is true (" + ", ".join(positives) + ")"))
    if request.provider in loaded.held_providers:
        first = loaded.held_providers[request.provider]
        problems.append(Problem(file, "provider", ERROR, f"provider {request.provider!r} is held back: its entry in "
                                                         f"{loaded.path.name} has errors ({first.path}: {first.message})"))
    elif loaded.clinic.provider(request.provider) is None:
        problems.append(Problem(file, "provider", ERROR, f"unknown provider id {request.provider!r} (not in clinic.yaml providers)"))
    for i, med in enumerate(request.plan.medications):
        if med.drug not in loaded.book.medications:
            problems.append(Problem(file, f"plan.medications[{i}].drug", ERROR, f"unknown drug {med.drug!r}"))
    patient_path = (path.parent / request.patient)
    patient_file = None
    try:
        patient_file = load_patient(patient_path, loaded)
    except InputRejected as exc:
        problems.append(Problem(file, "patient", ERROR, f"the patient file cannot be used: {exc.problems[0].line()}"))
    if problems:
        raise InputRejected(problems)
    return request, patient_file


# ---------------------------------------------------------------- Good Faith Estimates


def load_estimate(path: str | Path, loaded: LoadedClinic, data=None):
    """(estimate file or request, patient_file) validated, or InputRejected.

    A GFE file (`gfe.yaml`) gives an `EstimateFile`; a prior-authorization request file is accepted
    too (its plan is the estimate's) and gives a `Request`.
    """
    from superbill.inputs.estimate_models import EstimateFile

    path = Path(path)
    if data is None:
        data = read_document(path)
    if detect_kind(data) == "request":
        return load_request(path, loaded, data)
    estimate = _parse(EstimateFile, path, data)
    file = str(path)
    problems = []
    clinic: Any = loaded.clinic
    book: Any = loaded.book
    if clinic.provider(estimate.provider) is None:
        problems.append(Problem(file, "provider", ERROR, f"unknown provider id {estimate.provider!r} (not in clinic.yaml providers)"))
    for i, med in enumerate(estimate.plan.medications):
        if med.drug not in book.medications:
            problems.append(Problem(file, f"plan.medications[{i}].drug", ERROR, f"unknown drug {med.drug!r}"))
    patient_file = None
    try:
        patient_file = load_estimate_patient(path.parent / estimate.patient, loaded)
    except InputRejected as exc:
        problems.append(Problem(file, "patient", ERROR, f"the patient file cannot be used: {exc.problems[0].line()}"))
    if problems:
        raise InputRejected(problems)
    return estimate, patient_file


def load_estimate_patient(path: str | Path, loaded: LoadedClinic):
    """The patient file of an estimate: an uninsured patient's file needs no `insurance` block."""
    from superbill.inputs.estimate_models import EstimatePatientFile

    path = Path(path)
    data = read_document(path)
    if not isinstance(data, dict) or "insurance" in data:
        return load_patient(path, loaded, data)
    patient_file = _parse(EstimatePatientFile, path, data)
    problems = _session_problems(str(path), patient_file, loaded)
    if problems:
        raise InputRejected(problems)
    return patient_file


GFE_KEYS = {"scheduled_on", "requested_on", "issued_on", "session_dates", "separately_scheduled"}
REQUEST_ONLY_KEYS = {"prior_treatments", "screening", "condition", "urgency"}


def detect_kind(data) -> str:
    if isinstance(data, dict):
        if "practice" in data:
            return "clinic"
        keys = set(data)
        if GFE_KEYS & keys or ("plan" in keys and not REQUEST_ONLY_KEYS & keys):
            return "gfe"
        if {"plan", "prior_treatments", "screening"} & keys:
            return "request"
    return "patient"
