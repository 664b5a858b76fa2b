"""Faults in the middle of an export: a full disk, a folder that turns read-only, a ledger that
cannot be written, SIGKILL at points across the whole run, exports racing on one ledger.

Each failing export is a real `superbill export` process with one fault injected by HARNESS. After
every case the next export runs and the folder and ledger must be consistent (`assert_consistent`):
no partial or hidden file, no file that no finished run owns, no claim sent twice, no control number
used twice, every finished run's files complete, and the rerun exported exactly what was missing.

tests/test_export.py already kills at its two checkpoints, fails once at "published" and races two
exports into two folders; these tests add the rest.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from exportkit import patient, session, write_patient
from helpers import run, summary, without_edition_note
from x12check import assert_valid_x12, segments

from superbill.batch.ledger import Ledger
from superbill.inputs.starter import write_starter

LONG = os.environ.get("SUPERBILL_FUZZ") == "long"
pytestmark = pytest.mark.slow  # real export processes, killed and rerun: minutes

HARNESS = textwrap.dedent(r'''
    """superbill export with one fault: python -c HARNESS FAULT[,FAULT...] -- CLI ARGS..."""
    import errno, os, pathlib, resource, signal, sqlite3, sys

    import superbill.batch.control_numbers as control_numbers
    import superbill.batch.durable as durable
    import superbill.batch.ledger as ledger

    control_numbers.clock_number = lambda now=None: 0  # the epoch, as conftest has it in-process

    faults = dict(part.partition("=")[::2] for part in sys.argv[1].split(",") if part)
    args = sys.argv[sys.argv.index("--") + 1:]
    out = pathlib.Path(args[args.index("-o") + 1]).resolve()
    count = [0]
    published = [0]

    def event(name):
        count[0] += 1
        if "events" in faults:
            with open(faults["events"], "a") as log:
                log.write(name + "\n")
        if count[0] == int(faults.get("kill", 0)):
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner, attr, name, before=None):
        real = getattr(owner, attr)

        def inner(*a, **k):
            event(name)
            if before:
                before(*a, **k)
            result = real(*a, **k)
            event(name + " done")
            return result

        setattr(owner, attr, inner)

    for attr in ("write", "fsync", "replace", "link", "unlink"):
        wrap(os, attr, "os." + attr)
    wrap(durable.tempfile, "mkstemp", "mkstemp")
    for attr in ("recover", "begin_run", "plan_files", "finish_run", "abandon_run"):
        wrap(ledger.Ledger, attr, "ledger." + attr)

    if "nospace" in faults:  # a disk with this many bytes free for the exported files
        free = [int(faults["nospace"])]
        real_write = os.write

        def write(fd, data):
            if free[0] <= 0:
                raise OSError(errno.ENOSPC, "No space left on device")
            data = memoryview(data)[:free[0]]
            written = real_write(fd, data)
            free[0] -= written
            return written

        os.write = write

    if "fsize" in faults:  # a real kernel limit, armed once the ledger has planned the run
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        real_plan = ledger.Ledger.plan_files

        def plan_files(self, *a, **k):
            real_plan(self, *a, **k)
            limit = int(faults["fsize"])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        ledger.Ledger.plan_files = plan_files

    if "readonly" in faults:  # the folder turns read-only after N files got their name
        after = int(faults["readonly"])

        def in_out(path):
            try:
                return pathlib.Path(path).resolve().parent == out
            except OSError:
                return False

        def guard(name, real):
            def inner(*a, **k):
                target = a[1] if name in ("replace", "link") else a[0]
                if in_out(target):
                    if name in ("replace", "link") and not pathlib.Path(target).name.startswith("."):
                        if published[0] >= after:
                            raise OSError(errno.EROFS, "Read-only file system")
                        published[0] += 1
                    elif name == "unlink" and published[0] >= after:
                        raise OSError(errno.EROFS, "Read-only file system")
                return real(*a, **k)
            return inner

        os.replace = guard("replace", os.replace)
        os.link = guard("link", os.link)
        os.unlink = guard("unlink", os.unlink)
        real_path_unlink = pathlib.Path.unlink

        def path_unlink(self, missing_ok=False):
            if in_out(self) and published[0] >= after:
                raise OSError(errno.EROFS, "Read-only file system")
            return real_path_unlink(self, missing_ok=missing_ok)

        pathlib.Path.unlink = path_unlink

    if "denied" in faults:  # no file can be created in the folder
        def refuse(*a, **k):
            raise PermissionError(errno.EACCES, "Permission denied")

        durable.tempfile.mkstemp = refuse
        durable._unnamed_files_work = lambda folder: False

    if "ledgerfull" in faults:  # the disk under the ledger fills once the files are written
        def full(self, *a, **k):
            raise sqlite3.OperationalError("database or disk is full")

        ledger.Ledger.finish_run = full
        ledger.Ledger.abandon_run = full

    from superbill.cli import main
    sys.argv = ["superbill"] + args
    main()
''')


# ---------------------------------------------------------------- a practice to export


@pytest.fixture
def practice(tmp_path):
    """The starter clinic and four patients, five claims (one patient has two sessions)."""
    folder = tmp_path / "clinic"
    write_starter(folder)
    patients = folder / "patients"
    write_patient(patients, "b.yaml", patient("P0002", "Ann", "O'Lee", member_id="M2",
                                              sessions=[session("2026-11-03"), session("2026-11-10", paid=None)]))
    write_patient(patients, "c.yaml", patient("P0003", "Bo", "Kim", member_id="M3"))
    write_patient(patients, "d.yaml", patient("P0004", "Cy", "Díaz", member_id="M4",
                                              sessions=[session(prior_auth="PA9")]))
    return folder


CLAIMS = {"P0001-20261102", "P0002-20261103", "P0002-20261110", "P0003-20261102", "P0004-20261102"}


def export_args(folder: Path, out: Path, formats: str = "837p,csv") -> list[str]:
    return ["--clinic", str(folder / "clinic.yaml"), "export", str(folder / "patients"), "-o", str(out),
            "--format", formats, "--jobs", "1"]


def faulty(faults: str, folder: Path, out: Path, formats: str = "837p,csv", wait: bool = True):
    command = [sys.executable, "-c", HARNESS, faults, "--", *export_args(folder, out, formats)]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def rerun(folder: Path, out: Path, formats: str = "837p,csv"):
    return run(*export_args(folder, out, formats)[2:], clinic=folder / "clinic.yaml")


def ledger_runs(folder: Path) -> list[dict]:
    with Ledger(folder / "superbill-ledger.sqlite3") as book:
        return book.runs()


def assert_consistent(folder: Path, out: Path, formats=("837p", "csv"), claims=CLAIMS, validate: bool = False) -> None:
    runs = ledger_runs(folder)
    assert all(r["status"] in ("done", "failed") for r in runs), [(r["run_id"], r["status"]) for r in runs]
    numbers = [r["interchange"] for r in runs]
    assert len(numbers) == len(set(numbers)), numbers  # no control number used twice
    done = [r for r in runs if r["status"] == "done"]
    # the folder holds exactly the finished runs' files: nothing partial, hidden or orphaned
    assert sorted(os.listdir(out)) == sorted(name for r in done for name in r["files"])
    assert all(c["status"] == "void" for r in runs if r["status"] == "failed" for c in r["claims"])
    # every claim sent exactly once in every format
    sent = [(c["claim_id"], f) for r in done for c in r["claims"] if c["status"] == "sent" for f in c["formats"]]
    assert len(sent) == len(set(sent)), sent
    assert sorted(sent) == sorted((cid, f) for cid in claims for f in formats)
    # and the files say the same: each 837 complete, under its run's control number, each claim once
    in_files, csv_claims = [], []
    for r in done:
        for name in r["files"]:
            path = out / name
            if name.endswith(".837"):
                segs = segments(path.read_text())
                assert segs[0][13] == r["interchange"] and segs[-1][:3] == ["IEA", "1", r["interchange"]]
                in_files += [s[1] for s in segs if s[0] == "CLM"]
                if validate:
                    assert_valid_x12(path)
            elif name.endswith(".csv"):
                rows = path.read_text(encoding="utf-8-sig").splitlines()
                csv_claims += sorted({row.split(",")[0] for row in rows[1:]})
            elif name.endswith(".pdf"):
                assert path.read_bytes().rstrip().endswith(b"%%EOF")
    assert sorted(in_files) == sorted(claims)
    if "csv" in formats:
        assert sorted(csv_claims) == sorted(claims)


# ---------------------------------------------------------------- a full disk


@pytest.mark.parametrize("free", [0, 700, 2600])
def test_a_full_disk_mid_export_leaves_nothing_and_the_rerun_sends_everything(practice, tmp_path, free):
    """0 bytes free: the first file fails at once; 700: half way through the 837P; 2600: the 837P
    is complete and staged, the CSV half written."""
    out = tmp_path / "out"
    failed = faulty(f"nospace={free}", practice, out)
    assert failed.returncode == 1, failed.stderr
    assert without_edition_note(failed.stderr.splitlines()) == [f"{out}: error: cannot write the export (No space left on device)"]
    assert failed.stdout.splitlines() == ["nothing exported"]
    assert os.listdir(out) == []
    (only,) = ledger_runs(practice)
    assert only["status"] == "failed" and {c["status"] for c in only["claims"]} == {"void"}
    again = rerun(practice, out)
    assert again.exit_code == 0, again.output
    assert summary(again)[-1] == "exported 5 claim(s) in run 2 (interchange 000000002)"
    assert_consistent(practice, out, validate=True)


def test_a_real_file_size_limit_from_the_kernel_mid_export(practice, tmp_path):
    """Not a simulation: RLIMIT_FSIZE makes the kernel refuse the write (EFBIG) once a file passes
    5000 bytes: the 837P (about 4.3 kB) is complete and staged, the CSV (about 6.6 kB) half written.
    The ledger may not be able to record the failure either (its WAL is a file too): the next
    export settles the run either way."""
    out = tmp_path / "out"
    failed = faulty("fsize=5000", practice, out)
    assert failed.returncode == 1, failed.stderr
    assert without_edition_note(failed.stderr.splitlines())[0] == f"{out}: error: cannot write the export (File too large)"
    assert failed.stdout.splitlines() == ["nothing exported"]
    assert [name for name in os.listdir(out) if not name.startswith(".")] == []
    again = rerun(practice, out)
    assert again.exit_code == 0, again.output
    assert summary(again)[-1] == "exported 5 claim(s) in run 2 (interchange 000000002)"
    assert_consistent(practice, out)


# ---------------------------------------------------------------- an unwritable folder


def test_a_folder_that_refuses_new_files(practice, tmp_path):
    out = tmp_path / "out"
    failed = faulty("denied", practice, out)
    assert failed.returncode == 1
    assert without_edition_note(failed.stderr.splitlines()) == [f"{out}: error: cannot write the export (Permission denied)"]
    assert os.listdir(out) == []
    assert rerun(practice, out).exit_code == 0
    assert_consistent(practice, out)


def test_a_folder_that_turns_read_only_after_the_first_file(practice, tmp_path):
    """The 837P got its name, then the folder went read-only (a disk error remounts it): the named
    file cannot be removed. It must not be sent (the claims are not recorded), the clerk is told so,
    and the next export removes it and its hidden leftovers before sending the claims again."""
    out = tmp_path / "out"
    failed = faulty("readonly=1", practice, out)
    assert failed.returncode == 1
    assert without_edition_note(failed.stderr.splitlines()) == [
        f"{out}: error: cannot write the export (Read-only file system)",
        f"{out / 'claims-000000001.837'}: error: was written but cannot be removed after the failure: "
        "do not send it (the next export removes it)"]
    assert "claims-000000001.837" in os.listdir(out)
    listing = run("ledger", "list", clinic=practice / "clinic.yaml")
    assert "  interrupted  interchange 000000001" in listing.stdout
    again = rerun(practice, out)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0].startswith(
        "run 1 had been interrupted before all its files were written; nothing of it is recorded; "
        "removed claims-000000001.837")
    assert_consistent(practice, out)


def test_a_ledger_that_cannot_record_the_run(practice, tmp_path):
    """Every file is written, then the ledger's disk is full: the files are taken back (a claim is
    exported only when the ledger says so) and the next export sends them."""
    out = tmp_path / "out"
    failed = faulty("ledgerfull", practice, out)
    assert failed.returncode == 1
    assert without_edition_note(failed.stderr.splitlines()) == [
        f"{practice / 'superbill-ledger.sqlite3'}: error: cannot record the export (database or disk is full); "
        "nothing exported"]
    assert os.listdir(out) == []
    again = rerun(practice, out)
    assert again.exit_code == 0, again.output
    assert summary(again)[-1] == "exported 5 claim(s) in run 2 (interchange 000000002)"
    assert_consistent(practice, out)


# ---------------------------------------------------------------- SIGKILL anywhere


def _events(practice: Path, tmp_path: Path) -> list[str]:
    """The run's events (file system calls and ledger steps) in order, from an uninterrupted run."""
    log = tmp_path / "events.txt"
    probe = tmp_path / "probe"
    write_starter(probe)
    for path in (practice / "patients").iterdir():
        (probe / "patients" / path.name).write_bytes(path.read_bytes())
    result = faulty(f"events={log}", probe, tmp_path / "probe-out")
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def kill_seed() -> int:
    """$SUPERBILL_KILL_SEED, else the same seed every run (a red run shows again), else with --fuzz-long
    a random one (printed, to replay it)."""
    if "SUPERBILL_KILL_SEED" in os.environ:
        return int(os.environ["SUPERBILL_KILL_SEED"])
    return random.randrange(1 << 30) if LONG else 20261201


