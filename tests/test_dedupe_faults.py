"""dedupe(apply=True) under real faults: full disks, immutable files, a source edited mid-copy.

Every fault here is made by the kernel, never by patching our code: small tmpfs mounts that fill
up (in the private mount namespace conftest makes for the run, so nothing reaches the machine),
``chattr +i``, a file held open (its blocks stay in use after it is removed), and fanotify
permission events that let the test rewrite a file at the very moment dedupe opens it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import mmap
import os
import select
import struct
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from colab_bootstrap import DedupePlan, dedupe
from colab_bootstrap._cli import main
from colab_bootstrap._dedupe import TRASH_DIR
from conftest import (
    MOUNT_NAMESPACE_PROBLEM,
    T0,
    bounded,
    chattr,
    drivefs,
    drivefs_mount,
    need_fuse,
    put,
)

DAY = 86_400 * 10**9
PAGE = mmap.PAGESIZE
ENOSPC = os.strerror(errno.ENOSPC)
EPERM = os.strerror(errno.EPERM)


# --------------------------------------------------------------------------- helpers


def _need_private_mounts() -> None:
    """Skip unless this run may mount: root, in the mount namespace conftest made for it."""
    if MOUNT_NAMESPACE_PROBLEM:
        pytest.skip(
            f"mounting a small tmpfs needs a private mount namespace: {MOUNT_NAMESPACE_PROBLEM}"
        )
    if not drivefs.in_private_namespace():
        pytest.skip("not in the private mount namespace conftest made; nothing is mounted")


@contextlib.contextmanager
def _tmpfs(point: Path, size: int) -> Iterator[Path]:
    """A tmpfs of ``size`` bytes at ``point`` meanwhile (everything in it goes at the end)."""
    _need_private_mounts()
    point.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755,huge=never", "tmpfs", str(point)],
        check=True,
        capture_output=True,
    )
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=True, capture_output=True)


def _free_pages(folder: Path) -> int:
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize // PAGE


def _fill(ballast: Path, leave: int = 0) -> None:
    """Fill the file system ``ballast`` is on with it, all but exactly ``leave`` pages."""
    free = _free_pages(ballast.parent)
    assert free > leave, "the tmpfs is too small for this test"
    with open(ballast, "wb") as stream:
        os.posix_fallocate(stream.fileno(), 0, (free - leave) * PAGE)
    assert _free_pages(ballast.parent) == leave


def _contents(root: Path, *skip: Path | None) -> Counter[bytes]:
    """The multiset of file contents under root (trash included), ``skip`` left out."""
    left_out = {path for path in skip if path is not None}
    found: Counter[bytes] = Counter()
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path not in left_out:
                found[path.read_bytes()] += 1
    return found


def _manifest(plan: DedupePlan) -> dict[str, object]:
    assert plan.manifest is not None
    record: dict[str, object] = json.loads(plan.manifest.read_text(encoding="utf-8"))
    return record


def _moves(plan: DedupePlan) -> list[dict[str, object]]:
    moves = _manifest(plan)["moves"]
    assert isinstance(moves, list)
    return moves


# fanotify (linux/fanotify.h): each open of a marked file waits until the listener answers.
_FAN_CLOEXEC = 0x1
_FAN_CLASS_CONTENT = 0x4
_FAN_MARK_ADD = 0x1
_FAN_OPEN_PERM = 0x10000
_FAN_ALLOW = 0x1
_AT_FDCWD = -100
_EVENT = struct.Struct("=IBBHQii")  # struct fanotify_event_metadata
_RESPONSE = struct.Struct("=iI")  # struct fanotify_response


def _fanotify_group(path: Path, mask: int = _FAN_OPEN_PERM) -> int:
    """A fanotify group (its file descriptor) that holds every open of ``path`` for an answer.

    ``mask`` adds to the events: ``FAN_EVENT_ON_CHILD`` makes a folder's files' opens wait too.
    """
    _need_private_mounts()  # root, Linux
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fanotify_mark.argtypes = [
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint64,
        ctypes.c_int,
        ctypes.c_char_p,
    ]
    group: int = libc.fanotify_init(_FAN_CLOEXEC | _FAN_CLASS_CONTENT, os.O_RDONLY)
    if group < 0:
        pytest.skip(f"fanotify permission events: {os.strerror(ctypes.get_errno())}")
    if libc.fanotify_mark(group, _FAN_MARK_ADD, mask, _AT_FDCWD, os.fsencode(path)):
        problem = os.strerror(ctypes.get_errno())
        os.close(group)
        pytest.skip(f"fanotify cannot mark {path}: {problem}")
    return group


class _OpenGate:
    """Answers a fanotify group's open events, running ``action(n)`` before the n-th open."""

    def __init__(self, group: int, action: Callable[[int], None]) -> None:
        self.group = group
        self.action = action
        self.opens: list[int] = []  # the pid of each open, in order
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def listen(self) -> None:
        while not self.stop.is_set():
            if select.select([self.group], [], [], 0.05)[0]:
                data = os.read(self.group, 4096)
                offset = 0
                while offset + _EVENT.size <= len(data):
                    length, _, _, _, mask, fd, pid = _EVENT.unpack_from(data, offset)
                    self.answer(mask, fd, pid)
                    offset += length

    def answer(self, mask: int, fd: int, pid: int) -> None:
        """Run the action for an open, then always let that open go on."""
        try:
            if mask & _FAN_OPEN_PERM:
                self.opens.append(pid)
                self.action(len(self.opens))
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
            self.errors.append(exc)
        finally:
            os.write(self.group, _RESPONSE.pack(fd, _FAN_ALLOW))
            if fd >= 0:
                os.close(fd)


