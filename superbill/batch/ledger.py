"""The export ledger: an SQLite file beside the clinic profile recording what was sent, when.

Tables (created and upgraded by the ordered migrations of `ledger_schema`, which also says how to add
one): `runs` (one export run: time, formats, folder, interchange control number, files, status), `claims`
(one claim in one run: claim id, content hash, formats, control numbers, frequency code 1/7/8 and the
payer's claim number it corrects, status), `payer_claim_numbers` (every payer claim number known for a
claim id, and where it came from), `claim_lines` (each 837P service line sent, with its REF*6R line item
control number, for matching a remittance) and `counters` (the interchange control number, never
repeated for the clinic: `control_numbers`).
What each claim gets in a run is decided by `ledger_plan.classify`.

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from superbill.batch import control_numbers, durable, ledger_schema
from superbill.batch.ledger_listing import run_dict, run_lines, when_text
from superbill.batch.ledger_plan import Candidate, Decision, RunPlan, classify

__all__ = ["Candidate", "Decision", "Ledger", "LedgerError", "RunPlan", "run_lines", "when_text"]

DEFAULT_NAME = "superbill-ledger.sqlite3"
MAX_CONTROL = 999_999_999



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
            ledger_schema.migrate(self.db, self.path)
        except ledger_schema.NewerLedger as exc:
            self.db.close()
            raise LedgerError(self.path, f"was written by a newer superbill (ledger schema {exc.found}; this one "
                                         f"knows up to {ledger_schema.latest_version()}): upgrade superbill to use it"
                              ) from None
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
                    _settle(db, row["run_id"], _now(), "completed after an interruption")
                else:
                    removed = durable.remove_files(folder, files)
                    db.execute("UPDATE claims SET status = 'void' WHERE run_id = ? AND status = 'pending'", (row["run_id"],))
                    db.execute("UPDATE runs SET status = 'failed', finished = ?, note = ? WHERE run_id = ?",
                               (_now(), "interrupted; nothing recorded", row["run_id"]))
            notes.append(Recovery(row["run_id"], complete, files, removed))
        return notes

    def begin_run(self, candidates: list[Candidate], formats: list[str], *, resubmit: bool,
                  output_dir: str | Path, usage: str | None = None,
                  reserve: Callable[[int], int] | None = None) -> RunPlan:
        """Classify the candidates and, when something is to be sent and nothing refused, open a run.
        Its control number is the ledger's next (`control_numbers`: the first one from the clock);
        `reserve(proposed)` may raise it above what other ledgers of the clinic issued."""
        formats = list(formats)
        plan = RunPlan(None, None)
        with self._write() as db:
            for cand in candidates:
                rows = db.execute(
                    "SELECT c.*, r.started AS run_started FROM claims c JOIN runs r USING (run_id) "
                    "WHERE c.claim_id = ? AND c.status IN ('sent', 'pending') ORDER BY c.id",
                    (cand.claim_id,)).fetchall()
                plan.decisions[cand.claim_id] = classify(cand, rows, formats, resubmit=resubmit)
            if plan.refused() or not plan.to_send():
                return plan
            last = db.execute("SELECT value FROM counters WHERE name = 'interchange'").fetchone()["value"]
            # A ledger that never issued a number starts from the clock, never at 1 (control_numbers).
            value = last + 1 if last else max(1, control_numbers.clock_number())
            if reserve is not None and value <= MAX_CONTROL:
                value = reserve(value)
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
            db.executemany(
                "INSERT INTO claims(claim_id, run_id, content_hash, patient_id, date_of_service, total_charge, "
                "formats, interchange, group_control, resubmission, frequency_code, payer_claim_number, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                [(d.claim_id, plan.run_id, by_id[d.claim_id].content_hash, by_id[d.claim_id].patient_id,
                  by_id[d.claim_id].date_of_service, by_id[d.claim_id].total_charge, json.dumps(list(d.formats)),
                  interchange, str(value), int(d.resubmission), d.frequency, d.payer_claim_number)
                 for d in plan.to_send()])
        return plan

    def record_lines(self, run_id: int, lines) -> None:
        """The 837P service lines of the run, before its files are written: (claim_id, line number,
        REF*6R line item control number, code, modifiers, units, charge) each. They count once the
        run is done (`line_by_control` reads only those)."""
        with self._write() as db:
            db.executemany("INSERT INTO claim_lines(run_id, claim_id, line_number, line_control, code, modifiers, "
                           "units, charge) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           ((run_id, *line) for line in lines))

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
            _settle(db, run_id, now)

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
            claims = self.db.execute("SELECT * FROM claims WHERE run_id = ? ORDER BY id", (row["run_id"],)).fetchall()
            out.append(run_dict(row, status, claims))
        return out

    def payer_claim_numbers(self, claim_id: str) -> list[dict]:
        """The payer claim numbers known for a claim id, oldest first, with where each came from."""
        rows = self.db.execute("SELECT payer_claim_number, source, run_id, recorded_at FROM payer_claim_numbers "
                               "WHERE claim_id = ? ORDER BY id", (claim_id,))
        return [dict(row) for row in rows]

    def line_by_control(self, line_control: str) -> dict | None:
        """The exported service line a remittance's REF*6R names: claim id, line number, code,
        modifiers, units, charge, run and interchange; None when no done run sent it."""
        row = self.db.execute(
            "SELECT l.claim_id, l.line_number, l.line_control, l.code, l.modifiers, l.units, l.charge, l.run_id, "
            "r.interchange FROM claim_lines l JOIN runs r USING (run_id) "
            "WHERE l.line_control = ? AND r.status = 'done'", (line_control,)).fetchone()
        return dict(row) if row is not None else None

    def control_numbers(self) -> list[str]:
        return [r["interchange"] for r in self.db.execute("SELECT interchange FROM runs ORDER BY run_id")]


def _settle(db: sqlite3.Connection, run_id: int, now: str, note: str | None = None) -> None:
    """Every file of the run is there: its claims are exported, the payer claim numbers of its
    replacements and voids known."""
    db.execute("UPDATE claims SET status = 'sent', exported_at = ? WHERE run_id = ? AND status = 'pending'",
               (now, run_id))
    db.execute("INSERT INTO payer_claim_numbers(claim_id, payer_claim_number, source, run_id, recorded_at) "
               "SELECT claim_id, payer_claim_number, CASE frequency_code WHEN '7' THEN 'replacement' ELSE 'void' END, "
               "run_id, ? FROM claims WHERE run_id = ? AND status = 'sent' AND payer_claim_number IS NOT NULL",
               (now, run_id))
    db.execute("UPDATE runs SET status = 'done', finished = ?, note = coalesce(?, note) WHERE run_id = ?",
               (now, note, run_id))
