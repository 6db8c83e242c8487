"""Live code: which project modules are stale, and ``reset()`` (filled in by the live-code issue).

For now it only keeps the set of project folders ``setup()`` asked it to watch.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["watch", "watched_roots"]

_roots: list[Path] = []


def watch(roots: Iterable[Path]) -> None:
    """Remember project folders (link and real path) whose modules count as ours."""
    for root in roots:
        if root not in _roots:
            _roots.append(root)


def watched_roots() -> tuple[Path, ...]:
    """The project folders being watched, in the order they were set up."""
    return tuple(_roots)
