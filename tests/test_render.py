"""`superbill render`: the superbill PDF read back with pdfplumber, files, names, safety."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import stat
from pathlib import Path

import pdfplumber
import pypdf
import pytest
import yaml
from click.testing import CliRunner
from helpers import FY2027_NOTE

from superbill.cli import main
from superbill.documents.formatting import money
from superbill.documents.render import render_files
from superbill.engine.claims import quantity_text
from superbill.engine.process import process_patient
from superbill.inputs.load import load_clinic
from superbill.inputs.starter import write_starter
from superbill.tables import icd10cm_index

ISSUED = dt.date(2026, 11, 30)
TODAY = dt.date(2026, 12, 1)
LETTERS = "ABCDEFGHIJKL"
HEADER = "Date POS Code Modifiers Description Dx ptr Units Charge"


# ---------------------------------------------------------------- helpers


@pytest.fixture
def clinic(tmp_path):
    folder = tmp_path / "clinic"
    write_starter(folder)
    return folder


def example(folder: Path) -> dict:
    return yaml.safe_load((folder / "patients" / "example.yaml").read_text())


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def edit_clinic(folder: Path, change) -> None:
    data = yaml.safe_load((folder / "clinic.yaml").read_text())
    change(data)
    write_yaml(folder / "clinic.yaml", data)


def render(folder: Path, files, out: Path, **options):
    loaded = load_clinic(folder / "clinic.yaml")
    return render_files([str(f) for f in files], loaded, out, issued=ISSUED, today=TODAY, **options)


def pages(pdf_path: Path) -> list[str]:
    with pdfplumber.open(pdf_path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def column_text(pdf_path: Path, start: float, end: float, page: int = 0) -> str:
    """The text between two fractions of the page width (to read one column of a multi-column block)."""
    with pdfplumber.open(pdf_path) as pdf:
        p = pdf.pages[page]
        return p.crop((p.width * start, 0, p.width * end, p.height)).extract_text() or ""


def half_text(pdf_path: Path, side: str, page: int = 0) -> str:
    return column_text(pdf_path, 0, 0.5, page) if side == "left" else column_text(pdf_path, 0.5, 1, page)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def png(path: Path, color) -> Path:
    from PIL import Image

    Image.new("RGB", (120, 40), color).save(path)
    return path


def attachments_and_images(pdf_path: Path) -> tuple[bool, int, int]:
    """(the catalog names embedded files, FileAttachment annotations, image count)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf_path.read_bytes()))
    root = reader.trailer["/Root"]
    embedded = "/Names" in root and "/EmbeddedFiles" in root["/Names"].get_object()
    annotations = 0
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                annotations += 1
    with pdfplumber.open(pdf_path) as pdf:
        images = sum(len(page.images) for page in pdf.pages)
    return embedded, annotations, images


# ---------------------------------------------------------------- the reference example (docs/reference.md "Commands")


