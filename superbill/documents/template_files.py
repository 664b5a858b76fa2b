"""`superbill templates list` and `superbill templates copy`: the template files, not their rendering.

`list_templates` shows every shipped template and whether the clinic's folder overrides it;
`copy_templates` writes working copies of the defaults (and the README) into a folder to edit.
"""

from __future__ import annotations

from pathlib import Path

from superbill.paths import TEMPLATES_DIR

TEMPLATE_SUFFIXES = (".html", ".css", ".yaml")  # the CMS-1500 grid and form drawing are yaml


def list_templates(user_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(name, where) for every template, the clinic's overrides marked."""
    out = []
    user = set()
    if user_dir and Path(user_dir).is_dir():
        user = {p.relative_to(user_dir).as_posix() for p in Path(user_dir).rglob("*") if p.is_file()}
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file() and path.suffix in TEMPLATE_SUFFIXES:
            name = path.relative_to(TEMPLATES_DIR).as_posix()
            out.append((name, "clinic override" if name in user else "default"))
    for name in sorted(user - {n for n, _ in out}):
        if name.endswith(TEMPLATE_SUFFIXES):
            out.append((name, "clinic"))
    return out


def template_listing(user_dir: Path | None) -> list[str]:
    """The lines `superbill templates list` prints."""
    lines = [f"default templates: {TEMPLATES_DIR}"]
    if user_dir:
        lines.append(f"clinic templates:  {user_dir} (searched first)")
    rows = list_templates(user_dir)
    width = max((len(name) for name, _ in rows), default=0)
    lines += [f"  {name:<{width}}  {where}" for name, where in rows]
    return lines


def default_files() -> list[Path]:
    """Every shipped template, stylesheet and the README (not Python files or hidden ones)."""
    out = []
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        relative = path.relative_to(TEMPLATES_DIR)
        if not path.is_file() or any(part.startswith((".", "__")) for part in relative.parts):
            continue
        if path.suffix in (".py", ".pyc"):
            continue
        out.append(path)
    return out


def copy_templates(directory: str | Path) -> tuple[list[Path], list[Path]]:
    """Copy every default template, stylesheet and the README into directory: (written, kept). A file
    that exists there already is kept as it is (it may hold the clinic's edits), so copying again
    into a folder restores only the defaults deleted from it."""
    from superbill.outfiles import write_atomic

    target = Path(directory)
    written, kept = [], []
    for source in default_files():
        destination = target / source.relative_to(TEMPLATES_DIR)
        if destination.exists():
            kept.append(destination)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_atomic(destination, source.read_bytes(), mode=0o644))
    return written, kept
