"""The prior-authorization letter of medical necessity (docs/reference.md "Outputs").

`prepare_letter` validates a request file (its patient file, the plan through the billing engine
and the scrubber) and builds the letter's typed context (`superbill.documents.letter_context`):
every element docs/reference.md "Outputs" lists for it, with the codes and units per session computed by the billing
engine, the charges from the fee schedule and the evidence chosen from `codes/citations.yaml` by
diagnosis. `render_html` and `render_letter_pdf` turn it into a document through the shared
templating and PDF layers.

Refusals raise `InputRejected` with one problem per line: the request's own checks
(`load.load_request`), letter checks (dates against the letter date) and the scrubber's errors for
the planned session (`letter_plan.plan_problems`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from superbill.documents.evidence import CitationLibraryError
from superbill.documents.images import Images
from superbill.documents.letter_context import LetterContext, letter_context
from superbill.problems import ERROR, WARNING, InputRejected, Problem

# ---------------------------------------------------------------- validation


def letter_problems(request, patient_file, letter_date: dt.date, file: str) -> list[Problem]:
    """Checks that need the letter date: history in the future, a series already begun."""
    problems = []

    def error(path, message):
        problems.append(Problem(file, path, ERROR, message))

    condition = request.condition
    if condition.onset > letter_date:
        error("condition.onset", "is after the letter date")
    if condition.onset < patient_file.patient.dob:
        error("condition.onset", "is before the patient's birth date")
    for i, score in enumerate(condition.pain_scores):
        if score.date > letter_date:
            error(f"condition.pain_scores[{i}].date", "is after the letter date")
    for i, treatment in enumerate(request.prior_treatments):
        if treatment.start > letter_date:
            error(f"prior_treatments[{i}].start", "is after the letter date: list treatments already tried")
        if treatment.end is not None and treatment.end > letter_date:
            error(f"prior_treatments[{i}].end", "is after the letter date")
    if request.plan.start < letter_date:
        problems.append(Problem(file, "plan.start", WARNING,
                                "the series starts before the letter date: most plans do not authorize retroactively"))
    return problems


# ---------------------------------------------------------------- the context


@dataclass
class PreparedLetter:
    context: LetterContext
    warnings: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # images the PDF may load (logo, signature)


def prepare_letter(request_path: str | Path, loaded, today: dt.date | None = None) -> PreparedLetter:
    """Validate the request and build the letter's context, or raise InputRejected."""
    from superbill.engine.letter_plan import plan_claim, plan_problems
    from superbill.inputs.load import load_request

    file = str(request_path)
    request, patient_file = load_request(Path(request_path), loaded)
    letter_date = request.date or today or dt.date.today()
    problems = letter_problems(request, patient_file, letter_date, file)
    problems += plan_problems(request, loaded, file, patient_file)
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        raise InputRejected(errors)
    images = Images("letter")
    claim = plan_claim(request, patient_file, loaded)
    context = letter_context(request, patient_file, loaded, claim, letter_date, images)
    warnings = [p for p in problems if p.severity != ERROR] + images.warnings
    return PreparedLetter(context, warnings, images.files)


# ---------------------------------------------------------------- rendering


def render_html(context: LetterContext, user_dir: str | Path | None = None, name: str = "letter.html") -> str:
    """The letter's HTML; raises TemplateProblem naming the template file and line."""
    from superbill.documents.templating import render

    return render(name, context, user_dir)


def render_letter_pdf(html: str, user_dir: str | Path | None = None, files=()) -> bytes:
    from superbill.documents.pdf import document_pdf

    return document_pdf(html, user_dir, files)


def write_letter(request_path: str | Path, loaded, output: str | Path, *, as_html: bool = False,
                 templates_dir: str | Path | None = None, today: dt.date | None = None):
    """Prepare, render and write the letter atomically (owner-only). Returns (path, warnings).

    Every refusal — the request, its plan, the template — raises InputRejected with one problem a
    line; nothing is written then.
    """
    from superbill.documents.references import reference_warnings
    from superbill.documents.templating import TemplateProblem, templates_folder
    from superbill.outfiles import ensure_folder, write_atomic

    try:
        prepared = prepare_letter(request_path, loaded, today)
    except CitationLibraryError as exc:
        raise InputRejected([Problem("codes/citations.yaml", "", ERROR, f"the letter cannot be written: {exc}")]) from None
    try:
        user_dir = templates_folder(loaded, templates_dir)
        prepared.warnings += reference_warnings(user_dir)
        html = render_html(prepared.context, user_dir)
    except TemplateProblem as exc:
        raise InputRejected([exc.problem]) from None
    data = html if as_html else render_letter_pdf(html, user_dir, prepared.files)
    target = Path(output)
    try:
        ensure_folder(target.parent)
        write_atomic(target, data)
    except OSError as exc:  # a folder that is a file, a full disk: one line, as for every other refusal
        raise InputRejected([Problem(str(target), "", ERROR, f"cannot be written ({exc.strerror or exc})")]) from None
    return target, prepared.warnings
