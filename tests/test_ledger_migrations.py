"""The ledger's schema version and migrations, on a ledger really written by superbill 0.1.0."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from superbill.batch import ledger_schema
from superbill.batch.ledger import Candidate, Ledger, LedgerError, run_lines
from superbill.inputs.starter import write_starter

FIXTURE = Path(__file__).parent / "fixtures" / "ledger-v0.1.sqlite3"

# What `superbill ledger list` printed for the fixture with 0.1.0 (times and folder left out).
OLD_CLAIM_LINES = [
    "    file claims-000000001.837",
    "    file claims-000000001.csv",
    "    P0001-20261102  2026-11-02  1035.00  837p,csv  ISA13 000000001 GS06 1 ST02 0001",
    "    file cms1500-000000002.pdf",
    "    P0001-20261102  2026-11-02  1035.00  cms1500  ISA13 000000002 GS06 2",
]


@pytest.fixture
def old_ledger(tmp_path) -> Path:
    path = tmp_path / "superbill-ledger.sqlite3"
    shutil.copyfile(FIXTURE, path)
    return path


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_the_fixture_is_a_ledger_without_a_schema_version():
    assert user_version(FIXTURE) == 0
    db = sqlite3.connect(FIXTURE)
    columns = [row[1] for row in db.execute("PRAGMA table_info(claims)")]
    db.close()
    assert "frequency_code" not in columns


def test_a_ledger_from_0_1_opens_migrates_and_keeps_every_run(old_ledger):
    with Ledger(old_ledger) as book:
        runs = book.runs()
    assert user_version(old_ledger) == ledger_schema.latest_version() >= 2
    assert [(r["run_id"], r["status"], r["interchange"], r["formats"]) for r in runs] == [
        (1, "done", "000000001", ["837p", "csv"]), (2, "done", "000000002", ["837p", "cms1500"])]
    lines = [line for line in run_lines(runs) if line.startswith("    ")]
    assert lines == OLD_CLAIM_LINES
    claims = [c for r in runs for c in r["claims"]]
    assert [(c["frequency_code"], c["payer_claim_number"], c["status"]) for c in claims] == [
        ("1", None, "sent"), ("1", None, "sent")]


def test_migrating_keeps_a_copy_of_the_old_file_once(old_ledger):
    original = old_ledger.read_bytes()
    Ledger(old_ledger).close()
    backup = old_ledger.with_name("superbill-ledger.sqlite3.schema-v0.bak")
    assert backup.stat().st_mode & 0o777 == 0o600
    assert user_version(backup) == 0
    db = sqlite3.connect(backup)
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
    db.close()
    backup.write_bytes(original)  # a second opening neither migrates again nor overwrites the copy
    Ledger(old_ledger).close()
    assert backup.read_bytes() == original
    assert sorted(p.name for p in old_ledger.parent.iterdir() if "bak" in p.name) == [backup.name]


def test_control_numbers_go_on_after_the_migration(old_ledger):
    with Ledger(old_ledger) as book:
        plan = book.begin_run([Candidate("P0002-20261102", "h", "P0002", "2026-11-02", "10.00")], ["837p"],
                              resubmit=False, output_dir=old_ledger.parent)
        assert plan.control_number == 3
        book.finish_run(plan.run_id, {"P0002-20261102": "0001"})
        # the claim the 0.1 release exported is still "already exported" with the content it had
        old = book.db.execute("SELECT content_hash FROM claims WHERE claim_id = 'P0001-20261102'").fetchone()[0]
        again = book.begin_run([Candidate("P0001-20261102", old, "P0001", "2026-11-02", "1035.00")],
                               ["837p", "csv", "cms1500"], resubmit=False, output_dir=old_ledger.parent)
        assert again.decisions["P0001-20261102"].action == "skip" and again.run_id is None


def test_a_replacement_of_a_claim_exported_by_0_1_is_recorded_with_the_payer_number(old_ledger):
    with Ledger(old_ledger) as book:
        old = book.db.execute("SELECT content_hash FROM claims WHERE claim_id = 'P0001-20261102'").fetchone()[0]
        plan = book.begin_run([Candidate("P0001-20261102", old, "P0001", "2026-11-02", "1035.00", frequency="7",
                                         payer_claim_number="2026A77")], ["837p", "csv"], resubmit=False,
                              output_dir=old_ledger.parent)
        decision = plan.decisions["P0001-20261102"]
        assert (decision.action, decision.formats, decision.previous_run) == ("send", ("837p",), 2)
        book.finish_run(plan.run_id, {"P0001-20261102": "0001"})
        assert [(n["payer_claim_number"], n["source"], n["run_id"]) for n in book.payer_claim_numbers("P0001-20261102")] \
            == [("2026A77", "replacement", 3)]


def test_a_new_ledger_gets_the_latest_version_and_no_copy(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    assert user_version(path) == ledger_schema.latest_version()
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.sqlite3"]


def test_a_ledger_from_a_newer_release_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {ledger_schema.latest_version() + 1}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(LedgerError) as info:
        Ledger(path)
    assert info.value.path == path
    assert info.value.reason == (f"was written by a newer superbill (ledger schema {ledger_schema.latest_version() + 1}; "
                                 f"this one knows up to {ledger_schema.latest_version()}): upgrade superbill to use it")
    assert path.read_bytes() == before


def test_adding_a_migration_is_one_function_and_runs_once_on_an_existing_ledger(old_ledger, monkeypatch):
    Ledger(old_ledger).close()
    monkeypatch.setattr(ledger_schema, "MIGRATIONS", list(ledger_schema.MIGRATIONS))
    latest = ledger_schema.latest_version()
    calls = []

    @ledger_schema.migration(latest + 1)
    def _add_remittances(db):  # a made-up next migration (estimates is migration 3 now)
        calls.append(1)
        db.execute("CREATE TABLE remittances (number TEXT PRIMARY KEY)")

    with Ledger(old_ledger) as book:
        assert book.db.execute("SELECT count(*) FROM remittances").fetchone()[0] == 0
        assert len(book.runs()) == 2
    Ledger(old_ledger).close()
    assert calls == [1] and user_version(old_ledger) == latest + 1
    # the copy kept is of the file as it was before this migration
    assert user_version(old_ledger.with_name(f"{old_ledger.name}.schema-v{latest}.bak")) == latest


def test_a_migration_numbered_out_of_order_is_refused():
    with pytest.raises(RuntimeError, match="is numbered 9, the next one is"):
        ledger_schema.migration(9)(lambda db: None)


def test_a_failing_migration_leaves_the_file_as_it_was(old_ledger, monkeypatch):
    monkeypatch.setattr(ledger_schema, "MIGRATIONS", list(ledger_schema.MIGRATIONS))

    @ledger_schema.migration(ledger_schema.latest_version() + 1)
    def _broken(db):
        db.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(LedgerError):
        Ledger(old_ledger)
    assert user_version(old_ledger) == 0
    db = sqlite3.connect(old_ledger)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "half" not in tables and "payer_claim_numbers" not in tables


def test_ledger_list_through_the_cli_opens_and_migrates_the_old_ledger(tmp_path):
    from helpers import run

    write_starter(tmp_path)
    shutil.copyfile(FIXTURE, tmp_path / "superbill-ledger.sqlite3")
    listing = run("ledger", "list", clinic=tmp_path / "clinic.yaml")
    assert listing.exit_code == 0, listing.output
    runs = [line for line in listing.stdout.splitlines() if line.startswith("run ")]
    assert [line.split("  ")[2:4] for line in runs] == [["done", "interchange 000000001"],
                                                         ["done", "interchange 000000002"]]
    assert [line for line in listing.stdout.splitlines() if line.startswith("    ")][:5] == OLD_CLAIM_LINES
    assert user_version(tmp_path / "superbill-ledger.sqlite3") == ledger_schema.latest_version()


def test_recovery_of_a_killed_replacement_run_records_the_payer_number(old_ledger):
    with Ledger(old_ledger) as book:
        old = book.db.execute("SELECT content_hash FROM claims WHERE claim_id = 'P0001-20261102'").fetchone()[0]
        plan = book.begin_run([Candidate("P0001-20261102", old, "P0001", "2026-11-02", "1035.00", frequency="8",
                                         payer_claim_number="PCN9")], ["837p"], resubmit=False,
                              output_dir=old_ledger.parent)
        (old_ledger.parent / "claims-000000003.837").write_text("ISA...")
        book.plan_files(plan.run_id, ["claims-000000003.837"])
        book.db.execute("UPDATE runs SET pid = ? WHERE run_id = ?", (dead_pid(), plan.run_id))
    with Ledger(old_ledger) as book:
        (note,) = book.recover()
        assert note.completed
        assert [(n["payer_claim_number"], n["source"]) for n in book.payer_claim_numbers("P0001-20261102")] == \
            [("PCN9", "void")]
