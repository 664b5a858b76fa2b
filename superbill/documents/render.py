"""`superbill render`: the library function behind the command (templates list/copy: `template_files`).

`render_files` turns patient files into superbills in an output folder: one PDF per patient for the
claims in the date range (or one per session), or the HTML instead. A file with errors is reported
and skipped while the good ones render; names come from the patient id and the dates and can never
leave the output folder; files are written atomically and readable by the owner only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from superbill.problems import ERROR, WARNING, Problem


@dataclass
class RenderSummary:
    written: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    rendered_files: int = 0
    rejected_files: int = 0
    empty_files: int = 0

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def line(self) -> str:
        kind = "HTML file(s)" if any(p.suffix == ".html" for p in self.written) else "superbill(s)"
        parts = [f"{len(self.written)} {kind} written for {self.rendered_files} of {self.files} file(s)"]
        if self.rejected_files:
            parts.append(f"{self.rejected_files} rejected")
        if self.empty_files:
            parts.append(f"{self.empty_files} with no sessions in range")
        return "; ".join(parts)


def render_files(files, loaded, out_dir: str | Path, *, date_from: dt.date | None = None,
                 date_to: dt.date | None = None, per_session: bool = False, html: bool = False,
                 templates_dir: str | Path | None = None, issued: dt.date | None = None,
                 today: dt.date | None = None) -> RenderSummary:
    """Render the superbills of many patient files into out_dir. Never raises for bad input: every
    problem is in the summary, and the good files are still written."""
    from superbill.documents.templating import TemplateProblem, templates_folder
    from superbill.outfiles import ensure_folder

    summary = RenderSummary(files=len(files))
    today = today or dt.date.today()  # a superbill is a receipt: a session in the future is an error
    try:
        folder = templates_folder(loaded, templates_dir)
    except TemplateProblem as exc:
        summary.problems.append(exc.problem)
        return summary
    batches = _build_batches(files, loaded, summary, folder, today=today, date_from=date_from, date_to=date_to,
                             per_session=per_session, issued=issued)
    if not batches:
        return summary
    try:
        ensure_folder(out_dir)
    except OSError as exc:
        summary.problems.append(Problem(str(out_dir), "", ERROR, f"cannot create the output folder: {exc.strerror}"))
        return summary
    pdfs = {} if html else _render_batches(batches, summary)
    _write_batches(batches, pdfs, out_dir, html, summary)
    return summary


def _build_batches(files, loaded, summary: RenderSummary, folder: Path | None, *, today, date_from, date_to,
                   per_session: bool, issued) -> list[tuple[str, list]]:
    """(file, documents) of every file that renders; the others' problems go to the summary."""
    from superbill.documents.superbill_doc import build_patient_documents
    from superbill.documents.templating import TemplateProblem
    from superbill.engine.process import process_patient

    batches: list[tuple[str, list]] = []
    stems: dict[str, str] = {}
    for name in files:
        result = process_patient(name, loaded, today=today, date_from=date_from, date_to=date_to)
        summary.problems += result.problems
        if not result.ok:
            summary.rejected_files += 1
            continue
        if not result.claims:
            if not result.held_claims:  # held back claims were reported above, with why
                summary.empty_files += 1
                summary.problems.append(Problem(str(name), "sessions", WARNING,
                                                "no sessions in the date range: no superbill written"))
            continue
        try:
            documents, warnings = build_patient_documents(result, loaded, per_session=per_session,
                                                          templates_dir=folder, issued=issued)
        except TemplateProblem as exc:
            summary.problems.append(exc.problem)  # the template is broken for every file: stop here
            summary.rejected_files += 1
            break
        summary.problems += [w for w in warnings if w not in summary.problems]
        clash = next((stems[d.stem] for d in documents if d.stem in stems), None)
        if clash is not None:
            summary.rejected_files += 1
            summary.problems.append(Problem(str(name), "patient.id", ERROR,
                                            f"same patient id and dates as {clash}: its superbill would be "
                                            f"overwritten; not rendered"))
            continue
        stems.update((doc.stem, str(name)) for doc in documents)
        batches.append((str(name), documents))
    return batches


def _render_batches(batches: list[tuple[str, list]], summary: RenderSummary) -> dict[int, bytes]:
    """PDF bytes by id(document): all in one batch, or file by file when one fails (the others still render)."""
    from superbill.documents.superbill_doc import render_superbills

    documents = [doc for _, docs in batches for doc in docs]
    try:
        return dict(zip(map(id, documents), render_superbills(documents), strict=True))
    except Exception:  # isolate the document that fails
        pdfs: dict[int, bytes] = {}
        for file, docs in batches:
            try:
                pdfs.update(zip(map(id, docs), render_superbills(docs), strict=True))
            except Exception as exc:  # noqa: BLE001 - reported as the file's problem
                summary.problems.append(Problem(file, "", ERROR, f"PDF rendering failed ({type(exc).__name__})"))
        return pdfs


def _write_batches(batches: list[tuple[str, list]], pdfs: dict[int, bytes], out_dir, html: bool,
                   summary: RenderSummary) -> None:
    from superbill.documents.superbill_doc import write_documents

    for file, docs in batches:
        if not html and any(id(doc) not in pdfs for doc in docs):
            summary.rejected_files += 1
            continue
        try:
            summary.written += write_documents(docs, out_dir, html=html,
                                               pdfs=None if html else [pdfs[id(doc)] for doc in docs])
        except (OSError, ValueError) as exc:
            summary.rejected_files += 1
            summary.problems.append(Problem(file, "", ERROR, f"cannot write the superbill: {getattr(exc, 'strerror', None) or exc}"))
            continue
        summary.rendered_files += 1
