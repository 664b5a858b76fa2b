"""What a wrong file is, and where a misplaced key belongs: one line instead of a page of errors.

* A file of another kind (a patient file given to `letter`, a request given to `render`) gets one
  line naming what it is and which command takes it, instead of every field the wrong model misses.
* An unknown key that is a valid key of another block of the same kind of file
  (`screening.screening_rationale`) says where it belongs (the top level), when it belongs in at most
  two places; otherwise it is reported as a probable typo.
"""

from __future__ import annotations

import types
import typing
from collections import defaultdict
from functools import lru_cache

from pydantic import BaseModel

from superbill.problems import format_path

KIND_NAMES = {
    "clinic": "the clinic profile",
    "patient": "a patient file",
    "request": "a prior-authorization request",
    "gfe": "a Good Faith Estimate file",
}
KIND_COMMANDS = {
    "clinic": "give it with `superbill --clinic PATH` before the command",
    "patient": "use `superbill render` or `export`",
    "request": "use `superbill letter`",
    "gfe": "use `superbill gfe`",
}
MODEL_KINDS = {"Clinic": "clinic", "PatientFile": "patient", "Request": "request", "EstimateFile": "gfe"}


def evident_kind(data) -> str | None:
    """The kind a document plainly is, or None when it is not plain (left to the model's errors)."""
    from superbill.inputs.load import detect_kind

    if not isinstance(data, dict):
        return None
    kind = detect_kind(data)
    if kind != "patient":
        return kind
    if isinstance(data.get("patient"), dict) and ({"insurance", "sessions"} & set(data)):
        return "patient"
    return None


def wrong_kind(data, model) -> str | None:
    """The one-line message when `data` is plainly another kind of file than `model` reads."""
    expected = MODEL_KINDS.get(model.__name__)
    found = evident_kind(data)
    if expected is None or found is None or found == expected:
        return None
    if expected == "clinic":
        return (f"is {KIND_NAMES[found]}, not the clinic profile (point `superbill --clinic PATH` or "
                "$SUPERBILL_CLINIC at the clinic's clinic.yaml)")
    return f"is {KIND_NAMES[found]}, not {KIND_NAMES[expected]} ({KIND_COMMANDS[found]})"


# ---------------------------------------------------------------- misplaced keys


def _models_in(annotation) -> list[tuple[tuple[str, ...], type[BaseModel]]]:
    """(path suffix, model) for every model an annotation holds: `list[X]` adds "[n]", `dict[K, X]` "<name>"."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [((), annotation)]
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in _models_in(arg)]
    if origin in (list, tuple, set, frozenset):
        return [(("[n]",) + suffix, model) for arg in args for suffix, model in _models_in(arg)]
    if origin is dict and len(args) == 2:
        return [(("<name>",) + suffix, model) for suffix, model in _models_in(args[1])]
    return []


@lru_cache(maxsize=16)
def key_places(model: type[BaseModel]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Every key a file of `model` may hold, with the blocks (paths) where it is valid."""
    places: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    seen: set[tuple[tuple[str, ...], type]] = set()

    def walk(current: type[BaseModel], path: tuple[str, ...]) -> None:
        if (path, current) in seen or len(path) > 12:
            return
        seen.add((path, current))
        for name, info in current.model_fields.items():
            places[name].append(path)
            for suffix, inner in _models_in(info.annotation):
                walk(inner, path + (name,) + suffix)

    walk(model, ())
    return {name: tuple(dict.fromkeys(paths)) for name, paths in places.items()}


def _block_text(path: tuple) -> str:
    text = ""
    for part in path:
        text += part if part == "[n]" else (("." if text else "") + str(part))
    return text


def misplaced_key(model, loc: tuple) -> str | None:
    """For an unknown key at `loc`: where it belongs, when it is valid in one or two other blocks."""
    if not loc or not isinstance(loc[-1], str):
        return None
    key, block = loc[-1], loc[:-1]
    places = key_places(model).get(key, ())
    if not places or len(places) > 2:
        return None
    where = " or ".join("at the top level of the file" if not place else f"under {_block_text(place)}"
                        for place in places)
    here = "at the top level" if not block else f"under {format_path(block)}"
    return f"unknown key: {key} belongs {where}, not {here}"
