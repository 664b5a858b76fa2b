"""Benchmark: the 837P export of 10,000 claims, time and peak memory, against 1,000 claims.

    .venv/bin/python bench/bench_837p.py [--claims 10000] [--small 1000] [--sessions 4] [--jobs N]

Generates patients with `--sessions` sessions each (one claim per session), then measures:

1. `superbill export FOLDER -o OUT --format 837p` end to end, as a subprocess with a fresh ledger:
   wall time, and the peak resident memory of its largest process (`ru_maxrss` of the children),
   for `--small` and for `--claims` claims. This includes reading and checking every patient file
   (in worker processes) and the ledger, whose data (the parsed claims) grows with the claims.
2. The 837P writer alone, in this process, on claims already built: `x12.write_837p` streaming into a
   file, versus building the whole text in memory first (`build_837p(...).encode()`, what the export
   did before): time and the writer's own peak allocations (tracemalloc), small versus large.
3. The file written in (1) for the large run: segment counts (SE01) and control numbers (ST02/SE02,
   GS06/GE02, ISA13/IEA02) checked, and streaming output equal to `build_837p` for the same claims;
   with pyx12 installed (the test extra), the small file is validated too.

Targets (issue 7): 10,000 claims in under 10 s; peak memory that does not grow with the number of
claims (the writer's; the export as a whole must hold the claims it records in the ledger).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # noqa: E402

CREATED = dt.datetime(2026, 11, 20, 9, 30)


def run_export(folder: Path, files_dir: Path, tag: str, jobs) -> tuple[float, int, Path]:
    """(wall seconds, peak RSS KiB of the largest process, the .837 file) of one CLI export."""
    out = folder / f"out-{tag}"
    shutil.rmtree(out, ignore_errors=True)
    ledger = folder / f"ledger-{tag}.sqlite3"
    for leftover in folder.glob(f"ledger-{tag}.sqlite3*"):
        leftover.unlink()
    exe = Path(sys.executable).with_name("superbill")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "superbill.cli"]
    command += ["--clinic", str(folder / "clinic.yaml"), "export", str(files_dir), "-o", str(out),
                "--format", "837p", "--ledger", str(ledger)]
    if jobs:
        command += ["--jobs", str(jobs)]
    # A fresh interpreter runs the export and reports its children's peak RSS: ours stays out of it.
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
             "sys.stderr.write(p.stderr[-2000:] if p.returncode else '')\n")
    proc = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, text=True)
    wall, rss, code = proc.stdout.split()
    if code != "0":
        raise SystemExit(f"superbill export failed ({code}): {proc.stderr}")
    (written,) = out.glob("*.837")
    return float(wall), int(rss), written


def load_items(folder: Path, files: list[Path]):
    from superbill.engine.process import process_patient
    from superbill.inputs.load import load_clinic

    loaded = load_clinic(folder / "clinic.yaml")
    items = []
    for path in files:
        result = process_patient(path, loaded, today=dt.date.today())
        items += [(result.patient_file, claim) for claim in result.claims]
    return loaded, items


def measure_writer(loaded, items, folder: Path, streaming: bool) -> tuple[float, int]:
    """(seconds, peak bytes allocated while writing) for one interchange of `items` into a file."""
    from superbill.exports.x12 import Envelope, build_837p, write_837p

    envelope = Envelope(7, CREATED, "T")
    target = folder / ("stream.837" if streaming else "memory.837")
    with open(target, "wb") as handle:
        tracemalloc.start()
        start = time.perf_counter()
        if streaming:
            write_837p(loaded, items, envelope, handle)
        else:
            handle.write(build_837p(loaded, items, envelope).encode("ascii"))
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, peak


def check_envelope(text: str) -> list[str]:
    """Problems with segment counts and control numbers (empty when all is right)."""
    problems = []
    segments = [s.strip() for s in text.split("~") if s.strip()]
    isa = segments[0].split("*")
    iea = segments[-1].split("*")
    if isa[13] != iea[2]:
        problems.append(f"ISA13 {isa[13]} != IEA02 {iea[2]}")
    gs = [s.split("*") for s in segments if s.startswith("GS*")]
    ge = [s.split("*") for s in segments if s.startswith("GE*")]
    if len(gs) != 1 or len(ge) != 1 or gs[0][6] != ge[0][2]:
        problems.append("GS06/GE02 mismatch")
    st_count, count, st_control = 0, 0, None
    for seg in segments:
        tag = seg.split("*", 1)[0]
        if tag == "ST":
            st_count += 1
            count = 0
            st_control = seg.split("*")[2]
        if st_control is not None:
            count += 1
        if tag == "SE":
            parts = seg.split("*")
            if int(parts[1]) != count:
                problems.append(f"SE01 {parts[1]} but {count} segments in transaction {st_control}")
            if parts[2] != st_control:
                problems.append(f"SE02 {parts[2]} != ST02 {st_control}")
            st_control = None
    if ge and int(ge[0][1]) != st_count:
        problems.append(f"GE01 {ge[0][1]} but {st_count} transactions")
    return problems


def pyx12_verdict(path: Path) -> str:
    try:
        import logging

        import pyx12.params
        import pyx12.x12n_document
    except ImportError:
        return "pyx12 not installed (pip install -e '.[test]')"
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ok = pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=str(path),
                                           fd_997=io.StringIO(), fd_html=None, fd_json=io.StringIO())
    return "valid" if ok else "INVALID"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--sessions", type=int, default=4, help="sessions (claims) per patient; default 4")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for superbill export (default: automatic)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="superbill-bench837-"))
    ok = True
    try:
        big = gen.generate(folder, args.claims // args.sessions, args.sessions, subfolder="big")
        small = gen.generate(folder, args.small // args.sessions, args.sessions, subfolder="small")
        print(f"837P: {args.small} and {args.claims} claims ({args.sessions} per patient file), {os.cpu_count()} cores")

        print("\n1. superbill export --format 837p, end to end (subprocess, fresh ledger)")
        runs = {}
        for tag, files in (("small", small), ("big", big)):
            runs[tag] = run_export(folder, folder / tag, tag, args.jobs)
            wall, rss, path = runs[tag]
            print(f"   {len(files) * args.sessions:>6} claims: {wall:6.2f} s   peak RSS {rss / 1024:6.1f} MiB   "
                  f"{path.stat().st_size / 1e6:.1f} MB written")
        (_, s_rss, _), (b_wall, b_rss, b_path) = runs["small"], runs["big"]
        per_claim = (b_rss - s_rss) * 1024 / max(args.claims - args.small, 1)
        print(f"   time target < 10 s: {'holds' if b_wall < 10 else 'DOES NOT HOLD'} ({b_wall:.2f} s); "
              f"RSS grows {per_claim / 1024:.1f} KiB per claim (the parsed claims the export keeps for the ledger)")

        print("\n2. the writer alone (claims already built), peak allocations while writing")
        loaded, items = load_items(folder, big)
        small_items = items[:args.small]
        print(f"   {'':<22}{'claims':>7}{'seconds':>9}{'peak KiB':>10}")
        peaks = {}
        for label, streaming in (("streaming (ours)", True), ("whole text in memory", False)):
            for part in (small_items, items):
                elapsed, peak = measure_writer(loaded, part, folder, streaming)
                peaks[(streaming, len(part))] = peak
                print(f"   {label:<22}{len(part):>7}{elapsed:>9.2f}{peak / 1024:>10.0f}")
        grow_stream = peaks[(True, len(items))] / max(peaks[(True, len(small_items))], 1)
        grow_memory = peaks[(False, len(items))] / max(peaks[(False, len(small_items))], 1)
        print(f"   x{len(items) // max(len(small_items), 1)} claims: streaming peak x{grow_stream:.1f}, "
              f"in-memory peak x{grow_memory:.1f}")

        print("\n3. correctness")
        text = b_path.read_text(encoding="ascii")
        problems = check_envelope(text)
        print(f"   exported file ({args.claims} claims): segment counts and control numbers "
              f"{'right' if not problems else 'WRONG: ' + '; '.join(problems[:5])}")
        same = (folder / "stream.837").read_bytes() == (folder / "memory.837").read_bytes()
        print(f"   streaming output equals build_837p: {same}")
        print(f"   pyx12 on the {args.small}-claim export: {pyx12_verdict(runs['small'][2])}")
        ok = not problems and same
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
