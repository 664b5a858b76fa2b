"""Batch export for billing staff: patient files in; 837P, CMS-1500, CSV and superbills out.

`export_claims(inputs, loaded, options)` runs the whole pipeline and returns an `ExportReport`:

1. the inputs (files, or folders searched recursively for *.yaml/*.yml/*.json; the clinic profile and
   prior-authorization requests are skipped) go through `load.process_patient`, in parallel worker
   processes with `jobs` > 1, results kept in input order so the output is deterministic;
2. a file with any error is rejected (its problems reported) and the others go on;
3. the ledger decides, per claim: not exported yet (send), exported with the same content (skip,
   "already exported"), exported with different content (reported, not re-sent unless `resubmit`),
   or pending in a concurrent export (skip);
4. the run's files are built in memory, each written to an unnamed temporary file in the output
   folder (or a hidden ``.part`` file where the system has none), fsynced, then given its name; the
   folder is fsynced, and only then are the claims recorded in the ledger as exported.

`--resubmit` sends already-exported claims again as new originals (CLM05-3 = 1) under a new
interchange control number: a replacement (frequency 7) must carry the payer's claim control number
in REF*F8, which superbill never receives. Send a resubmission only for claims the payer did not
accept; for a claim the payer adjudicated, file a corrected claim with the payer's number instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from superbill.problems import ERROR, InputRejected, Problem

FORMATS = ("837p", "cms1500", "csv", "superbill")
PATIENT_SUFFIXES = {".yaml", ".yml", ".json"}
CLINIC_NAMES = {"clinic.yaml", "clinic.yml", "clinic.json"}


@dataclass
class ExportOptions:
    out_dir: Path
    formats: tuple[str, ...] = ("837p",)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    jobs: int | None = None
    resubmit: bool = False
    ledger_path: Path | None = None
    cms1500_data_only: bool = False
    usage: str | None = None
    today: dt.date | None = None
    now: dt.datetime | None = None  # the 837P's creation time (tests fix it)
    progress: object = None  # callable(done, total) or None


@dataclass
class ExportReport:
    files: list[str] = field(default_factory=list)
    run_id: int | None = None
    control_number: int | None = None
    written: list[Path] = field(default_factory=list)
    exported: list[str] = field(default_factory=list)
    resubmitted: list[str] = field(default_factory=list)
    skipped: list = field(default_factory=list)  # ledger.Decision
    changed: list = field(default_factory=list)
    busy: list = field(default_factory=list)
    rejected_files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # errors and warnings, per file
    fatal: list[Problem] = field(default_factory=list)  # nothing could be exported
    notes: list[str] = field(default_factory=list)
    ledger_path: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.rejected_files and not self.fatal

    def summary_lines(self) -> list[str]:
        lines = list(self.notes)
        if self.fatal:
            lines.append("nothing exported")
            return lines
        for path in self.written:
            lines.append(f"wrote {path}")
        if self.exported:
            what = f"exported {len(self.exported)} claim(s) in run {self.run_id} (interchange {self.control_number:09d})"
            if self.resubmitted:
                what += f", {len(self.resubmitted)} of them resubmitted"
            lines.append(what)
        else:
            lines.append("exported 0 claims")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} claim(s) already exported (superbill ledger list shows when)")
        if self.busy:
            lines.append(f"skipped {len(self.busy)} claim(s) being exported by another run right now")
        if self.changed:
            lines.append(f"{len(self.changed)} claim(s) changed since they were exported: not re-sent "
                         "(use --resubmit to send them again)")
        if self.rejected_files:
            lines.append(f"rejected {len(self.rejected_files)} file(s) with errors: nothing exported from them")
        return lines

    def warning_lines(self) -> list[str]:
        """Per-claim notices that need the clerk's attention (stderr)."""
        lines = []
        for d in self.changed:
            lines.append(f"{d.claim_id}: warning: changed since it was exported in run {d.previous_run} "
                         f"(interchange {d.previous_interchange}, {_when(d.previous_time)}); not re-sent "
                         "(use --resubmit to send it again)")
        for d in self.busy:
            lines.append(f"{d.claim_id}: warning: being exported by run {d.previous_run} right now; skipped")
        return lines

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "run_id": self.run_id,
            "interchange": None if self.control_number is None else f"{self.control_number:09d}",
            "written": [str(p) for p in self.written],
            "exported": self.exported,
            "resubmitted": self.resubmitted,
            "skipped": [d.claim_id for d in self.skipped],
            "changed": [d.claim_id for d in self.changed],
            "busy": [d.claim_id for d in self.busy],
            "rejected_files": self.rejected_files,
            "problems": [p.as_dict() for p in self.fatal + self.problems],
        }


