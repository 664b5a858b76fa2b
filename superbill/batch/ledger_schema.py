"""The ledger's tables and their migrations: one ordered list, a schema version in the file.

The file's schema version is SQLite's `PRAGMA user_version` (0 in a new file and in a ledger written by
superbill 0.1.0, which had no version). Opening a ledger applies, in one write transaction, every
migration above the file's version and sets the version to the last one applied; a file whose version is
above the last migration this program knows (written by a newer superbill) is refused, never touched.
Before the first migration of a ledger that already holds runs, a copy of it is kept beside it
(`NAME.schema-vN.bak`, owner-only), so an upgrade never costs the clerk their record.

Adding a migration is one function appended at the end of this module:

    @migration(4)  # the number after the last one below
    def _v4_line_control_numbers(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE claims ADD COLUMN ...")

Rules: the number is the next one (checked when the module loads); a migration only adds (tables,
columns with a default, indexes, rows) and never drops, renames or rewrites what a released version
wrote; a released migration is never edited or reordered; each one gets a test that opens the fixture
ledger written by 0.1.0 (tests/fixtures/ledger-v0.1.sqlite3) and finds the old rows intact. Migrations
run inside the opening transaction: do not BEGIN or COMMIT in one.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = []


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register `fn` as the migration to schema `version` (the next one in order)."""

    def register(fn: Migration) -> Migration:
        if version != len(MIGRATIONS) + 1:
            raise RuntimeError(f"ledger migration {fn.__name__} is numbered {version}, "
                               f"the next one is {len(MIGRATIONS) + 1}")
        MIGRATIONS.append(fn)
        return fn

    return register


def latest_version() -> int:
    return len(MIGRATIONS)


class NewerLedger(Exception):
    """The file was written by a newer superbill (its schema version is above ours)."""

    def __init__(self, found: int):
        super().__init__(found)
        self.found = found


