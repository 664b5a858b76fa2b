"""CMS-1500 (02/12) claim forms as one PDF: every claim's form pages, six service lines a page.

`cms1500_pdf(items, loaded, data_only)` draws the forms (reportlab, no browser engine) and
`write_cms1500(items, loaded, path)` writes them atomically, owner-only. `items` is a list of
`(patient_file, claim)` pairs, printed in that order. `data_only=True` prints only the data, for
pre-printed red forms; by default the red form is drawn too (a plain-paper facsimile, with a note
beneath it). `claim_problems` lists the warnings of a claim's form (a value cut at its box).

Where each item prints is one data table, `templates/cms1500-grid.yaml` (line and column on the
form's 10-characters-per-inch, 6-lines-per-inch grid, whose line 7 is the top thick rule 1.33 in
from the top edge); a clinic moves an item by giving that row in its templates folder's copy, and
moves everything for its printer with `cms1500: offset:` in clinic.yaml.

Form rules (NUCC 1500 instructions; docs/reference.md "Outputs"):

* at most six service lines a page; `cms1500: multipage: per-page` (the default) totals each page
  on its own: item 28 is the sum of that page's 24F charges and item 29 the part of the claim's
  paid amount allocated to that page (see `_allocate`); `continued` prints CONTINUED in item 28 of
  every page but the last, which carries the claim's total charge and amount paid;
* 10-pitch capitals in 12 pt Courier; a value longer than its box is cut at the box (a warning names
  the item), never shrunk;
* the carrier block: the payer's name, claims address and city/state/ZIP;
* Medicare primary (filing indicator MA, MB): item 11 NONE; items 4, 6, 7, 11a-11d blank (Novitas,
  CGS: they are completed only when another plan is primary to Medicare);
* item 21: ICD indicator 0 and up to 12 diagnoses A-L without the (implied) decimal point;
* 24E pointer letters without commas, 24A dates MM DD YY, 24F/28/29 amounts in the form's
  dollars | cents columns without $ or commas, 24G units, 24J the rendering NPI;
* the shaded supplemental line of 24 holds the NDC: ``N4`` + 11 digits + 3 spaces + unit + quantity;
* item 19 carries the drug name, strength and dose of unclassified drug codes (J3490) on the page;
* items 12 SIGNATURE ON FILE (no date); 13 SIGNATURE ON FILE and 27 YES when the claim is assigned
  (Medicare), else 13 blank and 27 NO (the patient keeps the benefits: docs/reference.md "Outputs");
* item 22: resubmission code 7 (replacement) or 8 (void) with the payer's original claim number;
* items 23 and 26 without hyphens or spaces; 26 is the claim id (the 837P's CLM01 without its hyphen);
* item 31 the rendering provider with credentials, SIGNATURE ON FILE and the date the form was made;
  32/32a the practice; 33/33a the billing provider: the practitioner by name when solo;
* items 10a-c and 11d NO, item 20 NO; items 9, 14-18 stay blank.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from superbill.documents.cms1500_layout import Box, Grid, LayoutProblem, load_form, load_grid
from superbill.documents.cms1500_text import (
    address_lines,
    amount_text,
    ascii_upper,
    carrier_lines,
    compact_number,
    date6,
    date8,
    diagnosis_code,
    org_text,
    person_name,
    signer_name,
    supplemental_text,
)
from superbill.engine.claims import CENT
from superbill.engine.parties import solo_provider
from superbill.problems import WARNING, Problem

__all__ = ["LINES_PER_PAGE", "claim_pages", "claim_problems", "cms1500_pdf", "diagnosis_code", "person_name",
           "supplemental_text", "write_cms1500"]

LINES_PER_PAGE = 6
LETTERS = "ABCDEFGHIJKL"
MEDICARE = {"MA", "MB"}
CPT_NOTICE = "CPT\u00ae is a registered trademark of the American Medical Association."

# Item 1 boxes by claim filing indicator (SBR09). Commercial plans (CI, BL, HM, PPO/POS/EPO,
# indemnity, FEP) are a group health plan; programs without a box of their own are Other.
_COVERAGE = {
    "MA": "medicare", "MB": "medicare", "16": "medicare",
    "MC": "medicaid",
    "CH": "tricare",
    "VA": "champva",
    "CI": "group", "BL": "group", "HM": "group", "12": "group", "13": "group", "14": "group",
    "15": "group", "FI": "group",
}
_RELATIONSHIP = {"spouse": "spouse", "child": "child", "other": "other"}


# ---------------------------------------------------------------- the items


def _sex_boxes(prefix: str, sex: str) -> dict:
    return {f"{prefix}_male": "X"} if sex == "M" else {f"{prefix}_female": "X"} if sex == "F" else {}


def _insured_items(patient_file) -> dict:
    """Items 4, 6, 7, 11, 11a, 11c and 11d for a plan that is primary (not Medicare)."""
    patient, insurance = patient_file.patient, patient_file.insurance
    subscriber = insurance.subscriber
    if subscriber is None:
        name = person_name(patient.last_name, patient.first_name, patient.middle_name, patient.suffix)
        address, dob, sex, relationship = address_lines(patient.address, patient.phone), patient.dob, patient.sex, "self"
    else:
        name = person_name(subscriber.last_name, subscriber.first_name, subscriber.middle_name)
        address, dob, sex = address_lines(subscriber.address), subscriber.dob, subscriber.sex
        relationship = _RELATIONSHIP.get(subscriber.relationship, "other")
    values = {
        "item4": name, f"item6_{relationship}": "X",
        "item7_street": address["street"], "item7_city": address["city"], "item7_state": address["state"],
        "item7_zip": address["zip"], "item7_area_code": address["area_code"], "item7_phone": address["phone"],
        "item11": ascii_upper(insurance.group_number), "item11a_birth_date": date8(dob),
        "item11c": org_text(insurance.payer_name), "item11d_no": "X",
    }
    values.update(_sex_boxes("item11a", sex))
    return values


def _provider_items(claim, loaded, today: dt.date) -> dict:
    """Items 25-27 and 31-33: the practice, the rendering provider, the billing provider."""
    practice = loaded.clinic.practice
    address = address_lines(practice.address, practice.phone)
    solo = solo_provider(loaded.clinic)
    billing_name = signer_name(solo) if solo is not None else org_text(practice.name)
    values = {
        "item25": re.sub(r"\D", "", practice.tax_id), "item25_ein": "X",
        "item26": compact_number(claim.claim_id),
        "item27_yes" if claim.assigned else "item27_no": "X",
        "item31_signature": "SIGNATURE ON FILE", "item31_date": date6(today),
        "item32_name": org_text(practice.name), "item32_street": address["street"],
        "item32_city": address["city_line"], "item32a": practice.npi,
        "item33_area_code": address["area_code"], "item33_phone": address["phone"],
        "item33_name": billing_name, "item33_street": address["street"], "item33_city": address["city_line"],
        "item33a": practice.npi,
    }
    if claim.provider is not None:
        values["item31_name"] = signer_name(claim.provider)
    return values


def _claim_items(patient_file, claim, loaded, today: dt.date) -> dict:
    """Every item that is the same on each page of a claim, by grid row name."""
    patient, insurance = patient_file.patient, patient_file.insurance
    filing = claim.filing_indicator or insurance.filing_indicator
    patient_address = address_lines(patient.address, patient.phone)
    values = {f"carrier_{n}": text for n, text in enumerate(carrier_lines(insurance.payer_name,
                                                                           insurance.payer_address), start=1)}
    values.update({
        f"item1_{_COVERAGE.get(filing, 'other')}": "X",
        "item1a": ascii_upper(insurance.member_id),
        "item2": person_name(patient.last_name, patient.first_name, patient.middle_name, patient.suffix),
        "item3_birth_date": date8(patient.dob),
        "item5_street": patient_address["street"], "item5_city": patient_address["city"],
        "item5_state": patient_address["state"], "item5_zip": patient_address["zip"],
        "item5_area_code": patient_address["area_code"], "item5_phone": patient_address["phone"],
        "item10a_no": "X", "item10b_no": "X", "item10c_no": "X",
        "item12": "SIGNATURE ON FILE",
        "item20_no": "X",
        "item21_icd_indicator": "0",
        "item23": compact_number(claim.prior_authorization),
    })
    values.update(_sex_boxes("item3", patient.sex))
    if filing in MEDICARE:
        values["item11"] = "NONE"  # nothing primary to Medicare: 4, 6, 7 and 11a-11d stay blank
    else:
        values.update(_insured_items(patient_file))
    if claim.assigned:
        values["item13"] = "SIGNATURE ON FILE"
    for letter, code in zip(LETTERS, claim.diagnoses[:12], strict=False):
        values[f"item21_{letter}"] = diagnosis_code(code)
    if claim.frequency_code in ("7", "8"):
        values["item22_code"] = claim.frequency_code
        values["item22_original_ref"] = compact_number(claim.payer_claim_number)
    values.update(_provider_items(claim, loaded, today))
    return values


def _line_items(n: int, line, claim) -> dict:
    """Item 24's rows for service line n (1-6) of a page: `name#n`."""
    values = {
        "item24_supplemental": supplemental_text(line),
        "item24a_from": date6(claim.date_of_service), "item24a_to": date6(claim.date_of_service),
        "item24b": claim.place_of_service,
        "item24d_code": line.code,
        "item24e": "".join(LETTERS[p - 1] for p in line.pointers[:4] if 1 <= p <= 12),
        "item24f": line.charge if line.charge is not None else Decimal("0.00"),
        "item24g": str(line.units),
        "item24j": claim.provider.npi if claim.provider is not None else "",
    }
    for i, modifier in enumerate(list(line.modifiers)[:4], start=1):
        values[f"item24d_modifier_{i}"] = modifier
    return {f"{name}#{n}": value for name, value in values.items()}


