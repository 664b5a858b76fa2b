"""HTML to PDF with WeasyPrint, fetching nothing but files inside the allowed folders.

No network, no `file://` URL that data smuggles in, no `<a rel=attachment>` that embeds a local
file: the fetcher serves only files under the template folders (CSS, fonts, images) and the few
files the clinic profile names (logo, signature image); everything else is refused.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

_LOG = logging.getLogger("weasyprint")
_LOG.addHandler(logging.NullHandler())
_LOG.propagate = False  # refused URLs may echo patient text: keep them out of the user's terminal


class RefusedURL(ValueError):
    pass


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):
        def __init__(self, roots, files=()):
            super().__init__(allowed_protocols={"file"}, allow_redirects=False, timeout=1)
            self.roots = [Path(r).resolve() for r in roots]
            self.files = {Path(f).resolve() for f in files}
            self.refused: list[str] = []

        def allowed(self, path: Path) -> bool:
            return path in self.files or any(root == path or root in path.parents for root in self.roots)

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                self.refused.append(url)
                raise RefusedURL("only local template files may be loaded")
            path = Path(unquote(parts.path)).resolve()
            if not self.allowed(path) or not path.is_file():
                self.refused.append(url)
                raise RefusedURL("outside the template folders")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

    return SafeFetcher


def safe_fetcher(roots, files=()):
    return _fetcher_class()(roots, files)


def document_pdf(html: str, user_dir: str | Path | None = None, files=()) -> bytes:
    """A document's PDF from its HTML: relative URLs resolve in the clinic's template folder (else the
    shipped one), and only the template folders and `files` (images clinic.yaml names) may be loaded."""
    from superbill.documents.templating import template_dirs

    roots = template_dirs(user_dir)
    return render_pdf(html, roots[0], roots, files)


def render_pdf(html: str, base_dir: Path, roots, files=()) -> bytes:
    """One HTML document to PDF bytes. `base_dir` resolves relative URLs (a template folder)."""
    from weasyprint import HTML

    fetcher = safe_fetcher(roots, files)
    document = HTML(string=html, base_url=str(Path(base_dir).resolve()) + "/", url_fetcher=fetcher)
    return document.write_pdf()
