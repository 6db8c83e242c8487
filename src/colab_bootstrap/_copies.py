"""The names Drive sync gives copies: ``prep (1).py`` beside ``prep.py``, ``data (2)/``.

When several files share one title, Google Drive shows them as ``name.ext``, ``name (1).ext``,
``name (2).ext``...: numbered in turn from 1 among the duplicates present, always beside the
plain name itself; a copy of a copy becomes ``name (1) (1).ext``. ``stale()`` (is a loaded
module's copy newer?), ``dedupe()`` and ``doctor()`` (which names belong together?) all read
names through these rules, so they always agree on what a copy is.

Grouping reads names only: no file is opened or stat-ed. Names are compared in one Unicode
normal form (NFC), so ``café (1).py`` spelled in NFD (as macOS writes it) belongs with ``café.py``
spelled in NFC. A group is *movable* (``dedupe()`` may resolve it) only when its names are what
Drive itself makes: the plain name is there, and every number is one Drive would give. Other
numbered names (``report (2023).pdf`` beside ``report.pdf``, ``Season (1).mp4`` with no
``Season.mp4``) are grouped so they can be reported, never moved: they may be names the user
chose.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ._scan import Scan, leaf

__all__ = [
    "TWO_FORMS",
    "CopyGroup",
    "copy_groups",
    "copy_numbers",
    "copy_of",
    "drive_copies",
    "name_key",
    "other_spellings",
    "plain_name",
]

# "stem (N).ext" with N from 1, the extension allowed to have several parts (".tar.gz").
_COPY = re.compile(r"^(?P<stem>.+?) \((?P<n>[1-9][0-9]*)\)(?P<ext>(?:\.[^.\s()]+)*)$")


def name_key(name: str) -> str:
    """``name`` in the one Unicode form names are compared in (NFC): lookalikes compare equal."""
    if name.isascii():  # most names: nothing to normalise
        return name
    import unicodedata  # noqa: PLC0415 - only names with non-ASCII letters need it

    return unicodedata.normalize("NFC", name)


def other_spellings(name: str, names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are ``name`` spelled in another Unicode form (NFC, NFD)."""
    key = name_key(name)
    return [other for other in names if other != name and name_key(other) == key]


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


def _not_drive_made(plain: str, copies: Iterable[str]) -> list[str]:
    """The names among ``copies`` (leaf names; ``plain`` is present) Drive would not make.

    Drive numbers the duplicates of one name from 1 in turn, so beside ``name.ext`` with ``k``
    numbered names ``name (N).ext`` each N is at most ``k``; a copy of a copy ``name (1) (N).ext``
    needs ``name (1).ext`` itself, by the same rule.
    """
    present = {name_key(plain)}
    parents: dict[str, tuple[str, int]] = {}
    siblings: dict[str, int] = {}
    for copy in copies:
        key = name_key(copy)
        present.add(key)
        found = copy_of(copy)
        if found is None:  # not reached for names from plain_name(); kept for safety
            continue
        parent = name_key(found[0])
        parents[copy] = (parent, found[1])
        siblings[parent] = siblings.get(parent, 0) + 1
    return [
        copy
        for copy, (parent, number) in parents.items()
        if parent not in present or number > siblings[parent]
    ]


def _lookalikes(names: Iterable[str]) -> list[str]:
    """Names that are another one of ``names`` in another Unicode form (``café`` NFC and NFD)."""
    spelled: dict[str, list[str]] = {}
    for name in names:
        spelled.setdefault(name_key(name), []).append(name)
    return [name for same in spelled.values() if len(same) > 1 for name in same]


#: The start of ``CopyGroup.reason`` when two names differ only in their Unicode form.
TWO_FORMS = "one name in two Unicode forms"


def _why_not(plain: str, plains: Collection[str], copies: Collection[str]) -> str:
    """Why the group of ``plains`` (its spellings present) and ``copies`` is not Drive's, or ''."""
    if not plains:
        return f"no {plain} itself"
    twins = _lookalikes([*plains, *copies])
    if twins:
        return f"{TWO_FORMS}: " + ", ".join(ascii(name) for name in twins)
    odd = _not_drive_made(next(iter(plains)), copies)
    if odd:
        return f"numbers Drive does not give: {', '.join(odd)}"
    return ""


