"""Where the shipped data lives.

Installed, `codes/` and `templates/` sit inside the package; in a source checkout (or an
editable install) they sit beside it at the repository root.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


CODES_DIR = _data_dir("codes")
TEMPLATES_DIR = _data_dir("templates")
EXAMPLES_DIR = _data_dir("examples")
