"""One clear error for data that is not on disk (instead of a URLError traceback)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional


class MissingDataError(FileNotFoundError):
    """A dataset (or weights file) is missing: says what, where we looked, and how to supply it."""

    def __init__(self, what: str, root: Path, missing: Iterable[str], how: str, cause: Optional[str] = None):
        self.what, self.root, self.missing = what, Path(root), list(missing)
        lines = [
            f"{what} not found under {self.root}.",
            "Missing: " + ", ".join(self.missing) + ".",
            f"How to supply it: {how}",
        ]
        if cause:
            lines.append(f"(Download attempt failed: {cause})")
        super().__init__("\n".join(lines))


def missing_paths(root: Path, relative: Iterable[str]) -> list:
    """The entries of ``relative`` (paths under ``root``) that do not exist."""
    return [r for r in relative if not (Path(root) / r).exists()]
