#!/usr/bin/env python3
"""Render the example superbill and letter; save their first pages as docs/superbill-example.png and
docs/letter-example.png (the README pictures).

    .venv/bin/python scripts/superbill_png.py [--out docs/superbill-example.png]
                                              [--letter-out docs/letter-example.png] [--dpi 120]

Uses the starter clinic (`superbill init`), so the picture always shows what a new user gets.
Converts with pypdfium2 (installed with pdfplumber) or, failing that, pdftoppm from poppler.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from superbill.documents.letter import write_letter  # noqa: E402
from superbill.documents.superbill_doc import render_patient_superbills  # noqa: E402
from superbill.engine.process import process_patient  # noqa: E402
from superbill.inputs.load import load_clinic  # noqa: E402
from superbill.inputs.starter import write_starter  # noqa: E402


def first_page_png(pdf: Path, out: Path, dpi: int) -> None:
    try:
        import pypdfium2
    except ImportError:
        pypdfium2 = None
    if pypdfium2 is not None:
        document = pypdfium2.PdfDocument(str(pdf))
        image = document[0].render(scale=dpi / 72).to_pil()
        # a document needs few colours: a palette PNG is a third of the size and looks the same
        image.convert("RGB").quantize(colors=128).save(out, optimize=True)
        return
    if shutil.which("pdftoppm"):
        stem = out.with_suffix("")
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(stem)], check=True)
        return
    sys.exit("need pypdfium2 (pip install pypdfium2) or pdftoppm (poppler-utils) to make the PNG")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "superbill-example.png")
    parser.add_argument("--letter-out", type=Path, default=ROOT / "docs" / "letter-example.png")
    parser.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clinic"
        write_starter(folder)
        loaded = load_clinic(folder / "clinic.yaml")
        result = process_patient(folder / "patients" / "example.yaml", loaded)
        if not result.ok:
            sys.exit("\n".join(p.line() for p in result.problems))
        # a fixed statement date, so the picture only changes when the layout does
        [pdf] = render_patient_superbills(result, loaded, Path(tmp) / "out", issued=dt.date(2026, 11, 30))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        first_page_png(pdf, args.out, args.dpi)
        # the letter of the example request, dated as its test is, so the picture is stable too
        letter_pdf = Path(tmp) / "out" / "letter.pdf"
        write_letter(folder / "requests" / "example.yaml", loaded, letter_pdf, today=dt.date(2026, 11, 10))
        args.letter_out.parent.mkdir(parents=True, exist_ok=True)
        first_page_png(letter_pdf, args.letter_out, args.dpi)
    print(f"wrote {args.out}")
    print(f"wrote {args.letter_out}")


if __name__ == "__main__":
    main()
