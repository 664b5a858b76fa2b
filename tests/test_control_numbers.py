"""Issue 13 items 4 and 7: interchange control numbers that never repeat for a clinic, also across
ledger files, and the 837P's line item control numbers recorded in the ledger for remittance matching.

These tests set the clock themselves (conftest pins it to the epoch for the others)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from exportkit import TODAY, clinic, load, patient, session, write_patient
from helpers import run
from x12check import assert_valid_x12, segments
from x12rules import repeated_isa13, violations

from superbill.batch import control_numbers
from superbill.batch.control_numbers import ClinicMark
from superbill.batch.control_numbers import clock_number as real_clock
from superbill.batch.control_numbers import mark_path as real_mark_path
from superbill.batch.export import ExportOptions, export_claims
from superbill.batch.ledger import Candidate, Ledger

FIXTURE = Path(__file__).parent / "fixtures" / "ledger-v0.1.sqlite3"
UTC = dt.UTC


@pytest.fixture(autouse=True)
def marks_beside_clinic_yaml(monkeypatch):
    """Here the clinic's mark is where a clerk has it (conftest moves it aside for the other tests)."""
    monkeypatch.setattr(control_numbers, "mark_path", real_mark_path)


@pytest.fixture
def folder(tmp_path):
    clinic(tmp_path)
    return tmp_path


def at(moment: dt.datetime):
    """A clock that reads `moment`."""
    return lambda now=None: real_clock(moment)


def export(folder, ledger: Path, out: Path, *paths):
    result = run("export", *(paths or [folder / "patients"]), "-o", out, "--ledger", ledger, "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    return sorted(out.glob("claims-*.837"))


def test_the_clock_number_is_seconds_since_2025():
    assert real_clock(dt.datetime(2025, 1, 1, tzinfo=UTC)) == 0
    assert real_clock(dt.datetime(2025, 1, 1, 0, 1, 40, tzinfo=UTC)) == 100
    assert real_clock(dt.datetime(2026, 12, 1, 9, 30, tzinfo=UTC)) == (699 * 86400 + 9 * 3600 + 30 * 60)
    assert real_clock(dt.datetime(2056, 1, 1, tzinfo=UTC)) < 999_999_999  # 9 digits until 2056


def test_two_fresh_ledgers_for_one_clinic_repeat_no_isa13(folder, monkeypatch):
    monkeypatch.setattr(control_numbers, "clock_number", real_clock)  # the real clock, as a clerk has it
    started = real_clock()
    patients = folder / "patients"
    write_patient(patients, "b.yaml", patient("P0002", member_id="M2", sessions=[session("2026-11-03")]))
    first = export(folder, folder / "one.sqlite3", folder / "out-1", patients / "example.yaml")
    first += export(folder, folder / "one.sqlite3", folder / "out-1b", patients / "b.yaml")
    # a second, fresh ledger for the same clinic, started right away (same second or not)
    second = export(folder, folder / "two.sqlite3", folder / "out-2")
    texts = [path.read_text() for path in first + second]
    assert len(texts) == 3 and repeated_isa13(texts) == []
    numbers = [int(segments(t)[0][13]) for t in texts]
    assert numbers[0] >= started  # a new ledger starts from the clock, never at 1
    assert numbers[1] == numbers[0] + 1 and numbers[2] > numbers[1]
    for text in texts:
        assert_valid_x12(text)
        assert violations(text) == []  # GS06 = GE02, ST02 = SE02, ISA13 = IEA02 and unique REF*6R
        segs = segments(text)
        assert int(next(s for s in segs if s[0] == "GS")[6]) == int(segs[0][13])
    # every REF*6R of the clinic is unique too: they start with their interchange's ISA13
    refs = [s[2] for t in texts for s in segments(t) if s[:2] == ["REF", "6R"]]
    assert len(refs) == len(set(refs)) == 6 + 6 + 12


def test_a_ledger_started_later_elsewhere_begins_above_an_earlier_one(tmp_path, monkeypatch):
    """A lost ledger (and its clinic folder) replaced an hour later: the clock keeps them apart."""
    monday = dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(control_numbers, "clock_number", at(monday))
    issued = []
    with Ledger(tmp_path / "lost.sqlite3") as book:
        for n in range(50):
            plan = book.begin_run([Candidate(f"P{n}-20261102", "h", f"P{n}", "2026-11-02", "1.00")], ["837p"],
                                  resubmit=False, output_dir=tmp_path)
            book.finish_run(plan.run_id)
            issued.append(plan.control_number)
    assert issued == list(range(real_clock(monday), real_clock(monday) + 50))
    monkeypatch.setattr(control_numbers, "clock_number", at(monday + dt.timedelta(hours=1)))
    with Ledger(tmp_path / "new.sqlite3") as book:
        plan = book.begin_run([Candidate("P0-20261102", "h", "P0", "2026-11-02", "1.00")], ["837p"],
                              resubmit=False, output_dir=tmp_path)
    assert plan.control_number == real_clock(monday) + 3600 > max(issued)


def test_ledgers_sharing_a_clinic_folder_never_collide_whatever_the_clock(folder):
    """conftest's clock reads the epoch for both: only the clinic's mark keeps them apart."""
    a = export(folder, folder / "a.sqlite3", folder / "out-a")
    b = export(folder, folder / "b.sqlite3", folder / "out-b")
    assert [p.name for p in a + b] == ["claims-000000001.837", "claims-000000002.837"]
    assert (folder / ".superbill-control-number").read_text() == "2\n"
    assert oct((folder / ".superbill-control-number").stat().st_mode & 0o777) == "0o600"


def test_the_clinic_mark_only_ever_raises_a_number(tmp_path):
    mark = ClinicMark(tmp_path)
    assert mark.reserve(500) == 500
    assert mark.reserve(7) == 501  # another ledger of the clinic, behind: above the clinic's highest
    assert mark.reserve(9000) == 9000  # a ledger ahead (its clock start): its own number
    assert (tmp_path / ".superbill-control-number").read_text() == "9000\n"


def test_a_clinic_folder_that_cannot_hold_the_mark_leaves_the_ledger_number(tmp_path):
    assert ClinicMark(tmp_path / "gone").reserve(42) == 42  # the ledger's clock start still applies


def test_a_ledger_from_0_1_keeps_counting_from_its_own_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(control_numbers, "clock_number", real_clock)
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, path)
    with Ledger(path) as book:
        plan = book.begin_run([Candidate("P0002-20261102", "h", "P0002", "2026-11-02", "10.00")], ["837p"],
                              resubmit=False, output_dir=tmp_path)
    assert plan.control_number == 3  # its numbers 1 and 2 were its own; nothing else ever had 3


