"""init, check, codes, schema: the commands a new user meets first."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from helpers import FY2027_NOTE, edition_note, example_patient, make_clinic, run, stderr_lines, write_yaml

SUPERBILL = [sys.executable, "-m", "superbill.cli"]


def test_init_writes_a_folder_that_checks_clean(tmp_path):
    folder = tmp_path / "my-clinic"
    result = run("init", folder)
    assert result.exit_code == 0
    for name in ("clinic.yaml", "patients/example.yaml", "requests/example.yaml"):
        path = folder / name
        assert path.is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    checked = run("check", folder / "patients" / "example.yaml", folder / "requests" / "example.yaml",
                  folder / "clinic.yaml", clinic=folder / "clinic.yaml")
    assert checked.exit_code == 0, checked.output
    # Clean but for two warnings: the starter's placeholder NPIs and tax ID must be replaced (issue 14),
    # and its 2026-11-02 session is in ICD-10-CM FY2027, which is not shipped.
    assert checked.stdout.strip().splitlines() == [
        f"{folder / 'patients' / 'example.yaml'}: sessions[0].date: warning: {FY2027_NOTE}",
        f"{folder / 'clinic.yaml'}: practice: warning: the starter clinic's placeholder identifiers are still in use "
        "(practice.npi 1234567893, practice.tax_id 12-3456789, providers[0].npi 1003000126): "
        "put the practice's own before sending claims",
        "3 file(s) checked: 3 ok, 0 with errors; 1 claim(s); 0 error(s), 2 warning(s)"]


def test_init_refuses_to_overwrite(tmp_path):
    make_clinic(tmp_path)
    result = run("init", tmp_path)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{tmp_path / 'clinic.yaml'}: already exists; not overwriting (choose an empty folder)"]


def test_clinic_found_from_environment_then_cwd(tmp_path, monkeypatch):
    make_clinic(tmp_path)
    patient = tmp_path / "patients" / "example.yaml"
    monkeypatch.setenv("SUPERBILL_CLINIC", str(tmp_path / "clinic.yaml"))
    assert run("check", patient).exit_code == 0
    monkeypatch.delenv("SUPERBILL_CLINIC")
    monkeypatch.chdir(tmp_path)
    assert run("check", "patients/example.yaml").exit_code == 0


def test_check_json_shape(tmp_path):
    make_clinic(tmp_path)
    data = example_patient()
    data["sessions"][0]["diagnoses"] = ["F32.1", "F33.1"]
    data["sessions"][0]["services"].append({"code": "94760", "charge": 20})
    bad = write_yaml(tmp_path / "bad.yaml", data)
    result = run("check", "--json", bad, tmp_path / "patients" / "example.yaml", clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert [f["ok"] for f in out["files"]] == [False, True]
    assert out["problems"] == [
        {"file": str(bad), "path": "sessions[0].diagnoses", "severity": "error",
         "message": "F32.1 and F33.1 cannot be reported together (ICD-10-CM Excludes1: recurrent depressive disorder (F33.-))"},
        {"file": str(bad), "path": "sessions[0].services[1]", "severity": "warning",
         "message": "94760: pulse oximetry is bundled into the infusion by most payers"},
        edition_note(bad),
        edition_note(tmp_path / "patients" / "example.yaml"),
        {"file": str(tmp_path / "clinic.yaml"), "path": "practice", "severity": "warning",
         "message": "the starter clinic's placeholder identifiers are still in use (practice.npi 1234567893, "
                    "practice.tax_id 12-3456789, providers[0].npi 1003000126): put the practice's own before sending claims"},
    ]


def test_check_warnings_alone_exit_zero(tmp_path):
    make_clinic(tmp_path)
    data = example_patient()
    data["sessions"][0]["services"].append({"code": "94760", "charge": 20})
    path = write_yaml(tmp_path / "warn.yaml", data)
    result = run("check", path, clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        f"{path}: sessions[0].services[1]: warning: 94760: pulse oximetry is bundled into the infusion by most payers")


def test_check_request_refuses_plan_the_scrubber_rejects(tmp_path):
    make_clinic(tmp_path)
    request = tmp_path / "requests" / "example.yaml"
    text = request.read_text().replace('services: [{code: "99214"}]', 'services: [{code: "99214"}, {code: "96372"}]')
    request.write_text(text)
    result = run("check", request, clinic=tmp_path / "clinic.yaml")
    assert result.exit_code == 1
    assert stderr_lines(result) == [
        f"{request}: plan.services[1]: error: 96372 has no fee in clinic.yaml fees and no charge on the line"]


def test_codes_search_and_show():
    result = run("codes", "search", "fibromyalgia")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[:2] == ["M79.7", "ICD-10-CM"]
    infusion = run("codes", "search", "infusion")
    assert "96365" in infusion.stdout and "96366" in infusion.stdout
    show = run("codes", "show", "96366")
    assert show.exit_code == 0
    assert "add-on to: 96365, 96367" in show.stdout
    assert "not the AMA descriptor" in show.stdout
    dx = run("codes", "show", "G90.51")
    assert "not billable: use one of G90.511, G90.512, G90.513, G90.519" in dx.stdout
    drug = run("codes", "show", "J2405")
    assert "billing unit: 1 mg per unit" in drug.stdout
    assert run("codes", "show", "ZZZZZ").exit_code == 1


@pytest.mark.parametrize("kind, key", [("clinic", "practice"), ("patient", "sessions"), ("request", "screening")])
def test_schema(kind, key):
    result = run("schema", kind)
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert key in schema["properties"]
    assert schema.get("additionalProperties") is False


def test_usage_error_exits_2():
    result = run("check")
    assert result.exit_code == 2


def test_help_and_check_run_as_fresh_processes(tmp_path):
    """How fast they start: bench/bench_startup.py (a wall-clock limit here would flake on a busy machine)."""
    make_clinic(tmp_path)
    env = {**os.environ, "SUPERBILL_CLINIC": str(tmp_path / "clinic.yaml")}
    help_run = subprocess.run(SUPERBILL + ["--help"], env=env, capture_output=True, text=True)
    assert help_run.returncode == 0, help_run.stderr
    assert "Usage:" in help_run.stdout and "check" in help_run.stdout
    check_run = subprocess.run(SUPERBILL + ["check", str(tmp_path / "patients" / "example.yaml")], env=env,
                               capture_output=True, text=True)
    assert check_run.returncode == 0, check_run.stderr
    assert check_run.stderr == ""