def test_example_superbill_has_every_field(clinic, tmp_path):
    out = tmp_path / "out"
    summary = render(clinic, [clinic / "patients/example.yaml"], out)
    assert summary.ok, [p.line() for p in summary.problems]
    [pdf] = summary.written
    assert pdf.name == "P0001_2026-11-02_2026-11-02.pdf"
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600

    text_pages = pages(pdf)
    assert len(text_pages) == 1  # the example fits on one page
    text = text_pages[0]
    lines = text.splitlines()

    # practice block: name, address, phone, NPI, TIN formatted, taxonomy
    for expected in ["Example Ketamine Clinic LLC", "100 Main St", "Springfield, IL 62701-1234",
                     "Phone (217) 555-0100", "Billing NPI 1234567893", "Tax ID (TIN) 12-3456789",
                     "Taxonomy 207LP2900X"]:
        assert expected in text, expected
    # rendering provider with credentials, NPI and taxonomy
    assert "Avery Lee, MD" in text
    assert re.search(r"NPI 1003000126", text)
    # patient: name, DOB, sex, address, account number
    for expected in ["Jane Doe", "1 Elm St", "Springfield, IL 62702", "Date of birth 01/01/1980",
                     "Sex Female", "Account no. P0001", "(217) 555-0101"]:
        assert expected in text, expected
    # insurance: payer, payer ID, member ID, group, subscriber and relationship
    for expected in ["Example Health Plan", "Payer ID 12345", "Member ID XYZ123456789", "Group no. GRP123",
                     "Subscriber Jane Doe", "Relationship Self"]:
        assert expected in text, expected

    # diagnoses A-L with their ICD-10-CM titles
    for letter, code in zip(LETTERS, ["G90.511", "F33.1"], strict=False):
        title = icd10cm_index.lookup(code).title
        assert f"{letter} {code} {title}" in lines

    # one row per service line: date, POS, code, modifiers, (description), pointers, units, charge
    loaded = load_clinic(clinic / "clinic.yaml")
    [claim] = process_patient(clinic / "patients/example.yaml", loaded).claims
    assert len(claim.lines) == 6
    for line in claim.lines:
        pointers = "".join(LETTERS[p - 1] for p in line.pointers)
        modifiers = " ".join(line.modifiers)
        head = f"11/02/2026 11 {line.code} " + (f"{modifiers} " if modifiers else "")
        first_words = " ".join(line.description.split()[:2])
        pattern = re.escape(head + first_words) + r".* " + re.escape(f"{pointers} {line.units} {money(line.charge)}")
        assert any(re.fullmatch(pattern, row) for row in lines), (line.code, pattern)
        if line.ndc:
            assert f"NDC N4 {line.ndc} {line.ndc_unit} {quantity_text(line.ndc_quantity)}" in text
    # the drug lines of docs/reference.md "Commands", literally
    assert "NDC N4 00409205105 ML 0.7" in text
    assert re.search(r"J2405 JZ Ondansetron .* AB 4 \$16\.00", text)

    # totals, payments
    assert "Total charges $1,035.00" in text
    assert "Amount paid $650.00" in text
    assert "Balance due $385.00" in lines
    assert "11/02/2026 Card $650.00" in text
    # attestation and signature block
    assert "I certify that the services listed above were medically necessary" in text
    assert "Avery Lee, MD Date 11/30/2026" in text
    assert "Rendering provider · NPI 1003000126" in text
    # notices and the patient's note
    assert "CPT® is a registered trademark of the American Medical Association." in text
    assert "not AMA CPT descriptors" in text
    assert "ICD-10-CM codes and titles: CDC National Center for Health Statistics (NCHS)" in text
    left, right = squash(half_text(pdf, "left")), squash(half_text(pdf, "right"))
    assert squash("Get your plan's claim form (member or out-of-network claim form)") in left
    assert squash("Fill in and sign the member part, and attach this superbill unchanged.") in left
    assert squash("Keep copies of everything you send") in right
    assert squash("plans set filing deadlines, often 90 days to 1 year from the date of service. "
                  "Check your plan.") in right
    assert "Page 1 of 1" in text
    # the PDF's title names the statement, not the patient
    reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
    assert reader.metadata.title == "Superbill P0001-20261102"


def test_subscriber_relationship_and_prior_authorization(clinic, tmp_path):
    data = example(clinic)
    data["insurance"]["subscriber"] = {
        "relationship": "spouse", "first_name": "John", "last_name": "Doe", "dob": dt.date(1978, 5, 6),
        "sex": "M", "address": {"street": "1 Elm St", "city": "Springfield", "state": "IL", "zip": "62702"},
    }
    data["sessions"][0]["prior_authorization"] = "PA-778899"
    patient = write_yaml(clinic / "patients/spouse.yaml", data)
    summary = render(clinic, [patient], tmp_path / "out")
    assert summary.ok, [p.line() for p in summary.problems]
    text = "\n".join(pages(summary.written[0]))
    assert "Subscriber John Doe" in text
    assert "Relationship Spouse" in text
    assert "Subscr. DOB 05/06/1978 · Male" in text
    assert "Subscr. addr. Same as patient" in text
    assert "Prior auth. no. PA-778899" in text
    assert "Relationship Self" not in text

    data["insurance"]["subscriber"].update(relationship="child", address={
        "street": "9 Oak Ave", "city": "Chicago", "state": "IL", "zip": "60601"})
    write_yaml(patient, data)
    summary = render(clinic, [patient], tmp_path / "out2")
    text = "\n".join(pages(summary.written[0]))
    assert "Relationship Child" in text
    assert "Subscr. addr. 9 Oak Ave" in text
    assert "Chicago, IL 60601" in text


