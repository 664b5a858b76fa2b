"""Jinja2 templates the way Datasette does overrides.

The clinic's folder (`templates:` in clinic.yaml, or --templates) is searched before the shipped
defaults, and a clinic template can `{% extends "default:superbill.html" %}` to replace a block
without copying the rest. Autoescaping is on for every template: patient text is never markup.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from superbill.paths import TEMPLATES_DIR


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
