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
    assert result.stdout.splitlines()[-1] == (
        "3 file(s) checked: 3 ok, 0 with errors; 2 claim(s); 0 error(s), 0 warning(s)")
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
    assert checked.stdout.splitlines()[-1] == (
        "3 file(s) checked: 2 ok, 1 with errors; 3 claim(s); 3 error(s), 0 warning(s)")


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
