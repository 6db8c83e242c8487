"""``dedupe()``: resolve Drive's ``name (1).py`` copies without losing a byte.

Drive sync leaves several files under one name, shown as ``prep.py``, ``prep (1).py``...;
``import prep`` then keeps loading whichever one holds the plain name. ``dedupe()`` plans from
names and contents (newest version kept under the plain name, byte-identical ones collapse), shows
the plan, and only with ``apply=True`` moves the other versions into a trash folder inside the
project, with a manifest. Moves are renames that never replace a file; a file that changed since
the plan (by its SHA-256, read again just before it moves) leaves its group untouched.

Only names Drive itself makes are ever moved (see ``_copies``): the plain name present, copies
numbered (1), (2)... in turn. Other numbered names are reported, never touched. The trash must be
a real folder of the project, on its file system: a ``.colab_bootstrap`` that is a link (to
``/dev/shm``, say: RAM, gone at restart) makes ``apply`` refuse and move nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import json
import os
import shlex
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from ._copies import TWO_FORMS, CopyGroup, copy_groups, name_key, other_spellings
from ._errors import DRIVE_LOST, DriveConnectionLostError, ProjectNotFoundError, connection_lost
from ._files import drive_lost, read_chunks, sha256_and_head, write_atomic
from ._render import escape, html_table
from ._scan import Scan, leaf, scan
from ._session import SESSION
from ._version import __version__

__all__ = [
    "MANIFEST",
    "TRASH_DIR",
    "DedupePlan",
    "GroupPlan",
    "Move",
    "Version",
    "dedupe",
    "dedupe_command",
]

#: Where ``dedupe(apply=True)`` puts every version it does not keep, relative to the project.
TRASH_DIR = ".colab_bootstrap/trash"
MANIFEST = "manifest.json"

_DIFF_BYTES = 64 * 1024
_DIFF_LINES = 40
_PENDING_TRASH = f"{TRASH_DIR}/<UTC time>"


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
        """Modification time, in UTC.

        Raises:
            ValueError: the time is outside the years 1 to 9999 (a file system such as tmpfs
                stores any time; ``mtime_ns`` always holds it).
        """
        try:
            return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=timezone.utc)
        except (OverflowError, OSError) as exc:
            raise ValueError(f"{self.path}: modification time out of range ({exc})") from None


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
    """The decision for one copy group: which version ends at the plain name, where the rest go.

    A group with versions always has moves; one without (folder copies, a link, a file that
    cannot be read) has only ``note``, saying why it is left alone.
    """

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
    try:
        return version.modified.strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:  # a time beyond year 9999 (tmpfs stores any)
        return f"{version.mtime_ns} ns since 1970"


def _printable(text: str) -> str:
    """``text`` safe to print as UTF-8: a name that is not UTF-8 shows its odd bytes escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(frozen=True)
