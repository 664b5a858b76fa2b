"""The X12 837P 005010X222A1 writer: claims in, one interchange of text out.

Pure: `build_837p(loaded, items, envelope)` turns (patient_file, claim) pairs into the text of one
interchange (ISA/GS, one or more ST..SE, GE/IEA); the caller supplies the control number (from the
ledger) and the timestamp. `write_837p` streams the same text into a file the caller opened, piece
by piece (`iter_837p`), so a 10,000-claim interchange never sits in memory. Nothing else is read or
written here.

Rules (docs/reference.md "Outputs" and "Claim checks"):

* data is made X12-safe: upper-case ASCII with accents transliterated, the four delimiters
  (``* ~ : ^``) and control characters never inside an element, each element truncated to the
  implementation guide's maximum; trailing empty elements are dropped;
* one 2000B subscriber loop per subscriber (patient = subscriber: SBR02=18, no 2000C; otherwise a
  2000C patient loop with PAT01 01 spouse / 19 child / G8 other under the subscriber), claims of the
  same patient grouped under it (at most 100 claims per HL, 5000 per transaction);
* CLM with POS:B:frequency, signature on file (CLM06=Y), not assigned (CLM07=C) and benefits not assigned
  (CLM08=N): the patient of a cash-pay clinic has paid and keeps the benefits (docs/reference.md "Outputs"; the
  CMS-1500 prints the same: item 27 NO, item 13 blank); release of information Y;
* CLM05-3 from the claim's frequency code: 1 an original, 7 a replacement, 8 a void (every line of
  the claim, as it was sent), the last two with the payer's claim control number in REF*F8 right after
  REF*G1 (the 2300 order of the implementation guide: ... REF*G1 prior authorization, REF*F8 payer
  claim control number, REF*X4 ...); AMT*F5 when the patient paid, REF*G1 for a prior
  authorization, HI without decimal points, 2310B when the renderer is not the billing NPI,
  LX restarting at 1 per claim, SV1 with the NOC description in SV101-7 for unclassified codes,
  DTP*472, 2410 LIN/CTP on drug lines.

Problems that would make a file unsendable are reported by `clinic_problems` (the envelope and the
billing provider) and `patient_problems` (one patient file) before anything is built, with the
field's path, never its value (it may be PHI).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

from superbill.engine.claims import money, quantity_text

if TYPE_CHECKING:
    from superbill.engine.claims import Claim
    from superbill.inputs.models import PatientFile
from superbill.problems import ERROR, Problem

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
DELIMITERS = ELEMENT + COMPONENT + REPETITION + TERMINATOR
VERSION = "005010X222A1"

MAX_CLAIMS_PER_HL = 100  # 2300 repeats at most 100 times under one HL (IG)
MAX_CLAIMS_PER_ST = 5000  # the IG's recommended ceiling per transaction set

PAT01 = {"spouse": "01", "child": "19", "other": "G8"}

# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans({
    "ß": "SS", "Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "Ø": "O", "ø": "O", "Ł": "L",
    "ł": "L", "Đ": "D", "đ": "D", "Þ": "TH", "þ": "TH", "ı": "I",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
})
# The X12 basic character set without the delimiters we use (`*` and `:`).
_NOT_BASIC = re.compile(r"""[^A-Z0-9!"&'()+,\-./;?= ]""")
# Identifiers keep their case: letters, digits and the basic punctuation, never a delimiter.
_ID_OK = re.compile(r"""^[A-Za-z0-9!"&'()+,\-./;?= ]+$""")


