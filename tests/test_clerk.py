"""The billing clerk's commands: hold back only what is wrong, and say clearly what and where.

Through the real command line (click's CliRunner): a bad provider entry holds back its claims only,
a wrong kind of file or a misplaced key gets one line saying what it is and where it belongs, a
missing clinic profile says how to point at one, `check` takes folders.
"""

from __future__ import annotations

import json

import pytest
import yaml
from exportkit import clinic, patient, session, write_patient
from helpers import run, stderr_lines

HOW = ("give it with `superbill --clinic PATH COMMAND ...` (before the command), set $SUPERBILL_CLINIC, run the "
       "command in the clinic's folder, or start one with `superbill init DIR`")

DR_RUIZ = {"id": "dr-ruiz", "first_name": "Rosa", "last_name": "Ruiz", "credentials": "MD", "npi": "1003000118",
           "taxonomy": "207LP2900X"}
DR_KIM = {"id": "dr-kim", "first_name": "Dana", "last_name": "Kim", "credentials": "NP", "npi": "1003000134",
          "taxonomy": "363L00000X"}


def _providers(folder, *extra):
    data = yaml.safe_load((folder / "clinic.yaml").read_text())
    data["providers"] += [dict(p) for p in extra]
    (folder / "clinic.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder / "clinic.yaml"


# ---------------------------------------------------------------- 5. check takes folders


def test_check_takes_folders_as_export_does(tmp_path):
    profile = clinic(tmp_path)
    write_patient(tmp_path / "patients" / "november", "roe.yaml", patient("P0002", "John", "Roe"))
    (tmp_path / "patients" / ".trash").mkdir()
    write_patient(tmp_path / "patients" / ".trash", "old.yaml", {"not": "checked"})
    result = run("check", tmp_path / "patients", tmp_path / "requests", clinic=profile)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("3 file(s) checked: 3 ok, 0 with errors; 2 claim(s); 0 error(s), ")
    out = json.loads(run("check", "--json", tmp_path / "patients", tmp_path / "requests", clinic=profile).stdout)
    assert [(f["file"], f["kind"]) for f in out["files"]] == [
        (str(tmp_path / "patients" / "example.yaml"), "patient"),
        (str(tmp_path / "patients" / "november" / "roe.yaml"), "patient"),
        (str(tmp_path / "requests" / "example.yaml"), "request")]


def test_check_of_an_empty_folder_is_an_error(tmp_path):
    profile = clinic(tmp_path)
    (tmp_path / "empty").mkdir()
    result = run("check", tmp_path / "empty", clinic=profile)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{tmp_path / 'empty'}: error: no patient, request or estimate file found (searched for *.yaml, *.yml and "
        "*.json; hidden folders and clinic.yaml skipped)"]


# ---------------------------------------------------------------- 6. the wrong file, the wrong block


def test_a_patient_file_given_to_letter(tmp_path):
    profile = clinic(tmp_path)
    maria = write_patient(tmp_path / "patients", "maria.yaml", patient("P0009", "Maria", "Lopez"))
    result = run("letter", maria, "-o", tmp_path / "x.pdf", clinic=profile)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{maria}: error: is a patient file, not a prior-authorization request (use `superbill render` or `export`)"]
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("command, given, line", [
    (("render", "-o", "out"), "requests/example.yaml",
     "is a prior-authorization request, not a patient file (use `superbill letter`)"),
    (("claims",), "clinic.yaml",
     "is the clinic profile, not a patient file (give it with `superbill --clinic PATH` before the command)"),
])
def test_other_wrong_kinds_get_one_line(tmp_path, command, given, line):
    profile = clinic(tmp_path)
    result = run(command[0], tmp_path / given, *command[1:], clinic=profile)
    assert result.exit_code == 1
    assert stderr_lines(result)[0] == f"{tmp_path / given}: error: {line}"
    assert len([x for x in stderr_lines(result) if ": error: " in x]) == 1


def test_a_patient_file_given_as_the_clinic_profile(tmp_path):
    clinic(tmp_path)
    example = tmp_path / "patients" / "example.yaml"
    result = run("claims", example, clinic=example)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{example}: error: is a patient file, not the clinic profile (point `superbill --clinic PATH` or "
        "$SUPERBILL_CLINIC at the clinic's clinic.yaml)"]


def test_a_key_in_the_wrong_block_says_where_it_belongs(tmp_path):
    profile = clinic(tmp_path)
    request = tmp_path / "requests" / "example.yaml"
    data = yaml.safe_load(request.read_text())
    data["screening"]["screening_rationale"] = "normotensive on review"
    request.write_text(yaml.safe_dump(data, sort_keys=False))
    doc = patient()
    doc["patient"]["member_id"] = "XYZ1"
    doc["sessions"][0]["infusion"]["dose_mg"] = 70
    doc["sessions"][0]["dose_gm"] = 70
    path = write_patient(tmp_path, "p.yaml", doc)
    result = run("check", request, path, clinic=profile)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{request}: screening.screening_rationale: error: unknown key: screening_rationale belongs at the top level "
        "of the file, not under screening",
        f"{path}: patient.member_id: error: unknown key: member_id belongs under insurance, not under patient",
        f"{path}: sessions[0].infusion.dose_mg: error: unknown key: dose_mg belongs under sessions[n].medications[n], "
        "not under sessions[0].infusion",
        f"{path}: sessions[0].dose_gm: error: unknown key (is it a typo?)",
    ]


