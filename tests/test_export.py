"""`superbill export` and `superbill ledger list`: what a billing clerk sees, and what lands on disk."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from exportkit import TODAY, clinic, load, patient, session, subscriber, write_patient
from helpers import run, stderr_lines, summary, without_edition_note
from x12check import assert_valid_x12, segments

from superbill.batch import control_numbers
from superbill.batch import export as export_mod
from superbill.batch.export import ExportOptions, export_claims
from superbill.batch.ledger import Ledger


@pytest.fixture
def folder(tmp_path):
    clinic(tmp_path)
    return tmp_path


def export(folder, *args):
    return run("export", *args, "--jobs", "1", clinic=folder / "clinic.yaml")


def files_in(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def sent_claims(folder: Path) -> list[str]:
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        return [c["claim_id"] for r in book.runs() for c in r["claims"] if c["status"] == "sent"]


def isa13(path: Path) -> str:
    return segments(path.read_text())[0][13]


# ---------------------------------------------------------------- the everyday path


def test_export_then_reexport_exports_nothing_new(folder):
    out = folder / "out"
    first = export(folder, folder / "patients", "-o", out)
    assert first.exit_code == 0, first.output
    assert summary(first) == [
        f"wrote {out / 'claims-000000001.837'}",
        "exported 1 claim(s) in run 1 (interchange 000000001)",
    ]
    path = out / "claims-000000001.837"
    assert_valid_x12(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "CLM*P0001-20261102*1035.00***11:B:1*Y*C*N*Y~" in path.read_text()

    second = export(folder, folder / "patients", "-o", out)
    assert second.exit_code == 0
    assert summary(second)[-2:] == [
        "exported 0 claims",
        "skipped 1 claim(s) already exported (superbill ledger list shows when)",
    ]
    assert files_in(out) == ["claims-000000001.837"]
    assert sent_claims(folder) == ["P0001-20261102"]


def test_resubmit_claim_sends_again_with_new_control_numbers(folder):
    out = folder / "out"
    export(folder, folder / "patients" / "example.yaml", "-o", out)
    again = export(folder, folder / "patients" / "example.yaml", "-o", out, "--resubmit-claim", "P0001-20261102")
    assert again.exit_code == 0
    assert summary(again)[-1] == "exported 1 claim(s) in run 2 (interchange 000000002), 1 of them resubmitted"
    assert files_in(out) == ["claims-000000001.837", "claims-000000002.837"]
    first, second = out / "claims-000000001.837", out / "claims-000000002.837"
    assert_valid_x12(second)
    assert (isa13(first), isa13(second)) == ("000000001", "000000002")
    # the resubmission is a new original claim (frequency 1): no payer claim number to replace
    assert "11:B:1" in second.read_text()


def test_changed_claim_is_reported_and_not_resent(folder):
    out = folder / "out"
    path = folder / "patients" / "example.yaml"
    export(folder, path, "-o", out)
    data = yaml.safe_load(path.read_text())
    data["sessions"][0]["payments"][0]["amount"] = 700.00
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = export(folder, path, "-o", out)
    assert result.exit_code == 0
    lines = without_edition_note(stderr_lines(result))
    assert len(lines) == 1
    assert lines[0].startswith("P0001-20261102: warning: changed since it was exported in run 1 (interchange 000000001, ")
    assert lines[0].endswith("); not re-sent (use --resubmit to send it again)")
    assert summary(result)[-1] == ("1 claim(s) changed since they were exported: not re-sent "
                                              "(use --resubmit to send them again)")
    assert files_in(out) == ["claims-000000001.837"]
    resent = export(folder, path, "-o", out, "--resubmit")
    assert resent.exit_code == 0 and "AMT*F5*700.00~" in (out / "claims-000000002.837").read_text()


def test_rejected_file_among_good_ones_exits_1_after_exporting_the_rest(folder):
    out = folder / "out"
    patients = folder / "patients"
    write_patient(patients, "b.yaml", patient("P0002", "Ann", "Lee", member_id="M2"))
    bad = patient("P0003", "Bo", "Kim", member_id="M3")
    bad["sessions"][0]["diagnoses"] = ["G90.5"]  # a category, not a billable code
    write_patient(patients, "c.yaml", bad)
    result = export(folder, patients, "-o", out)
    assert result.exit_code == 1
    errors = [line for line in stderr_lines(result) if ": error: " in line]
    assert errors and all(line.startswith(f"{patients / 'c.yaml'}: sessions[0].diagnoses[0]: error: ") for line in errors)
    assert "exported 2 claim(s) in run 1 (interchange 000000001)" in result.stdout
    assert "rejected 1 file(s) with errors: nothing exported from them" in result.stdout
    text = (out / "claims-000000001.837").read_text()
    assert_valid_x12(text)
    # files in name order: b.yaml, (c.yaml rejected), example.yaml
    assert [s[1] for s in segments(text) if s[0] == "CLM"] == ["P0002-20261102", "P0001-20261102"]
    assert sorted(sent_claims(folder)) == ["P0001-20261102", "P0002-20261102"]


def test_many_patients_many_claims_in_one_valid_interchange(folder):
    out = folder / "out"
    patients = folder / "patients"
    write_patient(patients, "b.yaml", patient("P0002", "José", "Núñez", member_id="M2",
                                              sessions=[session("2026-11-03", prior_auth="PA1"),
                                                        session("2026-11-10", paid=None)]))
    write_patient(patients, "c.yaml", patient("P0003", "Kid", "O'Brien", member_id="M3",
                                              subscriber=subscriber("child", "Pat", "O'Brien")))
    result = export(folder, patients, "-o", out, "--from", "2026-11-01", "--to", "2026-11-30")
    assert result.exit_code == 0, result.output
    text = (out / "claims-000000001.837").read_text()
    assert_valid_x12(text)
    segs = segments(text)
    # files in name order (b.yaml, c.yaml, example.yaml), each patient's claims by date
    assert [s[1] for s in segs if s[0] == "CLM"] == ["P0002-20261103", "P0002-20261110", "P0003-20261102",
                                                     "P0001-20261102"]
    assert ["PAT", "19"] in segs and ["REF", "G1", "PA1"] in segs
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        (only,) = book.runs()
    assert [(c["claim_id"], c["interchange"], c["group"], c["transaction"]) for c in only["claims"]] == [
        ("P0002-20261103", "000000001", "1", "0001"), ("P0002-20261110", "000000001", "1", "0001"),
        ("P0003-20261102", "000000001", "1", "0001"), ("P0001-20261102", "000000001", "1", "0001")]


def test_date_range_limits_the_export(folder):
    out = folder / "out"
    write_patient(folder / "patients", "b.yaml", patient("P0002", "Ann", "Lee", member_id="M2",
                                                         sessions=[session("2026-10-05"), session("2026-11-09")]))
    result = export(folder, folder / "patients" / "b.yaml", "-o", out, "--from", "2026-11-01")
    assert result.exit_code == 0
    assert [s[1] for s in segments((out / "claims-000000001.837").read_text()) if s[0] == "CLM"] == ["P0002-20261109"]
    later = export(folder, folder / "patients" / "b.yaml", "-o", out)
    assert "exported 1 claim(s) in run 2 (interchange 000000002)" in later.stdout
    assert "skipped 1 claim(s) already exported (superbill ledger list shows when)" in later.stdout


def test_billing_zip_without_plus4_stops_the_837p_and_says_why(tmp_path):
    clinic(tmp_path, practice={"address": {"street": "100 Main St", "city": "Springfield", "state": "IL",
                                           "zip": "62701"}})
    result = export(tmp_path, tmp_path / "patients", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{tmp_path / 'clinic.yaml'}: practice.address.zip: error: the 837P needs the billing provider's "
        "9-digit ZIP+4 (for example 62701-1234); look it up with the USPS"]
    assert result.stdout.splitlines() == ["nothing exported"]
    assert files_in(tmp_path / "out") == []
    assert not (tmp_path / "superbill-ledger.sqlite3").exists()


def test_missing_input_is_rejected_and_the_rest_exported(folder):
    out = folder / "out"
    result = export(folder, folder / "patients" / "example.yaml", folder / "nope.yaml", "-o", out)
    assert result.exit_code == 1
    assert without_edition_note(stderr_lines(result)) == [f"{folder / 'nope.yaml'}: error: no such file or folder"]
    assert files_in(out) == ["claims-000000001.837"]


def test_unknown_format_is_a_usage_error(folder):
    result = export(folder, folder / "patients", "-o", folder / "out", "--format", "837p,pdf")
    assert result.exit_code == 2
    assert "unknown format 'pdf'" in result.stderr


def test_no_progress_bar_when_not_a_terminal(folder):
    result = export(folder, folder / "patients", "-o", folder / "out")
    assert "checking files" not in result.output


def test_superbill_format_writes_one_pdf_per_patient_and_records_it(folder):
    out = folder / "out"
    result = export(folder, folder / "patients", "-o", out, "--format", "837p,superbill")
    assert result.exit_code == 0, result.output
    assert files_in(out) == ["claims-000000001.837", "superbill-000000001-P0001_2026-11-02_2026-11-02.pdf"]
    pdf = out / "superbill-000000001-P0001_2026-11-02_2026-11-02.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    # asking again for the 837P only: nothing new
    assert "exported 0 claims" in export(folder, folder / "patients", "-o", out).stdout


def test_a_format_not_yet_written_is_added_without_resending_the_rest(folder):
    out = folder / "out"
    export(folder, folder / "patients", "-o", out)
    result = export(folder, folder / "patients", "-o", out, "--format", "837p,superbill")
    assert result.exit_code == 0
    assert files_in(out) == ["claims-000000001.837", "superbill-000000002-P0001_2026-11-02_2026-11-02.pdf"]
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        assert [[c["formats"] for c in r["claims"]] for r in book.runs()] == [[["837p"]], [["superbill"]]]


# ---------------------------------------------------------------- ledger list


def test_ledger_list_shows_what_was_sent_when(folder):
    out = folder / "out"
    export(folder, folder / "patients", "-o", out)
    export(folder, folder / "patients", "-o", out, "--resubmit-claim", "P0001-20261102")
    listing = run("ledger", "list", clinic=folder / "clinic.yaml")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert lines[0].startswith("run 1  ") and "  done  interchange 000000001  837p  1 claim(s)  " in lines[0]
    assert lines[1:3] == ["    file claims-000000001.837",
                          "    P0001-20261102  2026-11-02  1035.00  837p  ISA13 000000001 GS06 1 ST02 0001"]
    assert lines[3].startswith("run 2  ") and "interchange 000000002" in lines[3]
    assert lines[5] == "    P0001-20261102  2026-11-02  1035.00  837p  ISA13 000000002 GS06 2 ST02 0001  resubmission"
    as_json = json.loads(run("ledger", "list", "--json", clinic=folder / "clinic.yaml").stdout)
    assert [(r["run_id"], r["status"], r["interchange"], r["files"]) for r in as_json["runs"]] == [
        (1, "done", "000000001", ["claims-000000001.837"]), (2, "done", "000000002", ["claims-000000002.837"])]
    assert as_json["runs"][1]["claims"][0]["resubmission"] is True


def test_ledger_option_puts_the_ledger_elsewhere(folder, tmp_path_factory):
    other = tmp_path_factory.mktemp("books") / "my-ledger.sqlite3"
    export(folder, folder / "patients", "-o", folder / "out", "--ledger", other)
    assert other.exists() and not (folder / "superbill-ledger.sqlite3").exists()
    listing = run("ledger", "list", "--ledger", other, clinic=folder / "clinic.yaml")
    assert "interchange 000000001" in listing.stdout


def test_ledger_list_before_any_export(folder):
    listing = run("ledger", "list", clinic=folder / "clinic.yaml")
    assert listing.exit_code == 0
    assert listing.stdout.strip() == f"{folder / 'superbill-ledger.sqlite3'}: no exports recorded yet"


# ---------------------------------------------------------------- failures leave nothing half-done


def test_failure_between_writing_and_recording_leaves_no_file_and_no_record(folder, monkeypatch):
    loaded = load(folder)
    out = folder / "out"

    def fail(stage):
        if stage == "published":
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_mod, "_checkpoint", fail)
    report = export_claims([folder / "patients"], loaded, ExportOptions(out_dir=out, jobs=1, today=TODAY))
    assert [p.line() for p in report.fatal] == [f"{out}: error: cannot write the export (No space left on device)"]
    assert not report.ok and report.exported == []
    assert os.listdir(out) == []
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        (failed,) = book.runs()
    assert failed["status"] == "failed" and [c["status"] for c in failed["claims"]] == ["void"]
    monkeypatch.setattr(export_mod, "_checkpoint", lambda stage: None)
    again = export_claims([folder / "patients"], loaded, ExportOptions(out_dir=out, jobs=1, today=TODAY))
    assert again.exported == ["P0001-20261102"] and again.control_number == 2
    assert os.listdir(out) == ["claims-000000002.837"]


KILLER = textwrap.dedent("""
    import os, signal, sys
    import superbill.batch.export as export
    stage = sys.argv[1]

    def checkpoint(name):
        if name == stage:
            os.kill(os.getpid(), signal.SIGKILL)

    export._checkpoint = checkpoint
    from superbill.cli import main
    sys.argv = ["superbill"] + sys.argv[2:]
    main()
