"""The installed package holds every module and data file of the source tree.

`scripts/test.sh` runs the suite against the installed package, so a subpackage or a data folder
missing from pyproject.toml's lists fails here, by name, instead of as an import error elsewhere.
Run from the source tree (PYTHONPATH), the two sides are the same folder and this passes trivially.
"""

from __future__ import annotations

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
