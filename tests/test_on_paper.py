"""Superbills and letters read as paper (issue 18): read back from the PDFs with pdfplumber.

Seven varied superbills (the shipped example and six others) and six letter variants: no page
with only a few words on it, body and table text at 8.5 pt or larger (only the notices in the
footer smaller), the patient's identifiers on every page after the first, money with thousands
separators, the notices once per page, the legend, the adjustments and a true balance.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

import pdfplumber
import pytest
import yaml
from click.testing import CliRunner

from superbill.cli import main
from superbill.documents.render import render_files
from superbill.inputs.load import load_clinic
from superbill.inputs.starter import write_starter

ISSUED = dt.date(2026, 11, 30)
TODAY = dt.date(2026, 12, 1)
MIN_WORDS = 100  # no page of a superbill or letter under about 100 words
BODY_PT = 8.5
FOOTER_IN = 0.8  # base.css bottom margin: the running footer, where the notices are
MONEY = re.compile(r"\$[0-9][0-9,]*\.[0-9]{2}")
THOUSANDS = re.compile(r"^\$[0-9]{1,3}(,[0-9]{3})*\.[0-9]{2}$")
CPT = "CPT® is a registered trademark of the American Medical Association."


# ---------------------------------------------------------------- reading the PDFs


def read_pdf(path: Path) -> list[dict]:
    """Per page: its text, word count, and the characters smaller than body text (size, text, in footer)."""
    out = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            footer_top = page.height - FOOTER_IN * 72
            small = [c for c in page.chars if c["size"] < BODY_PT - 0.05 and c["text"].strip()]
            out.append({
                "pdf": path,
                "text": page.extract_text() or "",
                "words": len(page.extract_words()),
                "small_outside_footer": "".join(c["text"] for c in small if c["top"] < footer_top),
                "small_text": "".join(c["text"] for c in small),
            })
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


def check_paper(pages: list[dict], notices: str) -> None:
    """What every superbill and letter page must satisfy."""
    squeezed_notices = "".join(notices.split())
    for number, page in enumerate(pages, start=1):
        assert page["words"] >= MIN_WORDS, f"page {number} has only {page['words']} words"
        assert page["small_outside_footer"] == "", f"page {number}: text under {BODY_PT} pt in the body"
        assert page["small_text"] in squeezed_notices, f"page {number}: small text that is not a notice"
        assert flat(page["text"]).count(CPT) == 1, f"page {number}: the CPT notice not exactly once"
        for amount in MONEY.findall(page["text"]):
            assert THOUSANDS.match(amount), amount


# ---------------------------------------------------------------- the superbills


def _session(day: int, **extra) -> dict:
    session = {"date": dt.date(2026, 11, day), "provider": "dr-lee", "protocol": "ketamine-infusion",
               "diagnoses": ["G90.511", "F33.1"], "infusion": {"start": "09:05", "end": "10:50"},
               "medications": [{"drug": "ketamine", "dose_mg": 70}], "services": [{"code": "93000", "pointers": [1]}]}
    session.update(extra)
    return session


def _patients(example: dict) -> dict[str, dict]:
    """Six patients besides the shipped example, each a case the issue names."""
    def patient(pid: str, sessions: list[dict], **insurance) -> dict:
        data = copy.deepcopy(example)
        data["patient"]["id"] = pid
        data["insurance"].update(insurance)
        data["sessions"] = sessions
        return data

    card = [{"date": dt.date(2026, 11, 2), "amount": 650.00, "method": "card"}]
    eight = _session(2, payments=card, adjustments=[{"amount": 100.00, "reason": "package price"}])
    eight["services"] += [{"code": "94760", "charge": 25.00}, {"code": "96375", "charge": 75.00}]
    ten = copy.deepcopy(eight)
    ten["services"] += [{"code": "99152", "charge": 80.00}, {"code": "99153", "charge": 40.00}]
    ten["allow_sedation"] = True  # ten lines: the scrubber asks for the opt-in of moderate sedation
    month = [_session(d, payments=[{"date": dt.date(2026, 11, d), "amount": 650.00, "method": "card"}])
             for d in (2, 3, 4, 5, 6, 9, 10)]
    # a package price: 650 paid, 385 written off each session, nothing owed
    package = [_session(d, payments=[{"date": dt.date(2026, 11, d), "amount": 650.00, "method": "card"}],
                        adjustments=[{"amount": 385.00, "reason": "package price"}]) for d in (2, 9)]
    spouse = patient("P0006", [_session(2, prior_authorization="PA-778899", payments=card)])
    spouse["patient"].update(first_name="Maximiliana", middle_name="Q", last_name="Vandenberghe-Oyelaran",
                             suffix="Jr")
    spouse["insurance"]["subscriber"] = {
        "relationship": "spouse", "first_name": "Bartholomew", "last_name": "Vandenberghe-Oyelaran",
        "dob": dt.date(1975, 3, 4), "sex": "M",
        "address": {"street": "9 Oak Ave", "city": "Chicago", "state": "IL", "zip": "60601"}}
    overpaid = [_session(2, payments=[{"date": dt.date(2026, 11, 2), "amount": 1100.00, "method": "check",
                                       "reference": "1042"}]),
                _session(9, provider="dr-kim", payments=[])]
    return {
        "eight": patient("P0002", [eight]),
        "ten": patient("P0003", [ten]),
        "month": patient("P0004", month, member_id="MEM444555666"),
        "package": patient("P0005", package),
        "spouse": spouse,
        "overpaid": patient("P0007", overpaid),
    }


@pytest.fixture(scope="module")
def superbills(tmp_path_factory) -> dict[str, list[dict]]:
    folder = tmp_path_factory.mktemp("paper") / "clinic"
    write_starter(folder)
    clinic = yaml.safe_load((folder / "clinic.yaml").read_text())
    clinic["providers"].append({"id": "dr-kim", "first_name": "Morgan", "last_name": "Kim", "credentials": "DO",
                                "npi": "1987654328", "taxonomy": "207L00000X"})
    (folder / "clinic.yaml").write_text(yaml.safe_dump(clinic, sort_keys=False))
    example = yaml.safe_load((folder / "patients" / "example.yaml").read_text())
    files = {"example": folder / "patients" / "example.yaml"}
    for name, data in _patients(example).items():
        files[name] = folder / "patients" / f"{name}.yaml"
        files[name].write_text(yaml.safe_dump(data, sort_keys=False))
    loaded = load_clinic(folder / "clinic.yaml")
    summary = render_files([str(f) for f in files.values()], loaded, folder / "out", issued=ISSUED, today=TODAY)
    assert summary.ok and len(summary.written) == len(files), [p.line() for p in summary.problems]
    return {name: read_pdf(pdf) for name, pdf in zip(files, summary.written, strict=True)}


SUPERBILL_NOTICES = (f"{CPT} Service descriptions are plain-language labels, not AMA CPT descriptors. HCPCS Level II "
                     "codes: CMS. ICD-10-CM codes and titles: CDC National Center for Health Statistics (NCHS), "
                     "FY2026 (April 1, 2026 update); public domain.")


@pytest.mark.parametrize("name", ["example", "eight", "ten", "month", "package", "spouse", "overpaid"])
def test_every_page_reads_well(superbills, name):
    check_paper(superbills[name], SUPERBILL_NOTICES)


def test_one_session_of_up_to_eight_lines_is_one_page_with_the_instructions(superbills):
    for name in ("example", "eight"):
        [page] = superbills[name]
        assert "HOW TO GET REIMBURSED BY YOUR PLAN" in page["text"], name
        assert "Total charges" in page["text"] and "PROVIDER ATTESTATION" in page["text"], name
    # a tall insurance block (a subscriber): the superbill is still one page, and the patient's
    # instructions are a page of their own at the end, under the running header
    first, instructions = superbills["spouse"]
    assert "Total charges" in first["text"] and "PROVIDER ATTESTATION" in first["text"]
    assert first["text"].count("11/02/2026 11 ") == 6  # every service line
    assert "HOW TO GET REIMBURSED BY YOUR PLAN" not in first["text"]
    assert flat(instructions["text"]).startswith("Maximiliana Q Vandenberghe-Oyelaran Jr · DOB 01/01/1980 · "
                                                 "Member ID XYZ123456789 · Date of service 11/02/2026 · "
                                                 "Statement P0006-20261102 HOW TO GET REIMBURSED BY YOUR PLAN")
    assert "Total charges" not in instructions["text"] and "11/02/2026 11 " not in instructions["text"]


@pytest.mark.parametrize("name, pid, member, dates", [
    ("ten", "P0003", "XYZ123456789", "Date of service 11/02/2026"),
    ("month", "P0004", "MEM444555666", "Service dates 11/02/2026–11/10/2026"),
    ("package", "P0005", "XYZ123456789", "Service dates 11/02/2026–11/09/2026"),
    ("overpaid", "P0007", "XYZ123456789", "Service dates 11/02/2026–11/09/2026"),
])
def test_later_pages_name_the_patient_member_dates_and_statement(superbills, name, pid, member, dates):
    pages = superbills[name]
    assert len(pages) >= 2, name
    start, end = dates.split()[-1].split("–")[0], dates.split()[-1].split("–")[-1]
    statement = f"{pid}-{start[6:]}{start[:2]}{start[3:5]}" + (
        f"-{end[6:]}{end[:2]}{end[3:5]}" if end != start else "")
    for page in pages[1:]:  # the running header, first on the page (one line, or two for long values)
        assert flat(page["text"]).startswith(
            f"Jane Doe · DOB 01/01/1980 · Member ID {member} · {dates} · Statement {statement} ")


def test_the_totals_and_attestation_stay_with_the_last_service_rows(superbills):
    for name in ("ten", "month", "package", "overpaid"):
        last = next(p["text"] for p in superbills[name] if "Total charges" in p["text"])
        assert "Total charges" in last and "PROVIDER ATTESTATION" in last, name
        assert "Date POS Code Modifiers Description Dx ptr Units Charge" in last, name  # rows came along
        assert re.search(r"^\d\d/\d\d/2026 1\d \w{5} ", last, re.M), name


def test_money_has_thousands_separators_and_the_month_adds_up(superbills):
    whole = "\n".join(p["text"] for p in superbills["month"])
    assert "Total charges $7,245.00" in whole  # 7 x 1,035.00
    assert "Amount paid $4,550.00" in whole  # 7 x 650.00
    assert "Adjustments $0.00" in whole
    assert "Balance due $2,695.00" in whole
    assert whole.count("Card $650.00") == 7


def test_adjustments_per_session_with_their_reason_and_a_balance_of_zero(superbills):
    whole = "\n".join(p["text"] for p in superbills["package"])
    # each session: 1,035.00 charged, 650.00 paid, 385.00 written off: nothing owed
    assert whole.count("charges $1,035.00 · paid $650.00 · adjusted $385.00") == 2
    assert whole.count("Adjustment: package price $385.00") == 2
    assert "Total charges $2,070.00" in whole and "Amount paid $1,300.00" in whole
    assert "Adjustments $770.00" in whole
    assert "Balance due $0.00" in whole
    [first] = [p["text"] for p in superbills["package"][:1]]
    assert "Balance due $0.00" in first  # the header's figure is the true one too

    eight = superbills["eight"][0]["text"]  # 1,135.00 - 650.00 - 100.00
    assert "Adjustments $100.00" in eight and "Balance due $385.00" in eight
    assert "11/02/2026 Adjustment: package price $100.00" in eight


def test_an_overpayment_is_a_credit(superbills):
    whole = "\n".join(p["text"] for p in superbills["overpaid"])
    assert "Total charges $2,070.00" in whole and "Amount paid $1,100.00" in whole
    assert "Balance due $970.00" in whole  # 2,070.00 - 1,100.00 (the credit of one session pays the other)
    assert "11/02/2026 Check 1042 $1,100.00" in whole


def test_the_legend_explains_the_modifiers_and_units(superbills):
    text = flat(superbills["example"][0]["text"])
    assert "Modifiers tell the plan more about a service: 25 Significant, separately identifiable E/M" in text
    assert "JZ No drug discarded from a single-dose container." in text
    assert "Units times the code's unit is billed (infusion codes: hours;" in text
    assert "J2405: 1 unit = 1 mg" in text
    assert "POS 11 Office." in text


def test_long_names_and_the_subscriber_fit(superbills):
    with pdfplumber.open(superbills["spouse"][0]["pdf"]) as pdf:  # read each column alone: names wrap in it
        page = pdf.pages[0]
        patient, insurance = ("".join((page.crop((page.width * a, 0, page.width * b, page.height)).extract_text()
                                       or "").split()) for a, b in ((0, 0.355), (0.356, 0.645)))
    assert "MaximilianaQVandenberghe-OyelaranJr" in patient
    assert "SubscriberBartholomewVandenberghe-Oyelaran" in insurance
    assert "Priorauth.no.PA-778899" in insurance


# ---------------------------------------------------------------- the letters


def _letter_variants(request: dict) -> dict[str, dict]:
    variants = {"standard": copy.deepcopy(request)}
    expedited = copy.deepcopy(request)
    expedited.update(urgency="expedited", expedited_reason="pain is severe and worsening; the patient cannot work")
    variants["expedited"] = expedited
    with_policy = copy.deepcopy(expedited)
    with_policy["payer"] = {"policy": "MP-123 Ketamine infusion", "fax": "3125550199",
                            "department": "Prior Authorization"}
    variants["expedited_policy"] = with_policy
    positive = copy.deepcopy(request)
    positive["screening"]["pregnancy"] = True
    positive["screening_rationale"] = "Pregnancy test negative on 11/01/2026; the risk was discussed."
    variants["positive_screening"] = positive
    for name, code in (("neuropathic", "E11.42"), ("other", "M79.7")):  # the evidence variants besides CRPS
        variants[name] = copy.deepcopy(request)
        variants[name]["diagnoses"] = [code]
    for data in variants.values():
        data["date"] = dt.date(2026, 11, 10)
    return variants


@pytest.fixture(scope="module")
def letters(tmp_path_factory) -> dict[str, list[dict]]:
    folder = tmp_path_factory.mktemp("letters") / "clinic"
    write_starter(folder)
    request = yaml.safe_load((folder / "requests" / "example.yaml").read_text())
    out = {}
    for name, data in _letter_variants(request).items():
        path = folder / "requests" / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        pdf = folder / f"{name}.pdf"
        result = CliRunner().invoke(main, ["--clinic", str(folder / "clinic.yaml"), "letter", str(path), "-o", str(pdf)])
        assert result.exit_code == 0, result.output
        out[name] = read_pdf(pdf)
    return out


LETTER_NOTICES = (f"{CPT} CPT codes appear here as bare codes with this practice's own descriptions. "
                  "ICD-10-CM titles: CDC/NCHS, FY2026 (April 1, 2026 update).")
LETTER_VARIANTS = ["standard", "expedited", "expedited_policy", "positive_screening", "neuropathic", "other"]


@pytest.mark.parametrize("name", LETTER_VARIANTS)
def test_every_letter_page_reads_well(letters, name):
    pages = letters[name]
    check_paper(pages, LETTER_NOTICES)
    for page in pages[1:]:
        assert "Prior authorization request · Jane Doe · DOB 01/01/1980 · Member ID XYZ123456789" in page["text"]


@pytest.mark.parametrize("name", LETTER_VARIANTS)
def test_no_sentences_run_together(letters, name):
    text = flat(" ".join(page["text"] for page in letters[name]))
    assert re.findall(r"\S*[a-z]\.[A-Z]\S*", text) == []


def test_the_expedited_request_reads_as_two_sentences(letters):
    text = flat(" ".join(page["text"] for page in letters["expedited"]))
    assert "this treatment is medically necessary. I request an expedited review" in text
    text = flat(" ".join(page["text"] for page in letters["expedited_policy"]))
    assert "as an individual exception to it. I request an expedited review" in text
    assert "$1,359.00 $8,154.00" in text