""")


def kill_at(stage: str, folder: Path, out: Path, *formats):
    args = ["--clinic", str(folder / "clinic.yaml"), "export", str(folder / "patients"), "-o", str(out), "--jobs", "1"]
    if formats:
        args += ["--format", ",".join(formats)]
    proc = subprocess.run([sys.executable, "-c", KILLER, stage, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr


def test_killed_while_writing_leaves_no_file_and_no_claim_recorded(folder):
    out = folder / "out"
    kill_at("staged", folder, out, "837p", "csv")
    # no file under its final name; at most hidden temporary files, which nothing reads
    assert [name for name in files_in(out) if not name.startswith(".")] == []
    assert sent_claims(folder) == []
    listing = run("ledger", "list", clinic=folder / "clinic.yaml").stdout
    # the killed process numbered from the real clock (a new ledger never starts at 1)
    first = int(listing.split("  interrupted  interchange ")[1].split()[0])
    assert first > 1 and "(pending: not exported)" in listing
    # the next export settles the interrupted run, removes its leftovers and sends the claim
    result = export(folder, folder / "patients", "-o", out)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == ("run 1 had been interrupted before all its files were written; "
                                             "nothing of it is recorded")
    assert files_in(out) == [f"claims-{first + 1:09d}.837"]
    assert_valid_x12(out / f"claims-{first + 1:09d}.837")
    assert sent_claims(folder) == ["P0001-20261102"]


def test_killed_after_naming_the_files_is_completed_not_resent(folder):
    out = folder / "out"
    kill_at("published", folder, out)
    (name,) = files_in(out)  # numbered from the real clock in the killed process
    assert_valid_x12(out / name)  # complete: it got its name only once written
    assert sent_claims(folder) == []  # not yet recorded: the run was killed before that
    result = export(folder, folder / "patients", "-o", out)
    assert result.stdout.splitlines()[:3] == [
        "run 1 had been interrupted after writing all its files; its claims are now recorded as exported",
        "exported 0 claims",
        "skipped 1 claim(s) already exported (superbill ledger list shows when)",
    ]
    assert files_in(out) == [name]
    assert sent_claims(folder) == ["P0001-20261102"]


# ---------------------------------------------------------------- parallel and concurrent runs


def _many(folder: Path, count: int) -> Path:
    patients = folder / "many"
    for i in range(count):
        write_patient(patients, f"p{i:03d}.yaml",
                      patient(f"Q{i:03d}", "Ann", f"Test{i}", member_id=f"M{i:04d}",
                              sessions=[session("2026-11-02"), session("2026-11-09", paid=None)]))
    return patients


def test_parallel_jobs_give_the_same_file_as_one_job(folder, tmp_path_factory):
    patients = _many(folder, 12)
    loaded = load(folder)
    now = dt.datetime(2026, 12, 1, 8, 0)
    texts = []
    for jobs in (1, 2):
        out = tmp_path_factory.mktemp(f"jobs{jobs}")
        report = export_claims([patients], loaded, ExportOptions(out_dir=out, jobs=jobs, today=TODAY, now=now,
                                                                 ledger_path=out / "ledger.sqlite3"))
        assert report.ok and len(report.exported) == 24
        texts.append((out / "claims-000000001.837").read_text())
        # the next run as the clinic's first again (its second ledger would otherwise number above the
        # first's: control_numbers.ClinicMark), so both files carry the same control number
        control_numbers.mark_path(folder).unlink()
    assert texts[0] == texts[1]
    assert_valid_x12(texts[0])


CONCURRENT = textwrap.dedent("""
    import sys
    from superbill.cli import main
    sys.argv = ["superbill"] + sys.argv[1:]
    main()
