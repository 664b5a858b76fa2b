"""The export ledger: an SQLite file beside the clinic profile recording what was sent, when.

Tables: `runs` (one export run: time, formats, folder, interchange control number, files, status),
`claims` (one claim in one run: claim id, content hash, formats, control numbers, status) and
`counters` (the interchange control number, never repeated for this ledger).

How a run stays consistent through crashes and concurrent exports:

1. `begin_run` (one `BEGIN IMMEDIATE` transaction, so two exports are serialized here): classify every
   candidate claim against what was sent, take the next control number, insert the run as `writing`
   and its claims as `pending`. A claim pending in another live run is skipped, so two exports started
   at once never send the same claim twice, and never share a control number.
2. `plan_files` records the names the run will write, before anything is written.
3. The caller writes every file completely (unnamed temporary file, fsync, then link/rename).
4. `finish_run` marks the run `done` and its claims `sent`. Only then is a claim "exported".

A run that fails in step 3 is `abandon_run`-ed (its files removed by the caller). A run killed
outright stays `writing`; `recover` (called at the start of every export) settles it once its process
is gone: when every planned file exists (each one was complete before it got its name) the run is
completed, otherwise its files are removed and its claims voided. `ledger list` shows such a run as
interrupted until then.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from superbill.batch import durable

DEFAULT_NAME = "superbill-ledger.sqlite3"
MAX_CONTROL = 999_999_999

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    started       TEXT NOT NULL,
    finished      TEXT,
    status        TEXT NOT NULL CHECK (status IN ('writing', 'done', 'failed')),
    interchange   TEXT NOT NULL UNIQUE,
    formats       TEXT NOT NULL,
    output_dir    TEXT NOT NULL,
    files         TEXT NOT NULL DEFAULT '[]',
    usage         TEXT,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    process_token TEXT,
    note          TEXT
);
CREATE TABLE IF NOT EXISTS claims (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id        TEXT NOT NULL,
    run_id          INTEGER NOT NULL REFERENCES runs(run_id),
    content_hash    TEXT NOT NULL,
    patient_id      TEXT NOT NULL,
    date_of_service TEXT NOT NULL,
    total_charge    TEXT NOT NULL,
    formats         TEXT NOT NULL,
    interchange     TEXT NOT NULL,
    group_control   TEXT NOT NULL,
    transaction_control TEXT,
    resubmission    INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'void')),
    exported_at     TEXT
);
CREATE INDEX IF NOT EXISTS claims_by_claim_id ON claims(claim_id, status);
CREATE INDEX IF NOT EXISTS claims_by_run ON claims(run_id);
"""


class LedgerError(Exception):
    """The ledger cannot be used (unreadable, locked too long, control numbers exhausted): `path`
    is the ledger file, `reason` says why in words for the clerk."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def default_path(clinic_folder: str | Path) -> Path:
    return Path(clinic_folder) / DEFAULT_NAME


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc (Linux), None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def _process_token(pid: int) -> str | None:
    """The process's start time, so a recycled pid is not mistaken for a live export."""
    stat = _stat(pid)
    return stat[1] if stat else None


