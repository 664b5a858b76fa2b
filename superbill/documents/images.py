"""The images clinic.yaml names (the practice logo, a provider's signature), checked once for every document.

An image that is not a picture file or does not exist is left off with a warning naming the
clinic file and the setting; one that can be used comes back as the file:// URL a template
prints and the path the PDF renderer may load (`superbill.documents.pdf` loads nothing else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from superbill.problems import WARNING, Problem

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


@dataclass
class Images:
    """The images one document uses: the warnings for those it cannot, and the files the PDF may load."""

    document: str  # "superbill", "letter": named in the warnings
    files: list[Path] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def url(self, loaded, relative: str | None, where: str) -> str | None:
        """file:// URL of the image `relative` (to clinic.yaml) named at `where`, or None with a warning."""
        if not relative:
            return None
        path = loaded.resolve(relative).resolve()
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            self._warn(loaded, where, f"not an image file (png, jpg, gif, svg or webp); left off the {self.document}")
            return None
        if not path.is_file():
            self._warn(loaded, where, f"file not found; left off the {self.document}")
            return None
        if path not in self.files:
            self.files.append(path)
        return path.as_uri()

    def _warn(self, loaded, where: str, message: str) -> None:
        problem = Problem(str(loaded.path), where, WARNING, message)
        if problem not in self.warnings:
            self.warnings.append(problem)
