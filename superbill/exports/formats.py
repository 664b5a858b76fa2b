"""The export formats: which exist, and how each turns a run's claims into named files.

`RENDERERS[name](loaded, items, context)` returns `(file name, data)` pairs, `data` being the bytes or
a callable that streams them into a binary file (the 837P). Every name carries the run's interchange
control number, so two runs never write the same file. Writers are imported when used: the CMS-1500
and the superbills pull in the PDF stack.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from superbill.engine.claims import Claim
    from superbill.inputs.load import LoadedClinic
    from superbill.inputs.models import PatientFile

FORMATS = ("837p", "cms1500", "csv", "xlsx", "superbill")

# The module each format needs, when it is not the 837P writer itself.
_MODULES = {"cms1500": "superbill.documents.cms1500", "csv": "superbill.exports.csvexport",
            "xlsx": "openpyxl", "superbill": "superbill.documents.superbill_doc"}


@dataclass
class Item:
    """One claim to write, with what every writer needs around it."""

    file: str
    patient_file: PatientFile
    claim: Claim


@dataclass(frozen=True)
class RunContext:
    """What the writers need to know about the run."""

    control: int  # the interchange control number
    usage: str | None = None  # 837P ISA15 (None: the clinic's x12.usage)
    now: dt.datetime | None = None  # the 837P's creation time (None: now)
    today: dt.date | None = None  # date printed on the forms
    jobs: int | None = None
    cms1500_data_only: bool = False
    # {claim id: ISA13} of the claims in this run's 837P: the CSV and XLSX rows that match them
    x12_claims: Mapping[str, str] = field(default_factory=dict)


class BinaryWriter(Protocol):
    def write(self, data: bytes, /) -> int: ...


# A file of the run: its bytes, or a callable that streams them into the binary file it is given.
FileData = bytes | Callable[[BinaryWriter], object]
OutputFile = tuple[str, FileData]


def _pairs(items: list[Item]) -> list[tuple[PatientFile, Claim]]:
    return [(i.patient_file, i.claim) for i in items]


def _render_837p(loaded: LoadedClinic, items: list[Item], run: RunContext) -> list[OutputFile]:
    """The interchange as a writer: the durable writer streams it into the file segment by segment
    (10,000 claims are about 6 MB of text that never needs to be in memory at once)."""
    from superbill.exports.x12 import Envelope, write_837p

    x12 = loaded.clinic.x12
    assert x12 is not None, "checked before the run (x12.clinic_problems)"
    usage = run.usage or x12.usage
    envelope = Envelope(run.control, run.now or dt.datetime.now(), usage)
    pairs = _pairs(items)
    return [(f"claims-{run.control:09d}.837", lambda handle: write_837p(loaded, pairs, envelope, handle))]


def _by_patient(items: list[Item]) -> list[tuple[str, PatientFile, list[Claim]]]:
    groups: dict[str, tuple[str, PatientFile, list[Claim]]] = {}
    for item in items:
        groups.setdefault(item.file, (item.file, item.patient_file, []))[2].append(item.claim)
    return list(groups.values())


def _render_superbill(loaded: LoadedClinic, items: list[Item], run: RunContext) -> list[OutputFile]:
    from superbill.documents.superbill_doc import build_patient_documents, render_superbills, templates_folder
    from superbill.engine.process import PatientResult

    folder = templates_folder(loaded, None)
    documents = []
    for file, patient_file, claims in _by_patient(items):
        result = PatientResult(file, patient_file=patient_file, claims=claims)
        docs, _ = build_patient_documents(result, loaded, templates_dir=folder, issued=run.today)
        documents += docs
    pdfs = render_superbills(documents, jobs=run.jobs)
    names: set[str] = set()
    out: list[OutputFile] = []
    for doc, pdf in zip(documents, pdfs, strict=True):
        name = f"superbill-{run.control:09d}-{doc.stem}.pdf"
        n = 2
        while name in names:
            name = f"superbill-{run.control:09d}-{doc.stem}-{n}.pdf"
            n += 1
        names.add(name)
        out.append((name, pdf))
    return out


def _render_cms1500(loaded: LoadedClinic, items: list[Item], run: RunContext) -> list[OutputFile]:
    from superbill.documents import cms1500

    data = cms1500.cms1500_pdf(_pairs(items), loaded, run.cms1500_data_only, today=run.today)
    return [(f"cms1500-{run.control:09d}.pdf", data)]


def _render_csv(loaded: LoadedClinic, items: list[Item], run: RunContext) -> list[OutputFile]:
    from superbill.exports import csvexport

    # The same bytes as csvexport.write_csv: UTF-8 with a byte-order mark, so Excel reads accents right.
    text = csvexport.csv_text(_pairs(items), loaded, run.x12_claims)
    return [(f"claims-{run.control:09d}.csv", text.encode("utf-8-sig"))]


def _render_xlsx(loaded: LoadedClinic, items: list[Item], run: RunContext) -> list[OutputFile]:
    from superbill.exports import xlsx

    data = xlsx.workbook_bytes(_pairs(items), loaded, run.x12_claims, created=run.now)
    return [(f"claims-{run.control:09d}.xlsx", data)]


Renderer = Callable[["LoadedClinic", list[Item], RunContext], list[OutputFile]]

RENDERERS: dict[str, Renderer] = {
    "837p": _render_837p,
    "cms1500": _render_cms1500,
    "csv": _render_csv,
    "xlsx": _render_xlsx,
    "superbill": _render_superbill,
}


def available_formats() -> list[str]:
    """The formats this installation can write (the CMS-1500 and CSV writers are separate modules; the
    workbook needs openpyxl)."""
    return [name for name in FORMATS
            if name not in _MODULES or importlib.util.find_spec(_MODULES[name]) is not None]
