"""The names Drive sync gives copies: ``prep (1).py`` beside ``prep.py``, ``data (2)/``.

When several files share one title, Google Drive shows them as ``stem (N).ext``; a copy of a
copy becomes ``stem (1) (2).ext``. ``stale()`` (is a loaded module's copy newer?), ``dedupe()``
and ``doctor()`` (which names belong together?) all read names through these rules, so they
always agree on what a copy is. Grouping reads names only: no file is opened or stat-ed.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ._scan import Scan, leaf

__all__ = ["CopyGroup", "copy_groups", "copy_numbers", "copy_of", "plain_name"]

# "stem (N).ext" with N from 1, the extension allowed to have several parts (".tar.gz").
_COPY = re.compile(r"^(?P<stem>.+?) \((?P<n>[1-9][0-9]*)\)(?P<ext>(?:\.[^.\s()]+)*)$")


def copy_of(name: str) -> tuple[str, int] | None:
    """(the name it copies, N) when ``name`` is a Drive copy like ``prep (1).py``, else None.

    One level only: ``a (1) (2).py`` gives ``("a (1).py", 2)``.
    """
    match = _COPY.match(name)
    if match is None:
        return None
    return match["stem"] + match["ext"], int(match["n"])


def plain_name(name: str) -> str | None:
    """The plain name behind a copy, through copies of copies: ``a (1) (2).py`` -> ``a.py``."""
    if " (" not in name:  # most names: one substring test, nothing else
        return None
    found = copy_of(name)
    if found is None:
        return None
    plain = found[0]
    while (again := copy_of(plain)) is not None:
        plain = again[0]
    return plain


def copy_numbers(name: str) -> tuple[int, ...]:
    """The copy numbers in ``name``, outermost last: ``a (1) (2).py`` -> ``(1, 2)``."""
    numbers: list[int] = []
    found = copy_of(name)
    while found is not None:
        numbers.append(found[1])
        found = copy_of(found[0])
    return tuple(reversed(numbers))


@dataclass(frozen=True)
class CopyGroup:
    """A plain name and its Drive copies (``stem (1).ext``, ...) in one folder; names only."""

    plain: str
    copies: tuple[str, ...]
    plain_exists: bool
    is_folder: bool

    def __str__(self) -> str:
        names = ", ".join(leaf(copy) for copy in self.copies)
        if self.is_folder:
            return f"{self.plain}/: folder copies {names} (never merged: compare them by hand)"
        missing = "" if self.plain_exists else f" (no {leaf(self.plain)} itself)"
        return f"{self.plain}: {names}{missing}"


def copy_groups(scan: Scan) -> list[CopyGroup]:
    """Group the walk's names into plain name + Drive copies, by name only (no reads, no stat)."""
    members: dict[str, list[str]] = {}
    for path in itertools.chain(scan.files, scan.dirs):
        if " (" not in path:  # most names: one substring test, nothing else
            continue
        name = leaf(path)
        plain = plain_name(name)
        if plain is None:
            continue
        folder = path[: len(path) - len(name)]
        members.setdefault(folder + plain, []).append(path)
    if not members:
        return []
    files = set(scan.files)
    dirs = set(scan.dirs)
    groups = []
    for plain, copies in sorted(members.items()):
        copies.sort(key=lambda path: (copy_numbers(leaf(path)), path))
        is_folder = plain in dirs or any(copy in dirs for copy in copies)
        groups.append(CopyGroup(plain, tuple(copies), plain in files or plain in dirs, is_folder))
    return groups
