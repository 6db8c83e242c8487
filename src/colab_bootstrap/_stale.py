"""``stale()``: which loaded project modules no longer match their files, and why.

Judged by content, not mtime: the import hook recorded a hash of the exact bytes each module
was compiled from, and ``stale()`` hashes the file again. A Drive sync that lands an edit with an
older mtime (which ``%autoreload`` misses) still counts. It also notices a newer Drive copy
(``name (1).py``) beside a module's file, by the same name rules ``dedupe()`` uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._copies import drive_copies
from ._errors import connection_lost, describe
from ._importhook import current_records, hash_file
from ._session import ModuleRecord

__all__ = ["StaleModule", "StaleReason", "stale"]

StaleReason = Literal["changed", "deleted", "newer copy", "unreadable"]


@dataclass(frozen=True)
class StaleModule:
    """A loaded project module whose code no longer matches its file.

    ``reason`` is "changed" (the file's content differs from what was imported), "deleted",
    "newer copy" (Drive sync made a ``name (N).py`` newer than the file; ``detail`` is its
    path) or "unreadable" (``detail`` says why, e.g. a broken Drive mount).
    """

    name: str
    file: Path
    reason: StaleReason
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.file}): {self.reason}" + (
            f": {self.detail}" if self.detail else ""
        )


#: A module file longer than this is not read to the end to compare it (Python source is
#: kilobytes; a file this large was replaced by something else): it is "unreadable".
MAX_MODULE_BYTES = 64 << 20


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return float("-inf")


def _newest_copies(folder: str, plain_names: Iterable[str]) -> dict[str, tuple[float, str]]:
    """List ``folder`` once: for each plain name, its newest Drive copy (by dedupe's rules)."""
    newest: dict[str, tuple[float, str]] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return newest
    for plain, copies in drive_copies(names, plain_names).items():
        for name in copies:
            path = os.path.join(folder, name)
            mtime = _mtime(path)
            if plain not in newest or mtime > newest[plain][0]:
                newest[plain] = (mtime, path)
    return newest


def _newer_copies(files: dict[str, list[ModuleRecord]]) -> Iterator[tuple[ModuleRecord, str]]:
    """Yield (record, copy) where Drive sync left a copy newer than the recorded file."""
    for folder, records in files.items():
        by_plain = {os.path.basename(r.file): r for r in records}
        for plain, (mtime, path) in _newest_copies(folder, by_plain).items():
            record = by_plain[plain]
            if mtime > _mtime(record.file):
                yield record, path


def _compare(record: ModuleRecord) -> StaleModule | None:
    """How the module's file differs from what was loaded, or None when it does not."""
    try:
        digest = hash_file(record.file, limit=MAX_MODULE_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        return StaleModule(
            record.name,
            Path(record.file),
            "deleted",
            "the file is gone; the notebook still runs the code it imported",
        )
    except OSError as exc:
        detail = (
            "Google Drive's connection was lost (Transport endpoint is not connected): "
            "colab_bootstrap.reset(remount=True) reconnects and reloads it"
            if connection_lost(exc)
            else describe(exc)
        )
        return StaleModule(record.name, Path(record.file), "unreadable", detail)
    if digest == record.digest:
        return None
    since = "since setup() ran" if record.at_setup else "since it was imported"
    return StaleModule(
        record.name,
        Path(record.file),
        "changed",
        f"the file's content changed {since}; colab_bootstrap.reset() loads it",
    )


def stale() -> list[StaleModule]:
    """List loaded project modules whose files changed (by content), vanished or have newer copies.

    Each module's file is read and hashed once; each folder is listed once. Only modules from
    the folders ``setup()`` set up in this process (through the link, the real path or another
    spelling of it) are looked at.
    """
    found: list[StaleModule] = []
    folders: dict[str, list[ModuleRecord]] = {}
    for _module, record in current_records():
        folders.setdefault(record.file.rpartition(os.sep)[0], []).append(record)
        difference = _compare(record)
        if difference is not None:
            found.append(difference)
    for record, copy in _newer_copies(folders):
        found.append(StaleModule(record.name, Path(record.file), "newer copy", copy))
    return found
