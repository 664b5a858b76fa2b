"""CMS-1500 (02/12) claim forms as one PDF: every claim's form pages, six service lines a page.

`cms1500_html(items, loaded)` fills the form from the claims, `cms1500_pdf` renders it with
WeasyPrint and `write_cms1500(items, loaded, path)` writes it atomically, owner-only. `items` is a
list of `(patient_file, claim)` pairs, printed in that order. `data_only=True` prints only the data,
at the same places, for pre-printed red forms; by default the red form is drawn too (a plain-paper
facsimile). The layout lives in `templates/cms1500.html` + `cms1500.css` on the form's
10-characters-per-inch, 6-lines-per-inch grid; a clinic can override either file (for instance to
shift everything a little for its printer: `.sheet { left: 0.04in; top: -0.03in; }`).

Form rules (domain.md §2 and §10 items 21-24):

* at most six service lines a page; each page stands alone: item 28 is the sum of that page's 24F
  charges and item 29 the part of the claim's paid amount allocated to that page (see `_allocate`);
* item 21: ICD indicator 0 and up to 12 diagnoses A-L, printed without the decimal point (the NUCC
  instructions: the decimal is implied; the same form as HI in the 837P);
* 24E pointer letters without commas, 24A dates MM DD YY, 24F amounts with the cents in their own
  column, no $ and no commas, 24G units, 24J the rendering NPI;
* the shaded supplemental line of 24 holds the NDC: ``N4`` + 11 digits + 3 spaces + unit + quantity;
* item 19 carries the drug name, strength and dose of unclassified drug codes (J3490) on the page;
* the patient keeps the benefits in out-of-network self-pay (domain §10.23): item 13 stays blank and
  item 27 (accept assignment) is NO; item 12 is SIGNATURE ON FILE, without a date;
* item 26 is the claim id, the same patient account number as CLM01 of the 837P; item 31 is the
  rendering provider with credentials, SIGNATURE ON FILE and the date the form was made (`today`);
  items 32/32a are the practice (where the sessions happen) and 33/33a the billing provider;
* items 10a-c and 11d are NO, item 20 (outside lab) NO; items 9, 14-18 and 22 stay blank;
* data is upper-case ASCII (accents transliterated), without periods in names and without
  punctuation in addresses, the way OCR scanners and the NUCC instructions want it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from pathlib import Path

from superbill.engine.claims import CENT, money, quantity_text

LINES_PER_PAGE = 6
LETTERS = "ABCDEFGHIJKL"

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


# ---------------------------------------------------------------- text for the form


def _ascii(text: str | None) -> str:
    """Upper-case ASCII with single spaces: accents transliterated, anything else dropped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return re.sub(r"\s+", " ", text).strip().upper()


def _name_part(text: str | None) -> str:
    return _ascii(text).replace(".", "").replace(",", " ").strip()


def person_name(last: str, first: str, middle: str | None = None, suffix: str | None = None) -> str:
    """NUCC: LAST SUFFIX, FIRST, MIDDLE INITIAL, commas between, no periods."""
    last_part = _name_part(last)
    if suffix:
        last_part = f"{last_part} {_name_part(suffix)}"
    parts = [last_part, _name_part(first)]
    if middle and _name_part(middle):
        parts.append(_name_part(middle)[0])
    return re.sub(r"\s+", " ", ", ".join(parts))


def _address_text(text: str | None) -> str:
    """NUCC: no commas, periods or other symbols in addresses ("123 N MAIN ST 101")."""
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z0-9 /-]", " ", _ascii(text))).strip()


def _org_text(text: str | None) -> str:
    """An organization's name: no periods or commas; "&", "'", "-" and "/" kept ("BLUE CROSS & BLUE SHIELD")."""
    return re.sub(r"\s+", " ", re.sub(r"[^A-Z0-9 &'/-]", " ", _ascii(text))).strip()


