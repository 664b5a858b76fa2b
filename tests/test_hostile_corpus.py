"""The hostile corpus: files on disk (tests/hostile) that try to crash, hang, smuggle or confuse.

Every file gets exactly the lines in tests/hostile/expected.yaml, exit 1 (0 for the few hostile but
valid ones), no traceback, and never an echo of a value, under each YAML loader (how long each file
takes: bench/bench_hostile.py). Generated at test time instead of committed: 10,000 sessions in one
file, symbolic links out of an exported folder, a named pipe and a device, a file name holding
escape sequences.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import example_patient, run, stderr_lines, summary, without_edition_note, write_yaml
from x12check import assert_valid_x12, segments

from superbill.batch.ledger import Ledger
from superbill.inputs.starter import write_starter

HOSTILE = Path(__file__).parent / "hostile"
EXPECTED = yaml.safe_load((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))
PATIENT_FILES = sorted(EXPECTED["files"])
CLINIC_FILES = sorted(EXPECTED["clinic"])
ACCEPTED = [name for name in PATIENT_FILES if not EXPECTED["files"][name]]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clinic")
    write_starter(folder)
    return folder


def expected_lines(name: str, kind: str = "files", patient: Path | None = None) -> list[str]:
    path = HOSTILE / kind / name
    return [line.replace("{file}", str(path)).replace("{dir}", str(path.parent)).replace("{patient}", str(patient))
            for line in EXPECTED[kind][name]]


def no_echo(text: str) -> None:
    assert "Traceback" not in text
    assert "SECRET" not in text  # the corpus hides its invalid values behind this word
    assert "\x1b" not in text and "\x07" not in text


# ---------------------------------------------------------------- the corpus, file by file


def test_every_corpus_file_has_its_expected_lines():
    assert sorted(p.name for p in (HOSTILE / "files").iterdir()) == PATIENT_FILES
    assert sorted(p.name for p in (HOSTILE / "clinic").iterdir()) == CLINIC_FILES
    assert len(PATIENT_FILES) + len(CLINIC_FILES) >= 55


@pytest.mark.parametrize("name", PATIENT_FILES)
def test_patient_or_request_file(name, clinic, yaml_loader):
    path = HOSTILE / "files" / name
    result = run("check", path, clinic=clinic / "clinic.yaml")
    assert stderr_lines(result) == expected_lines(name)
    assert result.exit_code == (1 if EXPECTED["files"][name] else 0)
    no_echo(result.output)


@pytest.mark.parametrize("name", CLINIC_FILES)
def test_clinic_profile(name, clinic, yaml_loader):
    patient = clinic / "patients" / "example.yaml"
    result = run("check", patient, clinic=HOSTILE / "clinic" / name)
    assert stderr_lines(result) == expected_lines(name, "clinic", patient)
    assert result.exit_code == 1
    no_echo(result.output)


def test_the_whole_corpus_in_one_real_process(clinic):
    """The installed command over every file at once: each file's lines, in order, nothing else."""
    paths = [HOSTILE / "files" / name for name in PATIENT_FILES]
    proc = subprocess.run([sys.executable, "-m", "superbill.cli", "--clinic", str(clinic / "clinic.yaml"), "check",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [line for name in PATIENT_FILES for line in expected_lines(name)]
    bad = sum(1 for name in PATIENT_FILES if EXPECTED["files"][name])
    assert proc.stdout.splitlines()[-1].startswith(
        f"{len(paths)} file(s) checked: {len(paths) - bad} ok, {bad} with errors; ")
    no_echo(proc.stdout + proc.stderr)


def test_python_tags_never_run(clinic, tmp_path):
    marker = Path("/tmp/superbill-pwned")
    marker.unlink(missing_ok=True)
    run("check", HOSTILE / "files" / "python-tag.yaml", clinic=clinic / "clinic.yaml")
    run("claims", "--json", HOSTILE / "files" / "python-tag.yaml", clinic=clinic / "clinic.yaml")
    assert not marker.exists()


# ---------------------------------------------------------------- the corpus as one export batch


def test_exporting_the_corpus_folder_sends_only_the_valid_files(clinic, tmp_path):
    """Billing staff point export at a folder full of junk: the junk is rejected line by line, the
    requests are skipped, the four valid patients (two with ids that are paths) go out, and every
    file lands inside -o, owner-only."""
    out = tmp_path / "out"
    ledger = tmp_path / "ledger.sqlite3"
    around = set(tmp_path.parent.iterdir())
    result = run("export", HOSTILE / "files", "-o", out, "--format", "837p,cms1500,csv,superbill",
                 "--jobs", "1", "--ledger", ledger, clinic=clinic / "clinic.yaml")
    assert result.exit_code == 1
    patient_kind = [n for n in PATIENT_FILES if not n.startswith("request-")]
    rejected = [n for n in patient_kind if EXPECTED["files"][n]]
    # the two ids that are paths are longer than item 26's box on the CMS-1500: cut, with a warning
    lines = without_edition_note(stderr_lines(result))
    cut = [line for line in lines if ": CMS-1500 item " in line]
    assert [line for line in lines if line not in cut] == [line for name in rejected for line in expected_lines(name)]
    assert cut == [f"{HOSTILE / 'files' / name}: warning: claim {claim}: CMS-1500 item 26 holds 14 characters; "
                   f"the value has {length} and is cut at the box"
                   for name, claim, length in (("id-path-absolute.yaml", "/abs/path-20261102", 17),
                                               ("id-path-relative.yaml", "../../etc/x-20261102", 19))]
    assert summary(result) == [
        "skipped 2 prior-authorization request(s): not patient files",
        f"wrote {out / 'claims-000000001.837'}",
        f"wrote {out / 'cms1500-000000001.pdf'}",
        f"wrote {out / 'claims-000000001.csv'}",
        f"wrote {out / 'superbill-000000001-abs-path_2026-11-02_2026-11-02.pdf'}",
        f"wrote {out / 'superbill-000000001-etc-x_2026-11-02_2026-11-02.pdf'}",
        f"wrote {out / 'superbill-000000001-P-BOM_2026-11-02_2026-11-02.pdf'}",
        f"wrote {out / 'superbill-000000001-P-CRLF_2026-11-02_2026-11-02.pdf'}",
        "exported 4 claim(s) in run 1 (interchange 000000001)",
        f"rejected {len(rejected)} file(s) with errors: nothing exported from them",
        *[f"  {expected_lines(name)[0]}" for name in rejected],  # each named with its first error
    ]
    text = (out / "claims-000000001.837").read_text()
    assert_valid_x12(text)
    assert sorted(s[1] for s in segments(text) if s[0] == "CLM") == [
        "../../etc/x-20261102", "/abs/path-20261102", "P-BOM-20261102", "P-CRLF-20261102"]
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # nothing beside the output folder and the ledger, nothing above them
    assert set(tmp_path.parent.iterdir()) == around
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite3", "out"]
    assert not Path("/abs").exists() and not (HOSTILE.parent.parent / "etc").exists()


def test_a_patient_id_that_is_a_path_stays_inside_the_output_folder(clinic, tmp_path):
    out = tmp_path / "deep" / "out"
    before = set(tmp_path.rglob("*"))
    result = run("render", HOSTILE / "files" / "id-path-relative.yaml", HOSTILE / "files" / "id-path-absolute.yaml",
                 "-o", out, "--per-session", "--html", clinic=clinic / "clinic.yaml")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["abs-path_2026-11-02.html", "etc-x_2026-11-02.html"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())
    new = set(tmp_path.rglob("*")) - before
    assert all(p == out or out in p.parents or p in out.parents for p in new), sorted(new)
    # the id is shown as it was given, as text
    assert "../../etc/x-20261102" in (out / "etc-x_2026-11-02.html").read_text()


# ---------------------------------------------------------------- generated at test time


def ten_thousand_sessions(folder: Path) -> Path:
    """One patient with 10,000 sessions: three a day from 2017-01-02 (claims -2 and -3 that day)."""
    data = example_patient()
    template = data["sessions"][0]
    first = dt.date(2017, 1, 2)
    sessions = []
    for i in range(10_000):
        day = (first + dt.timedelta(days=i // 3)).isoformat()
        session = copy.deepcopy(template)
        session["date"] = day
        session["payments"] = [{"date": day, "amount": 650.00, "method": "card"}]
        sessions.append(session)
    data["sessions"] = sessions
    path = folder / "big.yaml"  # the C emitter: the pure-Python one takes seconds for 3 MB
    path.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False))
    return path


@pytest.mark.slow
def test_ten_thousand_sessions_in_one_file_export(clinic, tmp_path):
    """How long it takes, against 1,000 sessions in the same run: bench/bench_hostile.py --sessions."""
    big = ten_thousand_sessions(tmp_path)
    assert big.stat().st_size > 2_000_000
    out = tmp_path / "out"
    result = run("export", big, "-o", out, "--jobs", "1",
                 "--ledger", tmp_path / "ledger.sqlite3", clinic=clinic / "clinic.yaml")
    assert result.exit_code == 0, result.output[-2000:]
    assert summary(result)[-1] == "exported 10000 claim(s) in run 1 (interchange 000000001)"
    segs = segments((out / "claims-000000001.837").read_text())
    claims = [s[1] for s in segs if s[0] == "CLM"]
    assert len(claims) == len(set(claims)) == 10_000
    assert claims[:4] == ["P0001-20170102", "P0001-20170102-2", "P0001-20170102-3", "P0001-20170103"]
    assert all(s[2] == "1035.00" for s in segs if s[0] == "CLM")
    # two transaction sets of at most 5000 claims, each SE counting its own segments
    starts = [i for i, s in enumerate(segs) if s[0] == "ST"]
    ends = [i for i, s in enumerate(segs) if s[0] == "SE"]
    assert len(starts) == len(ends) == 2
    for st, se in zip(starts, ends, strict=True):
        assert int(segs[se][1]) == se - st + 1 and segs[se][2] == segs[st][2]
    assert [s[1] for s in segs if s[0] == "GE"] == ["2"]
    with Ledger(tmp_path / "ledger.sqlite3") as book:
        (only,) = book.runs()
    assert len(only["claims"]) == 10_000 and {c["status"] for c in only["claims"]} == {"sent"}


def test_symbolic_links_out_of_an_exported_folder_are_refused_not_followed(clinic, tmp_path):
    """Decision: when export searches a folder, a link that leads out of it (to a file or a folder)
    is reported as an error and not read: a link planted in a shared folder must not pull another
    clinic's patient, or any readable file, into this export. A link inside the folder is read once.
    A file named on the command line is the clerk's explicit choice and is followed."""
    inside = tmp_path / "patients"
    elsewhere = tmp_path / "elsewhere"
    outsider = example_patient()
    outsider["patient"]["id"] = "OUTSIDER"
    write_yaml(elsewhere / "outsider.yaml", outsider)
    write_yaml(elsewhere / "more" / "other.yaml", dict(outsider, patient=dict(outsider["patient"], id="OTHER")))
    write_yaml(inside / "real.yaml", example_patient())
    (inside / "to-outsider.yaml").symlink_to(elsewhere / "outsider.yaml")
    (inside / "to-folder").symlink_to(elsewhere / "more")
    (inside / "to-passwd.yaml").symlink_to("/etc/passwd")
    (inside / "same.yaml").symlink_to(inside / "real.yaml")
    out = tmp_path / "out"
    result = run("export", inside, "-o", out, "--jobs", "1", "--format", "837p,csv",
                 "--ledger", tmp_path / "ledger.sqlite3", clinic=clinic / "clinic.yaml")
    assert result.exit_code == 1
    assert without_edition_note(stderr_lines(result)) == [
        f"{inside / name}: error: is a symbolic link out of the folder: not read (give its target to export it)"
        for name in ("to-folder", "to-outsider.yaml", "to-passwd.yaml")]
    assert summary(result)[-5:] == [
        "exported 1 claim(s) in run 1 (interchange 000000001)",
        "rejected 3 file(s) with errors: nothing exported from them",
        *[f"  {inside / name}: error: is a symbolic link out of the folder: not read (give its target to export it)"
          for name in ("to-folder", "to-outsider.yaml", "to-passwd.yaml")]]
    assert [s[1] for s in segments((out / "claims-000000001.837").read_text()) if s[0] == "CLM"] == ["P0001-20261102"]
    csv_text = (out / "claims-000000001.csv").read_text(encoding="utf-8-sig")
    assert "OUTSIDER" not in csv_text and "root:" not in csv_text
    # naming the link itself is an explicit choice: followed
    named = run("export", inside / "to-outsider.yaml", "-o", out, "--jobs", "1", "--ledger",
                tmp_path / "ledger.sqlite3", clinic=clinic / "clinic.yaml")
    assert named.exit_code == 0, named.output
    assert [s[1] for s in segments((out / "claims-000000002.837").read_text()) if s[0] == "CLM"] == ["OUTSIDER-20261102"]


def test_a_pipe_or_a_device_is_refused_at_once_not_read_forever(clinic, tmp_path):
    fifo = tmp_path / "patient.yaml"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "superbill.cli", "--clinic", str(clinic / "clinic.yaml"), "check",
                           str(fifo), "/dev/zero", "/dev/urandom"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{path}: error: is not a regular file (a device, pipe or socket cannot be read)"
        for path in (fifo, "/dev/zero", "/dev/urandom")]
    clinic_proc = subprocess.run([sys.executable, "-m", "superbill.cli", "--clinic", "/dev/zero", "claims",
                                  str(clinic / "patients" / "example.yaml")], capture_output=True, text=True, timeout=60)
    assert clinic_proc.returncode == 1
    assert clinic_proc.stderr.splitlines() == [
        "/dev/zero: error: is not a regular file (a device, pipe or socket cannot be read)"]
    # in a searched folder a pipe is not a patient file: skipped, and the export does not hang
    folder = tmp_path / "batch"
    write_yaml(folder / "good.yaml", example_patient())
    os.mkfifo(folder / "pipe.yaml")
    export = subprocess.run([sys.executable, "-m", "superbill.cli", "--clinic", str(clinic / "clinic.yaml"), "export",
                             str(folder), "-o", str(tmp_path / "out"), "--ledger", str(tmp_path / "l.sqlite3")],
                            capture_output=True, text=True, timeout=60)
    assert export.returncode == 0, export.stderr
    # a real process: its new ledger numbers from the clock (batch/control_numbers.py), not from 1
    assert re.fullmatch(r"exported 1 claim\(s\) in run 1 \(interchange \d{9}\)", summary(export)[-1])


def test_a_file_name_with_escape_sequences_is_shown_escaped(clinic, tmp_path):
    name = tmp_path / "evil\x1b]2;PWNED\x07\n.yaml"
    name.write_text("[]\n")
    result = run("check", name, clinic=clinic / "clinic.yaml")
    assert result.exit_code == 1
    shown = str(tmp_path) + "/evil\\x1b]2;PWNED\\x07\\x0a.yaml"
    assert stderr_lines(result) == [f"{shown}: (top level): error: must be a mapping of keys to values"]
    no_echo(result.stderr)
