"""Where the CMS-1500's items print and how its red form is drawn: two data files, not code.

`templates/cms1500-grid.yaml` places every item by line and column on the form's grid (10
characters per inch, 6 lines per inch, line 7 at the top thick rule 1.33 in from the top edge);
`templates/cms1500-form.yaml` draws the form itself for plain paper. A clinic's templates folder
may hold either file: the clinic's grid rows replace the shipped rows of the same name (so moving
one item is one row), a clinic's form file replaces the shipped drawing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from superbill.paths import TEMPLATES_DIR
from superbill.problems import ERROR, Problem

GRID_FILE = "cms1500-grid.yaml"
FORM_FILE = "cms1500-form.yaml"
POINTS_PER_INCH = 72.0
COLUMN = POINTS_PER_INCH / 10  # 10 characters per inch
LINE = POINTS_PER_INCH / 6  # 6 lines per inch
PAGE_HEIGHT = 11 * POINTS_PER_INCH
PAGE_WIDTH = 8.5 * POINTS_PER_INCH


class LayoutProblem(Exception):
    """A clinic's grid or form file that cannot be used; carries one Problem (file, row, what)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.line())


@dataclass(frozen=True)
class Box:
    line: int
    column: int
    width: int
    amount: bool = False


@dataclass(frozen=True)
class Grid:
    line_1_top: float  # points below the page's top edge
    column_1_left: float  # points from the page's left edge
    service_line_step: int
    items: dict[str, Box]

    def x(self, column: float) -> float:
        """The left edge of a column's character cell, in points from the left edge of the page."""
        return self.column_1_left + (column - 1) * COLUMN

    def top(self, line: float) -> float:
        """The top of a line, in points below the top edge of the page."""
        return self.line_1_top + (line - 1) * LINE

    def box(self, name: str) -> Box:
        """An item's box; `name#n` is item 24's row of service line n."""
        base, _, number = name.partition("#")
        box = self.items[base]
        if number:
            box = Box(box.line + (int(number) - 1) * self.service_line_step, box.column, box.width, box.amount)
        return box


def _length(value, where: str, problem) -> float:
    match = re.fullmatch(r"(-?\d+(?:\.\d*)?)\s*(in|mm|pt)", str(value).strip().lower())
    if not match:
        raise problem(where, "give a length with its unit: in, mm or pt")
    return float(match.group(1)) * {"in": 72.0, "mm": 72.0 / 25.4, "pt": 1.0}[match.group(2)]


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LayoutProblem(Problem(str(path), "", ERROR, f"cannot be read ({exc.__class__.__name__})")) from None
    if not isinstance(data, dict):
        raise LayoutProblem(Problem(str(path), "", ERROR, "must be a mapping (see the shipped file)"))
    return data


def _row(name: str, value, problem) -> Box:
    if not (isinstance(value, list) and len(value) in (3, 4)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value[:3])
            and (len(value) == 3 or value[3] == "amount")):
        raise problem(f"items.{name}", "must be [line, column, width] or [line, column, width, amount]")
    line, column, width = value[:3]
    if not (1 <= line <= 66 and 1 <= column <= 85 and 1 <= width <= 85 - column + 1):
        raise problem(f"items.{name}", "line must be 1-66, column 1-85 and the box must end by column 85")
    if len(value) == 4 and width < 4:
        raise problem(f"items.{name}", "an amount needs at least 4 columns (dollars, divider, 2 cents)")
    return Box(line, column, width, len(value) == 4)