class X12DataError(ValueError):
    """A value cannot be carried in the 837P (the path names the field, never its value)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def text(value, max_len: int) -> str:
    """Free text made X12-safe: upper-case ASCII, no delimiters or control characters, trimmed."""
    if value is None:
        return ""
    value = str(value)
    if not value.isascii():  # ASCII is already its own NFKC/NFKD form, with nothing to transliterate
        value = unicodedata.normalize("NFKC", value).translate(_TRANSLITERATE)
        value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    value = _NOT_BASIC.sub(" ", value.upper())
    return " ".join(value.split())[:max_len].rstrip()


def required_text(value, max_len: int, path: str, min_len: int = 1) -> str:
    cleaned = text(value, max_len)
    if len(cleaned) < min_len:
        raise X12DataError(path, "nothing usable is left once the characters X12 cannot carry are removed"
                           if cleaned == "" else f"needs at least {min_len} letters or digits for the 837P")
    return cleaned


def identifier(value, max_len: int, path: str, min_len: int = 1) -> str:
    """An identifier exactly as given: rejected, not altered, when X12 cannot carry it."""
    value = "" if value is None else str(value).strip()
    if not min_len <= len(value) <= max_len:
        raise X12DataError(path, f"must be {min_len} to {max_len} characters for the 837P")
    if not _ID_OK.match(value):
        raise X12DataError(path, "holds a character X12 cannot carry (letters, digits, '-', '.', '/' are safe)")
    return value


def segment(*elements) -> str:
    parts = ["" if e is None else str(e) for e in elements]
    while parts and parts[-1] == "":
        parts.pop()
    return ELEMENT.join(parts) + TERMINATOR


def composite(*components) -> str:
    parts = ["" if c is None else str(c) for c in components]
    while parts and parts[-1] == "":
        parts.pop()
    return COMPONENT.join(parts)


def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _amount(value: Decimal) -> str:
    return money(value)


# ---------------------------------------------------------------- checks before building


def clinic_problems(loaded, usage: str | None = None) -> list[Problem]:
    """What in clinic.yaml keeps any 837P from being built (envelope, submitter, billing provider)."""
    clinic = loaded.clinic
    file = str(loaded.path)
    problems: list[Problem] = []

    def error(path, message):
        problems.append(Problem(file, path, ERROR, message))

    if clinic.x12 is None:
        error("x12", "is required for the 837P export (submitter_id, submitter_name, receiver_id, "
                     "receiver_name, contact)")
        return problems
    try:
        _header_parts(loaded, usage or clinic.x12.usage)
    except X12DataError as exc:
        error(exc.path, exc.message)
    for provider in clinic.providers:
        try:
            _name_elements(provider, f"providers({provider.id})")
        except X12DataError as exc:
            error(exc.path, exc.message)
    zip_code = clinic.practice.address.zip
    if len(zip_code) != 9:
        error("practice.address.zip", "the 837P needs the billing provider's 9-digit ZIP+4 "
                                      "(for example 62701-1234); look it up with the USPS")
    return problems


def patient_problems(patient_file, claims, file: str, book=None) -> list[Problem]:
    """What in one patient file (and its claims) the 837P cannot carry."""
    problems: list[Problem] = []
    checks: list[Callable[[], object]] = [lambda: _subscriber_segments(patient_file), lambda: _sbr(patient_file)]
    if patient_file.insurance.subscriber is not None:
        checks.append(lambda: _patient_segments(patient_file))
    checks += [partial(_claim_segments, claim, None, book) for claim in claims]
    for build in checks:
        try:
            build()
        except X12DataError as exc:
            problems.append(Problem(file, exc.path, ERROR, exc.message))
    return problems


# ---------------------------------------------------------------- envelope


@dataclass(frozen=True)
class Envelope:
    control_number: int  # ISA13 (9 digits), GS06 and the BHT03 batch stem
    created: dt.datetime
    usage: str = "T"  # ISA15: T test, P production

    def __post_init__(self):
        if not 1 <= self.control_number <= 999_999_999:
            raise ValueError("the interchange control number must be 1 to 999999999")
        if self.usage not in ("T", "P"):
            raise ValueError("usage must be T or P")


def _pad(value: str, width: int) -> str:
    return value[:width].ljust(width)


def _header_parts(loaded, usage: str) -> dict:
    x12 = loaded.clinic.x12
    practice = loaded.clinic.practice
    return {
        "sender": identifier(x12.submitter_id, 15, "x12.submitter_id", 2),
        "receiver": identifier(x12.receiver_id, 15, "x12.receiver_id", 2),
        "submitter_name": required_text(x12.submitter_name, 60, "x12.submitter_name"),
        "receiver_name": required_text(x12.receiver_name, 60, "x12.receiver_name"),
        "contact_name": required_text(x12.contact.name, 60, "x12.contact.name"),
        "contact_phone": identifier(x12.contact.phone, 256, "x12.contact.phone"),
        "contact_email": _email(x12.contact.email, "x12.contact.email"),
        "practice_name": required_text(practice.name, 60, "practice.name"),
        "street": required_text(practice.address.street, 55, "practice.address.street"),
        "street2": text(practice.address.street2, 55),
        "city": required_text(practice.address.city, 30, "practice.address.city", 2),
        "usage": usage,
    }


def _email(value, path):
    if not value:
        return ""
    value = value.strip()
    # PER*EM is AN with the extended set; '@' and '_' are in it, delimiters are not.
    if not re.fullmatch(r"[A-Za-z0-9._%+\-@]{3,256}", value):
        raise X12DataError(path, "is not an e-mail address X12 can carry")
    return value


def _isa(parts: dict, envelope: Envelope) -> str:
    created = envelope.created
    isa = ELEMENT.join([
        "ISA", "00", " " * 10, "00", " " * 10,
        "ZZ", _pad(parts["sender"], 15), "ZZ", _pad(parts["receiver"], 15),
        created.strftime("%y%m%d"), created.strftime("%H%M"),
        REPETITION, "00501", f"{envelope.control_number:09d}", "0", envelope.usage, COMPONENT,
    ]) + TERMINATOR
    assert len(isa) == 106, len(isa)
    return isa


# ---------------------------------------------------------------- loops


def _name_elements(person, path: str) -> list[str]:
    """NM103..NM107 for a person: last, first, middle, (prefix), suffix."""
    return [
        required_text(person.last_name, 60, f"{path}.last_name"),
        required_text(person.first_name, 35, f"{path}.first_name"),
        text(getattr(person, "middle_name", None), 25),
        "",
        text(getattr(person, "suffix", None), 10),
    ]


def _address_segments(address, path: str) -> list[str]:
    return [
        segment("N3", required_text(address.street, 55, f"{path}.street"), text(address.street2, 55)),
        segment("N4", required_text(address.city, 30, f"{path}.city", 2), address.state, address.zip),
    ]


def _subscriber_segments(patient_file) -> list[str]:
    """2010BA (subscriber name, address, DMG) and 2010BB (payer)."""
    insurance = patient_file.insurance
    person = insurance.subscriber or patient_file.patient
    path = "insurance.subscriber" if insurance.subscriber else "patient"
    member_id = identifier(insurance.member_id, 80, "insurance.member_id", 2)
    payer_id = identifier(insurance.payer_id, 80, "insurance.payer_id", 2)
    return [
        segment("NM1", "IL", "1", *_name_elements(person, path), "MI", member_id),
        *_address_segments(person.address, f"{path}.address"),
        segment("DMG", "D8", _date(person.dob), person.sex),
        segment("NM1", "PR", "2", required_text(insurance.payer_name, 60, "insurance.payer_name"),
                "", "", "", "", "PI", payer_id),
    ]


def _sbr(patient_file) -> str:
    insurance = patient_file.insurance
    group_number = identifier(insurance.group_number, 50, "insurance.group_number") if insurance.group_number else ""
    # SBR04 (group name) only when there is no group number (IG situational rule).
    group_name = text(insurance.group_name, 60) if not group_number else ""
    relationship = "18" if insurance.subscriber is None else ""
    return segment("SBR", "P", relationship, group_number, group_name, "", "", "", "", insurance.filing_indicator)


def _patient_segments(patient_file) -> list[str]:
    """2000C PAT and 2010CA, for a patient who is not the subscriber."""
    patient = patient_file.patient
    return [
        segment("PAT", PAT01[patient_file.insurance.subscriber.relationship]),
        segment("NM1", "QC", "1", *_name_elements(patient, "patient")),
        *_address_segments(patient.address, "patient.address"),
        segment("DMG", "D8", _date(patient.dob), patient.sex),
    ]


def _unclassified(line, book) -> bool:
    if line.unclassified:
        return True
    drug = getattr(book, "drugs", {}).get(line.code) if book is not None else None
    return bool(drug and drug.unclassified)


def _claim_header(claim, claim_id: str, where: str) -> list[str]:
    """CLM, AMT*F5 and the 2300 REF segments, in the implementation guide's order."""
    if claim.frequency_code not in ("1", "7", "8"):
        raise X12DataError(where, "the claim frequency code must be 1, 7 or 8")
    out = [segment("CLM", claim_id, _amount(claim.total_charge), "", "",
                   composite(claim.place_of_service, "B", claim.frequency_code), "Y", "C", "N", "Y")]
    if claim.amount_paid > 0:
        out.append(segment("AMT", "F5", _amount(claim.amount_paid)))
    if claim.prior_authorization:
        out.append(segment("REF", "G1", identifier(claim.prior_authorization, 50, f"{where}.prior_authorization")))
    if claim.frequency_code != "1":
        # A replacement or void names the claim the payer holds (835 CLP07): without it, it cannot be matched.
        out.append(segment("REF", "F8", identifier(claim.payer_claim_number, 50, "payer claim number")))
    return out


