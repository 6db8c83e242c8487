"""dedupe(): what a user reads and finds on disk, pinned where the other dedupe tests left gaps.

The plan's table (each version's decision, the group label, the cells left empty), the detail of
a refused trash, where a trashed file lands when its name is taken or the trash cannot be
listed, and the moves that fail between the last hash and the rename or in the middle of a
copy across file systems. Every fault is real: tmpfs mounts in the private mount namespace
conftest makes, ``chattr +i``, a umask and dropped capabilities, fanotify open events.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import select
import subprocess
import threading
import time
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import DedupePlan, dedupe
from colab_bootstrap._copies import copy_groups
from colab_bootstrap._dedupe import (
    TRASH_DIR,
    GroupPlan,
    Move,
    Version,
    _incomplete,
    _rename,
    _renameat2,
    dedupe_command,
)
from colab_bootstrap._scan import Scan
from conftest import T0, bounded, chattr, denied, put
from test_dedupe_faults import (
    _EVENT,
    _FAN_ALLOW,
    _FAN_OPEN_PERM,
    _RESPONSE,
    PAGE,
    _fanotify_group,
    _on_open,
    _tmpfs,
)

DAY = 86_400 * 10**9


class _Page(HTMLParser):
    """The parts of ``DedupePlan._repr_html_``: header, rows, top-level elements in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.summaries: list[str] = []
        self.top: list[str] = []  # the outermost elements, in order
        self.stray: list[str] = []  # text outside every element
        self.depth = 0
        self.cell: list[str] | None = None
        self.in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        del attrs
        if self.depth == 0:
            self.top.append(tag)
        self.depth += 1
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "summary":
            self.in_summary = True
            self.summaries.append("")

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1
        if tag in ("td", "th") and self.cell is not None:
            text = "".join(self.cell)
            (self.header if tag == "th" else self.rows[-1]).append(text)
            self.cell = None
        elif tag == "summary":
            self.in_summary = False

    def handle_data(self, data: str) -> None:
        if self.depth == 0:
            self.stray.append(data)
        if self.cell is not None:
            self.cell.append(data)
        if self.in_summary:
            self.summaries[-1] += data


def _page(plan: DedupePlan) -> _Page:
    parser = _Page()
    parser.feed(plan._repr_html_())
    parser.close()
    parser.rows = [row for row in parser.rows if row]  # the header row holds th cells only
    return parser


def _manifest_moves(plan: DedupePlan) -> list[dict[str, object]]:
    assert plan.manifest is not None
    record = json.loads(plan.manifest.read_text(encoding="utf-8"))
    assert record["complete"] is True
    moves: list[dict[str, object]] = record["moves"]
    return moves


# --------------------------------------------------------------------------- the table


def test_the_table_shows_each_version_and_its_decision_after_apply(tmp_path: Path) -> None:
    """After apply the decision column says FAILED where a move was not done, with why.

    One group moves; one is left untouched because a version changed after the plan (same
    size and time, other bytes); a folder group is only reported. Each row is exact: the label
    on the group's first row only (``/`` after a folder), sizes, times, decision, contents, and
    empty cells where a folder group has nothing to show.
    """
    root = tmp_path / "proj"
    put(root, "b.py", "b\n", T0)
    put(root, "b (1).py", "b\n", T0 + DAY)
    put(root, "pkg/prep.py", "x = 1\n", T0)
    put(root, "pkg/prep (1).py", "x = 2\n", T0 + 2 * DAY)
    put(root, "pkg/prep (2).py", "x = 0\n", T0 - DAY)
    put(root, "runs/a.txt", "1")
    put(root, "runs (1)/a.txt", "2")
    put(root, "runs (2)/a.txt", "3")
    plan = dedupe(root)
    put(root, "pkg/prep (2).py", "x = 9\n", T0 - DAY)  # Drive sync, after the plan

    done = plan.apply()

    assert done.trash is not None
    trashed = f"{done.trash.relative_to(root).as_posix()}/b (1).py"
    pending = f"{TRASH_DIR}/<UTC time>"
    why = (
        "not done: pkg/prep (2).py has other contents (same size and time): changed since the "
        "plan was made (Drive sync?); nothing in this group was touched. Run dedupe again."
    )
    page = _page(done)
    assert page.header == ["group", "version", "size", "modified", "decision", "contents"]
    assert page.rows == [
        ["b.py", "b.py", "2 B", "2023-11-14 22:13:20 UTC", "kept as is", "identical"],
        ["", "b (1).py", "2 B", "2023-11-15 22:13:20 UTC", f"trash \u2192 {trashed}", "identical"],
        [
            "pkg/prep.py",
            "prep.py",
            "6 B",
            "2023-11-14 22:13:20 UTC",
            f"FAILED: trash \u2192 {pending}/pkg/prep.py ({why})",
            "differs",
        ],
        [
            "",
            "prep (1).py",
            "6 B",
            "2023-11-16 22:13:20 UTC",
            f"FAILED: keep \u2192 becomes prep.py ({why})",
            "newest",
        ],
        [
            "",
            "prep (2).py",
            "6 B",
            "2023-11-13 22:13:20 UTC",
            f"FAILED: trash \u2192 {pending}/pkg/prep (2).py ({why})",
            "differs",
        ],
        [
            "runs/",
            "runs (1), runs (2)",
            "",
            "",
            "folder copies are never merged: compare them and move what you need by hand",
            "",
        ],
    ]
    # Each diff is named by the version it compares and the one kept; the parts follow the
    # table directly, then the footer.
    assert page.summaries == [
        "diff prep.py \u2192 prep (1).py (pkg/prep.py)",
        "diff prep (2).py \u2192 prep (1).py (pkg/prep.py)",
    ]
    assert page.top == ["table", "details", "details", "p"]
    assert page.stray == []
    text = str(done)
    assert "  prep (2).py        6 B  2023-11-13 22:13:20 UTC  differs        FAILED: " in text
    assert "\nruns/: folder copies are never merged" in text
    assert "\nb.py: 2 versions, all identical\n" in text
    # Nothing of the untouched group moved.
    assert (root / "pkg/prep.py").read_text() == "x = 1\n"
    assert (root / "pkg/prep (1).py").read_text() == "x = 2\n"


