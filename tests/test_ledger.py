"""The export ledger: classification, control numbers (also across processes), crash recovery."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from superbill.batch.ledger import Candidate, Ledger


def cand(claim_id: str, digest: str = "h1") -> Candidate:
    return Candidate(claim_id, digest, claim_id.split("-")[0], "2026-11-02", "1035.00")


def actions(plan) -> dict:
    return {cid: (d.action, d.formats, d.resubmission) for cid, d in plan.decisions.items()}


def run(ledger, candidates, formats=("837p",), resubmit=False, out="out"):
    plan = ledger.begin_run(candidates, list(formats), resubmit=resubmit, output_dir=out)
    if plan.run_id is not None:
        ledger.finish_run(plan.run_id, {d.claim_id: "0001" for d in plan.to_send()})
    return plan


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "ledger.sqlite3") as book:
        yield book


def test_new_claims_are_sent_and_repeats_skipped(ledger):
    first = run(ledger, [cand("P1-20261102"), cand("P2-20261102")])
    assert actions(first) == {"P1-20261102": ("send", ("837p",), False), "P2-20261102": ("send", ("837p",), False)}
    assert first.control_number == 1
    second = run(ledger, [cand("P1-20261102"), cand("P2-20261102")])
    assert actions(second) == {"P1-20261102": ("skip", (), False), "P2-20261102": ("skip", (), False)}
    assert second.run_id is None and second.control_number is None
    assert second.decisions["P1-20261102"].previous_run == first.run_id
    assert second.decisions["P1-20261102"].previous_interchange == "000000001"


def test_changed_claim_is_reported_not_sent_unless_resubmitted(ledger):
    run(ledger, [cand("P1-20261102", "old")])
    changed = run(ledger, [cand("P1-20261102", "new")])
    assert actions(changed) == {"P1-20261102": ("changed", (), False)}
    assert changed.run_id is None
    again = run(ledger, [cand("P1-20261102", "new")], resubmit=True)
    assert actions(again) == {"P1-20261102": ("send", ("837p",), True)}
    assert again.control_number == 2
    # after the resubmission, the new content counts as exported
    assert actions(run(ledger, [cand("P1-20261102", "new")])) == {"P1-20261102": ("skip", (), False)}


def test_resubmit_sends_only_the_changed_claims(ledger):
    run(ledger, [cand("P1-20261102", "old"), cand("P2-20261102")])
    again = run(ledger, [cand("P1-20261102", "new"), cand("P2-20261102")], resubmit=True)
    assert actions(again) == {"P1-20261102": ("send", ("837p",), True), "P2-20261102": ("skip", (), False)}


def test_a_named_claim_is_sent_again_unchanged_with_a_new_control_number(ledger):
    # --resubmit-claim (issue 16): the named claim goes again, changed or not
    first = run(ledger, [cand("P1-20261102")])
    second = run(ledger, [replace(cand("P1-20261102"), resend=True)])
    assert actions(second) == {"P1-20261102": ("send", ("837p",), True)}
    assert (first.control_number, second.control_number) == (1, 2)


def test_only_formats_not_yet_written_are_sent(ledger):
    run(ledger, [cand("P1-20261102")], formats=("csv",))
    plan = run(ledger, [cand("P1-20261102")], formats=("837p", "csv"))
    assert actions(plan) == {"P1-20261102": ("send", ("837p",), False)}
    assert actions(run(ledger, [cand("P1-20261102")], formats=("837p", "csv"))) == {"P1-20261102": ("skip", (), False)}


def test_a_claim_pending_in_a_live_run_is_not_taken_by_another(ledger, tmp_path):
    open_plan = ledger.begin_run([cand("P1-20261102")], ["837p"], resubmit=False, output_dir=tmp_path)
    with Ledger(ledger.path) as other:
        plan = other.begin_run([cand("P1-20261102"), cand("P2-20261102")], ["837p"], resubmit=False,
                               output_dir=tmp_path)
        assert actions(plan) == {"P1-20261102": ("busy", (), False), "P2-20261102": ("send", ("837p",), False)}
        assert plan.control_number == open_plan.control_number + 1


def test_failed_run_records_nothing_and_never_reuses_its_number(ledger, tmp_path):
    plan = ledger.begin_run([cand("P1-20261102")], ["837p"], resubmit=False, output_dir=tmp_path)
    ledger.abandon_run(plan.run_id, "failed: OSError")
    again = run(ledger, [cand("P1-20261102")])
    assert actions(again) == {"P1-20261102": ("send", ("837p",), False)}
    assert (plan.control_number, again.control_number) == (1, 2)
    runs = ledger.runs()
    assert [(r["status"], [c["status"] for c in r["claims"]]) for r in runs] == [("failed", ["void"]), ("done", ["sent"])]


def test_recover_completes_a_dead_run_whose_files_all_exist(ledger, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    plan = ledger.begin_run([cand("P1-20261102")], ["837p"], resubmit=False, output_dir=out)
    ledger.plan_files(plan.run_id, ["claims-000000001.837"])
    (out / "claims-000000001.837").write_text("ISA...")
    ledger.db.execute("UPDATE runs SET pid = ? WHERE run_id = ?", (dead_pid(), plan.run_id))
    assert ledger.runs()[0]["status"] == "interrupted"
    notes = ledger.recover()
    assert [n.line() for n in notes] == [
        "run 1 had been interrupted after writing all its files; its claims are now recorded as exported"]
    assert ledger.runs()[0]["status"] == "done"
    assert actions(run(ledger, [cand("P1-20261102")])) == {"P1-20261102": ("skip", (), False)}


def test_recover_voids_a_dead_run_with_missing_files_and_removes_the_rest(ledger, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    plan = ledger.begin_run([cand("P1-20261102")], ["837p", "csv"], resubmit=False, output_dir=out)
    ledger.plan_files(plan.run_id, ["claims-000000001.837", "claims-000000001.csv"])
    (out / "claims-000000001.837").write_text("ISA...")
    (out / ".claims-000000001.csv.abc123.part").write_text("half")
    ledger.db.execute("UPDATE runs SET pid = ? WHERE run_id = ?", (dead_pid(), plan.run_id))
    notes = ledger.recover()
    assert [n.line() for n in notes] == [
        "run 1 had been interrupted before all its files were written; nothing of it is recorded; "
        "removed claims-000000001.837"]
    assert sorted(p.name for p in out.iterdir()) == []
    assert ledger.runs()[0]["status"] == "failed"
    again = run(ledger, [cand("P1-20261102")])
    assert actions(again) == {"P1-20261102": ("send", ("837p",), False)} and again.control_number == 2


def test_recover_leaves_a_live_run_alone(ledger, tmp_path):
    plan = ledger.begin_run([cand("P1-20261102")], ["837p"], resubmit=False, output_dir=tmp_path)
    assert ledger.recover() == []
    assert ledger.runs()[0]["status"] == "writing"
    ledger.finish_run(plan.run_id)


def test_ledger_file_is_owner_only_and_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "ledger.sqlite3"
    with Ledger(path) as book:
        run(book, [cand("P1-20261102")])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_a_file_that_is_not_a_ledger_is_reported(tmp_path):
    from superbill.batch.ledger import LedgerError

    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError) as info:
        Ledger(path)
    assert str(info.value).startswith(f"{path}: cannot be used as the export ledger (")


WORKER = textwrap.dedent("""
    import json, sys
    from superbill.batch.ledger import Candidate, Ledger
    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    numbers = []
    with Ledger(path) as book:
        for i in range(count):
            plan = book.begin_run([Candidate(f"{name}{i}-20261102", "h", name, "2026-11-02", "1.00")],
                                  ["837p"], resubmit=False, output_dir="out")
            if plan.run_id is not None:
                numbers.append(plan.control_number)
                book.finish_run(plan.run_id)
    print(json.dumps(numbers))
