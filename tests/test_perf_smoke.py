"""The fast paths give the same output as the plain ones (issue 7; figures in bench/README.md).

* superbills rendered as a batch (slim font copies, forked workers) are byte-for-byte the PDFs one
  `pdf.render_pdf` call makes for each, each one readable by pypdf and pdfplumber, fonts embedded,
  holding its own patient and nobody else; a slim copy that would change a font is dropped;
* which subsetter WeasyPrint uses depends on the machine: fontTools, where the slim copies serve,
  or HarfBuzz where libharfbuzz-subset is installed, where they play no part. Each test says which
  it needs: the batch test runs with every subsetter this machine has (fontTools always: the test
  hides HarfBuzz from WeasyPrint for it), the slim-font tests with fontTools;
* the 837P streamed into its file (`write_837p`, and the export) is exactly `build_837p`'s text,
  with the right segment counts and control numbers across transaction splits, valid for pyx12; a
  failure half-way through the stream leaves no file and no exported claim;
* `import superbill.cli` stays light (no WeasyPrint, pydantic or fontTools before a command runs).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys

import pdfplumber
import pypdf
import pytest
from exportkit import TODAY, clinic, items_of, load, patient, session, subscriber, write_patient
from x12check import assert_valid_x12, segments

from superbill.batch.export import ExportOptions, export_claims
from superbill.batch.ledger import Ledger
from superbill.documents import pdfbatch
from superbill.documents.formatting import money
from superbill.documents.pdf import render_pdf
from superbill.documents.superbill_doc import build_patient_documents, render_superbills
from superbill.engine.process import process_patient
from superbill.exports import x12

ISSUED = dt.date(2026, 12, 1)
FIXED_TIME = "1767225600"
CREATED = dt.datetime(2026, 12, 1, 10, 15)
PEOPLE = [  # (id, first, last): distinct words to look for in each other's files
    ("P1001", "Zebulon", "Quagmire"),
    ("P1002", "Wilhelmina", "Fairweather"),
    ("P1003", "Σοφία", "Παπαδοπούλου"),  # Greek: outside the slim fonts, takes the usual path
    ("P1004", "Octavia", "Brightwater"),
]


SUBSETTERS = ["fonttools"] + (["harfbuzz"] if pdfbatch.subsets_with_harfbuzz() else [])


def use_subsetter(patch: pytest.MonkeyPatch, name: str) -> None:
    """Make WeasyPrint subset fonts with `name`: "fonttools" hides HarfBuzz's subsetter from it (as on a
    machine without libharfbuzz-subset); "harfbuzz" needs it installed."""
    from weasyprint.pdf import fonts

    if name == "fonttools":
        patch.setattr(fonts, "harfbuzz_subset", None)
    assert pdfbatch.subsets_with_harfbuzz() == (name == "harfbuzz")


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Four patients' superbill documents, their totals, and each rendered on its own with each
    subsetter (the plain path, fonts subset from the system fonts: no slim copy in this process yet
    or, later, inactive)."""
    folder = tmp_path_factory.mktemp("batch")
    clinic(folder)
    loaded = load(folder)
    documents, expected = [], {}
    for n, (pid, first, last) in enumerate(PEOPLE):
        days = ["2026-11-02", "2026-11-09"][: 1 + n % 2]
        path = write_patient(folder / "patients", f"{pid}.yaml",
                             patient(pid, first, last, member_id=f"MEM{pid}", sessions=[session(d) for d in days]))
        result = process_patient(path, loaded, today=TODAY)
        assert result.ok, [p.line() for p in result.problems]
        docs, _ = build_patient_documents(result, loaded, issued=ISSUED)
        documents += docs
        expected[pid] = sum(c.total_charge for c in result.claims)
    plain = {}
    for name in SUBSETTERS:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SOURCE_DATE_EPOCH", FIXED_TIME)
            use_subsetter(patch, name)
            plain[name] = one_at_a_time(documents)
    return documents, expected, plain


