"""One clear error for data that is not on disk (instead of a URLError traceback)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Sequence


class MissingDataError(FileNotFoundError):
    """A dataset (or weights file) is missing: says what, where we looked, and how to supply it."""

    def __init__(self, what: str, root: Path, missing: Iterable[str], how: str, cause: Optional[str] = None,
                 *, problem: Optional[str] = None):
        self.what, self.root, self.missing = what, Path(root), list(missing)
        lines = [
            problem or f"{what} not found under {self.root}.",
            ("Files: " if problem else "Missing: ") + ", ".join(self.missing) + ".",
            f"How to supply it: {how}",
        ]
        if cause:
            lines.append(f"(Download attempt failed: {cause})")
        super().__init__("\n".join(lines))


def missing_paths(root: Path, relative: Iterable[str]) -> list:
    """The entries of ``relative`` (paths under ``root``) that do not exist."""
    return [r for r in relative if not (Path(root) / r).exists()]


def download_failed(what: str, root: Path, files: Sequence[str], how: str, exc: BaseException) -> MissingDataError:
    """The error for a ``download=True`` load that failed.

    torchvision re-downloads whenever its MD5 check fails, so "download failed" also happens when
    every file is present but differs from the official archive (a re-packed or truncated copy).
    Then the missing-file list would be empty and misleading: say instead that the check failed
    and that ``download=False`` trusts the local files."""
    missing = missing_paths(root, files)
    if missing:
        return MissingDataError(what, root, missing, how, cause=str(exc))
    problem = (f"{what}: the files under {Path(root)} are all present but failed torchvision's MD5 check "
               "(they differ from the official archive), so download=True tried to fetch the archive again.")
    how = ("to use these local files as they are, load with download=False (leave out --download): it "
           f"trusts local files and checks only that they exist. To replace them: {how}")
    return MissingDataError(what, root, list(files), how, cause=str(exc), problem=problem)


def unreadable(what: str, root: Path, files: Sequence[str], how: str, exc: BaseException) -> MissingDataError:
    """The error for local files that exist but could not be parsed (truncated, wrong format)."""
    return MissingDataError(what, root, list(files), how,
                            problem=f"{what}: the files under {Path(root)} could not be read "
                                    f"in the expected format ({exc}).")