class DedupePlan:
    """What ``dedupe()`` found and decided (and, once applied, what it did).

    ``apply()`` carries the plan out and returns the resulting plan; ``ok`` is False when any
    move failed, when the trash was refused, or when the walk stopped at its limit
    (``truncated``: the plan covers only the entries seen, and ``problems`` says what to do).
    Nothing is ever deleted: versions not kept are in ``trash``, listed in ``manifest``.
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
        """True unless something could not be done or seen (every byte is in place or trash).

        A plan whose walk stopped at its limit is never ok: copies beyond it were not seen.
        """
        return (
            not self.truncated
            and not self.problems
            and all(move.state != "failed" for move in self.moves)
        )

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
            text += (
                f"; INCOMPLETE: the walk stopped at its limit after {self.entries} entries, so "
                "copies beyond them were not seen"
            )
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
        return _printable("\n".join(lines))

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
                kept = leaf(group.keep or "")
                summary = f"diff {leaf(path)} \u2192 {kept} ({group.group.plain})"
                parts.append(
                    f"<details><summary>{escape(summary)}</summary>"
                    f"<pre>{escape(diff)}</pre></details>"
                )
        parts.extend(f"<p>{escape(line)}</p>" for line in self._footer())
        return _printable("".join(parts))


def _decision(group: GroupPlan, version: Version, applied: bool) -> str:
    move = next((m for m in group.moves if m.source == version.path), None)
    if move is None:
        return "kept as is"
    if move.kind == "keep":
        text = f"keep \u2192 becomes {leaf(move.target)}"
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
        return [(label, ", ".join(leaf(c) for c in group.group.copies), "", "", group.note, "")]
    rows = []
    for version in group.versions:
        rows.append(
            (
                label,
                leaf(version.path),
                _size(version.size),
                _when(version),
                _decision(group, version, applied),
                _contents(group, version),
            )
        )
        label = ""
    return rows


def _group_text(group: GroupPlan, applied: bool) -> list[str]:
    if not group.versions:
        return [f"{group.group.plain}{'/' if group.group.is_folder else ''}: {group.note}"]
    if len(group.versions) == 1:
        what = f"1 version, no {leaf(group.group.plain)} itself"
    else:
        what = f"{len(group.versions)} versions, "
        what += "all identical" if group.identical else "contents differ"
    lines = [f"{group.group.plain}: {what}"]
    width = max(len(leaf(v.path)) for v in group.versions)
    lines.extend(
        f"  {leaf(version.path).ljust(width)}  {_size(version.size):>9}  "
        f"{_when(version)}  {_contents(group, version):<13}  "
        f"{_decision(group, version, applied)}".rstrip()
        for version in group.versions
    )
    for path, diff in group.diffs:
        lines.append(f"  diff {leaf(path)} \u2192 {leaf(group.keep or '')}:")
        lines.extend(f"    {line}" for line in diff.splitlines())
    return lines


# --------------------------------------------------------------------------- planning


def _reachable(folder: Path) -> None:
    """Raise DriveConnectionLostError when ``folder`` is on a dead Drive mount."""
    lost = drive_lost(folder)
    if lost is not None:
        raise DriveConnectionLostError(
            f"{folder} cannot be read, so nothing was planned or moved. {DRIVE_LOST}"
        ) from lost


def _root(path: str | os.PathLike[str] | None) -> Path:
    try:
        return _folder(path)
    except (ValueError, RuntimeError, OSError) as exc:  # NUL in the path, ~unknown, no cwd
        if isinstance(exc, OSError) and connection_lost(exc):
            raise DriveConnectionLostError(
                f"{path} cannot be read, so nothing was planned or moved. {DRIVE_LOST}"
            ) from exc
        raise ProjectNotFoundError(
            f"{path!r} cannot be used as a folder ({exc}). Pass the project folder to clean, "
            "e.g. colab_bootstrap.dedupe('/content/drive/MyDrive/fastai_course2')."
        ) from exc


def _folder(path: str | os.PathLike[str] | None) -> Path:
    if path is None:
        current = SESSION.current()
        if current is None:
            raise ProjectNotFoundError(
                "dedupe() needs a folder and no project was set up in this process. Pass it: "
                "colab_bootstrap.dedupe('/content/drive/MyDrive/fastai_course2'), or run "
                "colab_bootstrap.setup('fastai_course2') first."
            )
        _reachable(current.project.path)
        return current.project.path
    folder = Path(path).expanduser()
    _reachable(folder)
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.lexists(folder) else "does not exist"
        raise ProjectNotFoundError(
            f"{folder} {what}. Pass the project folder to clean, e.g. "
            "colab_bootstrap.dedupe('/content/drive/MyDrive/fastai_course2') or "
            "colab-bootstrap dedupe /content/drive/MyDrive/fastai_course2."
        )
    return Path(os.path.abspath(folder))


def _read(path: Path) -> tuple[str, bytes | None]:
    """SHA-256 of the file, and its bytes when small enough to diff."""
    return sha256_and_head(path, _DIFF_BYTES)


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


def _identity(info: os.stat_result) -> tuple[int, int, int, int, int]:
    """What tells one state of a file from another without reading it."""
    return (info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns)


def _versions(root: Path, group: CopyGroup) -> tuple[list[Version], dict[str, bytes | None], str]:
    """The group's files as they are now (vanished ones dropped), or a reason to leave it.

    Only regular files are read (``_files.read_chunks``: a FIFO is refused, never waited on),
    and each is stat-ed again after reading: one swapped meanwhile is not trusted.
    """
    versions: list[Version] = []
    data: dict[str, bytes | None] = {}
    for path in (group.plain, *group.copies):
        try:
            info = os.lstat(root / path)
            if not stat.S_ISREG(info.st_mode):
                return [], {}, f"{path} is a link or not a plain file; left alone"
            digest, small = _read(root / path)
            if _identity(os.lstat(root / path)) != _identity(info):
                return [], {}, f"{path} changed while it was read (Drive sync?); left alone"
        except FileNotFoundError:
            continue
        except OSError as exc:
            return [], {}, f"{path} cannot be read ({_message(exc)}); left alone"
        versions.append(Version(path, info.st_size, info.st_mtime_ns, digest))
        data[path] = small
    return versions, data, ""


#: Why a group that is not Drive's own is only reported.
_NOT_DRIVE = (
    "Drive names copies of one file (1), (2)... in turn, beside the plain name itself, so these "
    "may be names you chose: rename or merge them by hand"
)
_TWO_FORMS_FIX = (
    "They look identical but are different names (one typed on a Mac?): rename one of them by "
    "hand, then run dedupe again"
)


def _plan_group(root: Path, group: CopyGroup) -> GroupPlan | None:
    if group.is_folder:
        return GroupPlan(
            group,
            note="folder copies are never merged: compare them and move what you need by hand",
        )
    if not group.movable:
        if group.reason.startswith(TWO_FORMS):
            return GroupPlan(group, note=f"not moved: {group.reason}. {_TWO_FORMS_FIX}")
        return GroupPlan(group, note=f"not Drive copies, not moved ({group.reason}). {_NOT_DRIVE}")
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
    ``manifest.json`` recording each move and the SHA-256 of what moved (each file is read again
    just before it moves; one that changed since the plan leaves its group untouched).

    Only what Drive sync makes is moved: the plain name present, copies numbered (1), (2)... in
    turn (names compared in NFC). Numbered names without their plain name (``Season (1).mp4``
    alone), numbers Drive does not give (``report (2023).pdf``), two spellings of one name, folder
    copies (``data (1)/``), links and special files are only reported.

    The walk sees at most 50,000 files and folders (``_scan.DEFAULT_LIMIT``); past that the
    plan is marked incomplete (``truncated``, never ``ok``) and says to run it on sub-folders.
    The trash must be a real folder inside ``path`` on the same file system: when
    ``.colab_bootstrap`` is a link or a mount, applying refuses (``problems`` says why) and
    moves nothing.

    Args:
        path: the project folder; default: the project ``setup()`` made in this process.
        apply: carry the plan out (default: only plan; nothing changes).

    Raises:
        ProjectNotFoundError: ``path`` is not a folder (or not a usable path), or none was given
            and none was set up.
        DriveConnectionLostError: the folder is on a dead Drive mount; nothing was moved.
    """
    root = _root(path)
    walk = scan(root)
    if walk.lost:
        raise DriveConnectionLostError(
            f"Google Drive stopped answering while {root} was listed ({walk.lost}), so no plan "
            f"was made and nothing was moved. {DRIVE_LOST}"
        )
    groups = tuple(
        planned for group in copy_groups(walk) if (planned := _plan_group(root, group)) is not None
    )
    problems = (_incomplete(root, walk),) if walk.truncated else ()
    plan = DedupePlan(root, groups, walk.entries, truncated=walk.truncated, problems=problems)
    return plan.apply() if apply else plan


