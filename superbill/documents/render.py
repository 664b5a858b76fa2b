"""`superbill render` and `superbill templates`: the library functions behind the commands.

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
    from superbill.documents.superbill_doc import (
        TemplateProblem,
        build_patient_documents,
        render_superbills,
        templates_folder,
        write_documents,
    )
    from superbill.inputs.load import process_patient
    from superbill.outfiles import ensure_folder

    summary = RenderSummary(files=len(files))
    today = today or dt.date.today()  # a superbill is a receipt: a session in the future is an error
    try:
        folder = templates_folder(loaded, templates_dir)
    except TemplateProblem as exc:
        summary.problems.append(exc.problem)
        return summary

    batches: list[tuple[str, list]] = []  # (file, documents)
    stems: dict[str, str] = {}
    for name in files:
        result = process_patient(name, loaded, today=today, date_from=date_from, date_to=date_to)
        summary.problems += result.problems
        if not result.ok:
            summary.rejected_files += 1
            continue
        if not result.claims:
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
        for warning in warnings:
            if warning not in summary.problems:
                summary.problems.append(warning)
        clash = next((stems[d.stem] for d in documents if d.stem in stems), None)
        if clash is not None:
            summary.rejected_files += 1
            summary.problems.append(Problem(str(name), "patient.id", ERROR,
                                            f"same patient id and dates as {clash}: its superbill would be "
                                            f"overwritten; not rendered"))
            continue
        for doc in documents:
            stems[doc.stem] = str(name)
        batches.append((str(name), documents))

    if not batches:
        return summary
    try:
        ensure_folder(out_dir)
    except OSError as exc:
        summary.problems.append(Problem(str(out_dir), "", ERROR, f"cannot create the output folder: {exc.strerror}"))
        return summary

    pdfs: dict[int, bytes] = {}
    if not html:
        documents = [doc for _, docs in batches for doc in docs]
        try:
            pdfs = dict(zip(map(id, documents), render_superbills(documents), strict=True))
        except Exception:  # isolate the document that fails; the others still render
            for file, docs in batches:
                try:
                    pdfs.update(zip(map(id, docs), render_superbills(docs), strict=True))
                except Exception as exc:  # noqa: BLE001 - reported as the file's problem
                    summary.problems.append(Problem(file, "", ERROR, f"PDF rendering failed ({type(exc).__name__})"))
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
    return summary


# ---------------------------------------------------------------- templates list / copy


def template_listing(user_dir: Path | None) -> list[str]:
    """The lines `superbill templates list` prints."""
    from superbill.documents.templating import list_templates
    from superbill.paths import TEMPLATES_DIR

    lines = [f"default templates: {TEMPLATES_DIR}"]
    if user_dir:
        lines.append(f"clinic templates:  {user_dir} (searched first)")
    rows = list_templates(user_dir)
    width = max((len(name) for name, _ in rows), default=0)
    lines += [f"  {name:<{width}}  {where}" for name, where in rows]
    return lines


def _default_files() -> list[Path]:
    from superbill.paths import TEMPLATES_DIR

    out = []
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        relative = path.relative_to(TEMPLATES_DIR)
        if not path.is_file() or any(part.startswith((".", "__")) for part in relative.parts):
            continue
        if path.suffix in (".py", ".pyc"):
            continue
        out.append(path)
    return out


def copy_templates(directory: str | Path) -> list[Path]:
    """Copy every default template, stylesheet and the README into directory. Refuses (FileExistsError,
    nothing written) when any of those files already exists there."""
    from superbill.outfiles import write_atomic
    from superbill.paths import TEMPLATES_DIR

    target = Path(directory)
    sources = _default_files()
    existing = [target / p.relative_to(TEMPLATES_DIR) for p in sources if (target / p.relative_to(TEMPLATES_DIR)).exists()]
    if existing:
        raise FileExistsError(0, "exists", ", ".join(str(p) for p in existing))
    written = []
    for source in sources:
        destination = target / source.relative_to(TEMPLATES_DIR)
        destination.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_atomic(destination, source.read_bytes(), mode=0o644))
    return written