def _noc_text(lines) -> str:
    """Item 19: drug name, strength and dose of each unclassified drug line of the page."""
    noc = [(n, line) for n, line in enumerate(lines, start=1) if line.unclassified and line.description]
    if not noc:
        return ""
    if len(noc) == 1:
        return ascii_upper(noc[0][1].description)
    return "; ".join(f"{n} {ascii_upper(line.description)}" for n, line in noc)


# ---------------------------------------------------------------- pages


def _chunks(lines, size: int = LINES_PER_PAGE) -> list[tuple]:
    return [tuple(lines[i:i + size]) for i in range(0, len(lines), size)] or [()]


def _allocate(paid: Decimal, page_totals: list[Decimal]) -> list[Decimal]:
    """The claim's paid amount spread over its pages so that each page stands alone.

    Pages are filled in order, each up to its own total charge (a page never shows more paid than
    it charges), and what remains after the last page (an overpayment) is put on the last page.
    The page amounts always add up to the claim's amount paid; a one-page claim shows it whole.
    """
    remaining = paid
    shares = []
    for total in page_totals:
        share = min(remaining, total)
        shares.append(share)
        remaining -= share
    if remaining > 0 and shares:
        shares[-1] += remaining
    return shares


def _totals(chunks, claim, multipage: str) -> list[dict]:
    """Items 28 and 29 of each page: per page (each stands alone) or CONTINUED, totals on the last."""
    totals = [sum((line.charge or Decimal("0.00") for line in chunk), Decimal("0.00")).quantize(CENT)
              for chunk in chunks]
    if multipage == "continued":
        last = {"item28": sum(totals, Decimal("0.00")), "item29": claim.amount_paid}
        return [{"item28_continued": "CONTINUED"} for _ in chunks[:-1]] + [last]
    return [{"item28": total, "item29": paid} for total, paid in zip(totals, _allocate(claim.amount_paid, totals), strict=True)]


