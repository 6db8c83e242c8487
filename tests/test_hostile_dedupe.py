"""dedupe() against hostile folders: caps, edits behind its back, links, lookalike and odd names."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colab_bootstrap import DedupePlan, ProjectNotFoundError, dedupe
from colab_bootstrap._cli import main
from colab_bootstrap._copies import copy_groups
from colab_bootstrap._dedupe import TRASH_DIR, dedupe_command
from colab_bootstrap._scan import DEFAULT_LIMIT, Scan
from conftest import T0, bounded, put

DAY = 86_400 * 10**9
NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
Result = TypeVar("Result")


def _files(root: Path) -> dict[str, bytes]:
    """Every regular file under root (trash included): relative path -> bytes."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if stat.S_ISREG(os.lstat(path).st_mode):
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def _outside_trash(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in _files(root).items() if not k.startswith(".colab_bootstrap/")}


def _project(root: Path) -> Path:
    """One Drive group whose newest version is a copy: prep.py, prep (1).py (newest), (2)."""
    put(root, "pkg/prep.py", "x = 1\n", T0)
    put(root, "pkg/prep (1).py", "x = 2\n", T0 + 2 * DAY)
    put(root, "pkg/prep (2).py", "x = 3\n", T0 - DAY)
    return root


# --------------------------------------------------------------------------- 1. the walk cap