from superbill.batch.ledger import when_text as _when  # noqa: E402 (one formatting of ledger times)

# ---------------------------------------------------------------- inputs


def expand_inputs(inputs) -> tuple[list[Path], list[Problem]]:
    """Files as given, folders searched recursively (sorted); duplicates dropped; hidden folders skipped;
    symbolic links out of a searched folder reported, not followed."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()

    def add(path: Path):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            # A symbolic link that leads out of the folder is not followed: a link planted in a shared
            # folder must not pull another clinic's patient (or any file) into this export. It is
            # reported, so the clerk can name the target itself if it belongs.
            root = path.resolve()
            found, outside = [], []
            for p in path.rglob("*"):
                if any(part.startswith(".") for part in p.relative_to(path).parts):
                    continue
                if p.is_symlink():
                    target = p.resolve()
                    if target != root and root not in target.parents:
                        if p.is_dir() or p.suffix.lower() in PATIENT_SUFFIXES:
                            outside.append(p)
                        continue
                if p.suffix.lower() in PATIENT_SUFFIXES and p.is_file() and p.name.lower() not in CLINIC_NAMES:
                    found.append(p)
            for p in sorted(found):
                add(p)
            for p in sorted(outside):
                problems.append(Problem(str(p), "", ERROR, "is a symbolic link out of the folder: not read "
                                                           "(give its target to export it)"))
        elif path.exists():
            add(path)
        else:
            problems.append(Problem(str(path), "", ERROR, "no such file or folder"))
    return files, problems


# ---------------------------------------------------------------- per file (runs in workers)


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
    patient_file: object = None
    claims: list = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)


_WORKER: dict = {}


def _init_worker(loaded, settings):
    _WORKER["loaded"] = loaded
    _WORKER["settings"] = settings


def _process_file(path: str) -> FileResult:
    from superbill.inputs.load import detect_kind, process_patient
    from superbill.inputs.readfile import read_document

    loaded = _WORKER["loaded"]
    settings = _WORKER["settings"]
    out = FileResult(path)
    result = process_patient(path, loaded, today=settings["today"], date_from=settings["date_from"],
                             date_to=settings["date_to"])
    out.patient_file = result.patient_file
    out.problems = list(result.problems)
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
    if "837p" in settings["formats"]:
        from superbill.exports.x12 import patient_problems

        out.problems += patient_problems(result.patient_file, result.claims, path, loaded.book)
        if not out.ok:
            return out
    out.claims = list(result.claims)
    out.hashes = [claim_hash(result.patient_file, claim) for claim in out.claims]
    return out


def process_files(files: list[Path], loaded, settings: dict, jobs: int | None, progress=None) -> list[FileResult]:
    """Every file through the pipeline, in input order; in `jobs` worker processes when > 1."""
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
                progress(len(results), len(names))
        return results
    chunk = max(1, min(64, len(names) // (jobs * 4) or 1))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(loaded, settings)) as pool:
        for result in pool.map(_process_file, names, chunksize=chunk):
            results.append(result)
            if progress:
                progress(len(results), len(names))
    return results


# ---------------------------------------------------------------- durable files


def _checkpoint(stage: str) -> None:
    """A seam for tests that interrupt a run at a given stage ("staged", "published")."""


_UNNAMED: dict[str, bool] = {}


def _unnamed_files_work(folder: Path) -> bool:
    """Whether `folder` supports unnamed temporary files that can be named later (Linux O_TMPFILE
    plus a link through /proc). Such a file vanishes if the process is killed before naming it."""
    key = str(Path(folder).resolve())
    if key not in _UNNAMED:
        works = False
        flag = getattr(os, "O_TMPFILE", 0)
        if flag and os.path.isdir("/proc/self/fd"):
            probe = Path(folder) / f".superbill-probe-{os.getpid()}"
            try:
                fd = os.open(folder, flag | os.O_WRONLY, 0o600)
                try:
                    os.link(f"/proc/self/fd/{fd}", probe, follow_symlinks=True)
                    works = True
                finally:
                    os.close(fd)
                    probe.unlink(missing_ok=True)
            except OSError:
                works = False
        _UNNAMED[key] = works
    return _UNNAMED[key]


class _FdWriter:
    """A minimal binary file over a raw descriptor, for writers that stream (`x12.write_837p`)."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, data) -> int:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        return len(data)


