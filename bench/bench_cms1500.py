"""Benchmark: CMS-1500 time per page, as a ratio to a plain one-page WeasyPrint document.

    .venv/bin/python bench/bench_cms1500.py [--claims 1,150] [--rounds 5]

Generates 150 patients (bench/gen.py, one session each), runs them through the pipeline once (not
timed), then times, in this one process pinned to one core, interleaved round by round:

  plain page   one plain one-page WeasyPrint document (a heading, paragraphs and a small table in
               DejaVu Sans, `HTML(string=...).write_pdf()`): what "a page" costs with a browser engine;
               WeasyPrint subsets the font with HarfBuzz when `libharfbuzz-subset0` is installed,
               else with fontTools (the script says which)
  facsimile    `cms1500.cms1500_pdf(claims, loaded)`: the red form drawn once, the data on every page
  data-only    `cms1500.cms1500_pdf(claims, loaded, data_only=True)`

at 1 and 150 claims, and prints the best time of the rounds per page and its ratio to the plain
page's best time. Target (issue 15): at most 0.15 x the plain page, per page, at 150 claims, with
and without libharfbuzz-subset0.
"""

from __future__ import annotations

import argparse
import ctypes.util
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # noqa: E402

TODAY = dt.date(2026, 11, 20)
PLAIN = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
@page { size: Letter; margin: 0.75in }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; line-height: 1.4 }
table { border-collapse: collapse; width: 100% } td, th { border: 0.5pt solid #999; padding: 2pt 4pt }
</style></head><body>
<h1>Statement of services</h1>
<p>Patient: Jane Doe, born 01/01/1980. Date of service: 11/02/2026. Provider: Avery Lee, MD.</p>
<p>This page is a plain WeasyPrint document of one page: a heading, a few paragraphs and a small
table, the yardstick the CMS-1500 is measured against.</p>
<table><tr><th>Code</th><th>Description</th><th>Units</th><th>Charge</th></tr>
<tr><td>99214</td><td>Office visit, established patient</td><td>1</td><td>189.00</td></tr>
<tr><td>96365</td><td>IV infusion, first hour</td><td>1</td><td>450.00</td></tr>
<tr><td>J3490</td><td>Unclassified drug</td><td>1</td><td>120.00</td></tr></table>
<p>Total charges $759.00. Amount paid $650.00. Balance due $109.00.</p>
</body></html>"""


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"


def harfbuzz_subset() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def best_of(function, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def claims_of(folder: Path, patients: int):
    from superbill.engine.process import process_patient
    from superbill.inputs.load import load_clinic

    files = gen.generate(folder, patients, 1, today=TODAY)
    loaded = load_clinic(folder / "clinic.yaml")
    items = []
    for path in files:
        result = process_patient(path, loaded, today=TODAY)
        if not result.ok:
            raise SystemExit(f"generated file rejected: {[p.line() for p in result.problems]}")
        items += [(result.patient_file, claim) for claim in result.claims]
    return loaded, items


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="1,150", help="comma list of batch sizes (claims)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement; the best is kept")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.claims.split(",")]

    import pdfplumber
    from weasyprint import HTML

    from superbill.documents import cms1500

    print(f"# CMS-1500 bench: {pin_to_one_core()}; libharfbuzz-subset: "
          f"{'installed' if harfbuzz_subset() else 'not installed (WeasyPrint subsets with fontTools)'}")
    with tempfile.TemporaryDirectory(prefix="superbill-bench-cms1500-") as tmp:
        loaded, items = claims_of(Path(tmp), max(sizes))

        def plain():
            return HTML(string=PLAIN).write_pdf()

        def form(n, data_only):
            return lambda: cms1500.cms1500_pdf(items[:n], loaded, data_only, today=TODAY)

        plain()  # warm-up: fonts found, modules imported, the grid and form files read
        for n in sizes:
            form(n, False)()
        pages = {}
        for n in sizes:
            with pdfplumber.open(__import__("io").BytesIO(form(n, False)())) as pdf:
                pages[n] = len(pdf.pages)
        results = {"plain": [], **{(n, mode): [] for n in sizes for mode in ("facsimile", "data-only")}}
        for _ in range(args.rounds):  # interleaved: load on the machine hits every method alike
            results["plain"].append(best_of(plain, 1))
            for n in sizes:
                results[(n, "facsimile")].append(best_of(form(n, False), 1) / pages[n])
                results[(n, "data-only")].append(best_of(form(n, True), 1) / pages[n])
        baseline = min(results["plain"])
        print(f"plain one-page WeasyPrint document: {baseline * 1000:7.1f} ms (best of {args.rounds})")
        print(f"{'claims':>6} {'pages':>5} {'mode':>10} {'ms / page':>10} {'x plain page':>13}")
        for n in sizes:
            for mode in ("facsimile", "data-only"):
                per_page = min(results[(n, mode)])
                verdict = "holds" if per_page <= 0.15 * baseline else "DOES NOT HOLD"
                print(f"{n:>6} {pages[n]:>5} {mode:>10} {per_page * 1000:10.2f} {per_page / baseline:13.3f}"
                      f"   (<= 0.15: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