def _empty_files(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for number in range(count):
        os.close(os.open(folder / f"f{number:05}", os.O_CREAT | os.O_WRONLY, 0o644))


def test_a_walk_stopped_at_its_cap_is_never_ok_and_the_command_exits_1(tmp_path: Path) -> None:
    """Past 50,000 entries the plan says it is incomplete and what to run; --apply exits 1."""
    put(tmp_path, "a.py", "old", T0)
    put(tmp_path, "a (1).py", "new", T0 + DAY)
    _empty_files(tmp_path / "bulk", DEFAULT_LIMIT + 1)  # about a second on a local disk

    plan = dedupe(tmp_path)
    assert plan.truncated
    assert plan.entries == DEFAULT_LIMIT
    assert not plan.ok
    assert "INCOMPLETE" in str(plan)
    assert dedupe_command(tmp_path / "bulk") in str(plan)

    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "colab_bootstrap", "dedupe", str(tmp_path), "--apply"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert time.monotonic() - started < 60
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "incomplete: dedupe looks at no more than 50000 files and folders" in proc.stdout
    assert "Run it on each sub-folder in turn (bulk)" in proc.stdout
    assert (tmp_path / "a.py").read_text() == "new"  # what it saw was still done


# --------------------------------------------------------------------------- 2. edits after plan


@pytest.mark.parametrize("edited", ["pkg/prep (1).py", "pkg/prep (2).py", "pkg/prep.py"])
def test_a_file_rewritten_with_its_old_size_and_time_is_not_moved(
    tmp_path: Path, edited: str
) -> None:
    """Same size, mtime put back with os.utime: the contents differ, so its group stays as is."""
    _project(tmp_path)
    plan = dedupe(tmp_path)
    path = tmp_path / edited
    info = path.stat()
    path.write_bytes(b"y = 9\n")  # the same 6 bytes long
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    before = _files(tmp_path)

    done = plan.apply()

    assert not done.ok
    assert [group.status for group in done.groups] == ["not done"]
    assert all(move.state == "failed" for move in done.moves)
    assert f"{edited} has other contents" in str(done)
    assert "changed since the plan" in str(done)
    assert _outside_trash(tmp_path) == before
    assert done.trash is not None
    assert sorted(os.listdir(done.trash)) == ["manifest.json"]


def test_the_manifest_holds_the_hash_of_what_actually_moved(tmp_path: Path) -> None:
    """Every move in the manifest names a file whose bytes hash to the recorded SHA-256."""
    _project(tmp_path)
    plan = dedupe(tmp_path)
    done = plan.apply()
    assert done.ok
    assert done.manifest is not None
    record = json.loads(done.manifest.read_text(encoding="utf-8"))
    assert len(record["moves"]) == 3
    for move in record["moves"]:
        data = (tmp_path / move["to"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == move["sha256"]


# --------------------------------------------------------------------------- 3. the trash folder


def _refused(root: Path, outside: Path) -> None:
    """Applying moves nothing, says why, exits 1 from the command line; ``outside`` stays empty."""
    before = _files(root)
    plan = dedupe(root, apply=True)
    assert not plan.ok
    assert plan.trash is None
    assert all(move.state == "failed" for move in plan.moves)
    assert "symbolic link" in plan.problems[0]
    assert "Move the link away" in plan.problems[0]
    assert "NOT done" in str(plan)
    assert _files(root) == before
    assert list(outside.iterdir()) == []
    assert main(["dedupe", str(root), "--apply"]) == 1
    assert _files(root) == before
    assert list(outside.iterdir()) == []


def test_a_linked_state_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'.colab_bootstrap' linked to a folder outside the project: nothing moves there."""
    root = _project(tmp_path / "proj")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / ".colab_bootstrap").symlink_to(outside)
    _refused(root, outside)


def test_a_linked_trash_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real '.colab_bootstrap' whose 'trash' is a link out of the project: refused too."""
    root = _project(tmp_path / "proj")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / ".colab_bootstrap").mkdir()
    (root / TRASH_DIR).symlink_to(outside)
    _refused(root, outside)


def test_a_state_folder_linked_to_another_file_system_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'.colab_bootstrap' -> /dev/shm (RAM, gone at restart): refused, nothing lands there."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system")
    root = _project(tmp_path / "proj")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        (root / ".colab_bootstrap").symlink_to(other)
        _refused(root, Path(other))


# --------------------------------------------------------------------------- 4. Unicode forms


def _keys(folder: Path) -> Counter[str]:
    return Counter(unicodedata.normalize("NFC", name) for name in os.listdir(folder))


@pytest.mark.parametrize(("plain", "copy"), [(NFC, NFD), (NFD, NFC)], ids=["nfc", "nfd"])
def test_a_copy_in_another_unicode_form_takes_the_plain_name_as_it_is_spelled(
    tmp_path: Path, plain: str, copy: str
) -> None:
    """'café (1).py' in NFD beside 'café.py' in NFC: one 'café.py' afterwards, never two."""
    put(tmp_path, f"{plain}.py", "old", T0)
    put(tmp_path, f"{copy} (1).py", "new", T0 + DAY)
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok, str(plan)
    assert plan.trash is not None
    assert sorted(os.listdir(tmp_path)) == sorted([".colab_bootstrap", f"{plain}.py"])
    assert (tmp_path / f"{plain}.py").read_text() == "new"
    assert (plan.trash / f"{plain}.py").read_text() == "old"


def test_two_spellings_of_one_name_are_only_reported(tmp_path: Path) -> None:
    """'café.py' in NFC and in NFD, plus a copy: which one is 'the' name? Nothing moves."""
    put(tmp_path, f"{NFC}.py", "nfc", T0)
    put(tmp_path, f"{NFD}.py", "nfd", T0)
    put(tmp_path, f"{NFC} (1).py", "copy", T0 + DAY)
    before = _files(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.moves == ()
    assert _files(tmp_path) == before
    (group,) = plan.groups
    assert not group.group.movable
    assert "one name in two Unicode forms" in group.note
    assert "rename one of them by hand" in str(plan)


# --------------------------------------------------------------------------- 5. names Drive makes


def test_a_year_in_parentheses_never_replaces_the_plain_file(tmp_path: Path) -> None:
    """'report (2023).pdf' beside 'report.pdf' is the user's own name: reported, never moved."""
    put(tmp_path, "report.pdf", "this year's", T0)
    put(tmp_path, "report (2023).pdf", "last year's", T0 + DAY)
    before = _files(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.moves == ()
    assert _files(tmp_path) == before
    (group,) = plan.groups
    assert group.status == "reported"
    assert "not Drive copies, not moved" in group.note
    assert "numbers Drive does not give: report (2023).pdf" in str(plan)


def test_numbered_names_without_their_plain_name_never_collapse(tmp_path: Path) -> None:
    """'Season (1).mp4', '(2)', '(3)' and no 'Season.mp4': three episodes, left as they are."""
    for number in (1, 2, 3):
        put(tmp_path, f"Season ({number}).mp4", f"episode {number}", T0 + number * DAY)
    before = _files(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.moves == ()
    assert _files(tmp_path) == before
    assert not (tmp_path / ".colab_bootstrap").exists()
    (group,) = plan.groups
    assert "not Drive copies, not moved (no Season.mp4 itself)" in group.note


def test_only_numbers_drive_gives_are_moved(tmp_path: Path) -> None:
    """(1)..(k) beside the plain name move; gaps, leading zeros and orphan copies of copies not."""
    for name in ("b.py", "b (1).py", "b (2).py", "c.py", "c (1).py", "c (1) (1).py"):
        put(tmp_path, name, name, T0 + (0 if name in ("b.py", "c.py") else DAY))
    for name in ("a.py", "a (2).py", "x.py", "x (01).py", "d.py", "d (1) (1).py"):
        put(tmp_path, name, name, T0 + (0 if name in ("a.py", "x.py", "d.py") else DAY))
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok, str(plan)
    moved = {move.source for move in plan.moves if move.state == "done"}
    assert moved == {"b.py", "b (1).py", "b (2).py", "c.py", "c (1).py", "c (1) (1).py"}
    for name in ("a.py", "a (2).py", "x.py", "x (01).py", "d.py", "d (1) (1).py"):
        assert (tmp_path / name).read_text() == name
    reported = {group.group.plain: group.note for group in plan.groups if not group.moves}
    assert set(reported) == {"a.py", "d.py"}
    assert "numbers Drive does not give: a (2).py" in reported["a.py"]
    assert "numbers Drive does not give: d (1) (1).py" in reported["d.py"]


def test_copy_groups_tell_doctor_which_groups_may_move() -> None:
    """CopyGroup.movable / reason, from names alone: what doctor needs for its fix text."""
    walk = Scan(
        root=Path("/nonexistent"),
        files=(
            "prep.py",
            "prep (1).py",
            "report.pdf",
            "report (2023).pdf",
            "Season (1).mp4",
            "Season (2).mp4",
        ),
        dirs=("data", "data (1)"),
        pycache_dirs=(),
        truncated=False,
        limit=100,
    )
    groups = {group.plain: group for group in copy_groups(walk)}
    assert (groups["prep.py"].movable, groups["prep.py"].reason) == (True, "")
    assert str(groups["prep.py"]) == "prep.py: prep (1).py"
    assert not groups["report.pdf"].movable
    assert str(groups["report.pdf"]) == (
        "report.pdf: report (2023).pdf (numbers Drive does not give: report (2023).pdf)"
    )
    assert not groups["Season.mp4"].movable
    assert groups["Season.mp4"].reason == "no Season.mp4 itself"
    assert not groups["data"].movable
    assert "never merged" in groups["data"].reason


def test_stale_can_ask_for_the_same_drive_copies() -> None:
    """drive_copies(): the copies of known files in one listing, by dedupe's own rules."""
    from colab_bootstrap._copies import drive_copies  # new in this change: no import error above

    listing = [
        "helpers.py",
        "helpers (1).py",
        "helpers (2).py",
        "report.py",
        "report (2023).py",
        f"{NFD} (1).py",
        "gone (1).py",
    ]
    assert drive_copies(listing, ["helpers.py", "report.py", f"{NFC}.py", "gone.py"]) == {
        "helpers.py": ("helpers (1).py", "helpers (2).py"),
        f"{NFC}.py": (f"{NFD} (1).py",),
        "gone.py": ("gone (1).py",),  # the module's file was deleted: its copy still counts
    }


# --------------------------------------------------------------------------- 6. regular files only


@needs_fifo
def test_fifos_and_links_to_fifos_are_never_opened(tmp_path: Path) -> None:
    """A link to a FIFO named 'x (1).py', a FIFO as the plain name: reported, in seconds."""
    put(tmp_path, "x.py", "x", T0)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "x (1).py").symlink_to(tmp_path / "pipe")
    os.mkfifo(tmp_path / "y.py")
    put(tmp_path, "y (1).py", "y", T0 + DAY)
    started = time.monotonic()
    plan = bounded(lambda: dedupe(tmp_path, apply=True), 20)
    assert time.monotonic() - started < 10
    assert plan.moves == ()
    assert [group.note.endswith("left alone") for group in plan.groups] == [True, True]
    assert (tmp_path / "x (1).py").is_symlink()
    assert stat.S_ISFIFO(os.lstat(tmp_path / "y.py").st_mode)


@needs_fifo
def test_a_fifo_put_in_place_of_a_planned_file_is_not_opened(tmp_path: Path) -> None:
    """Between plan and apply a copy becomes a FIFO: apply neither blocks nor moves the group."""
    _project(tmp_path)
    plan = dedupe(tmp_path)
    (tmp_path / "pkg/prep (2).py").unlink()
    os.mkfifo(tmp_path / "pkg/prep (2).py")
    done = bounded(plan.apply, 20)
    assert [group.status for group in done.groups] == ["not done"]
    assert "changed since the plan" in str(done)
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pkg/prep (2).py").st_mode)
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 1\n"


# --------------------------------------------------------------------------- 7. documented errors


@pytest.mark.parametrize("path", ["a\0b", "~no_such_user_colab_bootstrap/proj"])
def test_an_unusable_path_raises_the_documented_error(path: str) -> None:
    """A NUL byte or an unknown ~user: ProjectNotFoundError, never ValueError or RuntimeError."""
    with pytest.raises(ProjectNotFoundError):
        dedupe(path)


def test_names_that_are_not_utf8_are_moved_recorded_and_printed(tmp_path: Path) -> None:
    """Latin-1 file names (an old zip): moved, manifest valid JSON, plan printable as UTF-8."""
    root = os.fsencode(tmp_path)
    for name, text, mtime in ((b"caf\xe9.py", b"old", T0), (b"caf\xe9 (1).py", b"new", T0 + DAY)):
        with open(os.path.join(root, name), "wb") as stream:
            stream.write(text)
        os.utime(os.path.join(root, name), ns=(mtime, mtime))
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok, str(plan)
    assert plan.manifest is not None
    str(plan).encode("utf-8")
    plan._repr_html_().encode("utf-8")
    record = json.loads(plan.manifest.read_text(encoding="utf-8"))
    assert {os.fsencode(move["from"]) for move in record["moves"]} == {
        b"caf\xe9.py",
        b"caf\xe9 (1).py",
    }
    with open(os.path.join(root, b"caf\xe9.py"), "rb") as stream:
        assert stream.read() == b"new"
    with open(os.path.join(root, b"caf\xe9 (2).py"), "wb") as stream:
        stream.write(b"newest")
    proc = subprocess.run(
        [sys.executable, "-m", "colab_bootstrap", "dedupe", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0
    assert "caf\\udce9 (2).py" in proc.stdout


def test_a_time_beyond_year_9999_still_prints_and_applies(tmp_path: Path) -> None:
    """A file from year 33658 (tmpfs keeps any mtime) is shown and recorded, never an error."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("needs /dev/shm (tmpfs keeps times past year 9999)")
    far = 10**12 * 10**9
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        root = Path(folder)
        put(root, "m.py", "old", T0)
        put(root, "m (1).py", "new", far)
        if (root / "m (1).py").stat().st_mtime_ns != far:
            pytest.skip("this tmpfs clamps times")
        plan = dedupe(root)
        assert f"{far} ns since 1970" in str(plan)
        done = plan.apply()
        assert done.ok, str(done)
        assert done.manifest is not None
        record = json.loads(done.manifest.read_text(encoding="utf-8"))
        assert f"{far} ns since 1970" in {move["modified"] for move in record["moves"]}
        assert (root / "m.py").read_text() == "new"


# --------------------------------------------------------------------------- property


_COPY = re.compile(r"^(.+?) \(([1-9][0-9]*)\)((?:\.[^.\s()]+)*)$")
STEMS = ("report", NFC, NFD, "Season", "a.b")
ODD = (" (2023)", " (01)", " (0)", " (1) (1)", " (2) (1)", " (5)")
EXTS = (".py", ".tar.gz", "")
CONTENTS = (b"", b"one\n", b"two\n", b"\x00\xff")


@st.composite
def _folder(draw: st.DrawFn) -> dict[str, tuple[bytes, int]]:
    """Names in one folder: groups of plain + (1)..(k), some with odd extras, lookalike stems."""
    names: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        stem, ext = draw(st.sampled_from(STEMS)), draw(st.sampled_from(EXTS))
        if draw(st.booleans()) or draw(st.booleans()):
            names.append(stem + ext)
        names += [f"{stem} ({n}){ext}" for n in range(1, draw(st.integers(0, 3)) + 1)]
        if draw(st.integers(0, 3)) == 0:
            names.append(stem + draw(st.sampled_from(ODD)) + ext)
    return {
        name: (draw(st.sampled_from(CONTENTS)), draw(st.integers(min_value=0, max_value=3)))
        for name in names
    }


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _drive_made(name: str, names: list[str]) -> bool:
    """The rule, from what Drive shows: the name copied is there, the number is 1..k of its k."""
    match = _COPY.match(name)
    if match is None:
        return _nfc(name) in {_nfc(other) for other in names}
    parent, number = match[1] + match[3], int(match[2])
    siblings = [
        other
        for other in names
        if (found := _COPY.match(other)) and _nfc(found[1] + found[3]) == _nfc(parent)
    ]
    return number <= len(siblings) and _drive_made(parent, names)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=_folder())
def test_random_names_only_drive_copies_move_no_lookalike_appears_no_byte_is_lost(
    tmp_path: Path, files: dict[str, tuple[bytes, int]]
) -> None:
    """Any names in one folder: only Drive's copies move, no lookalike appears, no byte is lost."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        root = Path(folder)
        for name, (content, age) in files.items():
            put(root, name, content, T0 + age * DAY)
        names = list(files)
        before_keys = _keys(root)
        before = Counter(_files(root).values())

        plan: DedupePlan = dedupe(root)
        done = plan.apply()

        assert done.ok, str(done)
        for group in done.groups:
            if group.moves:
                assert all(_drive_made(v.path, names) for v in group.versions), (group, names)
        after_keys = _keys(root)
        for key, count in after_keys.items():
            if key != ".colab_bootstrap":
                assert count <= max(before_keys[key], 1), (key, sorted(os.listdir(root)))
        manifest = done.manifest.relative_to(root).as_posix() if done.manifest else None
        after = Counter(data for rel, data in _files(root).items() if rel != manifest)
        assert after == before
        if done.manifest is not None:
            record = json.loads(done.manifest.read_text(encoding="utf-8"))
            assert len(record["moves"]) == len(done.moves)
            for move in record["moves"]:
                assert move["state"] == "done"
                data = (root / move["to"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == move["sha256"]
