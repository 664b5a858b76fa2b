"""Batch export for billing staff: patient files in; 837P, CMS-1500, CSV and superbills out.

`export_claims(inputs, loaded, options)` runs the whole pipeline and returns an `ExportReport`:

1. the inputs (files, or folders searched by `inputs.discover`) go through `engine.process.process_patient`, in
   parallel worker processes with `jobs` > 1 (`batch.workers`), results kept in input order so the
   output is deterministic;
2. a file with any error is rejected (its problems reported) and the others go on;
3. the ledger decides, per claim (`batch.ledger_plan`): not exported yet (send), exported with the
   same content (skip, "already exported"), exported with different content (reported, not re-sent
   unless `resubmit`), named by `resubmit_claims` (sent again), a replacement or void of an exported
   claim (`replace`, `void`: sent with its frequency code and the payer's claim number, unless the same
   one was sent already), or pending in a concurrent export (skip);
4. the run's files are built by the format registry (`exports.formats`), each staged durably and
   then named (`batch.durable`); the folder is fsynced, and only then are the claims recorded in the
   ledger as exported.

A resubmission (`--resubmit`, `--resubmit-claim`) is a new original (CLM05-3 = 1) under a new
interchange control number: only for claims the payer did not accept, since a second original of an
adjudicated claim is a duplicate. A claim the payer adjudicated is corrected by a replacement
(frequency 7, every line of the corrected claim) or a void (8, the claim as it was sent), each with
the payer's claim control number in REF*F8 and CMS-1500 item 22; they are written in the formats that
carry a frequency code (837P, CMS-1500) and refused for a claim never exported.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from superbill.batch import ledger as ledger_mod
from superbill.batch.durable import Staged, fsync_folder, remove_run_files
from superbill.batch.ledger_plan import CORRECTION_FORMATS
from superbill.batch.progress import Progress
from superbill.batch.report import ExportReport
from superbill.batch.workers import FileResult, WorkerSettings, process_files
from superbill.exports.formats import FORMATS, RENDERERS, Item, OutputFile, RunContext, available_formats
from superbill.inputs.discover import expand_inputs, nothing_found
from superbill.problems import ERROR, Problem

__all__ = ["ExportOptions", "ExportReport", "RunFailed", "available_formats", "export_claims"]


@dataclass
class ExportOptions:
    out_dir: Path
    formats: tuple[str, ...] = ("837p",)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    jobs: int | None = None
    resubmit: bool = False  # send again the claims changed since they were exported
    resubmit_claims: tuple[str, ...] = ()  # claim ids to send again, changed or not
    replace: dict[str, str] = field(default_factory=dict)  # claim id -> the payer's claim number
    void: dict[str, str] = field(default_factory=dict)  # claim id -> the payer's claim number
    ledger_path: Path | None = None
    cms1500_data_only: bool = False
    usage: str | None = None
    today: dt.date | None = None
    now: dt.datetime | None = None  # the 837P's creation time (tests fix it)
    progress: Progress | None = None  # the display (batch.progress); None shows nothing


class RunFailed(Exception):
    """Writing a run's files failed (`error`); `leftovers` are the files that were named but could
    not be removed again (the folder went read-only): the run stays "writing" so the next export's
    recovery removes them, or completes the run when every file is there."""

    def __init__(self, error: Exception, leftovers: list[Path]):
        super().__init__(str(error))
        self.error = error
        self.leftovers = leftovers


def _checkpoint(stage: str) -> None:
    """A seam for tests that interrupt a run at a given stage ("staged", "published")."""


# ---------------------------------------------------------------- the run


def export_claims(inputs, loaded, options: ExportOptions) -> ExportReport:
    report = ExportReport(clinic=list(loaded.problems))
    formats = tuple(f for f in FORMATS if f in options.formats)
    ledger_path = Path(options.ledger_path) if options.ledger_path else ledger_mod.default_path(loaded.folder)
    report.ledger_path = ledger_path

    if "837p" in formats:
        from superbill.exports.x12 import clinic_problems

        report.fatal += clinic_problems(loaded, options.usage)
    files, missing = expand_inputs(inputs)
    report.files = [str(f) for f in files]
    report.problems += missing
    report.rejected_files += [p.file for p in missing]
    if report.fatal:
        return report

    settings = WorkerSettings(today=options.today or dt.date.today(), date_from=options.date_from,
                              date_to=options.date_to, formats=formats)
    progress = options.progress or Progress()
    progress.checking(len(files))
    results = process_files(files, loaded, settings, options.jobs, progress.checked)
    items, hashes = _gather(results, report)
    if not any(r.kind == "patient" for r in results) and not report.rejected_files:
        report.fatal.append(nothing_found(inputs))  # an empty folder is a mistake, not "0 claims"
    if items:
        _export_items(loaded, items, hashes, formats, options, ledger_path, report)
    return report


def _gather(results: list[FileResult], report: ExportReport) -> tuple[list[Item], list[str]]:
    """The claims of the files that passed, with their content hashes; the others rejected."""
    items: list[Item] = []
    hashes: list[str] = []
    owner: dict[str, str] = {}
    skipped_kinds = {"clinic": 0, "request": 0, "gfe": 0}
    for result in results:
        if result.kind != "patient":
            skipped_kinds[result.kind] += 1
            continue
        report.problems += result.problems
        report.outside_dates += result.outside_dates
        if result.held_claims and result.ok:  # a rejected file is named once, as rejected
            report.held[result.file] = list(result.held_claims)
        if not result.ok:
            report.rejected_files.append(result.file)
            continue
        clash = next((c.claim_id for c in result.claims if c.claim_id in owner), None)
        if clash:
            report.problems.append(Problem(result.file, "patient.id", ERROR,
                                           f"claim {clash} is also produced by {owner[clash]}: two files for "
                                           "one patient id? Merge them or give each patient its own id"))
            report.rejected_files.append(result.file)
            continue
        if result.patient_file is None:  # loaded nothing, so it has no claims
            continue
        for claim, digest in zip(result.claims, result.hashes, strict=True):
            owner[claim.claim_id] = result.file
            items.append(Item(result.file, result.patient_file, claim))
            hashes.append(digest)
    labels = {"clinic": "clinic profile(s)", "request": "prior-authorization request(s)",
              "gfe": "Good Faith Estimate(s)"}
    kinds = [f"{n} {labels[kind]}" for kind, n in skipped_kinds.items() if n]
    if kinds:
        report.notes.append(f"skipped {' and '.join(kinds)}: not patient files")
    return items, hashes


def _export_items(loaded, items: list[Item], hashes: list[str], formats: tuple[str, ...],
                  options: ExportOptions, ledger_path: Path, report: ExportReport) -> None:
    """Plan the run in the ledger, write its files, record it: or report why not."""
    out_dir = Path(options.out_dir)
    candidates = _candidates(items, hashes, formats, options, report)
    if candidates is None:
        return
    try:
        ledger = ledger_mod.Ledger(ledger_path)
    except ledger_mod.LedgerError as exc:
        report.fatal.append(Problem(str(exc.path), "", ERROR, exc.reason))
        return
    with ledger:
        from superbill.batch.estimates import overrun_warnings

        report.problems += overrun_warnings(ledger, items)  # the $400 test against issued estimates
        plan = _plan_run(ledger, loaded, candidates, formats, options, report)
        if plan is None:
            return
        for decision in plan.decisions.values():
            bucket = {"skip": report.skipped, "changed": report.changed, "busy": report.busy,
                      "already": report.already_sent}.get(decision.action)
            if bucket is not None:
                bucket.append(decision)
        report.fatal += [Problem(d.claim_id, "", ERROR, f"{_FLAGS[d.frequency]}: {d.reason}; nothing exported")
                         for d in plan.refused()]
        if plan.run_id is None:
            return
        report.run_id, report.control_number = plan.run_id, plan.control_number
        try:
            report.written = _write_run(loaded, items, plan, formats, out_dir, options, ledger)
        except BaseException as exc:
            _record_failure(exc, ledger, plan.run_id, out_dir, ledger_path, report)
            if not isinstance(exc, Exception):
                raise
            return
        sent = plan.to_send()
        report.exported = [d.claim_id for d in sent]
        report.resubmitted = [d.claim_id for d in sent if d.resubmission]
        report.corrections = [d for d in sent if d.frequency != "1"]


_FLAGS = {"1": "--resubmit-claim", "7": "--replace", "8": "--void"}


def _candidates(items: list[Item], hashes: list[str], formats: tuple[str, ...], options: ExportOptions,
                report: ExportReport) -> list[ledger_mod.Candidate] | None:
    """The ledger's view of every claim, with what the clerk asked for it; None (and the reason in
    `report.fatal`) when a claim named on the command line is not among the inputs' claims."""
    if (options.replace or options.void) and not set(formats) & set(CORRECTION_FORMATS):
        report.fatal.append(Problem("--format", "", ERROR, "a replacement or void is sent as an 837P or a "
                                    "CMS-1500: add 837p or cms1500; nothing exported"))
        return None
    ids = {item.claim.claim_id for item in items}
    named = [("1", cid) for cid in options.resubmit_claims] + [("7", cid) for cid in options.replace] \
        + [("8", cid) for cid in options.void]
    for frequency, claim_id in named:
        if claim_id not in ids:
            report.fatal.append(Problem(claim_id, "", ERROR, f"{_FLAGS[frequency]}: no such claim in the inputs "
                                        "(check the claim id, the files given and --from/--to); nothing exported"))
    if report.fatal:
        return None
    out = []
    for item, digest in zip(items, hashes, strict=True):
        claim = item.claim
        cid = claim.claim_id
        frequency = "7" if cid in options.replace else "8" if cid in options.void else "1"
        out.append(ledger_mod.Candidate(cid, digest, claim.patient_id, claim.date_of_service.isoformat(),
                                        f"{claim.total_charge:.2f}", frequency=frequency,
                                        payer_claim_number=options.replace.get(cid) or options.void.get(cid),
                                        resend=cid in options.resubmit_claims))
    return out


