"""The superbill document: template context, HTML and PDF for one patient's claims.

`superbill_context` turns claims (from `load.process_patient`) and the clinic into the plain data the
templates see (documented in `templates/README.md`); `build_patient_documents` makes one
`SuperbillDoc` per patient (or per session) with its HTML; `render_superbills` turns many documents
into PDF bytes in one call (the batch path: one place to optimize); `render_patient_superbills`
does all of it and writes the files.

Every value reaches the HTML through Jinja2 autoescaping, and WeasyPrint fetches only files inside
the template folders plus the logo and signature images named in clinic.yaml (`superbill.documents.pdf`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from superbill.documents.templating import TemplateProblem, templates_folder  # noqa: F401 (re-exported)
from superbill.engine.claims import Claim, money, quantity_text
from superbill.problems import ERROR, WARNING, Problem

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SEX_LABELS = {"F": "Female", "M": "Male", "U": "Unknown"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
CPT_NOTICE = "CPT® is a registered trademark of the American Medical Association."


@dataclass
class SuperbillDoc:
    """One superbill ready to print: its file stem, template data, HTML and what it may load."""

    stem: str  # filesystem-safe, e.g. "P0001_2026-11-02_2026-11-30"
    context: dict
    html: str
    base_dir: Path
    roots: list[Path]
    files: list[Path] = field(default_factory=list)


# ---------------------------------------------------------------- formatting helpers


def letter(index: int) -> str:
    """0 -> A ... 11 -> L (then M, N, ... for a many-session document), 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = LETTERS[rest] + out
    return out


def phone_text(digits: str | None) -> str | None:
    if not digits:
        return None
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


def us_date(value, fmt: str = "%m/%d/%Y") -> str:
    """A date as the US forms print it (11/02/2026); a template can pass another strftime format."""
    if value is None:
        return ""
    return value.strftime(fmt)


def money_filter(value) -> str:
    return "" if value is None else money(Decimal(value))


def address_lines(address) -> list[str]:
    from superbill.ids import zipcode

    lines = [address.street]
    if address.street2:
        lines.append(address.street2)
    lines.append(f"{address.city}, {address.state} {zipcode.format(address.zip)}")
    return lines


def person_name(obj) -> str:
    parts = [obj.first_name, getattr(obj, "middle_name", None), obj.last_name]
    name = " ".join(p for p in parts if p)
    suffix = getattr(obj, "suffix", None)
    return f"{name} {suffix}" if suffix else name


def _image_url(loaded, relative: str | None, where: str, problems: list[Problem]) -> tuple[str | None, Path | None]:
    """file:// URL of an image named in clinic.yaml, or None with a warning when it cannot be used."""
    if not relative:
        return None, None
    path = loaded.resolve(relative).resolve()
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        problems.append(Problem(str(loaded.path), where, WARNING,
                                "not an image file (png, jpg, gif, svg or webp); left off the superbill"))
        return None, None
    if not path.is_file():
        problems.append(Problem(str(loaded.path), where, WARNING, "file not found; left off the superbill"))
        return None, None
    return path.as_uri(), path


# ---------------------------------------------------------------- template data


def _provider_data(provider, loaded, problems, images: list[Path]) -> dict:
    index = next(i for i, p in enumerate(loaded.clinic.providers) if p.id == provider.id)
    signature_url, signature_path = _image_url(loaded, provider.signature, f"providers[{index}].signature", problems)
    if signature_path:
        images.append(signature_path)
    return {
        "id": provider.id,
        "name": person_name(provider),
        "first_name": provider.first_name,
        "middle_name": provider.middle_name,
        "last_name": provider.last_name,
        "credentials": provider.credentials,
        "display_name": provider.display_name,
        "npi": provider.npi,
        "taxonomy": provider.taxonomy,
        "specialty": provider.specialty,
        "signature_url": signature_url,
    }


