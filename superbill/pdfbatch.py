"""Many HTML documents to many PDFs, fast, each PDF exactly what `pdf.render_pdf` makes on its own.

Where the time goes (bench/README.md): per superbill, WeasyPrint lays the pages out (most of the
rest) and, in `write_pdf`, subsets every embedded font with fontTools. That subsetting parses the
whole system font each time, including its GSUB/GPOS layout tables, which it then drops: about
0.1 s per font, three fonts per superbill. Two things are shared across a batch here:

* **a slim copy of each font**, made once per process: the same font with GSUB/GPOS removed and
  only the glyphs of the Latin, punctuation and currency characters kept (glyph ids unchanged).
  A document whose glyphs are all in the slim copy is subset from it instead of from the full
  font, with WeasyPrint's own options: the embedded font comes out byte-for-byte the same, 3-4x
  faster. Any other document (a glyph outside the slim copy, a variable, colour or CFF font, a
  font collection) takes WeasyPrint's usual path. Each PDF is still written on its own, so it
  holds its own pages, metadata and fonts subset to its own glyphs, nothing of another document;
* **worker processes** (`jobs`): the documents are laid out in parallel by forked workers that
  inherit the loaded WeasyPrint and the slim fonts, results returned in order.

`render_pdfs(items, jobs=None)` is the entry point; an item is (html, base_dir, roots, files) as
for `pdf.render_pdf`.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass

# Fewer documents than this: the slim fonts (about 0.3 s per font to make and check) would not pay back.
SLIM_MIN_DOCUMENTS = 4
# Documents per worker process before a second worker is worth its start (fork and warm-up).
DOCUMENTS_PER_WORKER = 4


def _ranges(*pairs):
    out = set()
    for low, high in pairs:
        out.update(range(low, high + 1))
    return frozenset(out)


# The characters the slim fonts keep: ASCII, Latin-1, Latin Extended-A/B, general punctuation,
# currency, letterlike symbols (No., TM), arrows and a few marks. Names in other scripts still
# render; their documents take the full-font path.
REPERTOIRE = _ranges((0x20, 0x7E), (0xA0, 0x24F), (0x2010, 0x205E), (0x20A0, 0x20C0), (0x2100, 0x214F),
                     (0x2190, 0x21FF), (0x2212, 0x2212), (0x25A0, 0x25FF), (0x2713, 0x2714), (0xFFFD, 0xFFFD))



def _SUBSTITUTES(code: int) -> bool:
    return 0xE000 <= code <= 0xF8FF or 0xFB00 <= code <= 0xFB4F


@dataclass
class SlimFont:
    data: bytes
    glyphs: frozenset  # glyph ids a document may use to be subset from `data`
    verified: bool = False  # the first document's font came out the same both ways


_SLIMS: dict[tuple, SlimFont | None] = {}
_ACTIVE = 0
_LOCK = threading.Lock()
_ORIGINAL = None
STATS = {"slim": 0, "full": 0}  # documents' fonts subset each way in this process (for the bench)


def _subset_options(hinting: bool, notdef_outline: bool):
    """The fontTools options WeasyPrint 70 uses (weasyprint/pdf/fonts.py, Font._fonttools_subset)."""
    from fontTools import subset

    options = subset.Options(retain_gids=True, passthrough_tables=True, ignore_missing_glyphs=True,
                             hinting=hinting, desubroutinize=True, notdef_outline=notdef_outline)
    options.drop_tables += ["GSUB", "GPOS", "SVG"]
    return options


def build_slim(content: bytes, hinting: bool = False) -> SlimFont | None:
    """The slim copy of a font file, or None for a font that must always take the usual path."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    if content[:4] not in (b"\x00\x01\x00\x00", b"true"):  # TrueType outlines only: not OTTO, not ttcf
        return None
    try:
        font = TTFont(io.BytesIO(content))
        tags = set(font.keys())
        if "glyf" not in tags or tags & {"fvar", "COLR", "SVG ", "CBDT", "sbix", "EBDT"}:
            return None
        cmap = font.getBestCmap() or {}
        # The repertoire's glyphs, plus what shaping may substitute for them (GSUB ligatures such
        # as fi and ffi): glyphs in no cmap entry, private-use and presentation-form glyphs.
        encoded = set(cmap.values())
        names = {name for code, name in cmap.items() if code in REPERTOIRE or _SUBSTITUTES(code)}
        names.update(name for name in font.getGlyphOrder() if name not in encoded)
        glyphs = {font.getGlyphID(name) for name in names} | {0}
        if "GPOS" in font and "kern" in font:  # the subsetter drops a legacy kern table beside GPOS
            del font["kern"]
        for tag in ("GSUB", "GPOS", "SVG "):  # dropped by the subsetter anyway; deleting first skips parsing them
            if tag in font:
                del font[tag]
        subsetter = subset.Subsetter(_subset_options(hinting, notdef_outline=True))
        subsetter.populate(gids=glyphs)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    except Exception:  # noqa: BLE001 - a font fontTools cannot slim takes WeasyPrint's usual path
        return None
    return SlimFont(out.getvalue(), frozenset(glyphs))


