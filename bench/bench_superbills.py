"""Benchmark: a batch of superbills, ours versus a naive loop and versus one WeasyPrint document.

    .venv/bin/python bench/bench_superbills.py [--n 40] [--sessions 1] [--jobs N] [--rounds 1]

Generates N patients (bench/gen.py), builds their superbill HTML once with the library, then times
the same HTML rendered three ways, in this one process, in turn:

  naive         one `weasyprint.HTML(...).write_pdf()` per superbill (`superbill.documents.pdf.render_pdf`)
  one-document  all the same pages as ONE WeasyPrint document (bodies joined with page breaks),
                laid out and written once (fonts subset once): the floor for WeasyPrint itself
  ours          `superbill_doc.render_superbills(documents)`, what `superbill export --format
                superbill` and `superbill render` call: first with an empty font cache (the slim
                fonts are made and checked: a machine's first run), then as every later run is
                (slim fonts read from the cache), with the automatic number of workers, then
                --jobs 1 and --jobs 2 to show what the workers add

and then `superbill export --format superbill` end to end (a subprocess: start-up, reading and
checking the files, the ledger, writing the PDFs). Prints wall-clock seconds and CPU seconds (this
process plus its workers; less sensitive to other load on the machine), the ratios measured in this
run, and whether every PDF of ours is byte-for-byte the naive one (SOURCE_DATE_EPOCH is fixed so
the fonts' timestamps match). With --rounds R each method runs R times, interleaved; the best is kept.

Targets (issue 7): ours <= 0.3 x naive, ours <= 1.5 x one-document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")  # fixed font timestamps: comparable bytes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # noqa: E402

ISSUED = dt.date(2026, 11, 20)


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(function):
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = function()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def build_documents(folder: Path, files: list[Path]):
    from superbill.documents.superbill_doc import build_patient_documents
    from superbill.engine.process import process_patient
    from superbill.inputs.load import load_clinic

    loaded = load_clinic(folder / "clinic.yaml")
    documents = []
    for path in files:
        result = process_patient(path, loaded, today=dt.date.today())
        if not result.ok:
            raise SystemExit(f"generated file rejected: {[p.line() for p in result.problems]}")
        docs, _ = build_patient_documents(result, loaded, issued=ISSUED)
        documents += docs
    return documents


def one_document_html(documents) -> str:
    """Every superbill's <body> in one HTML document, each starting on a new page."""
    first = documents[0].html
    head = first[:first.index("<body")]
    bodies = []
    for doc in documents:
        html = doc.html
        body = html[html.index("<body"):html.rindex("</body>")]
        inner = body[body.index(">") + 1:]
        bodies.append(f'<section style="break-before: page">{inner}</section>')
    return head + "<body class=\"superbill\">" + "".join(bodies) + "</body></html>"


def run_naive(documents):
    from superbill.documents.pdf import render_pdf

    return [render_pdf(d.html, d.base_dir, d.roots, files=d.files) for d in documents]


def run_one_document(documents, html):
    from weasyprint import HTML

    from superbill.documents.pdf import safe_fetcher

    doc = documents[0]
    files = sorted({f for d in documents for f in d.files})
    rendered = HTML(string=html, base_url=str(Path(doc.base_dir).resolve()) + "/",
                    url_fetcher=safe_fetcher(doc.roots, files)).render()
    return rendered.write_pdf(), len(rendered.pages)


USED_WORKERS: list[int] = []


def run_ours(documents, jobs):
    from superbill.documents import pdfbatch
    from superbill.documents.superbill_doc import render_superbills

    pdfbatch._SLIMS.clear()  # count making the slim fonts in every run
    if jobs is None:  # what the automatic choice is right now (it looks at the load average)
        USED_WORKERS.append(pdfbatch.worker_count(len(documents) - 1, None))
    return render_superbills(documents, jobs=jobs)