def _many_sessions(folder: Path, count: int) -> Path:
    data = example(folder)
    session = data["sessions"][0]
    days = [2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17][:count]
    data["sessions"] = []
    for day in days:
        s = copy.deepcopy(session)
        s["date"] = dt.date(2026, 11, day)
        s["payments"] = [{"date": dt.date(2026, 11, day), "amount": 650.00, "method": "card"}]
        data["sessions"].append(s)
    return write_yaml(folder / "patients/many.yaml", data)


def test_many_lines_span_pages_with_header_repeated_and_totals_once(clinic, tmp_path):
    patient = _many_sessions(clinic, 7)  # 7 sessions x 6 lines = 42 service lines
    summary = render(clinic, [patient], tmp_path / "out")
    assert summary.ok, [p.line() for p in summary.problems]
    [pdf] = summary.written
    assert pdf.name == "P0001_2026-11-02_2026-11-10.pdf"
    text_pages = pages(pdf)
    count = len(text_pages)
    assert count >= 2
    service_rows = re.compile(r"^\d\d/\d\d/2026 11 (99214|93000|96365|96366|J3490|J2405) ", re.M)
    rows_per_page = [len(service_rows.findall(t)) for t in text_pages]
    assert sum(rows_per_page) == 42
    assert sum(1 for n in rows_per_page if n) >= 2  # the table itself spans pages
    for number, (text, rows) in enumerate(zip(text_pages, rows_per_page, strict=True), start=1):
        assert f"Page {number} of {count}" in text
        assert "CPT® is a registered trademark of the American Medical Association." in text
        if rows:
            assert HEADER in text.splitlines(), f"table header missing on page {number}"
    # a row per session names the date and provider
    whole = "\n".join(text_pages)
    assert whole.count("Avery Lee, MD, NPI 1003000126") == 7
    # totals printed once, all on one page, and right
    assert whole.count("Total charges") == 1
    totals_page = next(t for t in text_pages if "Total charges" in t)
    assert "Total charges $7,245.00" in totals_page
    assert "Amount paid $4,550.00" in totals_page
    assert "Balance due $2,695.00" in totals_page
    assert "Service dates 11/02/2026 – 11/10/2026" in text_pages[0]
    assert whole.count("Card $650.00") == 7


def test_per_session_and_date_range(clinic, tmp_path):
    data = example(clinic)
    first = data["sessions"][0]
    second = copy.deepcopy(first)
    second["infusion"] = {"start": "14:00", "end": "15:00"}  # later the same day: claim -2
    third = copy.deepcopy(first)
    third["date"] = dt.date(2026, 11, 9)
    third["payments"] = []
    data["sessions"] = [third, second, first]
    patient = write_yaml(clinic / "patients/three.yaml", data)

    summary = render(clinic, [patient], tmp_path / "each", per_session=True)
    assert summary.ok, [p.line() for p in summary.problems]
    assert sorted(p.name for p in summary.written) == [
        "P0001_2026-11-02.pdf", "P0001_2026-11-02_2.pdf", "P0001_2026-11-09.pdf"]
    later = "\n".join(pages(tmp_path / "each" / "P0001_2026-11-02_2.pdf"))
    assert "Statement no. P0001-20261102-2" in later
    assert "96366" not in later  # 60 minutes: 96365 only
    unpaid = "\n".join(pages(tmp_path / "each" / "P0001_2026-11-09.pdf"))
    assert "No payments recorded for these services." in unpaid
    assert "Balance due $1,035.00" in unpaid

    summary = render(clinic, [patient], tmp_path / "range", date_from=dt.date(2026, 11, 3),
                     date_to=dt.date(2026, 11, 30))
    [pdf] = summary.written
    assert pdf.name == "P0001_2026-11-09_2026-11-09.pdf"
    text = "\n".join(pages(pdf))
    assert "11/02/2026" not in text
    assert "Total charges $1,035.00" in text


