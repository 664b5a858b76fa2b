"""ICD-10-CM by date of service: each code checked against the edition in force on its date.

The shipped editions are FY2021 (2020-10-01..2021-09-30), FY2025 (2024-10-01..2025-09-30) and FY2026
(2025-10-01..2026-09-30); a date in another edition is checked against the nearest shipped one, with one
warning per file naming it.
"""

from __future__ import annotations

import datetime as dt
import doctest
import importlib.util
import json
from pathlib import Path

import pytest
import simple_icd_10_cm as cm
from engine import claim_for, problems_of
from helpers import edit_yaml, make_clinic, run

import superbill.ids.icd10cm
from superbill.ids import InvalidIdentifier, icd10cm
from superbill.tables import icd10cm_editions as editions
from superbill.tables import icd10cm_index

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def diagnosis_errors(code: str, on: str) -> list[str]:
    claim = claim_for(date=on, diagnoses=[code], infusion={"start": "09:00", "end": "10:00"},
                      payments=[{"date": on, "amount": 100}])
    return [p.message for p in problems_of(claim) if p.severity == "error" and "diagnoses" in p.path]


def test_the_identifier_module_doctests_run():
    assert doctest.testmod(superbill.ids.icd10cm).failed == 0


@pytest.mark.parametrize(("on", "fiscal_year", "edition", "stand_in"), [
    ("2020-09-30", 2020, "FY2021", "2020-10-01"),  # before the oldest: its first day stands in
    ("2020-10-01", 2021, "FY2021", "2020-10-01"),
    ("2021-09-30", 2021, "FY2021", "2021-09-30"),
    ("2022-01-15", 2022, "FY2021", "2021-09-30"),
    ("2023-01-15", 2023, "FY2025", "2024-10-01"),  # a tie between FY2021 and FY2025 goes to the newer
    ("2024-09-30", 2024, "FY2025", "2024-10-01"),
    ("2024-10-01", 2025, "FY2025", "2024-10-01"),
    ("2025-09-30", 2025, "FY2025", "2025-09-30"),
    ("2025-10-01", 2026, "FY2026", "2025-10-01"),
    ("2026-09-30", 2026, "FY2026", "2026-09-30"),
    ("2026-10-01", 2027, "FY2026", "2026-09-30"),
])
def test_the_edition_in_force_on_a_date(on, fiscal_year, edition, stand_in):
    found = editions.edition_for(day(on))
    assert (found.fiscal_year, found.edition.name, found.day.isoformat()) == (fiscal_year, edition, stand_in)
    assert found.shipped == (fiscal_year in (2021, 2025, 2026))


def test_a_code_new_in_fy2026_is_refused_before_october_2025():
    # E11.A (type 2 diabetes in remission) was added on 2025-10-01
    assert diagnosis_errors("E11.A", "2025-09-23") == [
        "E11.A is not valid on 2025-09-23 (ICD-10-CM FY2025): it is valid from 2025-10-01"]
    assert diagnosis_errors("E11.A", "2025-10-01") == []
    assert diagnosis_errors("E11.A", "2026-11-02") == []


def test_a_retired_code_is_valid_in_its_own_edition_only():
    # B37.3 was a billable leaf in FY2021 and has subcodes (B37.31, B37.32) since
    assert icd10cm.validate("B37.3", on=day("2021-03-01")) == "B37.3"
    assert diagnosis_errors("B37.3", "2021-03-01") == []
    assert diagnosis_errors("B37.3", "2025-03-03") == [
        "B37.3 is not valid on 2025-03-03 (ICD-10-CM FY2025): it is last found in FY2021 (to 2021-09-30); "
        "FY2022-FY2024 are not shipped, so it may have lasted longer; use one of B37.31, B37.32"]
    assert diagnosis_errors("B37.31", "2021-03-01") == [
        "B37.31 is not valid on 2021-03-01 (ICD-10-CM FY2021): it is first found in FY2025 (from 2024-10-01); "
        "FY2022-FY2024 are not shipped, so it may be older"]


def test_a_code_deleted_in_fy2026_is_found_by_its_old_title():
    # D71 (functional disorders of neutrophils) was billable through FY2025 and is gone from FY2026
    assert icd10cm_index.lookup("D71") is not None
    assert icd10cm_index.lookup("D71").billable is False  # not in the newest edition
    assert diagnosis_errors("D71", "2025-06-02") == []
    assert diagnosis_errors("D71", "2025-10-06") == [
        "D71 is not valid on 2025-10-06 (ICD-10-CM FY2026): it was valid until 2025-09-30; use one of "
        + ", ".join(icd10cm_index.children("D71")[:6]) + (", …" if len(icd10cm_index.children("D71")) > 6 else "")]


def test_a_mid_year_addition_is_valid_from_its_update_date():
    # J12.82 (pneumonia due to COVID-19) came with the January 1, 2021 update of FY2021
    assert diagnosis_errors("J12.82", "2020-12-31") == [
        "J12.82 is not valid on 2020-12-31 (ICD-10-CM FY2021): it is valid from 2021-01-01"]
    assert diagnosis_errors("J12.82", "2021-01-04") == []


