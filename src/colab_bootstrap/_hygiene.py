"""Drive hygiene: resolve ``name (1).py`` sync copies without losing a byte; flag Windows paths.

``dedupe(path=None, *, apply=False) -> DedupePlan`` is the public entry point. Doctor (check 11)
walks the project once with ``_scan.scan`` and passes that walk to the two functions below; neither
walks again, and grouping reads no file (names only).

``copy_groups(scan: Scan) -> list[CopyGroup]``
    Read ``CopyGroup.plain`` (relative path of the plain name, ``/`` separators), ``.copies``
    (relative paths of the numbered names, lowest number first), ``.plain_exists``,
    ``.is_folder`` (folder copies: reported, never merged) and ``str(group)`` (one line).
    ``dedupe_command(root) -> str`` is the shell command that fixes them.

``windows_paths(scan: Scan, *, max_files: int = LINT_MAX_FILES, max_bytes: int = LINT_MAX_BYTES,
max_seconds: float | None = None) -> PathLint``
    Reads only ``.py`` and ``.ipynb`` files of the walk (in walk order: shallow first), at most
    ``max_files`` of them, skipping any larger than ``max_bytes`` and starting none after
    ``max_seconds`` (doctor can pass the time its walk took to stay within 2x of it). Most
    files cost one small read and a byte scan; only files that may hold a Windows path are
    parsed. Read ``PathLint.findings`` (``PathFinding``: ``file``, ``cell`` (1-based notebook
    cell, else None), ``line``, ``literal``, ``rewrite``, ``problem``, ``where``), ``.checked``
    (files read), ``.skipped`` ((path, why) pairs), ``.stopped`` / ``.why_stopped`` (a limit cut
    the list short; ``scan.truncated`` says whether the walk itself was cut) and ``str(lint)``.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import difflib
import errno
import hashlib
import io
import itertools
import json
import os
import re
import shlex
import stat
import sys
import tempfile
import time
import tokenize
import unicodedata
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from . import _setup
from ._errors import ProjectNotFoundError
from ._render import escape, html_table
from ._scan import Scan, copy_of, scan

__all__ = [
    "LINT_MAX_BYTES",
    "LINT_MAX_FILES",
    "TRASH_DIR",
    "CopyGroup",
    "DedupePlan",
    "GroupPlan",
    "Move",
    "PathFinding",
    "PathLint",
    "Version",
    "copy_groups",
    "dedupe",
    "dedupe_command",
    "windows_paths",
]

#: Where ``dedupe(apply=True)`` puts every version it does not keep, relative to the project.
TRASH_DIR = ".colab_bootstrap/trash"
MANIFEST = "manifest.json"
#: The path lint reads at most this many ``.py``/``.ipynb`` files ...
LINT_MAX_FILES = 200
#: ... and skips any file larger than this.
LINT_MAX_BYTES = 1_000_000

_DIFF_BYTES = 64 * 1024
_DIFF_LINES = 40
_PENDING_TRASH = f"{TRASH_DIR}/<UTC time>"


# --------------------------------------------------------------------------- copy groups


def _plain_name(name: str) -> str | None:
    """The plain name of a Drive copy, through copies of copies: 'a (1) (2).py' -> 'a.py'."""
    found = copy_of(name)
    if found is None:
        return None
    plain = found[0]
    again = copy_of(plain)
    while again is not None:
        plain = again[0]
        again = copy_of(plain)
    return plain


def _copy_numbers(name: str) -> tuple[int, ...]:
    numbers: list[int] = []
    found = copy_of(name)
    while found is not None:
        numbers.append(found[1])
        found = copy_of(found[0])
    return tuple(reversed(numbers))


def _name(path: str) -> str:
    return path.rpartition("/")[2]


@dataclass(frozen=True)
class CopyGroup:
    """A plain name and its Drive copies (``stem (1).ext``, ...) in one folder; names only."""

    plain: str
    copies: tuple[str, ...]
    plain_exists: bool
    is_folder: bool

    @property
    def folder(self) -> str:
        """The folder holding the group, relative to the project ('' for the top)."""
        return self.plain.rpartition("/")[0]

    @property
    def paths(self) -> tuple[str, ...]:
        """Every member, the plain name first (when it exists)."""
        return ((self.plain,) if self.plain_exists else ()) + self.copies

    def __str__(self) -> str:
        names = ", ".join(_name(copy) for copy in self.copies)
        if self.is_folder:
            return f"{self.plain}/: folder copies {names} (never merged: compare them by hand)"
        missing = "" if self.plain_exists else f" (no {_name(self.plain)} itself)"
        return f"{self.plain}: {names}{missing}"


def copy_groups(scan: Scan) -> list[CopyGroup]:
    """Group the walk's names into plain name + Drive copies, by name only (no reads, no stat)."""
    members: dict[str, list[str]] = {}
    for path in itertools.chain(scan.files, scan.dirs):
        if " (" not in path:  # most names: one substring test, nothing else
            continue
        name = _name(path)
        if " (" not in name:
            continue
        plain = _plain_name(name)
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
        copies.sort(key=lambda path: (_copy_numbers(_name(path)), path))
        is_folder = plain in dirs or any(copy in dirs for copy in copies)
        groups.append(CopyGroup(plain, tuple(copies), plain in files or plain in dirs, is_folder))
    return groups