def test_html_output_is_escaped_and_owner_only(clinic, tmp_path):
    data = example(clinic)
    data["patient"]["first_name"] = "<b>x</b>"
    patient = write_yaml(clinic / "patients/h.yaml", data)
    summary = render(clinic, [patient], tmp_path / "html", html=True)
    [page] = summary.written
    assert page.suffix == ".html"
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    html = page.read_text()
    assert "&lt;b&gt;x&lt;/b&gt; Doe" in html
    assert "<b>x</b>" not in html
    assert "$1,035.00" in html and "@page" in html  # the CSS is inline: the file previews on its own


def test_two_rendering_providers_each_with_npi_and_signature_block(clinic, tmp_path):
    def second_provider(data):
        data["providers"].append({"id": "dr-kim", "first_name": "Morgan", "last_name": "Kim", "credentials": "DO",
                                  "npi": "1987654328", "taxonomy": "207L00000X"})

    edit_clinic(clinic, second_provider)
    data = example(clinic)
    later = copy.deepcopy(data["sessions"][0])
    later["date"] = dt.date(2026, 11, 9)
    later["provider"] = "dr-kim"
    later["diagnoses"] = ["G90.511", "M79.7"]
    later["payments"] = []
    data["sessions"].append(later)
    patient = write_yaml(clinic / "patients/two.yaml", data)
    summary = render(clinic, [patient], tmp_path / "out")
    assert summary.ok, [p.line() for p in summary.problems]
    text = "\n".join(pages(summary.written[0]))
    assert "RENDERING PROVIDERS" in text
    attestation = squash(column_text(summary.written[0], 0, 0.55, page=-1))  # beside the totals: read alone
    assert squash("Each provider signing below certifies that the services listed above under their name") in attestation
    assert "11/02/2026 · Avery Lee, MD, NPI 1003000126" in text
    assert "11/09/2026 · Morgan Kim, DO, NPI 1987654328" in text
    assert "Taxonomy 207L00000X" in text
    assert "Rendering provider · NPI 1003000126" in text and "Rendering provider · NPI 1987654328" in text
    # one diagnosis list for the document: M79.7 is C, and the second session's lines point to A and C
    assert f"C M79.7 {icd10cm_index.lookup('M79.7').title}" in text
    assert re.search(r"^11/09/2026 11 96365 .* AC 1 \$450\.00$", text, re.M)
    assert "Total charges $2,070.00" in text and "Balance due $1,420.00" in text


# ---------------------------------------------------------------- safety


HOSTILE = {
    "first_name": "<b>x</b>",
    "last_name": '<img src="file:///etc/passwd">',
    "street": '<a rel="attachment" href="file:///etc/passwd">p</a>',
    "street2": "<link rel=attachment href=file:///etc/passwd>",
}


def test_hostile_patient_text_is_printed_as_text(clinic, tmp_path):
    data = example(clinic)
    data["patient"]["first_name"] = HOSTILE["first_name"]
    data["patient"]["last_name"] = HOSTILE["last_name"]
    data["patient"]["address"]["street"] = HOSTILE["street"]
    data["patient"]["address"]["street2"] = HOSTILE["street2"]
    patient = write_yaml(clinic / "patients/hostile.yaml", data)
    summary = render(clinic, [patient], tmp_path / "out")
    assert summary.ok, [p.line() for p in summary.problems]
    [pdf] = summary.written
    text = "\n".join(pages(pdf))
    patient_box = squash(column_text(pdf, 0, 0.36))  # the patient column, read on its own
    for value in HOSTILE.values():
        assert squash(value) in patient_box, value
    assert "<b>x</b>" in text
    embedded, annotations, images = attachments_and_images(pdf)
    assert not embedded
    assert annotations == 0
    assert images == 0
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    assert passwd.split(":")[0] + ":" not in text.replace("passwd", "")
    assert b"root:x:0" not in pdf.read_bytes()


