"""Validate an X12 file with pyx12 and return its verdict (not the console script's exit code).

    from x12check import validate_x12, assert_valid_x12
    ok, errors = validate_x12(path_or_text)
    assert_valid_x12(path_or_text)          # raises AssertionError listing pyx12's errors

`x12valid` exits 1 whether the file passed or failed (pyx12 4.0's script), so this calls
`pyx12.x12n_document.x12n_document` and uses its boolean, with the errors from its JSON output.
Also parses a document into segments for assertions (`segments(text)`).
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from pathlib import Path

import pyx12.params
import pyx12.x12n_document

logging.getLogger("pyx12").setLevel(logging.CRITICAL)


def _as_path(source) -> tuple[str, tempfile.TemporaryDirectory | None]:
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith("ISA")):
        return str(source), None
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / "doc.837"
    path.write_text(source, encoding="ascii")
    return str(path), folder


def validate_x12(source) -> tuple[bool, list[str]]:
    """(pyx12's verdict, its error messages) for a file path or the document's text."""
    path, folder = _as_path(source)
    try:
        param = pyx12.params.params()
        fd_997 = io.StringIO()
        fd_json = io.StringIO()
        ok = pyx12.x12n_document.x12n_document(param=param, src_file=path, fd_997=fd_997,
                                                fd_html=None, fd_json=fd_json)
        errors = []
        raw = fd_json.getvalue().strip()
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                errors.append(raw[:2000])
            else:
                errors.extend(_errors_in(data))
        return bool(ok), errors
    finally:
        if folder is not None:
            folder.cleanup()


def _errors_in(node, where: str = "") -> list[str]:
    """Every error record in pyx12's JSON report, as 'where: code: message' lines."""
    found = []
    if isinstance(node, dict):
        here = where
        if "seg_id" in node:
            here = f"{where} {node.get('seg_id')} (line {node.get('cur_line')})".strip()
        for err in node.get("errors") or []:
            if isinstance(err, dict):
                text = err.get("err_str") or err.get("msg") or json.dumps(err)
                code = err.get("err_cde", "")
                ele = err.get("ele_ref") or err.get("refdes") or ""
                found.append(f"{here} {ele} [{code}] {text}".strip())
            else:
                found.append(f"{here} {err}".strip())
        for key, value in node.items():
            if key != "errors" and isinstance(value, (list, dict)):
                found.extend(_errors_in(value, here))
    elif isinstance(node, list):
        for item in node:
            found.extend(_errors_in(item, where))
    return found


def assert_valid_x12(source) -> None:
    ok, errors = validate_x12(source)
    assert ok, "pyx12 rejects the document:\n" + "\n".join(errors)


def segments(text: str) -> list[list[str]]:
    """The document split into segments, each a list of elements (ISA's padding kept)."""
    text = text.strip()
    terminator = text[105]
    element = text[3]
    return [seg.strip("\r\n").split(element) for seg in text.split(terminator) if seg.strip("\r\n")]