def dedupe_command(root: str | os.PathLike[str]) -> str:
    """The shell command that resolves the copies in ``root`` (``dedupe(apply=True)``)."""
    return f"colab-bootstrap dedupe {shlex.quote(os.fspath(root))} --apply"


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Version:
    """One file of a copy group, as it was when the plan was made."""

    path: str
    size: int
    mtime_ns: int
    sha256: str

    @property
    def modified(self) -> datetime:
        """Modification time, in UTC."""
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=timezone.utc)


MoveState = Literal["planned", "done", "failed", "skipped"]


@dataclass(frozen=True)
class Move:
    """One rename: a version to the plain name (``kind="keep"``) or into the trash.

    ``target`` is relative to the project. Before ``apply()`` a trash target reads
    ``.colab_bootstrap/trash/<UTC time>/...``; afterwards it is the real place.
    """

    source: str
    target: str
    kind: Literal["keep", "trash"]
    version: Version
    state: MoveState = "planned"
    detail: str = ""


GroupStatus = Literal["reported", "planned", "done", "partly done", "not done"]


@dataclass(frozen=True)
class GroupPlan:
    """The decision for one copy group: which version ends at the plain name, where the rest go."""

    group: CopyGroup
    versions: tuple[Version, ...] = ()
    keep: str | None = None
    moves: tuple[Move, ...] = ()
    identical: bool = False
    note: str = ""
    diffs: tuple[tuple[str, str], ...] = ()

    @property
    def status(self) -> GroupStatus:
        """'reported' (nothing to move), 'planned', 'done', 'partly done' or 'not done'."""
        if not self.moves:
            return "reported"
        states = {move.state for move in self.moves}
        if states == {"planned"}:
            return "planned"
        if "failed" not in states:
            return "done"
        return "partly done" if "done" in states else "not done"


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def _when(version: Version) -> str:
    return version.modified.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class DedupePlan:
    """What ``dedupe()`` found and decided (and, once applied, what it did).

    ``apply()`` carries the plan out and returns the resulting plan; ``ok`` is False when any
    move failed. Nothing is ever deleted: versions not kept are in ``trash``, listed in
    ``manifest``.
    """

    root: Path
    groups: tuple[GroupPlan, ...]
    entries: int
    truncated: bool = False
    applied: bool = False
    trash: Path | None = None
    manifest: Path | None = None
    problems: tuple[str, ...] = ()

    @property
    def moves(self) -> tuple[Move, ...]:
        """Every move of every group, in the order they are (or were) made."""
        return tuple(move for group in self.groups for move in group.moves)

    @property
    def ok(self) -> bool:
        """True unless something could not be done (every byte is still in place or trash)."""
        return not self.problems and all(move.state != "failed" for move in self.moves)

    def apply(self) -> DedupePlan:
        """Carry the plan out: keep each chosen version at the plain name, trash the others.

        Files that changed since the plan are left alone (their group is reported not done);
        files already gone are skipped. Applying an applied plan does nothing.
        """
        if self.applied:
            return self
        if not self.moves:
            return replace(self, applied=True)
        return _apply(self)

    # ---- rendering

    def _headline(self) -> str:
        files = sum(1 for move in self.moves if move.kind == "trash")
        movable = [group for group in self.groups if group.moves]
        reported = len(self.groups) - len(movable)
        if not self.groups:
            text = f"no Drive copies found ({self.entries} entries walked)"
        elif not movable:
            text = "nothing to move"
        elif not self.applied:
            text = (
                f"dry run: {len(movable)} group(s) of copies, {files} file(s) would move to the "
                f"trash; nothing was changed"
            )
        else:
            done = sum(1 for m in self.moves if m.kind == "trash" and m.state == "done")
            failed = sum(1 for m in self.moves if m.state == "failed")
            text = f"applied: {done} file(s) moved to the trash"
            if failed or self.problems:
                text += f"; {failed} move(s) NOT done (nothing was lost)"
        if reported:
            text += f"; {reported} group(s) only reported"
        if self.truncated:
            text += f"; the walk stopped after {self.entries} entries, so some copies were not seen"
        return f"colab_bootstrap.dedupe {self.root}: {text}"

    def _footer(self) -> list[str]:
        lines = list(self.problems)
        if self.applied and self.trash is not None:
            lines.append(f"trash: {self.trash} (every move is listed in {MANIFEST} there)")
        elif not self.applied and self.moves:
            lines.append(
                "to apply: colab_bootstrap.dedupe(..., apply=True), plan.apply(), or "
                f"{dedupe_command(self.root)}"
            )
        return lines

    def __str__(self) -> str:
        lines = [self._headline()]
        for group in self.groups:
            lines.append("")
            lines.extend(_group_text(group, applied=self.applied))
        footer = self._footer()
        if footer:
            lines.append("")
            lines.extend(footer)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows: list[tuple[str, str, str, str, str, str]] = []
        for group in self.groups:
            rows.extend(_group_rows(group, applied=self.applied))
        parts = [
            html_table(
                self._headline(),
                rows,
                header=("group", "version", "size", "modified", "decision", "contents"),
            )
        ]
        for group in self.groups:
            for path, diff in group.diffs:
                kept = _name(group.keep or "")
                summary = f"diff {_name(path)} \u2192 {kept} ({group.group.plain})"
                parts.append(
                    f"<details><summary>{escape(summary)}</summary>"
                    f"<pre>{escape(diff)}</pre></details>"
                )
        parts.extend(f"<p>{escape(line)}</p>" for line in self._footer())
        return "".join(parts)