def test_a_file_group_label_has_no_slash(tmp_path: Path) -> None:
    """Only a folder group's label ends in ``/``: a lone file group shows its plain path."""
    put(tmp_path, "notes.txt", "old\n", T0)
    put(tmp_path, "notes (1).txt", "new\n", T0 + DAY)
    page = _page(dedupe(tmp_path))
    assert [row[0] for row in page.rows] == ["notes.txt", ""]
    assert [row[4] for row in page.rows] == [
        f"trash \u2192 {TRASH_DIR}/<UTC time>/notes.txt",
        "keep \u2192 becomes notes.txt",
    ]


# --------------------------------------------------------------------------- a refused trash


def test_a_refused_trash_says_on_every_move_why_nothing_moved(tmp_path: Path) -> None:
    """``.colab_bootstrap`` a link: each move is failed with the reason, in the table too."""
    root = tmp_path / "proj"
    put(root, "a.py", "old\n", T0)
    put(root, "a (1).py", "new\n", T0 + DAY)
    elsewhere = tmp_path / "shm"
    elsewhere.mkdir()
    (root / ".colab_bootstrap").symlink_to(elsewhere)

    plan = dedupe(root, apply=True)

    detail = (
        f"nothing was moved: the trash folder {root / TRASH_DIR} is not a real folder of the "
        "project"
    )
    assert [(m.source, m.state, m.detail) for m in plan.moves] == [
        ("a.py", "failed", detail),
        ("a (1).py", "failed", detail),
    ]
    assert [row[4] for row in _page(plan).rows] == [
        f"FAILED: trash \u2192 {TRASH_DIR}/<UTC time>/a.py ({detail})",
        f"FAILED: keep \u2192 becomes a.py ({detail})",
    ]
    assert (root / "a.py").read_text() == "old\n"
    assert os.listdir(elsewhere) == []


# --------------------------------------------------------------------------- names in the trash