def superbill_context(patient_file, claims: list[Claim], loaded, *, issued: dt.date | None = None,
                      kind: str = "patient") -> tuple[dict, list[Path], list[Problem]]:
    """(context, image files the PDF may load, warnings) for one superbill of `claims`."""
    from superbill.ids import ein
    from superbill.ids import ndc as ndc_ids
    from superbill.ids import pos as pos_ids
    from superbill.tables import icd10cm_index

    if not claims:
        raise ValueError("a superbill needs at least one claim")
    clinic = loaded.clinic
    practice = clinic.practice
    problems: list[Problem] = []
    images: list[Path] = []

    logo_url, logo_path = _image_url(loaded, practice.logo, "practice.logo", problems)
    if logo_path:
        images.append(logo_path)

    providers: dict[str, dict] = {}
    for claim in claims:
        if claim.provider.id not in providers:
            providers[claim.provider.id] = _provider_data(claim.provider, loaded, problems, images)

    # One diagnosis list for the document, in order of first use; lines point into it by letter.
    positions: dict[str, int] = {}
    for claim in claims:
        for code in claim.diagnoses:
            positions.setdefault(code, len(positions))
    diagnoses = []
    for code, i in positions.items():
        entry = icd10cm_index.lookup(code)
        diagnoses.append({"letter": letter(i), "code": icd10cm_index.dotted(code),
                          "title": entry.title if entry else ""})

    pos_used: dict[str, str] = {}
    sessions, lines, payments = [], [], []
    for claim in claims:
        try:
            pos_used.setdefault(claim.place_of_service, pos_ids.name(claim.place_of_service))
        except Exception:  # an unknown POS never reaches here (the scrubber rejects it)
            pos_used.setdefault(claim.place_of_service, "")
        claim_letters = [letter(positions[c]) for c in claim.diagnoses]
        session_lines = []
        for line in claim.lines:
            pointer_letters = [claim_letters[p - 1] for p in line.pointers if 1 <= p <= len(claim_letters)]
            ndc = None
            if line.ndc:
                quantity = quantity_text(line.ndc_quantity)
                ndc = {
                    "code": line.ndc,
                    "formatted": ndc_ids.format(line.ndc),
                    "unit": line.ndc_unit,
                    "quantity": quantity,
                    "n4": " ".join(x for x in ("N4", line.ndc, line.ndc_unit, quantity) if x),
                }
            item = {
                "claim_id": claim.claim_id,
                "date": claim.date_of_service,
                "place_of_service": claim.place_of_service,
                "provider": providers[claim.provider.id],
                "code": line.code,
                "modifiers": list(line.modifiers),
                "description": line.description,
                "pointers": "".join(pointer_letters),
                "pointer_letters": pointer_letters,
                "units": line.units,
                "fee": line.fee,
                "charge": line.charge,
                "kind": line.kind,
                "is_drug": line.kind == "drug",
                "ndc": ndc,
            }
            session_lines.append(item)
            lines.append(item)
        session_payments = []
        for payment in claim.payments:
            item = {"date": payment.date, "amount": payment.amount, "method": payment.method,
                    "reference": payment.reference, "claim_id": claim.claim_id,
                    "date_of_service": claim.date_of_service}
            session_payments.append(item)
            payments.append(item)
        sessions.append({
            "claim_id": claim.claim_id,
            "date": claim.date_of_service,
            "place_of_service": claim.place_of_service,
            "provider": providers[claim.provider.id],
            "prior_authorization": claim.prior_authorization,
            "diagnosis_letters": claim_letters,
            "infusion_minutes": claim.infusion_minutes,
            "lines": session_lines,
            "payments": session_payments,
            "total": claim.total_charge,
            "paid": claim.amount_paid,
            "balance": claim.balance,
        })
    payments.sort(key=lambda p: (p["date"], p["date_of_service"]))

    charges = sum((c.total_charge for c in claims), Decimal("0.00"))
    paid = sum((c.amount_paid for c in claims), Decimal("0.00"))

    patient = patient_file.patient
    insurance = patient_file.insurance
    subscriber = None
    if insurance.subscriber is not None:
        s = insurance.subscriber
        subscriber = {"name": person_name(s), "first_name": s.first_name, "middle_name": s.middle_name,
                      "last_name": s.last_name, "dob": s.dob, "sex": s.sex, "sex_label": SEX_LABELS[s.sex],
                      "address_lines": address_lines(s.address), "relationship": s.relationship.capitalize()}
    start = min(c.date_of_service for c in claims)
    end = max(c.date_of_service for c in claims)
    issued = issued or dt.date.today()
    if kind == "session":
        number = claims[0].claim_id
    elif start == end:
        number = f"{patient.id}-{start:%Y%m%d}"
    else:
        number = f"{patient.id}-{start:%Y%m%d}-{end:%Y%m%d}"
    context = {
        "document": {
            "title": f"Superbill {number}",
            "kind": kind,
            "number": number,
            "issued": issued,
            "period_start": start,
            "period_end": end,
            "multiple_sessions": len(claims) > 1,
        },
        "practice": {
            "name": practice.name,
            "address_lines": address_lines(practice.address),
            "phone": phone_text(practice.phone),
            "fax": phone_text(practice.fax),
            "email": practice.email,
            "npi": practice.npi,
            "tax_id": ein.format(practice.tax_id),
            "taxonomy": practice.taxonomy,
            "logo_url": logo_url,
        },
        "providers": list(providers.values()),
        "patient": {
            "id": patient.id,
            "account": patient.id,
            "name": person_name(patient),
            "first_name": patient.first_name,
            "middle_name": patient.middle_name,
            "last_name": patient.last_name,
            "suffix": patient.suffix,
            "dob": patient.dob,
            "sex": patient.sex,
            "sex_label": SEX_LABELS[patient.sex],
            "address_lines": address_lines(patient.address),
            "phone": phone_text(patient.phone),
        },
        "insurance": {
            "payer_name": insurance.payer_name,
            "payer_id": insurance.payer_id,
            "member_id": insurance.member_id,
            "group_number": insurance.group_number,
            "group_name": insurance.group_name,
            "filing_indicator": insurance.filing_indicator,
            "relationship": subscriber["relationship"] if subscriber else "Self",
            "subscriber": subscriber,
            "prior_authorizations": sorted({c.prior_authorization for c in claims if c.prior_authorization}),
        },
        "diagnoses": diagnoses,
        "sessions": sessions,
        "lines": lines,
        "payments": payments,
        "totals": {"charges": charges, "paid": paid, "balance": charges - paid},
        "places_of_service": [{"code": k, "name": v} for k, v in sorted(pos_used.items())],
        "notices": {
            "cpt": CPT_NOTICE,
            "descriptions": "Service descriptions are plain-language labels, not AMA CPT descriptors.",
            "hcpcs": "HCPCS Level II codes: CMS.",
            "icd10cm": (f"ICD-10-CM codes and titles: CDC National Center for Health Statistics (NCHS), "
                        f"{icd10cm_index.EDITION}; public domain."),
            "icd10cm_short": "ICD-10-CM: CDC/NCHS, public domain.",
        },
    }
    return context, images, problems


