"""Reading and checking patient files for an export, in worker processes when there are many.

`process_files` sends every file through `load.process_patient` (and the 837P's own checks when the
837P is asked for) and returns one `FileResult` per file, in input order, so the run's output does not
depend on which worker finished first. Workers get the loaded clinic and a frozen `WorkerSettings`
once, at their start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from superbill.problems import ERROR, HeldBack, InputRejected, Problem

if TYPE_CHECKING:
    from superbill.engine.claims import Claim
    from superbill.inputs.load import LoadedClinic
    from superbill.inputs.models import PatientFile


@dataclass(frozen=True)
class WorkerSettings:
    """What every worker needs besides the clinic: the same for every file of a run."""

    today: dt.date
    date_from: dt.date | None
    date_to: dt.date | None
    formats: tuple[str, ...]


def claim_hash(patient_file, claim) -> str:
    """A hash of everything the claim tells a payer: lines, codes, money, patient, insurance, provider."""
    data = {
        "claim": claim.as_json(),
        "descriptions": [line.description for line in claim.lines],
        "prior_authorization": claim.prior_authorization,
        "provider": claim.provider.model_dump(mode="json") if claim.provider is not None else None,
        "patient": patient_file.patient.model_dump(mode="json"),
        "insurance": patient_file.insurance.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


@dataclass
class FileResult:
    file: str
    kind: str = "patient"  # or "clinic" / "request" (skipped)
    patient_file: PatientFile | None = None
    claims: list[Claim] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    held_claims: list[str] = field(default_factory=list)  # held back with their provider (HeldBack problems)
    outside_dates: int = 0  # sessions left out by --from/--to

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR and not isinstance(p, HeldBack) for p in self.problems)


class _WorkerState:
    """The clinic and settings of this process's run (set once per worker process)."""

    loaded: LoadedClinic | None = None
    settings: WorkerSettings | None = None


def _init_worker(loaded, settings: WorkerSettings) -> None:
    _WorkerState.loaded = loaded
    _WorkerState.settings = settings


def _process_file(path: str) -> FileResult:
    from superbill.engine.process import process_patient
    from superbill.inputs.load import detect_kind
    from superbill.inputs.readfile import read_document

    loaded = _WorkerState.loaded
    settings = _WorkerState.settings
    assert loaded is not None and settings is not None, "_init_worker runs first"
    out = FileResult(path)
    result = process_patient(path, loaded, today=settings.today, date_from=settings.date_from,
                             date_to=settings.date_to)
    out.patient_file = result.patient_file
    out.problems = list(result.problems)
    out.held_claims, out.outside_dates = list(result.held_claims), result.outside_dates
    if not result.ok:
        if result.patient_file is None:
            # Not a valid patient file: a clinic profile or a request is skipped, not rejected.
            try:
                kind = detect_kind(read_document(path))
            except InputRejected:
                kind = "patient"
            if kind != "patient":
                out.kind, out.problems = kind, []
        return out
    if {"837p", "cms1500"} & set(settings.formats):
        from superbill.exports.limits import export_problems

        out.problems += export_problems(loaded, result.patient_file, result.claims, path, settings.formats)
        if not out.ok:
            return out
    if "cms1500" in settings.formats:
        from superbill.documents.cms1500 import claim_problems

        for claim in result.claims:  # a value cut at its box on the form
            out.problems += claim_problems(result.patient_file, claim, loaded, path, today=settings.today)
    out.claims = list(result.claims)
    out.hashes = [claim_hash(result.patient_file, claim) for claim in out.claims]
    return out


def process_files(files: list[Path], loaded, settings: WorkerSettings, jobs: int | None,
                  progress=None) -> list[FileResult]:
    """Every file through the pipeline, in input order; in `jobs` worker processes when > 1.

    `progress(done, total, result)` is called as each result arrives, in input order."""
    names = [str(f) for f in files]
    if jobs is None:
        # A worker process pays for its start and for sending its results back (about 0.5 ms a
        # file): by default, no more workers than one per 50 files.
        jobs = min(os.cpu_count() or 1, max(1, len(names) // 50))
    jobs = max(1, min(jobs, len(names)))
    results: list[FileResult] = []
    if jobs == 1:
        _init_worker(loaded, settings)
        for name in names:
            results.append(_process_file(name))
            if progress:
                progress(len(results), len(names), results[-1])
        return results
    chunk = max(1, min(64, len(names) // (jobs * 4) or 1))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(loaded, settings)) as pool:
        for result in pool.map(_process_file, names, chunksize=chunk):
            results.append(result)
            if progress:
                progress(len(results), len(names), results[-1])
    return results