def _claim_segments(claim, billing_npi: str | None, book) -> list[str]:
    where = f"sessions[{claim.session_index}]"
    claim_id = identifier(claim.claim_id, 38, "patient.id")
    if not claim.lines:
        raise X12DataError(where, "a claim needs at least one service line")
    if len(claim.lines) > 50:
        raise X12DataError(where, f"has {len(claim.lines)} service lines; an 837P claim carries at most 50")
    total = sum((line.charge for line in claim.lines), Decimal("0.00"))
    if total != claim.total_charge:
        raise X12DataError(where, "the claim total is not the sum of its lines")
    out = _claim_header(claim, claim_id, where)
    if not 1 <= len(claim.diagnoses) <= 12:
        raise X12DataError(f"{where}.diagnoses", "a claim carries 1 to 12 diagnoses")
    out.append(segment("HI", *(composite("ABK" if i == 0 else "ABF", code.replace(".", ""))
                               for i, code in enumerate(claim.diagnoses))))
    provider = claim.provider
    if provider is not None and provider.npi != billing_npi:
        out.append(segment("NM1", "82", "1", *_name_elements(provider, f"providers({provider.id})"), "XX", provider.npi))
        out.append(segment("PRV", "PE", "PXC", provider.taxonomy))
    for number, line in enumerate(claim.lines, start=1):
        path = line.source
        if line.charge is None:
            raise X12DataError(path, f"{line.code} has no charge")
        description = ""
        if _unclassified(line, book):
            description = required_text(line.description, 80, f"{path}.description")
        modifiers = list(line.modifiers) + [""] * (4 - len(line.modifiers))
        pointers = [p for p in line.pointers if 1 <= p <= len(claim.diagnoses)]
        if not pointers or len(pointers) != len(line.pointers) or len(pointers) > 4:
            raise X12DataError(path, f"{line.code}: 1 to 4 diagnosis pointers, each to a listed diagnosis")
        out.append(segment("LX", number))
        out.append(segment("SV1", composite("HC", line.code, *modifiers, description), _amount(line.charge),
                           "UN", line.units, "", "", composite(*pointers)))
        out.append(segment("DTP", "472", "D8", _date(claim.date_of_service)))
        if line.ndc:
            quantity = quantity_text(line.ndc_quantity)
            if not (len(line.ndc) == 11 and line.ndc.isdigit()):
                raise X12DataError(path, f"{line.code}: the NDC must be 11 digits (5-4-2)")
            if quantity is None or line.ndc_quantity <= 0 or not line.ndc_unit:
                raise X12DataError(path, f"{line.code}: the NDC quantity and unit are required with an NDC")
            out.append(segment("LIN", "", "N4", line.ndc))
            out.append(segment("CTP", "", "", "", quantity, line.ndc_unit))
    return out