def test_a_missing_clinic_profile_says_how_to_point_at_one(tmp_path, monkeypatch):
    clinic(tmp_path / "clinic")
    example = tmp_path / "clinic" / "patients" / "example.yaml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUPERBILL_CLINIC", raising=False)
    result = run("render", example, "-o", "out")
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"clinic.yaml: error: no clinic profile in this folder: {HOW}"]
    monkeypatch.setenv("SUPERBILL_CLINIC", str(tmp_path / "gone.yaml"))
    result = run("claims", example)
    assert stderr_lines(result) == [
        f"{tmp_path / 'gone.yaml'}: error: no such clinic profile (named by $SUPERBILL_CLINIC): point it at the "
        "clinic's clinic.yaml, or give one with `superbill --clinic PATH COMMAND ...`"]
    checked = run("check", example)
    assert checked.exit_code == 1
    assert stderr_lines(checked)[1] == f"{example}: error: not checked: no clinic profile (see above)"
    # --clinic may name the clinic's folder
    monkeypatch.delenv("SUPERBILL_CLINIC")
    assert run("check", example, clinic=tmp_path / "clinic").exit_code == 0


def test_an_option_of_superbill_given_after_the_command(tmp_path):
    profile = clinic(tmp_path)
    result = run("render", "--clinic", profile, tmp_path / "patients" / "example.yaml", "-o", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: --clinic is an option of `main` itself: give it before the command, "
        "as in `main --clinic PATH render ...`")
    assert run("codes", "show", "--clinic=x", "96365").exit_code == 2


# ---------------------------------------------------------------- 1. a bad provider holds back its claims only


