"""Many HTML documents to many PDFs, fast, each PDF exactly what `pdf.render_pdf` makes on its own.

Where the time goes (bench/README.md): per superbill, WeasyPrint lays the pages out (about 60% of
a one-page superbill on this template) and, in `write_pdf`, subsets each embedded font (two or
three per superbill) with fontTools. That subsetting parses the whole system font each time,
GSUB/GPOS layout tables included, which it then drops: about 0.1 s per font. Shared here:

* **a slim copy of each font**: the same font with GSUB/GPOS removed and only the glyphs of the
  Latin, punctuation and currency characters (and the ligatures shaping may put in their place)
  kept, glyph ids unchanged. A document whose glyphs are all in the slim copy is subset from it
  instead of from the full font, with WeasyPrint's own options: the embedded font comes out
  byte-for-byte the same, 3-4x faster. The first time a slim copy serves, the font is also subset
  the usual way and the two compared; a slim copy that would change anything is dropped. A
  checked copy is kept in the user's cache folder (`cache_folder()`), so later runs and single
  superbills use it at once. Any other document (a glyph outside the slim copy; a variable, colour
  or CFF font; a font collection) takes WeasyPrint's usual path. Each PDF is still written on its
  own: its own pages, metadata and fonts subset to its own glyphs, nothing of another document;
* **worker processes** (`jobs`): the documents are laid out in parallel by forked workers that
  inherit the loaded WeasyPrint and the slim fonts, results returned in order (automatically only
  on cores that are idle: the layout is CPU-bound).

Where HarfBuzz's subsetter is installed (libharfbuzz-subset >= 4.1), WeasyPrint subsets with it
instead of fontTools (`subsets_with_harfbuzz()`): fast on its own, and the slim copies play no part.

`render_pdfs(items, jobs=None)` is the entry point; an item is (html, base_dir, roots, files) as
for `pdf.render_pdf`.
"""
from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Fewer documents than this: making the slim fonts (about 0.4 s per font, with their check) would not
# pay back; smaller batches use the slim fonts only when they are already made (cached on disk).
SLIM_MIN_DOCUMENTS = 4
# Documents per worker process before a second worker is worth its start (fork and warm-up).
DOCUMENTS_PER_WORKER = 4


def _ranges(*pairs: tuple[int, int]) -> frozenset[int]:
    out: set[int] = set()
    for low, high in pairs:
        out.update(range(low, high + 1))
    return frozenset(out)


# The characters the slim fonts keep: ASCII, Latin-1, Latin Extended-A/B, general punctuation,
# currency, letterlike symbols (No., TM), arrows and a few marks. Names in other scripts still
# render; their documents take the full-font path.
REPERTOIRE = _ranges((0x20, 0x7E), (0xA0, 0x24F), (0x2010, 0x205E), (0x20A0, 0x20C0), (0x2100, 0x214F),
                     (0x2190, 0x21FF), (0x2212, 0x2212), (0x25A0, 0x25FF), (0x2713, 0x2714), (0xFFFD, 0xFFFD))


def _substitute_code(code: int) -> bool:
    """Private-use and presentation-form code points: where fonts put ligatures (fi, ffi, ...)."""
    return 0xE000 <= code <= 0xF8FF or 0xFB00 <= code <= 0xFB4F


@dataclass
class SlimFont:
    data: bytes
    glyphs: frozenset  # glyph ids a document may use to be subset from `data`
    verified: bool = False  # the first document's font came out the same both ways


_SLIMS: dict[tuple, SlimFont | None] = {}
_ACTIVE = 0
_BUILD = 0
_LOCK = threading.Lock()
_ORIGINAL: Callable[..., None] | None = None  # WeasyPrint's Font._fonttools_subset, once hooked
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
        names = {name for code, name in cmap.items() if code in REPERTOIRE or _substitute_code(code)}
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


# ---------------------------------------------------------------- the slim fonts on disk
#
# A slim copy that passed its check is kept in the user's cache folder (not PHI: a system font),
# so later runs, and single superbills, skip making and checking it (about 0.4 s per font).
# One file per (font content, hinting, fontTools, WeasyPrint, repertoire); a damaged, foreign or
# unreadable file is ignored.

_MAGIC = b"superbill-slim-font-1\n"


def cache_folder() -> Path | None:
    """$SUPERBILL_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/superbill, else ~/.cache/superbill."""
    raw = os.environ.get("SUPERBILL_CACHE_DIR")
    if raw is not None:
        return Path(raw) if raw else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "superbill"