def _incomplete(root: Path, walk: Scan) -> str:
    """What a walk stopped at its limit means for the plan, and what to run instead."""
    text = (
        f"incomplete: dedupe looks at no more than {walk.limit} files and folders of {root} in "
        "one run and stopped there, so copies further on were neither seen nor moved."
    )
    subfolders = [folder for folder in walk.dirs if "/" not in folder]
    if not subfolders:
        return f"{text} Split the folder into sub-folders and run dedupe on each."
    shown = ", ".join(subfolders[:3]) + (", ..." if len(subfolders) > 3 else "")
    return (
        f"{text} Run it on each sub-folder in turn ({shown}), e.g. "
        f"{dedupe_command(root / subfolders[0])}"
    )


# --------------------------------------------------------------------------- moving


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1

#: A rename that refuses to replace: (source, target) -> 0, or the errno.
Renamer = Callable[[bytes, bytes], int]


def _renameat2() -> Renamer | None:
    """Linux's rename that refuses to replace, or None where the C library lacks it.

    Where it is missing (macOS, Windows, glibc before 2.28), or where the file system refuses
    the flag (``EINVAL``: FUSE file systems without it), ``_rename`` checks, then renames.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # noqa: PLC0415 - only needed when files are actually moved

    try:
        native = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    native.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    native.restype = ctypes.c_int

    def function(source: bytes, target: bytes) -> int:
        if native(_AT_FDCWD, source, _AT_FDCWD, target, _RENAME_NOREPLACE) == 0:
            return 0
        return ctypes.get_errno()

    return function


def _verify(path: Path, expected: str) -> None:
    if _read(path)[0] != expected:
        raise OSError(errno.EIO, "the copy does not match the original", str(path))


def _copy_across(source: Path, target: Path) -> None:
    """Move between file systems: exclusive copy, verify, then remove the source."""
    expected, _ = _read(source)
    created = False
    try:
        with open(target, "xb") as writer:
            created = True
            writer.writelines(read_chunks(source))
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


def _rename(source: Path, target: Path, native: Renamer | None) -> None:
    """Rename ``source`` to ``target``, never replacing anything; raises FileExistsError.

    ``native`` is renameat2 (atomic refusal); without it (macOS, Windows, old C libraries) the
    target is checked first, then renamed.
    """
    if native:
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
    """``target``, or ``stem~N.ext`` when a name in the trash folder already is (or looks) it.

    Names are compared in NFC, so no two names in the trash look alike.
    """
    try:
        taken = {name_key(name) for name in os.listdir(target.parent)}
    except OSError:
        taken = set()
    stem, suffix = os.path.splitext(target.name)
    candidate = target
    number = 0
    while name_key(candidate.name) in taken or os.path.lexists(candidate):
        number += 1
        candidate = target.with_name(f"{stem}~{number}{suffix}")
    return candidate


def _timestamp(moment: datetime) -> str:
    """The trash folder name for ``moment``: basic ISO 8601 in UTC, safe on every OS."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


