"""Issue 16 through the real CLI: --resubmit, --resubmit-claim, --replace and --void on a three-patient export."""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pytest
from cms1500kit import cell
from exportkit import clinic, patient, session, write_patient
from helpers import edit_yaml, run, summary, without_edition_note
from helpers import stderr_lines as all_stderr_lines
from x12check import assert_valid_x12, segments

ALL = ["P0002-20261102", "P0003-20261102", "P0001-20261102"]  # in file order: b.yaml, c.yaml, example.yaml
ALREADY = "skipped 2 claim(s) already exported (superbill ledger list shows when)"


def stderr_lines(result) -> list[str]:
    """stderr without the FY2027 ICD-10-CM edition note (the sessions are in November 2026)."""
    return without_edition_note(all_stderr_lines(result))


def export(folder: Path, *args):
    return run("export", folder / "patients", "-o", folder / "out", "--jobs", "1", *args,
               clinic=folder / "clinic.yaml")


@pytest.fixture
def practice(tmp_path):
    """The starter patient (P0001), P0002 with a prior authorization and P0003: exported once, 837P and CMS-1500."""
    clinic(tmp_path)
    write_patient(tmp_path / "patients", "b.yaml", patient("P0002", "Ann", "Lee", member_id="M2",
                                                           sessions=[session(prior_auth="PA9")]))
    write_patient(tmp_path / "patients", "c.yaml", patient("P0003", "Bo", "Kim", member_id="M3"))
    first = export(tmp_path, "--format", "837p,cms1500")
    assert first.exit_code == 0, first.output
    assert summary(first)[-1] == "exported 3 claim(s) in run 1 (interchange 000000001)"
    return tmp_path


def pay(folder: Path, name: str, amount: float) -> None:
    edit_yaml(folder / "patients" / name, lambda d: d["sessions"][0]["payments"][0].__setitem__("amount", amount))


def claim_segments(path: Path, claim_id: str) -> list[list[str]]:
    """The 2300 loop of one claim, from its CLM to the next claim, subscriber or SE."""
    out: list[list[str]] = []
    for seg in segments(path.read_text()):
        if out and seg[0] in ("CLM", "HL", "SE"):
            break
        if out or (seg[0] == "CLM" and seg[1] == claim_id):
            out.append(seg)
    assert out, f"{claim_id} not in {path.name}"
    return out


def claim_ids(path: Path) -> list[str]:
    return [s[1] for s in segments(path.read_text()) if s[0] == "CLM"]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "out").iterdir())


def item22(pdf_path: Path) -> tuple[str, str]:
    with pdfplumber.open(pdf_path) as pdf:
        page = pdf.pages[0]
        return cell(page, 38, 50, 10), cell(page, 38, 62, 18)


def ledger_claims(folder: Path) -> list[dict]:
    listing = run("ledger", "list", "--json", clinic=folder / "clinic.yaml")
    return [dict(c, run=r["run_id"]) for r in json.loads(listing.stdout)["runs"] for c in r["claims"]]


# ---------------------------------------------------------------- --resubmit and --resubmit-claim


def test_resubmit_sends_the_one_changed_claim_alone(practice):
    pay(practice, "c.yaml", 700.00)
    result = export(practice, "--resubmit")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == []
    out = practice / "out"
    assert summary(result) == [
        f"wrote {out / 'claims-000000002.837'}",
        "resubmitted P0003-20261102 as a new original",
        "exported 1 claim(s) in run 2 (interchange 000000002), 1 of them resubmitted",
        ALREADY,
    ]
    path = out / "claims-000000002.837"
    assert_valid_x12(path)
    assert claim_ids(path) == ["P0003-20261102"]
    loop = claim_segments(path, "P0003-20261102")
    assert loop[0][5] == "11:B:1" and ["AMT", "F5", "700.00"] in loop
    assert not [s for s in loop if s[:2] == ["REF", "F8"]]
    again = export(practice, "--resubmit")
    assert summary(again) == ["exported 0 claims",
                                         "skipped 3 claim(s) already exported (superbill ledger list shows when)"]


