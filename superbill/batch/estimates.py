"""Good Faith Estimates in the ledger: each issued estimate's number, patient, period, totals and hash.

The `estimates` table is ledger migration 3 (`superbill.batch.ledger_schema`).

The number is unique in the ledger (`GFE-<issue date>-<sequence>`, the sequence a counter of the
ledger that never goes back). The same estimate printed again (the same content hash for the same
patient) keeps its number; a changed estimate is a new one. `check` and `export` read these rows for
the $400 test (`superbill.engine.estimate.overrun_problems`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from superbill.batch.ledger import Ledger, _now, default_path
from superbill.engine.estimate import EstimateRecord


def record_estimate(ledger: Ledger, *, patient_id: str, start: dt.date, end: dt.date, sessions: int,
                    per_session: Decimal, course_total: Decimal, issued_on: dt.date, due_on: dt.date | None,
                    provider_npi: str, content_hash: str, source_file: str) -> tuple[str, bool]:
    """(number, new): the estimate's number, and whether this call recorded it (False: a reprint)."""
    with ledger._write() as db:
        same = db.execute("SELECT number FROM estimates WHERE patient_id = ? AND content_hash = ?",
                          (patient_id, content_hash)).fetchone()
        if same is not None:
            return same["number"], False
        value = db.execute("SELECT value FROM counters WHERE name = 'estimate'").fetchone()["value"] + 1
        db.execute("UPDATE counters SET value = ? WHERE name = 'estimate'", (value,))
        number = f"GFE-{issued_on:%Y%m%d}-{value:04d}"
        db.execute(
            "INSERT INTO estimates (number, patient_id, period_start, period_end, sessions, per_session, "
            "course_total, issued_on, due_on, provider_npi, content_hash, source_file, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (number, patient_id, start.isoformat(), end.isoformat(), sessions, str(per_session),
             str(course_total), issued_on.isoformat(), due_on.isoformat() if due_on else None, provider_npi,
             content_hash, source_file, _now()))
    return number, True


def forget_estimate(ledger: Ledger, number: str) -> None:
    """Take back an estimate recorded by a run that then failed to write its document."""
    with ledger._write() as db:
        db.execute("DELETE FROM estimates WHERE number = ?", (number,))


def _record(row) -> EstimateRecord:
    return EstimateRecord(
        number=row["number"], patient_id=row["patient_id"],
        start=dt.date.fromisoformat(row["period_start"]), end=dt.date.fromisoformat(row["period_end"]),
        course_total=Decimal(row["course_total"]), issued_on=dt.date.fromisoformat(row["issued_on"]),
        details={"sessions": row["sessions"], "per_session": row["per_session"], "due_on": row["due_on"],
                 "provider_npi": row["provider_npi"], "content_hash": row["content_hash"],
                 "source_file": row["source_file"], "recorded_at": row["recorded_at"]},
    )


def estimates(ledger: Ledger, patient_id: str | None = None) -> list[EstimateRecord]:
    """Every estimate (of one patient), in the order they were issued."""
    db = ledger.db
    query = "SELECT * FROM estimates"
    args: tuple = ()
    if patient_id is not None:
        query += " WHERE patient_id = ?"
        args = (patient_id,)
    return [_record(row) for row in db.execute(query + " ORDER BY issued_on, number", args)]


def overrun_warnings(ledger: Ledger, items) -> list:
    """The $400 test for an export's claims (`items`: export.Item), per patient file."""
    from superbill.engine.estimate import overrun_problems

    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(item.file, []).append(item.claim)
    records = estimates(ledger)
    problems = []
    for file, claims in by_file.items():
        patient_id = claims[0].patient_id
        problems += overrun_problems([r for r in records if r.patient_id == patient_id], claims, file)
    return problems


class EstimateLookup:
    """`patient_id -> [EstimateRecord]` over a ledger file, for `check` (nothing when there is no ledger)."""

    def __init__(self, path: Path):
        self.path = path
        self._all: list[EstimateRecord] | None = None

    def __call__(self, patient_id: str) -> list[EstimateRecord]:
        if self._all is None:
            self._all = []
            if self.path.exists():
                with Ledger(self.path) as ledger:
                    self._all = estimates(ledger)
        return [record for record in self._all if record.patient_id == patient_id]