class _TrashRefusedError(Exception):
    """The trash folder would not be a real folder of the project; the message says why."""


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "somewhere else"


def _own_folder(path: Path, device: int, *, fresh: bool) -> None:
    """Make ``path`` (or, unless ``fresh``, accept it as it is) as a real folder on ``device``.

    Checked with ``lstat``, never through a link: a link, or a mount of another file system,
    would put the trash (and every file moved into it) outside the project.
    """
    try:
        os.mkdir(path)
    except FileExistsError:
        if fresh:
            raise
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _TrashRefusedError(
            f"{path} is a symbolic link (to {_link_target(path)}), and dedupe keeps the files it "
            "moves in a real folder inside the project, on the project's own file system (a "
            "link could put them in RAM, gone at restart). Move the link away (the trash folder "
            "is made afresh) and run dedupe again."
        )
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
    if info.st_dev != device:
        raise _TrashRefusedError(
            f"{path} is on another file system than the project (a mount?), and dedupe keeps "
            "the files it moves on the project's own file system. Unmount it or move it away "
            "and run dedupe again."
        )


def _make_trash(root: Path) -> Path:
    """A new, empty folder ``<root>/.colab_bootstrap/trash/<UTC time>``, every part checked.

    Raises:
        _TrashRefusedError: a part is a link or on another file system.
        OSError: a part cannot be made (a file in the way, a read-only folder).
    """
    device = os.stat(root).st_dev
    base = root
    for part in Path(TRASH_DIR).parts:
        base = base / part
        _own_folder(base, device, fresh=False)
    name = _timestamp(datetime.now(timezone.utc))
    number = 1
    while True:
        folder = base / (name if number == 1 else f"{name}-{number}")
        try:
            _own_folder(folder, device, fresh=True)
        except FileExistsError:
            number += 1
            continue
        return folder