def _plan_run(ledger, loaded, candidates, formats, options: ExportOptions, report: ExportReport):
    """Recover interrupted runs, create the output folder and open the run: the plan, or None
    (with the reason in `report.fatal`)."""
    from superbill.batch.control_numbers import ClinicMark
    from superbill.outfiles import ensure_folder

    out_dir = Path(options.out_dir)
    try:
        report.notes += [note.line() for note in ledger.recover()]
        ensure_folder(out_dir)
        usage = options.usage or (loaded.clinic.x12.usage if loaded.clinic.x12 else None)
        # Above every number any ledger of this clinic folder issued (control_numbers.ClinicMark).
        return ledger.begin_run(candidates, list(formats), resubmit=options.resubmit, output_dir=out_dir,
                                usage=usage, reserve=ClinicMark(loaded.folder).reserve)
    except ledger_mod.LedgerError as exc:
        report.fatal.append(Problem(str(exc.path), "", ERROR, exc.reason))
    except sqlite3.Error as exc:  # e.g. the disk is full
        report.fatal.append(Problem(str(ledger.path), "", ERROR, f"cannot be written ({exc}); nothing exported"))
    except OSError as exc:
        report.fatal.append(Problem(str(out_dir), "", ERROR, f"cannot create the output folder ({exc.strerror})"))
    return None


