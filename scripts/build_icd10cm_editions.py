#!/usr/bin/env python3
"""Regenerate ``codes/icd10cm-editions.tsv``: when each ICD-10-CM code is billable, by date of service.

A diagnosis is valid on a claim only in the edition in force on its date of service (docs/reference.md
"Claim checks"). The package registries carry three editions of the tabular, one per ``simple-icd-10-cm``
release; this script reads each one and writes the compact differences to the newest edition, which
``codes/icd10cm-2026.tsv`` already holds in full:

====================  =========================  ===========================
release               tabular                    edition, in force
====================  =========================  ===========================
simple-icd-10-cm 1.2.0  ``icd10cm_tabular_2021.xml``  FY2021, 2020-10-01 .. 2021-09-30
simple-icd-10-cm 1.4.0  ``icd10cm-tabular-April-2025.xml``  FY2025, 2024-10-01 .. 2025-09-30
simple-icd-10-cm 1.5.0  ``icd10c-tabular-April-1-2026.xml``  FY2026, 2025-10-01 .. 2026-09-30
====================  =========================  ===========================

Output rows, ``CODE<TAB>VALID_FROM<TAB>VALID_TO<TAB>TITLE``, one per interval in which the code is a
billable leaf, for every code that is *not* billable in all three editions (a code billable in all
of them is valid on every date and needs no row). Dates are ISO; an empty VALID_FROM means "from the
oldest shipped edition", an empty VALID_TO "still valid in the newest". TITLE is filled only for codes
the newest edition no longer has. A code that was a leaf in some edition and a header in another gets
its leaf intervals only; a code that is billable in no edition gets no row.

Codes added by a mid-year update (January 2021; since 2022 every April) are valid from that update's
date, not from the start of the fiscal year: ``codes/icd10cm-interim-additions.yaml`` lists them
with their source, and this script takes VALID_FROM from it.

The releases are fetched with ``pip download`` into a cache folder and each is read in its own
process (they share a module name). ``simple_icd_10_cm`` is a build dependency only.

Usage: ``python scripts/build_icd10cm_editions.py [--out DIR] [--cache DIR]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT_NAME = "icd10cm-editions.tsv"
INTERIM_NAME = "icd10cm-interim-additions.yaml"

# (fiscal year, package release, first day, last day), oldest first; must match
# superbill/tables/icd10cm_editions.py
EDITIONS = [
    (2021, "1.2.0", "2020-10-01", "2021-09-30"),
    (2025, "1.4.0", "2024-10-01", "2025-09-30"),
    (2026, "1.5.0", "2025-10-01", "2026-09-30"),
]

_READER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import simple_icd_10_cm as cm
out = {}
for code in cm.get_all_codes(False):
    if cm.is_category_or_subcategory(code):
        out[code] = [cm.is_leaf(code), " ".join(cm.get_description(code).split())]
json.dump(out, sys.stdout)
"""


def release_dir(version: str, cache: Path) -> Path:
    """The unpacked wheel of one simple-icd-10-cm release (downloaded once into ``cache``)."""
    target = cache / f"simple-icd-10-cm-{version}"
    if (target / "simple_icd_10_cm").is_dir():
        return target
    wheels = cache / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    f"simple-icd-10-cm=={version}", "-d", str(wheels)], check=True)
    wheel = next(wheels.glob(f"simple_icd_10_cm-{version}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def read_edition(version: str, cache: Path) -> dict[str, tuple[bool, str]]:
    """code (dot-less) -> (billable leaf, title) for every category and subcategory of a release."""
    done = subprocess.run([sys.executable, "-c", _READER, str(release_dir(version, cache))],
                          check=True, capture_output=True, text=True)
    return {code.replace(".", ""): (leaf, title) for code, (leaf, title) in json.loads(done.stdout).items()}


def interim_dates(path: Path) -> dict[str, tuple[int, str]]:
    """code (dot-less) -> (fiscal year, date) of the mid-year update that added it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {code.replace(".", ""): (int(update["fiscal_year"]), str(update["effective"]))
            for update in data["updates"] for code in update["codes"]}


def intervals(flags: list[bool], added: tuple[int, str] | None) -> list[tuple[str, str]]:
    """Billable intervals over the shipped editions (consecutive billable editions merge); an interval
    that opens in the edition of the code's mid-year update opens on that update's date."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(flags):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(flags) and flags[j + 1]:
            j += 1
        start = "" if i == 0 else EDITIONS[i][2]
        if added and added[0] == EDITIONS[i][0]:
            start = added[1]
        out.append((start, "" if j == len(flags) - 1 else EDITIONS[j][3]))
        i = j + 1
    return out


def build_rows(editions: list[dict[str, tuple[bool, str]]], interim: dict[str, tuple[int, str]]) -> list[str]:
    newest = editions[-1]
    rows = []
    for code in sorted(set().union(*editions)):
        flags = [edition.get(code, (False, ""))[0] for edition in editions]
        spans = intervals(flags, interim.get(code))
        if spans == [("", "")]:
            continue  # billable in every shipped edition since the oldest one began
        title = "" if code in newest else next(e[code][1] for e in reversed(editions) if code in e)
        rows += [f"{code}\t{start}\t{end}\t{title}" for start, end in spans]
    return rows


def header(versions: list[str]) -> list[str]:
    names = ", ".join(f"FY{fy} (simple-icd-10-cm {v})" for fy, v, _, _ in EDITIONS if v in versions)
    return [
        "# ICD-10-CM by date of service: billable intervals of every code not billable in all shipped editions",
        f"# source: CDC/NCHS ICD-10-CM tabular lists {names}; mid-year additions from {INTERIM_NAME}; "
        "ICD-10-CM is public domain (CDC/NCHS), ICD-10 is copyright WHO",
        "# generator: scripts/build_icd10cm_editions.py (do not edit by hand; regenerate)",
        "# columns: code without dot, valid from (empty: oldest shipped edition), valid to (empty: still valid), "
        "title (only for codes the newest edition lacks)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "codes")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "superbill-icd10cm-releases")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    editions = [read_edition(version, args.cache) for _, version, _, _ in EDITIONS]
    rows = build_rows(editions, interim_dates(ROOT / "codes" / INTERIM_NAME))
    text = "\n".join(header([v for _, v, _, _ in EDITIONS]) + rows) + "\n"
    (args.out / OUT_NAME).write_text(text, encoding="utf-8")
    print(f"{OUT_NAME}: {len(rows)} rows from {', '.join(str(len(e)) for e in editions)} codes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
