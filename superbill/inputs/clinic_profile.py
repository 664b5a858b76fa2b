"""The clinic profile: found, loaded, and held back only as far as its errors reach.

`locate_clinic(option)` finds it (--clinic, $SUPERBILL_CLINIC, ./clinic.yaml) or says how to point at
one; `load_clinic(path)` validates it and builds the code book. An error inside one provider's entry
holds back that provider only (`LoadedClinic.held_providers`); any other error (practice, fees, x12,
medications, protocols) holds back every claim, with one line saying so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from superbill.inputs.hints import wrong_kind
from superbill.inputs.readfile import read_document
from superbill.problems import ERROR, InputRejected, Problem

if TYPE_CHECKING:  # imported where used: `superbill --help` stays fast
    from superbill.inputs.models import Clinic
    from superbill.tables.codebook import CodeBook


def find_clinic(option: str | None) -> Path:
    """--clinic, else $SUPERBILL_CLINIC, else ./clinic.yaml."""
    return Path(option or os.environ.get("SUPERBILL_CLINIC") or "clinic.yaml")


_HOW_TO_POINT = ("give it with `superbill --clinic PATH COMMAND ...` (before the command), set $SUPERBILL_CLINIC, "
                 "run the command in the clinic's folder, or start one with `superbill init DIR`")


def locate_clinic(option: str | None) -> Path:
    """The clinic profile to load, or InputRejected with one line saying where it was looked for and
    how to point at one. A folder given with --clinic means its clinic.yaml."""
    path = find_clinic(option)
    if path.is_dir() and (path / "clinic.yaml").is_file():
        return path / "clinic.yaml"
    if path.exists():
        return path
    if option:
        how = "give the path of the clinic's clinic.yaml (or its folder), or start one with `superbill init DIR`"
        raise InputRejected([Problem(str(path), "", ERROR, f"no such clinic profile (given with --clinic): {how}")])
    if os.environ.get("SUPERBILL_CLINIC"):
        how = "point it at the clinic's clinic.yaml, or give one with `superbill --clinic PATH COMMAND ...`"
        raise InputRejected([Problem(str(path), "", ERROR, f"no such clinic profile (named by $SUPERBILL_CLINIC): {how}")])
    raise InputRejected([Problem(str(path), "", ERROR, f"no clinic profile in this folder: {_HOW_TO_POINT}")])


@dataclass
class LoadedClinic:
    clinic: Clinic
    book: CodeBook
    path: Path
    # Providers whose entry has errors: {provider id: its first problem}. Their claims are held back;
    # `problems` are those errors (and a line per held provider), for the command to print once.
    held_providers: dict[str, Problem] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    _claims_view: Any = field(default=None, repr=False, compare=False)

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent

    def resolve(self, relative: str | None) -> Path | None:
        return None if not relative else (self.folder / relative)

    def claims_clinic(self) -> Clinic:
        """The clinic the billing engine builds claims with: held providers are stand-ins (their id
        only), so every session still gets its claim and its claim id (the ids of a day's sessions
        depend on each other); the stand-ins' claims are held back before they are checked."""
        if not self.held_providers:
            return self.clinic
        if self._claims_view is None:
            from superbill.inputs.models import Provider

            standins = [Provider.model_construct(id=pid, first_name="", last_name="", middle_name=None, credentials="",
                                                 npi="", taxonomy="", specialty=None, signature=None)
                        for pid in self.held_providers]
            self._claims_view = self.clinic.model_copy(update={"providers": list(self.clinic.providers) + standins})
        return self._claims_view


_PROVIDER_ENTRY = re.compile(r"providers\[(\d+)\]")


def _held_providers(data, problems: list[Problem]) -> dict[int, tuple[str, Problem]] | None:
    """{entry index: (provider id, its first problem)} when every problem is inside a provider's
    entry (and that entry names its id), else None: some problem touches every claim."""
    entries = data.get("providers") if isinstance(data, dict) else None
    held: dict[int, tuple[str, Problem]] = {}
    for problem in problems:
        match = _PROVIDER_ENTRY.match(problem.path)
        if not match or not isinstance(entries, list):
            return None
        index = int(match.group(1))
        entry = entries[index] if index < len(entries) else None
        pid = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(pid, int) and not isinstance(pid, bool):
            pid = str(pid)
        if not isinstance(pid, str) or not pid.strip() or problem.path.startswith(f"providers[{index}].id"):
            return None
        held.setdefault(index, (pid.strip(), problem))
    return held


def _everything_held(path: Path, problems: list[Problem]) -> InputRejected:
    blocks = sorted({re.split(r"[.\[]", p.path, maxsplit=1)[0] for p in problems} - {"", "(top level)"})
    if not blocks:  # not a clinic profile at all (a list, a scalar): its one line says so
        return InputRejected(problems)
    names = " and ".join(blocks) if len(blocks) < 3 else ", ".join(blocks[:-1]) + " and " + blocks[-1]
    line = Problem(str(path), "", ERROR, f"every claim is held back until the errors in {names} are fixed "
                                         "(they apply to all claims)")
    return InputRejected(problems + [line])


def load_clinic(path: str | Path, data=None) -> LoadedClinic:
    """The clinic profile, or InputRejected with every problem and one line saying everything is held.

    An error inside one provider's entry holds back only that provider: the profile loads without it,
    and `held_providers` names it (its sessions' claims are held back, the others go)."""
    from superbill.inputs.load import _parse
    from superbill.inputs.models import Clinic

    path = Path(path)
    if data is None:
        data = read_document(path)
    try:
        clinic = _parse(Clinic, path, data)
        held: dict[int, tuple[str, Problem]] = {}
        problems: list[Problem] = []
    except InputRejected as exc:
        found = _held_providers(data, exc.problems)
        if not found or wrong_kind(data, Clinic):
            raise (exc if wrong_kind(data, Clinic) else _everything_held(path, exc.problems)) from None
        rest = dict(data, providers=[p for i, p in enumerate(data["providers"]) if i not in found])
        if not rest["providers"]:
            raise _everything_held(path, exc.problems) from None
        try:
            clinic = _parse(Clinic, path, rest)
        except InputRejected as again:
            raise _everything_held(path, exc.problems + again.problems) from None
        held, problems = found, list(exc.problems)
    loaded = _clinic_tables(path, clinic)
    loaded.held_providers = {pid: first for pid, first in held.values()}
    loaded.problems = problems + [
        Problem(str(path), f"providers[{index}]", ERROR, f"provider {pid!r} is held back: none of its claims go out "
                                                          "until its entry is fixed (the other providers' claims still go)")
        for index, (pid, _) in sorted(held.items())]
    return loaded


def _clinic_tables(path: Path, clinic: Clinic) -> LoadedClinic:
    from superbill.tables.codebook import build_codebook

    book, rows = build_codebook(clinic)
    problems = [Problem(str(path), where, ERROR, message) for where, message in rows]
    for name, protocol in clinic.protocols.items():
        for i, med in enumerate(protocol.medications):
            if med.drug not in book.medications:
                problems.append(Problem(str(path), f"protocols.{name}.medications[{i}].drug", ERROR,
                                        f"unknown drug {med.drug!r}: add it under medications"))
    if problems:
        raise _everything_held(path, problems)
    return LoadedClinic(clinic, book, path)