def _cache_file(key: tuple) -> Path | None:
    folder = cache_folder()
    if folder is None:
        return None
    import fontTools
    import weasyprint

    tag = hashlib.blake2b(repr((key, fontTools.version, weasyprint.__version__, sorted(REPERTOIRE))).encode(),
                          digest_size=20).hexdigest()
    return folder / "fonts" / f"{tag}.slim"


def _load_cached(key: tuple) -> SlimFont | None:
    path = _cache_file(key)
    try:
        if path is None or not path.is_file():
            return None
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            return None  # someone else's file: never trust it
        raw = path.read_bytes()
    except (OSError, AttributeError):
        return None
    head = len(_MAGIC)
    digest, payload = raw[head:head + 32], raw[head + 32:]
    if not raw.startswith(_MAGIC) or hashlib.blake2b(payload, digest_size=32).digest() != digest or len(payload) < 4:
        return None
    count = int.from_bytes(payload[:4], "big")
    ids = payload[4:4 + 4 * count]
    if len(ids) != 4 * count:
        return None
    glyphs = frozenset(int.from_bytes(ids[i:i + 4], "big") for i in range(0, len(ids), 4))
    return SlimFont(payload[4 + 4 * count:], glyphs, verified=True)


def _store_cached(key: tuple, slim: SlimFont) -> None:
    path = _cache_file(key)
    if path is None:
        return
    from superbill.outfiles import ensure_folder, write_atomic

    ids = b"".join(g.to_bytes(4, "big") for g in sorted(slim.glyphs))
    payload = len(slim.glyphs).to_bytes(4, "big") + ids + slim.data
    try:
        ensure_folder(path.parent)
        write_atomic(path, _MAGIC + hashlib.blake2b(payload, digest_size=32).digest() + payload, mode=0o600)
    except OSError:
        pass  # a read-only or full home: the next run makes it again


def _slim_for(key: tuple, content: bytes, hinting: bool) -> SlimFont | None:
    with _LOCK:
        if key in _SLIMS:
            return _SLIMS[key]
    slim = _load_cached(key)
    if slim is None:
        if not _BUILD:
            return None  # a small batch: not worth making one now
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
    original_subset = _ORIGINAL
    assert original_subset is not None, "installed by _install() only once _ORIGINAL is set"
    if _ACTIVE and to_unicode and not getattr(self, "index", 0):
        key = (hashlib.blake2b(self.file_content, digest_size=16).digest(), bool(hinting))
        slim = _slim_for(key, self.file_content, hinting)
        if slim is not None and slim.glyphs.issuperset(to_unicode):
            original = self.file_content
            self.file_content = slim.data
            original_subset(self, to_unicode, hinting)
            fast = self.file_content
            if fast is not slim.data:
                if slim.verified:
                    STATS["slim"] += 1
                    return
                # First use of this slim copy in this process: check it against the usual path
                # (this fontTools could subset differently); keep it only if they agree.
                self.file_content = original
                original_subset(self, to_unicode, hinting)
                STATS["full"] += 1
                agree = same_font(self.file_content, fast)
                with _LOCK:
                    slim.verified = agree
                    if not agree:
                        _SLIMS[key] = None
                if agree:
                    _store_cached(key, slim)
                return
            self.file_content = original  # fontTools refused the slim copy: do it the usual way
    STATS["full"] += 1
    original_subset(self, to_unicode, hinting)


def subsets_with_harfbuzz() -> bool:
    """True when WeasyPrint subsets fonts with HarfBuzz (its own test, in weasyprint.pdf.fonts): it then
    never calls fontTools, so neither the slim copies nor their cache are used."""
    from weasyprint.pdf import fonts

    return bool(fonts.harfbuzz_subset) and bool(fonts.harfbuzz.hb_version_atleast(4, 1, 0))


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
def fast_fonts(build: bool = True):
    """Within this block, fonts are subset from their slim copies where possible; slim copies
    are made when missing if `build`, else only those already made (in memory or on disk) serve."""
    global _ACTIVE, _BUILD
    _install()
    with _LOCK:
        _ACTIVE += 1
        _BUILD += int(build)
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE -= 1
            _BUILD -= int(build)


# ---------------------------------------------------------------- documents


def _render_item(item) -> bytes:
    from superbill.documents.pdf import render_pdf

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
        with fast_fonts(build=False):
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