def test_a_name_in_the_current_folder_does_not_rename_a_trashed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trashed file keeps its own name: only the trash folder's names count, not the cwd's."""
    root = tmp_path / "proj"
    put(root, "pkg/prep.py", "new\n", T0 + DAY)
    put(root, "pkg/prep (1).py", "old\n", T0)
    cwd = tmp_path / "cwd"
    put(cwd, "prep (1).py", "an unrelated file\n")
    monkeypatch.chdir(cwd)

    plan = dedupe(root, apply=True)

    assert plan.ok
    assert plan.trash is not None
    (move,) = plan.moves
    assert move.target == f"{plan.trash.relative_to(root).as_posix()}/pkg/prep (1).py"
    assert os.listdir(plan.trash / "pkg") == ["prep (1).py"]
    assert (cwd / "prep (1).py").read_text() == "an unrelated file\n"


def test_a_trash_that_cannot_be_listed_still_never_replaces_the_manifest(
    tmp_path: Path,
) -> None:
    """The project's own ``manifest.json`` goes to the trash as ``manifest~1.json``.

    The trash folder cannot be listed (umask 0477: its folders are made write+search only;
    for root the capabilities that ignore modes are dropped meanwhile), so the name already
    taken (by our manifest) is found by looking it up: nothing is refused or replaced.
    """
    root = tmp_path / "proj"
    put(root, "manifest.json", '{"old": true}\n', T0)
    put(root, "manifest (1).json", '{"new": true}\n', T0 + DAY)
    plan = dedupe(root)
    quiet = put(tmp_path, "caps", "")

    old = os.umask(0o477)
    try:
        with denied(quiet, 0o644):
            done = plan.apply()
    finally:
        os.umask(old)
        for folder, _, _ in os.walk(root / ".colab_bootstrap"):
            os.chmod(folder, 0o700)

    assert done.ok, str(done)
    assert done.trash is not None
    assert (done.trash / "manifest.json").stat().st_mode & 0o777 == 0o200  # made under the umask
    where = done.trash.relative_to(root).as_posix()
    assert [(m.source, m.target, m.state, m.detail) for m in done.moves] == [
        ("manifest.json", f"{where}/manifest~1.json", "done", ""),
        ("manifest (1).json", "manifest.json", "done", ""),
    ]
    assert (done.trash / "manifest~1.json").read_text() == '{"old": true}\n'
    assert (root / "manifest.json").read_text() == '{"new": true}\n'
    listed = {str(m["from"]): (m["to"], m["state"]) for m in _manifest_moves(done)}
    assert listed["manifest.json"] == (f"{where}/manifest~1.json", "done")


# --------------------------------------------------------------------------- mid-move changes


def test_a_version_touched_between_its_hash_and_its_move_stays(tmp_path: Path) -> None:
    """Another copy is touched while the first is copied across file systems.

    ``pkg`` is a tmpfs of its own, so trashing a copy is a copy into the project's file
    system; while the first copy is read for it, Drive sync touches the second (new mtime).
    The second was hashed as planned, but is no longer that file just before its rename: it
    stays where it is, and its move says why.
    """
    root = tmp_path / "proj"
    root.mkdir()
    with _tmpfs(root / "pkg", 64 * PAGE):
        put(root, "pkg/prep.py", "newest\n", T0 + DAY)
        first = put(root, "pkg/prep (1).py", "one\n", T0)
        second = put(root, "pkg/prep (2).py", "two\n", T0 - DAY)
        plan = dedupe(root)

        def touch(count: int) -> None:
            if count == 2:  # 1: hashed again before the group moves; 2: read to copy it
                os.utime(second, ns=(T0 + 5 * DAY, T0 + 5 * DAY))

        with _on_open(first, touch) as opens:
            done = bounded(plan.apply, 30)

        assert len(opens) >= 2
        assert done.trash is not None
        states = {m.source: (m.state, m.detail) for m in done.moves}
        assert states == {
            "pkg/prep (1).py": ("done", ""),
            "pkg/prep (2).py": ("failed", "not moved: it changed after it was read again"),
        }
        assert second.read_text() == "two\n"
        assert second.stat().st_mtime_ns == T0 + 5 * DAY
        assert (done.trash / "pkg/prep (1).py").read_text() == "one\n"
        assert not os.path.lexists(first)
        listed = {str(m["from"]): (m["state"], m["detail"]) for m in _manifest_moves(done)}
        assert listed["pkg/prep (2).py"] == (
            "failed",
            "not moved: it changed after it was read again",
        )


def test_a_partial_copy_that_cannot_be_removed_still_reports_the_move(tmp_path: Path) -> None:
    """The copy across file systems does not match, and its folder turned immutable meanwhile.

    While dedupe copies a version into the trash (another file system), Drive sync rewrites it
    (same size) and the trash's ``pkg`` folder becomes immutable, so the partial copy cannot be
    removed. The move is still reported failed, with the first error; the source keeps its
    bytes and the plan comes back (nothing raises).
    """
    root = tmp_path / "proj"
    root.mkdir()
    chattr = subprocess.run(["which", "chattr"], capture_output=True, text=True, check=False)
    if chattr.returncode:
        pytest.skip("needs chattr")
    frozen: list[Path] = []
    with _tmpfs(root / "pkg", 64 * PAGE):
        put(root, "pkg/prep.py", "newest\n", T0 + DAY)
        source = put(root, "pkg/prep (1).py", "synced version 0\n", T0)
        plan = dedupe(root)
        writer = os.open(source, os.O_WRONLY)

        def rewrite_and_freeze(count: int) -> None:
            if count == 3:  # 1: hashed again; 2: hashed before the copy; 3: read to copy it
                os.pwrite(writer, b"synced version 3\n", 0)
                (trash,) = (root / TRASH_DIR).iterdir()
                folder = trash / "pkg"
                done = subprocess.run(["chattr", "+i", str(folder)], check=False)
                if done.returncode == 0:
                    frozen.append(folder)

        try:
            with _on_open(source, rewrite_and_freeze):
                done = bounded(plan.apply, 30)
        finally:
            os.close(writer)
            for folder in frozen:
                subprocess.run(["chattr", "-i", str(folder)], check=True)

        if not frozen:
            pytest.skip("chattr +i is not supported here")
        (move,) = done.moves
        assert (move.source, move.state) == ("pkg/prep (1).py", "failed")
        assert move.detail == "not moved: the copy does not match the original"
        assert source.read_bytes() == b"synced version 3\n"
        assert (root / "pkg/prep.py").read_text() == "newest\n"


# --------------------------------------------------------------------------- sizes, empty plans


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (999, "999 B"),
        (1000, "1.0 kB"),
        (999_999, "1000.0 kB"),
        (1_000_000, "1.0 MB"),
        (2_500_000_000, "2.5 GB"),
        (3_000_000_000_000, "3.0 TB"),
        (5_000_000_000_000_000, "5000.0 TB"),
    ],
)
def test_sizes_are_shown_in_the_unit_a_person_reads(size: int, shown: str) -> None:
    """A plan's size column: bytes below 1000, then kB, MB, GB and TB (never beyond)."""
    group = copy_groups(
        Scan(Path("/p"), ("w.bin", "w (1).bin"), (), (), truncated=False, limit=100)
    )[0]
    old = Version("w.bin", size, T0, "0" * 64)
    new = Version("w (1).bin", size, T0 + DAY, "1" * 64)
    plan = DedupePlan(
        Path("/p"),
        (GroupPlan(group, (old, new), "w (1).bin", (Move("w (1).bin", "w.bin", "keep", new),)),),
        2,
    )
    assert [row[2] for row in _page(plan).rows] == [shown, shown]
    assert f"  {shown:>9}  " in str(plan)


