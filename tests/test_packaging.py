"""The installed package holds every module and data file of the source tree.

`scripts/test.sh` runs the suite against the installed package, so a subpackage or a data folder
missing from pyproject.toml's lists fails here, by name, instead of as an import error elsewhere.
Run from the source tree (PYTHONPATH), the two sides are the same folder and this passes trivially.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import superbill
from superbill.paths import CODES_DIR, EXAMPLES_DIR, TEMPLATES_DIR

REPO = Path(__file__).resolve().parents[1]


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_every_module_is_installed():
    installed = Path(superbill.__file__).resolve().parent
    assert {f for f in files(REPO / "superbill") if f.endswith(".py")} - files(installed) == set()


def test_every_data_file_is_installed():
    for name, installed in (("codes", CODES_DIR), ("templates", TEMPLATES_DIR), ("examples", EXAMPLES_DIR)):
        assert files(REPO / name) - files(installed) == set(), name


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_declared_dependency_is_in_the_test_lock():
    """A dependency added to pyproject.toml without `bash scripts/lock.sh` fails here by name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {_name(r) for r in project["project"]["dependencies"] + project["project"]["optional-dependencies"]["test"]}
    declared |= {_name(r) for r in project["build-system"]["requires"]}
    locked = {_name(line) for line in (REPO / "requirements" / "test.lock").read_text(encoding="utf-8").splitlines()
              if line and not line.startswith((" ", "#", "-"))}
    assert declared - locked == set()