def test_sigkill_at_points_across_the_whole_export_then_a_rerun(practice, tmp_path):
    """One export killed at the N-th event (a write, an fsync, a rename, a ledger step) for N drawn
    from every kind of event, then the next export: consistent every time, whatever N was."""
    events = _events(practice, tmp_path)
    kinds: dict[str, list[int]] = {}
    for n, name in enumerate(events, start=1):
        kinds.setdefault(name, []).append(n)
    seed = kill_seed()
    rng = random.Random(seed)
    if LONG:
        points = list(range(1, len(events) + 1))  # every single point
    else:  # one point of each kind of event, eight of those kinds
        points = sorted({rng.choice(positions) for positions in kinds.values()})
        points = sorted(rng.sample(points, min(8, len(points))))
    print(f"SUPERBILL_KILL_SEED={seed}: killing at events {points} of {len(events)}")
    for n in points:
        folder = tmp_path / f"kill-{n}"
        write_starter(folder)
        for path in (practice / "patients").iterdir():
            (folder / "patients" / path.name).write_bytes(path.read_bytes())
        out = folder / "out"
        killed = faulty(f"kill={n}", folder, out)
        assert killed.returncode == -9, (n, events[n - 1], killed.stderr)
        assert "Traceback" not in killed.stderr
        again = rerun(folder, out)
        assert again.exit_code == 0, (n, events[n - 1], again.output)
        assert_consistent(folder, out)
        # and the run after that has nothing left to do
        last = rerun(folder, out)
        assert summary(last)[-2:] == [
            "exported 0 claims", "skipped 5 claim(s) already exported (superbill ledger list shows when)"]


