"""CSV export: one row per service line, every cell safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

import pytest
import yaml
from helpers import edit_yaml

from superbill.engine.process import process_patient
from superbill.exports import csvexport
from superbill.inputs.load import load_clinic
from superbill.inputs.starter import write_starter


@pytest.fixture(scope="module")
def clinic_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clinic")
    write_starter(folder)

    def second_session(patient):
        session = dict(patient["sessions"][0], date="2026-11-09", payments=[])
        session["infusion"] = {"start": "09:00", "end": "09:10"}  # a push: 96374 instead of 96365/96366
        patient["sessions"].append(session)

    edit_yaml(folder / "patients" / "example.yaml", second_session)

    hostile = yaml.safe_load((folder / "patients" / "example.yaml").read_text(encoding="utf-8"))
    hostile["patient"].update({"id": "=1+2", "first_name": '=HYPERLINK("http://x")', "last_name": "+1"})
    hostile["insurance"].update({"payer_name": "@SUM(A1)", "member_id": "-5ABC"})
    hostile["sessions"] = hostile["sessions"][:1]
    (folder / "patients" / "hostile.yaml").write_text(yaml.safe_dump(hostile, allow_unicode=True), encoding="utf-8")

    accents = yaml.safe_load((folder / "patients" / "example.yaml").read_text(encoding="utf-8"))
    accents["patient"].update({"id": "P0003", "first_name": "Zoë", "last_name": "Núñez, Jr."})
    accents["sessions"] = accents["sessions"][:1]
    (folder / "patients" / "accents.yaml").write_text(yaml.safe_dump(accents, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def loaded(clinic_dir):
    return load_clinic(clinic_dir / "clinic.yaml")


def _items(clinic_dir, loaded, name):
    result = process_patient(clinic_dir / "patients" / f"{name}.yaml", loaded)
    assert result.ok, [p.line() for p in result.problems]
    return [(result.patient_file, claim) for claim in result.claims]


@pytest.fixture(scope="module")
def items(clinic_dir, loaded):
    return {name: _items(clinic_dir, loaded, name) for name in ("example", "hostile", "accents")}


def _read(path: Path) -> tuple[bytes, list[dict]]:
    raw = path.read_bytes()
    return raw, list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_one_row_per_service_line(items, loaded, tmp_path):
    claims = items["example"]
    path = csvexport.write_csv(claims, loaded, tmp_path / "claims.csv")
    raw, rows = _read(path)
    assert len(rows) == sum(len(claim.lines) for _, claim in claims) == 6 + 5
    assert list(rows[0]) == list(csvexport.FIELDS)
    assert rows == csvexport.csv_rows(claims, loaded)
    assert [row["claim_id"] for row in rows] == ["P0001-20261102"] * 6 + ["P0001-20261109"] * 5
    assert [row["line"] for row in rows] == ["1", "2", "3", "4", "5", "6", "1", "2", "3", "4", "5"]
    assert [row["code"] for row in rows[6:]] == ["99214", "93000", "96374", "J3490", "J2405"]


def test_the_spec_example_row_by_row(items, loaded):
    rows = csvexport.csv_rows(items["example"][:1], loaded)
    first = rows[0]
    assert {key: first[key] for key in ("claim_id", "patient_id", "patient_last_name", "patient_first_name", "dob",
                                        "member_id", "payer_name", "payer_id", "date_of_service",
                                        "place_of_service", "provider_npi", "billing_npi", "diagnoses")} == {
        "claim_id": "P0001-20261102", "patient_id": "P0001", "patient_last_name": "Doe",
        "patient_first_name": "Jane", "dob": "1980-01-01", "member_id": "XYZ123456789",
        "payer_name": "Example Health Plan", "payer_id": "12345", "date_of_service": "2026-11-02",
        "place_of_service": "11", "provider_npi": "1003000126", "billing_npi": "1234567893",
        "diagnoses": "G90.511 F33.1"}
    assert [(r["code"], r["modifiers"], r["units"], r["charge"], r["pointers"]) for r in rows] == [
        ("99214", "25", "1", "189.00", "AB"),
        ("93000", "", "1", "60.00", "A"),
        ("96365", "", "1", "450.00", "AB"),
        ("96366", "", "1", "200.00", "AB"),
        ("J3490", "", "1", "120.00", "AB"),
        ("J2405", "JZ", "4", "16.00", "AB"),
    ]
    ketamine, ondansetron = rows[4], rows[5]
    # NDCs start with 0: written so a spreadsheet keeps them as text (see csvexport's docstring)
    assert (ketamine["ndc"], ketamine["ndc_quantity"], ketamine["ndc_unit"]) == ('="00409205105"', "0.7", "ML")
    assert csvexport.unwrap(ketamine["ndc"]) == "00409205105"
    assert ketamine["description"] == "Ketamine HCl 100 mg/mL 70 mg IV"
    assert (ondansetron["ndc"], ondansetron["ndc_quantity"], ondansetron["ndc_unit"]) == ('="00409000925"', "2", "ML")
    assert (rows[0]["ndc"], rows[0]["ndc_quantity"], rows[0]["ndc_unit"]) == ("", "", "")
    assert {(r["total_charge"], r["amount_paid"]) for r in rows} == {("1035.00", "650.00")}


def test_no_cell_starts_a_formula(items, loaded, tmp_path):
    path = csvexport.write_csv(items["hostile"], loaded, tmp_path / "hostile.csv")
    _, rows = _read(path)
    first = rows[0]
    assert first["patient_first_name"] == "'=HYPERLINK(\"http://x\")"
    assert first["patient_last_name"] == "'+1"
    assert first["payer_name"] == "'@SUM(A1)"
    assert first["member_id"] == "'-5ABC"
    assert first["patient_id"] == "'=1+2"
    assert first["claim_id"] == "'=1+2-20261102"
    for row in rows:
        for value in row.values():
            # the one formula written: ="..." around an identifier's digits, which evaluates to its text
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) or re.fullmatch(r'="[0-9]+"', value)
    assert [row["charge"] for row in rows] == ["189.00", "60.00", "450.00", "200.00", "120.00", "16.00"]


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Doe", "Doe"), ("189.00", "189.00"), ("", ""), (None, ""),
    ("a=b", "a=b"),
])
def test_guard(value, expected):
    assert csvexport.guard(value) == expected


def test_excel_reads_accents_owner_only_nothing_left_behind(items, loaded, tmp_path):
    path = csvexport.write_csv(items["accents"], loaded, tmp_path / "accents.csv")
    raw, rows = _read(path)
    assert raw.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark Excel needs
    assert "Zoë".encode() in raw
    assert raw.count(b"\r\n") == len(rows) + 1  # RFC 4180 line ends
    assert rows[0]["patient_last_name"] == "Núñez, Jr."  # the comma is quoted, not a new column
    assert b'"N\xc3\xba\xc3\xb1ez, Jr."' in raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["accents.csv"]


def test_rewriting_replaces_the_file_whole(items, loaded, tmp_path):
    path = tmp_path / "claims.csv"
    csvexport.write_csv(items["example"], loaded, path)
    csvexport.write_csv(items["accents"], loaded, path)
    _, rows = _read(path)
    assert {row["patient_id"] for row in rows} == {"P0003"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_clerks_columns(items, loaded):
    rows = csvexport.csv_rows(items["example"][:1], loaded)
    first = rows[0]
    assert {key: first[key] for key in ("rendering_provider", "group_number", "subscriber_relationship",
                                        "subscriber_last_name", "subscriber_first_name", "patient_zip",
                                        "balance", "isa13", "clm01")} == {
        "rendering_provider": "Avery Lee, MD", "group_number": "GRP123", "subscriber_relationship": "self",
        "subscriber_last_name": "Doe", "subscriber_first_name": "Jane", "patient_zip": "62702",
        "balance": "385.00",  # 1035.00 charged - 650.00 paid
        "isa13": "", "clm01": ""}  # not in an 837P
    in_837p = csvexport.csv_rows(items["example"], loaded, {"P0001-20261102": "000000042"})
    assert {(r["claim_id"], r["isa13"], r["clm01"]) for r in in_837p} == {
        ("P0001-20261102", '="000000042"', "P0001-20261102"), ("P0001-20261109", "", "")}
    assert list(csvexport.FIELDS[23:]) == ["total_charge", "amount_paid", "amount_adjusted", "balance",
                                           "rendering_provider", "group_number", "subscriber_relationship",
                                           "subscriber_last_name", "subscriber_first_name", "patient_zip",
                                           "isa13", "clm01"]


def test_identifiers_keep_their_leading_zeros(clinic_dir, loaded, tmp_path):
    doc = yaml.safe_load((clinic_dir / "patients" / "example.yaml").read_text(encoding="utf-8"))
    doc["patient"]["address"]["zip"] = "02134"
    doc["patient"]["address"]["state"] = "MA"
    doc["insurance"].update({"payer_id": "00621", "group_number": "0871622", "member_id": "0012345678901234567"})
    doc["insurance"]["subscriber"] = {"relationship": "spouse", "first_name": "John", "last_name": "Roe",
                                      "dob": "1975-05-05", "sex": "M", "address": doc["patient"]["address"]}
    doc["sessions"][0]["place_of_service"] = "02"
    doc["sessions"][0]["medications"] = []
    doc["sessions"][0].pop("infusion")
    doc["sessions"][0].pop("protocol")
    path = tmp_path / "zeros.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = process_patient(path, loaded)
    assert result.ok, [p.line() for p in result.problems]
    written = csvexport.write_csv([(result.patient_file, c) for c in result.claims], loaded, tmp_path / "z.csv")
    raw, rows = _read(written)
    first = rows[0]
    assert (first["payer_id"], first["group_number"], first["patient_zip"], first["place_of_service"]) == (
        '="00621"', '="0871622"', '="02134"', '="02"')
    assert first["member_id"] == '="0012345678901234567"'
    assert b'"=""00621"""' in raw  # how the csv module quotes it; every CSV reader gets ="00621" back
    assert [csvexport.unwrap(first[k]) for k in ("payer_id", "group_number", "patient_zip", "member_id")] == [
        "00621", "0871622", "02134", "0012345678901234567"]
    assert (first["subscriber_relationship"], first["subscriber_last_name"], first["subscriber_first_name"]) == (
        "spouse", "Roe", "John")
    assert (first["provider_npi"], first["code"]) == ("1003000126", "93000")  # a number keeps its digits: plain


