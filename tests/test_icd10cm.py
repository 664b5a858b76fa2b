"""The shipped ICD-10-CM index: agrees with simple_icd_10_cm, finds Excludes1 pairs, searches, loads fast.

simple_icd_10_cm is a test/build dependency only; it is imported inside the tests that need it.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from superbill.paths import CODES_DIR
from superbill.tables import icd10cm_index as ix

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture(scope="module")
def cm():
    return pytest.importorskip("simple_icd_10_cm")


def _rows(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    return header, rows


def _build_module():
    spec = importlib.util.spec_from_file_location("build_icd10cm_index", SCRIPTS / "build_icd10cm_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the data files --------------------------------------------------------------------------------


def test_index_file_header_and_shape():
    header, rows = _rows(CODES_DIR / "icd10cm-2026.tsv")
    text = "\n".join(header)
    assert "FY2026 (April 1, 2026 update)" in text
    assert "source:" in text and "icd10c-tabular-April-1-2026.xml" in text
    assert "generator: scripts/build_icd10cm_index.py" in text
    assert all(len(r) == 3 and r[1] in ("B", "N") and r[2] for r in rows)
    codes = [r[0] for r in rows]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert all("." not in c and 3 <= len(c) <= 7 for c in codes)
    assert not any("-" in c for c in codes)  # no blocks
    assert len(rows) > 90_000


def test_index_agrees_with_simple_icd_10_cm(cm):
    _, rows = _rows(CODES_DIR / "icd10cm-2026.tsv")
    shipped = {code: (flag == "B", title) for code, flag, title in rows}
    expected = {}
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_category_or_subcategory(code):
            title = " ".join(cm.get_description(code).split())  # a few titles hold tabs
            expected[code.replace(".", "")] = (cm.is_leaf(code), title)
    assert shipped.keys() == expected.keys()
    mismatched = [c for c in expected if shipped[c] != expected[c]]
    assert mismatched == []


def test_children_agree_with_simple_icd_10_cm(cm):
    _, rows = _rows(CODES_DIR / "icd10cm-2026.tsv")
    headers = [ix.dotted(code) for code, flag, _ in rows if flag == "N"]
    wrong = [h for h in headers if ix.children(h) != sorted(cm.get_children(h))]
    assert wrong == []
    assert len(headers) > 20_000


def test_excludes1_rows_come_from_the_tabular(cm):
    header, rows = _rows(CODES_DIR / "icd10cm-2026-excludes1.tsv")
    assert "FY2026 (April 1, 2026 update)" in "\n".join(header)
    assert all(len(r) == 3 for r in rows)
    for node, _target, note in rows:
        if "-" not in node:
            assert note in [" ".join(n.split()) for n in cm.get_excludes1(ix.dotted(node))]
    assert ["G892", "G564", "causalgia, upper limb (G56.4-)"] in rows
    assert ["F32", "F33", "recurrent depressive disorder (F33.-)"] in rows
    assert ["G892", "G894", "chronic pain syndrome (G89.4)"] in rows


def test_shipped_files_are_what_the_generator_writes(tmp_path):
    build = _build_module()
    assert build.main(["--out", str(tmp_path)]) == 0
    for name in ("icd10cm-2026.tsv", "icd10cm-2026-excludes1.tsv"):
        assert (tmp_path / name).read_bytes() == (CODES_DIR / name).read_bytes(), name


@pytest.mark.parametrize(
    "group, targets",
    [
        ("G89.0", ["G890"]),
        ("G56.4-", ["G564"]),
        ("F33.-", ["F33"]),
        ("F30-F39", ["F30-F39"]),
        ("G56.4-, G57.7-", ["G564", "G577"]),
        ("R07.1-R07.9", ["R071-R079"]),
        ("P28.3- - P28.4-", ["P283-P284"]),
        ("D29.2.-", ["D292"]),
        ("K50.014, K50.114,", ["K50014", "K50114"]),
        ("E08-E13 with .42", ["E0842", "E0942", "E1042", "E1142", "E1342"]),
        ("E08-E13 with .51-.52", ["E0851", "E0852", "E0951", "E0952", "E1051", "E1052", "E1151", "E1152",
                                  "E1351", "E1352"]),
        ("NOS", []),
        ("J65, any type", ["J65"]),
        ("B27.- with fifth character 2", None),
        ("S06.0X- with seventh character A", None),
    ],
)
def test_excludes1_parenthesis_parsing(group, targets):
    build = _build_module()
    categories = ["E08", "E09", "E10", "E11", "E13", "E15"]
    assert build.parse_group(group, categories) == targets


# --- look-up ---------------------------------------------------------------------------------------


def test_lookup():
    assert ix.lookup("g90511") == ix.Entry("G90.511", True, "Complex regional pain syndrome I of right upper limb")
    assert ix.lookup("G90.51") == ix.Entry("G90.51", False, "Complex regional pain syndrome I of upper limb")
    assert ix.lookup("M79.7").billable is True
    assert ix.lookup("M79.70") is None
    assert ix.lookup("G50-G59") is None  # blocks are not codes
    assert ix.is_billable("R52") and not ix.is_billable("G89")


def test_children():
    assert ix.children("G90.51") == ["G90.511", "G90.512", "G90.513", "G90.519"]
    assert ix.children("g905") == ["G90.50", "G90.51", "G90.52", "G90.59"]
    assert ix.children("T36.0") == ["T36.0X"]  # placeholder level
    assert ix.children("T36.0X1") == ["T36.0X1A", "T36.0X1D", "T36.0X1S"]
    assert ix.children("M79.7") == []
    assert ix.children("Z99.999") == []


def test_entry_is_frozen():
    entry = ix.lookup("R52")
    with pytest.raises(AttributeError):
        entry.code = "R53"


# --- Excludes1 -------------------------------------------------------------------------------------


def test_excludes1_single_vs_recurrent_depression():
    assert ix.excludes1_conflicts(["F32.1", "F33.1"]) == [("F32.1", "F33.1", "recurrent depressive disorder (F33.-)")]
    # the code whose note forbids the pair comes first, whatever the input order
    assert ix.excludes1_conflicts(["F33.1", "F32.1"]) == [("F32.1", "F33.1", "recurrent depressive disorder (F33.-)")]


def test_excludes1_chronic_pain_vs_crps_ii():
    [(a, b, note)] = ix.excludes1_conflicts(["G89.29", "G56.41"])
    assert (a, b) == ("G89.29", "G56.41")
    assert "(G56.4-)" in note


def test_excludes1_chronic_pain_vs_chronic_pain_syndrome():
    assert ix.excludes1_conflicts(["g8929", "G89.4"]) == [("G89.29", "G89.4", "chronic pain syndrome (G89.4)")]


@pytest.mark.parametrize("pair", [["G90.511", "F33.1"], ["M79.7", "G43.709"], ["G89.29", "F33.1"],
                                  ["G90.511", "G90.512"], ["F33.1", "F33.1"]])
def test_excludes1_no_conflict(pair):
    assert ix.excludes1_conflicts(pair) == []


def test_excludes1_block_level_note():
    # the G50-G59 block excludes "neuralgia NOS (M79.2)"
    assert ix.excludes1_conflicts(["G56.41", "M79.2"]) == [("G56.41", "M79.2", "neuralgia NOS (M79.2)")]


def test_excludes1_range_target():
    # R52 Excludes1 "chest pain (R07.1-R07.9)"
    assert ix.excludes1_conflicts(["R52", "R07.89"]) == [("R52", "R07.89", "chest pain (R07.1-R07.9)")]
    assert ix.excludes1_conflicts(["R52", "R07.0"])[0][2] == "throat pain (R07.0)"


def test_excludes1_each_pair_once():
    found = ix.excludes1_conflicts(["G89.29", "G56.41", "G89.4", "F32.1", "F33.1"])
    pairs = [frozenset((a, b)) for a, b, _ in found]
    assert len(pairs) == len(set(pairs))
    assert {frozenset(p) for p in (("G89.29", "G56.41"), ("G89.29", "G89.4"), ("F32.1", "F33.1"))} <= set(pairs)
    assert frozenset(("G56.41", "F33.1")) not in pairs


# --- search ----------------------------------------------------------------------------------------


def test_search_fibromyalgia():
    assert [e.code for e in ix.search("fibromyalgia")] == ["M79.7"]
    assert [e.code for e in ix.search("FIBROMYALGIA")] == ["M79.7"]


def test_search_crps_upper_limb():
    codes = [e.code for e in ix.search("crps upper")]
    assert codes[:4] == ["G90.511", "G90.512", "G90.513", "G90.519"]
    assert "G90.51" in codes  # the header comes after the billable codes
    assert codes.index("G90.51") > 3


def test_search_every_word_must_appear():
    results = ix.search("chronic pain syndrome")
    assert results and all(all(w in e.title.lower() for w in ("chronic", "pain", "syndrome")) for e in results)
    assert "G89.4" in [e.code for e in results]


def test_search_code_prefix_with_or_without_dot():
    with_dot = [e.code for e in ix.search("G90.5")]
    assert with_dot == [e.code for e in ix.search("g905")]
    assert with_dot[:2] == ["G90.50", "G90.511"]
    assert with_dot[-3:] == ["G90.5", "G90.51", "G90.52"]  # non-billable last
    assert [e.code for e in ix.search("F33", limit=3)] == ["F33.0", "F33.1", "F33.2"]


def test_search_limit_and_empty():
    assert len(ix.search("pain", limit=5)) == 5
    assert len(ix.search("pain")) == 25
    assert ix.search("   ") == []
    assert ix.search("zzzzqqq") == []


# --- the curated pain and mood list ----------------------------------------------------------------


def test_pain_mood_codes_are_billable_with_tabular_titles():
    data = yaml.safe_load((CODES_DIR / "icd10cm-pain-mood.yaml").read_text(encoding="utf-8"))
    assert {"source", "edition", "note", "codes"} <= data.keys()
    assert "FY2026" in data["edition"]
    codes = [row["code"] for row in data["codes"]]
    assert len(codes) == len(set(codes))
    for row in data["codes"]:
        entry = ix.lookup(row["code"])
        assert entry is not None and entry.billable, row["code"]
        assert entry.code == row["code"] and entry.title == row["title"], row["code"]
    for code in ("G90.511", "G89.29", "M79.7", "F33.1", "G56.41", "G43.E09", "F32.A", "Z79.891"):
        assert code in codes


# --- loading ---------------------------------------------------------------------------------------

_PROBE = """
import json, sys
from superbill.tables import icd10cm_index as ix
from superbill.ids import icd10cm
imported = ix._load.cache_info().currsize == 0 and ix._load_excludes1.cache_info().currsize == 0
ix.lookup("G90.511")
icd10cm.validate("F33.1"); ix.children("G90.51"); ix.excludes1_conflicts(["F32.1", "F33.1"])
print(json.dumps({"lazy": imported, "simple_icd": any(m.startswith("simple_icd_10_cm") for m in sys.modules)}))
"""


def test_loads_lazily_and_without_simple_icd_10_cm():
    """How long the first look-up takes (the index load): bench/bench_startup.py."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout)
    assert probe["lazy"] is True  # nothing read at import time
    assert probe["simple_icd"] is False  # the runtime never imports the build dependency
