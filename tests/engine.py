"""Building claims in-process for engine and scrubber tests (no files per case)."""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path

from helpers import example_patient, make_clinic

from superbill.engine.claims import build_claims
from superbill.engine.scrub import scrub
from superbill.inputs.load import load_clinic
from superbill.inputs.models import PatientFile

TODAY = dt.date(2026, 11, 22)


@cache
def loaded_clinic(extra_fees: tuple = (), extra_meds: tuple = (), extra_providers: tuple = ()):
    folder = Path(tempfile.mkdtemp(prefix="superbill-engine-"))
    make_clinic(folder)
    path = folder / "clinic.yaml"
    if extra_fees or extra_meds or extra_providers:
        import yaml

        data = yaml.safe_load(path.read_text())
        data["fees"].update(dict(extra_fees))
        for key, row in extra_meds:  # merged over the starter's row of the same key
            data["medications"][key] = {**data["medications"].get(key, {}), **dict(row)}
        first = data["providers"][0]
        data["providers"] += [{**first, "id": provider_id, "npi": npi} for provider_id, npi in extra_providers]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_clinic(path)


def session(**changes) -> dict:
    base = example_patient()["sessions"][0]
    base.update(changes)
    return base


def claims_for(*sessions, loaded=None, insurance=None):
    loaded = loaded or loaded_clinic()
    data = example_patient()
    data["sessions"] = list(sessions)
    if insurance:
        data["insurance"].update(insurance)
    patient_file = PatientFile.model_validate(data)
    return build_claims(patient_file, loaded.clinic, loaded.book)


def claim_for(loaded=None, insurance=None, **changes):
    return claims_for(session(**changes), loaded=loaded, insurance=insurance)[0]


def problems_of(claim, loaded=None, today=TODAY):
    loaded = loaded or loaded_clinic()
    return scrub(claim, loaded.book, file="p.yaml", billing_npi=loaded.clinic.practice.npi, today=today)


def messages(claim, severity=None, loaded=None):
    return [p.message for p in problems_of(claim, loaded) if severity is None or p.severity == severity]


def codes(claim):
    return [(line.code, line.modifiers, line.units) for line in claim.lines]