# ---------------------------------------------------------------- templates


@lru_cache(maxsize=8)
def _environment(user_dir: str | None):
    from superbill.documents.templating import environment

    env = environment(user_dir)
    env.filters["date"] = us_date
    env.filters["money"] = money_filter
    env.filters["phone"] = phone_text
    return env


def render_html(context: dict, templates_dir: Path | None = None, template: str = "superbill.html") -> str:
    """The superbill HTML; template errors (a clinic's typo) become TemplateProblem, not tracebacks."""
    import jinja2

    env = _environment(str(templates_dir) if templates_dir else None)
    try:
        return env.get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(Problem(exc.filename or exc.name or template, f"line {exc.lineno}", ERROR,
                                      f"template syntax error: {exc.message}")) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(Problem(template, "", ERROR, f"template not found: {exc.name}")) from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(Problem(template, "", ERROR, f"template error: {exc.message}")) from None
    except jinja2.TemplateError as exc:
        raise TemplateProblem(Problem(template, "", ERROR, f"template error: {exc}")) from None


# ---------------------------------------------------------------- documents


def document_stem(patient_id: str, claims: list[Claim], per_session: bool) -> str:
    """P0001_2026-11-02_2026-11-30 (a patient's period) or P0001_2026-11-02 (one session; _2 for a
    second session that day). Filesystem-safe whatever the patient id holds."""
    from superbill.outfiles import safe_name

    pid = safe_name(patient_id, fallback="patient")
    if per_session:
        claim = claims[0]
        stem = f"{pid}_{claim.date_of_service.isoformat()}"
        base = f"{claim.patient_id}-{claim.date_of_service:%Y%m%d}"
        suffix = claim.claim_id[len(base):].lstrip("-") if claim.claim_id.startswith(base) else ""
        if suffix.isdigit():
            stem += f"_{suffix}"
        return stem
    start = min(c.date_of_service for c in claims)
    end = max(c.date_of_service for c in claims)
    return f"{pid}_{start.isoformat()}_{end.isoformat()}"