class _Staged:
    """A file fully written and fsynced but not yet visible under its name. `data` is the bytes, or
    a callable that writes them into the binary file it is given (streamed, never all in memory)."""

    def __init__(self, folder: Path, name: str, data):
        self.folder = folder
        self.name = name
        self.fd: int | None = None
        self.tmp: Path | None = None
        if _unnamed_files_work(folder):
            try:
                self.fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600)
            except OSError:
                self.fd = None
        if self.fd is None:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            self.fd, self.tmp = fd, Path(tmp)
        try:
            os.fchmod(self.fd, 0o600)
            if callable(data):
                data(_FdWriter(self.fd))
            else:
                _FdWriter(self.fd).write(data)
            os.fsync(self.fd)
        except BaseException:
            self.discard()
            raise

    def publish(self) -> Path:
        target = self.folder / self.name
        if self.tmp is None:
            try:
                os.link(f"/proc/self/fd/{self.fd}", target, follow_symlinks=True)
            except FileExistsError:
                # Replace atomically: link under a temporary name, then rename over the old file.
                spare = self.folder / f".{self.name}.{os.getpid()}.part"
                spare.unlink(missing_ok=True)
                os.link(f"/proc/self/fd/{self.fd}", spare, follow_symlinks=True)
                os.replace(spare, target)
        else:
            os.replace(self.tmp, target)
            self.tmp = None
        self._close()
        return target

    def _close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def discard(self):
        self._close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- output formats


@dataclass
class Item:
    """One claim to write, with what every writer needs around it."""

    file: str
    patient_file: object
    claim: object


def _render_837p(loaded, items: list[Item], control: int, options: ExportOptions) -> list[tuple[str, object]]:
    """The interchange as a writer: `_Staged` streams it into the file segment by segment (10,000
    claims are about 6 MB of text that never needs to be in memory at once)."""
    from superbill.exports.x12 import Envelope, write_837p

    usage = options.usage or loaded.clinic.x12.usage
    created = options.now or dt.datetime.now()
    envelope = Envelope(control, created, usage)
    pairs = [(i.patient_file, i.claim) for i in items]
    return [(f"claims-{control:09d}.837", lambda handle: write_837p(loaded, pairs, envelope, handle))]


def _by_patient(items: list[Item]) -> list[tuple[str, object, list]]:
    groups: dict[str, tuple[str, object, list]] = {}
    for item in items:
        groups.setdefault(item.file, (item.file, item.patient_file, []))[2].append(item.claim)
    return list(groups.values())


