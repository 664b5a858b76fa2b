"""Warnings for what a clinic's template refers to but a document may not load.

The PDF renderer loads only files inside the template folders and the images clinic.yaml names
(`superbill.documents.pdf`); anything else — a web address, a `file://` URL, a path outside the
folders, a file that is not there — is left out of the PDF. Left out silently, a logo or a stylesheet
would just be missing from the paper; so every literal reference in the clinic's own templates
(`src=`, `href=`, `url(...)`, `@import`) is checked before rendering, and each one that cannot load
is a warning naming the template, its line and the reference. References a template computes
(`{{ practice.logo_url }}`) are the program's own and are not checked here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from superbill.problems import WARNING, Problem

# What the renderer fetches: an element's src, a <link>'s href (a stylesheet), CSS url() and @import.
# A plain <a href> is a link on the page, never fetched.
_REFERENCE = re.compile(
    r"""(?:\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))"""
    r"""|(?:<link\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))"""
    r"""|(?:url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\))"""
    r"""|(?:@import\s+(?:"([^"]*)"|'([^']*)'))""",
    re.IGNORECASE,
)
_TEMPLATE_SUFFIXES = (".html", ".htm", ".css", ".jinja", ".j2")


def reference_warnings(user_dir: str | Path | None) -> list[Problem]:
    """One warning per reference in the clinic's templates that a document may not load."""
    if not user_dir:
        return []
    folder = Path(user_dir).resolve()
    stamp = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in _templates(folder)))
    return list(_warnings(str(folder), stamp))


def _templates(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() in _TEMPLATE_SUFFIXES]


@lru_cache(maxsize=8)
def _warnings(folder: str, stamp: tuple) -> tuple[Problem, ...]:
    from superbill.documents.templating import template_dirs

    roots = template_dirs(folder)
    out: list[Problem] = []
    for path, _ in stamp:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in _REFERENCE.finditer(line):
                reference = next(g for g in match.groups() if g is not None).strip()
                reason = _refusal(reference, roots[0], roots)  # relative URLs resolve in the clinic's folder
                if reason:
                    out.append(Problem(path, f"line {number}", WARNING,
                                       f"{reference!r} {reason}; documents are made without it"))
    return tuple(out)


def _refusal(reference: str, base: Path, roots: list[Path]) -> str | None:
    """Why `reference` will not load, or None when it will (or is computed by the template)."""
    if not reference or "{{" in reference or "{%" in reference or reference.startswith("#"):
        return None
    parts = urlsplit(reference)
    if parts.scheme and parts.scheme.lower() != "file":
        if parts.scheme.lower() in ("http", "https", "ftp", "data"):
            return "is not a file in the template folders (a document loads no web addresses or data URLs)"
        return None  # mailto:, tel: and the like are links, never loaded
    if parts.scheme:
        if parts.netloc not in ("", "localhost"):
            return "is on another computer"
        target = Path(unquote(parts.path))
    else:
        target = Path(unquote(parts.path))
        target = target if target.is_absolute() else base / target
    target = target.resolve()
    if not any(root == target or root in target.parents for root in roots):
        return "is outside the template folders"
    if not target.is_file():
        return "is not there"
    return None