# ---------------------------------------------------------------- the document


def _person_key(person) -> tuple:
    return (person.last_name, person.first_name, getattr(person, "middle_name", None), person.dob, person.sex)


def _digest(key: tuple) -> bytes:
    """A grouping key as 32 bytes (SHA-256 of its repr): kept per patient while the interchange is
    written, so the full texts would grow with the number of patients."""
    return hashlib.sha256(repr(key).encode("utf-8")).digest()


def _group_key(patient_file) -> bytes:
    insurance = patient_file.insurance
    subscriber = insurance.subscriber
    person = subscriber if subscriber is not None else patient_file.patient
    return _digest((subscriber is None, insurance.payer_id, insurance.payer_name, insurance.member_id,
                    insurance.group_number, insurance.group_name, insurance.filing_indicator,
                    _person_key(person), person.address.model_dump_json()))


def _patient_key(patient_file) -> bytes:
    return _digest((patient_file.patient.model_dump_json(), patient_file.insurance.model_dump_json()))


def _chunks(seq: list, size: int):
    for start in range(0, len(seq), size):
        yield seq[start:start + size]


def _groups(items: list[tuple[PatientFile, Claim]]) -> list[tuple[PatientFile, list[tuple[PatientFile, list[Claim]]]]]:
    """[(subscriber's patient_file, [(patient_file, claims), ...]), ...] in order of first appearance,
    each patient's claims in chunks of at most MAX_CLAIMS_PER_HL."""
    groups: dict[bytes, dict[bytes, tuple[PatientFile, list[Claim]]]] = {}
    keys: dict[int, tuple[bytes, bytes]] = {}  # by patient file object: its claims share one
    for patient_file, claim in items:
        key = keys.get(id(patient_file))
        if key is None:
            key = keys[id(patient_file)] = (_group_key(patient_file), _patient_key(patient_file))
        patients = groups.setdefault(key[0], {})
        patients.setdefault(key[1], (patient_file, []))[1].append(claim)
    out = []
    for patients in groups.values():
        members = list(patients.values())
        first = members[0][0]
        if first.insurance.subscriber is None:
            for patient_file, claims in members:
                for chunk in _chunks(claims, MAX_CLAIMS_PER_HL):
                    out.append((patient_file, [(patient_file, chunk)]))
        else:
            children = [(pf, chunk) for pf, claims in members for chunk in _chunks(claims, MAX_CLAIMS_PER_HL)]
            for part in _chunks(children, 100):
                out.append((first, part))
    return out