def process_alive(pid: int, token: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:
        return False
    stat = _stat(pid)
    if stat is None:
        return True  # no /proc here: trust the signal check
    state, start = stat
    if state == "Z":
        return False  # killed, not yet reaped
    return token is None or start == token


@dataclass(frozen=True)
class Candidate:
    """A claim the export could send, with the formats asked for."""

    claim_id: str
    content_hash: str
    patient_id: str
    date_of_service: str
    total_charge: str


@dataclass
class Decision:
    claim_id: str
    action: str  # "send", "skip" (already exported), "changed", "busy"
    formats: tuple[str, ...] = ()  # for "send": the formats to write
    resubmission: bool = False
    previous_run: int | None = None
    previous_time: str | None = None
    previous_interchange: str | None = None


@dataclass
class RunPlan:
    run_id: int | None
    control_number: int | None
    decisions: dict[str, Decision] = field(default_factory=dict)

    def to_send(self) -> list[Decision]:
        return [d for d in self.decisions.values() if d.action == "send"]


@dataclass
class Recovery:
    run_id: int
    completed: bool
    files: list[str]
    removed: list[str]

    def line(self) -> str:
        if self.completed:
            return (f"run {self.run_id} had been interrupted after writing all its files; "
                    "its claims are now recorded as exported")
        removed = f"; removed {', '.join(self.removed)}" if self.removed else ""
        return f"run {self.run_id} had been interrupted before all its files were written; nothing of it is recorded{removed}"


class Ledger:
    def __init__(self, path: str | Path, timeout: float = 60.0):
        self.path = Path(path)
        self.timeout = timeout
        self.pid = os.getpid()
        self.host = socket.gethostname()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Owner-only from the start: the ledger holds patient ids and dates of service.
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
            self.db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            with self._write():
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT OR IGNORE INTO counters(name, value) VALUES ('interchange', 0)")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(self.path, f"cannot be used as the export ledger ({exc})") from None
        except OSError as exc:
            raise LedgerError(self.path, f"cannot be opened ({exc.strerror})") from None

    # ------------------------------------------------------------ plumbing

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    class _Txn:
        def __init__(self, ledger: Ledger):
            self.db = ledger.db
            self.path = ledger.path

        def __enter__(self):
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LedgerError(self.path, f"busy ({exc}); another export holds it too long") from None
            return self.db

        def __exit__(self, kind, value, tb):
            if kind is None:
                self.db.execute("COMMIT")
            else:
                self.db.execute("ROLLBACK")
            return False

    def _write(self) -> _Txn:
        return Ledger._Txn(self)

    # ------------------------------------------------------------ runs

    def recover(self) -> list[Recovery]:
        """Settle runs left `writing` by a process that is gone (see the module docstring)."""
        notes = []
        rows = self.db.execute("SELECT * FROM runs WHERE status = 'writing' ORDER BY run_id").fetchall()
        for row in rows:
            if row["host"] != self.host or process_alive(row["pid"], row["process_token"]):
                continue
            files = json.loads(row["files"])
            folder = Path(row["output_dir"])
            complete = durable.all_present(folder, files)
            removed: list[str] = []
            with self._write() as db:
                current = db.execute("SELECT status FROM runs WHERE run_id = ?", (row["run_id"],)).fetchone()
                if current["status"] != "writing":
                    continue  # another export settled it meanwhile
                if complete:
                    db.execute("UPDATE claims SET status = 'sent', exported_at = ? WHERE run_id = ? AND status = 'pending'",
                               (_now(), row["run_id"]))
                    db.execute("UPDATE runs SET status = 'done', finished = ?, note = ? WHERE run_id = ?",
                               (_now(), "completed after an interruption", row["run_id"]))
                else:
                    removed = durable.remove_files(folder, files)
                    db.execute("UPDATE claims SET status = 'void' WHERE run_id = ? AND status = 'pending'", (row["run_id"],))
                    db.execute("UPDATE runs SET status = 'failed', finished = ?, note = ? WHERE run_id = ?",
                               (_now(), "interrupted; nothing recorded", row["run_id"]))
            notes.append(Recovery(row["run_id"], complete, files, removed))
        return notes

    def begin_run(self, candidates: list[Candidate], formats: list[str], *, resubmit: bool,
                  output_dir: str | Path, usage: str | None = None) -> RunPlan:
        """Classify the candidates and, when something is to be sent, open a run for it."""
        formats = list(formats)
        plan = RunPlan(None, None)
        with self._write() as db:
            for cand in candidates:
                rows = db.execute(
                    "SELECT c.*, r.started AS run_started FROM claims c JOIN runs r USING (run_id) "
                    "WHERE c.claim_id = ? AND c.status IN ('sent', 'pending') ORDER BY c.id",
                    (cand.claim_id,)).fetchall()
                pending = [r for r in rows if r["status"] == "pending"]
                sent = [r for r in rows if r["status"] == "sent"]
                if pending:
                    last = pending[-1]
                    plan.decisions[cand.claim_id] = Decision(cand.claim_id, "busy", previous_run=last["run_id"],
                                                             previous_time=last["run_started"],
                                                             previous_interchange=last["interchange"])
                    continue
                if not sent:
                    plan.decisions[cand.claim_id] = Decision(cand.claim_id, "send", tuple(formats))
                    continue
                last = sent[-1]
                previous = dict(previous_run=last["run_id"], previous_time=last["exported_at"],
                                previous_interchange=last["interchange"])
                if resubmit:
                    plan.decisions[cand.claim_id] = Decision(cand.claim_id, "send", tuple(formats),
                                                             resubmission=True, **previous)
                    continue
                if last["content_hash"] != cand.content_hash:
                    plan.decisions[cand.claim_id] = Decision(cand.claim_id, "changed", **previous)
                    continue
                done = set()
                for row in sent:
                    if row["content_hash"] == cand.content_hash:
                        done |= set(json.loads(row["formats"]))
                missing = tuple(f for f in formats if f not in done)
                if missing:
                    plan.decisions[cand.claim_id] = Decision(cand.claim_id, "send", missing, **previous)
                else:
                    plan.decisions[cand.claim_id] = Decision(cand.claim_id, "skip", **previous)
            if not plan.to_send():
                return plan
            value = db.execute("SELECT value FROM counters WHERE name = 'interchange'").fetchone()["value"] + 1
            if value > MAX_CONTROL:
                raise LedgerError(self.path, "the interchange control numbers are used up (999999999)")
            db.execute("UPDATE counters SET value = ? WHERE name = 'interchange'", (value,))
            interchange = f"{value:09d}"
            cursor = db.execute(
                "INSERT INTO runs(started, status, interchange, formats, output_dir, usage, host, pid, process_token) "
                "VALUES (?, 'writing', ?, ?, ?, ?, ?, ?, ?)",
                (_now(), interchange, json.dumps(formats), str(Path(output_dir).resolve()), usage,
                 self.host, self.pid, _process_token(self.pid)))
            plan.run_id = cursor.lastrowid
            plan.control_number = value
            by_id = {c.claim_id: c for c in candidates}
            for decision in plan.to_send():
                cand = by_id[decision.claim_id]
                db.execute(
                    "INSERT INTO claims(claim_id, run_id, content_hash, patient_id, date_of_service, total_charge, "
                    "formats, interchange, group_control, resubmission, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                    (cand.claim_id, plan.run_id, cand.content_hash, cand.patient_id, cand.date_of_service,
                     cand.total_charge, json.dumps(list(decision.formats)), interchange, str(value),
                     int(decision.resubmission)))
        return plan

    def plan_files(self, run_id: int, names: list[str]) -> None:
        with self._write() as db:
            db.execute("UPDATE runs SET files = ? WHERE run_id = ?", (json.dumps(list(names)), run_id))

    def finish_run(self, run_id: int, transactions: dict[str, str] | None = None) -> None:
        """The run's files are all durably written: record its claims as exported."""
        transactions = transactions or {}
        now = _now()
        with self._write() as db:
            # `+run_id` keeps SQLite on the claim_id index: by run_id it scanned every claim of the
            # run once per claim (10,000 claims: 6 s).
            db.executemany("UPDATE claims SET transaction_control = ? WHERE +run_id = ? AND claim_id = ?",
                           ((st02, run_id, claim_id) for claim_id, st02 in transactions.items()))
            db.execute("UPDATE claims SET status = 'sent', exported_at = ? WHERE run_id = ? AND status = 'pending'",
                       (now, run_id))
            db.execute("UPDATE runs SET status = 'done', finished = ? WHERE run_id = ?", (now, run_id))

    def abandon_run(self, run_id: int, note: str) -> None:
        with self._write() as db:
            db.execute("UPDATE claims SET status = 'void' WHERE run_id = ? AND status = 'pending'", (run_id,))
            db.execute("UPDATE runs SET status = 'failed', finished = ?, note = ? WHERE run_id = ?",
                       (_now(), note[:500], run_id))

    # ------------------------------------------------------------ reading

    def runs(self) -> list[dict]:
        """Every run with its claims, oldest first (for `superbill ledger list`)."""
        out = []
        for row in self.db.execute("SELECT * FROM runs ORDER BY run_id").fetchall():
            status = row["status"]
            if status == "writing" and (row["host"] != self.host or not process_alive(row["pid"], row["process_token"])):
                status = "interrupted"
            claims = [{
                "claim_id": c["claim_id"],
                "patient_id": c["patient_id"],
                "date_of_service": c["date_of_service"],
                "total_charge": c["total_charge"],
                "formats": json.loads(c["formats"]),
                "interchange": c["interchange"],
                "group": c["group_control"],
                "transaction": c["transaction_control"],
                "resubmission": bool(c["resubmission"]),
                "status": c["status"],
                "content_hash": c["content_hash"],
                "exported_at": c["exported_at"],
            } for c in self.db.execute("SELECT * FROM claims WHERE run_id = ? ORDER BY id", (row["run_id"],))]
            out.append({
                "run_id": row["run_id"],
                "started": row["started"],
                "finished": row["finished"],
                "status": status,
                "interchange": row["interchange"],
                "formats": json.loads(row["formats"]),
                "usage": row["usage"],
                "output_dir": row["output_dir"],
                "files": json.loads(row["files"]),
                "note": row["note"],
                "claims": claims,
            })
        return out

    def control_numbers(self) -> list[str]:
        return [r["interchange"] for r in self.db.execute("SELECT interchange FROM runs ORDER BY run_id")]