def _decision(group: GroupPlan, version: Version, applied: bool) -> str:
    move = next((m for m in group.moves if m.source == version.path), None)
    if move is None:
        return "kept as is"
    if move.kind == "keep":
        text = f"keep \u2192 becomes {_name(move.target)}"
    else:
        text = f"trash \u2192 {move.target}"
    if applied and move.state != "done":
        text = f"{move.state.upper()}: {text}"
    if move.detail:
        text += f" ({move.detail})"
    return text


def _contents(group: GroupPlan, version: Version) -> str:
    kept = next((v for v in group.versions if v.path == group.keep), None)
    if len(group.versions) == 1:
        return ""
    if group.identical:
        return "identical"
    if kept is None or version.path == kept.path:
        return "newest" if kept is not None else ""
    return "same as kept" if version.sha256 == kept.sha256 else "differs"


def _group_rows(group: GroupPlan, applied: bool) -> list[tuple[str, str, str, str, str, str]]:
    label = group.group.plain + ("/" if group.group.is_folder else "")
    if not group.versions:
        return [(label, ", ".join(_name(c) for c in group.group.copies), "", "", group.note, "")]
    rows = []
    for version in group.versions:
        rows.append(
            (
                label,
                _name(version.path),
                _size(version.size),
                _when(version),
                _decision(group, version, applied) if group.moves else group.note,
                _contents(group, version),
            )
        )
        label = ""
    return rows


def _group_text(group: GroupPlan, applied: bool) -> list[str]:
    if not group.versions:
        return [f"{group.group.plain}{'/' if group.group.is_folder else ''}: {group.note}"]
    if len(group.versions) == 1:
        what = f"1 version, no {_name(group.group.plain)} itself"
    else:
        what = f"{len(group.versions)} versions, "
        what += "all identical" if group.identical else "contents differ"
    lines = [f"{group.group.plain}: {what}"]
    if group.note:
        lines.append(f"  {group.note}")
    width = max(len(_name(v.path)) for v in group.versions)
    for version in group.versions:
        decision = _decision(group, version, applied) if group.moves else ""
        contents = _contents(group, version)
        lines.append(
            f"  {_name(version.path).ljust(width)}  {_size(version.size):>9}  "
            f"{_when(version)}  {contents:<13}  {decision}".rstrip()
        )
    for path, diff in group.diffs:
        lines.append(f"  diff {_name(path)} \u2192 {_name(group.keep or '')}:")
        lines.extend(f"    {line}" for line in diff.splitlines())
    return lines


# --------------------------------------------------------------------------- planning


