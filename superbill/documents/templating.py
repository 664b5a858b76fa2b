"""Jinja2 templates the way Datasette does overrides, with one filter set for every document.

The clinic's folder (`templates:` in clinic.yaml, or --templates) is searched before the shipped
defaults, and a clinic template can `{% extends "default:superbill.html" %}` to replace a block
without copying the rest. Autoescaping is on for every template: patient text is never markup.

`environment(user_dir)` is the one factory (cached per folder) and its filters are the shared
formatters: `money` ($2,268.00), `date` (11/02/2026), `longdate` (November 2, 2026), `phone`
((217) 555-0100). `render(template, context, user_dir)` is the one way a document becomes HTML:
a template error of any kind becomes a `TemplateProblem` naming the template file and its line.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from superbill.documents import formatting
from superbill.paths import TEMPLATES_DIR
from superbill.problems import ERROR, Problem

FILTERS: dict[str, Callable[..., Any]] = {
    "money": formatting.money,
    "date": formatting.us_date,
    "longdate": formatting.long_date,
    "phone": formatting.phone_text,
}


class TemplateData:
    """Base of the typed template contexts: fields read as attributes (as templates do) or by name,
    `context["lines"]`, for code that takes a context apart."""

    __slots__ = ()

    def __getitem__(self, name: str):
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


class TemplateProblem(Exception):
    """A template folder or template that cannot be used; carries one Problem."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.line())


def templates_folder(loaded, override: str | Path | None = None) -> Path | None:
    """The clinic's template folder: --templates wins, else `templates:` in clinic.yaml (relative to it).
    A folder that is named but missing is an error for every document (TemplateProblem)."""
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
    """The Jinja environment for a clinic's folder (None: the shipped templates only), with the filters."""
    if user_dir and not Path(user_dir).is_dir():
        raise TemplateProblem(Problem(str(user_dir), "", ERROR, "templates folder not found"))
    return _environment(str(Path(user_dir).resolve()) if user_dir else None)


@lru_cache(maxsize=8)
def _environment(user_dir: str | None) -> jinja2.Environment:
    defaults = jinja2.FileSystemLoader(str(TEMPLATES_DIR))
    loaders: list[jinja2.BaseLoader] = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders += [jinja2.PrefixLoader({"default": defaults}, delimiter=":"), defaults]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


def context_mapping(context) -> dict:
    """A typed context's top-level fields as template names (the nested values stay objects)."""
    if dataclasses.is_dataclass(context) and not isinstance(context, type):
        return {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
    return dict(context)


def render(template: str, context, user_dir: str | Path | None = None) -> str:
    """`template` rendered with `context` (a dataclass or a dict). Raises TemplateProblem, naming the
    template file and line, for a syntax error, a missing template or a name the data does not have."""
    env = environment(user_dir)
    try:
        return env.get_template(template).render(**context_mapping(context))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(Problem(exc.filename or exc.name or template, f"line {exc.lineno}", ERROR,
                                      f"template syntax error: {exc.message}")) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(Problem(template, "", ERROR, f"template not found: {exc.name}")) from None
    except jinja2.TemplateError as exc:
        file, line = _template_frame(exc, env, template)
        message = exc.message if isinstance(exc, jinja2.UndefinedError) else str(exc)
        message = re.sub(r"'(?:\w+\.)+(\w+ object)'", r"'\1'", message or "")  # no module paths
        raise TemplateProblem(Problem(file, f"line {line}" if line else "", ERROR,
                                      f"template error: {message}")) from None


def _template_frame(exc: BaseException, env: jinja2.Environment, template: str) -> tuple[str, int | None]:
    """(file, line) of the template code that raised: Jinja rewrites the traceback so that its
    frames carry the template's file name and line; the deepest such frame is the culprit."""
    roots = [str(Path(d).resolve()) for d in _search_dirs(env)]
    found: tuple[str, int | None] = (template, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if any(frame.filename.startswith(root) for root in roots):
            found = (frame.filename, frame.lineno)
    return found


def _search_dirs(env: jinja2.Environment) -> list[str]:
    dirs: list[str] = []
    for loader in getattr(env.loader, "loaders", []):
        dirs += list(getattr(loader, "searchpath", []))
    return dirs or [str(TEMPLATES_DIR)]