@pytest.fixture
def fonttools(monkeypatch):
    """WeasyPrint subsets with fontTools, the path the slim copies serve."""
    use_subsetter(monkeypatch, "fonttools")


@pytest.fixture
def fixed_time(monkeypatch):
    # fontTools stamps each embedded font with the time it was saved: fix it to compare bytes.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_TIME)


@pytest.fixture(autouse=True)
def fresh_font_cache(tmp_path, monkeypatch):
    """No slim font in memory, an empty cache folder of our own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SUPERBILL_CACHE_DIR", str(folder))
    monkeypatch.setattr(pdfbatch, "_SLIMS", {})
    return folder


def one_at_a_time(documents) -> list[bytes]:
    return [render_pdf(d.html, d.base_dir, d.roots, files=d.files) for d in documents]


def all_text(data: bytes) -> bytes:
    """Every string and decompressed stream reachable in the file, for searching."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    seen, out, stack = set(), [], [reader.trailer]
    while stack:
        node = stack.pop()
        if isinstance(node, pypdf.generic.IndirectObject):
            if node.idnum in seen:
                continue
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, pypdf.generic.StreamObject):
            out.append(node.get_data())
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, (pypdf.generic.TextStringObject, pypdf.generic.ByteStringObject)):
            out.append(str(node).encode("utf-8", "replace"))
    return b"\n".join(out)


def check_superbill(data: bytes, pid: str, first: str, last: str, total) -> None:
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.metadata.title.startswith(f"Superbill {pid}-")
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"font {font.get_object()['/BaseFont']} not embedded"
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert f"{first} {last}" in text
    assert f"Account no. {pid}" in text and f"Member ID MEM{pid}" in text
    assert f"Total charges {money(total)}" in text
    blob = all_text(data)
    for other_pid, _other_first, other_last in PEOPLE:
        if other_pid == pid:
            continue
        assert other_pid not in text and other_last not in text
        assert other_pid.encode() not in blob and other_last.encode("utf-8") not in blob


# ---------------------------------------------------------------- superbills


@pytest.mark.parametrize("subsetter", SUBSETTERS)
def test_batch_superbills_are_the_one_at_a_time_pdfs_byte_for_byte(batch, fixed_time, monkeypatch, subsetter):
    documents, expected, all_plain = batch
    plain = all_plain[subsetter]
    use_subsetter(monkeypatch, subsetter)
    before = dict(pdfbatch.STATS)
    sequential = render_superbills(documents, jobs=1)
    assert sequential == plain
    if subsetter == "fonttools":
        assert pdfbatch.STATS["slim"] > before["slim"]  # the fast path did run (for the Latin names)
    else:
        assert pdfbatch.STATS == before  # HarfBuzz subsets every font: fontTools is never called
    assert render_superbills(documents, jobs=2) == plain  # forked workers
    for data, (pid, first, last) in zip(sequential, PEOPLE, strict=True):
        check_superbill(data, pid, first, last, expected[pid])
    assert len(pypdf.PdfReader(io.BytesIO(sequential[1])).pages) >= 1


def test_a_slim_font_that_would_change_the_output_is_dropped(batch, fixed_time, monkeypatch, fresh_font_cache,
                                                             fonttools):
    documents, _, all_plain = batch
    plain = all_plain["fonttools"]
    real_build = pdfbatch.build_slim

    def broken(content, hinting=False):
        slim = real_build(content, hinting)
        if slim is None:
            return None
        from fontTools.ttLib import TTFont

        font = TTFont(io.BytesIO(slim.data))
        font["OS/2"].usWeightClass = 250  # a different font: the check on first use must notice
        out = io.BytesIO()
        font.save(out)
        return pdfbatch.SlimFont(out.getvalue(), slim.glyphs)

    monkeypatch.setattr(pdfbatch, "build_slim", broken)
    assert render_superbills(documents, jobs=1) == plain
    assert pdfbatch._SLIMS and all(slim is None for slim in pdfbatch._SLIMS.values())
    assert not list(fresh_font_cache.rglob("*.slim"))  # and not kept for the next run