def _message(exc: OSError) -> str:
    return exc.strerror or str(exc)


class _Manifest:
    """The JSON record in the trash folder, rewritten atomically after every group."""

    def __init__(self, plan: DedupePlan, trash: Path) -> None:
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
                "modified": _iso(move.version),
                "state": move.state,
                "detail": move.detail,
            }
            for move in group.moves
        )

    def write(self, complete: bool) -> None:
        record = {**self.head, "complete": complete, "moves": self.moves}
        text = json.dumps(record, indent=1, ensure_ascii=False) + "\n"
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8: \udcXX escapes, lossless
            text = json.dumps(record, indent=1) + "\n"
        write_atomic(self.path, text)


def _iso(version: Version) -> str:
    try:
        return version.modified.isoformat()
    except ValueError:  # a time beyond year 9999 (tmpfs stores any): the raw value
        return f"{version.mtime_ns} ns since 1970"


@dataclass(frozen=True)
class _Seen:
    """A version as it is just before it moves: hashed again, and which file that was."""

    version: Version
    identity: tuple[int, int, int, int, int]


def _now(root: Path, version: Version) -> _Seen | str | None:  # noqa: PLR0911 - one per case
    """The version read again (SHA-256), None when it is gone, or how it changed since the plan.

    Size and modification time are compared first, then the contents: a file rewritten with
    the same size and its old time put back (``os.utime``) is still told apart.
    """
    path = root / version.path
    try:
        before = os.lstat(path)
        if not stat.S_ISREG(before.st_mode):
            return "is no longer a plain file"
        if (before.st_size, before.st_mtime_ns) != (version.size, version.mtime_ns):
            return "has another size or time"
        digest, _ = sha256_and_head(path, 0)
        after = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({_message(exc)})"
    if _identity(after) != _identity(before):
        return "changed while it was read"
    if digest != version.sha256:
        return "has other contents (same size and time)"
    return _Seen(replace(version, sha256=digest), _identity(before))


def _still(path: Path, seen: _Seen) -> None:
    """Raise unless ``path`` is still the very file that was just hashed (one ``lstat``)."""
    if _identity(os.lstat(path)) != seen.identity:
        raise OSError(errno.ESTALE, "it changed after it was read again", str(path))


def _moved(target: Path, seen: _Seen) -> tuple[Version, str]:
    """What is now at ``target``: the hashed version, or (a swap mid-move) its own hash."""
    try:
        info = os.lstat(target)
        if (info.st_dev, info.st_ino) == seen.identity[:2]:
            return seen.version, ""
        digest, _ = sha256_and_head(target, 0)  # copied across file systems, or swapped
    except OSError as exc:
        return seen.version, f"moved, but could not be checked there ({_message(exc)})"
    if digest == seen.version.sha256:
        return seen.version, ""
    return (
        replace(seen.version, size=info.st_size, mtime_ns=info.st_mtime_ns, sha256=digest),
        "changed while it was moved: the manifest has the hash of what moved",
    )


def _lookalikes(root: Path, plain: str, listings: dict[str, list[str] | None]) -> str:
    """Another name in ``plain``'s folder that looks the same as it (NFC), or ''."""
    folder, _, name = plain.rpartition("/")
    if folder not in listings:
        try:
            listings[folder] = os.listdir(root / folder)
        except OSError:
            listings[folder] = None
    listing = listings[folder]
    if listing is None:
        return f"{folder or '.'} (cannot be listed)"
    twins = other_spellings(name, listing)
    return ", ".join(f"{folder}/{twin}" if folder else twin for twin in twins)