def _record_failure(exc: BaseException, ledger, run_id: int, out_dir: Path, ledger_path: Path,
                    report: ExportReport) -> None:
    """A run whose files could not all be written: abandoned in the ledger unless files were left
    named (then it stays "writing" for the next export's recovery). Recording the failure can fail
    too (the disk is full): the same."""
    leftovers = exc.leftovers if isinstance(exc, RunFailed) else []
    error = exc.error if isinstance(exc, RunFailed) else exc
    if not leftovers:
        try:
            ledger.abandon_run(run_id, f"failed: {error.__class__.__name__}")
        except (sqlite3.Error, ledger_mod.LedgerError):
            pass
    if isinstance(error, Exception):
        report.fatal.append(_failure_problem(error, out_dir, ledger_path))
        report.fatal += [Problem(str(path), "", ERROR, "was written but cannot be removed after the failure: "
                                 "do not send it (the next export removes it)") for path in leftovers]


def _failure_problem(exc: Exception, out_dir: Path, ledger_path: Path | None = None) -> Problem:
    from superbill.exports.x12 import X12DataError

    problem = getattr(exc, "problem", None)
    if isinstance(problem, Problem):
        return problem
    if isinstance(exc, X12DataError):
        return Problem("", exc.path, ERROR, exc.message)
    if isinstance(exc, OSError):
        return Problem(str(out_dir), "", ERROR, f"cannot write the export ({exc.strerror or exc})")
    if isinstance(exc, sqlite3.Error) and ledger_path is not None:
        return Problem(str(ledger_path), "", ERROR, f"cannot record the export ({exc}); nothing exported")
    return Problem(str(out_dir), "", ERROR, f"the export failed ({exc.__class__.__name__}: {exc})")