@pytest.mark.parametrize("value, expected", [
    ("00409205105", '="00409205105"'), ("00621", '="00621"'), ("02", '="02"'), ("0", "0"),
    ("12345", "12345"), ("1003000126", "1003000126"), ("1234567890123456", '="1234567890123456"'),
    ("1E5", '="1E5"'), ("1-2", '="1-2"'), ("10/12/2026", '="10/12/2026"'), ("Mar-12", '="Mar-12"'),
    ("TRUE", '="TRUE"'), ("GRP123", "GRP123"), ("XYZ123456789", "XYZ123456789"),
    ("=1+1", "'=1+1"), ('0"1', '0"1'), ("-0123", "'-0123"), ("", ""), (None, ""),
])
def test_identifier_cells(value, expected):
    assert csvexport.identifier_cell(value) == expected
    if expected.startswith('="'):
        assert csvexport.unwrap(expected) == value


def test_adjustments_and_the_true_balance(clinic_dir, loaded, tmp_path):
    """docs/reference.md "Money on a session": balance = charges - payments - adjustments, per claim on every line."""
    patient = yaml.safe_load((clinic_dir / "patients" / "example.yaml").read_text(encoding="utf-8"))
    first, second = patient["sessions"]  # charges 1035.00 and 535.00 (the module fixture added the push)
    first["adjustments"] = [{"amount": 300.00, "reason": "package price"}, {"amount": 85.00, "reason": "courtesy"}]
    second["payments"] = [{"date": "2026-11-09", "amount": 535.00, "method": "card"}]
    second["adjustments"] = [{"amount": 35.00, "reason": "prompt-pay discount"}]
    path = tmp_path / "adjusted.yaml"
    path.write_text(yaml.safe_dump(patient), encoding="utf-8")
    result = process_patient(path, loaded)
    assert result.ok, [p.line() for p in result.problems]
    rows = csvexport.csv_rows([(result.patient_file, claim) for claim in result.claims], loaded)
    assert {(r["claim_id"], r["total_charge"], r["amount_paid"], r["amount_adjusted"], r["balance"]) for r in rows} == {
        ("P0001-20261102", "1035.00", "650.00", "385.00", "0.00"),  # 1035 - 650 - (300 + 85)
        ("P0001-20261109", "535.00", "535.00", "35.00", "-35.00"),  # a credit: a number, not guarded text
    }
