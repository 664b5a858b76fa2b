"""`check` and `claims` over many files: every problem of every file, the good files still go."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from superbill.engine.format_limits import limit_problems
from superbill.engine.process import PatientResult, process_patient
from superbill.engine.scrub.clinic_rules import starter_placeholders
from superbill.inputs.discover import expand_inputs, nothing_found
from superbill.inputs.load import LoadedClinic, detect_kind, load_clinic, load_request, locate_clinic
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
                estimates=None, format_checks=None, clinic_format_checks=None) -> CheckReport:
    """Check every file given, folders searched as `export` searches them (`inputs.discover`).

    `estimates(patient_id)` returns the Good Faith Estimates issued to a patient (from the ledger),
    for the $400 test of each patient file's billed charges; None skips that test.
    `format_checks(loaded, patient_file, claims, file)` adds what an export format would refuse (the
    CLI passes `exports.limits.format_problems`; engine/ cannot import exports/); without it, the
    format limits of `engine.format_limits` are checked. `clinic_format_checks(loaded)` adds, once per
    clinic profile, what keeps an export format from being written at all (the 837P's envelope)."""
    report = CheckReport()
    today = today or dt.date.today()
    found, missing = expand_inputs(files)
    for problem in missing:
        report.files.append({"file": problem.file, "kind": None, "ok": False, "claims": 0})
        report.problems.append(problem)
    if not found and not missing:
        report.problems.append(nothing_found(files, "patient, request or estimate file"))
    clinic = _LazyClinic(clinic_option, report)
    for path in found:
        _check_one(str(path), clinic, report, today, estimates, format_checks)
    for used in clinic.used.values():  # once per clinic profile, at the end
        report.problems.extend(starter_placeholders(used.clinic, str(used.path)))
        if clinic_format_checks is not None:
            report.problems.extend(clinic_format_checks(used))
    return report


class _LazyClinic:
    """The clinic profile, loaded when the first file needs it; its problems reported once."""

    def __init__(self, option: str | None, report: CheckReport):
        self.option, self.report = option, report
        self.loaded: LoadedClinic | None = None
        self.failure: str | None = None
        self.used: dict[Path, LoadedClinic] = {}  # every clinic profile met: for its once-only warnings

    def get(self) -> LoadedClinic | None:
        if self.loaded is None and self.failure is None:
            self.failure = "not checked: no clinic profile (see above)"
            try:
                path = locate_clinic(self.option)
                self.failure = "not checked: the clinic profile has errors (see above)"
                self.loaded = load_clinic(path)
                self.used.setdefault(self.loaded.path.resolve(), self.loaded)
                self.failure = None
                self.report.problems.extend(self.loaded.problems)
            except InputRejected as exc:
                self.report.problems.extend(exc.problems)
        return self.loaded


def _check_one(name: str, clinic: _LazyClinic, report: CheckReport, today: dt.date, estimates,
               format_checks=None) -> None:
    entry = {"file": name, "kind": None, "ok": False, "claims": 0}
    report.files.append(entry)
    try:
        data = read_document(name)
        kind = detect_kind(data)
    except InputRejected as exc:
        report.problems.extend(exc.problems)
        return
    entry["kind"] = kind
    try:
        if kind == "clinic":
            checked = load_clinic(Path(name), data)
            clinic.used.setdefault(checked.path.resolve(), checked)
            entry["ok"] = True
            return
        loaded_clinic = clinic.get()
        if loaded_clinic is None:
            report.problems.append(Problem(name, "", ERROR, clinic.failure or "not checked"))
            return
        if kind in ("request", "gfe"):
            problems = _plan_problems(kind, name, loaded_clinic, data, today)
            report.problems.extend(problems)
            entry["ok"] = not any(p.severity == ERROR for p in problems)
            return
        result = process_patient(name, loaded_clinic, today=today, data=data)
        report.problems.extend(result.problems)
        if estimates is not None and result.ok and result.claims:
            from superbill.engine.estimate import overrun_problems

            report.problems.extend(overrun_problems(estimates(result.claims[0].patient_id), result.claims, name))
        entry["ok"] = result.ok and not result.held_claims
        entry["claims"] = len(result.claims)
        if result.ok and result.patient_file is not None:  # what an export format would refuse
            extra = (format_checks(loaded_clinic, result.patient_file, result.claims, name) if format_checks
                     else limit_problems(result.patient_file.patient.id, result.claims, name))
            report.problems.extend(extra)
            entry["ok"] = entry["ok"] and not any(p.severity == ERROR for p in extra)
    except InputRejected as exc:
        report.problems.extend(exc.problems)


def _plan_problems(kind: str, name: str, loaded: LoadedClinic, data, today: dt.date) -> list[Problem]:
    if kind == "gfe":
        from superbill.engine.estimate import check_estimate_file

        return check_estimate_file(Path(name), loaded, data, today)
    from superbill.engine.letter_plan import plan_problems

    request, patient_file = load_request(Path(name), loaded, data)
    return plan_problems(request, loaded, name, patient_file)


def collect_claims(files, loaded: LoadedClinic, *, date_from=None, date_to=None,
                   today: dt.date | None = None) -> list[PatientResult]:
    today = today or dt.date.today()
    return [process_patient(name, loaded, today=today, date_from=date_from, date_to=date_to)
            for name in files]