def _root(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        project = _setup.current_project()
        if project is None:
            raise ProjectNotFoundError(
                "dedupe() needs a folder and no project was set up in this process. Pass it: "
                "colab_bootstrap.dedupe('/content/drive/MyDrive/fastai_course2'), or run "
                "colab_bootstrap.setup('fastai_course2') first."
            )
        return project.path
    folder = Path(path).expanduser()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ProjectNotFoundError(
            f"{folder} {what}. Pass the project folder to clean, e.g. "
            "colab_bootstrap.dedupe('/content/drive/MyDrive/fastai_course2') or "
            "colab-bootstrap dedupe /content/drive/MyDrive/fastai_course2."
        )
    return Path(os.path.abspath(folder))


def _read(path: Path) -> tuple[str, bytes | None]:
    """SHA-256 of the file, and its bytes when small enough to diff."""
    digest = hashlib.sha256()
    head: list[bytes] = []
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            if size <= _DIFF_BYTES:
                head.append(chunk)
    return digest.hexdigest(), b"".join(head) if size <= _DIFF_BYTES else None


def _text(data: bytes | None) -> list[str] | None:
    if data is None or b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _diff(old: Version, old_data: bytes | None, new: Version, new_data: bytes | None) -> str:
    old_lines, new_lines = _text(old_data), _text(new_data)
    if old_lines is None or new_lines is None:
        return ""
    lines = [
        line.rstrip("\n")
        for line in difflib.unified_diff(old_lines, new_lines, old.path, new.path, n=1)
    ]
    if len(lines) > _DIFF_LINES:
        lines = [*lines[:_DIFF_LINES], f"... ({len(lines) - _DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def _versions(root: Path, group: CopyGroup) -> tuple[list[Version], dict[str, bytes | None], str]:
    """The group's files as they are now (vanished ones dropped), or a reason to leave it."""
    versions: list[Version] = []
    data: dict[str, bytes | None] = {}
    for path in (group.plain, *group.copies):
        try:
            info = os.lstat(root / path)
            if not stat.S_ISREG(info.st_mode):
                return [], {}, f"{path} is a link or not a plain file; left alone"
            digest, small = _read(root / path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            return [], {}, f"{path} cannot be read ({_message(exc)}); left alone"
        versions.append(Version(path, info.st_size, info.st_mtime_ns, digest))
        data[path] = small
    return versions, data, ""


def _plan_group(root: Path, group: CopyGroup) -> GroupPlan | None:
    if group.is_folder:
        return GroupPlan(
            group,
            note="folder copies are never merged: compare them and move what you need by hand",
        )
    versions, data, why = _versions(root, group)
    if why:
        return GroupPlan(group, note=why)
    if not versions or [v.path for v in versions] == [group.plain]:
        return None
    newest = max(v.mtime_ns for v in versions)
    content = next(v.sha256 for v in versions if v.mtime_ns == newest)
    keep = next(v for v in versions if v.sha256 == content)
    moves: list[Move] = []
    plain = next((v for v in versions if v.path == group.plain), None)
    if keep is not plain:
        if plain is not None:
            moves.append(Move(plain.path, f"{_PENDING_TRASH}/{plain.path}", "trash", plain))
        moves.append(Move(keep.path, group.plain, "keep", keep))
    moves.extend(
        Move(v.path, f"{_PENDING_TRASH}/{v.path}", "trash", v)
        for v in versions
        if v is not keep and v is not plain
    )
    diffs = tuple(
        (v.path, diff)
        for v in versions
        if v.sha256 != keep.sha256 and (diff := _diff(v, data[v.path], keep, data[keep.path]))
    )
    return GroupPlan(
        group,
        versions=tuple(versions),
        keep=keep.path,
        moves=tuple(moves),
        identical=len({v.sha256 for v in versions}) == 1,
        diffs=diffs,
    )


def dedupe(path: str | os.PathLike[str] | None = None, *, apply: bool = False) -> DedupePlan:
    """Find Drive copies (``name (1).py`` beside ``name.py``) and say which version to keep.

    Each group keeps its newest version (by modification time; byte-identical copies simply
    collapse) under the plain name. With ``apply=True`` every other version is moved, never
    deleted, to ``<path>/.colab_bootstrap/trash/<UTC time>/`` under its own relative path, with a
    ``manifest.json`` recording each move. Folder copies (``data (1)/``) are only reported.

    Args:
        path: the project folder; default: the project ``setup()`` made in this process.
        apply: carry the plan out (default: only plan; nothing changes).

    Raises:
        ProjectNotFoundError: ``path`` is not a folder, or none was given and none was set up.
    """
    root = _root(path)
    walk = scan(root)
    groups = tuple(
        planned for group in copy_groups(walk) if (planned := _plan_group(root, group)) is not None
    )
    plan = DedupePlan(root, groups, walk.entries, truncated=walk.truncated)
    return plan.apply() if apply else plan


# --------------------------------------------------------------------------- moving


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_renameat2_cache: list[Callable[[bytes, bytes], int] | None] = []


def _renameat2() -> Callable[[bytes, bytes], int] | None:
    """Linux's rename that refuses to replace, or None where the C library lacks it."""
    if _renameat2_cache:
        return _renameat2_cache[0]
    function: Callable[[bytes, bytes], int] | None = None
    if sys.platform.startswith("linux"):
        import ctypes  # noqa: PLC0415 - only needed when files are actually moved

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            native = libc.renameat2
        except (OSError, AttributeError):
            native = None
        if native is not None:
            native.argtypes = [
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_uint,
            ]
            native.restype = ctypes.c_int

            def function(source: bytes, target: bytes) -> int:
                if native(_AT_FDCWD, source, _AT_FDCWD, target, _RENAME_NOREPLACE) == 0:
                    return 0
                return ctypes.get_errno()

    _renameat2_cache.append(function)
    return function


def _verify(path: Path, expected: str) -> None:
    if _read(path)[0] != expected:
        raise OSError(errno.EIO, "the copy does not match the original", str(path))


def _copy_across(source: Path, target: Path) -> None:
    """Move between file systems: exclusive copy, verify, then remove the source."""
    expected, _ = _read(source)
    created = False
    try:
        with open(source, "rb") as reader, open(target, "xb") as writer:
            created = True
            while chunk := reader.read(1 << 20):
                writer.write(chunk)
        before = os.stat(source)
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
        with contextlib.suppress(OSError):
            os.chmod(target, stat.S_IMODE(before.st_mode))
        _verify(target, expected)
        os.unlink(source)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                os.unlink(target)
        raise


def _rename(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, never replacing anything; raises FileExistsError."""
    native = _renameat2()
    if native is not None:
        code = native(os.fsencode(source), os.fsencode(target))
        if code == 0:
            return
        if code == errno.EXDEV:
            _copy_across(source, target)
            return
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), str(source), None, str(target))
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target))
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _copy_across(source, target)


def _free(target: Path) -> Path:
    """``target``, or ``stem~N.ext`` when something already holds that name in the trash."""
    if not os.path.lexists(target):
        return target
    stem, suffix = os.path.splitext(target.name)
    number = 1
    while os.path.lexists(candidate := target.with_name(f"{stem}~{number}{suffix}")):
        number += 1
    return candidate


def _timestamp(moment: datetime) -> str:
    """The trash folder name for ``moment``: basic ISO 8601 in UTC, safe on every OS."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _make_trash(root: Path) -> Path:
    base = root / TRASH_DIR
    base.mkdir(parents=True, exist_ok=True)
    name = _timestamp(datetime.now(timezone.utc))
    number = 1
    while True:
        folder = base / (name if number == 1 else f"{name}-{number}")
        try:
            folder.mkdir()
        except FileExistsError:
            number += 1
            continue
        return folder


def _message(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _Manifest:
    """The JSON record in the trash folder, rewritten atomically after every group."""

    def __init__(self, plan: DedupePlan, trash: Path) -> None:
        from ._version import __version__  # noqa: PLC0415 - tiny, keeps the imports flat

        self.path = trash / MANIFEST
        self.trash = trash
        self.head = {
            "tool": f"colab_bootstrap {__version__}",
            "root": str(plan.root),
            "trash": str(trash),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self.moves: list[dict[str, object]] = []
        with open(self.path, "x", encoding="utf-8"):
            pass  # claim the name before any user file can land on it

    def add(self, group: GroupPlan) -> None:
        self.moves.extend(
            {
                "group": group.group.plain,
                "from": move.source,
                "to": move.target,
                "kind": move.kind,
                "size": move.version.size,
                "sha256": move.version.sha256,
                "modified": move.version.modified.isoformat(),
                "state": move.state,
                "detail": move.detail,
            }
            for move in group.moves
        )

    def write(self, complete: bool) -> None:
        record = {**self.head, "complete": complete, "moves": self.moves}
        body = json.dumps(record, indent=1, ensure_ascii=False)
        handle, temporary = tempfile.mkstemp(prefix=".manifest-", dir=self.trash)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(body + "\n")
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _unchanged(root: Path, version: Version) -> bool | None:
    """True when the file is as planned, False when it changed, None when it is gone."""
    try:
        info = os.lstat(root / version.path)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_size == version.size
        and info.st_mtime_ns == version.mtime_ns
    )


def _apply_group(root: Path, trash: Path, group: GroupPlan) -> GroupPlan:  # noqa: C901, PLR0912 - one step per case, in order
    states = {v.path: _unchanged(root, v) for v in group.versions}
    plain_is_version = any(v.path == group.group.plain for v in group.versions)
    changed = [path for path, state in states.items() if state is False]
    if group.keep is not None and states[group.keep] is None:
        changed.append(group.keep)
    if not plain_is_version and os.path.lexists(root / group.group.plain):
        changed.append(group.group.plain)
    if changed:
        detail = (
            f"not done: {', '.join(changed)} changed since the plan was made (Drive sync?); "
            "nothing in this group was touched. Run dedupe again."
        )
        return replace(
            group, moves=tuple(replace(m, state="failed", detail=detail) for m in group.moves)
        )

    results: list[Move] = []
    stop = ""
    trashed_plain: Path | None = None
    for move in group.moves:
        if stop:
            results.append(replace(move, state="failed", detail=stop))
            continue
        if states[move.source] is None:
            results.append(
                replace(move, state="skipped", detail="already gone before apply (Drive sync?)")
            )
            continue
        source = root / move.source
        if move.kind == "trash":
            target = _free(trash / move.source)
            relative = target.relative_to(root).as_posix()
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                _rename(source, target)
            except OSError as exc:
                results.append(replace(move, state="failed", detail=f"not moved: {_message(exc)}"))
                if move.source == group.group.plain and group.keep != group.group.plain:
                    stop = f"not done: {move.source} could not be moved aside"
                continue
            if move.source == group.group.plain:
                trashed_plain = target
            results.append(replace(move, target=relative, state="done"))
            continue
        try:
            _rename(source, root / move.target)
        except OSError as exc:
            detail = f"not renamed: {_message(exc)}"
            if trashed_plain is not None:
                try:
                    _rename(trashed_plain, root / group.group.plain)
                except OSError as back:
                    detail += (
                        f"; the old {move.target} stays in the trash at "
                        f"{trashed_plain.relative_to(root).as_posix()} ({_message(back)})"
                    )
                else:
                    results[-1] = replace(
                        results[-1],
                        target=results[-1].source,
                        state="failed",
                        detail="put back: the newer version could not take its name",
                    )
            results.append(replace(move, state="failed", detail=detail))
            stop = f"not done: {move.source} could not be renamed to {move.target}"
            continue
        results.append(replace(move, state="done"))
    return replace(group, moves=tuple(results))


def _apply(plan: DedupePlan) -> DedupePlan:
    try:
        trash = _make_trash(plan.root)
        manifest = _Manifest(plan, trash)
        manifest.write(complete=False)
    except OSError as exc:
        detail = f"nothing was moved: the trash folder {plan.root / TRASH_DIR} could not be made"
        groups = tuple(
            replace(g, moves=tuple(replace(m, state="failed", detail=detail) for m in g.moves))
            for g in plan.groups
        )
        problem = f"{detail} ({_message(exc)}). Free that path and run dedupe again."
        return replace(plan, groups=groups, applied=True, problems=(problem,))
    results: list[GroupPlan] = []
    problems: list[str] = []
    for group in plan.groups:
        done = _apply_group(plan.root, trash, group) if group.moves else group
        results.append(done)
        if not done.moves:
            continue
        manifest.add(done)
        try:
            manifest.write(complete=False)
        except OSError as exc:
            problems.append(f"the manifest could not be written ({_message(exc)})")
    try:
        manifest.write(complete=True)
    except OSError as exc:
        problems.append(f"the manifest could not be written ({_message(exc)})")
    if problems:
        problems = [f"{problems[0]}; the moved files are in {trash} under their own paths"]
    return replace(
        plan,
        groups=tuple(results),
        applied=True,
        trash=trash,
        manifest=manifest.path,
        problems=tuple(problems),
    )


# --------------------------------------------------------------------------- Windows paths


@dataclass(frozen=True)
class PathFinding:
    """A string literal that only works as a path on Windows."""

    file: str
    line: int
    literal: str
    rewrite: str
    problem: str
    cell: int | None = None

    @property
    def where(self) -> str:
        """``file:line``, or ``file cell N, line M`` for notebooks."""
        if self.cell is None:
            return f"{self.file}:{self.line}"
        return f"{self.file} cell {self.cell}, line {self.line}"


@dataclass(frozen=True)
class PathLint:
    """Windows-only path literals in a project's ``.py`` files and notebook code cells."""

    root: Path
    findings: tuple[PathFinding, ...]
    checked: int
    skipped: tuple[tuple[str, str], ...] = ()
    stopped: bool = False
    why_stopped: str = ""

    def _headline(self) -> str:
        text = f"{len(self.findings)} Windows-only path(s) in {self.checked} file(s) checked"
        if self.stopped:
            text += f" ({self.why_stopped}; the other files were not checked)"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        return f"colab_bootstrap path lint {self.root}: {text}"

    def __str__(self) -> str:
        lines = [self._headline()]
        for found in self.findings:
            lines.append(f"  {found.where}: {found.literal}")
            lines.append(f"      {found.problem}; use {found.rewrite}")
        lines.extend(f"  skipped {path}: {why}" for path, why in self.skipped)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [(f.where, f.literal, f.problem, f.rewrite) for f in self.findings]
        rows.extend((path, "", f"skipped: {why}", "") for path, why in self.skipped)
        return html_table(self._headline(), rows, header=("where", "literal", "problem", "use"))


# Chars that never appear in a Windows path (or mark regex / LaTeX / templates), and regex escapes.
_NOT_PATH = re.compile(
    r'[\x00-\x1f*?"\'<>|$^+\[\]]|(?<! )\(|\\[dDwWsSbBAZ-](?![A-Za-z])|\\[1-9](?!\w)'
)
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_SENTENCE = re.compile(r"[.,;!?] ")
_KEPT_ESCAPES = re.compile(
    r"\\(?:[\\'\"\n]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|[0-7]{1,3})"
)
_NAME = re.compile(r"[\w{}%~\x7f]|^\.\.?$")  # a folder or file name, a template field, '..'
# Cheap byte tests run before parsing: can this file hold a Windows path literal at all? Each
# pattern opens with a literal or a rare class so the regex engine skips ahead quickly.
_HINTS = (
    # an escaped backslash by a name ('a\\b', 'a\\'), or an escape Python keeps ('..\data')
    re.compile(rb"\\(?:\\(?:[\w.~%{ -]|(?<=[\w.]\\\\)['\"])|[^\\'\"abfnrtvxuUN0-7\r\n])"),
    re.compile(rb":(?<=['\"][A-Za-z]:)[\\/]"),  # a string opening with a drive letter
    re.compile(rb"\b[bBfF]?[rR][bBfF]?['\"][^'\"\r\n]*\\"),  # a raw string holding a backslash
)


_LINE_END = re.compile(r"\r\n|\r|\n")
_REGEX_MODULES = frozenset({"re", "regex"})
_REGEX_FUNCTIONS = frozenset(
    {"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
)
_PLACEHOLDER = "\x7f"
# An escape that turns a would-be separator into a control character: 'C:\data\new'.
_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*(\\[abfnrtv])")


def _classify(view: str) -> str | None:
    """'drive', 'unc' or 'backslash' when ``view`` reads as a Windows path, else None."""
    drive = bool(_DRIVE.match(view))
    rest = view[2:] if drive else view
    parts = [part for part in rest.split("\\") if part]
    if (
        ("\\" not in view and not drive)
        or _NOT_PATH.search(view.replace(_PLACEHOLDER, "x"))
        or ":" in rest
    ):
        return None
    if drive:
        return "drive"
    if view.startswith("\\\\") and len(parts) >= 2:
        return "unc"
    looks_like_path = (
        len(parts) >= 2
        and any(len(part) >= 2 for part in parts)
        and all(_is_name(part) for part in parts)
    )
    return "backslash" if looks_like_path else None


def _is_name(part: str) -> bool:
    """A file or folder name, or a template of one: not prose, not an RTF or LaTeX command."""
    return (
        part == part.strip()
        and bool(_NAME.search(part))
        and not _SENTENCE.search(part)
        and not re.search(r"[{}]", re.sub(r"\{[^{}]*\}", "", part))
    )


def _literal_view(token: str) -> tuple[str, bool]:
    """The literal as its author meant the path: every backslash a separator; (view, is_bytes)."""
    prefix_length = len(token) - len(token.lstrip("rRbBuUfF"))
    prefix = token[:prefix_length].lower()
    quote = token[prefix_length : prefix_length + 3]
    quote = quote if quote in ('"""', "'''") else quote[0]
    body = token[prefix_length + len(quote) : len(token) - len(quote)]
    is_bytes = "b" in prefix
    if "r" in prefix:
        return body, is_bytes

    def unescape(match: re.Match[str]) -> str:
        text = match.group(0)
        kind = text[1]
        if kind == "\n":
            return ""
        if kind in "\\'\"":
            return kind
        if is_bytes and kind in "uUN":
            return text  # not escapes in bytes: the backslash stays
        try:
            if kind == "N":
                return unicodedata.lookup(text[3:-1])
            digits, base = (text[2:], 16) if kind in "xuU" else (text[1:], 8)
            return chr(int(digits, base))
        except (KeyError, ValueError):
            return text

    # Numeric and named escapes are characters the author meant; '\t' in 'C:\data\test' is
    # a separator the author meant, so one-letter escapes stay as backslash + letter.
    return _KEPT_ESCAPES.sub(unescape, body), is_bytes


def _source_view(segment: str) -> tuple[str, bool, str] | None:
    """(path view, is bytes, the literals as written) of the strings in ``segment``."""
    parts: list[str] = []
    written: list[str] = []
    is_bytes = False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(f"({segment})").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for token in tokens:
        if token.type == tokenize.STRING:
            view, is_bytes = _literal_view(token.string)
            parts.append(view)
            written.append(token.string)
    return "".join(parts), is_bytes, " ".join(written)


def _rewrite(view: str, kind: str, is_bytes: bool, fstring: bool) -> tuple[str, str]:
    """(pathlib rewrite, what is wrong) for a flagged literal."""
    parts = [p for p in re.split(r"[\\/]", view) if p]
    if kind == "unc":
        return (
            'Path("/content/drive/MyDrive/<folder>")',
            "a Windows network share: Colab cannot reach it; copy the data into Drive",
        )
    if kind == "drive":
        lowered = [p.lower() for p in parts]
        if "my drive" in lowered or "mydrive" in lowered:
            index = max(lowered.index(n) for n in ("my drive", "mydrive") if n in lowered)
            path = "/".join(["/content/drive/MyDrive", *parts[index + 1 :]])
        else:
            path = "/".join(["/content/drive/MyDrive/<folder>", *parts[-1:]])
        problem = f"drive letter {view[:2]} exists only on Windows"
    else:
        leading = "/" if view.startswith("\\") else ""
        path = leading + "/".join(parts)
        problem = "backslashes separate folders only on Windows"
    path = path.replace(_PLACEHOLDER, "{...}")
    if is_bytes:
        return f"b{json.dumps(path)} (forward slashes)", problem
    return f"Path({'f' if fstring else ''}{json.dumps(path, ensure_ascii=False)})", problem


class _Lines:
    """Slices of the source by ast positions (columns are UTF-8 byte offsets)."""

    def __init__(self, source: str) -> None:
        self.lines = [line.encode("utf-8") for line in _LINE_END.split(source)]

    def segment(self, node: ast.expr) -> str:
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        end = node.end_col_offset if node.end_col_offset is not None else None
        if first == last:
            return self.lines[first][node.col_offset : end].decode("utf-8", "replace")
        chunks = [self.lines[first][node.col_offset :]]
        chunks.extend(self.lines[first + 1 : last])
        chunks.append(self.lines[last][:end])
        return b"\n".join(chunks).decode("utf-8", "replace")


@dataclass
class _RegexNames:
    modules: set[str]
    functions: set[str]

    def called_by(self, call: ast.Call) -> bool:
        """True for re.compile(...), rx.sub(...), sub(...) after ``from re import sub``, p.sub()."""
        func = call.func
        if isinstance(func, ast.Name):
            return func.id in self.functions
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr in ("sub", "subn"):  # compiled patterns: the replacement holds \1 etc.
            return True
        return (
            isinstance(func.value, ast.Name)
            and func.value.id in self.modules
            and func.attr in _REGEX_FUNCTIONS
        )


def _note_regex_names(node: ast.Import | ast.ImportFrom, names: _RegexNames) -> None:
    """Record names bound to re/regex, or to their functions (``from re import sub``)."""
    if isinstance(node, ast.Import):
        names.modules.update(
            alias.asname or alias.name for alias in node.names if alias.name in _REGEX_MODULES
        )
    elif node.module in _REGEX_MODULES:
        names.functions.update(
            alias.asname or alias.name for alias in node.names if alias.name in _REGEX_FUNCTIONS
        )


def _ignore_children(node: ast.AST, ignored: set[int], names: _RegexNames) -> None:
    """Mark strings under ``node`` that are not paths: bare strings, f-string parts, regexes."""
    if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
        ignored.add(id(node.value))  # docstrings and other bare strings do nothing
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.Constant):
                ignored.add(id(part))  # judged with the whole f-string
            elif isinstance(part, ast.FormattedValue) and part.format_spec is not None:
                ignored.update(id(sub) for sub in ast.walk(part.format_spec))
    elif isinstance(node, ast.Call) and names.called_by(node):
        ignored.update(id(arg) for arg in node.args[:2])
        ignored.update(id(kw.value) for kw in node.keywords if kw.arg in ("pattern", "repl"))


def _hint_lines(data: bytes) -> list[int] | None:
    """Sorted line numbers where a hint matched, or None when lines cannot be counted by LF."""
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    starts = sorted({match.start() for hint in _HINTS for match in hint.finditer(data)})
    lines: list[int] = []
    line, previous = 1, 0
    for start in starts:
        line += data.count(b"\n", previous, start)
        previous = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _walk(tree: ast.AST, lines: list[int] | None) -> Iterator[ast.AST]:
    """Nodes of ``tree``, parents first, skipping subtrees (not imports) without ``lines``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        children = list(ast.iter_child_nodes(node))
        for child in reversed(children):
            start = getattr(child, "lineno", None)
            keep = isinstance(child, (ast.Import, ast.ImportFrom))  # aliases of re matter
            if lines is not None and start is not None and not keep:
                end = getattr(child, "end_lineno", None) or start
                index = bisect.bisect_left(lines, start)
                if index == len(lines) or lines[index] > end:
                    continue
            stack.append(child)


def _fstring_view(node: ast.JoinedStr) -> str:
    parts = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            parts.append(part.value)
        else:
            parts.append(_PLACEHOLDER)
    return "".join(parts)


def _text_of(node: ast.Constant | ast.JoinedStr) -> str | None:
    """What the literal holds (bytes as latin-1, f-string fields as a placeholder)."""
    if isinstance(node, ast.JoinedStr):
        return _fstring_view(node)
    if isinstance(node.value, bytes):
        return node.value.decode("latin-1")
    return node.value if isinstance(node.value, str) else None


def _finding(
    node: ast.Constant | ast.JoinedStr, lines: _Lines, file: str, cell: int | None
) -> PathFinding | None:
    literal = lines.segment(node)
    if isinstance(node, ast.JoinedStr):
        view, is_bytes, fstring = _fstring_view(node), False, True
        shown = " ".join(literal.split())
    else:
        parsed = _source_view(literal)
        if parsed is None:
            return None
        (view, is_bytes, shown), fstring = parsed, False
    kind = _classify(view)
    text = _text_of(node) or ""
    if kind is None or (kind != "drive" and re.search("[\n\r]", text)):
        return None  # text with line breaks is prose, not a path
    rewrite, problem = _rewrite(view, kind, is_bytes, fstring)
    escape = _ESCAPE.search(literal)
    if escape and not fstring and re.search("[\a\b\t\n\v\f\r]", text):
        problem += f"; {escape.group(1)} in it is a control character, not a separator"
    shown = shown if len(shown) <= 100 else shown[:97] + "..."
    return PathFinding(file, node.lineno, shown, rewrite, problem, cell)


def _lint_tree(
    tree: ast.Module, source: str, file: str, cell: int | None, hints: list[int] | None
) -> list[PathFinding]:
    names = _RegexNames(set(_REGEX_MODULES), set())
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            _note_regex_names(statement, names)
    ignored: set[int] = set()
    found: list[PathFinding] = []
    lines: _Lines | None = None
    for node in _walk(tree, hints):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _note_regex_names(node, names)
            continue
        _ignore_children(node, ignored, names)
        if not isinstance(node, (ast.Constant, ast.JoinedStr)) or id(node) in ignored:
            continue
        text = _text_of(node)
        if text is None or ("\\" not in text and not _DRIVE.match(text)):
            continue
        lines = lines or _Lines(source)
        finding = _finding(node, lines, file, cell)
        if finding is not None:
            found.append(finding)
    found.sort(key=lambda f: f.line)
    return found


def _parse(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes like '\d' warn; they are what we find
        return ast.parse(source)


def _lint_python(file: str, data: bytes, hints: list[int] | None) -> tuple[list[PathFinding], str]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        source = data.decode(encoding)
        tree = _parse(source)
    except (SyntaxError, ValueError, LookupError, RecursionError) as exc:
        return [], f"not valid Python ({type(exc).__name__})"
    return _lint_tree(tree, source, file, None, hints), ""


_CELL_MAGICS_THAT_RUN_PYTHON = frozenset({"%%time", "%%timeit", "%%capture"})


def _lint_notebook(file: str, data: bytes) -> tuple[list[PathFinding], str]:
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
    except (ValueError, AttributeError):
        return [], "not a readable notebook (JSON)"
    found: list[PathFinding] = []
    for number, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        source = "".join(raw) if isinstance(raw, list) else str(raw)
        lines = source.split("\n")
        first = lines[0].strip()
        if first.startswith("%%"):
            if first.split()[0] not in _CELL_MAGICS_THAT_RUN_PYTHON:
                continue
            lines[0] = ""
        # IPython lines (magics, shell escapes, help) become blank, so line numbers stay.
        lines = ["" if line.lstrip().startswith(("%", "!", "?")) else line for line in lines]
        code = "\n".join(lines)
        hints = _hint_lines(code.encode("utf-8", "replace"))
        if hints == []:
            continue
        try:
            tree = _parse(code)
        except (SyntaxError, ValueError, RecursionError):
            continue
        found.extend(_lint_tree(tree, code, file, number, hints))
    return found, ""


def _head(path: str, limit: int) -> bytes:
    """Up to ``limit`` bytes of the file (small reads: a big buffer per file costs more)."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = os.read(handle, min(1 << 16, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(handle)


def windows_paths(
    scan: Scan,
    *,
    max_files: int = LINT_MAX_FILES,
    max_bytes: int = LINT_MAX_BYTES,
    max_seconds: float | None = None,
) -> PathLint:
    r"""Find string literals that are Windows-only paths in the walk's ``.py``/``.ipynb`` files.

    Flags backslash-separated paths (``'..\\..\\data'``, ``r'data\train.csv'``) and drive letters
    (``'C:/Users/me'``), with a pathlib rewrite. Ignores comments, docstrings, lone escapes
    (``'\n'``) and regular expressions passed to ``re``. Reads at most ``max_files`` files, skips
    those over ``max_bytes``, and starts no new file after ``max_seconds`` (None: no time
    limit); ``PathLint.stopped`` and ``.why_stopped`` say when a limit cut the list short.
    """
    findings: list[PathFinding] = []
    skipped: list[tuple[str, str]] = []
    checked = 0
    why_stopped = ""
    started = time.monotonic()
    root = os.fspath(scan.root)
    for file in scan.files:
        if not file.endswith((".py", ".ipynb")):
            continue
        if checked >= max_files:
            why_stopped = f"stopped after {max_files} files (max_files)"
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            why_stopped = f"stopped after {max_seconds:g} s (max_seconds)"
            break
        checked += 1
        try:
            data = _head(os.path.join(root, file), max_bytes + 1)
        except OSError as exc:
            skipped.append((file, f"unreadable ({_message(exc)})"))
            continue
        if len(data) > max_bytes:
            skipped.append((file, f"larger than {max_bytes} bytes"))
            continue
        if file.endswith(".ipynb"):
            found, why = _lint_notebook(file, data)
        else:
            hints = _hint_lines(data)
            if hints == []:
                continue
            found, why = _lint_python(file, data, hints)
        findings.extend(found)
        if why:
            skipped.append((file, why))
    return PathLint(
        scan.root, tuple(findings), checked, tuple(skipped), bool(why_stopped), why_stopped
    )
