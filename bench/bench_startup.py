"""Benchmark: cold start of `superbill --help` and of `superbill check` on one patient file.

    .venv/bin/python bench/bench_startup.py [--runs 10]

Each command runs `--runs` times as a fresh process (the installed `superbill` script beside this
Python, else `python -m superbill.cli`) in a starter clinic folder (`superbill init`); prints the best
and the median wall time, and the modules that cost most to import for `check` (`-X importtime`).

A bare `python -c pass` is timed in the same run as the reference: the ratios say how much the
command adds to the interpreter's own start on this machine, whatever its load.

Also the first ICD-10-CM look-up of a fresh process (loading codes/icd10cm-2026.tsv), against the
same reference.

Targets: `superbill --help` under 0.3 s; `superbill check` of one patient file under 0.5 s (with the
ICD-10-CM edition table of every date of service loaded); the first ICD-10-CM look-up under 0.5 s
(what tests/test_icd10cm.py asserted before wall-clock limits moved here).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"--help": 0.3, "check": 0.5, "icd10cm": 0.5}
_ICD_PROBE = ("import time; from superbill.tables import icd10cm_index as ix; t = time.perf_counter(); "
              "ix.lookup('G90.511'); print(time.perf_counter() - t)")


def icd_load_times(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", _ICD_PROBE], capture_output=True, text=True, check=True)
        times.append(float(proc.stdout))
    return times


def command() -> list[str]:
    exe = Path(sys.executable).with_name("superbill")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "superbill.cli"]


def time_runs(argv: list[str], cwd: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-1000:]}")
    return times


def import_costs(argv: list[str], cwd: Path, top: int = 6) -> list[tuple[int, str]]:
    """The top-level imports with the largest cumulative import time (microseconds)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "superbill.cli", *argv[1:]], cwd=cwd,
                          capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2]
        if len(name) - len(name.lstrip()) == 1:  # imported by the program itself, not by another module
            rows.append((int(parts[1]), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)

    from superbill.inputs.starter import write_starter

    folder = Path(tempfile.mkdtemp(prefix="superbill-start-"))
    try:
        write_starter(folder)
        base = command()
        cases = {
            "--help": base + ["--help"],
            "check": base + ["check", "patients/example.yaml"],
        }
        held = True
        print(f"cold start, best and median of {args.runs} runs ({' '.join(Path(p).name for p in base)})")
        reference = min(time_runs([sys.executable, "-c", "pass"], folder, args.runs))
        print(f"  python -c pass     best {reference:.3f} s   (the reference)")
        for name, argv in cases.items():
            times = time_runs(argv, folder, args.runs)
            best, median = min(times), statistics.median(times)
            ok = best < TARGETS[name]
            held &= ok
            print(f"  superbill {name:<8} best {best:.3f} s   median {median:.3f} s   {best / reference:5.1f} x python   "
                  f"(target < {TARGETS[name]} s: {'holds' if ok else 'DOES NOT HOLD'})")
        icd_best = min(icd_load_times(args.runs))
        ok = icd_best < TARGETS["icd10cm"]
        held &= ok
        print(f"  first ICD-10-CM look-up best {icd_best:.3f} s   {icd_best / reference:5.1f} x python   "
              f"(target < {TARGETS['icd10cm']} s: {'holds' if ok else 'DOES NOT HOLD'})")
        print("  largest imports for `check` (cumulative ms):",
              ", ".join(f"{name} {us / 1000:.0f}" for us, name in import_costs(cases["check"], folder)))
        return 0 if held else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