def build_patient_documents(result, loaded, *, per_session: bool = False, templates_dir: Path | None = None,
                            issued: dt.date | None = None) -> tuple[list[SuperbillDoc], list[Problem]]:
    """The superbills of one processed patient file (no files written): one for all its claims, or
    one per claim. Returns (documents, warnings). Raises TemplateProblem for a broken template."""
    from superbill.documents.templating import template_dirs

    claims = list(result.claims)
    if not claims:
        return [], []
    groups = [[c] for c in claims] if per_session else [claims]
    roots = template_dirs(templates_dir)
    base_dir = roots[0]
    documents, warnings = [], []
    for group in groups:
        context, images, problems = superbill_context(result.patient_file, group, loaded, issued=issued,
                                                      kind="session" if per_session else "patient")
        for problem in problems:
            if problem not in warnings:
                warnings.append(problem)
        html = render_html(context, templates_dir)
        documents.append(SuperbillDoc(stem=document_stem(result.patient_file.patient.id, group, per_session),
                                      context=context, html=html, base_dir=base_dir, roots=roots, files=images))
    return documents, warnings


def render_superbills(documents: list[SuperbillDoc], jobs: int | None = None) -> list[bytes]:
    """PDF bytes for each document, in order. The one HTML-to-PDF entry point for superbills, so
    batch optimizations live here and callers do not change: each PDF is byte-for-byte what one
    `pdf.render_pdf` call makes for it, but a batch shares slim copies of the fonts and is laid out
    by `jobs` worker processes (default: by batch size and cores; 1 = this process only). See
    `superbill.documents.pdfbatch`."""
    from superbill.documents.pdfbatch import render_pdfs

    return render_pdfs([(doc.html, doc.base_dir, doc.roots, doc.files) for doc in documents], jobs=jobs)


def write_documents(documents: list[SuperbillDoc], out_dir: str | Path, *, html: bool = False,
                    pdfs: list[bytes] | None = None) -> list[Path]:
    """Write each document as STEM.pdf (or STEM.html) inside out_dir, atomically, owner-only."""
    from superbill.outfiles import ensure_folder, inside, write_atomic

    folder = ensure_folder(out_dir)
    if html:
        contents: Sequence[str | bytes] = [doc.html for doc in documents]
    else:
        contents = pdfs if pdfs is not None else render_superbills(documents)
    written = []
    for doc, content in zip(documents, contents, strict=True):
        target = inside(folder, doc.stem + (".html" if html else ".pdf"))
        write_atomic(target, content)
        written.append(target)
    return written


def render_patient_superbills(result, loaded, out_dir: str | Path, *, per_session: bool = False,
                              html: bool = False, templates_dir: str | Path | None = None,
                              issued: dt.date | None = None) -> list[Path]:
    """Render and write the superbill(s) of one processed patient file (`load.process_patient`);
    returns the paths written. `templates_dir` None means the clinic's `templates:` folder, if any.
    Raises TemplateProblem for an unusable template folder or template."""
    folder = templates_folder(loaded, templates_dir)
    documents, _ = build_patient_documents(result, loaded, per_session=per_session,
                                           templates_dir=folder, issued=issued)
    return write_documents(documents, out_dir, html=html)