def lookup_for(clinic_path: Path, ledger_path: str | Path | None = None) -> EstimateLookup:
    return EstimateLookup(Path(ledger_path) if ledger_path else default_path(Path(clinic_path).resolve().parent))


def estimates_json(records: list[EstimateRecord]) -> list[dict]:
    return [{"number": r.number, "patient_id": r.patient_id, "period_start": r.start.isoformat(),
             "period_end": r.end.isoformat(), "course_total": f"{r.course_total:.2f}",
             "issued_on": r.issued_on.isoformat(), **r.details} for r in records]


def estimate_lines(records: list[EstimateRecord]) -> list[str]:
    """`superbill ledger list`: a line per Good Faith Estimate."""
    out = []
    for record in records:
        details = record.details
        due = f"due {details['due_on']}" if details.get("due_on") else "no due date"
        out.append(f"estimate {record.number}  issued {record.issued_on}  {due}  patient {record.patient_id}  "
                   f"{record.start} to {record.end}  {details['sessions']} session(s) x {details['per_session']}"
                   f" = {record.course_total:.2f}  sha256 {details['content_hash'][:12]}")
    return out


# ---------------------------------------------------------------- issuing one estimate


@dataclass
class IssuedEstimate:
    path: Path
    number: str
    new: bool  # False: the same estimate was issued before and keeps its number
    course_total: Decimal
    due_on: dt.date | None
    warnings: list = field(default_factory=list)


def issue_estimate(source: str | Path, loaded, output: str | Path, *, as_html: bool = False,
                   templates_dir: str | Path | None = None, ledger_path: str | Path | None = None,
                   today: dt.date | None = None, scheduled_on: dt.date | None = None,
                   requested_on: dt.date | None = None) -> IssuedEstimate:
    """Validate, number (in the ledger), render and write one Good Faith Estimate, owner-only.

    Refusals raise InputRejected (one problem a line) and LedgerError; nothing is written then, and
    an estimate recorded for a document that could not be written is taken back.
    """
    from superbill.documents.gfe import gfe_context, prepare_estimate, render_gfe
    from superbill.documents.templating import TemplateProblem, templates_folder
    from superbill.engine.estimate import content_hash
    from superbill.outfiles import ensure_folder, write_atomic
    from superbill.problems import ERROR, InputRejected, Problem

    prepared = prepare_estimate(source, loaded, today=today, scheduled_on=scheduled_on, requested_on=requested_on)
    try:
        user_dir = templates_folder(loaded, templates_dir)
    except TemplateProblem as exc:
        raise InputRejected([exc.problem]) from None
    estimate = prepared.estimate
    patient_id = prepared.patient_file.patient.id
    npi = loaded.clinic.practice.npi
    target = Path(output)
    with Ledger(Path(ledger_path) if ledger_path else default_path(loaded.folder)) as ledger:
        number, new = record_estimate(
            ledger, patient_id=patient_id, start=estimate.start, end=estimate.end, sessions=estimate.sessions,
            per_session=estimate.per_session, course_total=estimate.course_total, issued_on=estimate.issued_on,
            due_on=estimate.deadline.due, provider_npi=npi, content_hash=content_hash(estimate, patient_id, npi),
            source_file=str(source))
        try:
            context = gfe_context(prepared, loaded, number)
            data = render_gfe(context, user_dir, prepared.images.files, as_html=as_html)
            try:
                ensure_folder(target.parent)
                write_atomic(target, data)
            except OSError as exc:
                raise InputRejected([Problem(str(target), "", ERROR,
                                             f"cannot be written ({exc.strerror or exc}); no estimate recorded")]) from None
        except BaseException:
            if new:
                forget_estimate(ledger, number)
            raise
    return IssuedEstimate(target, number, new, estimate.course_total, estimate.deadline.due,
                          prepared.warnings + prepared.images.warnings)