""")


def test_two_exports_at_once_share_no_control_number_and_no_claim(folder):
    patients = _many(folder, 20)
    outs = [folder / "out-a", folder / "out-b"]
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT, "--clinic", str(folder / "clinic.yaml"), "export",
                               str(patients), "-o", str(out), "--jobs", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for out in outs]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    written = [p for out in outs for p in sorted(out.glob("*.837"))]
    numbers = [isa13(p) for p in written]
    assert len(numbers) == len(set(numbers))
    claims = []
    for path in written:
        assert_valid_x12(path)
        claims += [s[1] for s in segments(path.read_text()) if s[0] == "CLM"]
    # every claim sent exactly once between the two runs
    assert sorted(claims) == sorted(f"Q{i:03d}-2026110{d}" for i in range(20) for d in (2, 9))
    assert sorted(sent_claims(folder)) == sorted(claims)
    # and later runs keep counting up
    more = export(folder, folder / "patients", "-o", folder / "out-c")
    assert isa13(folder / "out-c" / f"claims-{max(int(n) for n in numbers) + 1:09d}.837")
    assert more.exit_code == 0


def test_all_formats_in_one_run_share_its_number(folder):
    out = folder / "out"
    result = export(folder, folder / "patients", "-o", out, "--format", "csv,837p,cms1500")
    assert result.exit_code == 0, result.output
    assert files_in(out) == ["claims-000000001.837", "claims-000000001.csv", "cms1500-000000001.pdf"]
    assert result.stdout.splitlines()[:3] == [f"wrote {out / name}" for name in
                                              ("claims-000000001.837", "cms1500-000000001.pdf", "claims-000000001.csv")]
    import csv

    assert (out / "claims-000000001.csv").read_bytes().startswith(b"\xef\xbb\xbfclaim_id,")
    with open(out / "claims-000000001.csv", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["claim_id"], r["code"]) for r in rows] == [
        ("P0001-20261102", code) for code in ("99214", "93000", "96365", "96366", "J3490", "J2405")]
    assert (out / "cms1500-000000001.pdf").read_bytes().startswith(b"%PDF")
    assert all(stat.S_IMODE((out / name).stat().st_mode) == 0o600 for name in files_in(out))
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        (only,) = book.runs()
    assert only["formats"] == ["837p", "cms1500", "csv"]
    assert only["claims"][0]["formats"] == ["837p", "cms1500", "csv"]


def test_usage_option_overrides_the_clinic_setting(folder):
    out = folder / "out"
    result = export(folder, folder / "patients", "-o", out, "--usage", "P")
    assert result.exit_code == 0
    assert segments((out / "claims-000000001.837").read_text())[0][15] == "P"
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        assert book.runs()[0]["usage"] == "P"