def when_text(iso: str | None) -> str:
    """A ledger timestamp in local time, to the minute."""
    if not iso:
        return "unknown time"
    try:
        moment = dt.datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M")


def run_lines(runs: list[dict]) -> list[str]:
    """`superbill ledger list`: a line per run, then its files and claims with control numbers."""
    out = []
    for run in runs:
        sent = [c for c in run["claims"] if c["status"] == "sent"]
        out.append(f"run {run['run_id']}  {when_text(run['started'])}  {run['status']}  interchange {run['interchange']}"
                   f"  {','.join(run['formats'])}  {len(sent)} claim(s)  {run['output_dir']}")
        for name in run["files"] if run["status"] == "done" else ():
            out.append(f"    file {name}")
        for claim in run["claims"]:
            controls = f"ISA13 {claim['interchange']} GS06 {claim['group']}"
            if claim["transaction"]:
                controls += f" ST02 {claim['transaction']}"
            flag = "  resubmission" if claim["resubmission"] else ""
            state = "" if claim["status"] == "sent" else f"  ({claim['status']}: not exported)"
            out.append(f"    {claim['claim_id']}  {claim['date_of_service']}  {claim['total_charge']}  "
                       f"{','.join(claim['formats'])}  {controls}{flag}{state}")
    return out