@dataclass(frozen=True)
class CopyGroup:
    """A plain name and its numbered names (``stem (1).ext``, ...) in one folder; names only.

    ``movable`` is True when the names are what Drive sync makes (the plain name present, the
    numbers 1, 2... in turn) and they are files: only then may ``dedupe()`` move them. Otherwise
    ``reason`` says why the group is only reported (``data (1)/`` folder copies, ``report
    (2023).pdf``, ``Season (1).mp4`` with no ``Season.mp4``, two spellings of one name).
    """

    plain: str
    copies: tuple[str, ...]
    plain_exists: bool
    is_folder: bool
    movable: bool = False
    reason: str = ""

    def __str__(self) -> str:
        names = ", ".join(leaf(copy) for copy in self.copies)
        if self.is_folder:
            return f"{self.plain}/: folder copies {names} (never merged: compare them by hand)"
        if self.movable:
            return f"{self.plain}: {names}"
        return f"{self.plain}: {names} ({self.reason})"


def copy_groups(scan: Scan) -> list[CopyGroup]:
    """Group the walk's names into plain name + numbered names, by name only (no reads, no stat).

    Every numbered name is grouped with its plain name (compared in NFC); each group says
    whether ``dedupe()`` may move it (``movable``) or why it is only reported (``reason``).
    """
    members: dict[tuple[str, str], list[str]] = {}
    for path in itertools.chain(scan.files, scan.dirs):
        if " (" not in path:  # most names: one substring test, nothing else
            continue
        name = leaf(path)
        plain = plain_name(name)
        if plain is None:
            continue
        folder = path[: len(path) - len(name)]
        members.setdefault((folder, name_key(plain)), []).append(path)
    if not members:
        return []
    dirs = set(scan.dirs)
    spellings: dict[tuple[str, str], list[str]] = {}
    for path in itertools.chain(scan.files, scan.dirs):
        folder, _, name = path.rpartition("/")
        key = (f"{folder}/" if folder else "", name_key(name))
        if key in members:
            spellings.setdefault(key, []).append(path)
    groups = []
    for key, copies in members.items():
        copies.sort(key=lambda path: (copy_numbers(leaf(path)), path))
        plains = sorted(spellings.get(key, ()))
        plain = plains[0] if plains else key[0] + (plain_name(leaf(copies[0])) or "")
        is_folder = any(path in dirs for path in itertools.chain(plains, copies))
        reason = (
            "folder copies are never merged: compare them by hand"
            if is_folder
            else _why_not(leaf(plain), [leaf(p) for p in plains], [leaf(c) for c in copies])
        )
        groups.append(CopyGroup(plain, tuple(copies), bool(plains), is_folder, not reason, reason))
    groups.sort(key=lambda group: group.plain)
    return groups


def drive_copies(names: Iterable[str], plains: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For each of ``plains`` (files known to be in the folder, or to have been), its Drive copies.

    ``names`` is one folder's listing. A plain name gets its numbered names only when they are
    what Drive makes (numbers 1, 2... in turn, compared in NFC, no two spellings of one name);
    the plain file itself need not still be listed (a deleted module's copy still counts).
    Plain names without such copies are left out.
    """
    wanted = {name_key(plain): plain for plain in plains}
    found: dict[str, list[str]] = {}
    spelled: dict[str, list[str]] = {}
    for name in names:
        key = name_key(name)
        if key in wanted:
            spelled.setdefault(key, []).append(name)
            continue
        plain = plain_name(name)
        if plain is not None and (plain_key := name_key(plain)) in wanted:
            found.setdefault(plain_key, []).append(name)
    copies: dict[str, tuple[str, ...]] = {}
    for key, names_found in found.items():
        plain = wanted[key]
        if not _why_not(plain, spelled.get(key) or [plain], names_found):
            names_found.sort(key=lambda name: (copy_numbers(name), name))
            copies[plain] = tuple(names_found)
    return copies
