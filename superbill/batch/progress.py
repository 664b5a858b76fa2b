"""What an export shows while it runs: every stage, on a terminal only.

`Progress` is the silent display (not a terminal, `--json`): its hooks do nothing, so the output of a
script or a pipe holds the problems and the summary and nothing else. `TerminalProgress` draws one
status line on stderr that follows every stage — checking the files (a bar with counts), then each
format's rendering with its number of claims and the seconds it has been running, ticking so a long
CMS-1500 or superbill rendering is visibly alive — and prints each stage as a line when it ends. A
rejected file's problems are printed the moment its check ends, above the status line; they are
remembered in `printed` so the command does not print them twice.

The status line is redrawn with a carriage return and "erase line" (ESC [2K), never hiding the
cursor, and cleared at the end.
"""

from __future__ import annotations

import shutil
import threading
import time

LABELS = {"837p": "837P", "cms1500": "CMS-1500", "csv": "CSV", "xlsx": "XLSX workbook", "superbill": "superbills"}


class Progress:
    """The silent display."""

    def __init__(self) -> None:
        self.printed: set = set()

    def checking(self, total: int) -> None:
        """Checking `total` files starts."""

    def checked(self, done: int, total: int, result) -> None:
        """One more file was checked (a `workers.FileResult`), in input order."""

    def rendering(self, fmt: str, claims: int) -> None:
        """Rendering a format for `claims` claims starts."""

    def rendered(self, fmt: str, files: int) -> None:
        """That format is rendered into `files` files."""

    def close(self) -> None:
        """The run is over (also after a failure): leave the terminal clean."""


class TerminalProgress(Progress):
    BAR = 24

    def __init__(self, stream, *, tick: float | None = 0.5, clock=time.monotonic, width: int | None = None):
        super().__init__()
        self.stream = stream
        self.clock = clock
        self.width = width
        self.lock = threading.Lock()
        self.status = ""
        self.started = clock()
        self.rejected = 0
        self.claims = 0
        self.stage_format: str | None = None  # the format being rendered (its seconds tick)
        self.stop = threading.Event()
        self.ticker: threading.Thread | None = None
        if tick:
            self.ticker = threading.Thread(target=self._tick, args=(tick,), daemon=True)
            self.ticker.start()

    # ---------------------------------------------------------------- drawing

    def _columns(self) -> int:
        return self.width or shutil.get_terminal_size((100, 24)).columns

    def _draw(self) -> None:
        text = self.status
        if self.stage_format is not None:
            text += f" … {self.clock() - self.started:.0f} s"
        self.stream.write("\r\x1b[2K" + text[: max(10, self._columns() - 1)])
        self.stream.flush()

    def _line(self, text: str) -> None:
        """A permanent line above the status line."""
        self.stream.write("\r\x1b[2K" + text + "\n")

    def _tick(self, every: float) -> None:
        while not self.stop.wait(every):
            with self.lock:
                if self.status:
                    self._draw()

    # ---------------------------------------------------------------- the hooks

    def checking(self, total: int) -> None:
        with self.lock:
            self.started = self.clock()
            self.status = f"checking {total} file(s)"
            self._draw()

    def checked(self, done: int, total: int, result) -> None:
        with self.lock:
            if getattr(result, "kind", "patient") == "patient" and result.problems:
                if not result.ok:
                    self.rejected += 1
                for problem in result.problems:
                    self._line(problem.line())
                    self.printed.add(problem)
            filled = self.BAR * done // max(total, 1)
            rejected = f", {self.rejected} rejected" if self.rejected else ""
            self.status = f"checking [{'#' * filled}{'-' * (self.BAR - filled)}] {done}/{total} file(s){rejected}"
            self._draw()
            if done == total:
                self._line(f"checked {total} file(s) in {self.clock() - self.started:.1f} s{rejected}")
                self.status = ""

    def rendering(self, fmt: str, claims: int) -> None:
        with self.lock:
            self.stage_format, self.started = fmt, self.clock()
            self.status = f"rendering the {LABELS.get(fmt, fmt)} for {claims} claim(s)"
            self.claims = claims
            self._draw()

    def rendered(self, fmt: str, files: int) -> None:
        with self.lock:
            self._line(f"rendered the {LABELS.get(fmt, fmt)} for {self.claims} claim(s): {files} file(s) "
                       f"in {self.clock() - self.started:.1f} s")
            self.stage_format, self.status = None, ""
            self._draw()

    def close(self) -> None:
        self.stop.set()
        if self.ticker is not None:
            self.ticker.join()
        with self.lock:
            self.status, self.stage_format = "", None
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