@contextlib.contextmanager
def _on_open(path: Path, action: Callable[[int], None]) -> Iterator[list[int]]:
    """Run ``action(n)`` at the n-th open of ``path`` (by anyone), before that open returns.

    A fanotify FAN_OPEN_PERM mark: the kernel holds each open until this test's listener
    thread allows it, so ``action`` happens exactly between two reads of the file. ``action``
    must not open ``path`` itself (it would wait on its own listener): write through a file
    descriptor opened beforehand. Yields the pids of the opens seen so far.
    """
    gate = _OpenGate(_fanotify_group(path), action)
    listener = threading.Thread(target=gate.listen, name="fanotify-listener", daemon=True)
    listener.start()
    try:
        yield gate.opens
    finally:
        gate.stop.set()
        listener.join(10)
        os.close(gate.group)  # any open still held goes on now
    if gate.errors:
        raise gate.errors[0]


# --------------------------------------------------------------------------- 9. put-back fails


def test_a_plain_file_that_cannot_go_back_stays_in_the_trash_and_is_listed(
    tmp_path: Path,
) -> None:
    """The newer copy cannot take the plain name, and the plain file cannot go back either.

    ``pkg`` is a full tmpfs of its own, so the plain file is copied into the project's trash
    (another file system) and removed; a program holding it open keeps its blocks in use. The
    newer copy is immutable: its rename fails. Putting the old file back is a copy into the full
    tmpfs: it fails (ENOSPC) and leaves no partial file. The old file stays in the trash, the
    plan says where, the manifest lists it there: no byte is lost.
    """
    root = tmp_path / "proj"
    with _tmpfs(root / "pkg", 16 * PAGE):
        plain = put(root, "pkg/prep.py", "x = 1  # the old plain file\n", T0)
        put(root, "pkg/prep (1).py", "x = 2  # the newest\n", T0 + 2 * DAY)
        put(root, "pkg/prep (2).py", "x = 0  # the oldest\n", T0 - DAY)
        _fill(root / "pkg/ballast.bin")
        before = _contents(root)
        with open(plain, "rb"), chattr(root / "pkg/prep (1).py", "+i"):
            plan = dedupe(root, apply=True)

        assert not plan.ok
        assert plan.trash is not None
        trashed = (plan.trash / "pkg/prep.py").relative_to(root).as_posix()
        assert trashed.startswith(f"{TRASH_DIR}/")
        (group,) = plan.groups
        assert group.status == "partly done"
        moves = {move.source: move for move in plan.moves}
        assert (moves["pkg/prep.py"].state, moves["pkg/prep.py"].target) == ("done", trashed)
        assert moves["pkg/prep.py"].detail == ""
        assert moves["pkg/prep (1).py"].state == "failed"
        assert moves["pkg/prep (1).py"].detail == (
            f"not renamed: {EPERM}; the old pkg/prep.py stays in the trash at {trashed} ({ENOSPC})"
        )
        assert moves["pkg/prep (2).py"].state == "failed"
        assert moves["pkg/prep (2).py"].detail == (
            "not done: pkg/prep (1).py could not be renamed to pkg/prep.py"
        )
        assert f"the old pkg/prep.py stays in the trash at {trashed}" in str(plan)

        # Every byte is somewhere; no half-copied plain file was left in pkg.
        assert _contents(root, plan.manifest) == before
        assert not os.path.lexists(root / "pkg/prep.py")
        assert (root / trashed).read_text() == "x = 1  # the old plain file\n"
        assert (root / "pkg/prep (1).py").read_text() == "x = 2  # the newest\n"
        assert (root / "pkg/prep (2).py").read_text() == "x = 0  # the oldest\n"
        assert sorted(os.listdir(plan.trash)) == ["manifest.json", "pkg"]
        assert os.listdir(plan.trash / "pkg") == ["prep.py"]

        # The manifest (complete) says where each file is.
        assert _manifest(plan)["complete"] is True
        listed = {str(m["from"]): (m["to"], m["state"]) for m in _moves(plan)}
        assert listed == {
            "pkg/prep.py": (trashed, "done"),
            "pkg/prep (1).py": ("pkg/prep.py", "failed"),
            "pkg/prep (2).py": (f"{TRASH_DIR}/<UTC time>/pkg/prep (2).py", "failed"),
        }
        sha = {str(m["from"]): m["sha256"] for m in _moves(plan)}
        assert sha["pkg/prep.py"] == hashlib.sha256((root / trashed).read_bytes()).hexdigest()