def test_hostile_patient_id_stays_inside_the_output_folder(clinic, tmp_path):
    data = example(clinic)
    data["patient"]["id"] = "../../x"
    patient = write_yaml(clinic / "patients/escape.yaml", data)
    out = tmp_path / "deep" / "out"
    before = {p for p in tmp_path.rglob("*")}
    summary = render(clinic, [patient], out)
    assert summary.ok, [p.line() for p in summary.problems]
    [pdf] = summary.written
    assert pdf.parent == out.resolve()
    assert pdf.name == "x_2026-11-02_2026-11-02.pdf"
    new = {p for p in tmp_path.rglob("*")} - before
    assert all(out in p.parents or p in (out, out.parent) for p in new)


def test_template_cannot_load_local_files_network_or_attachments(clinic, tmp_path):
    png(clinic / "logo.png", (31, 78, 121))
    edit_clinic(clinic, lambda d: (d["practice"].__setitem__("logo", "logo.png"),
                                   d.__setitem__("templates", "my-templates")))
    (clinic / "my-templates").mkdir()
    (clinic / "my-templates" / "superbill.html").write_text(
        '{% extends "default:superbill.html" %}\n'
        '{% block notes %}<section>HOSTILE TEMPLATE\n'
        '<img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">\n'
        '<img src="../../../../../../../../etc/passwd">\n'
        '<a rel="attachment" href="file:///etc/passwd">att</a>\n'
        '<link rel="attachment" href="file:///etc/passwd">\n'
        '<style>@import url("file:///etc/passwd"); @import url("http://127.0.0.1:9/x.css");</style>\n'
        '</section>{% endblock %}\n')
    summary = render(clinic, [clinic / "patients/example.yaml"], tmp_path / "out")
    assert summary.ok, [p.line() for p in summary.problems]
    [pdf] = summary.written
    text = "\n".join(pages(pdf))
    assert "HOSTILE TEMPLATE" in text
    embedded, annotations, images = attachments_and_images(pdf)
    assert not embedded
    assert annotations == 0
    assert images == 1  # the clinic's logo is allowed; nothing else loaded
    assert b"root:x:0" not in pdf.read_bytes()


def test_logo_and_signature_images_and_a_missing_one_warns(clinic, tmp_path):
    png(clinic / "logo.png", (31, 78, 121))
    png(clinic / "sig.png", (0, 0, 0))

    def images_on(data):
        data["practice"]["logo"] = "logo.png"
        data["providers"][0]["signature"] = "sig.png"

    edit_clinic(clinic, images_on)
    summary = render(clinic, [clinic / "patients/example.yaml"], tmp_path / "a")
    assert summary.ok and [p.message for p in summary.problems] == [FY2027_NOTE]
    assert attachments_and_images(summary.written[0])[2] == 2

    edit_clinic(clinic, lambda d: d["providers"][0].__setitem__("signature", "missing.png"))
    summary = render(clinic, [clinic / "patients/example.yaml"], tmp_path / "b")
    assert summary.ok
    assert [p.line() for p in summary.problems if p.message != FY2027_NOTE] == [
        f"{clinic / 'clinic.yaml'}: providers[0].signature: warning: file not found; left off the superbill"]
    assert attachments_and_images(summary.written[0])[2] == 1


# ---------------------------------------------------------------- the command


def run(clinic: Path, *args):
    return CliRunner().invoke(main, ["--clinic", str(clinic / "clinic.yaml"), *map(str, args)])


def test_cli_render_writes_the_pdf(clinic, tmp_path):
    out = tmp_path / "new" / "folder"
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", out)
    assert result.exit_code == 0, result.output
    target = out / "P0001_2026-11-02_2026-11-02.pdf"
    assert target.is_file()
    assert result.stdout.splitlines() == [f"wrote {target.resolve()}", "1 superbill(s) written for 1 of 1 file(s)"]
    assert "Total charges $1,035.00" in pages(target)[0]