def _zip(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else digits


def _street(address) -> str:
    parts = [address.street] + ([address.street2] if address.street2 else [])
    return _address_text(" ".join(parts))


def _address(address, phone: str | None = None) -> dict:
    digits = re.sub(r"\D", "", phone or "")
    return {
        "street": _street(address),
        "city": _address_text(address.city),
        "state": address.state.upper(),
        "zip": _zip(address.zip),
        "phone_area": digits[:3] if len(digits) == 10 else "",
        "phone_number": digits[3:] if len(digits) == 10 else "",
    }


def _date8(value: dt.date) -> dict:
    """MM DD YYYY in the date boxes of items 3 and 11a."""
    return {"mm": f"{value:%m}", "dd": f"{value:%d}", "yy": f"{value:%Y}", "text": f"{value:%m %d %Y}"}


def _date6(value: dt.date) -> dict:
    """MM DD YY in the date boxes of item 24A."""
    return {"mm": f"{value:%m}", "dd": f"{value:%d}", "yy": f"{value:%y}", "text": f"{value:%m %d %y}"}


def _amount(value: Decimal) -> dict:
    """An amount for the split dollars | cents columns: no $, no commas, "00" cents.

    `text` is the dollars right-aligned in five columns, a space where the form's divider is, then
    the cents ("  189 00"); longer amounts are shrunk to fit by the template.
    """
    dollars, cents = money(value).split(".")
    return {"dollars": dollars, "cents": cents, "text": f"{dollars:>5} {cents}"}


def diagnosis_code(code: str) -> str:
    """Item 21 form of a diagnosis: upper-case, without the (implied) decimal point."""
    return code.replace(".", "").replace(" ", "").upper()


def supplemental_text(line) -> str:
    """The shaded line of 24: N4 + 11-digit NDC + 3 spaces + unit qualifier + quantity."""
    if not line.ndc:
        return ""
    ndc = re.sub(r"\D", "", line.ndc)
    quantity = quantity_text(line.ndc_quantity)
    if not quantity or not line.ndc_unit:
        return f"N4{ndc}"
    return f"N4{ndc}   {line.ndc_unit}{quantity}"


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


def _line_fields(line, claim) -> dict:
    modifiers = list(line.modifiers)[:4]
    modifiers += [""] * (4 - len(modifiers))
    service = _date6(claim.date_of_service)
    return {
        "supplemental": supplemental_text(line),
        "date_from": service,
        "date_to": service,
        "place_of_service": claim.place_of_service,
        "emg": "",
        "code": line.code,
        "modifiers": modifiers,
        "pointers": "".join(LETTERS[p - 1] for p in line.pointers[:4] if 1 <= p <= 12),
        "charge": _amount(line.charge if line.charge is not None else Decimal("0.00")),
        "units": str(line.units),
        "epsdt": "",
        "id_qualifier": "",
        "other_id": "",
        "rendering_npi": claim.provider.npi if claim.provider is not None else "",
    }


def _noc_text(lines) -> str:
    """Item 19: drug name, strength and dose of each unclassified drug line of the page."""
    noc = [(n, line) for n, line in enumerate(lines, start=1) if line.unclassified and line.description]
    if not noc:
        return ""
    if len(noc) == 1:
        return _ascii(noc[0][1].description)
    return "; ".join(f"{n} {_ascii(line.description)}" for n, line in noc)


def claim_pages(patient_file, claim, loaded, *, today: dt.date | None = None) -> list[dict]:
    """The form pages of one claim, each a dict of ready-to-print text for the template."""
    today = today or dt.date.today()
    clinic = loaded.clinic
    practice = clinic.practice
    patient = patient_file.patient
    insurance = patient_file.insurance
    subscriber = insurance.subscriber
    provider = claim.provider

    if subscriber is None:
        insured_name = person_name(patient.last_name, patient.first_name, patient.middle_name, patient.suffix)
        insured_address = _address(patient.address, patient.phone)
        insured_dob, insured_sex = patient.dob, patient.sex
        relationship = "self"
    else:
        insured_name = person_name(subscriber.last_name, subscriber.first_name, subscriber.middle_name)
        insured_address = _address(subscriber.address)
        insured_dob, insured_sex = subscriber.dob, subscriber.sex
        relationship = _RELATIONSHIP.get(subscriber.relationship, "other")

    practice_address = _address(practice.address, practice.phone)
    practice_name = _org_text(practice.name)
    city_line = lambda a: f"{a['city']} {a['state']} {a['zip']}".strip()  # noqa: E731
    if provider is not None:
        signer = " ".join(_name_part(p) for p in (provider.first_name, provider.middle_name,
                                                  provider.last_name, provider.credentials) if p)
    else:
        signer = ""

    common = {
        "claim_id": claim.claim_id,
        "payer": [_org_text(insurance.payer_name)],
        "coverage": _COVERAGE.get(claim.filing_indicator or insurance.filing_indicator, "other"),
        "member_id": _ascii(insurance.member_id),
        "patient_name": person_name(patient.last_name, patient.first_name, patient.middle_name, patient.suffix),
        "patient_dob": _date8(patient.dob),
        "patient_sex": patient.sex,
        "insured_name": insured_name,
        "patient_address": _address(patient.address, patient.phone),
        "relationship": relationship,
        "insured_address": insured_address,
        "group_number": _ascii(insurance.group_number),
        "insured_dob": _date8(insured_dob),
        "insured_sex": insured_sex,
        "plan_name": _org_text(insurance.payer_name),
        "other_plan": "NO",
        "employment": "NO",
        "auto_accident": "NO",
        "other_accident": "NO",
        "patient_signature": "SIGNATURE ON FILE",
        "insured_signature": "",  # the patient keeps the benefits (domain §10.23)
        "outside_lab": "NO",
        "icd_indicator": "0",
        "diagnoses": [(LETTERS[i], diagnosis_code(code)) for i, code in enumerate(claim.diagnoses[:12])],
        "prior_authorization": _ascii(claim.prior_authorization),
        "tax_id": re.sub(r"\D", "", practice.tax_id),
        "tax_id_type": "EIN",
        "account": _ascii(claim.claim_id),
        "accept_assignment": "NO",
        "provider_signature": "SIGNATURE ON FILE",
        "provider_signer": signer,
        "signed_date": f"{today:%m %d %y}",
        "facility": {"name": practice_name, "street": practice_address["street"],
                     "city": city_line(practice_address), "npi": practice.npi},
        "billing": {"name": practice_name, "street": practice_address["street"],
                    "city": city_line(practice_address), "npi": practice.npi,
                    "phone_area": practice_address["phone_area"],
                    "phone_number": practice_address["phone_number"]},
    }

    chunks = _chunks(list(claim.lines))
    totals = [sum((line.charge or Decimal("0.00") for line in chunk), Decimal("0.00")).quantize(CENT)
              for chunk in chunks]
    paid = _allocate(claim.amount_paid, totals)
    pages = []
    for number, (chunk, total, page_paid) in enumerate(zip(chunks, totals, paid, strict=True), start=1):
        page = dict(common)
        page.update({
            "page": number,
            "pages": len(chunks),
            "lines": [_line_fields(line, claim) for line in chunk],
            "additional_info": _noc_text(chunk),
            "total_charge": _amount(total),
            "amount_paid": _amount(page_paid),
        })
        pages.append(page)
    return pages


# ---------------------------------------------------------------- rendering


def _templates(loaded):
    from superbill.documents.templating import environment, template_dirs

    user_dir = loaded.resolve(loaded.clinic.templates) if loaded.clinic.templates else None
    if user_dir is not None and not Path(user_dir).is_dir():
        user_dir = None
    return environment(user_dir), template_dirs(user_dir)


def cms1500_html(items, loaded, data_only: bool = False, *, today: dt.date | None = None) -> str:
    """The HTML of every claim's form pages, in the order of `items` ((patient_file, claim) pairs)."""
    items = list(items)
    if not items:
        raise ValueError("no claims to put on a CMS-1500")
    pages = []
    for patient_file, claim in items:
        pages += claim_pages(patient_file, claim, loaded, today=today)
    env, _ = _templates(loaded)
    return env.get_template("cms1500.html").render(pages=pages, data_only=bool(data_only))


def cms1500_pdf(items, loaded, data_only: bool = False, *, today: dt.date | None = None) -> bytes:
    from superbill.documents.pdf import render_pdf

    html = cms1500_html(items, loaded, data_only, today=today)
    _, dirs = _templates(loaded)
    return render_pdf(html, dirs[0], dirs)


def write_cms1500(items, loaded, out_path, data_only: bool = False, *, today: dt.date | None = None) -> Path:
    """Render the forms and write the PDF atomically, readable by the owner only."""
    from superbill.outfiles import write_atomic

    return write_atomic(Path(out_path), cms1500_pdf(items, loaded, data_only, today=today))