def claim_pages(patient_file, claim, loaded, *, today: dt.date | None = None) -> list[dict]:
    """The form pages of one claim: `claim_id`, `page`, `pages` and `values` {grid row: text or amount}."""
    today = today or dt.date.today()
    common = _claim_items(patient_file, claim, loaded, today)
    chunks = _chunks(list(claim.lines))
    settings = getattr(loaded.clinic, "cms1500", None)
    totals = _totals(chunks, claim, getattr(settings, "multipage", "per-page"))
    pages = []
    for number, (chunk, page_totals) in enumerate(zip(chunks, totals, strict=True), start=1):
        values = dict(common)
        for n, line in enumerate(chunk, start=1):
            values.update(_line_items(n, line, claim))
        values["item19"] = _noc_text(chunk)
        values.update(page_totals)
        pages.append({"claim_id": claim.claim_id, "page": number, "pages": len(chunks), "values": values})
    return pages


def _fit(values: dict, grid: Grid) -> tuple[list[tuple[Box, str]], list[tuple[str, int, int]]]:
    """Each value in its box as printed, in capitals; what was too long is cut at the box (reported)."""
    printed, cut = [], []
    for name, value in values.items():
        if value is None or value == "":
            continue
        box = grid.box(name)
        text = amount_text(value, box.width) if box.amount else str(value).upper()
        if len(text) > box.width:
            cut.append((name, len(text.strip()), box.width))
            text = text[-box.width:] if box.amount else text[:box.width]
        printed.append((box, text))
    return printed, cut