def test_a_bad_provider_entry_holds_back_only_its_claims(tmp_path):
    profile = clinic(tmp_path)
    _providers(tmp_path, dict(DR_RUIZ, npi="1003000119"), DR_KIM)  # Ruiz's NPI fails its check digit
    # one patient seen by Lee and by Ruiz the same day: Ruiz's session (09:05) is the day's first claim
    both = write_patient(tmp_path / "patients", "both.yaml", patient("P0002", "John", "Roe", sessions=[
        session(), session(provider="dr-ruiz", paid=None, infusion={"start": "07:00", "end": "08:00"})]))
    kim = write_patient(tmp_path / "patients", "kim.yaml", patient("P0003", "Ann", "Poe", sessions=[
        session(provider="dr-kim")]))
    result = run("claims", "--json", tmp_path / "patients" / "example.yaml", both, kim, clinic=profile)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert [c["claim_id"] for c in out["claims"]] == ["P0001-20261102", "P0002-20261102-2", "P0003-20261102"]
    assert stderr_lines(result)[:2] == [
        f"{profile}: providers[1].npi: error: NPI check digit is wrong (Luhn with the 80840 prefix)",
        f"{profile}: providers[1]: error: provider 'dr-ruiz' is held back: none of its claims go out until its entry "
        "is fixed (the other providers' claims still go)"]
    assert [p for p in out["problems"] if p["severity"] == "error"] == [
        {"file": str(both), "path": "sessions[1].provider", "severity": "error",
         "message": "claim P0002-20261102 held back: provider 'dr-ruiz' has errors in clinic.yaml "
                    "(providers[1].npi: NPI check digit is wrong (Luhn with the 80840 prefix))"}]
    checked = run("check", tmp_path / "patients", clinic=profile)
    assert checked.exit_code == 1
    assert checked.stdout.splitlines()[-1].startswith("3 file(s) checked: 2 ok, 1 with errors; 3 claim(s); 3 error(s), ")


def test_an_error_in_the_practice_or_fees_holds_back_everything(tmp_path):
    profile = clinic(tmp_path)
    data = yaml.safe_load(profile.read_text())
    data["practice"]["tax_id"] = "12-345"
    data["fees"]["99214"] = -5
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run("claims", tmp_path / "patients" / "example.yaml", clinic=profile)
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert lines[-1] == (f"{profile}: error: every claim is held back until the errors in fees and practice are "
                         "fixed (they apply to all claims)")
    assert [line.split(": ")[1] for line in lines[:-1]] == ["practice.tax_id", "fees.99214"]


# ---------------------------------------------------------------- the export: held, rejected, empty, summary


def _month(folder, patients: int = 25):
    """`patients` patient files, two sessions each, seen in turn by dr-lee, dr-ruiz and dr-kim; the
    eighth file (one of dr-kim's) has a diagnosis that is not billable."""
    for n in range(1, patients + 1):
        provider = ("dr-lee", "dr-ruiz", "dr-kim")[n % 3]
        doc = patient(f"Q{n:04d}", f"First{n}", f"Last{n}", member_id=f"M{n:05d}",
                      sessions=[session(day, provider=provider) for day in ("2026-11-02", "2026-11-09")])
        if n == 8:
            doc["sessions"][0]["diagnoses"] = ["G90.5"]
        write_patient(folder / "month", f"p{n:02d}.yaml", doc)
    return folder / "month"