def run_cli(folder: Path, files_dir: Path, jobs) -> tuple[float, int]:
    out = folder / "cli-out"
    shutil.rmtree(out, ignore_errors=True)
    ledger = folder / "bench-ledger.sqlite3"
    for leftover in folder.glob("bench-ledger.sqlite3*"):
        leftover.unlink()
    exe = Path(sys.executable).with_name("superbill")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "superbill.cli"]
    command += ["--clinic", str(folder / "clinic.yaml"), "export", str(files_dir), "-o", str(out),
                "--format", "superbill", "--ledger", str(ledger)]
    if jobs:
        command += ["--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"superbill export failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, len(list(out.glob("*.pdf")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="patients (one superbill each); default 40")
    parser.add_argument("--sessions", type=int, default=1, help="sessions per patient; default 1 (one-page superbills)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes for ours (default: automatic)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat each method, keep the best; default 1")
    parser.add_argument("--no-cli", action="store_true", help="skip the end-to-end `superbill export` run")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="superbill-bench-"))
    os.environ["SUPERBILL_CACHE_DIR"] = str(folder / "font-cache")  # starts empty: the cold run fills it
    try:
        files = gen.generate(folder, args.n, args.sessions)
        documents = build_documents(folder, files)
        html = one_document_html(documents)
        print(f"superbills: {len(documents)} documents ({args.n} patients x {args.sessions} session(s)), "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
        run_naive(documents[:1])  # warm up: import WeasyPrint, load the system fonts

        best: dict[str, tuple[float, float]] = {}
        results = {}

        def keep(name, wall, cpu):
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)

        for _ in range(args.rounds):
            results["naive"], wall, cpu = timed(lambda: run_naive(documents))
            keep("naive", wall, cpu)
            (results["one"], results["one_pages"]), wall, cpu = timed(lambda: run_one_document(documents, html))
            keep("one-document", wall, cpu)
            if "ours, cold cache" not in best:  # the first run on a machine: makes and checks the slim fonts
                results["ours_cold"], wall, cpu = timed(lambda: run_ours(documents, args.jobs))
                keep("ours, cold cache", wall, cpu)
            results["ours"], wall, cpu = timed(lambda: run_ours(documents, args.jobs))
            keep("ours", wall, cpu)
            if args.jobs is None:
                for jobs in range(1, min(os.cpu_count() or 1, 2) + 1):
                    results[f"ours{jobs}"], wall, cpu = timed(lambda jobs=jobs: run_ours(documents, jobs))
                    keep(f"ours --jobs {jobs}", wall, cpu)

        pages = results["one_pages"]
        n = len(documents)
        print(f"{'method':<16}{'wall s':>9}{'per doc ms':>12}{'CPU s':>9}")
        for name, (wall, cpu) in best.items():
            print(f"{name:<16}{wall:>9.2f}{wall / n * 1000:>12.0f}{cpu:>9.2f}")
        if not args.no_cli:
            cli_wall, written = run_cli(folder, folder / "bench-patients", args.jobs)
            print(f"{'export (CLI)':<16}{cli_wall:>9.2f}{cli_wall / n * 1000:>12.0f}{'':>9}  "
                  f"end to end, {written} PDFs written")
        identical = all(results[key] == results["naive"] for key in results if key.startswith("ours"))
        if USED_WORKERS:
            print(f"ours (automatic) used {', '.join(map(str, USED_WORKERS))} worker process(es)")
        print(f"pages: {pages} in the one document; every output of ours byte-for-byte equal to naive: {identical}")

        naive, one, ours = best["naive"], best["one-document"], best["ours"]
        cold = best["ours, cold cache"]
        print()
        print(f"ours / naive        = {ours[0] / naive[0]:.2f} wall, {ours[1] / naive[1]:.2f} CPU   (target <= 0.30)")
        print(f"ours / one-document = {ours[0] / one[0]:.2f} wall, {ours[1] / one[1]:.2f} CPU   (target <= 1.50)")
        print(f"first run (cold cache): / naive = {cold[0] / naive[0]:.2f}, / one-document = {cold[0] / one[0]:.2f} (wall)")
        for jobs in (1, 2):
            if f"ours --jobs {jobs}" in best:
                run = best[f"ours --jobs {jobs}"]
                print(f"ours --jobs {jobs}: / naive = {run[0] / naive[0]:.2f}, / one-document = {run[0] / one[0]:.2f} (wall)")
        print(f"one-document / naive = {one[0] / naive[0]:.2f} wall: the best any per-document split can do "
              f"without parallel workers")
        return 0 if identical else 1
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
