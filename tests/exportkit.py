"""Clinic folders and patient files for the 837P, export and ledger tests.

`clinic(tmp_path)` writes the starter clinic; `patient(...)` builds a patient document (dict) from the
example of docs/reference.md with the changes a test needs; `write_patient` saves it as YAML; `claims_of` runs the
real pipeline (`load.process_patient`) on it.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import yaml

from superbill.engine.process import process_patient
from superbill.inputs.load import load_clinic
from superbill.inputs.starter import write_starter

TODAY = dt.date(2026, 12, 31)

BASE_SESSION = {
    "date": "2026-11-02",
    "provider": "dr-lee",
    "protocol": "ketamine-infusion",
    "diagnoses": ["G90.511", "F33.1"],
    "infusion": {"start": "09:05", "end": "10:50"},
    "medications": [{"drug": "ketamine", "dose_mg": 70}],
    "services": [{"code": "93000", "pointers": [1]}],
    "payments": [{"date": "2026-11-02", "amount": 650.00, "method": "card"}],
}


def clinic(folder: Path, **changes) -> Path:
    """The starter clinic in `folder` (clinic.yaml, patients/, requests/), with top-level changes."""
    write_starter(folder)
    if changes:
        path = folder / "clinic.yaml"
        data = yaml.safe_load(path.read_text())
        for key, value in changes.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder / "clinic.yaml"


def session(day: str = "2026-11-02", *, paid: float | None = 650.00, prior_auth: str | None = None,
            **changes) -> dict:
    data = copy.deepcopy(BASE_SESSION)
    data["date"] = day
    data["payments"] = [{"date": day, "amount": paid, "method": "card"}] if paid else []
    if prior_auth:
        data["prior_authorization"] = prior_auth
    data.update(changes)
    return data


def patient(pid: str = "P0001", first: str = "Jane", last: str = "Doe", *, sessions=None,
            subscriber: dict | None = None, member_id: str = "XYZ123456789", street: str = "1 Elm St",
            **insurance) -> dict:
    doc = {
        "patient": {"id": pid, "first_name": first, "last_name": last, "dob": "1980-01-01", "sex": "F",
                    "address": {"street": street, "city": "Springfield", "state": "IL", "zip": "62702"}},
        "insurance": {"payer_name": "Example Health Plan", "payer_id": "12345", "member_id": member_id,
                      "group_number": "GRP123", "filing_indicator": "CI"},
        "sessions": sessions if sessions is not None else [session()],
    }
    doc["insurance"].update(insurance)
    if subscriber:
        doc["insurance"]["subscriber"] = subscriber
    return doc


def subscriber(relationship: str = "spouse", first: str = "John", last: str = "Doe") -> dict:
    return {"relationship": relationship, "first_name": first, "last_name": last, "dob": "1975-05-05",
            "sex": "M", "address": {"street": "1 Elm St", "city": "Springfield", "state": "IL",
                                    "zip": "627021234"}}


def write_patient(folder: Path, name: str, doc: dict) -> Path:
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def claims_of(loaded, path: Path):
    """(patient_file, claims) through the real pipeline; fails the test on any error."""
    result = process_patient(path, loaded, today=TODAY)
    errors = [p.line() for p in result.problems if p.severity == "error"]
    assert not errors, errors
    return result.patient_file, result.claims


def items_of(loaded, *paths: Path) -> list:
    out = []
    for path in paths:
        patient_file, claims = claims_of(loaded, path)
        out += [(patient_file, claim) for claim in claims]
    return out


def load(folder: Path):
    return load_clinic(Path(folder) / "clinic.yaml")
