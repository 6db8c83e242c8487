"""``stale()``: which loaded project modules no longer match their files, and why.

Judged by content, not mtime: the import hook recorded a hash of the exact bytes each module
was compiled from, and ``stale()`` hashes the file again. A Drive sync that lands an edit with an
older mtime (which ``%autoreload`` misses) still counts. It also notices a newer Drive copy
(``name (1).py``) beside a module's file, by the same name rules ``dedupe()`` uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def _newer_copies(folders: Iterable[str], records: list[ModuleRecord]) -> list[StaleModule]:
    """Where Drive sync left a copy newer than a module's file: each folder listed once."""
    found: list[StaleModule] = []
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        # A Drive copy's name always holds " (N)": most folders have none, and cost no more.
        if " (" not in "/".join(names):  # no name holds "/"
            continue
        by_plain = {
            os.path.basename(record.file): record
            for record in records
            if record.file.rpartition(os.sep)[0] == folder
        }
        for plain, copies in drive_copies(names, by_plain).items():
            # The newest copy; of copies as new as each other, the first in Drive's order.
            mtime, newest = max(
                ((_mtime(path), path) for path in (os.path.join(folder, c) for c in copies)),
                key=lambda pair: pair[0],
            )
            record = by_plain[plain]
            if mtime > _mtime(record.file):
                found.append(StaleModule(record.name, Path(record.file), "newer copy", newest))
    return found


def _unreadable(record: ModuleRecord, exc: OSError) -> StaleModule:
    """The entry for a module whose file could not be read: "deleted" or "unreadable"."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return StaleModule(
            record.name,
            Path(record.file),
            "deleted",
            "the file is gone; the notebook still runs the code it imported",
        )
    detail = (
        "Google Drive's connection was lost (Transport endpoint is not connected): "
        "colab_bootstrap.reset(remount=True) reconnects and reloads it"
        if connection_lost(exc)
        else describe(exc)
    )
    return StaleModule(record.name, Path(record.file), "unreadable", detail)


def _changed(record: ModuleRecord) -> StaleModule:
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
    records = [record for _module, record in current_records()]
    found: list[StaleModule] = []
    for record in records:
        try:
            digest = hash_file(record.file, limit=MAX_MODULE_BYTES)
        except OSError as exc:
            found.append(_unreadable(record, exc))
            continue
        if digest != record.digest:
            found.append(_changed(record))
    folders = dict.fromkeys([record.file.rpartition(os.sep)[0] for record in records])
    found += _newer_copies(folders, records)
    return found