# ---------------------------------------------------------------- warnings


def _item_label(name: str) -> str:
    """'item24f#2' -> 'item 24F (service line 2)'; 'item5_city' -> 'item 5 (city)'."""
    base, _, line = name.partition("#")
    match = re.fullmatch(r"item(\d+)([a-z]?)(?:_(.+))?", base)
    if not match:
        return f"carrier block (line {base.rsplit('_', 1)[-1]})" if base.startswith("carrier") else base
    number, letter, part = match.groups()
    label = f"item {number}{letter.upper() if number == '24' else letter}"
    details = [part.replace("_", " ")] if part else []
    if line:
        details.append(f"service line {line}")
    return f"{label} ({', '.join(details)})" if details else label


def claim_problems(patient_file, claim, loaded, file: str = "", *, today: dt.date | None = None) -> list[Problem]:
    """The warnings a claim's CMS-1500 prints with: each value cut at its box, once per item."""
    try:
        grid = load_grid(_templates_dir(loaded))
    except LayoutProblem:
        return []  # the clinic's grid file itself is the problem: the rendering reports it
    found: dict[str, tuple[int, int]] = {}
    for page in claim_pages(patient_file, claim, loaded, today=today):
        for name, length, width in _fit(page["values"], grid)[1]:
            found.setdefault(name, (length, width))
    return [Problem(file, "", WARNING, f"claim {claim.claim_id}: CMS-1500 {_item_label(name)} holds {width} "
                                       f"characters; the value has {length} and is cut at the box")
            for name, (length, width) in found.items()]


# ---------------------------------------------------------------- rendering


def _templates_dir(loaded) -> Path | None:
    relative = getattr(loaded.clinic, "templates", None)
    folder = loaded.resolve(relative) if relative else None
    return Path(folder) if folder is not None and Path(folder).is_dir() else None


def cms1500_pdf(items, loaded, data_only: bool = False, *, today: dt.date | None = None) -> bytes:
    """Every claim's form pages, in the order of `items` ((patient_file, claim) pairs), as PDF bytes."""
    from superbill.documents.cms1500_draw import render_pages

    items = list(items)
    if not items:
        raise ValueError("no claims to put on a CMS-1500")
    user_dir = _templates_dir(loaded)
    grid = load_grid(user_dir)
    pages = []
    for patient_file, claim in items:
        for page in claim_pages(patient_file, claim, loaded, today=today):
            footer = None
            if not data_only:  # nothing outside the boxes on a pre-printed form
                footer = (f"Claim {page['claim_id']} \u00b7 form {page['page']} of {page['pages']} \u00b7 "
                          "plain-paper facsimile of form CMS-1500 (02/12)", CPT_NOTICE)
            pages.append({"values": _fit(page["values"], grid)[0], "footer": footer})
    settings = getattr(loaded.clinic, "cms1500", None)
    offset = (settings.offset.left, settings.offset.top) if settings is not None else (0.0, 0.0)
    return render_pages(pages, grid, None if data_only else load_form(user_dir), offset)


def write_cms1500(items, loaded, out_path, data_only: bool = False, *, today: dt.date | None = None) -> Path:
    """Render the forms and write the PDF atomically, readable by the owner only."""
    from superbill.outfiles import write_atomic

    return write_atomic(Path(out_path), cms1500_pdf(items, loaded, data_only, today=today))
