"""Durable files: written completely and fsynced before they get their name, removed as a whole.

An export's file is written to an unnamed temporary file in the output folder (Linux O_TMPFILE; a
hidden ``.NAME.*.part`` file where the system has none), fsynced, and only then linked under its name
(`Staged`), so a reader or a crash never sees half a file under the real name. Undoing a run's files —
after a failure in this process (`remove_run_files`) or for a run killed outright, found by the next
export's recovery (`remove_files`) — lives here too, next to the writer that knows the names it uses.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_UNNAMED: dict[str, bool] = {}


def _unnamed_files_work(folder: Path) -> bool:
    """Whether `folder` supports unnamed temporary files that can be named later (Linux O_TMPFILE
    plus a link through /proc). Such a file vanishes if the process is killed before naming it."""
    key = str(Path(folder).resolve())
    if key not in _UNNAMED:
        works = False
        flag = getattr(os, "O_TMPFILE", 0)
        if flag and os.path.isdir("/proc/self/fd"):
            probe = Path(folder) / f".superbill-probe-{os.getpid()}"
            try:
                fd = os.open(folder, flag | os.O_WRONLY, 0o600)
                try:
                    os.link(f"/proc/self/fd/{fd}", probe, follow_symlinks=True)
                    works = True
                finally:
                    os.close(fd)
                    probe.unlink(missing_ok=True)
            except OSError:
                works = False
        _UNNAMED[key] = works
    return _UNNAMED[key]


class _FdWriter:
    """A minimal binary file over a raw descriptor, for writers that stream (`x12.write_837p`)."""

    def __init__(self, fd: int):
        self.fd = fd

    def write(self, data) -> int:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        return len(data)


class Staged:
    """A file fully written and fsynced but not yet visible under its name. `data` is the bytes, or
    a callable that writes them into the binary file it is given (streamed, never all in memory)."""

    def __init__(self, folder: Path, name: str, data):
        self.folder = folder
        self.name = name
        self.fd: int | None = None
        self.tmp: Path | None = None
        if _unnamed_files_work(folder):
            try:
                self.fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600)
            except OSError:
                self.fd = None
        if self.fd is None:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            self.fd, self.tmp = fd, Path(tmp)
        try:
            os.fchmod(self.fd, 0o600)
            if callable(data):
                data(_FdWriter(self.fd))
            else:
                _FdWriter(self.fd).write(data)
            os.fsync(self.fd)
        except BaseException:
            self.discard()
            raise

    def publish(self) -> Path:
        target = self.folder / self.name
        if self.tmp is None:
            try:
                os.link(f"/proc/self/fd/{self.fd}", target, follow_symlinks=True)
            except FileExistsError:
                # Replace atomically: link under a temporary name, then rename over the old file.
                spare = self.folder / f".{self.name}.{os.getpid()}.part"
                spare.unlink(missing_ok=True)
                os.link(f"/proc/self/fd/{self.fd}", spare, follow_symlinks=True)
                os.replace(spare, target)
        else:
            os.replace(self.tmp, target)
            self.tmp = None
        self._close()
        return target

    def _close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def discard(self):
        self._close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


def fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_run_files(staged: list[Staged], published: list[Path], out_dir: Path) -> list[Path]:
    """Undo a failed run's files, every one that can be: the named files that cannot be removed
    are returned (a hidden .part file left behind is removed by the next export's recovery)."""
    for entry in staged:
        try:
            entry.discard()
        except OSError:
            pass
    leftovers = []
    for path in published:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            leftovers.append(path)
    fsync_folder(out_dir)
    return leftovers


def all_present(folder: Path, names: list[str]) -> bool:
    """Whether every one of a run's files has its name (each was complete before it got it)."""
    return bool(names) and all((folder / name).is_file() for name in names)


def remove_files(folder: Path, names: list[str]) -> list[str]:
    """Remove an interrupted run's files and the hidden .part files staged for them; the names
    that were there and are now removed, in order."""
    removed = []
    for name in names:
        try:
            (folder / name).unlink()
            removed.append(name)
        except FileNotFoundError:
            pass
        for stray in folder.glob(f".{name}.*.part") if folder.is_dir() else ():
            stray.unlink(missing_ok=True)
    return removed