def _slim_for(key: tuple, content: bytes, hinting: bool) -> SlimFont | None:
    with _LOCK:
        if key in _SLIMS:
            return _SLIMS[key]
    slim = build_slim(content, hinting)
    with _LOCK:
        if len(_SLIMS) > 64:
            _SLIMS.clear()
        _SLIMS[key] = slim
    return slim


def same_font(a: bytes, b: bytes) -> bool:
    """Whether two font files are the same but for head.modified (the time they were saved)."""
    from fontTools.ttLib import TTFont

    if a == b:
        return True
    try:
        x, y = TTFont(io.BytesIO(a)), TTFont(io.BytesIO(b))
        if sorted(x.keys()) != sorted(y.keys()):
            return False
        y["head"].modified = x["head"].modified
        y["head"].checkSumAdjustment = x["head"].checkSumAdjustment  # a checksum over the file, time included
        return all(x.getTableData(tag) == y.getTableData(tag) for tag in x.keys() if tag != "GlyphOrder")
    except Exception:  # noqa: BLE001
        return False


def _fast_subset(self, to_unicode, hinting):
    """Font._fonttools_subset, from the slim copy when the document's glyphs allow it."""
    if _ACTIVE and to_unicode and not getattr(self, "index", 0):
        key = (hashlib.blake2b(self.file_content, digest_size=16).digest(), bool(hinting))
        slim = _slim_for(key, self.file_content, hinting)
        if slim is not None and slim.glyphs.issuperset(to_unicode):
            original = self.file_content
            self.file_content = slim.data
            _ORIGINAL(self, to_unicode, hinting)
            fast = self.file_content
            if fast is not slim.data:
                if slim.verified:
                    STATS["slim"] += 1
                    return
                # First use of this slim copy in this process: check it against the usual path
                # (this fontTools could subset differently); keep it only if they agree.
                self.file_content = original
                _ORIGINAL(self, to_unicode, hinting)
                STATS["full"] += 1
                with _LOCK:
                    if same_font(self.file_content, fast):
                        slim.verified = True
                    else:
                        _SLIMS[key] = None
                return
            self.file_content = original  # fontTools refused the slim copy: do it the usual way
    STATS["full"] += 1
    _ORIGINAL(self, to_unicode, hinting)


def _install() -> bool:
    """Route WeasyPrint's fontTools subsetting through `_fast_subset` (active only inside
    `fast_fonts()`). False when this WeasyPrint has no such hook: everything takes the usual path."""
    global _ORIGINAL
    from weasyprint.pdf import fonts

    with _LOCK:
        if _ORIGINAL is None:
            current = getattr(fonts.Font, "_fonttools_subset", None)
            if current is None:
                return False
            _ORIGINAL = current
            fonts.Font._fonttools_subset = _fast_subset
    return True


@contextmanager
def fast_fonts():
    """Within this block, fonts are subset from their slim copies where possible."""
    global _ACTIVE
    _install()
    with _LOCK:
        _ACTIVE += 1
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE -= 1


# ---------------------------------------------------------------- documents


def _render_item(item) -> bytes:
    from superbill.pdf import render_pdf

    html, base_dir, roots, files = item
    return render_pdf(html, base_dir, roots, files=files)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _fork_context():
    """A fork context when forking is safe here (one thread, not a daemon worker), else None."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    if multiprocessing.current_process().daemon or threading.active_count() > 1:
        return None
    try:
        if len(os.listdir("/proc/self/task")) > 1:  # a native thread (not started by Python)
            return None
    except OSError:
        pass
    return multiprocessing.get_context("fork")


def _idle_cores() -> int:
    """Cores not busy with other work: the cores less the 1-minute load average, which counts
    this process as well (it is running). Workers beyond that only fight over the same cores
    (measured: 2 workers beside another busy process were 13% slower than 1)."""
    cores = _cpu_count()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    return max(1, min(cores, int(cores - load + 1.5)))


def worker_count(documents: int, jobs: int | None) -> int:
    """Worker processes for `documents`: `jobs` if given, else one per DOCUMENTS_PER_WORKER
    documents up to the idle cores; 1 means render in this process."""
    if jobs is None:
        jobs = min(_idle_cores(), documents // DOCUMENTS_PER_WORKER)
    return max(1, min(jobs, documents))


def render_pdfs(items, jobs: int | None = None) -> list[bytes]:
    """PDF bytes for each (html, base_dir, roots, files), in order: the same bytes as
    `pdf.render_pdf` one at a time. Raises what WeasyPrint raises for a document that fails."""
    items = list(items)
    if len(items) < SLIM_MIN_DOCUMENTS:
        return [_render_item(item) for item in items]
    with fast_fonts():
        # The first document in this process: loads WeasyPrint and makes the slim fonts, which
        # forked workers then inherit.
        out = [_render_item(items[0])]
        rest = items[1:]
        workers = worker_count(len(rest), jobs)
        context = _fork_context() if workers > 1 else None
        if context is None:
            out += [_render_item(item) for item in rest]
            return out
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunk = max(1, min(8, len(rest) // (workers * 4)))
        done: list[bytes] = []
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                for data in pool.map(_render_item, rest, chunksize=chunk):
                    done.append(data)
        except BrokenProcessPool:  # a worker died (killed, out of memory): finish here
            done += [_render_item(item) for item in rest[len(done):]]
        return out + done