def test_resubmit_claim_sends_only_the_named_claim_changed_or_not(practice):
    pay(practice, "c.yaml", 700.00)  # P0003 changed, not named: reported, not sent
    result = export(practice, "--resubmit-claim", "P0001-20261102")
    assert result.exit_code == 0, result.output
    (warning,) = stderr_lines(result)
    assert warning.startswith("P0003-20261102: warning: changed since it was exported in run 1")
    assert summary(result)[1:3] == [
        "resubmitted P0001-20261102 as a new original",
        "exported 1 claim(s) in run 2 (interchange 000000002), 1 of them resubmitted",
    ]
    assert files_in(practice) == ["claims-000000001.837", "claims-000000002.837", "cms1500-000000001.pdf"]
    path = practice / "out" / "claims-000000002.837"
    assert_valid_x12(path)
    assert claim_ids(path) == ["P0001-20261102"]


def test_a_named_claim_not_in_the_inputs_exports_nothing(practice):
    before = files_in(practice)
    result = export(practice, "--resubmit-claim", "P0009-20261102")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["P0009-20261102: error: --resubmit-claim: no such claim in the inputs (check the "
                                    "claim id, the files given and --from/--to); nothing exported"]
    assert summary(result) == ["nothing exported"]
    assert files_in(practice) == before


# ---------------------------------------------------------------- --replace


def test_replace_sends_frequency_7_with_the_payer_claim_number_and_every_line(practice):
    out = practice / "out"
    original = claim_segments(out / "claims-000000001.837", "P0002-20261102")
    pay(practice, "b.yaml", 600.00)
    result = export(practice, "--format", "837p,cms1500", "--replace", "P0002-20261102=2026PCN0042")
    assert result.exit_code == 0, result.output
    assert stderr_lines(result) == []
    assert summary(result) == [
        f"wrote {out / 'claims-000000002.837'}",
        f"wrote {out / 'cms1500-000000002.pdf'}",
        "sent replacement of P0002-20261102 (payer claim 2026PCN0042)",
        "exported 1 claim(s) in run 2 (interchange 000000002), 1 replacement(s)",
        ALREADY,
    ]
    path = out / "claims-000000002.837"
    assert_valid_x12(path)
    assert claim_ids(path) == ["P0002-20261102"]
    loop = claim_segments(path, "P0002-20261102")
    assert loop[0][5] == "11:B:7"
    # the 2300 order of the implementation guide: AMT*F5, REF*G1 (prior authorization), REF*F8, then HI
    assert [s[:2] for s in loop[1:4]] == [["AMT", "F5"], ["REF", "G1"], ["REF", "F8"]] and loop[4][0] == "HI"
    assert loop[1][2] == "600.00" and loop[3] == ["REF", "F8", "2026PCN0042"]
    lines = [s for s in loop if s[0] in ("LX", "SV1", "DTP", "LIN", "CTP")]
    assert lines == [s for s in original if s[0] in ("LX", "SV1", "DTP", "LIN", "CTP")] and len(lines) >= 12
    # CMS-1500 item 22: resubmission code 7 and the original reference number
    assert item22(out / "cms1500-000000002.pdf") == ("7", "2026PCN0042")
    (sent,) = [c for c in ledger_claims(practice) if c["run"] == 2]
    assert (sent["claim_id"], sent["frequency_code"], sent["payer_claim_number"], sent["status"]) == \
        ("P0002-20261102", "7", "2026PCN0042", "sent")
    listing = run("ledger", "list", clinic=practice / "clinic.yaml").stdout.splitlines()
    assert listing[-1].startswith("    P0002-20261102  2026-11-02  ")
    assert listing[-1].endswith("  837p,cms1500  ISA13 000000002 GS06 2 ST02 0001  replacement of payer claim 2026PCN0042")


def test_a_second_identical_replace_says_it_was_already_sent(practice):
    pay(practice, "b.yaml", 600.00)
    args = ("--format", "837p,cms1500", "--replace", "P0002-20261102=2026PCN0042")
    assert export(practice, *args).exit_code == 0
    before = files_in(practice)
    again = export(practice, *args)
    assert again.exit_code == 0
    assert summary(again) == [
        "exported 0 claims",
        "skipped 1 replacement(s) or void(s) already sent (not sent twice)",
        ALREADY,
    ]
    (warning,) = stderr_lines(again)
    assert warning.startswith("P0002-20261102: warning: this replacement (payer claim 2026PCN0042) was already "
                              "sent in run 2 (interchange 000000002, ")
    assert warning.endswith("); not sent again")
    assert files_in(practice) == before
    assert [c["run"] for c in ledger_claims(practice)] == [1, 1, 1, 2]
    # a plain export afterwards: the replaced content is what the payer has
    assert summary(export(practice))[-1] == \
        "skipped 3 claim(s) already exported (superbill ledger list shows when)"