def migrate(db: sqlite3.Connection, path: Path) -> int:
    """Bring the open ledger `db` (autocommit connection) up to `latest_version()`; the version it
    had. Raises NewerLedger for a file from a newer release."""
    found = _version(db)
    if found > latest_version():
        raise NewerLedger(found)
    if found == latest_version():
        return found
    if _has_runs(db):
        _keep_copy(db, path, found)  # outside the write transaction: a backup cannot run inside one
    db.execute("BEGIN IMMEDIATE")
    try:
        found = _version(db)  # another process may have migrated it meanwhile
        if found > latest_version():
            raise NewerLedger(found)
        for number in range(found + 1, latest_version() + 1):
            MIGRATIONS[number - 1](db)
        db.execute(f"PRAGMA user_version = {latest_version():d}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _has_runs(db: sqlite3.Connection) -> bool:
    table = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
    return table is not None and db.execute("SELECT 1 FROM runs LIMIT 1").fetchone() is not None


def _keep_copy(db: sqlite3.Connection, path: Path, version: int) -> None:
    """A consistent copy of the ledger as it is before migrating (once per old version; the SQLite
    backup API copies one snapshot even while another export writes)."""
    target = path.with_name(f"{path.name}.schema-v{version}.bak")
    if target.exists():
        return
    fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    copy = sqlite3.connect(str(target))
    try:
        db.backup(copy)
    finally:
        copy.close()


# ---------------------------------------------------------------- the migrations, oldest first


@migration(1)
def _v1_runs_claims_counters(db: sqlite3.Connection) -> None:
    """The tables of superbill 0.1.0 (IF NOT EXISTS: a 0.1.0 ledger already has them)."""
    db.execute("""
        CREATE TABLE IF NOT EXISTS counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""")
    db.execute("""
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
        )""")
    db.execute("""
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
        )""")
    db.execute("CREATE INDEX IF NOT EXISTS claims_by_claim_id ON claims(claim_id, status)")
    db.execute("CREATE INDEX IF NOT EXISTS claims_by_run ON claims(run_id)")
    db.execute("INSERT OR IGNORE INTO counters(name, value) VALUES ('interchange', 0)")


@migration(2)
def _v2_corrected_claims_and_payer_numbers(db: sqlite3.Connection) -> None:
    """Replacements and voids (issue 16), and the payer's claim number of each claim.

    `claims.frequency_code` is what the submission was (1 original, 7 replacement, 8 void; every
    0.1.0 row was an original) and `claims.payer_claim_number` the payer's number it referred to.
    `payer_claim_numbers` holds every payer claim number learned for a claim id, with where it came
    from: 'replacement' and 'void' (the clerk gave it, recorded when the run is done) now, and later
    'remittance' (835 CLP07) or 'acknowledgment' (277CA REF*1K) from an import, which adds its own
    columns or table by a migration of its own; `run_id` is the run that sent it, when one did."""
    db.execute("ALTER TABLE claims ADD COLUMN frequency_code TEXT NOT NULL DEFAULT '1' "
               "CHECK (frequency_code IN ('1', '7', '8'))")
    db.execute("ALTER TABLE claims ADD COLUMN payer_claim_number TEXT")
    db.execute("""
        CREATE TABLE payer_claim_numbers (
            id                 INTEGER PRIMARY KEY AUTOINCREMENT,
            claim_id           TEXT NOT NULL,
            payer_claim_number TEXT NOT NULL,
            source             TEXT NOT NULL,
            run_id             INTEGER REFERENCES runs(run_id),
            recorded_at        TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX payer_claim_numbers_by_claim ON payer_claim_numbers(claim_id)")


@migration(3)
def _v3_good_faith_estimates(db: sqlite3.Connection) -> None:
    """Good Faith Estimates (issue 19): one row per issued estimate, numbered by the 'estimate' counter.

    `number` is GFE-<issue date>-<sequence>; the period, the number of sessions and the per-session and
    course totals are what `check` and `export` compare billed charges with (the $400 test of
    45 CFR 149.620); `content_hash` lets the same estimate printed again keep its number. IF NOT EXISTS:
    superbill builds between the GFE command and this migration created the same table unversioned."""
    db.execute("""
        CREATE TABLE IF NOT EXISTS estimates (
            number        TEXT PRIMARY KEY,
            patient_id    TEXT NOT NULL,
            period_start  TEXT NOT NULL,
            period_end    TEXT NOT NULL,
            sessions      INTEGER NOT NULL,
            per_session   TEXT NOT NULL,
            course_total  TEXT NOT NULL,
            issued_on     TEXT NOT NULL,
            due_on        TEXT,
            provider_npi  TEXT NOT NULL,
            content_hash  TEXT NOT NULL,
            source_file   TEXT NOT NULL,
            recorded_at   TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX IF NOT EXISTS estimates_by_patient ON estimates(patient_id, period_start)")
    db.execute("INSERT OR IGNORE INTO counters(name, value) VALUES ('estimate', 0)")


@migration(4)
def _v4_line_control_numbers(db: sqlite3.Connection) -> None:
    """The 837P's line item control numbers (REF*6R, issue 13), one row per service line of a claim sent
    in an 837P, recorded when its run is done: a remittance's SVC / REF*6R names the line it pays, and
    `Ledger.line_by_control` finds it again (claim, run, code, charge)."""
    db.execute("""
        CREATE TABLE claim_lines (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id       INTEGER NOT NULL REFERENCES runs(run_id),
            claim_id     TEXT NOT NULL,
            line_number  INTEGER NOT NULL,
            line_control TEXT NOT NULL,
            code         TEXT NOT NULL,
            modifiers    TEXT NOT NULL DEFAULT '',
            units        INTEGER NOT NULL,
            charge       TEXT NOT NULL
        )""")
    db.execute("CREATE UNIQUE INDEX claim_lines_by_control ON claim_lines(line_control)")
    db.execute("CREATE INDEX claim_lines_by_claim ON claim_lines(claim_id)")
