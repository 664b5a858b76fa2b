"""The prior-authorization letter of medical necessity (SPEC "Prior-authorization letter PDF").

`prepare_letter` validates a request file (its patient file, the plan through the billing engine
and the scrubber) and builds the letter's context: every element of domain.md §7.2, with the
codes and units per session computed by the billing engine, the charges from the fee schedule and
the evidence chosen from `codes/citations.yaml` by diagnosis. `render_html` and `render_letter_pdf`
turn it into a document through the shared templating and PDF layers.

Refusals raise `InputRejected` with one problem per line: the request's own checks
(`load.load_request`), letter checks (dates against the letter date) and the scrubber's errors for
the planned session (`letter_plan.plan_problems`).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from superbill.problems import ERROR, WARNING, InputRejected, Problem

CENT = Decimal("0.01")
UM_DEPARTMENT = "Utilization Management Department"

SCREENING_LABELS = {
    "uncontrolled_hypertension": "Uncontrolled hypertension or poorly controlled cardiovascular disease",
    "psychosis_history": "History of psychosis",
    "pregnancy": "Pregnancy",
    "severe_hepatic_disease": "Severe hepatic disease",
    "active_substance_use_disorder": "Active substance use disorder",
    "elevated_intracranial_or_intraocular_pressure": "Elevated intracranial or intraocular pressure",
}

DEFAULT_MONITORING = (
    "Each infusion is given in a monitored setting with continuous pulse oximetry (SpO2) and ECG "
    "monitoring and blood pressure measured at regular intervals, with a practitioner certified in "
    "advanced cardiac life support (ACLS) immediately available from the start of the infusion "
    "until discharge. Rescue medications (for psychotomimetic effects, blood pressure elevation and "
    "nausea) and airway equipment are at hand. The patient is discharged only when discharge "
    "criteria are met, to a responsible adult."
)


# ---------------------------------------------------------------- small formatters


def money_text(value: Decimal) -> str:
    """$1,359.00"""
    return f"${Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"


def long_date(value: dt.date) -> str:
    """December 1, 2026"""
    return f"{value:%B} {value.day}, {value.year}"


def us_date(value: dt.date) -> str:
    """12/01/2026"""
    return f"{value:%m/%d/%Y}"


def phone_text(digits: str | None) -> str | None:
    if not digits:
        return None
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def zip_text(value: str) -> str:
    return f"{value[:5]}-{value[5:]}" if len(value) == 9 else value


def address_lines(address) -> list[str]:
    if address is None:
        return []
    lines = [address.street]
    if address.street2:
        lines.append(address.street2)
    lines.append(f"{address.city}, {address.state} {zip_text(address.zip)}")
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration_text(start: dt.date, end: dt.date) -> str:
    """Whole years and months from start to end ("2 years 8 months"); days under a month."""
    from dateutil.relativedelta import relativedelta

    delta = relativedelta(end, start)
    if delta.years == 0 and delta.months == 0:
        return _plural((end - start).days, "day")
    parts = []
    if delta.years:
        parts.append(_plural(delta.years, "year"))
    if delta.months:
        parts.append(_plural(delta.months, "month"))
    return " ".join(parts)


def minutes_text(minutes: int) -> str:
    """240 -> '240 minutes (4 hours)'; 150 -> '150 minutes (2 hours 30 minutes)'."""
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return _plural(minutes, "minute")
    inner = _plural(hours, "hour") + (f" {_plural(rest, 'minute')}" if rest else "")
    return f"{minutes} minutes ({inner})"


def _number(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


# ---------------------------------------------------------------- the evidence library


class CitationLibraryError(ValueError):
    pass


@functools.lru_cache(maxsize=4)
def load_citations(path: str | None = None) -> dict:
    """codes/citations.yaml, checked: every statement's [@key] and every indication's statement exist."""
    import yaml

    from superbill.paths import CODES_DIR

    with open(path or CODES_DIR / "citations.yaml", encoding="utf-8") as handle:
        library = yaml.safe_load(handle)
    citations, statements = library["citations"], library["statements"]
    for key, text in statements.items():
        for ref in re.findall(r"\[@([A-Za-z0-9_]+)\]", text):
            if ref not in citations:
                raise CitationLibraryError(f"statement {key!r} cites unknown reference {ref!r}")
    if "other" not in library["indications"]:
        raise CitationLibraryError("the library needs an 'other' indication (the fallback)")
    for name, indication in library["indications"].items():
        for key in indication["statements"]:
            if key not in statements:
                raise CitationLibraryError(f"indication {name!r} uses unknown statement {key!r}")
    return library


def indication_for(diagnoses, library: dict) -> str:
    """The first indication (in the library's order) with a code prefix matching any diagnosis."""
    for name, indication in library["indications"].items():
        prefixes = indication.get("codes") or []
        if any(code.startswith(prefix) for code in diagnoses for prefix in prefixes):
            return name
    return "other"


def reference_text(entry: dict) -> str:
    """AMA style: Authors. Title. Journal. Year;Vol(Issue):Pages. doi:... PMID ..."""
    title = " ".join(str(entry["title"]).split())
    if title[-1] not in ".?!":
        title += "."
    authors = entry["authors"].rstrip(".") + "."
    where = f"{entry['journal']}. {entry['year']};{entry['volume']}"
    if entry.get("issue"):
        where += f"({entry['issue']})"
    where += f":{entry['pages']}."
    text = f"{authors} {title} {where}"
    if entry.get("doi"):
        text += f" doi:{entry['doi']}"
    if entry.get("pmid"):
        text += f" PMID {entry['pmid']}."
    elif entry.get("pmcid"):
        text += f" PMCID {entry['pmcid']}."
    elif entry.get("doi"):
        text += "."
    return text


@dataclass
class Evidence:
    indication: str
    label: str
    grade: str
    paragraphs: list[str]
    references: list[dict]  # {number, key, text, doi, pmid}


def evidence_for(diagnoses, library: dict | None = None) -> Evidence:
    library = library or load_citations()
    name = indication_for(diagnoses, library)
    indication = library["indications"][name]
    numbers: dict[str, int] = {}

    def number(match) -> str:
        key = match.group(1)
        numbers.setdefault(key, len(numbers) + 1)
        return f"[{numbers[key]}]"

    paragraphs = []
    for key in indication["statements"]:
        text = " ".join(str(library["statements"][key]).split())
        paragraphs.append(re.sub(r"\[@([A-Za-z0-9_]+)\]", number, text))
    references = []
    for key, n in sorted(numbers.items(), key=lambda item: item[1]):
        entry = library["citations"][key]
        references.append({"number": n, "key": key, "text": reference_text(entry),
                           "doi": entry.get("doi"), "pmid": entry.get("pmid")})
    return Evidence(name, indication["label"], indication["grade"], paragraphs, references)


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
    context: dict
    warnings: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # images the PDF may load (logo, signature)


def _image(loaded, relative: str | None, where: str, warnings: list[Problem]) -> str | None:
    if not relative:
        return None
    path = loaded.resolve(relative)
    if not path.is_file():
        warnings.append(Problem(str(loaded.path), where, WARNING, "the image file was not found; the letter is written without it"))
        return None
    return path.resolve().as_uri()


def _person_name(person) -> str:
    parts = [person.first_name, getattr(person, "middle_name", None), person.last_name,
             getattr(person, "suffix", None)]
    return " ".join(p for p in parts if p)


def prepare_letter(request_path: str | Path, loaded, today: dt.date | None = None) -> PreparedLetter:
    """Validate the request and build the letter's context, or raise InputRejected."""
    from superbill.engine.letter_plan import plan_claim, plan_problems
    from superbill.ids import ein, ndc, pos
    from superbill.inputs.load import load_request
    from superbill.tables.icd10cm_index import EDITION, lookup

    file = str(request_path)
    request, patient_file = load_request(Path(request_path), loaded)
    letter_date = request.date or today or dt.date.today()
    problems = letter_problems(request, patient_file, letter_date, file)
    problems += plan_problems(request, loaded, file, patient_file)
    errors = [p for p in problems if p.severity == ERROR]
    if errors:
        raise InputRejected(errors)
    warnings = [p for p in problems if p.severity != ERROR]

    clinic, book = loaded.clinic, loaded.book
    practice = clinic.practice
    provider = clinic.provider(request.provider)
    patient, insurance = patient_file.patient, patient_file.insurance
    plan = request.plan
    claim = plan_claim(request, patient_file, loaded)
    sessions = plan.sessions

    files: list[Path] = []
    logo = _image(loaded, practice.logo, "practice.logo", warnings)
    signature = _image(loaded, provider.signature, f"providers[{clinic.providers.index(provider)}].signature", warnings)
    for uri in (logo, signature):
        if uri:
            from urllib.parse import unquote, urlsplit

            files.append(Path(unquote(urlsplit(uri).path)))

    lines = []
    for line in claim.lines:
        lines.append({
            "code": line.code,
            "modifiers": " ".join(line.modifiers),
            "description": line.description,
            "units": line.units,
            "course_units": line.units * sessions,
            "fee": line.fee,
            "charge": line.charge,
            "course_charge": line.charge * sessions,
            "ndc": ndc.format(line.ndc) if line.ndc else None,
            "ndc_quantity": (f"{_number(line.ndc_quantity)} {line.ndc_unit}" if line.ndc_quantity is not None else None),
            "kind": line.kind,
        })

    medications = []
    for given in plan.medications:
        row = book.medications[given.drug]
        strength = f"{_number(row.mg_per_ml)} mg/mL" if row.mg_per_ml else None
        dose = f"{_number(given.dose_mg)} mg" if given.dose_mg is not None else f"{_number(given.volume_ml)} mL"
        code = given.ndc or row.ndc
        medications.append({"name": row.name, "strength": strength, "dose": dose,
                            "route": given.route or "IV", "hcpcs": row.hcpcs,
                            "ndc": ndc.format(code) if code else None})

    subscriber = None
    if insurance.subscriber is not None:
        sub = insurance.subscriber
        subscriber = {"name": _person_name(sub), "relationship": sub.relationship, "dob": sub.dob}

    payer = request.payer
    evidence = evidence_for(request.diagnoses)
    screening = [{"key": key, "label": label, "present": getattr(request.screening, key),
                  "answer": "Yes" if getattr(request.screening, key) else "No"}
                 for key, label in SCREENING_LABELS.items()]
    reassessment = plan.reassessment or (
        f"The response is assessed against these criteria at the end of the initial series "
        f"(after the last infusion, on or about {long_date(plan.end)}). If the criteria are not "
        f"met, infusions stop; any further (booster) infusions will be requested separately and "
        f"only on documented response."
    )

    context = {
        "letter_date": letter_date,
        "practice": {
            "name": practice.name,
            "address": address_lines(practice.address),
            "phone": phone_text(practice.phone),
            "fax": phone_text(practice.fax),
            "email": practice.email,
            "npi": practice.npi,
            "tin": ein.format(practice.tax_id),
            "taxonomy": practice.taxonomy,
            "logo": logo,
        },
        "provider": {
            "name": _person_name(provider),
            "display_name": provider.display_name,
            "credentials": provider.credentials,
            "npi": provider.npi,
            "taxonomy": provider.taxonomy,
            "specialty": provider.specialty,
            "signature": signature,
        },
        "payer": {
            "name": insurance.payer_name,
            "payer_id": insurance.payer_id,
            "department": (payer.department if payer and payer.department else UM_DEPARTMENT),
            "address": address_lines(payer.address) if payer else [],
            "fax": phone_text(payer.fax) if payer else None,
            "phone": phone_text(payer.phone) if payer else None,
            "policy": payer.policy if payer else None,
        },
        "urgency": request.urgency,
        "expedited": request.urgency == "expedited",
        "expedited_reason": request.expedited_reason,
        "patient": {
            "name": _person_name(patient),
            "dob": patient.dob,
            "account": patient.id,
            "member_id": insurance.member_id,
            "group_number": insurance.group_number,
            "group_name": insurance.group_name,
            "subscriber": subscriber,
        },
        "place_of_service": {"code": claim.place_of_service, "name": pos.name(claim.place_of_service)},
        "diagnoses": [{"code": code, "title": entry.title if (entry := lookup(code)) else ""}
                      for code in request.diagnoses],
        "icd_edition": EDITION,
        "condition": {
            "onset": request.condition.onset,
            "duration": duration_text(request.condition.onset, letter_date),
            "summary": request.condition.summary,
            "diagnostic_basis": request.condition.diagnostic_basis,
            "function": request.condition.function,
            "pain_scores": sorted(request.condition.pain_scores, key=lambda s: s.date),
        },
        "prior_treatments": request.prior_treatments,
        "screening": screening,
        "screening_all_negative": not request.screening.positives(),
        "screening_rationale": request.screening_rationale,
        "plan": {
            "sessions": sessions,
            "start": plan.start,
            "end": plan.end,
            "schedule": plan.schedule,
            "dose": plan.dose,
            "infusion_minutes": plan.infusion_minutes,
            "infusion_length": minutes_text(plan.infusion_minutes),
            "medications": medications,
            "response_criteria": plan.response_criteria,
            "reassessment": reassessment,
            "monitoring": plan.monitoring or DEFAULT_MONITORING,
            "monitoring_is_default": plan.monitoring is None,
        },
        "lines": lines,
        "per_session": claim.total_charge,
        "per_course": claim.total_charge * sessions,
        "evidence": evidence,
    }
    return PreparedLetter(context, warnings, files)


# ---------------------------------------------------------------- rendering


def render_html(context: dict, user_dir: str | Path | None = None, name: str = "letter.html") -> str:
    from superbill.documents.templating import environment

    env = environment(user_dir)
    env.filters.update(money=money_text, longdate=long_date, usdate=us_date)
    return env.get_template(name).render(**context)


def render_letter_pdf(html: str, user_dir: str | Path | None = None, files=()) -> bytes:
    from superbill.documents.pdf import render_pdf
    from superbill.documents.templating import template_dirs
    from superbill.paths import TEMPLATES_DIR

    roots = template_dirs(user_dir)
    return render_pdf(html, roots[0] if user_dir else TEMPLATES_DIR, roots, files)


def write_letter(request_path: str | Path, loaded, output: str | Path, *, as_html: bool = False,
                 templates_dir: str | Path | None = None, today: dt.date | None = None):
    """Prepare, render and write the letter atomically (owner-only). Returns (path, warnings).

    Every refusal — the request, its plan, the template — raises InputRejected with one problem a
    line; nothing is written then.
    """
    import jinja2

    from superbill.documents.templating import TemplateProblem, templates_folder
    from superbill.outfiles import ensure_folder, write_atomic
    from superbill.problems import InputRejected

    prepared = prepare_letter(request_path, loaded, today)
    try:
        user_dir = templates_folder(loaded, templates_dir)
    except TemplateProblem as exc:
        raise InputRejected([exc.problem]) from None
    where = str(user_dir or "templates")
    try:
        html = render_html(prepared.context, user_dir)
        data = html if as_html else render_letter_pdf(html, user_dir, prepared.files)
    except jinja2.TemplateSyntaxError as exc:
        raise InputRejected([Problem(exc.filename or exc.name or where, f"line {exc.lineno}", "error", exc.message or str(exc))]) from None
    except jinja2.TemplateNotFound as exc:
        raise InputRejected([Problem(where, "", "error", f"template {exc.name} not found")]) from None
    except (jinja2.TemplateError, CitationLibraryError) as exc:
        raise InputRejected([Problem("letter.html", "", "error", f"the template cannot be rendered: {exc}")]) from None
    target = Path(output)
    ensure_folder(target.parent)
    write_atomic(target, data)
    return target, prepared.warnings