# --------------------------------------------------------------------------- 11. a full disk


@pytest.mark.parametrize("through", ["dedupe", "cli"])
def test_a_full_disk_after_the_trash_is_made_loses_no_move(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], through: str
) -> None:
    """The project's file system has room for the first manifest only: every move is done.

    The renames need no room; each later manifest write fails with ENOSPC (its temporary file is
    removed). The plan is not ok, names where the moved files are, and the command exits 1.
    """
    root = tmp_path / "proj"
    with _tmpfs(root, 32 * PAGE):
        for name in ("a", "b"):
            put(root, f"{name}.py", f"{name} old\n", T0)
            put(root, f"{name} (1).py", f"{name} new\n", T0 + DAY)
            put(root, f"sub/{name}.txt", f"{name} one\n", T0 + DAY)
            put(root, f"sub/{name} (1).txt", f"{name} two\n", T0)
        _fill(root / "ballast.bin", leave=1)  # room for one small file: the first manifest
        before = _contents(root)

        if through == "cli":
            assert main(["dedupe", str(root), "--apply"]) == 1
            out = capsys.readouterr().out
            (trash,) = (root / TRASH_DIR).iterdir()
            manifest = trash / "manifest.json"
            assert (
                f"the manifest could not be written ({ENOSPC}); the moved files are in {trash} "
                "under their own paths"
            ) in out
            assert "4 file(s) moved to the trash; 0 move(s) NOT done (nothing was lost)" in out
        else:
            plan = dedupe(root, apply=True)
            assert not plan.ok
            assert plan.trash is not None
            assert plan.manifest is not None
            trash, manifest = plan.trash, plan.manifest
            assert plan.problems == (
                f"the manifest could not be written ({ENOSPC}); the moved files are in {trash} "
                "under their own paths",
            )
            assert [move.state for move in plan.moves] == ["done"] * 6

        assert _contents(root, manifest) == before
        for name in ("a", "b"):
            assert (root / f"{name}.py").read_text() == f"{name} new\n"
            assert (trash / f"{name}.py").read_text() == f"{name} old\n"
            assert (root / f"sub/{name}.txt").read_text() == f"{name} one\n"
            assert (trash / f"sub/{name} (1).txt").read_text() == f"{name} two\n"
        assert sorted(os.listdir(trash)) == ["a.py", "b.py", "manifest.json", "sub"]  # no temp
        record = json.loads(manifest.read_text(encoding="utf-8"))
        assert (record["complete"], record["moves"]) == (False, [])  # the first write stays


