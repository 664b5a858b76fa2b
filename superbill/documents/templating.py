"""Jinja2 templates the way Datasette does overrides.

The clinic's folder (`templates:` in clinic.yaml, or --templates) is searched before the shipped
defaults, and a clinic template can `{% extends "default:superbill.html" %}` to replace a block
without copying the rest. Autoescaping is on for every template: patient text is never markup.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from superbill.paths import TEMPLATES_DIR
from superbill.problems import ERROR, Problem


class TemplateProblem(Exception):
    """A template folder or template that cannot be used; carries one Problem."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.line())


def templates_folder(loaded, override: str | Path | None = None) -> Path | None:
    """The clinic's template folder: --templates wins, else `templates:` in clinic.yaml (relative to it)."""
    if override:
        folder = Path(override)
        if not folder.is_dir():
            raise TemplateProblem(Problem(str(override), "", ERROR, "templates folder not found"))
        return folder.resolve()
    relative = getattr(loaded.clinic, "templates", None)
    if not relative:
        return None
    folder = loaded.resolve(relative)
    if not folder.is_dir():
        raise TemplateProblem(Problem(str(loaded.path), "templates", ERROR,
                                      f"templates folder {relative!r} not found (relative to clinic.yaml)"))
    return folder.resolve()


def template_dirs(user_dir: str | Path | None) -> list[Path]:
    """The folders templates and their assets may come from, the clinic's first."""
    dirs = []
    if user_dir:
        dirs.append(Path(user_dir).resolve())
    dirs.append(TEMPLATES_DIR.resolve())
    return dirs


def environment(user_dir: str | Path | None = None) -> jinja2.Environment:
    defaults = jinja2.FileSystemLoader(str(TEMPLATES_DIR))
    loaders: list[jinja2.BaseLoader] = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    loaders += [jinja2.PrefixLoader({"default": defaults}, delimiter=":"), defaults]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def list_templates(user_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(name, where) for every template, the clinic's overrides marked."""
    out = []
    user = set()
    if user_dir and Path(user_dir).is_dir():
        user = {p.relative_to(user_dir).as_posix() for p in Path(user_dir).rglob("*") if p.is_file()}
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".css"):
            name = path.relative_to(TEMPLATES_DIR).as_posix()
            out.append((name, "clinic override" if name in user else "default"))
    for name in sorted(user - {n for n, _ in out}):
        if name.endswith((".html", ".css")):
            out.append((name, "clinic"))
    return out