def test_a_header_code_is_refused_on_every_date():
    for on in ("2021-03-01", "2025-03-03", "2026-03-02"):
        with pytest.raises(InvalidIdentifier) as refused:
            icd10cm.validate("G90.5", on=day(on))
        assert str(refused.value) == "G90.5 is not billable: it has subcodes; use one of G90.50, G90.51, G90.52, G90.59"


def test_without_a_date_any_shipped_edition_will_do():
    assert icd10cm.validate("B37.3") == "B37.3"  # FY2021
    assert icd10cm.validate("E11.A") == "E11.A"  # FY2026
    with pytest.raises(InvalidIdentifier, match="G90.5 is not billable"):
        icd10cm.validate("G90.5")


def test_an_unshipped_edition_warns_once_per_file_naming_the_edition_used(tmp_path):
    clinic = make_clinic(tmp_path)
    patient = tmp_path / "patients" / "example.yaml"

    def three_sessions(data):
        first = data["sessions"][0]
        data["sessions"] = [dict(first, date=d, payments=[{"date": d, "amount": 650.0}])
                            for d in ("2026-09-28", "2026-10-05", "2026-10-12")]

    edit_yaml(patient, three_sessions)
    result = run("check", "--json", patient, clinic=clinic / "clinic.yaml")
    warnings = [p for p in json.loads(result.stdout)["problems"] if p["severity"] == "warning"]
    assert [(p["path"], p["message"]) for p in warnings if "ICD-10-CM" in p["message"]] == [
        ("sessions[1].date", "ICD-10-CM FY2027 is not shipped with superbill: its diagnoses were checked "
                             "against FY2026, the nearest shipped edition")]
    assert result.exit_code == 0


def test_no_warning_for_a_shipped_edition():
    claim = claim_for(date="2026-03-02", payments=[{"date": "2026-03-02", "amount": 100}])
    assert [p for p in problems_of(claim) if "not shipped" in p.message] == []


def test_the_table_agrees_with_the_newest_edition():
    """Every code of the installed FY2026 tabular is billable on a FY2026 date exactly when it is a leaf."""
    on = day("2026-06-01")
    for code in cm.get_all_codes(False):
        if cm.is_category_or_subcategory(code):
            key = code.replace(".", "")
            entry = icd10cm_index.lookup(key)
            assert editions.billable_on(key, on, entry.billable) == cm.is_leaf(code), code


def test_the_generator_merges_consecutive_editions_and_applies_update_dates():
    spec = importlib.util.spec_from_file_location("build_icd10cm_editions", SCRIPTS / "build_icd10cm_editions.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    fy2021, fy2025, fy2026 = ({"A": (True, "a"), "B": (True, "b")},
                              {"A": (True, "a"), "C": (True, "c"), "D": (True, "d")},
                              {"A": (True, "a"), "C": (False, "c"), "E": (True, "e")})
    rows = build.build_rows([fy2021, fy2025, fy2026], {"E": (2026, "2026-04-01")})
    assert rows == [
        "B\t\t2021-09-30\tb",  # gone after FY2021: the title is kept
        "C\t2024-10-01\t2025-09-30\t",  # a header in FY2026
        "D\t2024-10-01\t2025-09-30\td",
        "E\t2026-04-01\t\t",  # an April update's code: valid from April 1
    ]


def test_the_shipped_table_is_the_generators_format():
    text = editions.EDITIONS_FILE.read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    assert all(len(row) == 4 for row in rows)
    assert ["E11A", "2025-10-01", "", ""] in rows
    assert ["J1282", "2021-01-01", "", ""] in rows
    assert len(rows) < 5000  # the differences, not three copies of the tabular


# ---------------------------------------------------------------- `superbill codes` (issue 14.8)


def test_codes_show_finds_the_shipped_modifiers():
    for code, first in (("JW", "JW  HCPCS modifier"), ("25", "25  CPT modifier"), ("59", "59  CPT modifier"),
                        ("95", "95  CPT modifier")):
        result = run("codes", "show", code)
        assert result.exit_code == 0
        assert first in result.stdout.splitlines()
    assert "  Drug amount discarded from a single-dose container" in run("codes", "show", "JW").stdout.splitlines()


def test_codes_show_calls_a_hcpcs_level_ii_procedure_hcpcs_not_cpt():
    lines = run("codes", "show", "G2082").stdout.splitlines()
    assert lines[0] == "G2082  HCPCS Level II (CMS; label in our own words)"
    assert run("codes", "show", "99214").stdout.splitlines()[0] == \
        "99214  CPT (label in our own words, not the AMA descriptor)"


def test_codes_search_ranks_the_jw_modifier_above_icd_titles():
    lines = run("codes", "search", "discarded").stdout.splitlines()
    assert lines[0].split()[:2] == ["JW", "modifier"]
    assert all("ICD-10-CM" not in line for line in lines[:1])


def test_codes_show_gives_an_icd_codes_validity():
    assert "  billable on dates of service from 2025-10-01" in run("codes", "show", "E11.A").stdout.splitlines()
    assert ("  billable on dates of service from FY2021 or earlier to 2021-09-30; now use one of B37.31, B37.32"
            in run("codes", "show", "B37.3").stdout.splitlines())
    assert "  billable" in run("codes", "show", "G90.511").stdout.splitlines()
