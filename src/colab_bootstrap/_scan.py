"""One bounded walk of a project folder, shared by every check that needs the file list.

On a Drive mount each directory listing is a network round trip, so the walk lists each folder
once (``os.scandir``: no extra ``stat`` per entry), stops after ``limit`` entries and says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ._errors import connection_lost

__all__ = ["DEFAULT_LIMIT", "SKIP_DIRS", "Scan", "leaf", "scan"]

DEFAULT_LIMIT = 50_000

#: Folders never walked: version control, caches, notebook checkpoints, our own trash.
SKIP_DIRS = frozenset(
    {".git", "__pycache__", ".ipynb_checkpoints", ".colab_bootstrap", ".venv", "node_modules"}
)


@dataclass(frozen=True)
class Scan:
    """What one walk of ``root`` saw; paths are relative, with ``/`` separators."""

    root: Path
    files: tuple[str, ...]
    dirs: tuple[str, ...]
    pycache_dirs: tuple[str, ...]
    truncated: bool
    limit: int
    #: Set when Google Drive's connection was lost during the walk (the walk stopped there).
    lost: str = ""

    @property
    def entries(self) -> int:
        """Files and folders seen."""
        return len(self.files) + len(self.dirs)


def scan(root: str | os.PathLike[str], *, limit: int = DEFAULT_LIMIT) -> Scan:
    """Walk ``root`` breadth-first, skipping ``SKIP_DIRS``, seeing at most ``limit`` entries.

    Symlinked folders are listed but not followed (a link back to a parent must not loop).
    Unreadable folders are skipped. Never raises for a folder that vanishes mid-walk. A lost
    Drive connection (ENOTCONN) stops the walk: ``lost`` says so, and nothing further is listed.
    """
    base = os.fspath(root)
    files: list[str] = []
    dirs: list[str] = []
    pycache: list[str] = []
    pending = [("", base)]
    seen = 0
    truncated = False
    lost = ""
    next_index = 0
    while next_index < len(pending) and not truncated:
        relative, absolute = pending[next_index]
        next_index += 1
        prefix = f"{relative}/" if relative else ""
        try:
            with os.scandir(absolute) as entries:
                listing = [(entry.name, entry.path, _is_dir(entry)) for entry in entries]
        except OSError as exc:
            if connection_lost(exc):
                lost = f"{absolute}: {exc.strerror or exc}"
                break
            continue
        listing.sort()
        for name, path, is_dir in listing:
            if seen >= limit:
                truncated = True
                break
            seen += 1
            if not is_dir:
                files.append(prefix + name)
                continue
            if name == "__pycache__":
                pycache.append(prefix + name)
            if name in SKIP_DIRS:
                seen -= 1
                continue
            dirs.append(prefix + name)
            pending.append((prefix + name, path))
    return Scan(Path(base), tuple(files), tuple(dirs), tuple(pycache), truncated, limit, lost)


def leaf(path: str) -> str:
    """The last part of a walk's relative path: ``"a/b/prep.py"`` -> ``"prep.py"``."""
    return path.rpartition("/")[2]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