def test_checked_slim_fonts_are_kept_on_disk_and_serve_a_single_superbill(batch, fixed_time, fresh_font_cache,
                                                                           monkeypatch, fonttools):
    documents, _, all_plain = batch
    plain = all_plain["fonttools"]
    assert render_superbills(documents, jobs=1) == plain  # four: enough to make the slim fonts
    cached = sorted(fresh_font_cache.rglob("*.slim"))
    assert len(cached) >= 2 and all(oct(p.stat().st_mode & 0o777) == "0o600" for p in cached)

    monkeypatch.setattr(pdfbatch, "_SLIMS", {})  # a new run: only the disk remembers
    before = dict(pdfbatch.STATS)
    assert render_superbills(documents[:1]) == plain[:1]
    assert pdfbatch.STATS["slim"] >= before["slim"] + 2 and pdfbatch.STATS["full"] == before["full"]

    for path in cached:  # damaged, or writable by others: ignored, the usual path serves
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
    cached[0].chmod(0o666)
    monkeypatch.setattr(pdfbatch, "_SLIMS", {})
    before = dict(pdfbatch.STATS)
    assert render_superbills(documents[1:2]) == plain[1:2]
    assert pdfbatch.STATS["slim"] == before["slim"] and pdfbatch.STATS["full"] >= before["full"] + 2


def test_same_font_ignores_only_the_save_time():
    data = pdfbatch.build_slim(open(_a_system_font(), "rb").read())
    assert data is not None
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data.data), recalcTimestamp=False)
    font["head"].modified += 3600  # saved an hour later: another checksum too
    later = io.BytesIO()
    font.save(later)
    assert later.getvalue() != data.data
    font["hhea"].ascent += 1
    changed = io.BytesIO()
    font.save(changed)
    assert pdfbatch.same_font(data.data, later.getvalue())
    assert not pdfbatch.same_font(data.data, changed.getvalue())


def _a_system_font() -> str:
    out = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.endswith((".ttf", ".TTF")), out
    return out.stdout


# ---------------------------------------------------------------- 837P


@pytest.fixture
def claims_folder(tmp_path):
    clinic(tmp_path)
    days = [(dt.date(2026, 9, 1) + dt.timedelta(days=i)).isoformat() for i in range(36)]
    write_patient(tmp_path / "patients", "example.yaml", patient("P0001", sessions=[session(d) for d in days]))
    write_patient(tmp_path / "patients", "b.yaml",
                  patient("P0002", "Mia", "Doe", subscriber=subscriber("child"), member_id="SUB777",
                          sessions=[session(d) for d in days[:7]]))
    write_patient(tmp_path / "patients", "c.yaml",
                  patient("P0003", "Ann", "Roe", member_id="ROE1", sessions=[session("2026-11-03")]))
    return tmp_path


def test_streamed_837p_is_the_built_text_across_splits_and_valid(claims_folder, monkeypatch):
    monkeypatch.setattr(x12, "MAX_CLAIMS_PER_ST", 15)
    monkeypatch.setattr(x12, "MAX_CLAIMS_PER_HL", 10)
    loaded = load(claims_folder)
    items = items_of(loaded, *sorted((claims_folder / "patients").glob("*.yaml")))
    envelope = x12.Envelope(4321, CREATED, "T")
    text = x12.build_837p(loaded, items, envelope)
    out = io.BytesIO()
    written = x12.write_837p(loaded, items, envelope, out, chunk_size=100)
    assert out.getvalue() == text.encode("ascii") and written == len(text)
    assert "".join(x12.iter_837p(loaded, items, envelope)) == text

    segs = segments(text)
    tags = [s[0] for s in segs]
    controls = x12.claim_controls(items)
    transactions = len(set(controls.values()))
    assert transactions >= 4 and tags.count("ST") == tags.count("SE") == transactions  # 44 claims, <= 15 each
    assert tags.count("CLM") == 44 and tags.count("HL") > 6
    st = None
    for index, seg in enumerate(segs):
        if seg[0] == "ST":
            st, start = seg[2], index
        if seg[0] == "SE":
            assert seg[2] == st and int(seg[1]) == index - start + 1
    assert segs[-2][:3] == ["GE", str(transactions), "4321"] and segs[-1][2] == "000004321"
    current = None
    for seg in segs:
        if seg[0] == "ST":
            current = seg[2]
        if seg[0] == "CLM":
            assert controls[seg[1]] == current
    assert_valid_x12(text)