def test_25_patients_with_a_bad_provider_export_the_others(tmp_path):
    profile = clinic(tmp_path)
    _providers(tmp_path, dict(DR_RUIZ, npi="1003000119"), DR_KIM)
    month = _month(tmp_path)
    out = tmp_path / "out"
    result = run("export", month, "-o", out, "--format", "837p,csv", "--jobs", "1", clinic=profile)
    assert result.exit_code == 1
    ruiz = [n for n in range(1, 26) if n % 3 == 1]  # 1, 4, ..., 25: nine files, eighteen claims
    good = [n for n in range(1, 26) if n % 3 != 1 and n != 8]
    held_lines = [f"  {month / f'p{n:02d}.yaml'}: Q{n:04d}-20261102, Q{n:04d}-20261109" for n in ruiz]
    *summary, warnings = result.stdout.splitlines()
    # each file sent has one warning: its dates of service are in ICD-10-CM FY2027, checked against FY2026
    assert warnings == f"{len(good)} warning(s) (printed above)"
    assert summary == [
        f"wrote {out / 'claims-000000001.837'}",
        f"wrote {out / 'claims-000000001.csv'}",
        f"exported {2 * len(good)} claim(s) in run 1 (interchange 000000001)",
        "held back 18 claim(s) in 9 file(s): their provider has errors in the clinic profile",
        *held_lines,
        "rejected 1 file(s) with errors: nothing exported from them",
        f"  {month / 'p08.yaml'}: sessions[0].diagnoses[0]: error: G90.5 is not billable: it has subcodes; use one "
        "of G90.50, G90.51, G90.52, G90.59",
    ]
    assert stderr_lines(result)[0] == (
        f"{profile}: providers[1].npi: error: NPI check digit is wrong (Luhn with the 80840 prefix)")
    text = (out / "claims-000000001.837").read_text()
    claims = [s.split("*")[1] for s in text.split("~") if s.strip().startswith("CLM*")]
    assert claims == [f"Q{n:04d}-2026110{d}" for n in good for d in (2, 9)]
    assert "1003000118" not in text and "1003000119" not in text  # nothing of dr-ruiz went out
    as_json = json.loads(run("export", "--json", month, "-o", tmp_path / "again", "--format", "837p",
                             clinic=profile).stdout)
    assert as_json["ok"] is False
    assert as_json["held"][0] == {"file": str(month / "p01.yaml"), "claims": ["Q0001-20261102", "Q0001-20261109"]}
    assert len(as_json["held"]) == 9
    assert as_json["rejected"] == [{"file": str(month / "p08.yaml"), "first_error": {
        "file": str(month / "p08.yaml"), "path": "sessions[0].diagnoses[0]", "severity": "error",
        "message": "G90.5 is not billable: it has subcodes; use one of G90.50, G90.51, G90.52, G90.59"}}]


def test_an_empty_folder_is_an_error_naming_what_was_searched(tmp_path):
    profile = clinic(tmp_path)
    (tmp_path / "empty").mkdir()
    result = run("export", tmp_path / "empty", "-o", tmp_path / "out", clinic=profile)
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{tmp_path / 'empty'}: error: no patient file found (searched for *.yaml, *.yml and *.json; hidden folders "
        "and clinic.yaml skipped)"]
    assert result.stdout.splitlines() == ["nothing exported"]
    assert not (tmp_path / "out").exists() and not (tmp_path / "superbill-ledger.sqlite3").exists()
    only_requests = run("export", tmp_path / "requests", "-o", tmp_path / "out", clinic=profile)
    assert only_requests.exit_code == 1
    assert only_requests.stdout.splitlines() == ["skipped 1 prior-authorization request(s): not patient files",
                                                 "nothing exported"]


def test_the_summary_counts_warnings_and_sessions_outside_the_dates(tmp_path):
    profile = clinic(tmp_path)
    # September 2026: ICD-10-CM FY2026, shipped (a later date of service gets a warning of its own)
    doc = patient("P0002", "Ann", "Roe", sessions=[session("2026-08-30"), session("2026-09-09"),
                                                   session("2026-10-01", paid=None)])
    doc["sessions"][1]["services"].append({"code": "94760", "charge": 20})  # bundled by most payers: a warning
    write_patient(tmp_path / "patients", "roe.yaml", doc)
    result = run("export", tmp_path / "patients", "-o", tmp_path / "out", "--from", "2026-09-01", "--to",
                 "2026-09-30", clinic=profile)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        "exported 1 claim(s) in run 1 (interchange 000000001)",
        "left out 3 session(s) outside --from/--to",  # the example's 2026-11-02, and 08-30 and 10-01
        "1 warning(s) (printed above)"]
    assert stderr_lines(result) == [f"{tmp_path / 'patients' / 'roe.yaml'}: sessions[1].services[1]: warning: "
                                    "94760: pulse oximetry is bundled into the infusion by most payers"]
    again = json.loads(run("export", "--json", tmp_path / "patients", "-o", tmp_path / "out", "--from", "2026-09-01",
                           "--to", "2026-09-30", clinic=profile).stdout)
    assert (again["outside_dates"], again["warnings"], again["skipped"]) == (3, 1, ["P0002-20260909"])


