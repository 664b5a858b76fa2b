#!/usr/bin/env python3
"""Regenerate the shipped ICD-10-CM index from the ``simple_icd_10_cm`` package.

Writes two files into ``codes/`` (or ``--out DIR``):

``icd10cm-2026.tsv``
    ``CODE_NO_DOT<TAB>B|N<TAB>title`` for every category and subcategory (including the
    7th-character extensions), sorted by code. ``B`` marks a billable leaf, ``N`` a header.
    Chapters and blocks are left out.

``icd10cm-2026-excludes1.tsv``
    ``NODE<TAB>TARGET<TAB>note`` for every code reference in an Excludes1 note. NODE is the dot-less
    code that carries the note, or for a block or chapter its code range (``F30-F39``). TARGET is a
    dot-less code prefix (``F33``, ``G564``) or a range (``F30-F39``, ``R071-R079``), both parsed out
    of the note's parentheses: ``(F33.-)``, ``(G89.0)``, ``(G56.4-, G57.7-)``, ``(F30-F39)``,
    ``(E08-E13 with .42)`` (expanded per category). References the format cannot express
    ("with fifth character 2", codes outside parentheses) are left out and counted on stderr.

``simple_icd_10_cm`` is a build/test dependency only; the runtime reads the TSV files.

Usage: ``python scripts/build_icd10cm_index.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

import simple_icd_10_cm as cm

EDITION = "FY2026 (April 1, 2026 update)"
XML_NAME = "icd10c-tabular-April-1-2026.xml"
INDEX_NAME = "icd10cm-2026.tsv"
EXCLUDES_NAME = "icd10cm-2026-excludes1.tsv"

_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_TOKEN = re.compile(rf"^({_CODE})-?(?:-({_CODE})-?)?$")
_WITH_SUFFIX = re.compile(rf"^({_CODE})(?:-({_CODE}))?with(\.[0-9A-Z]{{1,4}})(?:-(\.[0-9A-Z]{{1,4}}))?-?$")
_CODE_LIKE = re.compile(r"[A-Z][0-9][0-9A-Z]")


def clean_title(text: str) -> str:
    """One line of text: tabs and newlines (a few 7th-character titles have them) become spaces."""
    return " ".join(text.split())


def nodot(code: str) -> str:
    return code.replace(".", "")


def _suffixes(first: str, last: str | None) -> list[str]:
    first = first.lstrip(".")
    if last is None:
        return [first]
    last = last.lstrip(".")
    if first.isdigit() and last.isdigit() and len(first) == len(last) and int(first) <= int(last):
        return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]
    return []


def parse_group(group: str, categories: list[str]) -> list[str] | None:
    """Targets in one parenthesised group, or None when it holds codes we cannot express."""
    text = group.replace(".-", "-")
    if "with" in text:
        m = _WITH_SUFFIX.match(re.sub(r"\s+", "", text))
        if not m:
            return None
        lo, hi, s1, s2 = m.groups()
        if "." in lo or (hi and "." in hi):
            return None
        hi = hi or lo
        suffixes = _suffixes(s1, s2)
        if not suffixes:
            return None
        return [cat + suf for cat in categories if lo <= cat <= hi for suf in suffixes]
    targets: list[str] = []
    for token in text.split(","):
        token = re.sub(r"\s+", "", token)
        if not token:
            continue
        m = _TOKEN.match(token)
        if not m:
            if _CODE_LIKE.search(token):
                return None  # a code with a qualifier we cannot express: leave the group out
            continue  # plain words ("NOS")
        lo, hi = m.groups()
        targets.append(nodot(lo) if hi is None else f"{nodot(lo)}-{nodot(hi)}")
    return targets


def collect() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], dict[str, int]]:
    nodes: list[tuple[str, bool, str]] = []  # (code, is_block_or_chapter, range_for_blocks)
    for chapter in [c for c in cm.get_all_codes() if cm.is_chapter(c)]:
        blocks = cm.get_children(chapter, prioritize_blocks=True)
        chapter_range = f"{blocks[0].split('-')[0]}-{blocks[-1].split('-')[-1]}"
        nodes.append((chapter, True, chapter_range))
        for block in blocks:
            stack = [(block, True)]
            while stack:
                code, as_block = stack.pop()
                if as_block:
                    lo, _, hi = code.partition("-")
                    nodes.append((code, True, f"{lo}-{hi or lo}"))
                    for child in cm.get_children(code, prioritize_blocks=True):
                        # nested blocks have a range name; a block holding one category has
                        # that category's name (B99) and the category as its only child
                        child_is_block = child != code and (
                            "-" in child or (cm.is_block(child) and cm.is_category(child)))
                        stack.append((child, child_is_block))
                else:
                    nodes.append((code, False, ""))
                    for child in cm.get_children(code):
                        stack.append((child, False))

    index: dict[str, tuple[str, str]] = {}
    for code, as_block, _ in nodes:
        if as_block:
            continue
        index[nodot(code)] = ("B" if cm.is_leaf(code) else "N", clean_title(cm.get_description(code)))
    categories = sorted(c for c in index if len(c) == 3)

    stats = {"notes": 0, "targets": 0, "skipped_groups": 0, "notes_without_targets": 0}
    excludes: set[tuple[str, str, str]] = set()
    for code, as_block, rng in nodes:
        notes = cm.get_excludes1(code, prioritize_blocks=as_block)
        node = rng if as_block else nodot(code)
        for note in notes:
            note = clean_title(note)
            stats["notes"] += 1
            found = 0
            for group in re.findall(r"\(([^()]*)\)", note):
                targets = parse_group(group, categories)
                if targets is None:
                    stats["skipped_groups"] += 1
                    continue
                for target in targets:
                    excludes.add((node, target, note))
                    found += 1
            stats["targets"] += found
            if not found:
                stats["notes_without_targets"] += 1
    rows = sorted((code, flag, title) for code, (flag, title) in index.items())
    return rows, sorted(excludes), stats


def header(what: str) -> list[str]:
    version = metadata.version("simple-icd-10-cm")
    return [
        f"# ICD-10-CM {EDITION}: {what}",
        f"# source: CDC/NCHS ICD-10-CM tabular list ({XML_NAME}) as bundled in simple-icd-10-cm {version};"
        " ICD-10-CM is public domain (CDC/NCHS), ICD-10 is copyright WHO",
        "# generator: scripts/build_icd10cm_index.py (do not edit by hand; regenerate)",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "codes")
    args = parser.parse_args(argv)
    rows, excludes, stats = collect()
    args.out.mkdir(parents=True, exist_ok=True)
    index_lines = header("categories and subcategories")
    index_lines.append("# columns: code without dot, B billable leaf / N not billable, tabular title")
    index_lines += [f"{c}\t{f}\t{t}" for c, f, t in rows]
    (args.out / INDEX_NAME).write_text("\n".join(index_lines) + "\n", encoding="utf-8")
    ex_lines = header("Excludes1 references")
    ex_lines.append("# columns: node (code without dot, or block/chapter range), target (code prefix without"
                    " dot, or range), note text")
    ex_lines += [f"{n}\t{t}\t{note}" for n, t, note in excludes]
    (args.out / EXCLUDES_NAME).write_text("\n".join(ex_lines) + "\n", encoding="utf-8")
    billable = sum(1 for _, f, _ in rows if f == "B")
    print(f"{INDEX_NAME}: {len(rows)} codes ({billable} billable); {EXCLUDES_NAME}: {len(excludes)} rows; "
          f"{stats}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
