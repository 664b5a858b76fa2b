"""Shared test helpers: a starter clinic folder, YAML editing, running the CLI in-process."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from click.testing import CliRunner

from superbill.cli import main
from superbill.inputs.starter import write_starter
from superbill.paths import EXAMPLES_DIR


def make_clinic(folder: Path) -> Path:
    write_starter(folder)
    return folder


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def write_yaml(path: Path, data) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def edit_yaml(path: Path, change) -> Path:
    """Load a YAML file, let `change` edit the data in place, write it back."""
    data = read_yaml(path)
    change(data)
    return write_yaml(path, data)


def example_patient() -> dict:
    return copy.deepcopy(read_yaml(EXAMPLES_DIR / "patients" / "example.yaml"))


def example_clinic() -> dict:
    return copy.deepcopy(read_yaml(EXAMPLES_DIR / "clinic.yaml"))


def run(*args, clinic: Path | None = None):
    """Run `superbill [--clinic C] args...`; exceptions propagate (a traceback is a test failure)."""
    argv = (["--clinic", str(clinic)] if clinic else []) + [str(a) for a in args]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


# The one warning a date of service from 2026-10-01 on gets: the FY2027 ICD-10-CM tabular is not shipped
# (not on the package registries), so its diagnoses are checked against FY2026 (once per file).
FY2027_NOTE = ("ICD-10-CM FY2027 is not shipped with superbill: its diagnoses were checked against FY2026, "
               "the nearest shipped edition")


def edition_note(file, session: int = 0) -> dict:
    """The FY2027 note as `check --json` / `claims --json` print it."""
    return {"file": str(file), "path": f"sessions[{session}].date", "severity": "warning", "message": FY2027_NOTE}


def without_edition_note(lines: list[str]) -> list[str]:
    """Terminal lines without the FY2027 edition note, for tests about something else."""
    return [line for line in lines if FY2027_NOTE not in line]


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def summary(result) -> list[str]:
    """An export's summary lines (stdout) without its closing warning count, "N warning(s) (printed
    above)": for tests about what was exported, whatever warnings the claims carry."""
    import re

    text = result if isinstance(result, str) else result.stdout
    return [line for line in text.splitlines() if not re.fullmatch(r"\d+ warning\(s\) \(printed above\)", line)]
