"""The X12 837P 005010X222A1 writer: claims in, one interchange of text out.

Pure: `build_837p(loaded, items, envelope)` turns (patient_file, claim) pairs into the text of one
interchange (ISA/GS, one or more ST..SE, GE/IEA); the caller supplies the control number (from the
ledger) and the timestamp. `write_837p` streams the same text into a file the caller opened, piece
by piece (`iter_837p`), so a 10,000-claim interchange never sits in memory. Nothing else is read or
written here. X12-safe text is `x12text`; the loops themselves (and the situational rules of the
implementation guide they follow) are `x12loops`.

Here: one 2000B subscriber loop per subscriber (patient = subscriber: SBR02=18, no 2000C; otherwise
a 2000C patient loop with PAT01 01 spouse / 19 child / G8 other under the subscriber), claims of the
same patient grouped under it (at most 100 claims per HL, 5000 per transaction); the billing
provider is the practice, or the solo practitioner whose NPI it is (`engine.parties`); every service
line gets a `REF*6R` line item control number, the interchange control number and the line's
position in the interchange (`line_controls` gives them for the ledger), so it is unique in the
interchange and, since ISA13 never repeats for the clinic, across every interchange.

Problems that would make a file unsendable are reported by `clinic_problems` (the envelope and the
billing provider) and `patient_problems` (one patient file, including the format limits `check`
reports: `engine.format_limits`) before anything is built, with the field's path, never its value
(it may be PHI).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from superbill.engine import format_limits
from superbill.engine.parties import solo_provider
from superbill.exports import x12loops
from superbill.exports.x12text import (  # noqa: F401 (the module's public names, used by tests and callers)
    COMPONENT,
    DELIMITERS,
    ELEMENT,
    REPETITION,
    TERMINATOR,
    X12DataError,
    identifier,
    required_text,
    segment,
    text,
)
from superbill.problems import ERROR, Problem

if TYPE_CHECKING:
    from superbill.engine.claims import Claim
    from superbill.inputs.models import PatientFile

VERSION = "005010X222A1"

MAX_CLAIMS_PER_HL = 100  # 2300 repeats at most 100 times under one HL (IG)
MAX_CLAIMS_PER_ST = 5000  # the IG's recommended ceiling per transaction set
PAT01 = x12loops.PAT01


def line_control(control_number: int, sequence: int) -> str:
    """REF*6R for the `sequence`-th service line (from 1) of interchange `control_number`: at most
    30 characters (what clearinghouses accept), unique in the interchange."""
    return f"{control_number:09d}-{sequence}"


def _claim_segments(claim, billing_npi: str | None, book, controls=None) -> list[str]:
    return x12loops.claim_segments(claim, billing_npi, book, controls)


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
            x12loops.name_elements(provider, f"providers({provider.id})")
        except X12DataError as exc:
            error(exc.path, exc.message)
    zip_code = clinic.practice.address.zip
    if len(zip_code) != 9:
        error("practice.address.zip", "the 837P needs the billing provider's 9-digit ZIP+4 "
                                      "(for example 62701-1234); look it up with the USPS")
    return problems


def patient_problems(patient_file, claims, file: str, book=None) -> list[Problem]:
    """What in one patient file (and its claims) the 837P cannot carry: the format limits
    (`engine.format_limits`, which `check` reports too) and every value X12 cannot carry."""
    problems = format_limits.limit_problems(patient_file.patient.id, claims, file, ("837p",))
    checks: list[Callable[[], object]] = [partial(x12loops.subscriber_segments, patient_file),
                                          partial(x12loops.sbr, patient_file)]
    if patient_file.insurance.subscriber is not None:
        checks.append(partial(x12loops.patient_segments, patient_file))
    checks += [partial(_claim_segments, claim, None, book) for claim in claims]
    seen = {(p.path, p.message) for p in problems}
    limited = {p.path for p in problems if p.severity == ERROR}  # a limit already names it, for the whole file
    for build in checks:
        try:
            build()
        except X12DataError as exc:
            if (exc.path, exc.message) not in seen and exc.path not in limited:
                seen.add((exc.path, exc.message))
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


def _billing_header(loaded, parts: dict) -> list[str]:
    """1000A submitter, 1000B receiver, 2000A/2010AA the billing provider: the same in every ST."""
    practice = loaded.clinic.practice
    return [
        segment("NM1", "41", "2", parts["submitter_name"], "", "", "", "", "46", parts["sender"]),
        segment("PER", "IC", parts["contact_name"], "TE", parts["contact_phone"],
                *(("EM", parts["contact_email"]) if parts["contact_email"] else ())),
        segment("NM1", "40", "2", parts["receiver_name"], "", "", "", "", "46", parts["receiver"]),
        segment("HL", "1", "", "20", "1"),
        segment("PRV", "BI", "PXC", practice.taxonomy),
        x12loops.billing_provider_name(practice, solo_provider(loaded.clinic), parts["practice_name"]),
        segment("N3", parts["street"], parts["street2"]),
        segment("N4", parts["city"], practice.address.state, practice.address.zip),
        segment("REF", "EI", practice.tax_id),
    ]


class _LineCounter:
    """The REF*6R values of one interchange, in document order."""

    def __init__(self, control_number: int):
        self.control_number = control_number
        self.sequence = 0

    def take(self, count: int) -> list[str]:
        first = self.sequence + 1
        self.sequence += count
        return [line_control(self.control_number, n) for n in range(first, self.sequence + 1)]


def _subscriber_loops(groups, billing_npi: str, book, lines: _LineCounter):
    """The 2000B/2000C/2300/2400 loops of one transaction set, a few hundred segments a piece."""
    hl = 1
    for subscriber_file, members in groups:
        hl += 1
        subscriber_hl = hl
        is_self = subscriber_file.insurance.subscriber is None
        loop = [segment("HL", subscriber_hl, "1", "22", "0" if is_self else "1"), x12loops.sbr(subscriber_file),
                *x12loops.subscriber_segments(subscriber_file)]
        for patient_file, claims in members:
            if not is_self:
                hl += 1
                loop.append(segment("HL", hl, subscriber_hl, "23", "0"))
                loop.extend(x12loops.patient_segments(patient_file))
            for claim in claims:
                loop.extend(_claim_segments(claim, billing_npi, book, lines.take(len(claim.lines))))
                if len(loop) >= 256:
                    yield loop
                    loop = []
        if loop:
            yield loop


def iter_837p(loaded, items, envelope: Envelope):
    """The 837P interchange in pieces (whole segments, each followed by a newline), a few hundred
    segments at most per piece: the SE segment count is counted as the segments go by, so no
    more than one piece is held at a time."""
    items = list(items)
    if not items:
        raise ValueError("an 837P needs at least one claim")
    parts = _header_parts(loaded, envelope.usage)
    practice = loaded.clinic.practice
    if len(practice.address.zip) != 9:
        raise X12DataError("practice.address.zip", "the billing provider needs a 9-digit ZIP+4")
    book = getattr(loaded, "book", None)
    created = envelope.created
    control = envelope.control_number
    header_tail = _billing_header(loaded, parts)
    transactions = _transactions(items)
    lines = _LineCounter(control)

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
        for piece in _subscriber_loops(groups, practice.npi, book, lines):
            count += len(piece)
            yield "\n".join(piece) + "\n"
        yield segment("SE", count + 1, st_control) + "\n"
    yield segment("GE", len(transactions), control) + "\n"
    yield segment("IEA", "1", f"{control:09d}") + "\n"


def _claims_in_order(items):
    """(ST02, claim) for every claim, in the order the document carries them."""
    for st_number, groups in enumerate(_transactions(items), start=1):
        for _, members in groups:
            for _, claims in members:
                for claim in claims:
                    yield f"{st_number:04d}", claim


def claim_controls(items) -> dict[str, str]:
    """{claim_id: ST02} for every claim of a document built from `items`."""
    return {claim.claim_id: st02 for st02, claim in _claims_in_order(items)}


def line_controls(items, control_number: int) -> dict[str, list[str]]:
    """{claim_id: [REF*6R of each line, in line order]} for the document `build_837p` makes from
    `items` with this interchange control number (the ledger records them for 835 matching)."""
    lines = _LineCounter(control_number)
    return {claim.claim_id: lines.take(len(claim.lines)) for _, claim in _claims_in_order(items)}
