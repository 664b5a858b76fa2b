"""Writing output files: atomically, readable by the owner only, never outside the output folder."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path


def safe_name(text: str, fallback: str = "file") -> str:
    """A filesystem-safe name part: ASCII letters, digits, '-', '_' and '.'; never '..' or a path.

    Accents fold away (José -> Jose). When letters with no ASCII form are dropped (患者1, Ωμέγα),
    a short hash of the original is appended so that two different ids never share a file name.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text).strip("-.")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)[:80]
    dropped = any(ord(ch) > 127 and not unicodedata.combining(ch) for ch in decomposed)
    if dropped:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        return f"{cleaned}-{digest}" if cleaned else f"{fallback}-{digest}"
    return cleaned or fallback


def ensure_folder(folder: str | Path) -> Path:
    """Create the folder and any missing parents, each readable by the owner only."""
    folder = Path(folder)
    missing = []
    for candidate in [folder, *folder.parents]:
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        candidate.mkdir(mode=0o700, exist_ok=True)
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # raises the precise error
    return folder


def inside(folder: Path, name: str) -> Path:
    """folder/name, refusing any name that would land outside folder."""
    target = (folder / name).resolve()
    if folder.resolve() not in target.parents:
        raise ValueError(f"{name!r} would be written outside {folder}")
    return target


def write_atomic(path: str | Path, data: bytes | str, mode: int = 0o600) -> Path:
    """Write to a temporary file beside `path`, fsync, then rename: readers never see half a file."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
