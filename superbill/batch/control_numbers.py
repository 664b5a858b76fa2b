"""Interchange control numbers (ISA13, GS06) that never repeat for a clinic, also across ledgers.

A ledger keeps its own counter, and a counter that restarts at 1 in a new ledger file would reissue
the numbers of every interchange sent before (clearinghouses reject a repeated ISA13; docs/reference.md "Outputs").
Two things keep the numbers apart:

* a new ledger starts at `clock_number(its creation time)`, the seconds since 2025-01-01 UTC, and
  counts up by one per export: a ledger started later (a new `--ledger` file, a replacement for a lost
  one, a second workstation's) begins above every number an earlier ledger reached, unless that one
  exported more often than once a second on average since it was created;
* every export also takes a number above the highest any ledger issued for the clinic folder
  (`ClinicMark`: a small file beside clinic.yaml, updated under a lock), so ledgers that share a clinic
  folder never collide at all, however fast they were created or used.

ISA13 has 9 digits: the clock numbers last until 2056.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path

EPOCH = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
MAX_CONTROL = 999_999_999
MARK_NAME = ".superbill-control-number"


def clock_number(now: dt.datetime | None = None) -> int:
    """The seconds from 2025-01-01 UTC to `now`: where a ledger created then starts counting."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.astimezone()
    return max(0, int((now - EPOCH).total_seconds()))


def mark_path(folder: str | Path) -> Path:
    """Where the mark of the clinic folder `folder` is kept: beside clinic.yaml."""
    return Path(folder) / MARK_NAME


class ClinicMark:
    """The highest interchange control number any ledger issued for one clinic folder."""

    def __init__(self, folder: str | Path):
        self.path = mark_path(folder)

    def reserve(self, proposed: int) -> int:
        """`proposed`, or one above the clinic's highest number when that is not below it; the
        number returned is recorded before it is used. When the folder cannot hold the file
        (read-only), `proposed` is returned: the ledger's clock-based start still separates it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return proposed
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 64).decode("ascii", "replace").strip()
            highest = int(raw) if raw.isdigit() else 0
            value = max(proposed, highest + 1)
            data = f"{value}\n".encode("ascii")
            # Overwritten in place, then cut: the numbers only grow, so a crash never leaves less
            # than the old number in the file.
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, data)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
            return value
        except OSError:
            return proposed
        finally:
            os.close(fd)
