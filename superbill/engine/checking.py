"""`check` and `claims` over many files: every problem of every file, the good files still go."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from superbill.engine.scrub.clinic_rules import starter_placeholders
from superbill.inputs.load import (
    LoadedClinic,
    PatientResult,
    detect_kind,
    find_clinic,
    load_clinic,
    load_request,
    process_patient,
)
from superbill.inputs.readfile import read_document
from superbill.problems import ERROR, InputRejected, Problem


@dataclass
class CheckReport:
    files: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def as_json(self) -> dict:
        return {"ok": self.ok, "files": self.files, "problems": [p.as_dict() for p in self.problems]}

    def summary(self) -> str:
        errors = sum(p.severity == ERROR for p in self.problems)
        warnings = len(self.problems) - errors
        bad = sum(not f["ok"] for f in self.files)
        claims = sum(f.get("claims", 0) for f in self.files)
        return (f"{len(self.files)} file(s) checked: {len(self.files) - bad} ok, {bad} with errors; "
                f"{claims} claim(s); {errors} error(s), {warnings} warning(s)")


def check_files(files, clinic_option: str | None, today: dt.date | None = None,
                estimates=None) -> CheckReport:
    """`estimates(patient_id)` returns the Good Faith Estimates issued to a patient (from the ledger),
    for the $400 test of each patient file's billed charges; None skips that test."""
    report = CheckReport()
    today = today or dt.date.today()
    loaded: LoadedClinic | None = None
    clinic_problems: list[Problem] | None = None
    clinics_used: dict[Path, LoadedClinic] = {}  # for the once-per-clinic warnings at the end

    def clinic() -> LoadedClinic | None:
        nonlocal loaded, clinic_problems
        if loaded is None and clinic_problems is None:
            try:
                loaded = load_clinic(find_clinic(clinic_option))
                clinics_used.setdefault(loaded.path.resolve(), loaded)
            except InputRejected as exc:
                clinic_problems = exc.problems
                report.problems.extend(exc.problems)
        return loaded

    for name in files:
        entry = {"file": name, "kind": None, "ok": False, "claims": 0}
        report.files.append(entry)
        try:
            data = read_document(name)
            kind = detect_kind(data)
        except InputRejected as exc:
            report.problems.extend(exc.problems)
            continue
        entry["kind"] = kind
        try:
            if kind == "clinic":
                checked = load_clinic(Path(name), data)
                clinics_used.setdefault(checked.path.resolve(), checked)
                entry["ok"] = True
                continue
            loaded_clinic = clinic()
            if loaded_clinic is None:
                report.problems.append(Problem(name, "", ERROR, "not checked: the clinic profile has errors"))
                continue
            if kind == "request":
                from superbill.engine.letter_plan import plan_problems

                request, patient_file = load_request(Path(name), loaded_clinic, data)
                problems = plan_problems(request, loaded_clinic, name, patient_file)
                report.problems.extend(problems)
                entry["ok"] = not any(p.severity == ERROR for p in problems)
                continue
            if kind == "gfe":
                from superbill.engine.estimate import check_estimate_file

                problems = check_estimate_file(Path(name), loaded_clinic, data, today)
                report.problems.extend(problems)
                entry["ok"] = not any(p.severity == ERROR for p in problems)
                continue
            result = process_patient(name, loaded_clinic, today=today, data=data)
            report.problems.extend(result.problems)
            if estimates is not None and result.ok and result.claims:
                from superbill.engine.estimate import overrun_problems

                report.problems.extend(overrun_problems(estimates(result.claims[0].patient_id),
                                                        result.claims, name))
            entry["ok"] = result.ok
            entry["claims"] = len(result.claims)
        except InputRejected as exc:
            report.problems.extend(exc.problems)
    for used in clinics_used.values():
        report.problems.extend(starter_placeholders(used.clinic, str(used.path)))
    return report


def collect_claims(files, loaded: LoadedClinic, *, date_from=None, date_to=None,
                   today: dt.date | None = None) -> list[PatientResult]:
    today = today or dt.date.today()
    return [process_patient(name, loaded, today=today, date_from=date_from, date_to=date_to)
            for name in files]