def _grid_from(shipped: dict, clinic: dict | None, clinic_path: Path | None) -> Grid:
    def problem(where: str, message: str) -> LayoutProblem:
        return LayoutProblem(Problem(str(clinic_path or TEMPLATES_DIR / GRID_FILE), where, ERROR, message))

    geometry = dict(shipped["geometry"])
    items = {name: _row(name, value, problem) for name, value in shipped["items"].items()}
    if clinic:
        unknown = set(clinic) - {"geometry", "items"}
        if unknown:
            raise problem(sorted(unknown)[0], "unknown key (geometry, items)")
        for key, value in (clinic.get("geometry") or {}).items():
            if key not in geometry:
                raise problem(f"geometry.{key}", "unknown key (line_1_top, column_1_left, service_line_step)")
            geometry[key] = value
        for name, value in (clinic.get("items") or {}).items():
            if name not in items:
                raise problem(f"items.{name}", "no such item on the shipped grid (see templates/cms1500-grid.yaml)")
            items[name] = _row(name, value, problem)
    step = geometry["service_line_step"]
    if not isinstance(step, int) or isinstance(step, bool) or not 1 <= step <= 4:
        raise problem("geometry.service_line_step", "must be a whole number of lines, 1-4")
    return Grid(_length(geometry["line_1_top"], "geometry.line_1_top", problem),
                _length(geometry["column_1_left"], "geometry.column_1_left", problem), step, items)


@lru_cache(maxsize=16)
def _grid_cached(clinic_path: str | None, stamp: tuple | None) -> Grid:
    shipped = _read(TEMPLATES_DIR / GRID_FILE)
    clinic = _read(Path(clinic_path)) if clinic_path else None
    return _grid_from(shipped, clinic, Path(clinic_path) if clinic_path else None)


_COMMAND = re.compile(r"[HV] -?\d+(\.\d+)?( -?\d+(\.\d+)?){2}|[BT] -?\d+(\.\d+)?( -?\d+(\.\d+)?)")


def _check_form(form: dict, path: Path) -> dict:
    """The drawing commands and label rows of a form file, checked so that a clinic's typo is named."""
    def problem(where: str, message: str) -> LayoutProblem:
        return LayoutProblem(Problem(str(path), where, ERROR, message))

    row = form.get("service_line") or {}
    for where, commands in (("thin", form.get("thin")), ("thick", form.get("thick")), ("dotted", form.get("dotted")),
                            ("service_line.thin", row.get("thin")), ("service_line.dotted", row.get("dotted"))):
        for i, command in enumerate(commands or []):
            if not isinstance(command, str) or not _COMMAND.fullmatch(command.strip()):
                raise problem(f"{where}[{i}]", "must be H line col col, V col line line, B line col or T col line")
    for where, rows, least in (("labels", form.get("labels"), 3), ("service_line.labels", row.get("labels"), 3),
                               ("blocks", form.get("blocks"), 4), ("shaded", form.get("shaded"), 4)):
        for i, entry in enumerate(rows or []):
            if not isinstance(entry, list) or len(entry) < least or not all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in entry[:2]):
                raise problem(f"{where}[{i}]", f"must be a list starting [line, column, ...] ({least} entries at least)")
    return form


@lru_cache(maxsize=16)
def _form_cached(path: str, stamp: tuple) -> dict:
    return _check_form(_read(Path(path)), Path(path))


def _stamp(path: Path) -> tuple[int, int]:
    """What the caches key a file on besides its name: a clinic may edit it between two renderings."""
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _override(user_dir: Path | None, name: str) -> Path | None:
    if user_dir is None:
        return None
    path = Path(user_dir) / name
    return path if path.is_file() else None


def load_grid(user_dir: Path | None = None) -> Grid:
    """The shipped grid with the clinic's rows (its templates folder's cms1500-grid.yaml) over it."""
    path = _override(user_dir, GRID_FILE)
    return _grid_cached(str(path) if path else None, _stamp(path) if path else None)


def load_form(user_dir: Path | None = None) -> dict:
    """The facsimile's drawing: the clinic's cms1500-form.yaml if it has one, else the shipped one."""
    path = _override(user_dir, FORM_FILE) or TEMPLATES_DIR / FORM_FILE
    return _form_cached(str(path), _stamp(path))