def build_837p(loaded, items, envelope: Envelope) -> str:
    """The 837P interchange for `items`, a list of (patient_file, claim), in that order.

    Raises X12DataError (with the field's path) when a value cannot be carried; run
    `clinic_problems` and `patient_problems` first to report those per file. The text is
    `iter_837p` joined; `write_837p` streams the same text to a file.
    """
    return "".join(iter_837p(loaded, items, envelope))


def write_837p(loaded, items, envelope: Envelope, out, chunk_size: int = 1 << 16) -> int:
    """Write the interchange `build_837p` returns to the binary file `out` (ASCII), segment by
    segment in chunks of about `chunk_size` bytes, never holding the whole text; returns the number
    of bytes written. Raises like `build_837p`, possibly after part of the text is written."""
    written = 0
    pending: list[str] = []
    size = 0
    for line in iter_837p(loaded, items, envelope):
        pending.append(line)
        size += len(line)
        if size >= chunk_size:
            written += out.write("".join(pending).encode("ascii")) or 0
            pending, size = [], 0
    if pending:
        written += out.write("".join(pending).encode("ascii")) or 0
    return written


def _transactions(items) -> list[list]:
    """The subscriber groups split into transaction sets of at most MAX_CLAIMS_PER_ST claims."""
    transactions: list[list] = [[]]
    count = 0
    for group in _groups(items):
        size = sum(len(claims) for _, claims in group[1])
        if transactions[-1] and count + size > MAX_CLAIMS_PER_ST:
            transactions.append([])
            count = 0
        transactions[-1].append(group)
        count += size
    return transactions


