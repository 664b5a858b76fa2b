"""The letter's evidence: statements and references chosen from `codes/citations.yaml` by diagnosis.

The library is checked when it is read (every statement's [@key] and every indication's statement
exist); `evidence_for(diagnoses)` gives the paragraphs of the first matching indication with their
citations numbered in order of first use, and the references in AMA style.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from superbill.documents.templating import TemplateData


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


@dataclass(slots=True)
class Reference(TemplateData):
    number: int
    key: str
    text: str
    doi: str | None
    pmid: str | None


@dataclass(slots=True)
class Evidence(TemplateData):
    indication: str
    label: str
    grade: str
    paragraphs: list[str]
    references: list[Reference]


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
        references.append(Reference(number=n, key=key, text=reference_text(entry),
                                    doi=entry.get("doi"), pmid=entry.get("pmid")))
    return Evidence(name, indication["label"], indication["grade"], paragraphs, references)
