#!/usr/bin/env python3
"""Write the example Good Faith Estimate and save its first page as docs/gfe-example.png (the README picture).

    .venv/bin/python scripts/gfe_png.py [--out docs/gfe-example.png] [--dpi 120]

Uses the starter clinic (`superbill init`) and its `gfe/example.yaml` (issued on a fixed date), with a
throw-away ledger, so the picture only changes when the layout does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from superbill_png import first_page_png  # noqa: E402

from superbill.batch.estimates import issue_estimate  # noqa: E402
from superbill.inputs.load import load_clinic  # noqa: E402
from superbill.inputs.starter import write_starter  # noqa: E402
from superbill.problems import InputRejected  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "gfe-example.png")
    parser.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clinic"
        write_starter(folder)
        loaded = load_clinic(folder / "clinic.yaml")
        try:
            issued = issue_estimate(folder / "gfe" / "example.yaml", loaded, Path(tmp) / "gfe.pdf",
                                    ledger_path=Path(tmp) / "ledger.sqlite3")
        except InputRejected as exc:
            sys.exit("\n".join(p.line() for p in exc.problems))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        first_page_png(issued.path, args.out, args.dpi)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