# ---------------------------------------------------------------- REF*6R in the ledger


def test_every_line_control_number_is_recorded_and_finds_its_line(folder):
    loaded = load(folder)
    out = folder / "out"
    report = export_claims([folder / "patients"], loaded, ExportOptions(out_dir=out, jobs=1, today=TODAY,
                                                                       formats=("837p", "csv")))
    assert report.ok, [p.line() for p in report.problems]
    text = (out / "claims-000000001.837").read_text()
    refs = [s[2] for s in segments(text) if s[:2] == ["REF", "6R"]]
    sv1 = [s for s in segments(text) if s[0] == "SV1"]
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        found = [book.line_by_control(ref) for ref in refs]
        assert book.line_by_control("000000001-7") is None and book.line_by_control("000000009-1") is None
    # the SPEC example: 99214-25, 93000, 96365, 96366, J3490, J2405-JZ
    assert [(f["claim_id"], f["line_number"], f["code"], f["modifiers"], f["units"], f["charge"]) for f in found] == [
        ("P0001-20261102", 1, "99214", "25", 1, "189.00"), ("P0001-20261102", 2, "93000", "", 1, "60.00"),
        ("P0001-20261102", 3, "96365", "", 1, "450.00"), ("P0001-20261102", 4, "96366", "", 1, "200.00"),
        ("P0001-20261102", 5, "J3490", "", 1, "120.00"), ("P0001-20261102", 6, "J2405", "JZ", 4, "16.00")]
    assert [f["charge"] for f in found] == [s[2] for s in sv1]
    assert {f["interchange"] for f in found} == {"000000001"} and {f["run_id"] for f in found} == {1}


def test_lines_of_a_run_that_failed_are_not_found(folder, monkeypatch):
    from superbill.exports import x12

    def broken(*args, **kwargs):
        raise x12.X12DataError("sessions[0]", "cannot be carried (test)")
        yield  # a generator, as the real one

    monkeypatch.setattr(x12, "iter_837p", broken)
    loaded = load(folder)
    report = export_claims([folder / "patients"], loaded, ExportOptions(out_dir=folder / "out", jobs=1, today=TODAY))
    assert report.fatal and report.exported == []
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        assert book.line_by_control("000000001-1") is None
        assert book.runs()[0]["status"] == "failed"


def test_the_line_table_is_added_to_a_0_1_ledger_by_migration_4(tmp_path):
    path = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURE, path)
    Ledger(path).close()
    db = sqlite3.connect(path)
    try:
        columns = [row[1] for row in db.execute("PRAGMA table_info(claim_lines)")]
        assert columns == ["id", "run_id", "claim_id", "line_number", "line_control", "code", "modifiers", "units",
                           "charge"]
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 2  # the old rows intact
    finally:
        db.close()
