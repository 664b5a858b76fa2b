"""`superbill init`: a starter clinic folder whose files check clean and are easy to edit."""

from __future__ import annotations

import os
from pathlib import Path

from superbill.paths import EXAMPLES_DIR

STARTER_FILES = ("clinic.yaml", "patients/example.yaml", "requests/example.yaml", "gfe/example.yaml")


def write_starter(directory: str | Path) -> list[Path]:
    target = Path(directory)
    for name in STARTER_FILES:
        if (target / name).exists():
            raise FileExistsError(0, "exists", str(target / name))
    written = []
    for name in STARTER_FILES:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Patient files hold PHI once edited: owner-only from the start.
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
        written.append(destination)
    return written