def test_a_disk_too_full_for_the_first_manifest_moves_nothing(tmp_path: Path) -> None:
    """No room even for the first manifest: no file moves, the plan says what to free."""
    root = tmp_path / "proj"
    with _tmpfs(root, 16 * PAGE):
        put(root, "a.py", "a old\n", T0)
        put(root, "a (1).py", "a new\n", T0 + DAY)
        _fill(root / "ballast.bin")
        before = _contents(root)

        plan = dedupe(root, apply=True)

        assert not plan.ok
        assert (plan.trash, plan.manifest) == (None, None)
        where = root / TRASH_DIR
        assert plan.problems == (
            f"nothing was moved: the trash folder {where} could not be made ({ENOSPC}). Free "
            "that path and run dedupe again.",
        )
        assert [move.state for move in plan.moves] == ["failed", "failed"]
        assert (root / "a.py").read_text() == "a old\n"
        assert (root / "a (1).py").read_text() == "a new\n"
        assert _contents(root) - Counter({b"": 1}) == before  # at most an empty manifest.json
        assert main(["dedupe", str(root), "--apply"]) == 1
        assert (root / "a.py").read_text() == "a old\n"


# --------------------------------------------------------------------------- 12. across devices


def test_a_copy_into_a_full_trash_is_removed_and_the_next_one_fits(tmp_path: Path) -> None:
    """``pkg`` is another file system than the project, whose disk is nearly full.

    Moving a copy out of ``pkg`` into the trash is a copy: the big one runs out of room
    (ENOSPC), its partial copy is removed and the file stays; that freed room lets the small
    one move. Nothing is lost and the failed move says why.
    """
    root = tmp_path / "proj"
    big = bytes(range(256)) * (16 * PAGE // 256)
    with _tmpfs(root, 32 * PAGE), _tmpfs(root / "pkg", 64 * PAGE):
        put(root, "pkg/prep.py", "newest\n", T0 + DAY)
        put(root, "pkg/prep (1).py", big, T0)
        put(root, "pkg/prep (2).py", "small\n", T0 - DAY)
        # Room for the manifest, its rewrite and the small file; not for the big one.
        _fill(root / "ballast.bin", leave=4)
        before = _contents(root)

        plan = dedupe(root, apply=True)

        assert not plan.ok
        assert plan.trash is not None
        assert plan.problems == ()  # the manifest was written: the partial copy's room came back
        (group,) = plan.groups
        assert group.status == "partly done"
        moves = {move.source: move for move in plan.moves}
        assert moves["pkg/prep (1).py"].state == "failed"
        assert moves["pkg/prep (1).py"].detail == f"not moved: {ENOSPC}"
        assert moves["pkg/prep (2).py"].state == "done"
        assert (root / "pkg/prep (1).py").read_bytes() == big
        assert (root / "pkg/prep.py").read_text() == "newest\n"
        assert (plan.trash / "pkg/prep (2).py").read_text() == "small\n"
        assert not os.path.lexists(root / "pkg/prep (2).py")
        assert os.listdir(plan.trash / "pkg") == ["prep (2).py"]  # no partial big copy
        assert _contents(root, plan.manifest) == before
        states = {m["from"]: (m["state"], m["detail"]) for m in _moves(plan)}
        assert states["pkg/prep (1).py"] == ("failed", f"not moved: {ENOSPC}")
        assert states["pkg/prep (2).py"] == ("done", "")


def test_a_source_rewritten_while_it_is_copied_across_is_not_moved(tmp_path: Path) -> None:
    """Drive sync rewrites a copy (same size) while dedupe copies it to the trash's file system.

    Each open of that file after dedupe's last check (hash, then copy) first gets new bytes of
    the same size, so the copy no longer matches the hash taken just before: the copy is
    removed, the source keeps its newest bytes, the move is reported failed.
    """
    root = tmp_path / "proj"
    root.mkdir()
    with _tmpfs(root / "pkg", 64 * PAGE):
        put(root, "pkg/prep.py", "newest\n", T0 + DAY)
        source = put(root, "pkg/prep (1).py", "synced version 0\n", T0)
        plan = dedupe(root)
        writer = os.open(source, os.O_WRONLY)
        written: list[bytes] = []

        def rewrite(count: int) -> None:
            if count >= 2:  # the first open is the check that the file is as planned
                data = f"synced version {count}\n".encode()
                os.pwrite(writer, data, 0)
                written.append(data)

        try:
            with _on_open(source, rewrite) as opens:
                done = bounded(plan.apply, 30)
        finally:
            os.close(writer)

        assert len(opens) >= 3, opens  # checked, hashed, copied
        assert len(written) >= 2
        assert not done.ok
        assert done.trash is not None
        (move,) = done.moves
        assert (move.source, move.state) == ("pkg/prep (1).py", "failed")
        assert move.detail == "not moved: the copy does not match the original"
        assert source.read_bytes() == written[-1]  # Drive's last bytes, in place
        assert (root / "pkg/prep.py").read_text() == "newest\n"
        assert sorted(os.listdir(done.trash)) == ["manifest.json", "pkg"]
        assert os.listdir(done.trash / "pkg") == []  # the copy that did not match is gone
        ((state, detail),) = [(m["state"], m["detail"]) for m in _moves(done)]
        assert (state, detail) == ("failed", "not moved: the copy does not match the original")


# --------------------------------------------------------------------------- other file systems
# Drive for desktop on macOS and Windows, and many FUSE file systems, lack what Linux's own
# file systems have: renameat2's RENAME_NOREPLACE, chmod, case-sensitive names. The fake DriveFS
# (a real FUSE mount) can be told to lack each (--quirks), so dedupe meets them for real.

_RENAME_NOREPLACE = 1


@contextlib.contextmanager
def _project_on(tmp_path: Path, *quirks: str) -> Iterator[Path]:
    """An empty project folder on a FUSE file system that lacks ``quirks``, meanwhile."""
    need_fuse()
    options = f"--quirks={','.join(quirks)}"
    with drivefs_mount(tmp_path / "backing", tmp_path / "mnt", options) as mydrive:
        root = mydrive / "proj"
        root.mkdir()
        yield root


def _noreplace(source: Path, target: Path) -> int:
    """renameat2(RENAME_NOREPLACE) straight from the C library: 0, or the errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.renameat2(_AT_FDCWD, bytes(source), _AT_FDCWD, bytes(target), _RENAME_NOREPLACE):
        return ctypes.get_errno()
    return 0


def test_without_rename_noreplace_files_move_by_the_checked_rename_and_replace_nothing(
    tmp_path: Path,
) -> None:
    """renameat2 with RENAME_NOREPLACE gives EINVAL there: dedupe checks, then renames.

    The plain file is older: it goes to the trash and the newest copy takes its name; the
    older copy goes too. Nothing is replaced, and the manifest lists every move.
    """
    with _project_on(tmp_path, "no-rename2") as root:
        probe = put(root, "probe", "")
        assert _noreplace(probe, root / "probed") == errno.EINVAL  # the quirk is real
        probe.unlink()
        put(root, "prep.py", "x = 1  # old plain\n", T0)
        put(root, "prep (1).py", "x = 2  # newest\n", T0 + 2 * DAY)
        put(root, "prep (2).py", "x = 0  # oldest\n", T0 - DAY)
        put(root, "sub/util (1).py", "y = 1\n", T0)
        put(root, "sub/util.py", "y = 2\n", T0 + DAY)
        before = _contents(root)

        plan = dedupe(root, apply=True)

        assert plan.ok, plan
        assert plan.trash is not None
        assert [move.state for move in plan.moves] == ["done"] * len(plan.moves)
        assert (root / "prep.py").read_text() == "x = 2  # newest\n"
        assert (plan.trash / "prep.py").read_text() == "x = 1  # old plain\n"
        assert (plan.trash / "prep (2).py").read_text() == "x = 0  # oldest\n"
        assert (plan.trash / "sub/util (1).py").read_text() == "y = 1\n"
        assert sorted(os.listdir(root)) == [".colab_bootstrap", "prep.py", "sub"]
        assert _contents(root, plan.manifest) == before
        assert {m["from"]: m["state"] for m in _moves(plan)} == {
            "prep.py": "done",
            "prep (1).py": "done",
            "prep (2).py": "done",
            "sub/util (1).py": "done",
        }


def test_a_trash_whose_file_system_refuses_modes_still_takes_copies_from_another(
    tmp_path: Path,
) -> None:
    """Moving out of another file system is a copy; there chmod fails (EPERM), times do not.

    The copy keeps its time, the move is done and the source is removed: a mode that cannot be
    kept is no reason to leave a duplicate behind.
    """
    with _project_on(tmp_path, "no-chmod") as root, _tmpfs(root / "pkg", 64 * PAGE):
        put(root, "pkg/prep.py", "newest\n", T0 + DAY)
        source = put(root, "pkg/prep (1).py", "older\n", T0)
        source.chmod(0o600)

        plan = dedupe(root, apply=True)

        assert plan.ok, plan
        assert plan.trash is not None
        (move,) = plan.moves
        assert (move.source, move.state) == ("pkg/prep (1).py", "done")
        moved = plan.trash / "pkg/prep (1).py"
        assert moved.read_text() == "older\n"
        assert moved.stat().st_mtime_ns == T0
        assert not os.path.lexists(source)
        assert (root / "pkg/prep.py").read_text() == "newest\n"
        with pytest.raises(PermissionError):  # the quirk is real
            moved.chmod(0o600)


def test_on_a_case_insensitive_disk_a_moved_file_takes_a_name_free_in_every_case(
    tmp_path: Path,
) -> None:
    """A moved ``Manifest.json`` goes to ``Manifest~2.json``: the two names before are taken.

    There ``Manifest.json`` is the trash's ``manifest.json``, and ``Manifest~1.json`` the
    ``MANIFEST~1.json`` moved just before. The manifest is not replaced, no file is, and the
    plan and the manifest say where each went.
    """
    with _project_on(tmp_path, "fold-case") as root:
        put(root, "Probe.txt", "")
        assert os.path.lexists(root / "PROBE.TXT")  # the quirk is real
        (root / "Probe.txt").unlink()
        put(root, "MANIFEST~1.json", '{"a": "old"}\n', T0)
        put(root, "MANIFEST~1 (1).json", '{"a": "new"}\n', T0 + DAY)
        put(root, "Manifest.json", '{"b": "old"}\n', T0)
        put(root, "Manifest (1).json", '{"b": "new"}\n', T0 + DAY)
        before = _contents(root)

        plan = bounded(lambda: dedupe(root, apply=True), 30)

        assert plan.ok, plan
        assert plan.trash is not None
        assert sorted(os.listdir(plan.trash)) == [
            "MANIFEST~1.json",
            "Manifest~2.json",
            "manifest.json",
        ]
        assert (plan.trash / "MANIFEST~1.json").read_text() == '{"a": "old"}\n'
        assert (plan.trash / "Manifest~2.json").read_text() == '{"b": "old"}\n'
        assert (root / "MANIFEST~1.json").read_text() == '{"a": "new"}\n'
        assert (root / "Manifest.json").read_text() == '{"b": "new"}\n'
        assert _manifest(plan)["complete"] is True
        targets = {m["from"]: m["to"] for m in _moves(plan)}
        trash = plan.trash.relative_to(root).as_posix()
        assert targets["Manifest.json"] == f"{trash}/Manifest~2.json"
        assert targets["MANIFEST~1.json"] == f"{trash}/MANIFEST~1.json"
        assert _contents(root, plan.manifest) == before
