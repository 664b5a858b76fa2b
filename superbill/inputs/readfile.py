"""Reading a YAML or JSON input file safely, before any model sees it.

Every failure becomes one `Problem` naming the file: missing, a folder, empty, binary, not UTF-8,
malformed, an alias bomb, nested too deeply. Nothing here raises anything else.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path

import yaml

from superbill.problems import ERROR, InputRejected, Problem

MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000  # counted with aliases expanded: a "billion laughs" file stops here


class _TooDeep(Exception):
    """Raised while composing, as soon as a collection opens below MAX_DEPTH levels."""


class _BillingRules(yaml.constructor.SafeConstructor):
    """YAML 1.1 safe loading without the surprises that corrupt billing data.

    Dates stay text (pydantic parses them and reports 2026-02-30 at its path); 10:50 is not the
    base-60 number 650; 02134 (a ZIP, a POS) is not octal. Plain decimal ints and floats remain.
    A key given twice in one mapping is an error: YAML would keep the last one and silently drop
    the first (a second `medications:` in a session would unbill the first list).
    """

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key_node.value[:40]!r} is given twice", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _DepthLimitedComposer(yaml.composer.Composer):
    """The pure-Python composer, stopping at MAX_DEPTH instead of recursing until Python gives up."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class PythonLoader(_BillingRules, _DepthLimitedComposer, yaml.SafeLoader):
    """The pure-Python loader: used where PyYAML was built without libyaml."""


LOADERS: dict[str, type[yaml.SafeLoader | yaml.CSafeLoader]] = {"python": PythonLoader}
if hasattr(yaml, "CSafeLoader"):

    class LibyamlLoader(_BillingRules, yaml.CSafeLoader):
        """The same rules on libyaml's scanner and composer (several times faster on big files).
        The depth is checked on the data once built (`_check_shape`); past its own limit (1000
        levels in libyaml 0.2.5) libyaml stops first, and that is reported with our message too."""

    LOADERS["libyaml"] = LibyamlLoader

for _loader in LOADERS.values():
    _loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (
            "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*))$"), list("-+0123456789"))
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."),
    )

# The loader read_document uses; tests run both.
Loader: type[yaml.SafeLoader | yaml.CSafeLoader] = LOADERS.get("libyaml", PythonLoader)


def _too_deep(exc: yaml.MarkedYAMLError) -> bool:
    """libyaml's own nesting limit (above ours), met while scanning before our check can run."""
    return "maximum nesting depth" in str(exc.problem)


# The few problems the two loaders word differently, in the wording a user sees whichever is installed.
_SAME_WORDS = {"found character '\\t' that cannot start any token": "found a tab character that violates indentation"}


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "malformed"
    return _SAME_WORDS.get(problem, problem)


def _problem(path: Path | str, message: str, where: str = "") -> InputRejected:
    return InputRejected([Problem(str(path), where, ERROR, message)])


def _check_shape(data, path) -> None:
    """Depth and node count, with shared (aliased) nodes counted each time they are reached."""
    count = 0
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise _problem(path, "too many values once YAML aliases are expanded (an alias bomb?)")
        if depth > MAX_DEPTH:
            raise _problem(path, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    raise _problem(path, "every key must be text", str(key)[:40])
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, float) and not math.isfinite(node):
            pass  # reported at its field by the model, with the path


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number a bill can use")


def _unique_keys(pairs) -> dict:
    data = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key[:40]!r} is given twice")
        data[key] = value
    return data


def _read_regular_file(path: Path) -> bytes:
    """The bytes of a regular file, at most MAX_BYTES. A FIFO, a device (/dev/zero, /dev/stdin) or a
    socket is refused: reading one would block forever or never end. O_NONBLOCK keeps the open of a
    FIFO from blocking; the type is checked on the open file, so a swap after a check cannot fool it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _problem(path, "is not a regular file (a device, pipe or socket cannot be read)")
        raw = b"" if info.st_size > MAX_BYTES else handle.read(MAX_BYTES + 1)
    if info.st_size > MAX_BYTES or len(raw) > MAX_BYTES:
        raise _problem(path, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return raw


def _read_text(path: Path) -> str:
    """The file's text: it exists, is a regular file of at most MAX_BYTES, is not empty or binary, is UTF-8."""
    try:
        if path.is_dir():
            raise _problem(path, "is a folder, not a file")
        if not path.exists():
            raise _problem(path, "no such file")
        raw = _read_regular_file(path)
    except InputRejected:
        raise
    except OSError as exc:
        raise _problem(path, f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if not raw.strip():
        raise _problem(path, "file is empty")
    if b"\x00" in raw:
        raise _problem(path, "is a binary file, not YAML or JSON text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _problem(path, f"is not UTF-8 text (bad byte at offset {exc.start})") from None


def read_document(path: str | Path):
    """Parse a YAML or JSON file into plain Python data, or raise InputRejected."""
    path = Path(path)
    text = _read_text(path)
    is_json = path.suffix.lower() == ".json"
    too_deep = _problem(path, f"nested more than {MAX_DEPTH} levels deep")
    try:
        if is_json:
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        else:
            data = yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except (_TooDeep, RecursionError):
        raise too_deep from None
    except json.JSONDecodeError as exc:
        raise _problem(path, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        # A NaN in JSON, or an integer longer than Python converts (a YAML one lands here too).
        detail = "a number has too many digits" if "integer string conversion" in str(exc) else str(exc)
        raise _problem(path, f"is not valid {'JSON' if is_json else 'YAML'} ({detail})") from None
    except yaml.MarkedYAMLError as exc:
        if _too_deep(exc):
            raise too_deep from None
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise _problem(path, f"is not valid YAML{where}: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        raise _problem(path, f"is not valid YAML: {exc}") from None
    if data is None:
        raise _problem(path, "file is empty")
    _check_shape(data, path)
    return data
