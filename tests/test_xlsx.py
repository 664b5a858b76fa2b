"""The workbook export: the CSV's rows as typed cells, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from exportkit import clinic, load, patient, session, subscriber, write_patient

from superbill.engine.process import process_patient
from superbill.exports import csvexport, xlsx
from superbill.exports.linerows import FIELDS


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clinic")
    clinic(folder, fees={"96365": 475.00})
    return folder


def _items(folder, *docs):
    loaded = load(folder)
    items = []
    for n, doc in enumerate(docs):
        path = write_patient(folder, f"p{n}.yaml", doc)
        result = process_patient(path, loaded)
        assert result.ok, [p.line() for p in result.problems]
        items += [(result.patient_file, claim) for claim in result.claims]
    return loaded, items


def _sheet(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["claims"]
    return book["claims"]


def test_cells_hold_their_kinds(folder):
    loaded, items = _items(folder, patient(payer_id="00621", group_number="0871622"))
    sheet = _sheet(xlsx.workbook_bytes(items, loaded, {"P0001-20261102": "000000007"}))
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == list(FIELDS)
    assert len(rows) == 1 + 6
    by_name = [{name: cell for name, cell in zip(FIELDS, row, strict=True)} for row in rows[1:]]
    ketamine = next(r for r in by_name if r["code"].value == "J3490")
    assert (ketamine["ndc"].value, ketamine["ndc"].data_type, ketamine["ndc"].number_format) == ("00409205105", "s", "@")
    assert ketamine["ndc_quantity"].value == pytest.approx(0.7) and ketamine["ndc_quantity"].data_type == "n"
    infusion = next(r for r in by_name if r["code"].value == "96365")
    assert infusion["charge"].value == 475 and infusion["charge"].data_type == "n"
    assert infusion["charge"].number_format == "#,##0.00"
    first = by_name[0]
    for name, text in (("payer_id", "00621"), ("group_number", "0871622"), ("member_id", "XYZ123456789"),
                       ("patient_zip", "62702"), ("provider_npi", "1003000126"), ("billing_npi", "1234567893"),
                       ("place_of_service", "11"), ("isa13", "000000007"), ("clm01", "P0001-20261102")):
        assert (first[name].value, first[name].data_type) == (text, "s"), name
    assert first["date_of_service"].value == dt.datetime(2026, 11, 2) and first["date_of_service"].is_date
    assert first["date_of_service"].number_format == "yyyy-mm-dd"
    assert first["dob"].value == dt.datetime(1980, 1, 1)
    # 189 + 60 + 475 + 200 + 120 + 16 = 1060 charged, 650 paid
    assert (first["total_charge"].value, first["amount_paid"].value, first["balance"].value) == (1060, 650, 410)
    assert (first["units"].value, first["line"].value) == (1, 1)
    assert [r["units"].value for r in by_name] == [1, 1, 1, 1, 1, 4]
    assert first["rendering_provider"].value == "Avery Lee, MD"
    assert (first["subscriber_relationship"].value, first["subscriber_last_name"].value) == ("self", "Doe")


def test_same_rows_as_the_csv(folder):
    loaded, items = _items(folder, patient(sessions=[session(), session("2026-11-09", paid=None)]),
                           patient("P0002", "John", "Roe", subscriber=subscriber("child")))
    sheet = _sheet(xlsx.workbook_bytes(items, loaded))
    csv_rows = csvexport.csv_rows(items, loaded)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(csv_rows) == 18
    for row, text in zip(rows, csv_rows, strict=True):
        assert [("" if v is None else v) for v in row[:2]] == [text["claim_id"], text["patient_id"]]
        assert f"{row[FIELDS.index('charge')]:.2f}" == text["charge"]
        assert row[FIELDS.index("code")] == csvexport.unwrap(text["code"])
    assert {r[FIELDS.index("subscriber_relationship")] for r in rows} == {"self", "child"}


def test_header_frozen_filterable_and_columns_fit(folder):
    loaded, items = _items(folder, patient(first="Maximiliana-Josephine", last="Featherstonehaugh-Smythe"))
    sheet = _sheet(xlsx.workbook_bytes(items, loaded))
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:AI7"
    assert all(cell.font.bold for cell in sheet[1])
    widths = {name: sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width
              for i, name in enumerate(FIELDS, start=1)}
    assert widths["patient_first_name"] == len("Maximiliana-Josephine") + 2
    assert widths["patient_last_name"] == len("Featherstonehaugh-Smythe") + 2
    assert widths["ndc"] == len("00409205105") + 2
    assert widths["line"] == 8  # narrow columns get the minimum
    assert widths["description"] == 60  # long descriptions are capped, not a screen wide
    assert widths["date_of_service"] == len("date_of_service") + 2  # the header is the longest


def test_a_formula_looking_name_is_text(folder):
    loaded, items = _items(folder, patient(first='=HYPERLINK("http://x.example")', last="+1"))
    sheet = _sheet(xlsx.workbook_bytes(items, loaded))
    first = {name: cell for name, cell in zip(FIELDS, next(sheet.iter_rows(min_row=2)), strict=True)}
    assert (first["patient_first_name"].value, first["patient_first_name"].data_type) == (
        '=HYPERLINK("http://x.example")', "s")
    assert (first["patient_last_name"].value, first["patient_last_name"].data_type) == ("+1", "s")
