"""The prior-authorization letter (`superbill letter`): every element docs/reference.md "Outputs" lists, read back
from the PDF, with the figures of the billing engine and the fee schedule; every refusal."""

from __future__ import annotations

import datetime as dt
import stat
from decimal import Decimal

import pdfplumber
import pytest
from helpers import make_clinic, read_yaml, run, stderr_lines, write_yaml

from superbill.documents.evidence import evidence_for, load_citations, reference_text
from superbill.documents.formatting import duration_text, long_date
from superbill.documents.formatting import money as money_text

LETTER_DATE = dt.date(2026, 11, 10)


# ---------------------------------------------------------------- helpers


def pdf_text(path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def flat(text: str) -> str:
    """Words joined by single spaces (line breaks inside a paragraph do not matter)."""
    return " ".join(text.split())


def squeezed(text: str) -> str:
    """No whitespace at all: long DOIs may wrap across lines."""
    return "".join(text.split())


def row(text: str, first: str) -> list[str]:
    """The words of the first text line that starts with `first`."""
    for line in text.splitlines():
        if line.split()[:1] == [first]:
            return line.split()
    raise AssertionError(f"no line starts with {first!r}")


def request_data(folder) -> dict:
    return read_yaml(folder / "requests" / "example.yaml")


def write_request(folder, name: str, data: dict):
    return write_yaml(folder / "requests" / f"{name}.yaml", data)


def letter(folder, request, out, *extra):
    return run("letter", request, "-o", out, *extra, clinic=folder / "clinic.yaml")


def fees(folder) -> dict[str, Decimal]:
    return {code: Decimal(str(fee)) for code, fee in read_yaml(folder / "clinic.yaml")["fees"].items()}


# ---------------------------------------------------------------- the example request, as shipped


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = make_clinic(tmp_path_factory.mktemp("example"))
    out = folder / "out" / "nested" / "letter.pdf"
    result = letter(folder, folder / "requests" / "example.yaml", out)
    assert result.exit_code == 0, result.stderr
    text = pdf_text(out)
    return {"folder": folder, "out": out, "result": result, "text": text, "flat": flat(text)}


def test_example_letter_written_owner_only_in_a_created_folder(example):
    out = example["out"]
    assert example["result"].stdout.strip() == f"wrote {out}"
    assert stderr_lines(example["result"]) == []
    assert out.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["letter.pdf"]  # no temporary file left


def test_codes_units_per_session_and_course_from_the_engine(example):
    text = example["text"]
    # a 240-minute infusion: 96365 x1 and 96366 x3 per session; 6 sessions
    words = row(text, "99214")
    assert words[:4] == ["99214", "25", "Established", "patient"]  # E/M with 25 on an infusion day
    assert words[-4:-2] == ["1", "6"]
    words = row(text, "96365")
    assert words[-4:-2] == ["1", "6"]
    words = row(text, "96366")
    assert words[-4:-2] == ["3", "18"]
    words = row(text, "J3490")
    assert words[-4:-2] == ["1", "6"]
    assert "NDC 00409-2051-05, 1.4 ML" in example["flat"]


def test_charges_per_session_and_course_from_the_fee_schedule(example):
    fee = fees(example["folder"])
    text = example["text"]
    sessions = 6
    expected = {
        "99214": fee["99214"] * 1,
        "96365": fee["96365"] * 1,
        "96366": fee["96366"] * 3,
        "J3490": fee["J3490"] * 1,
    }
    for code, per_session in expected.items():
        words = row(text, code)
        assert words[-2:] == [money_text(per_session), money_text(per_session * sessions)], code
    per_session = sum(expected.values())
    assert per_session == Decimal("1359.00")  # 189 + 450 + 3 x 200 + 120 with the starter fees
    total = [line for line in text.splitlines() if line.startswith("Estimated charge")][0]
    assert total.split()[-2:] == [money_text(per_session), money_text(per_session * sessions)]
    assert total.split()[-2:] == ["$1,359.00", "$8,154.00"]


def test_defaults_dated_today_um_department_monitoring_and_reassessment(example):
    text, words = example["text"], example["flat"]
    today = dt.date.today()
    assert long_date(today) in words
    assert "Example Health Plan Utilization Management Department" in words
    assert "Request type Standard review" in words
    assert ("monitored setting with continuous pulse oximetry (SpO2) and ECG monitoring and blood pressure "
            "measured at regular intervals") in words
    assert "advanced cardiac life support (ACLS) immediately available" in words
    assert "Rescue medications" in words and "airway equipment" in words
    assert ("Reassessment: The response is assessed against these criteria at the end of the initial series "
            "(after the last infusion, on or about December 14, 2026)") in words
    assert "Medical policy" not in text


def test_identifiers_provider_and_place_of_service(example):
    words = example["flat"]
    for fragment in (
        "Patient Jane Doe", "Date of birth 01/01/1980", "Member ID XYZ123456789", "Group GRP123",
        "Requesting / rendering physician Avery Lee, MD", "Provider NPI 1003000126",
        "Taxonomy 207LP2900X", "NPI 1234567893 · TIN 12-3456789", "Place of service 11 Office",
        "Contact for peer-to-peer review Avery Lee, MD, phone (217) 555-0100",
    ):
        assert fragment in words, fragment
    assert "Subscriber" not in words  # the patient is the subscriber


def test_clinical_history_treatments_screening_protocol(example):
    words = example["flat"]
    today = dt.date.today()
    for fragment in (
        "G90.511 Complex regional pain syndrome I of right upper limb (primary)",
        f"Onset: March 1, 2024; duration {duration_text(dt.date(2024, 3, 1), today)} as of the date of this letter.",
        "Clinical summary: CRPS type I of the right upper limb after a distal radius fracture.",
        "10/15/2026 7/10 9/10",
        "gabapentin up to 1800 mg/day 05/01/2024 to 11/01/2024 inadequate relief inefficacy",
        "Uncontrolled hypertension or poorly controlled cardiovascular disease No",
        "History of psychosis No", "Pregnancy No", "Severe hepatic disease No",
        "Active substance use disorder No", "Elevated intracranial or intraocular pressure No",
        "screened for each of these contraindications and none is present",
        "Sessions 6", "Dates December 1, 2026 to December 14, 2026",
        "Schedule two to three infusions a week", "Dose 0.5 mg/kg/h",
        "Infusion length 240 minutes (4 hours) per session",
        "Ketamine HCl 100 mg/mL, 140 mg IV per session (HCPCS J3490, NDC 00409-2051-05)",
        "Response criteria: at least 30% reduction in average NRS pain at the end of the series",
    ):
        assert fragment in words, fragment


def test_request_signature_rights_and_cpt_notice(example):
    words = example["flat"]
    for fragment in (
        "individual medical-necessity exception",
        "I request a peer-to-peer review",
        "Sincerely, Avery Lee, MD NPI 1003000126 Example Ketamine Clinic LLC",
        f"Date: {dt.date.today():%m/%d/%Y}",
        "I attest that the information in this letter is accurate",
        "available on request",
        "Decision timeframes and appeal rights (for many plans).",
        "CMS-0057-F", "within 72 hours for an expedited request and 7 calendar days for a standard request",
        "ERISA (29 CFR 2560.503-1)", "more than two levels of internal appeal",
        "independent external review",
        "CPT® is a registered trademark of the American Medical Association.",
    ):
        assert fragment in words, fragment
    assert "Page 1 of " in example["text"]


def test_crps_evidence_paragraph_and_full_citations(example):
    words, squeezed_text = example["flat"], squeezed(example["text"])
    assert ("moderate evidence that intravenous ketamine infusions improve pain in complex regional pain syndrome (CRPS) "
            "for up to 12 weeks") in words
    assert "off-label" in words and "approved by the FDA as an anesthetic" in words
    assert "69% immediately after treatment and 58% at 1 to 3 months" in words
    assert "1.83 points" in words
    library = load_citations()
    for key in ("cohen2018", "zhao2018", "orhurhu2019"):
        assert squeezed(reference_text(library["citations"][key])) in squeezed_text, key
    assert "doi:10.1097/AAP.0000000000000808" in squeezed_text
    assert "doi:10.1007/s11916-018-0664-x" in squeezed_text and "PMID29404715" in squeezed_text
    assert "doi:10.1213/ANE.0000000000004185" in squeezed_text and "PMID31082965" in squeezed_text
    assert "Niesters" not in words


# ---------------------------------------------------------------- a request with every optional part


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    folder = make_clinic(tmp_path_factory.mktemp("full"))
    patient = read_yaml(folder / "patients" / "example.yaml")
    patient["insurance"]["subscriber"] = {
        "relationship": "spouse", "first_name": "John", "last_name": "Doe", "dob": dt.date(1978, 5, 6),
        "sex": "M", "address": {"street": "1 Elm St", "city": "Springfield", "state": "IL", "zip": "62702"},
    }
    write_yaml(folder / "patients" / "spouse.yaml", patient)
    data = request_data(folder)
    data.update({
        "patient": "../patients/spouse.yaml",
        "urgency": "expedited",
        "expedited_reason": "Escalating pain with loss of hand function; delay risks permanent contracture.",
        "date": LETTER_DATE,
        "payer": {"department": "Pharmacy and Medical Prior Authorization",
                  "address": {"street": "500 Plan Way", "city": "Chicago", "state": "IL", "zip": "60601"},
                  "fax": "3125550199", "phone": "3125550198", "policy": "MP-446 Intravenous Anesthetics"},
    })
    data["condition"]["diagnostic_basis"] = "Budapest clinical criteria met: allodynia, edema, color change."
    data["condition"]["function"] = "Brief Pain Inventory interference 8/10."
    data["condition"]["pain_scores"] = [{"date": dt.date(2026, 10, 15), "average": 7, "worst": 9},
                                        {"date": dt.date(2026, 9, 1), "average": 6, "worst": 8}]
    data["prior_treatments"].append({"treatment": "stellate ganglion blocks x3", "start": dt.date(2025, 1, 6),
                                     "end": dt.date(2025, 3, 3), "outcome": "relief for 2 days each",
                                     "reason_stopped": "transient benefit"})
    data["screening"]["uncontrolled_hypertension"] = True
    data["screening_rationale"] = "Blood pressure now controlled on amlodipine; reviewed by cardiology."
    data["plan"]["monitoring"] = "Continuous SpO2, ECG and BP every 15 minutes by an ACLS nurse."
    data["plan"]["reassessment"] = "Clinic visit two weeks after the last infusion."
    request = write_request(folder, "full", data)
    out = folder / "full.pdf"
    result = letter(folder, request, out)
    assert result.exit_code == 0, result.stderr
    text = pdf_text(out)
    return {"text": text, "flat": flat(text), "result": result}


def test_full_request_payer_contact_policy_and_expedited(full):
    words = full["flat"]
    assert "November 10, 2026" in words
    assert ("Example Health Plan Pharmacy and Medical Prior Authorization 500 Plan Way Chicago, IL 60601 "
            "By fax: (312) 555-0199 Phone: (312) 555-0198") in words
    assert "Medical policy MP-446 Intravenous Anesthetics" in words
    assert "EXPEDITED (URGENT) REVIEW REQUESTED" in words
    assert ("Request type Expedited (urgent) review: Escalating pain with loss of hand function; "
            "delay risks permanent contracture.") in words
    assert "Utilization Management Department" not in words


def test_full_request_subscriber_history_screening_and_plan_text(full):
    words = full["flat"]
    for fragment in (
        "Subscriber John Doe, DOB 05/06/1978 (patient's relationship to subscriber: spouse)",
        "Onset: March 1, 2024; duration 2 years 8 months as of the date of this letter.",
        "Diagnostic basis: Budapest clinical criteria met: allodynia, edema, color change.",
        "Function: Brief Pain Inventory interference 8/10.",
        "09/01/2026 6/10 8/10 10/15/2026 7/10 9/10",  # oldest first
        "stellate ganglion blocks x3 01/06/2025 to 03/03/2025 relief for 2 days each transient benefit",
        "Uncontrolled hypertension or poorly controlled cardiovascular disease Yes",
        "Clinical rationale: Blood pressure now controlled on amlodipine; reviewed by cardiology.",
        "Continuous SpO2, ECG and BP every 15 minutes by an ACLS nurse.",
        "Reassessment: Clinic visit two weeks after the last infusion.",
        "Date: 11/10/2026",
    ):
        assert fragment in words, fragment
    assert "none is present" not in words
    assert "regular intervals" not in words  # the plan's own monitoring text replaces the default
    assert stderr_lines(full["result"]) == []


# ---------------------------------------------------------------- evidence by diagnosis


@pytest.fixture(scope="module")
def fibromyalgia(tmp_path_factory):
    folder = make_clinic(tmp_path_factory.mktemp("fibro"))
    data = request_data(folder)
    data["diagnoses"] = ["M79.7"]
    data["date"] = LETTER_DATE
    data["condition"]["summary"] = "Fibromyalgia for three years, refractory to standard care."
    request = write_request(folder, "fibro", data)
    out = folder / "fibro.pdf"
    result = letter(folder, request, out)
    assert result.exit_code == 0, result.stderr
    return pdf_text(out)


def test_non_crps_evidence_is_weaker_and_cites_niesters_not_zhao(fibromyalgia):
    words, squeezed_text = flat(fibromyalgia), squeezed(fibromyalgia)
    assert "M79.7 Fibromyalgia (primary)" in words
    assert "series of 6 intravenous ketamine infusions for chronic pain" in words
    assert "found weak or no evidence that intravenous ketamine provides immediate pain relief" in words
    assert "We acknowledge that this evidence is weak." in words
    assert "off-label" in words
    assert "Zhao" not in words and "69%" not in words
    assert "moderate evidence" not in words
    library = load_citations()
    for key in ("cohen2018", "orhurhu2019", "niesters2014"):
        assert squeezed(reference_text(library["citations"][key])) in squeezed_text, key
    assert "doi:10.1111/bcp.12094" in squeezed_text


def test_evidence_chosen_by_diagnosis():
    for codes in (["G90.511"], ["G56.41"], ["G57.72"], ["F33.1", "G90.59"]):
        evidence = evidence_for(codes)
        assert evidence.indication == "crps", codes
        assert [r["key"] for r in evidence.references] == [
            "cohen2018", "zhao2018", "sigtermans2009", "orhurhu2019", "connolly2015"]
        assert evidence.grade == "moderate"
    neuropathic = evidence_for(["E11.42"])
    assert neuropathic.indication == "neuropathic" and neuropathic.grade == "weak"
    assert [r["key"] for r in neuropathic.references] == ["cohen2018", "orhurhu2019", "maher2017", "niesters2014"]
    other = evidence_for(["M79.7"])
    assert other.indication == "other"
    assert [r["key"] for r in other.references] == ["cohen2018", "orhurhu2019", "niesters2014"]
    # references are numbered in order of first use and every [n] in the text has a reference
    text = " ".join(other.paragraphs)
    assert "[1]" in text and "[3]" in text and "[4]" not in text


def test_citation_library_entries_match_domain_reference():
    citations = load_citations()["citations"]
    assert set(citations) == {"cohen2018", "orhurhu2019", "zhao2018", "niesters2014", "sigtermans2009",
                              "connolly2015", "maher2017"}
    assert reference_text(citations["cohen2018"]) == (
        "Cohen SP, Bhatia A, Buvanendran A, et al. Consensus Guidelines on the Use of Intravenous Ketamine "
        "Infusions for Chronic Pain From the American Society of Regional Anesthesia and Pain Medicine, the "
        "American Academy of Pain Medicine, and the American Society of Anesthesiologists. Reg Anesth Pain Med. "
        "2018;43(5):521-546. doi:10.1097/AAP.0000000000000808.")
    assert reference_text(citations["orhurhu2019"]).endswith(
        "Anesth Analg. 2019;129(1):241-254. doi:10.1213/ANE.0000000000004185 PMID 31082965.")
    assert reference_text(citations["zhao2018"]).endswith(
        "Curr Pain Headache Rep. 2018;22(2):12. doi:10.1007/s11916-018-0664-x PMID 29404715.")
    assert reference_text(citations["niesters2014"]) == (
        "Niesters M, Martini C, Dahan A. Ketamine for chronic pain: risks and benefits. Br J Clin Pharmacol. "
        "2014;77(2):357-367. doi:10.1111/bcp.12094 PMCID PMC4014022.")
    assert reference_text(citations["connolly2015"]) == (
        "Connolly SB, Prager JP, Harden RN. A Systematic Review of Ketamine for Complex Regional Pain Syndrome. "
        "Pain Med. 2015;16(5):943-969.")
    assert "Pain. 2009;145(3):304-311." in reference_text(citations["sigtermans2009"])
    assert "Anesth Analg. 2017;124(2):661-674." in reference_text(citations["maher2017"])


def test_duration_text():
    assert duration_text(dt.date(2024, 3, 1), dt.date(2026, 11, 10)) == "2 years 8 months"
    assert duration_text(dt.date(2025, 11, 10), dt.date(2026, 11, 10)) == "1 year"
    assert duration_text(dt.date(2026, 6, 10), dt.date(2026, 11, 9)) == "4 months"
    assert duration_text(dt.date(2026, 10, 20), dt.date(2026, 11, 10)) == "21 days"


# ---------------------------------------------------------------- refusals


def _no_prior(data):
    data["prior_treatments"] = []


def _no_prior_key(data):
    del data["prior_treatments"]


def _screening_missing(data):
    del data["screening"]["pregnancy"]


def _true_without_rationale(data):
    data["screening"]["psychosis_history"] = True


def _expedited_without_reason(data):
    data["urgency"] = "expedited"


def _service_without_fee(data):
    data["plan"]["services"] = [{"code": "99215"}]


def _unknown_provider(data):
    data["provider"] = "dr-nobody"


def _unknown_drug(data):
    data["plan"]["medications"] = [{"drug": "ketamin", "dose_mg": 140}]


def _onset_after_letter(data):
    data["date"] = dt.date(2024, 2, 1)
    data["prior_treatments"][0].update(start=dt.date(2023, 5, 1), end=dt.date(2023, 11, 1))
    data["condition"]["pain_scores"][0]["date"] = dt.date(2024, 1, 15)


def _missing_patient(data):
    data["patient"] = "../patients/missing.yaml"


REFUSALS = [
    (_no_prior, ["prior_treatments: error: list at least one prior treatment: plans deny requests without "
                 "documented failed therapy"]),
    (_no_prior_key, ["prior_treatments: error: is required"]),
    (_screening_missing, ["screening.pregnancy: error: is required"]),
    (_true_without_rationale, ["screening_rationale: error: is required when a screening answer is true "
                               "(psychosis_history)"]),
    (_expedited_without_reason, ["expedited_reason: error: is required for an expedited request"]),
    (_service_without_fee, ["plan.services[0]: error: 99215 has no fee in clinic.yaml fees and no charge on the line"]),
    (_unknown_provider, ["provider: error: unknown provider id 'dr-nobody' (not in clinic.yaml providers)"]),
    (_unknown_drug, ["plan.medications[0].drug: error: unknown drug 'ketamin'"]),
    (_onset_after_letter, ["condition.onset: error: is after the letter date"]),
]


@pytest.mark.parametrize("mutate,expected", REFUSALS, ids=[m.__name__.strip("_") for m, _ in REFUSALS])
def test_refusals_exit_1_with_exact_lines_and_write_nothing(tmp_path, mutate, expected):
    folder = make_clinic(tmp_path)
    data = request_data(folder)
    mutate(data)
    request = write_request(folder, "bad", data)
    out = folder / "out" / "letter.pdf"
    result = letter(folder, request, out)
    assert result.exit_code == 1
    assert stderr_lines(result) == [f"{request}: {line}" for line in expected]
    assert result.stdout == ""
    assert not out.exists()


def test_missing_patient_file_refused(tmp_path):
    folder = make_clinic(tmp_path)
    data = request_data(folder)
    _missing_patient(data)
    request = write_request(folder, "bad", data)
    result = letter(folder, request, folder / "letter.pdf")
    assert result.exit_code == 1
    patient = folder / "requests" / ".." / "patients" / "missing.yaml"
    assert stderr_lines(result) == [f"{request}: patient: error: the patient file cannot be used: {patient}: error: no such file"]


def test_output_folder_is_a_usage_error(tmp_path):
    folder = make_clinic(tmp_path)
    result = letter(folder, folder / "requests" / "example.yaml", folder)
    assert result.exit_code == 2
    assert "is a folder: give the file to write" in result.stderr


def test_series_already_started_is_a_warning_and_the_letter_is_written(tmp_path):
    folder = make_clinic(tmp_path)
    data = request_data(folder)
    data["date"] = dt.date(2026, 12, 5)
    request = write_request(folder, "late", data)
    out = folder / "late.html"
    result = letter(folder, request, out, "--html")
    assert result.exit_code == 0
    assert stderr_lines(result) == [f"{request}: plan.start: warning: the series starts before the letter date: "
                                    "most plans do not authorize retroactively"]
    assert "December 5, 2026" in out.read_text()


# ---------------------------------------------------------------- templates


def test_html_preview_is_escaped(tmp_path):
    folder = make_clinic(tmp_path)
    data = request_data(folder)
    data["condition"]["summary"] = "<script>alert(1)</script> & more"
    request = write_request(folder, "html", data)
    out = folder / "preview" / "letter.html"
    result = letter(folder, request, out, "--html")
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "<script>" not in html
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_clinic_template_replaces_one_block(tmp_path):
    folder = make_clinic(tmp_path)
    overrides = folder / "templates"
    overrides.mkdir()
    (overrides / "letter.html").write_text(
        '{% extends "default:letter.html" %}\n'
        '{% block opening %}<p>Dear Dr. Reviewer, our own opening for {{ patient.name }}.</p>{% endblock %}\n',
        encoding="utf-8")
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["templates"] = "./templates"
    write_yaml(folder / "clinic.yaml", clinic)
    out = folder / "custom.pdf"
    result = letter(folder, folder / "requests" / "example.yaml", out)
    assert result.exit_code == 0, result.stderr
    words = flat(pdf_text(out))
    assert "Dear Dr. Reviewer, our own opening for Jane Doe." in words
    assert "Dear Medical Director" not in words
    assert "$1,359.00 $8,154.00" in words  # the rest of the default letter is still there


def test_templates_option_and_a_broken_template(tmp_path):
    folder = make_clinic(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    (good / "letter.html").write_text(
        '{% extends "default:letter.html" %}{% block closing %}<p>With thanks, the team.</p>{% endblock %}',
        encoding="utf-8")
    out = folder / "a.html"
    result = letter(folder, folder / "requests" / "example.yaml", out, "--html", "--templates", good)
    assert result.exit_code == 0, result.stderr
    assert "With thanks, the team." in out.read_text()

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "letter.html").write_text('{% extends "default:letter.html" %}{% block closing %}', encoding="utf-8")
    out = folder / "b.html"
    result = letter(folder, folder / "requests" / "example.yaml", out, "--html", "--templates", broken)
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith(f"{broken / 'letter.html'}: line 1: error: template syntax error: Unexpected end of template.")
    assert not out.exists()


def _png(path, width=40, height=20):
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x20\x40\x80" * width for _ in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_logo_and_signature_images_and_a_missing_one_warns(tmp_path):
    folder = make_clinic(tmp_path)
    _png(folder / "logo.png")
    _png(folder / "sig.png")
    clinic = read_yaml(folder / "clinic.yaml")
    clinic["practice"]["logo"] = "logo.png"
    clinic["providers"][0]["signature"] = "sig.png"
    write_yaml(folder / "clinic.yaml", clinic)
    out = folder / "with-images.pdf"
    result = letter(folder, folder / "requests" / "example.yaml", out)
    assert result.exit_code == 0, result.stderr
    with pdfplumber.open(out) as pdf:
        assert sum(len(page.images) for page in pdf.pages) == 2

    (folder / "sig.png").unlink()
    out = folder / "without-signature.html"
    result = letter(folder, folder / "requests" / "example.yaml", out, "--html")
    assert result.exit_code == 0
    assert stderr_lines(result) == [f"{folder / 'clinic.yaml'}: providers[0].signature: warning: "
                                    "file not found; left off the letter"]
    html = out.read_text()
    assert (folder / "logo.png").as_uri() in html and "sig.png" not in html
