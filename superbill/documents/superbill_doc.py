"""The superbill document: template context, HTML and PDF for one patient's claims.

`superbill_context` (`superbill.documents.superbill_context`) turns claims (from `engine.process.process_patient`)
and the clinic into the typed data the templates see (documented in `templates/README.md`);
`build_patient_documents` makes one
`SuperbillDoc` per patient (or per session) with its HTML; `render_superbills` turns many documents
into PDF bytes in one call (the batch path: one place to optimize); `render_patient_superbills`
does all of it and writes the files.

Every value reaches the HTML through Jinja2 autoescaping, and WeasyPrint fetches only files inside
the template folders plus the logo and signature images named in clinic.yaml (`superbill.documents.pdf`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from superbill.documents.superbill_context import SuperbillContext, superbill_context
from superbill.documents.templating import TemplateProblem, render, templates_folder
from superbill.engine.claims import Claim
from superbill.problems import Problem

__all__ = ["SuperbillDoc", "TemplateProblem", "build_patient_documents", "render_html", "render_superbills",
           "superbill_context", "templates_folder", "write_documents"]


@dataclass
class SuperbillDoc:
    """One superbill ready to print: its file stem, template data, HTML and what it may load."""

    stem: str  # filesystem-safe, e.g. "P0001_2026-11-02_2026-11-30"
    context: SuperbillContext
    html: str
    base_dir: Path
    roots: list[Path]
    files: list[Path] = field(default_factory=list)


def render_html(context: SuperbillContext, templates_dir: Path | None = None, template: str = "superbill.html") -> str:
    """The superbill HTML; template errors (a clinic's typo) become TemplateProblem, not tracebacks."""
    return render(template, context, templates_dir)


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
    from superbill.documents.references import reference_warnings

    documents: list[SuperbillDoc] = []
    warnings: list[Problem] = reference_warnings(templates_dir)
    for group in groups:
        context, images = superbill_context(result.patient_file, group, loaded, issued=issued,
                                            kind="session" if per_session else "patient")
        for problem in images.warnings:
            if problem not in warnings:
                warnings.append(problem)
        html = render_html(context, templates_dir)
        documents.append(SuperbillDoc(stem=document_stem(result.patient_file.patient.id, group, per_session),
                                      context=context, html=html, base_dir=base_dir, roots=roots,
                                      files=images.files))
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
    contents: list[str | bytes]
    if html:
        contents = [doc.html for doc in documents]
    else:
        contents = list(pdfs if pdfs is not None else render_superbills(documents))
    written = []
    for doc, content in zip(documents, contents, strict=True):
        target = inside(folder, doc.stem + (".html" if html else ".pdf"))
        write_atomic(target, content)
        written.append(target)
    return written


def render_patient_superbills(result, loaded, out_dir: str | Path, *, per_session: bool = False,
                              html: bool = False, templates_dir: str | Path | None = None,
                              issued: dt.date | None = None) -> list[Path]:
    """Render and write the superbill(s) of one processed patient file (`engine.process.process_patient`);
    returns the paths written. `templates_dir` None means the clinic's `templates:` folder, if any.
    Raises TemplateProblem for an unusable template folder or template."""
    folder = templates_folder(loaded, templates_dir)
    documents, _ = build_patient_documents(result, loaded, per_session=per_session,
                                           templates_dir=folder, issued=issued)
    return write_documents(documents, out_dir, html=html)
