"""Problems found in input files: the one shape every check reports in.

A problem names the file, the path inside it (``sessions[2].medications[0].dose_mg``) and what
is wrong, never the offending record itself (it may hold PHI).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"

# Control characters (C0, DEL, C1) in a file name or a key would reach the terminal as escape
# sequences (retitle the window, hide text): the line shows them escaped instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    severity: str
    message: str

    def line(self) -> str:
        """The one-line, human form: ``file: path: severity: message``."""
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.severity}: {self.message}"
        return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HeldBack(Problem):
    """An error that holds back one claim, not its file: the claim's provider has an error in the
    clinic profile. The file's other claims still go; the command still exits 1."""


class InputRejected(Exception):
    """Raised when a file cannot be used at all; carries every problem found in it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.line() for p in problems))


def format_path(parts) -> str:
    """('sessions', 2, 'medications', 0, 'dose_mg') -> 'sessions[2].medications[0].dose_mg'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