def _render_superbill(loaded, items: list[Item], control: int, options: ExportOptions) -> list[tuple[str, bytes]]:
    from superbill.documents.superbill_doc import build_patient_documents, render_superbills, templates_folder
    from superbill.inputs.load import PatientResult

    folder = templates_folder(loaded, None)
    documents = []
    for file, patient_file, claims in _by_patient(items):
        result = PatientResult(file, patient_file=patient_file, claims=claims)
        docs, _ = build_patient_documents(result, loaded, templates_dir=folder, issued=options.today)
        documents += docs
    pdfs = render_superbills(documents, jobs=options.jobs)
    names, out = set(), []
    for doc, pdf in zip(documents, pdfs, strict=True):
        name = f"superbill-{control:09d}-{doc.stem}.pdf"
        n = 2
        while name in names:
            name = f"superbill-{control:09d}-{doc.stem}-{n}.pdf"
            n += 1
        names.add(name)
        out.append((name, pdf))
    return out


def _pairs(items: list[Item]) -> list:
    return [(i.patient_file, i.claim) for i in items]


def _render_cms1500(loaded, items: list[Item], control: int, options: ExportOptions) -> list[tuple[str, bytes]]:
    from superbill.documents import cms1500

    name = f"cms1500-{control:09d}.pdf"
    data = cms1500.cms1500_pdf(_pairs(items), loaded, options.cms1500_data_only, today=options.today)
    return [(name, data)]


def _render_csv(loaded, items: list[Item], control: int, options: ExportOptions) -> list[tuple[str, bytes]]:
    from superbill.exports import csvexport

    # The same bytes as csvexport.write_csv: UTF-8 with a byte-order mark, so Excel reads accents right.
    return [(f"claims-{control:09d}.csv", csvexport.csv_text(_pairs(items), loaded).encode("utf-8-sig"))]


RENDERERS = {
    "837p": _render_837p,
    "cms1500": _render_cms1500,
    "csv": _render_csv,
    "superbill": _render_superbill,
}


def available_formats() -> list[str]:
    """The formats this installation can write (the CMS-1500 and CSV writers are separate modules)."""
    import importlib.util

    out = []
    for name in FORMATS:
        module = {"cms1500": "superbill.documents.cms1500", "csv": "superbill.exports.csvexport",
                  "superbill": "superbill.documents.superbill_doc"}.get(name)
        if module is None or importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


# ---------------------------------------------------------------- the run


