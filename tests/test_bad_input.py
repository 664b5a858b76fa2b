"""Every class of bad input ends in one clear line: the file, the path inside it, the problem; exit 1."""

from __future__ import annotations

import json

import pytest
import yaml
from helpers import FY2027_NOTE, example_patient, make_clinic, run, stderr_lines, write_yaml

from superbill.inputs import readfile
from superbill.inputs.readfile import read_document
from superbill.paths import EXAMPLES_DIR
from superbill.problems import InputRejected


@pytest.fixture
def clinic(tmp_path):
    make_clinic(tmp_path)
    return tmp_path / "clinic.yaml"


def check_one(clinic, path):
    result = run("check", path, clinic=clinic)  # how long it takes: bench/bench_hostile.py
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    return [line for line in stderr_lines(result)]


def patient_with(tmp_path, edit, name="p.yaml"):
    data = example_patient()
    edit(data)
    return write_yaml(tmp_path / name, data)


def test_empty_file(tmp_path, clinic):
    path = tmp_path / "empty.yaml"
    path.write_text("  \n")
    assert check_one(clinic, path) == [f"{path}: error: file is empty"]


def test_binary_file(tmp_path, clinic):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    assert check_one(clinic, path) == [f"{path}: error: is a binary file, not YAML or JSON text"]


def test_non_utf8(tmp_path, clinic):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("patient: {first_name: Jos\xe9}\n".encode("latin-1"))
    assert check_one(clinic, path) == [f"{path}: error: is not UTF-8 text (bad byte at offset 25)"]


def test_yaml_alias_bomb(tmp_path, clinic, yaml_loader):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i-1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert check_one(clinic, path) == [
        f"{path}: error: too many values once YAML aliases are expanded (an alias bomb?)"]


def test_list_where_mapping_belongs(tmp_path, clinic):
    path = patient_with(tmp_path, lambda d: d.update(patient=["Jane", "Doe"]))
    assert check_one(clinic, path) == [f"{path}: patient: error: must be a mapping of keys to values"]


def test_top_level_list(tmp_path, clinic):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    assert check_one(clinic, path) == [f"{path}: (top level): error: must be a mapping of keys to values"]


def test_deeply_nested_json(tmp_path, clinic):
    path = tmp_path / "deep.json"
    path.write_text("[" * 5000 + "]" * 5000)
    assert check_one(clinic, path) == [f"{path}: error: nested more than 64 levels deep"]


def test_deeply_nested_yaml(tmp_path, clinic, yaml_loader):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 3000 + "]" * 3000)  # past libyaml's own limit (1000) and Python's recursion limit
    assert check_one(clinic, path) == [f"{path}: error: nested more than 64 levels deep"]


def _nested(kind: str, level: int) -> str:
    """A YAML document whose innermost value (the number 1) is at `level`, the document itself being level 1."""
    if kind == "flow":
        return "[" * (level - 1) + "1" + "]" * (level - 1)
    return "".join("  " * depth + "a:\n" for depth in range(level - 2)) + "  " * (level - 2) + "a: 1\n"


@pytest.mark.parametrize("kind", ["flow", "block"])
@pytest.mark.parametrize("level", [64, 65, 1001])
def test_the_nesting_limit_is_64_under_every_yaml_loader(tmp_path, kind, level, yaml_loader):
    path = tmp_path / "deep.yaml"
    path.write_text(_nested(kind, level))
    if level <= 64:
        data = read_document(path)
        for _ in range(level - 1):
            data = data[0] if kind == "flow" else data["a"]
        assert data == 1
    else:
        with pytest.raises(InputRejected) as caught:
            read_document(path)
        assert [p.line() for p in caught.value.problems] == [f"{path}: error: nested more than 64 levels deep"]


def test_every_yaml_loader_reads_the_examples_alike():
    """The loaders give the same data for every shipped example file."""
    examples = sorted(EXAMPLES_DIR.rglob("*.yaml"))
    assert len(examples) >= 3
    for path in examples:
        results = []
        for loader in readfile.LOADERS.values():
            results.append(yaml.load(path.read_text(encoding="utf-8"), Loader=loader))
        assert all(result == results[0] for result in results), path