def test_replacing_a_claim_never_exported_is_refused_and_nothing_is_sent(practice):
    write_patient(practice / "patients", "d.yaml", patient("P0004", "Cy", "Diaz", member_id="M4"))
    before = files_in(practice)
    result = export(practice, "--replace", "P0004-20261102=123")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["P0004-20261102: error: --replace: was never exported: nothing to replace "
                                    "(export it first; a replacement corrects a claim the payer has); nothing exported"]
    assert summary(result) == ["nothing exported"]
    assert files_in(practice) == before
    assert [c["run"] for c in ledger_claims(practice)] == [1, 1, 1]


# ---------------------------------------------------------------- --void


def test_void_sends_frequency_8_with_the_original_lines(practice):
    out = practice / "out"
    original = claim_segments(out / "claims-000000001.837", "P0003-20261102")
    result = export(practice, "--format", "837p,cms1500", "--void", "P0003-20261102=PCN-77/1")
    assert result.exit_code == 0, result.output
    assert summary(result)[2:4] == ["sent void of P0003-20261102 (payer claim PCN-77/1)",
                                               "exported 1 claim(s) in run 2 (interchange 000000002), 1 void(s)"]
    path = out / "claims-000000002.837"
    assert_valid_x12(path)
    loop = claim_segments(path, "P0003-20261102")
    assert loop[0][5] == "11:B:8" and ["REF", "F8", "PCN-77/1"] in loop
    # the original's lines, each with a line item control number of this interchange (REF*6R)
    def kept(segs):
        return [s for s in segs if s[:2] not in (["REF", "F8"], ["REF", "6R"])]

    assert kept(loop) == [original[0][:5] + ["11:B:8"] + original[0][6:]] + kept(original[1:])
    lines = sum(s[0] == "LX" for s in loop)
    assert [s[2].split("-")[0] for s in loop if s[:2] == ["REF", "6R"]] == ["000000002"] * lines
    # item 22 as the CMS-1500 writer prints reference numbers: without hyphens or spaces
    assert item22(out / "cms1500-000000002.pdf") == ("8", "PCN77/1")
    listing = run("ledger", "list", clinic=practice / "clinic.yaml").stdout.splitlines()
    assert listing[-1].endswith("  void of payer claim PCN-77/1")


def test_voiding_a_claim_changed_since_it_was_sent_is_refused(practice):
    pay(practice, "c.yaml", 700.00)
    before = files_in(practice)
    result = export(practice, "--void", "P0003-20261102=PCN77")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["P0003-20261102: error: --void: changed since it was exported in run 1: a void "
                                    "carries the claim as it was sent (undo the change, or send --replace with the "
                                    "corrected claim); nothing exported"]
    assert files_in(practice) == before


@pytest.mark.parametrize("args, message", [
    (["--replace", "P0001-20261102"], "give ID=PAYER_CLAIM_NUMBER"),
    (["--void", "P0001-20261102=A*B"], "the payer's claim number is 1 to 50 letters, digits"),
    (["--replace", "P0001-20261102=1", "--void", "P0001-20261102=1"], "given to both --replace and --void"),
    (["--format", "csv", "--replace", "P0001-20261102=1"], "add 837p or cms1500 to --format"),
])
def test_usage_errors_exit_2_before_anything_is_read(practice, args, message):
    result = export(practice, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert files_in(practice) == ["claims-000000001.837", "cms1500-000000001.pdf"]


def test_json_summary_names_the_replacements_and_voids(practice):
    pay(practice, "b.yaml", 600.00)
    result = export(practice, "--json", "--replace", "P0002-20261102=PCN1", "--void", "P0003-20261102=PCN2")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["exported"], data["resubmitted"], data["already_sent"]) == (["P0002-20261102", "P0003-20261102"], [], [])
    assert data["replaced"] == [{"claim_id": "P0002-20261102", "payer_claim_number": "PCN1"}]
    assert data["voided"] == [{"claim_id": "P0003-20261102", "payer_claim_number": "PCN2"}]
    again = json.loads(export(practice, "--json", "--replace", "P0002-20261102=PCN1").stdout)
    assert (again["exported"], again["already_sent"]) == ([], ["P0002-20261102"])