def test_applying_a_plan_with_nothing_to_move_marks_it_applied(tmp_path: Path) -> None:
    """Only reported groups: apply() moves nothing, makes no trash, and says it was applied."""
    put(tmp_path, "runs/a.txt", "1")
    put(tmp_path, "runs (1)/a.txt", "2")
    plan = dedupe(tmp_path)
    assert plan.applied is False
    done = plan.apply()
    assert done.applied is True
    assert done.trash is None
    assert not (tmp_path / ".colab_bootstrap").exists()


@pytest.mark.parametrize(
    ("dirs", "shown"),
    [
        ((), ""),
        (("a", "b", "a/x"), " Run it on each sub-folder in turn (a, b), e.g. "),
        (("a", "b", "c"), " Run it on each sub-folder in turn (a, b, c), e.g. "),
        (("a", "b", "c", "d"), " Run it on each sub-folder in turn (a, b, c, ...), e.g. "),
    ],
)
def test_an_incomplete_walk_names_the_sub_folders_to_run_it_on(
    tmp_path: Path, dirs: tuple[str, ...], shown: str
) -> None:
    """The fix for a walk stopped at its limit: the top sub-folders (three, then ...)."""
    walk = Scan(tmp_path, ("f",), dirs, (), truncated=True, limit=4)
    text = _incomplete(tmp_path, walk)
    assert text.startswith(
        f"incomplete: dedupe looks at no more than 4 files and folders of {tmp_path} in one run"
    )
    if not dirs:
        assert text.endswith(" Split the folder into sub-folders and run dedupe on each.")
    else:
        assert shown in text
        assert text.endswith(dedupe_command(tmp_path / "a"))


# --------------------------------------------------------------------------- the trash folder