# ---------------------------------------------------------------- races


def test_three_exports_at_once_into_one_folder_one_of_them_killed(practice, tmp_path):
    """Three clerks export the same patients into the same folder at once. The first has taken
    the claims (its run is open in the ledger) when the other two start, and is killed at a random
    point after that. Each claim goes out once, no control number twice, and the next export
    finishes what the killed one had taken."""
    for i in range(5, 17):
        write_patient(practice / "patients", f"p{i:02d}.yaml", patient(f"P{i:04d}", "Dee", f"Race{i}", member_id=f"R{i}"))
    claims = CLAIMS | {f"P{i:04d}-20261102" for i in range(5, 17)}
    events = _events(practice, tmp_path)
    opened = events.index("ledger.begin_run done") + 1
    seed = kill_seed()
    kill_at = random.Random(seed).randrange(opened + 1, len(events) + 1)
    print(f"SUPERBILL_KILL_SEED={seed}: the first export is killed at event {kill_at} of {len(events)} "
          f"({events[kill_at - 1]})")
    out = tmp_path / "out"
    log = tmp_path / "race.txt"
    first = faulty(f"kill={kill_at},events={log}", practice, out, wait=False)
    deadline = time.monotonic() + 60
    while first.poll() is None and time.monotonic() < deadline:
        if log.exists() and "ledger.begin_run done" in log.read_text():
            break
        time.sleep(0.01)
    procs = [first, faulty("", practice, out, wait=False), faulty("", practice, out, wait=False)]
    codes = [proc.wait(timeout=180) for proc in procs]
    for proc in procs:
        proc.stdout.close()
        stderr = proc.stderr.read()
        proc.stderr.close()
        assert "Traceback" not in stderr, stderr
    assert codes == [-9, 0, 0], codes
    again = rerun(practice, out)
    assert again.exit_code == 0, again.output
    assert_consistent(practice, out, claims=claims)
    numbers = [r["interchange"] for r in ledger_runs(practice)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