def test_a_practice_error_holds_back_the_whole_export_and_the_summary_says_so(tmp_path):
    profile = clinic(tmp_path)
    data = yaml.safe_load(profile.read_text())
    data["practice"]["npi"] = "1234567890"
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    result = run("export", tmp_path / "patients", "-o", tmp_path / "out", clinic=profile)
    assert result.exit_code == 1
    assert stderr_lines(result)[-1] == (f"{profile}: error: every claim is held back until the errors in practice "
                                        "are fixed (they apply to all claims)")
    assert result.stdout.splitlines() == ["nothing exported"]
    out = json.loads(run("export", "--json", tmp_path / "patients", "-o", tmp_path / "out", clinic=profile).stdout)
    assert out["ok"] is False and out["problems"][0]["path"] == "practice.npi"


# ---------------------------------------------------------------- 7. the workbook, through the command


def test_xlsx_export_reads_back_typed(tmp_path):
    import openpyxl

    profile = clinic(tmp_path, fees={"96365": 475.00})
    out = tmp_path / "out"
    result = run("export", tmp_path / "patients", "-o", out, "--format", "837p,xlsx", clinic=profile)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [f"wrote {out / 'claims-000000001.837'}",
                                              f"wrote {out / 'claims-000000001.xlsx'}"]
    sheet = openpyxl.load_workbook(out / "claims-000000001.xlsx")["claims"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    ketamine = next(r for r in rows if r["code"].value == "J3490")
    assert (ketamine["ndc"].value, ketamine["ndc"].data_type) == ("00409205105", "s")
    infusion = next(r for r in rows if r["code"].value == "96365")
    assert (infusion["charge"].value, infusion["charge"].data_type) == (475, "n")
    assert {(r["isa13"].value, r["clm01"].value) for r in rows} == {("000000001", "P0001-20261102")}
    with __import__("superbill.batch.ledger", fromlist=["Ledger"]).Ledger(tmp_path / "superbill-ledger.sqlite3") as book:
        assert book.runs()[0]["formats"] == ["837p", "xlsx"]


# ---------------------------------------------------------------- 2. the progress display


def _on_a_terminal(args: list, cwd) -> tuple[str, str, int]:
    """Run `python -m superbill ARGS` with stderr on a pseudo-terminal: (terminal text, stdout, exit code)."""
    import os
    import pty
    import subprocess
    import sys
    from pathlib import Path

    master, slave = pty.openpty()
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=root, COLUMNS="200", TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "superbill", *map(str, args)], cwd=cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    os.close(master)
    return seen.decode(), stdout, proc.wait()


def test_progress_follows_every_stage_on_a_terminal(tmp_path):
    profile = clinic(tmp_path)
    bad = patient("P0002", "Bo", "Kim")
    bad["sessions"][0]["diagnoses"] = ["G90.5"]
    write_patient(tmp_path / "patients", "bad.yaml", bad)
    shown, stdout, code = _on_a_terminal(["--clinic", profile, "export", tmp_path / "patients", "-o",
                                          tmp_path / "out", "--format", "837p,csv,xlsx", "--jobs", "1"], tmp_path)
    assert code == 1
    lines = [part.rsplit("\x1b[2K", 1)[-1] for part in shown.replace("\r\n", "\n").split("\n")]
    error = (f"{tmp_path / 'patients' / 'bad.yaml'}: sessions[0].diagnoses[0]: error: G90.5 is not billable: it has "
             "subcodes; use one of G90.50, G90.51, G90.52, G90.59")
    stages = [line for line in lines if line.startswith(("checked", "rendered"))]
    assert stages == ["checked 2 file(s) in " + stages[0].split(" in ")[1],
                      "rendered the 837P for 1 claim(s): 1 file(s) in " + stages[1].split(" in ")[1],
                      "rendered the CSV for 1 claim(s): 1 file(s) in " + stages[2].split(" in ")[1],
                      "rendered the XLSX workbook for 1 claim(s): 1 file(s) in " + stages[3].split(" in ")[1]]
    assert stages[0].endswith(", 1 rejected")
    # the rejected file's error is shown as soon as it is known: before checking ends, and only once
    assert lines.index(error) < lines.index(stages[0]) and lines.count(error) == 1
    assert "checking [" in shown and "rendering the 837P for 1 claim(s)" in shown
    assert "\x1b[?25l" not in shown  # the cursor is never hidden
    # the summary on stdout names the file again, and stdout holds no terminal codes
    summary = stdout.splitlines()
    at = summary.index("rejected 1 file(s) with errors: nothing exported from them")
    assert summary[at + 1] == f"  {error}"
    assert "\x1b" not in stdout and "\r" not in stdout