def test_missing_file_and_folder(tmp_path, clinic):
    missing = tmp_path / "nope.yaml"
    assert check_one(clinic, missing) == [f"{missing}: error: no such file or folder"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_one(clinic, empty) == [
        f"{empty}: error: no patient, request or estimate file found (searched for *.yaml, *.yml and *.json; "
        "hidden folders and clinic.yaml skipped)"]


def test_wrong_types(tmp_path, clinic):
    def edit(d):
        d["patient"]["dob"] = "yesterday"
        d["sessions"][0]["services"][0]["units"] = "two"
    path = patient_with(tmp_path, edit)
    assert check_one(clinic, path) == [
        f"{path}: patient.dob: error: must be a real date, YYYY-MM-DD",
        f"{path}: sessions[0].services[0].units: error: must be a whole number",
    ]


def test_impossible_date(tmp_path, clinic, yaml_loader):
    path = tmp_path / "p.yaml"
    text = (tmp_path / "patients" / "example.yaml").read_text().replace("- date: 2026-11-02", "- date: 2026-02-30")
    path.write_text(text)
    assert check_one(clinic, path) == [f"{path}: sessions[0].date: error: must be a real date, YYYY-MM-DD"]


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinite_numbers_in_yaml(tmp_path, clinic, value, yaml_loader):
    path = tmp_path / "p.yaml"
    text = (tmp_path / "patients" / "example.yaml").read_text().replace("dose_mg: 70", f"dose_mg: {value}")
    path.write_text(text)
    assert check_one(clinic, path) == [
        f"{path}: sessions[0].medications[0].dose_mg: error: must be a finite number (not NaN or infinity)"]


def test_nan_in_json(tmp_path, clinic):
    data = example_patient()
    text = json.dumps(data, default=str).replace('"dose_mg": 70', '"dose_mg": NaN')
    path = tmp_path / "p.json"
    path.write_text(text)
    assert check_one(clinic, path) == [
        f"{path}: error: is not valid JSON (NaN is not a number a bill can use)"]


def test_negative_money(tmp_path, clinic):
    def edit(d):
        d["sessions"][0]["payments"][0]["amount"] = -650
        d["sessions"][0]["services"][0]["charge"] = -1
    path = patient_with(tmp_path, edit)
    assert check_one(clinic, path) == [
        f"{path}: sessions[0].services[0].charge: error: cannot be negative",
        f"{path}: sessions[0].payments[0].amount: error: must be more than 0",
    ]


def test_typo_key(tmp_path, clinic):
    def edit(d):
        d["sessions"][0]["medications"][0]["dose_gm"] = d["sessions"][0]["medications"][0].pop("dose_mg")
    path = patient_with(tmp_path, edit)
    lines = check_one(clinic, path)
    assert f"{path}: sessions[0].medications[0].dose_gm: error: unknown key (is it a typo?)" in lines


def test_unknown_provider_and_drug(tmp_path, clinic):
    def edit(d):
        d["sessions"][0]["provider"] = "dr-nobody"
        d["sessions"][0]["medications"][0]["drug"] = "ketamin"
    path = patient_with(tmp_path, edit)
    assert check_one(clinic, path) == [
        f"{path}: sessions[0].provider: error: unknown provider id 'dr-nobody' (not in clinic.yaml providers)",
        f"{path}: sessions[0].medications[0].drug: error: unknown drug 'ketamin' "
        "(not in codes/medications.yaml or clinic.yaml medications)",
    ]


def test_non_billable_and_unknown_diagnosis(tmp_path, clinic):
    path = patient_with(tmp_path, lambda d: d["sessions"][0].update(diagnoses=["G90.51", "Z99.999"]))
    lines = check_one(clinic, path)
    assert lines[0].startswith(f"{path}: sessions[0].diagnoses[0]: error: G90.51 is not billable")
    assert "G90.511" in lines[0]
    assert lines[1] == f"{path}: sessions[0].diagnoses[1]: error: Z99.999 is not an ICD-10-CM code"


def test_duplicate_diagnosis(tmp_path, clinic):
    path = patient_with(tmp_path, lambda d: d["sessions"][0].update(diagnoses=["G90.511", "G90511"]))
    assert check_one(clinic, path) == [f"{path}: sessions[0].diagnoses: error: G90.511 is listed twice"]


def test_more_than_twelve_diagnoses(tmp_path, clinic):
    codes = ["G90.511", "F33.1", "M79.7", "G43.709", "G54.6", "M79.2", "G62.9", "E11.42",
             "I73.9", "Z79.891", "Z79.899", "B02.29", "G50.1"]
    path = patient_with(tmp_path, lambda d: d["sessions"][0].update(diagnoses=codes))
    assert check_one(clinic, path) == [f"{path}: sessions[0].diagnoses: error: has more than 12 items"]


def test_pointer_to_missing_diagnosis(tmp_path, clinic):
    path = patient_with(tmp_path, lambda d: d["sessions"][0]["services"][0].update(pointers=[1, 3]))
    assert check_one(clinic, path) == [
        f"{path}: sessions[0].services[0].pointers[1]: error: points to diagnosis 3 but the session has 2"]


def test_infusion_ends_before_it_starts(tmp_path, clinic):
    path = patient_with(tmp_path, lambda d: d["sessions"][0].update(infusion={"start": "10:50", "end": "09:05"}))
    assert check_one(clinic, path) == [f"{path}: sessions[0].infusion: error: the infusion ends before it starts"]


def test_birth_after_visit(tmp_path, clinic):
    path = patient_with(tmp_path, lambda d: d["patient"].update(dob="2026-11-03"))
    assert check_one(clinic, path) == [f"{path}: sessions[0].date: error: the visit is before the patient's birth date"]


@pytest.mark.parametrize("bad", ["2", "25X", "2-"])
def test_malformed_modifier(tmp_path, clinic, bad):
    path = patient_with(tmp_path, lambda d: d["sessions"][0]["services"][0].update(modifiers=[bad]))
    lines = check_one(clinic, path)
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: sessions[0].services[0].modifiers[0]: error: ")


def test_bad_clinic_profile(tmp_path, clinic):
    text = clinic.read_text().replace('npi: "1003000126"', 'npi: "1003000127"')
    clinic.write_text(text)
    result = run("check", tmp_path / "patients" / "example.yaml", clinic=clinic)
    assert result.exit_code == 1
    assert stderr_lines(result)[0] == (
        f"{clinic}: providers[0].npi: error: NPI check digit is wrong (Luhn with the 80840 prefix)")


def test_missing_clinic_profile(tmp_path):
    make_clinic(tmp_path)
    missing = tmp_path / "other.yaml"
    result = run("claims", tmp_path / "patients" / "example.yaml", clinic=missing)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{missing}: error: no such clinic profile (given with --clinic): give the path "
                                    "of the clinic's clinic.yaml (or its folder), or start one with `superbill init DIR`"]


def test_batch_reports_every_problem_and_keeps_good_files(tmp_path, clinic):
    good = tmp_path / "patients" / "example.yaml"
    bad1 = patient_with(tmp_path, lambda d: d["sessions"][0].update(provider="nobody"), "bad1.yaml")
    bad2 = tmp_path / "bad2.yaml"
    bad2.write_text("")
    result = run("claims", "--json", bad1, good, bad2, clinic=clinic)
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert [c["claim_id"] for c in out["claims"]] == ["P0001-20261102"]
    assert {(p["file"], p["path"]) for p in out["problems"] if p["message"] != FY2027_NOTE} == {
        (str(bad1), "sessions[0].provider"), (str(bad2), "")}
    assert all(p["severity"] == "error" for p in out["problems"] if p["message"] != FY2027_NOTE)


def test_error_messages_do_not_echo_patient_data(tmp_path, clinic):
    def edit(d):
        d["patient"]["first_name"] = "SECRETNAME" * 10  # too long
        d["patient"]["dob"] = "SECRETDOB"
    path = patient_with(tmp_path, edit)
    lines = check_one(clinic, path)
    assert lines and not any("SECRET" in line for line in lines)