def test_the_trash_folder_and_the_manifest_tell_utc_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trash ``<UTC time>`` and the manifest's ``created`` are UTC, whatever the local zone."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30, no daylight saving
    time.tzset()
    try:
        root = tmp_path / "proj"
        put(root, "a.py", "old\n", T0)
        put(root, "a (1).py", "new\n", T0 + DAY)
        before = datetime.now(timezone.utc).replace(microsecond=0)
        plan = dedupe(root, apply=True)
        after = datetime.now(timezone.utc)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert plan.trash is not None
    assert plan.manifest == plan.trash / "manifest.json"
    assert plan.trash.parent == root / TRASH_DIR
    assert re.fullmatch(r"\d{8}T\d{6}Z", plan.trash.name), plan.trash.name
    named = datetime.strptime(plan.trash.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert before <= named <= after
    record = json.loads(plan.manifest.read_text(encoding="utf-8"))
    assert set(record) == {"tool", "root", "trash", "created", "complete", "moves"}
    assert record["tool"] == f"colab_bootstrap {colab_bootstrap.__version__}"
    assert (record["root"], record["trash"]) == (str(root), str(plan.trash))
    created = datetime.fromisoformat(record["created"])
    assert created.utcoffset() == timedelta(0)
    assert before <= created <= after
    assert [(m["from"], m["kind"]) for m in record["moves"]] == [
        ("a.py", "trash"),
        ("a (1).py", "keep"),
    ]
    move = record["moves"][0]
    assert set(move) == {
        "group", "from", "to", "kind", "size", "sha256", "modified", "state", "detail"
    }  # fmt: skip
    assert (move["from"], move["kind"], move["state"]) == ("a.py", "trash", "done")


def test_a_file_where_the_trash_folder_goes_is_named_with_the_error(tmp_path: Path) -> None:
    """``.colab_bootstrap/trash`` is a file: nothing moves and the problem says why (ENOTDIR)."""
    root = tmp_path / "proj"
    put(root, "a.py", "old\n", T0)
    put(root, "a (1).py", "new\n", T0 + DAY)
    put(root, TRASH_DIR, "a file of the user's")
    plan = dedupe(root, apply=True)
    where = root / TRASH_DIR
    assert plan.problems == (
        f"nothing was moved: the trash folder {where} could not be made "
        f"({os.strerror(errno.ENOTDIR)}). Free that path and run dedupe again.",
    )
    detail = f"nothing was moved: the trash folder {where} could not be made"
    assert [(m.state, m.detail) for m in plan.moves] == [("failed", detail)] * 2
    assert (root / TRASH_DIR).read_text() == "a file of the user's"


def test_a_state_folder_mounted_from_another_file_system_is_refused(tmp_path: Path) -> None:
    """``.colab_bootstrap`` a mount (a tmpfs, say): nothing moves, the problem says why."""
    root = tmp_path / "proj"
    put(root, "a.py", "old\n", T0)
    put(root, "a (1).py", "new\n", T0 + DAY)
    with _tmpfs(root / ".colab_bootstrap", 16 * PAGE):
        plan = dedupe(root, apply=True)
        assert os.listdir(root / ".colab_bootstrap") == []
    (problem,) = plan.problems
    assert problem.startswith(
        f"nothing was moved: {root / '.colab_bootstrap'} is on another file system than the "
        "project (a mount?)"
    )
    assert [m.state for m in plan.moves] == ["failed", "failed"]
    assert (root / "a.py").read_text() == "old\n"


# --------------------------------------------------------------------------- lookalike names


NFC = unicodedata.normalize("NFC", "caf\u00e9.py")
NFD = unicodedata.normalize("NFD", "caf\u00e9.py")


@pytest.mark.parametrize("folder", ["", "pkg/"])
def test_a_lookalike_of_the_plain_name_after_the_plan_leaves_the_group(
    tmp_path: Path, folder: str
) -> None:
    """A name that looks like the plain one (its NFD form) appears: nothing moves.

    The lookalike is named with its folder, so the user knows which file to rename.
    """
    root = tmp_path / "proj"
    put(root, f"{folder}{NFC}", "old\n", T0)
    put(root, f"{folder}{NFC[:-3]} (1).py", "new\n", T0 + DAY)
    plan = dedupe(root)
    put(root, f"{folder}{NFD}", "lookalike\n")
    done = plan.apply()
    why = (
        f"not done: {folder}{NFD} appeared, a name that looks like {folder}{NFC}: changed since "
        "the plan was made (Drive sync?); nothing in this group was touched. Run dedupe again."
    )
    assert [(m.state, m.detail) for m in done.moves] == [("failed", why)] * 2
    assert (root / f"{folder}{NFC}").read_text() == "old\n"


def test_several_lookalikes_are_all_named(tmp_path: Path) -> None:
    """Three spellings of one name beside the plain one: each is listed, comma-separated."""
    root = tmp_path / "proj"
    plain = unicodedata.normalize("NFC", "x\u1ec7.py")
    put(root, plain, "old\n", T0)
    put(root, "x\u1ec7 (1).py".replace("\u1ec7", plain[1]), "new\n", T0 + DAY)
    plan = dedupe(root)
    spellings = ["xe\u0323\u0302.py", "xe\u0302\u0323.py", "x\u1eb9\u0302.py"]
    for name in spellings:
        assert unicodedata.normalize("NFC", name) == plain
        put(root, name, "lookalike\n")
    done = plan.apply()
    detail = done.moves[0].detail
    listed = detail.split(" appeared, ")[0].removeprefix("not done: ")
    assert sorted(listed.split(", ")) == sorted(spellings)
    assert (root / plain).read_text() == "old\n"


def test_a_folder_that_cannot_be_listed_before_the_move_leaves_the_group(
    tmp_path: Path,
) -> None:
    """The plain name's folder cannot be listed at apply time: lookalikes cannot be ruled out."""
    root = tmp_path / "proj"
    put(root, "pkg/prep.py", "old\n", T0)
    put(root, "pkg/prep (1).py", "new\n", T0 + DAY)
    plan = dedupe(root)
    with denied(root / "pkg", 0o300):  # search and write, no listing
        done = plan.apply()
    why = (
        "not done: pkg (cannot be listed) appeared, a name that looks like pkg/prep.py: changed "
        "since the plan was made (Drive sync?); nothing in this group was touched. Run dedupe "
        "again."
    )
    assert [(m.state, m.detail) for m in done.moves] == [("failed", why)] * 2
    assert (root / "pkg/prep.py").read_text() == "old\n"
    assert (root / "pkg/prep (1).py").read_text() == "new\n"


# --------------------------------------------------------------------------- moves in a group


def test_a_plain_file_put_back_is_listed_where_it_is(tmp_path: Path) -> None:
    """The newer copy cannot take the plain name: the plain file goes back, and says so.

    Each move's target and state say where the file is now: the put-back plain file at its
    own name (failed: it did not stay in the trash), in the plan and in the manifest.
    """
    root = tmp_path / "proj"
    put(root, "pkg/prep.py", "x = 1\n", T0)
    put(root, "pkg/prep (1).py", "x = 2\n", T0 + 2 * DAY)
    put(root, "pkg/prep (2).py", "x = 0\n", T0 - DAY)
    with chattr(root / "pkg/prep (1).py", "+i"):
        plan = dedupe(root, apply=True)
    pending = f"{TRASH_DIR}/<UTC time>"
    expected = [
        (
            "pkg/prep.py",
            "pkg/prep.py",
            "failed",
            "put back: the newer version could not take its name",
        ),
        (
            "pkg/prep (1).py",
            "pkg/prep.py",
            "failed",
            f"not renamed: {os.strerror(errno.EPERM)}",
        ),
        (
            "pkg/prep (2).py",
            f"{pending}/pkg/prep (2).py",
            "failed",
            "not done: pkg/prep (1).py could not be renamed to pkg/prep.py",
        ),
    ]
    assert [(m.source, m.target, m.state, m.detail) for m in plan.moves] == expected
    listed = [(m["from"], m["to"], m["state"], m["detail"]) for m in _manifest_moves(plan)]
    assert listed == expected
    assert (root / "pkg/prep.py").read_text() == "x = 1\n"
    assert plan.groups[0].status == "not done"


def test_one_stuck_or_vanished_copy_does_not_stop_the_next(tmp_path: Path) -> None:
    """A copy gone before apply is skipped, an immutable one fails; the copies after them move."""
    root = tmp_path / "proj"
    put(root, "prep.py", "old\n", T0)
    put(root, "prep (1).py", "newest\n", T0 + 5 * DAY)
    put(root, "prep (2).py", "two\n", T0 + DAY)
    put(root, "prep (3).py", "three\n", T0 + 2 * DAY)
    put(root, "prep (4).py", "four\n", T0 + 3 * DAY)
    plan = dedupe(root)
    (root / "prep (2).py").unlink()
    with chattr(root / "prep (3).py", "+i"):
        done = plan.apply()
    assert done.trash is not None
    where = done.trash.relative_to(root).as_posix()
    assert [(m.source, m.target, m.state, m.detail) for m in done.moves] == [
        ("prep.py", f"{where}/prep.py", "done", ""),
        ("prep (1).py", "prep.py", "done", ""),
        ("prep (2).py", f"{TRASH_DIR}/<UTC time>/prep (2).py", "skipped",
         "already gone before apply (Drive sync?)"),
        ("prep (3).py", f"{TRASH_DIR}/<UTC time>/prep (3).py", "failed",
         f"not moved: {os.strerror(errno.EPERM)}"),
        ("prep (4).py", f"{where}/prep (4).py", "done", ""),
    ]  # fmt: skip
    assert (root / "prep.py").read_text() == "newest\n"
    assert (root / "prep (3).py").read_text() == "three\n"
    assert (done.trash / "prep (4).py").read_text() == "four\n"
    assert done.groups[0].status == "partly done"


def _plan_without_the_plain_file(root: Path) -> DedupePlan:
    """A plan made while Drive sync removed ``prep.py`` (between its read and its re-check).

    The plain file is opened to be hashed; at that open it is unlinked (fanotify), so the
    check after the read finds it gone and the plan has only the copy, to take the name.
    """
    plain = root / "prep.py"

    def remove(count: int) -> None:
        if count == 1:
            plain.unlink()

    with _on_open(plain, remove):
        plan = bounded(lambda: dedupe(root), 30)
    (group,) = plan.groups
    assert [v.path for v in group.versions] == ["prep (1).py"]
    assert [(m.source, m.target, m.kind) for m in plan.moves] == [
        ("prep (1).py", "prep.py", "keep")
    ]
    assert [row[5] for row in _page(plan).rows] == [""]  # one version: nothing to compare
    assert "\nprep.py: 1 version, no prep.py itself\n" in str(plan)
    return plan


def test_a_plain_file_back_after_a_plan_made_without_it_is_kept(tmp_path: Path) -> None:
    """Drive sync removed the plain file during the plan and brought it back: nothing moves."""
    root = tmp_path / "proj"
    put(root, "prep.py", "old\n", T0)
    put(root, "prep (1).py", "new\n", T0 + DAY)
    plan = _plan_without_the_plain_file(root)
    put(root, "prep.py", "synced\n", T0 + 2 * DAY)
    done = plan.apply()
    ((state, detail),) = [(m.state, m.detail) for m in done.moves]
    assert state == "failed"
    assert detail == (
        "not done: prep.py appeared: changed since the plan was made (Drive sync?); nothing in "
        "this group was touched. Run dedupe again."
    )
    assert (root / "prep.py").read_text() == "synced\n"
    assert (root / "prep (1).py").read_text() == "new\n"


def test_a_copy_that_cannot_take_a_free_name_puts_nothing_back(tmp_path: Path) -> None:
    """No plain file was trashed, so when the copy cannot be renamed nothing is put back."""
    root = tmp_path / "proj"
    put(root, "prep.py", "old\n", T0)
    put(root, "prep (1).py", "new\n", T0 + DAY)
    plan = _plan_without_the_plain_file(root)
    with chattr(root / "prep (1).py", "+i"):
        done = plan.apply()
    assert [(m.state, m.detail) for m in done.moves] == [
        ("failed", f"not renamed: {os.strerror(errno.EPERM)}")
    ]
    assert not os.path.lexists(root / "prep.py")
    assert (root / "prep (1).py").read_text() == "new\n"


def test_a_lookalike_beside_a_plain_file_that_stays_stops_nothing(tmp_path: Path) -> None:
    """The plain file is the newest and keeps its name: a lookalike appearing does not matter."""
    root = tmp_path / "proj"
    put(root, NFC, "newest\n", T0 + DAY)
    put(root, f"{NFC[:-3]} (1).py", "old\n", T0)
    plan = dedupe(root)
    put(root, NFD, "lookalike\n")
    done = plan.apply()
    assert [(m.kind, m.state, m.detail) for m in done.moves] == [("trash", "done", "")]
    assert (root / NFD).read_text() == "lookalike\n"
    assert (root / NFC).read_text() == "newest\n"


def test_a_copy_rewritten_while_it_is_copied_across_is_recorded_as_moved(
    tmp_path: Path,
) -> None:
    """Drive sync rewrites a copy (other size, other time) just as dedupe copies it across.

    The copy matches what was read for it, so the move is done; but it is not what the plan
    hashed, so the move says so and the manifest has the size, time and hash of what moved.
    """
    root = tmp_path / "proj"
    root.mkdir()
    with _tmpfs(root / "pkg", 64 * PAGE):
        put(root, "pkg/prep.py", "newest\n", T0 + DAY)
        source = put(root, "pkg/prep (1).py", "planned\n", T0)
        plan = dedupe(root)
        writer = os.open(source, os.O_WRONLY)
        synced = b"synced by Drive, longer\n"

        def rewrite(count: int) -> None:
            if count == 2:  # 1: hashed again before the group moves; 2: hashed to copy it
                os.pwrite(writer, synced, 0)
                os.utime(source, ns=(T0 + 3 * DAY, T0 + 3 * DAY))

        try:
            with _on_open(source, rewrite):
                done = bounded(plan.apply, 30)
        finally:
            os.close(writer)

        assert done.trash is not None
        (move,) = done.moves
        assert (move.state, move.detail) == (
            "done",
            "changed while it was moved: the manifest has the hash of what moved",
        )
        digest = hashlib.sha256(synced).hexdigest()
        assert (move.version.size, move.version.mtime_ns, move.version.sha256) == (
            len(synced),
            T0 + 3 * DAY,
            digest,
        )
        assert (done.trash / "pkg/prep (1).py").read_bytes() == synced
        assert not os.path.lexists(source)
        (listed,) = _manifest_moves(done)
        assert (listed["size"], listed["sha256"], listed["state"]) == (len(synced), digest, "done")
        assert listed["detail"] == move.detail


def test_the_manifest_says_incomplete_until_the_last_group_is_done(tmp_path: Path) -> None:
    """Read while the second group is about to move: the first group's moves, not complete.

    The record is rewritten after every group; were the process killed there, it must not
    claim to be complete.
    """
    root = tmp_path / "proj"
    put(root, "a.py", "a old\n", T0)
    put(root, "a (1).py", "a new\n", T0 + DAY)
    put(root, "b.py", "b old\n", T0)
    second = put(root, "b (1).py", "b new\n", T0 + DAY)
    plan = dedupe(root)
    seen: list[dict[str, object]] = []

    def read_manifest(count: int) -> None:
        if count == 1:  # group b.py is hashed again, after group a.py moved
            (trash,) = (root / TRASH_DIR).iterdir()
            seen.append(json.loads((trash / "manifest.json").read_text(encoding="utf-8")))

    with _on_open(second, read_manifest):
        done = bounded(plan.apply, 30)

    (record,) = seen
    assert record["complete"] is False
    moves = record["moves"]
    assert isinstance(moves, list)
    assert [(m["from"], m["state"]) for m in moves] == [("a.py", "done"), ("a (1).py", "done")]
    assert _manifest_moves(done)[-1]["from"] == "b (1).py"  # and at the end: complete


# --------------------------------------------------------------------------- _rename's errors


def test_rename_errors_name_the_cause_and_both_paths(tmp_path: Path) -> None:
    """Both renames raise errors with errno, strerror and the paths (what ``dedupe`` reports).

    Without renameat2 (``native`` None: macOS, old C libraries) a taken name is refused
    before renaming; with it, the kernel's error comes with both paths.
    """
    source = put(tmp_path, "a.py", "a\n")
    target = put(tmp_path, "b.py", "b\n")
    with pytest.raises(FileExistsError) as taken:
        _rename(source, target, None)
    assert (taken.value.errno, taken.value.strerror, taken.value.filename) == (
        errno.EEXIST,
        os.strerror(errno.EEXIST),
        str(target),
    )
    native = _renameat2()
    if native is None:
        pytest.skip("no renameat2 in this C library")
    free = tmp_path / "c.py"
    with chattr(source, "+i"), pytest.raises(PermissionError) as stuck:
        _rename(source, free, native)
    error = stuck.value
    assert (error.errno, error.strerror) == (errno.EPERM, os.strerror(errno.EPERM))
    assert (error.filename, error.filename2) == (str(source), str(free))
    assert (source.read_text(), target.read_text()) == ("a\n", "b\n")
    assert not os.path.lexists(free)


# --------------------------------------------------------------------------- the last write


_FAN_EVENT_ON_CHILD = 0x08000000
_FAN_DENY = 0x2


@contextlib.contextmanager
def _deny_an_open_in(folder: Path, nth: int) -> Iterator[list[int]]:
    """Refuse (EPERM) the ``nth`` open of a file in ``folder`` from now on; allow the others.

    A fanotify FAN_OPEN_PERM mark on the folder, for its children: the kernel asks this
    listener before each open and fails the one it denies, as a Drive mount refusing a write.
    """
    group = _fanotify_group(folder, _FAN_OPEN_PERM | _FAN_EVENT_ON_CHILD)
    opens: list[int] = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            if select.select([group], [], [], 0.05)[0]:
                data = os.read(group, 4096)
                offset = 0
                while offset + _EVENT.size <= len(data):
                    length, _, _, _, _, fd, pid = _EVENT.unpack_from(data, offset)
                    opens.append(pid)
                    answer = _FAN_DENY if len(opens) == nth else _FAN_ALLOW
                    os.write(group, _RESPONSE.pack(fd, answer))
                    if fd >= 0:
                        os.close(fd)
                    offset += length

    listener = threading.Thread(target=listen, name="fanotify-deny", daemon=True)
    listener.start()
    try:
        yield opens
    finally:
        stop.set()
        listener.join(10)
        os.close(group)


def test_a_last_manifest_write_that_fails_is_reported_with_the_moves_kept(
    tmp_path: Path,
) -> None:
    """The record is written after the group; the final rewrite (complete) is refused.

    The moves stay done, the plan names the problem and where the files are, and the record
    on disk lists every move but does not claim to be complete.
    """
    root = tmp_path / "proj"
    put(root, "pkg/a.py", "old\n", T0)
    source = put(root, "pkg/a (1).py", "new\n", T0 + DAY)
    plan = dedupe(root)
    with contextlib.ExitStack() as stack:
        denied_opens: list[list[int]] = []

        def guard_the_trash(count: int) -> None:
            if count == 1:  # the group is hashed again: the trash folder exists by now
                (trash,) = (root / TRASH_DIR).iterdir()
                # 1: the group's record is written; 2: the final one, refused.
                denied_opens.append(stack.enter_context(_deny_an_open_in(trash, 2)))

        with _on_open(source, guard_the_trash):
            done = bounded(plan.apply, 30)

    (opens,) = denied_opens
    assert len(opens) == 2
    assert done.trash is not None
    assert done.problems == (
        f"the manifest could not be written ({os.strerror(errno.EPERM)}); the moved files are "
        f"in {done.trash} under their own paths",
    )
    assert not done.ok
    assert [m.state for m in done.moves] == ["done", "done"]
    assert (root / "pkg/a.py").read_text() == "new\n"
    assert (done.trash / "pkg/a.py").read_text() == "old\n"
    record = json.loads((done.trash / "manifest.json").read_text(encoding="utf-8"))
    assert record["complete"] is False
    assert [(m["from"], m["state"]) for m in record["moves"]] == [
        ("pkg/a.py", "done"),
        ("pkg/a (1).py", "done"),
    ]
    assert os.listdir(done.trash / "pkg") == ["a.py"]


# --------------------------------------------------------------------------- the text summary


def test_the_headline_counts_what_moves_and_what_did_not(tmp_path: Path) -> None:
    """The first line counts the files to trash, the moves not done and the groups reported.

    Groups are separated by one empty line; a copy equal to the kept one says so.
    """
    root = tmp_path / "proj"
    put(root, "a.py", "old\n", T0)
    put(root, "a (1).py", "new\n", T0 + 2 * DAY)
    put(root, "a (2).py", "new\n", T0 + DAY)
    put(root, "runs/x.txt", "1")
    put(root, "runs (1)/x.txt", "2")
    plan = dedupe(root)
    head = f"colab_bootstrap.dedupe {root}: "
    command = dedupe_command(root)
    lines = str(plan).split("\n")
    assert lines[0] == (
        f"{head}dry run: 1 group(s) of copies, 2 file(s) would move to the trash; nothing was "
        "changed; 1 group(s) only reported"
    )
    assert lines[1:3] == ["", "a.py: 3 versions, contents differ"]
    assert [_page(plan).rows[i][5] for i in range(3)] == ["differs", "newest", "same as kept"]
    assert lines[-4:] == [
        "",
        "runs/: folder copies are never merged: compare them and move what you need by hand",
        "",
        f"to apply: colab_bootstrap.dedupe(..., apply=True), plan.apply(), or {command}",
    ]
    with chattr(root / "a (2).py", "+i"):
        done = plan.apply()
    assert done.trash is not None
    lines = str(done).split("\n")
    assert lines[0] == (
        f"{head}applied: 1 file(s) moved to the trash; 1 move(s) NOT done (nothing was lost); "
        "1 group(s) only reported"
    )
    assert lines[-2:] == ["", f"trash: {done.trash} (every move is listed in manifest.json there)"]


def test_a_refused_apply_shows_only_the_problem_below_the_groups(tmp_path: Path) -> None:
    """No trash was made: no trash line, and no 'to apply' line (it was applied)."""
    root = tmp_path / "proj"
    put(root, "a.py", "old\n", T0)
    put(root, "a (1).py", "new\n", T0 + DAY)
    put(root, ".colab_bootstrap", "a file where our folder goes")
    plan = dedupe(root, apply=True)
    (problem,) = plan.problems
    lines = str(plan).split("\n")
    assert lines[0] == (
        f"colab_bootstrap.dedupe {root}: applied: 0 file(s) moved to the trash; 2 move(s) NOT "
        "done (nothing was lost)"
    )
    assert lines[-2:] == ["", problem]
    assert [p for p in _page(plan).top if p == "p"] == ["p"]


def test_an_incomplete_walk_says_so_in_the_headline(tmp_path: Path) -> None:
    """A plan whose walk stopped at its limit says how far it got, even with nothing found."""
    plan = DedupePlan(tmp_path, (), 7, truncated=True)
    assert str(plan).split("\n")[0] == (
        f"colab_bootstrap.dedupe {tmp_path}: no Drive copies found (7 entries walked); "
        "INCOMPLETE: the walk stopped at its limit after 7 entries, so copies beyond them were "
        "not seen"
    )
    assert not plan.ok