def export_claims(inputs, loaded, options: ExportOptions) -> ExportReport:
    from superbill.batch import ledger as ledger_mod

    report = ExportReport()
    formats = tuple(f for f in FORMATS if f in options.formats)
    out_dir = Path(options.out_dir)
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

    settings = {"today": options.today or dt.date.today(), "date_from": options.date_from,
                "date_to": options.date_to, "formats": formats}
    results = process_files(files, loaded, settings, options.jobs, options.progress)

    items: list[Item] = []
    hashes: list[str] = []
    owner: dict[str, str] = {}
    skipped_kinds = {"clinic": 0, "request": 0}
    for result in results:
        if result.kind != "patient":
            skipped_kinds[result.kind] += 1
            continue
        report.problems += result.problems
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
        for claim, digest in zip(result.claims, result.hashes, strict=True):
            owner[claim.claim_id] = result.file
            items.append(Item(result.file, result.patient_file, claim))
            hashes.append(digest)
    kinds = [f"{n} {label}" for n, label in ((skipped_kinds["clinic"], "clinic profile(s)"),
                                              (skipped_kinds["request"], "prior-authorization request(s)")) if n]
    if kinds:
        report.notes.append(f"skipped {' and '.join(kinds)}: not patient files")
    if not items:
        return report

    candidates = [ledger_mod.Candidate(i.claim.claim_id, h, i.claim.patient_id, i.claim.date_of_service.isoformat(),
                                       f"{i.claim.total_charge:.2f}") for i, h in zip(items, hashes, strict=True)]
    try:
        ledger = ledger_mod.Ledger(ledger_path)
    except ledger_mod.LedgerError as exc:
        report.fatal.append(Problem(str(ledger_path), "", ERROR, str(exc).split(": ", 1)[-1]))
        return report
    with ledger:
        try:
            report.notes += [note.line() for note in ledger.recover()]
            from superbill.outfiles import ensure_folder

            ensure_folder(out_dir)
            plan = ledger.begin_run(candidates, list(formats), resubmit=options.resubmit, output_dir=out_dir,
                                    usage=(options.usage or (loaded.clinic.x12.usage if loaded.clinic.x12 else None)))
        except ledger_mod.LedgerError as exc:
            report.fatal.append(Problem(str(ledger_path), "", ERROR, str(exc).split(": ", 1)[-1]))
            return report
        except sqlite3.Error as exc:  # e.g. the disk is full
            report.fatal.append(Problem(str(ledger_path), "", ERROR, f"cannot be written ({exc}); nothing exported"))
            return report
        except OSError as exc:
            report.fatal.append(Problem(str(out_dir), "", ERROR, f"cannot create the output folder ({exc.strerror})"))
            return report
        for decision in plan.decisions.values():
            bucket = {"skip": report.skipped, "changed": report.changed, "busy": report.busy}.get(decision.action)
            if bucket is not None:
                bucket.append(decision)
        if plan.run_id is None:
            return report
        report.run_id, report.control_number = plan.run_id, plan.control_number
        try:
            written = _write_run(loaded, items, plan, formats, out_dir, options, ledger)
        except BaseException as exc:
            # A file that was named but cannot be removed again (the folder went read-only) keeps
            # the run "writing": the next export's recovery removes it, or completes the run when
            # every file is there. Recording the failure can fail too (the disk is full): the same.
            leftovers = getattr(exc, "superbill_leftovers", [])
            if not leftovers:
                try:
                    ledger.abandon_run(plan.run_id, f"failed: {exc.__class__.__name__}")
                except (sqlite3.Error, ledger_mod.LedgerError):
                    pass
            if isinstance(exc, Exception):
                report.fatal.append(_failure_problem(exc, out_dir, ledger_path))
                report.fatal += [Problem(str(path), "", ERROR, "was written but cannot be removed after the failure: "
                                         "do not send it (the next export removes it)") for path in leftovers]
                return report
            raise
        report.written = written
        sent = [d for d in plan.to_send()]
        report.exported = [d.claim_id for d in sent]
        report.resubmitted = [d.claim_id for d in sent if d.resubmission]
    return report


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


def _write_run(loaded, items: list[Item], plan, formats, out_dir: Path, options: ExportOptions, ledger) -> list[Path]:
    """Build every file in memory, stage it durably, name them all, then record the run."""
    from superbill.exports.x12 import claim_controls

    send = {d.claim_id: d for d in plan.to_send()}
    per_format = {f: [i for i in items if i.claim.claim_id in send and f in send[i.claim.claim_id].formats]
                  for f in formats}
    outputs: list[tuple[str, bytes]] = []
    for fmt in formats:
        if per_format[fmt]:
            outputs += RENDERERS[fmt](loaded, per_format[fmt], plan.control_number, options)
    ledger.plan_files(plan.run_id, [name for name, _ in outputs])
    staged: list[_Staged] = []
    published: list[Path] = []
    try:
        for name, data in outputs:
            staged.append(_Staged(out_dir, name, data))
        _checkpoint("staged")
        for entry in staged:
            published.append(entry.publish())
        _fsync_folder(out_dir)
        _checkpoint("published")
        transactions = claim_controls([(i.patient_file, i.claim) for i in per_format.get("837p", [])]) \
            if "837p" in formats else {}
        ledger.finish_run(plan.run_id, transactions)
    except BaseException as exc:
        leftovers = _remove_run_files(staged, published, out_dir)
        if leftovers and isinstance(exc, Exception):
            exc.superbill_leftovers = leftovers
        raise
    return published


def _remove_run_files(staged: list[_Staged], published: list[Path], out_dir: Path) -> list[Path]:
    """Undo a failed run's files, every one that can be: the named files that cannot be removed
    are returned (a hidden .part file left behind is removed by the next export's recovery)."""
    for entry in staged:
        try:
            entry.discard()
        except OSError:
            pass
    leftovers = []
    for path in published:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            leftovers.append(path)
    _fsync_folder(out_dir)
    return leftovers