def test_no_display_when_not_a_terminal(tmp_path):
    profile = clinic(tmp_path)
    result = run("export", tmp_path / "patients", "-o", tmp_path / "out", "--format", "837p,csv", clinic=profile)
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\r" not in result.output and "checking" not in result.output


def test_the_rendering_line_ticks_while_a_format_renders():
    import io

    from superbill.batch.progress import TerminalProgress

    now = [100.0]
    stream = io.StringIO()
    shown = TerminalProgress(stream, tick=None, clock=lambda: now[0], width=80)
    shown.checking(2)
    shown.checked(1, 2, type("R", (), {"kind": "patient", "problems": [], "ok": True})())
    now[0] += 1.5
    shown.checked(2, 2, type("R", (), {"kind": "patient", "problems": [], "ok": True})())
    shown.rendering("cms1500", 40)
    now[0] += 12.25
    shown._draw()  # what the ticker thread does every half second
    shown.rendered("cms1500", 1)
    shown.close()
    parts = [p.strip("\r") for p in stream.getvalue().replace("\n", "\r").split("\r\x1b[2K") if p.strip()]
    assert parts == ["checking 2 file(s)",
                     "checking [############------------] 1/2 file(s)",
                     "checking [########################] 2/2 file(s)",
                     "checked 2 file(s) in 1.5 s",
                     "rendering the CMS-1500 for 40 claim(s) … 0 s",
                     "rendering the CMS-1500 for 40 claim(s) … 12 s",
                     "rendered the CMS-1500 for 40 claim(s): 1 file(s) in 12.2 s"]


def test_render_and_letter_with_a_held_provider(tmp_path):
    profile = clinic(tmp_path)
    _providers(tmp_path, dict(DR_RUIZ, npi="1003000119"))
    ruiz = write_patient(tmp_path / "patients", "ruiz.yaml", patient("P0002", "Ann", "Roe", sessions=[
        session(provider="dr-ruiz")]))
    result = run("render", tmp_path / "patients" / "example.yaml", ruiz, "-o", tmp_path / "out", "--html",
                 clinic=profile)
    assert result.exit_code == 1
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["P0001_2026-11-02_2026-11-02.html"]
    assert [line for line in stderr_lines(result)[2:] if ": error: " in line] == [
        f"{ruiz}: sessions[0].provider: error: claim P0002-20261102 held back: provider 'dr-ruiz' has errors in "
        "clinic.yaml (providers[1].npi: NPI check digit is wrong (Luhn with the 80840 prefix))"]
    request = tmp_path / "requests" / "example.yaml"
    request.write_text(request.read_text().replace("provider: dr-lee", "provider: dr-ruiz"))
    letter = run("letter", request, "-o", tmp_path / "l.pdf", clinic=profile)
    assert letter.exit_code == 1
    assert [line for line in stderr_lines(letter)[2:] if ": error: " in line] == [
        f"{request}: provider: error: provider 'dr-ruiz' is held back: its entry in clinic.yaml has errors "
        "(providers[1].npi: NPI check digit is wrong (Luhn with the 80840 prefix))"]