def iter_837p(loaded, items, envelope: Envelope):
    """The 837P interchange in pieces (whole segments, each followed by a newline), a few hundred
    segments at most per piece: the SE segment count is counted as the segments go by, so no
    more than one piece is held at a time."""
    items = list(items)
    if not items:
        raise ValueError("an 837P needs at least one claim")
    clinic = loaded.clinic
    parts = _header_parts(loaded, envelope.usage)
    practice = clinic.practice
    if len(practice.address.zip) != 9:
        raise X12DataError("practice.address.zip", "the billing provider needs a 9-digit ZIP+4")
    book = getattr(loaded, "book", None)
    created = envelope.created
    control = envelope.control_number

    header_tail = [
        segment("NM1", "41", "2", parts["submitter_name"], "", "", "", "", "46", parts["sender"]),
        segment("PER", "IC", parts["contact_name"], "TE", parts["contact_phone"],
                *(("EM", parts["contact_email"]) if parts["contact_email"] else ())),
        segment("NM1", "40", "2", parts["receiver_name"], "", "", "", "", "46", parts["receiver"]),
        segment("HL", "1", "", "20", "1"),
        segment("PRV", "BI", "PXC", practice.taxonomy),
        segment("NM1", "85", "2", parts["practice_name"], "", "", "", "", "XX", practice.npi),
        segment("N3", parts["street"], parts["street2"]),
        segment("N4", parts["city"], practice.address.state, practice.address.zip),
        segment("REF", "EI", practice.tax_id),
    ]
    transactions = _transactions(items)

    yield _isa(parts, envelope) + "\n"
    yield segment("GS", "HC", parts["sender"], parts["receiver"], created.strftime("%Y%m%d"),
                  created.strftime("%H%M"), control, "X", VERSION) + "\n"
    for st_number, groups in enumerate(transactions, start=1):
        st_control = f"{st_number:04d}"
        head = [
            segment("ST", "837", st_control, VERSION),
            segment("BHT", "0019", "00", f"{control:09d}{st_number:04d}", created.strftime("%Y%m%d"),
                    created.strftime("%H%M"), "CH"),
            *header_tail,
        ]
        count = len(head)
        yield "\n".join(head) + "\n"
        hl = 1
        for subscriber_file, members in groups:
            hl += 1
            subscriber_hl = hl
            is_self = subscriber_file.insurance.subscriber is None
            loop = [segment("HL", subscriber_hl, "1", "22", "0" if is_self else "1"), _sbr(subscriber_file),
                    *_subscriber_segments(subscriber_file)]
            for patient_file, claims in members:
                if not is_self:
                    hl += 1
                    loop.append(segment("HL", hl, subscriber_hl, "23", "0"))
                    loop.extend(_patient_segments(patient_file))
                for claim in claims:
                    loop.extend(_claim_segments(claim, practice.npi, book))
                    if len(loop) >= 256:
                        count += len(loop)
                        yield "\n".join(loop) + "\n"
                        loop = []
            if loop:
                count += len(loop)
                yield "\n".join(loop) + "\n"
        yield segment("SE", count + 1, st_control) + "\n"
    yield segment("GE", len(transactions), control) + "\n"
    yield segment("IEA", "1", f"{control:09d}") + "\n"


def claim_controls(items) -> dict[str, str]:
    """{claim_id: ST02} for every claim of a document built from `items`."""
    out: dict[str, str] = {}
    st_number, current = 1, 0
    for _, members in _groups(items):
        size = sum(len(claims) for _, claims in members)
        if current and current + size > MAX_CLAIMS_PER_ST:
            st_number += 1
            current = 0
        current += size
        for _, claims in members:
            for c in claims:
                out[c.claim_id] = f"{st_number:04d}"
    return out