def _apply_group(  # noqa: C901, PLR0912, PLR0915 - one step per case, in order
    root: Path,
    trash: Path,
    group: GroupPlan,
    native: Renamer | None,
    listings: dict[str, list[str] | None],
) -> GroupPlan:
    states = {v.path: _now(root, v) for v in group.versions}
    plain_is_version = any(v.path == group.group.plain for v in group.versions)
    changed = [f"{path} {state}" for path, state in states.items() if isinstance(state, str)]
    if group.keep is not None and states[group.keep] is None:
        changed.append(f"{group.keep} is gone")
    if not plain_is_version and os.path.lexists(root / group.group.plain):
        changed.append(f"{group.group.plain} appeared")
    if any(move.kind == "keep" for move in group.moves):
        twins = _lookalikes(root, group.group.plain, listings)
        if twins:
            changed.append(f"{twins} appeared, a name that looks like {group.group.plain}")
    if changed:
        detail = (
            f"not done: {'; '.join(changed)}: changed since the plan was made (Drive sync?); "
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
        seen = states[move.source]
        if not isinstance(seen, _Seen):
            results.append(
                replace(move, state="skipped", detail="already gone before apply (Drive sync?)")
            )
            continue
        source = root / move.source
        if move.kind == "trash":
            try:
                (trash / move.source).parent.mkdir(parents=True, exist_ok=True)
                target = _free(trash / move.source)
                _still(source, seen)
                _rename(source, target, native)
            except OSError as exc:
                results.append(replace(move, state="failed", detail=f"not moved: {_message(exc)}"))
                if move.source == group.group.plain and group.keep != group.group.plain:
                    stop = f"not done: {move.source} could not be moved aside"
                continue
            if move.source == group.group.plain:
                trashed_plain = target
            version, detail = _moved(target, seen)
            relative = target.relative_to(root).as_posix()
            results.append(
                replace(move, target=relative, version=version, state="done", detail=detail)
            )
            continue
        try:
            _still(source, seen)
            _rename(source, root / move.target, native)
        except OSError as exc:
            detail = f"not renamed: {_message(exc)}"
            if trashed_plain is not None:
                try:
                    _rename(trashed_plain, root / group.group.plain, native)
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
        version, detail = _moved(root / move.target, seen)
        results.append(replace(move, version=version, state="done", detail=detail))
    return replace(group, moves=tuple(results))


def _refuse(plan: DedupePlan, detail: str, problem: str) -> DedupePlan:
    """The plan with every move failed for one reason: nothing was moved."""
    groups = tuple(
        replace(g, moves=tuple(replace(m, state="failed", detail=detail) for m in g.moves))
        for g in plan.groups
    )
    return replace(plan, groups=groups, applied=True, problems=(*plan.problems, problem))


def _apply(plan: DedupePlan) -> DedupePlan:
    where = plan.root / TRASH_DIR
    try:
        trash = _make_trash(plan.root)
        manifest = _Manifest(plan, trash)
        manifest.write(complete=False)
    except _TrashRefusedError as exc:
        detail = f"nothing was moved: the trash folder {where} is not a real folder of the project"
        return _refuse(plan, detail, f"nothing was moved: {exc}")
    except OSError as exc:
        detail = f"nothing was moved: the trash folder {where} could not be made"
        return _refuse(
            plan, detail, f"{detail} ({_message(exc)}). Free that path and run dedupe again."
        )
    native = _renameat2()
    results: list[GroupPlan] = []
    problems: list[str] = []
    listings: dict[str, list[str] | None] = {}
    for group in plan.groups:
        done = _apply_group(plan.root, trash, group, native, listings) if group.moves else group
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
        problems=(*plan.problems, *problems),
    )