def test_cli_bad_file_among_good_ones(clinic, tmp_path):
    bad = example(clinic)
    bad["patient"]["id"] = "P0002"
    bad["sessions"][0]["provider"] = "dr-nobody"
    bad_path = write_yaml(clinic / "patients/bad.yaml", bad)
    broken = clinic / "patients/broken.yaml"
    broken.write_text("patient: [unclosed\n")
    out = tmp_path / "out"
    result = run(clinic, "render", bad_path, clinic / "patients/example.yaml", broken, "-o", out)
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["P0001_2026-11-02_2026-11-02.pdf"]
    errors = result.stderr.splitlines()
    assert f"{bad_path}: sessions[0].provider: error: unknown provider id 'dr-nobody' (not in clinic.yaml providers)" in errors
    assert any(line.startswith(f"{broken}:") and ": error: " in line for line in errors)
    assert "Traceback" not in result.output
    assert result.stdout.splitlines()[-1] == "1 superbill(s) written for 1 of 3 file(s); 2 rejected"


def test_cli_same_patient_twice_is_not_overwritten(clinic, tmp_path):
    copy_path = write_yaml(clinic / "patients/copy.yaml", example(clinic))
    out = tmp_path / "out"
    result = run(clinic, "render", clinic / "patients/example.yaml", copy_path, "-o", out)
    assert result.exit_code == 1
    assert len(list(out.iterdir())) == 1
    assert (f"{copy_path}: patient.id: error: same patient id and dates as {clinic / 'patients/example.yaml'}: "
            f"its superbill would be overwritten; not rendered") in result.stderr.splitlines()


def test_cli_usage_errors_and_empty_ranges(clinic, tmp_path):
    patient = clinic / "patients/example.yaml"
    result = run(clinic, "render", patient, "-o", tmp_path / "o", "--from", "2026-12-01", "--to", "2026-11-01")
    assert result.exit_code == 2
    result = run(clinic, "render", patient, "-o", tmp_path / "o", "--from", "2026-13-01")
    assert result.exit_code == 2
    result = run(clinic, "render", patient)
    assert result.exit_code == 2  # -o is required

    result = run(clinic, "render", patient, "-o", tmp_path / "o", "--from", "2026-11-03")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [f"{patient}: sessions: warning: no sessions in the date range: no superbill written"]
    assert not (tmp_path / "o").exists()


def test_cli_broken_template_is_one_line_and_writes_nothing(clinic, tmp_path):
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "superbill.html").write_text('{% extends "default:superbill.html" %}\n{% block notes %}{{ oops }{% endblock %}\n')
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", tmp_path / "o", "--templates", templates)
    assert result.exit_code == 1
    [line] = [line for line in result.stderr.splitlines() if FY2027_NOTE not in line]
    assert line.startswith(f"{templates / 'superbill.html'}: line 2: error: template syntax error")
    assert not (tmp_path / "o").exists()

    (templates / "superbill.html").write_text('{% extends "default:superbill.html" %}\n'
                                              '{% block notes %}{{ patient.nickname }}{% endblock %}\n')
    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", tmp_path / "o", "--templates", templates)
    assert result.exit_code == 1
    assert "error: template error:" in result.stderr and "nickname" in result.stderr
    assert "Traceback" not in result.output

    result = run(clinic, "render", clinic / "patients/example.yaml", "-o", tmp_path / "o", "--templates", tmp_path / "nope")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{tmp_path / 'nope'}: error: templates folder not found"]


@pytest.mark.parametrize("style, image_count, words", [
    ("image", 1, None),  # the provider's image on the line
    ("on-file", 0, "Signature on file"),  # the words, no image, even though there is one
    ("blank", 0, None),  # a line to sign by hand, even though there is an image
])
def test_signature_style(clinic, tmp_path, style, image_count, words):
    png(clinic / "sig.png", (0, 0, 0))

    def signed(data):
        data["providers"][0]["signature"] = "sig.png"
        data["signature_style"] = style

    edit_clinic(clinic, signed)
    summary = render(clinic, [clinic / "patients/example.yaml"], tmp_path / "out")
    assert summary.ok and [p.message for p in summary.problems] == [FY2027_NOTE]
    [pdf] = summary.written
    assert attachments_and_images(pdf)[2] == image_count
    text = pages(pdf)[0]
    assert ("Signature on file" in text) == (words is not None)
    assert "Avery Lee, MD Date 11/30/2026" in text  # the signature line itself is always there
