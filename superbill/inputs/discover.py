"""Discovery of patient files: the inputs of an export, files as given and folders searched.

A folder is searched recursively for *.yaml, *.yml and *.json (sorted; hidden folders skipped; the
clinic profile skipped by name). Prior-authorization requests are told apart later, by their content.
"""

from __future__ import annotations

from pathlib import Path

from superbill.problems import ERROR, Problem

PATIENT_SUFFIXES = {".yaml", ".yml", ".json"}
CLINIC_NAMES = {"clinic.yaml", "clinic.yml", "clinic.json"}


def expand_inputs(inputs) -> tuple[list[Path], list[Problem]]:
    """Files as given, folders searched recursively (sorted); duplicates dropped; hidden folders skipped;
    symbolic links out of a searched folder reported, not followed."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()

    def add(path: Path):
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found, outside = _search_folder(path)
            for p in found:
                add(p)
            for p in outside:
                problems.append(Problem(str(p), "", ERROR, "is a symbolic link out of the folder: not read "
                                                           "(give its target to export it)"))
        elif path.exists():
            add(path)
        else:
            problems.append(Problem(str(path), "", ERROR, "no such file or folder"))
    return files, problems


def _search_folder(path: Path) -> tuple[list[Path], list[Path]]:
    """(patient files found, symbolic links leading out of the folder), each sorted.

    A symbolic link that leads out of the folder is not followed: a link planted in a shared folder
    must not pull another clinic's patient (or any file) into this export. It is reported, so the
    clerk can name the target itself if it belongs."""
    root = path.resolve()
    found, outside = [], []
    for p in path.rglob("*"):
        if any(part.startswith(".") for part in p.relative_to(path).parts):
            continue
        if p.is_symlink():
            target = p.resolve()
            if target != root and root not in target.parents:
                if p.is_dir() or p.suffix.lower() in PATIENT_SUFFIXES:
                    outside.append(p)
                continue
        if p.suffix.lower() in PATIENT_SUFFIXES and p.is_file() and p.name.lower() not in CLINIC_NAMES:
            found.append(p)
    return sorted(found), sorted(outside)


def nothing_found(inputs, what: str = "patient file") -> Problem:
    """The error when the inputs hold no file to work on: it names what was searched."""
    searched = ", ".join(str(i) for i in inputs) or "(nothing given)"
    return Problem(searched, "", ERROR, f"no {what} found (searched for *.yaml, *.yml and *.json; hidden "
                                        "folders and clinic.yaml skipped)")