""")


def test_concurrent_processes_never_share_a_control_number(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), name, "25"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("A", "B", "C")]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    numbers = [n for result in results for n in result]
    # 75 consecutive numbers from the clock reading of the first (these processes see the real clock)
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 75)) and min(numbers) > 1
    with Ledger(path) as book:
        assert len(set(book.control_numbers())) == 75
        assert all(r["status"] == "done" for r in book.runs())


def test_concurrent_processes_never_send_the_same_claim_twice(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    # the same 25 claims offered by three processes at once: each is sent exactly once
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), "P", "25"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with Ledger(path) as book:
        sent = [c["claim_id"] for r in book.runs() for c in r["claims"] if c["status"] == "sent"]
    assert sorted(sent) == sorted(f"P{i}-20261102" for i in range(25))


def correction(claim_id: str, digest: str, frequency: str, number: str) -> Candidate:
    return replace(cand(claim_id, digest), frequency=frequency, payer_claim_number=number)


def test_a_correction_is_sent_once_per_payer_number_and_content(ledger):
    run(ledger, [cand("P1-20261102", "v1")])
    first = run(ledger, [correction("P1-20261102", "v2", "7", "PCN1")])
    assert actions(first) == {"P1-20261102": ("send", ("837p",), False)}
    assert actions(run(ledger, [correction("P1-20261102", "v2", "7", "PCN1")])) == \
        {"P1-20261102": ("already", (), False)}
    # corrected again (new content), or the payer's number was another: a new replacement
    assert actions(run(ledger, [correction("P1-20261102", "v3", "7", "PCN1")]))["P1-20261102"][0] == "send"
    assert actions(run(ledger, [correction("P1-20261102", "v3", "7", "PCN2")]))["P1-20261102"][0] == "send"
    # a void of the claim as last sent goes; a void of other content is refused
    assert run(ledger, [correction("P1-20261102", "v4", "8", "PCN2")]).refused()[0].reason.startswith(
        "changed since it was exported in run 4: a void carries the claim as it was sent")
    assert actions(run(ledger, [correction("P1-20261102", "v3", "8", "PCN2")]))["P1-20261102"][0] == "send"


def test_a_refused_correction_opens_no_run_for_the_other_claims(ledger):
    plan = run(ledger, [cand("P2-20261102"), correction("P1-20261102", "v1", "8", "PCN1")])
    assert plan.run_id is None and [d.claim_id for d in plan.refused()] == ["P1-20261102"]
    assert ledger.runs() == []