def test_export_writes_exactly_the_built_interchange_and_records_its_transactions(claims_folder, monkeypatch):
    monkeypatch.setattr(x12, "MAX_CLAIMS_PER_ST", 20)
    built = x12.build_837p

    def whole_text_in_memory(*args, **kwargs):
        raise AssertionError("the export must stream the interchange, not build it in memory")

    monkeypatch.setattr(x12, "build_837p", whole_text_in_memory)
    loaded = load(claims_folder)
    out = claims_folder / "out"
    report = export_claims([claims_folder / "patients"], loaded,
                           ExportOptions(out_dir=out, jobs=1, today=TODAY, now=CREATED))
    assert report.ok and len(report.exported) == 44
    (path,) = out.glob("*.837")
    items = items_of(loaded, *sorted((claims_folder / "patients").glob("*.yaml")))
    expected = built(loaded, items, x12.Envelope(report.control_number, CREATED, "T"))
    assert path.read_text(encoding="ascii") == expected
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    controls = x12.claim_controls(items)
    with Ledger(claims_folder / "superbill-ledger.sqlite3") as book:
        (run,) = book.runs()
    assert {c["claim_id"]: c["transaction"] for c in run["claims"]} == controls
    assert sorted(set(controls.values())) == ["0001", "0002"]  # 8 claims, then one patient's 36


def test_a_failure_half_way_through_the_stream_leaves_no_file_and_no_export(claims_folder, monkeypatch):
    loaded = load(claims_folder)
    out = claims_folder / "out"
    real = x12._claim_segments
    calls = {"writer": 0}

    def failing(claim, billing_npi, book, *controls):
        if billing_npi is not None:  # the writer (the checks before it pass None)
            calls["writer"] += 1
            if calls["writer"] == 30:
                raise x12.X12DataError("sessions[29]", "cannot be carried (test)")
        return real(claim, billing_npi, book, *controls)

    monkeypatch.setattr(x12, "_claim_segments", failing)
    report = export_claims([claims_folder / "patients"], loaded, ExportOptions(out_dir=out, jobs=1, today=TODAY))
    assert [p.line() for p in report.fatal] == [": sessions[29]: error: cannot be carried (test)"]
    assert report.exported == [] and os.listdir(out) == []
    with Ledger(claims_folder / "superbill-ledger.sqlite3") as book:
        (run,) = book.runs()
    assert run["status"] == "failed" and {c["status"] for c in run["claims"]} == {"void"}
    monkeypatch.setattr(x12, "_claim_segments", real)
    again = export_claims([claims_folder / "patients"], loaded, ExportOptions(out_dir=out, jobs=1, today=TODAY))
    assert len(again.exported) == 44 and os.listdir(out) == [f"claims-{again.control_number:09d}.837"]


# ---------------------------------------------------------------- start-up


def test_importing_the_cli_loads_no_heavy_module():
    code = ("import sys, superbill.cli, superbill.documents.pdfbatch; "
            "print(sorted(m for m in ('weasyprint', 'pydantic', 'fontTools', 'pypdf', 'superbill.inputs.models') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
