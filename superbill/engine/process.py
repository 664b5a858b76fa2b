"""A patient file through the engine: validated, its sessions built into claims, each claim scrubbed.

The one path every command takes for a patient file (`check`, `claims`, `render`, `export`): the
inputs layer reads and validates it (`inputs.load.load_patient`), the billing rules build and check
its claims. A claim whose provider has errors in clinic.yaml is held back alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from superbill.engine.claims import Claim, build_claims
from superbill.engine.scrub import claims_by_date, scrub
from superbill.engine.scrub.editions import edition_notes
from superbill.inputs.load import LoadedClinic, load_patient
from superbill.problems import ERROR, HeldBack, InputRejected, Problem

if TYPE_CHECKING:
    from superbill.inputs.models import PatientFile


@dataclass
class PatientResult:
    """One patient file through the pipeline: its claims (none when any error) and problems.

    A claim whose provider is held back (an error in its clinic.yaml entry) is not in `claims`: it
    is a `HeldBack` problem, which does not reject the file's other claims."""

    file: str
    patient_file: PatientFile | None = None
    claims: list[Claim] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    held_claims: list[str] = field(default_factory=list)  # claim ids held back with their provider
    outside_dates: int = 0  # sessions left out by --from/--to

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR and not isinstance(p, HeldBack) for p in self.problems)


def process_patient(path: str | Path, loaded: LoadedClinic, *, today: dt.date | None = None,
                    date_from: dt.date | None = None, date_to: dt.date | None = None,
                    data=None) -> PatientResult:
    result = PatientResult(str(path))
    try:
        result.patient_file = load_patient(path, loaded, data)
    except InputRejected as exc:
        result.problems = exc.problems
        return result
    every = build_claims(result.patient_file, loaded.claims_clinic(), loaded.book)
    claims = [c for c in every if (date_from is None or c.date_of_service >= date_from)
              and (date_to is None or c.date_of_service <= date_to)]
    result.outside_dates = len(every) - len(claims)
    for claim in claims:
        provider_id: str = getattr(claim.provider, "id", "")
        first = loaded.held_providers.get(provider_id)
        if first is None:
            continue
        result.held_claims.append(claim.claim_id)
        result.problems.append(HeldBack(str(path), f"sessions[{claim.session_index}].provider", ERROR,
                                        f"claim {claim.claim_id} held back: provider {provider_id!r} has errors "
                                        f"in {loaded.path.name} ({first.path}: {first.message})"))
    claims = [c for c in claims if c.claim_id not in result.held_claims]
    days = claims_by_date(claims)
    for claim in claims:
        result.problems += scrub(claim, loaded.book, file=str(path), billing_npi=loaded.clinic.practice.npi,
                                 today=today, same_date=days[claim.patient_id, claim.date_of_service])
    result.problems += edition_notes(claims, file=str(path))
    result.claims = claims if result.ok else []
    return result