def _line_records(items: list[Item], control: int) -> list[tuple]:
    """The 837P's service lines for the ledger, each with its REF*6R (x12.line_controls)."""
    from superbill.engine.claims import money
    from superbill.exports.x12 import line_controls

    controls = line_controls([(i.patient_file, i.claim) for i in items], control)
    return [(i.claim.claim_id, number, ref, line.code, "-".join(line.modifiers), line.units,
             money(line.charge or Decimal(0)))
            for i in items
            for number, (line, ref) in enumerate(zip(i.claim.lines, controls[i.claim.claim_id], strict=True), start=1)]


def _write_run(loaded, items: list[Item], plan, formats, out_dir: Path, options: ExportOptions, ledger) -> list[Path]:
    """Build every file, stage it durably, name them all, then record the run. On a failure the
    run's files are removed and `RunFailed` raised (KeyboardInterrupt and the like pass through)."""
    from superbill.exports.x12 import claim_controls

    send = {d.claim_id: d for d in plan.to_send()}
    items = [_as_sent(item, send[item.claim.claim_id]) for item in items if item.claim.claim_id in send]
    per_format = {f: [i for i in items if f in send[i.claim.claim_id].formats] for f in formats}
    interchange = f"{plan.control_number:09d}"
    run = RunContext(control=plan.control_number, usage=options.usage, now=options.now, today=options.today,
                     jobs=options.jobs, cms1500_data_only=options.cms1500_data_only,
                     x12_claims={i.claim.claim_id: interchange for i in per_format.get("837p", [])})
    progress = options.progress or Progress()
    outputs: list[OutputFile] = []
    for fmt in formats:
        if per_format[fmt]:
            progress.rendering(fmt, len(per_format[fmt]))
            files = RENDERERS[fmt](loaded, per_format[fmt], run)
            progress.rendered(fmt, len(files))
            outputs += files
    if per_format.get("837p"):
        ledger.record_lines(plan.run_id, _line_records(per_format["837p"], plan.control_number))
    ledger.plan_files(plan.run_id, [name for name, _ in outputs])
    staged: list[Staged] = []
    published: list[Path] = []
    try:
        for name, data in outputs:
            staged.append(Staged(out_dir, name, data))
        _checkpoint("staged")
        for entry in staged:
            published.append(entry.publish())
        fsync_folder(out_dir)
        _checkpoint("published")
        transactions = claim_controls([(i.patient_file, i.claim) for i in per_format.get("837p", [])]) \
            if "837p" in formats else {}
        ledger.finish_run(plan.run_id, transactions)
    except Exception as exc:
        raise RunFailed(exc, remove_run_files(staged, published, out_dir)) from exc
    except BaseException:
        remove_run_files(staged, published, out_dir)
        raise
    return published


def _as_sent(item: Item, decision: ledger_mod.Decision) -> Item:
    """The claim as this run sends it: a replacement or void carries its frequency code and the
    payer's claim number (837P CLM05-3 and REF*F8, CMS-1500 item 22), and every line."""
    if decision.frequency == "1":
        return item
    claim = replace(item.claim, frequency_code=decision.frequency, payer_claim_number=decision.payer_claim_number)
    return Item(item.file, item.patient_file, claim)
