"""dedupe() and the Drive copy rules: never a byte lost, on real files, renames and devices."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap import DedupePlan, ProjectNotFoundError, dedupe
from colab_bootstrap._cli import main
from colab_bootstrap._copies import copy_groups, copy_of
from colab_bootstrap._dedupe import TRASH_DIR, _rename, _renameat2, _timestamp, dedupe_command
from colab_bootstrap._scan import Scan, scan
from conftest import T0, chattr, denied, put

DAY = 86_400 * 10**9


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root (trash included): relative path -> (content, mtime)."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            found[path.relative_to(root).as_posix()] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def _contents(root: Path, manifest: Path | None = None) -> Counter[bytes]:
    """The multiset of file contents under root, our manifest left out."""
    skip = manifest.relative_to(root).as_posix() if manifest else None
    return Counter(content for rel, (content, _) in _snapshot(root).items() if rel != skip)


def _project(root: Path) -> Path:
    """A project with one group whose newest version is a copy, and unrelated files."""
    put(root, "pkg/prep.py", "x = 1\n", T0)
    put(root, "pkg/prep (1).py", "x = 2\n", T0 + 2 * DAY)
    put(root, "pkg/prep (2).py", "x = 1\n", T0 - DAY)
    put(root, "train.py", "import pkg.prep\n")
    return root


# --------------------------------------------------------------------------- grouping


def test_copy_groups_reads_names_only() -> None:
    """Groups come from the walk's names alone: the files need not even exist on disk."""
    walk = Scan(
        root=Path("/nonexistent/project"),
        files=(
            "prep.py",
            "prep (1).py",
            "prep (2).py",
            "prep (10).py",
            "pkg/x (1).csv",
            "a (1) (1).py",
            "notes(1).txt",
            "model (2).tar.gz",
        ),
        dirs=("pkg", "data", "data (1)"),
        pycache_dirs=(),
        truncated=False,
        limit=100,
    )
    groups = {group.plain: group for group in copy_groups(walk)}
    assert set(groups) == {"prep.py", "pkg/x.csv", "a.py", "data", "model.tar.gz"}
    assert groups["prep.py"].copies == ("prep (1).py", "prep (2).py", "prep (10).py")
    assert groups["prep.py"].plain_exists
    assert not groups["pkg/x.csv"].plain_exists
    assert groups["a.py"].copies == ("a (1) (1).py",)
    assert groups["data"].is_folder
    assert "never merged" in str(groups["data"])
    assert str(groups["pkg/x.csv"]) == "pkg/x.csv: x (1).csv (no x.csv itself)"


def test_copy_groups_skip_git_caches_and_our_trash(tmp_path: Path) -> None:
    """Copies inside .git, __pycache__, .ipynb_checkpoints and the trash are not grouped."""
    for folder in (".git", "__pycache__", ".ipynb_checkpoints", TRASH_DIR):
        put(tmp_path, f"{folder}/a (1).py", "x")
    put(tmp_path, "b (1).py", "x")
    assert [group.plain for group in copy_groups(scan(tmp_path))] == ["b.py"]


def test_a_name_in_parentheses_is_no_copy(tmp_path: Path) -> None:
    """'report (final).py' beside 'report.py' is a file of its own: never grouped or moved."""
    put(tmp_path, "report.py", "a", T0)
    put(tmp_path, "report (final).py", "b", T0 + DAY)
    before = _snapshot(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.groups == ()
    assert _snapshot(tmp_path) == before


def test_dedupe_command_quotes_the_folder() -> None:
    """The fix command survives spaces in the Drive path."""
    assert dedupe_command("/x/My Drive/p") == "colab-bootstrap dedupe '/x/My Drive/p' --apply"


# --------------------------------------------------------------------------- planning


def test_dry_run_changes_nothing_and_explains_the_decision(tmp_path: Path) -> None:
    """The default plan moves nothing and shows sizes, times, the decision and a diff."""
    _project(tmp_path)
    before = _snapshot(tmp_path)
    plan = dedupe(tmp_path)
    assert _snapshot(tmp_path) == before
    assert not plan.applied
    assert plan.ok
    (group,) = plan.groups
    assert group.keep == "pkg/prep (1).py"
    assert group.status == "planned"
    assert not group.identical
    assert [(m.source, m.kind) for m in plan.moves] == [
        ("pkg/prep.py", "trash"),
        ("pkg/prep (1).py", "keep"),
        ("pkg/prep (2).py", "trash"),
    ]
    text = str(plan)
    assert "dry run" in text
    assert "keep \u2192 becomes prep.py" in text
    assert "6 B" in text
    assert "2023-11-16 22:13:20 UTC" in text
    assert "differs" in text
    assert "+x = 2" in text
    assert dedupe_command(tmp_path) in text
    page = plan._repr_html_()
    assert "<table" in page
    assert "<details>" in page
    assert "+x = 2" in page


def test_identical_copies_collapse_onto_the_plain_name(tmp_path: Path) -> None:
    """A newer byte-identical copy is simply trashed; the plain file is not rewritten."""
    plain = put(tmp_path, "utils.py", "same\n", T0)
    put(tmp_path, "utils (1).py", "same\n", T0 + DAY)
    plan = dedupe(tmp_path, apply=True)
    (group,) = plan.groups
    assert group.identical
    assert group.keep == "utils.py"
    assert [(m.source, m.kind, m.state) for m in plan.moves] == [("utils (1).py", "trash", "done")]
    assert plain.stat().st_mtime_ns == T0
    assert "all identical" in str(plan)


def test_a_lone_copy_is_listed_and_left_alone(tmp_path: Path) -> None:
    """With no plain file, Drive did not make the name: listed, never renamed or trashed."""
    put(tmp_path, "data/labels (1).csv", "a,b\n")
    plan = dedupe(tmp_path, apply=True)
    assert (tmp_path / "data/labels (1).csv").read_text() == "a,b\n"
    assert not (tmp_path / "data/labels.csv").exists()
    assert plan.moves == ()
    assert not (tmp_path / ".colab_bootstrap").exists()
    assert "not Drive copies, not moved (no labels.csv itself)" in str(plan)


def test_big_binary_versions_show_sizes_but_no_diff(tmp_path: Path) -> None:
    """Large or binary versions are compared by hash only: sizes in kB, 'differs', no diff."""
    put(tmp_path, "models/weights.bin", b"\x00" * 70_000, T0)
    put(tmp_path, "models/weights (1).bin", b"\x01" * 70_000, T0 + DAY)
    plan = dedupe(tmp_path)
    (group,) = plan.groups
    assert group.group.plain == "models/weights.bin"
    assert group.diffs == ()
    text = str(plan)
    assert "70.0 kB" in text
    assert "differs" in text
    assert "diff " not in text


def test_a_clean_project_plans_nothing(tmp_path: Path) -> None:
    """Without copies the plan says so, moves nothing and makes no trash folder."""
    put(tmp_path, "a.py", "a")
    plan = dedupe(tmp_path, apply=True)
    assert plan.groups == ()
    assert "no Drive copies found (1 entries walked)" in str(plan)
    assert not (tmp_path / ".colab_bootstrap").exists()


def test_folder_copies_are_reported_never_merged(tmp_path: Path) -> None:
    """'data (1)/' stays exactly as it is; the plan says to merge it by hand."""
    put(tmp_path, "data/a.csv", "1")
    put(tmp_path, "data (1)/a.csv", "2")
    before = _snapshot(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert _snapshot(tmp_path) == before
    assert plan.ok
    assert plan.moves == ()
    assert [g.status for g in plan.groups] == ["reported"]
    assert "never merged" in str(plan)
    assert "nothing to move" in str(plan)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_links_and_special_files_are_left_alone(tmp_path: Path) -> None:
    """A symlink or a named pipe in a group is never read or moved; the group is reported."""
    put(tmp_path, "a.py", "a")
    (tmp_path / "a (1).py").symlink_to(tmp_path / "a.py")
    put(tmp_path, "b.py", "b")
    os.mkfifo(tmp_path / "b (1).py")
    plan = dedupe(tmp_path, apply=True)
    assert plan.moves == ()
    assert all("left alone" in group.note for group in plan.groups)
    assert (tmp_path / "a (1).py").is_symlink()
    assert stat.S_ISFIFO(os.lstat(tmp_path / "b (1).py").st_mode)


def test_text_that_is_not_utf8_is_compared_without_a_diff(tmp_path: Path) -> None:
    """Latin-1 versions (text, but not UTF-8) are told apart by hash; no diff is attempted."""
    put(tmp_path, "notes.txt", "café = 1\n".encode("latin-1"), T0)
    put(tmp_path, "notes (1).txt", "café = 2\n".encode("latin-1"), T0 + DAY)
    plan = dedupe(tmp_path)
    (group,) = plan.groups
    assert group.keep == "notes (1).txt"
    assert group.diffs == ()
    assert "differs" in str(plan)
    assert "diff " not in str(plan)


def test_an_unreadable_version_leaves_its_group_alone(tmp_path: Path) -> None:
    """A version that cannot be read is never moved: its group is only reported, with why."""
    _project(tmp_path)
    put(tmp_path, "ok.py", "1", T0)
    put(tmp_path, "ok (1).py", "2", T0 + DAY)
    with denied(tmp_path / "pkg/prep (2).py"):
        plan = dedupe(tmp_path, apply=True)
    assert plan.ok
    statuses = {group.group.plain: group.status for group in plan.groups}
    assert statuses == {"pkg/prep.py": "reported", "ok.py": "done"}
    assert "pkg/prep (2).py cannot be read (Permission denied); left alone" in str(plan)
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 1\n"
    assert (tmp_path / "pkg/prep (1).py").read_text() == "x = 2\n"
    assert (tmp_path / "pkg/prep (2).py").read_text() == "x = 1\n"


def test_odd_groups_read_right_as_text_and_html(tmp_path: Path) -> None:
    """A lone copy, a folder copy and megabyte files each show plainly; only files are moved."""
    put(tmp_path, "data/labels (1).csv", "a,b\n")
    put(tmp_path, "runs/a.txt", "1")
    put(tmp_path, "runs (1)/a.txt", "2")
    put(tmp_path, "big.bin", b"\x00" * 1_500_000, T0)
    put(tmp_path, "big (1).bin", b"\x01" * 1_500_000, T0 + DAY)
    plan = dedupe(tmp_path)
    text = str(plan)
    assert "data/labels.csv: not Drive copies, not moved (no labels.csv itself)" in text
    assert "1.5 MB" in text
    page = plan._repr_html_()
    assert "runs/" in page
    assert "never merged" in page
    done = plan.apply()
    assert done.ok
    assert done.manifest is not None
    record = json.loads(done.manifest.read_text())
    assert {move["group"] for move in record["moves"]} == {"big.bin"}
    assert (tmp_path / "data/labels (1).csv").read_text() == "a,b\n"
    assert (tmp_path / "runs (1)/a.txt").read_text() == "2"


def test_default_folder_is_the_project_set_up(mydrive: Path) -> None:
    """dedupe() with no argument cleans the folder setup() wired in this process."""
    put(mydrive / "proj", "m (1).py", "x")
    colab_bootstrap.setup("proj", gpu="ignore", autoreload=False)
    plan = dedupe()
    assert plan.root == mydrive / "proj"
    assert [g.group.plain for g in plan.groups] == ["m.py"]


def test_without_a_project_the_error_names_what_to_pass() -> None:
    """No path and no setup(): a ProjectNotFoundError saying how to call it."""
    with pytest.raises(ProjectNotFoundError, match=r"dedupe\('/content/drive/MyDrive/"):
        dedupe()


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    """A path that is not a folder raises before anything is touched."""
    with pytest.raises(ProjectNotFoundError, match="does not exist"):
        dedupe(tmp_path / "nope")
    put(tmp_path, "file.py", "x")
    with pytest.raises(ProjectNotFoundError, match="is not a folder"):
        dedupe(tmp_path / "file.py", apply=True)


# --------------------------------------------------------------------------- applying


def test_apply_keeps_the_newest_and_trashes_the_rest_with_a_manifest(tmp_path: Path) -> None:
    """The newest content ends at the plain name; the rest are in the trash, hashed in JSON."""
    _project(tmp_path)
    before = _contents(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok
    assert plan.applied
    assert plan.trash is not None
    assert plan.manifest is not None
    assert plan.trash.parent == tmp_path / TRASH_DIR
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 2\n"
    assert (tmp_path / "pkg/prep.py").stat().st_mtime_ns == T0 + 2 * DAY
    assert (plan.trash / "pkg/prep.py").read_text() == "x = 1\n"
    assert (plan.trash / "pkg/prep (2).py").read_text() == "x = 1\n"
    assert _contents(tmp_path, plan.manifest) == before
    record = json.loads(plan.manifest.read_text())
    assert record["complete"] is True
    assert len(record["moves"]) == 3
    for move in record["moves"]:
        assert move["state"] == "done"
        data = (tmp_path / move["to"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == move["sha256"]
        assert len(data) == move["size"]
    assert "applied: 2 file(s) moved to the trash" in str(plan)
    assert str(plan.trash) in str(plan)


def test_applying_twice_is_safe(tmp_path: Path) -> None:
    """An applied plan applies as itself; a new dedupe finds nothing to move."""
    _project(tmp_path)
    plan = dedupe(tmp_path)
    done = plan.apply()
    snapshot = _snapshot(tmp_path)
    assert done.apply() is done
    again = dedupe(tmp_path, apply=True)
    assert again.moves == ()
    assert again.trash is None
    assert _snapshot(tmp_path) == snapshot


def test_unicode_and_spaces_in_names(tmp_path: Path) -> None:
    """Names with accents, CJK characters and spaces are grouped, kept and trashed intact."""
    put(tmp_path, "données.py", "old", T0)
    put(tmp_path, "données (1).py", "new", T0 + DAY)
    put(tmp_path, "my notes/日本語.csv", "old", T0)
    put(tmp_path, "my notes/日本語 (1).csv", "only", T0 + DAY)
    put(tmp_path, "my notes/read me.txt", "a", T0 + DAY)
    put(tmp_path, "my notes/read me (1).txt", "b", T0)
    before = _contents(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok
    assert plan.trash is not None
    assert plan.manifest is not None
    assert (tmp_path / "données.py").read_text() == "new"
    assert (tmp_path / "my notes/日本語.csv").read_text() == "only"
    assert (tmp_path / "my notes/read me.txt").read_text() == "a"
    assert (plan.trash / "données.py").read_text() == "old"
    assert (plan.trash / "my notes/read me (1).txt").read_text() == "b"
    assert _contents(tmp_path, plan.manifest) == before
    assert '"from": "my notes/日本語 (1).csv"' in plan.manifest.read_text(encoding="utf-8")


def test_read_only_files_are_moved_intact(tmp_path: Path) -> None:
    """A read-only version is renamed like any other, keeping its bytes and its mode."""
    _project(tmp_path)
    (tmp_path / "pkg/prep (1).py").chmod(0o444)
    (tmp_path / "pkg/prep (2).py").chmod(0o444)
    before = _contents(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok
    assert plan.trash is not None
    assert plan.manifest is not None
    assert stat.S_IMODE((tmp_path / "pkg/prep.py").stat().st_mode) == 0o444
    assert stat.S_IMODE((plan.trash / "pkg/prep (2).py").stat().st_mode) == 0o444
    assert _contents(tmp_path, plan.manifest) == before


def test_a_read_only_folder_fails_the_group_and_loses_nothing(tmp_path: Path) -> None:
    """Moves out of a read-only folder fail; every file stays in place and the plan says so."""
    _project(tmp_path)
    put(tmp_path, "ok.py", "1", T0)
    put(tmp_path, "ok (1).py", "2", T0 + DAY)
    before = _contents(tmp_path)
    with denied(tmp_path / "pkg", 0o555):  # no renames out of it, root included
        plan = dedupe(tmp_path, apply=True)
    assert not plan.ok
    assert plan.manifest is not None
    statuses = {group.group.plain: group.status for group in plan.groups}
    assert statuses == {"pkg/prep.py": "not done", "ok.py": "done"}
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 1\n"
    assert (tmp_path / "pkg/prep (1).py").read_text() == "x = 2\n"
    assert _contents(tmp_path, plan.manifest) == before
    assert "NOT done" in str(plan)


def test_a_copy_that_vanishes_before_apply_is_skipped(tmp_path: Path) -> None:
    """Drive sync removed a copy between plan and apply: the rest is done, nothing else lost."""
    _project(tmp_path)
    plan = dedupe(tmp_path)
    (tmp_path / "pkg/prep (2).py").unlink()
    before = _contents(tmp_path)
    done = plan.apply()
    assert done.ok
    assert done.manifest is not None
    states = {move.source: move.state for move in done.moves}
    assert states == {
        "pkg/prep.py": "done",
        "pkg/prep (1).py": "done",
        "pkg/prep (2).py": "skipped",
    }
    assert "already gone" in str(done)
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 2\n"
    assert _contents(tmp_path, done.manifest) == before


def test_a_kept_version_that_vanishes_leaves_its_group_untouched(tmp_path: Path) -> None:
    """The chosen version is gone at apply time: its group is not done, other groups are."""
    _project(tmp_path)
    put(tmp_path, "ok.py", "1", T0)
    put(tmp_path, "ok (1).py", "2", T0 + DAY)
    plan = dedupe(tmp_path)
    (tmp_path / "pkg/prep (1).py").unlink()
    before = _snapshot(tmp_path)
    done = plan.apply()
    assert not done.ok
    assert done.manifest is not None
    statuses = {group.group.plain: group.status for group in done.groups}
    assert statuses == {"pkg/prep.py": "not done", "ok.py": "done"}
    after = _snapshot(tmp_path)
    for rel in ("pkg/prep.py", "pkg/prep (2).py"):
        assert after[rel] == before[rel]
    assert "changed since the plan" in str(done)
    assert "NOT done" in str(done)
    record = json.loads(done.manifest.read_text())
    assert {m["state"] for m in record["moves"] if m["group"] == "pkg/prep.py"} == {"failed"}


def test_a_version_edited_after_the_plan_leaves_its_group_untouched(tmp_path: Path) -> None:
    """A file that changed since the plan may now be the newest: nothing in its group moves."""
    _project(tmp_path)
    plan = dedupe(tmp_path)
    put(tmp_path, "pkg/prep.py", "x = 3  # edited\n", T0 + 5 * DAY)
    before = _snapshot(tmp_path)
    done = plan.apply()
    assert [group.status for group in done.groups] == ["not done"]
    after = {k: v for k, v in _snapshot(tmp_path).items() if not k.startswith(".colab_bootstrap")}
    assert after == before


def test_a_plain_name_that_reappears_is_never_overwritten(tmp_path: Path) -> None:
    """Drive sync brings back the plain file after the plan: both files are kept."""
    put(tmp_path, "cfg (1).yaml", "mine")
    plan = dedupe(tmp_path)
    put(tmp_path, "cfg.yaml", "synced")
    plan.apply()
    assert (tmp_path / "cfg.yaml").read_text() == "synced"
    assert (tmp_path / "cfg (1).yaml").read_text() == "mine"


def test_a_blocked_trash_moves_nothing_and_says_why(tmp_path: Path) -> None:
    """When the trash folder cannot be made, no file moves and the problem names the path."""
    _project(tmp_path)
    put(tmp_path, ".colab_bootstrap", "a file where our folder should be")
    before = _snapshot(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert not plan.ok
    assert _snapshot(tmp_path) == before
    assert plan.trash is None
    assert "could not be made" in plan.problems[0]
    assert all(move.state == "failed" for move in plan.moves)
    assert "NOT done" in str(plan)


def test_a_user_file_named_like_the_manifest_gets_its_own_name(tmp_path: Path) -> None:
    """Trashing a project's own manifest.json does not clobber ours, nor ours it."""
    put(tmp_path, "manifest.json", '{"mine": 1}', T0)
    put(tmp_path, "manifest (1).json", '{"mine": 2}', T0 + DAY)
    before = _contents(tmp_path)
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok
    assert plan.trash is not None
    assert plan.manifest == plan.trash / "manifest.json"
    assert (plan.trash / "manifest~1.json").read_text() == '{"mine": 1}'
    assert (tmp_path / "manifest.json").read_text() == '{"mine": 2}'
    record = json.loads(plan.manifest.read_text())
    assert record["moves"][0]["to"].endswith("/manifest~1.json")
    assert _contents(tmp_path, plan.manifest) == before


def test_a_trash_folder_from_the_same_second_is_not_reused(tmp_path: Path) -> None:
    """Earlier trash folders with the same timestamp stay untouched; a fresh one is made."""
    _project(tmp_path)
    now = datetime.now(timezone.utc)
    taken = [tmp_path / TRASH_DIR / _timestamp(now + timedelta(seconds=s)) for s in range(6)]
    for folder in taken:
        put(folder, "pkg/prep.py", "earlier trash")
    plan = dedupe(tmp_path, apply=True)
    assert plan.ok
    assert plan.trash is not None
    assert plan.trash not in taken
    assert plan.trash.name.endswith("-2")
    for folder in taken:
        assert (folder / "pkg/prep.py").read_text() == "earlier trash"
    assert (plan.trash / "pkg/prep.py").read_text() == "x = 1\n"


def test_a_folder_turned_into_a_file_after_the_plan_leaves_its_group_alone(
    tmp_path: Path,
) -> None:
    """Drive sync put a file where the planned versions' folder was: that group is not done."""
    _project(tmp_path)
    put(tmp_path, "ok.py", "1", T0)
    put(tmp_path, "ok (1).py", "2", T0 + DAY)
    plan = dedupe(tmp_path)
    (tmp_path / "pkg").rename(tmp_path / "pkg.synced")
    put(tmp_path, "pkg", "a file now")
    done = plan.apply()
    assert not done.ok
    statuses = {group.group.plain: group.status for group in done.groups}
    assert statuses == {"pkg/prep.py": "not done", "ok.py": "done"}
    assert "changed since the plan" in str(done)
    assert (tmp_path / "pkg").read_text() == "a file now"
    assert sorted(os.listdir(tmp_path / "pkg.synced")) == ["prep (1).py", "prep (2).py", "prep.py"]


def test_a_move_that_fails_stops_only_what_depends_on_it(tmp_path: Path) -> None:
    """A copy stuck in place stops no other move; a stuck plain file stops its whole group."""
    put(tmp_path, "a.py", "a newest", T0 + 3 * DAY)
    put(tmp_path, "a (1).py", "a one", T0)
    put(tmp_path, "a (2).py", "a two", T0 + DAY)
    put(tmp_path, "b.py", "b old", T0)
    put(tmp_path, "b (1).py", "b newest", T0 + 3 * DAY)
    put(tmp_path, "b (2).py", "b oldest", T0 - DAY)
    with chattr(tmp_path / "a (1).py", "+i"), chattr(tmp_path / "b.py", "+i"):
        plan = dedupe(tmp_path, apply=True)
    moves = {move.source: move for move in plan.moves}
    assert (moves["a (1).py"].state, moves["a (2).py"].state) == ("failed", "done")
    assert "not moved: Operation not permitted" in moves["a (1).py"].detail
    statuses = {group.group.plain: group.status for group in plan.groups}
    assert statuses == {"a.py": "partly done", "b.py": "not done"}
    assert moves["b (1).py"].detail == "not done: b.py could not be moved aside"
    assert moves["b (2).py"].state == "failed"
    assert (tmp_path / "a (1).py").read_text() == "a one"
    for name, text in (("b.py", "b old"), ("b (1).py", "b newest"), ("b (2).py", "b oldest")):
        assert (tmp_path / name).read_text() == text


def test_a_newest_version_that_cannot_take_the_name_puts_the_old_one_back(
    tmp_path: Path,
) -> None:
    """The plain file goes back to its name when the newer copy cannot be renamed to it."""
    _project(tmp_path)
    before = _snapshot(tmp_path)
    with chattr(tmp_path / "pkg/prep (1).py", "+i"):
        plan = dedupe(tmp_path, apply=True)
    assert not plan.ok
    assert plan.trash is not None
    (group,) = plan.groups
    assert group.status == "not done"
    details = {move.source: move.detail for move in plan.moves}
    assert details["pkg/prep.py"] == "put back: the newer version could not take its name"
    assert "not renamed: Operation not permitted" in details["pkg/prep (1).py"]
    assert "could not be renamed to pkg/prep.py" in details["pkg/prep (2).py"]
    after = {k: v for k, v in _snapshot(tmp_path).items() if not k.startswith(".colab_bootstrap")}
    assert after == before
    assert not (plan.trash / "pkg/prep.py").exists()


@contextlib.contextmanager
def _file_size_limit(size: int) -> Iterator[None]:
    """Let this process write no file beyond ``size`` bytes (``ulimit -f``), as a full disk."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_a_manifest_that_cannot_be_written_loses_no_move(tmp_path: Path) -> None:
    """The disk fills after the trash is made: every move is still done, the plan says where."""
    long = "x" * 150
    put(tmp_path, f"{long}.py", "old", T0)
    put(tmp_path, f"{long} (1).py", "new", T0 + DAY)
    put(tmp_path, f"{long} (2).py", "older", T0 - DAY)
    before = _contents(tmp_path)
    with _file_size_limit(2 * len(str(tmp_path)) + 400):  # the empty manifest fits, no more
        plan = dedupe(tmp_path, apply=True)
    assert not plan.ok
    assert plan.trash is not None
    assert plan.manifest is not None
    assert plan.problems == (
        f"the manifest could not be written (File too large); the moved files are in "
        f"{plan.trash} under their own paths",
    )
    assert [move.state for move in plan.moves] == ["done", "done", "done"]
    assert (tmp_path / f"{long}.py").read_text() == "new"
    assert _contents(tmp_path, plan.manifest) == before
    assert json.loads(plan.manifest.read_text())["moves"] == []
    assert set(os.listdir(plan.trash)) == {f"{long} (2).py", f"{long}.py", "manifest.json"}
    assert "NOT done (nothing was lost)" in str(plan)


def test_rename_never_replaces_an_existing_file(tmp_path: Path) -> None:
    """The move primitive refuses an occupied target and leaves both files as they were."""
    source = put(tmp_path, "a", "source")
    target = put(tmp_path, "b", "target")
    with pytest.raises(FileExistsError):
        _rename(source, target, _renameat2())
    assert source.read_text() == "source"
    assert target.read_text() == "target"


def test_the_portable_rename_never_replaces_either(tmp_path: Path) -> None:
    """Where renameat2 is missing (macOS, Windows, old C libraries) the move is just as safe."""
    source = put(tmp_path, "a", "source")
    target = put(tmp_path, "b", "target")
    with pytest.raises(FileExistsError):
        _rename(source, target, None)
    assert target.read_text() == "target"
    _rename(source, tmp_path / "c", None)
    assert (tmp_path / "c").read_text() == "source"
    assert not source.exists()


def test_the_portable_rename_never_turns_a_refused_rename_into_a_copy(tmp_path: Path) -> None:
    """A rename the file system refuses (not a cross-device one) raises and writes nothing."""
    source = put(tmp_path, "held/a.py", "source")
    (tmp_path / "inbox").mkdir()
    with chattr(tmp_path / "held", "+i"), chattr(tmp_path / "inbox", "+a"):
        with pytest.raises(PermissionError):
            _rename(source, tmp_path / "inbox/a.py", None)
        assert os.listdir(tmp_path / "inbox") == []
    assert source.read_text() == "source"


def test_rename_across_file_systems_copies_verifies_and_keeps_times(tmp_path: Path) -> None:
    """Between devices (tmp and /dev/shm) a move is an exclusive, verified copy, then a delete."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        source = put(tmp_path, "a.bin", b"\x00\x01" * 1000, T0)
        source.chmod(0o640)
        occupied = put(Path(other), "taken.bin", "keep me")
        with pytest.raises(FileExistsError):
            _rename(source, occupied, _renameat2())
        assert occupied.read_text() == "keep me"
        target = Path(other) / "a.bin"
        _rename(source, target, _renameat2())
        assert not source.exists()
        assert target.read_bytes() == b"\x00\x01" * 1000
        assert target.stat().st_mtime_ns == T0
        assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.parametrize("portable", [False, True], ids=["renameat2", "portable"])
def test_a_move_across_file_systems_that_cannot_finish_leaves_no_copy(
    tmp_path: Path, portable: bool
) -> None:
    """Between devices, a source that cannot be removed (read-only folder) keeps no twin."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system")
    native = None if portable else _renameat2()
    with tempfile.TemporaryDirectory(dir=shm) as other:
        moved = put(tmp_path, "a.bin", b"moved", T0)
        _rename(moved, Path(other) / "a.bin", native)
        assert (Path(other) / "a.bin").read_bytes() == b"moved"
        assert not moved.exists()
        stuck = put(tmp_path, "held/b.bin", b"stays", T0)
        with chattr(tmp_path / "held", "+i"), pytest.raises(PermissionError):
            _rename(stuck, Path(other) / "b.bin", native)
        assert stuck.read_bytes() == b"stays"
        assert not (Path(other) / "b.bin").exists()
    with pytest.raises(FileNotFoundError):
        _rename(tmp_path / "gone", tmp_path / "c", native)


# --------------------------------------------------------------------------- property


STEMS = ("prep", "my data", "données", "日本", "a.b", "x")
EXTS = (".py", ".txt", ".tar.gz", "")
FOLDERS = ("", "pkg", "pkg/sub dir", "ünï")
CONTENTS = (b"", b"x = 1\n", b"x = 2\n", b"\x00\xff binary", "é\n".encode())


@st.composite
def _groups(draw: st.DrawFn) -> list[tuple[str, dict[str, tuple[bytes, int]]]]:
    """Copy groups: (plain path, {member path: (content, mtime)}), plain names unique."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(FOLDERS), st.sampled_from(STEMS), st.sampled_from(EXTS)),
            min_size=1,
            max_size=5,
            unique_by=lambda key: f"{key[0]}/{key[1]}{key[2]}",
        )
    )
    groups = []
    for folder, stem, ext in keys:
        prefix = f"{folder}/" if folder else ""
        # What Drive makes: the plain name and copies numbered (1)..(k), a copy of a copy
        # only beside the copy it copies.
        count = draw(st.integers(min_value=1, max_value=3))
        suffixes = [f" ({number})" for number in range(1, count + 1)]
        if draw(st.booleans()):
            suffixes.append(" (1) (1)")
        names = [f"{stem}{ext}", *(f"{stem}{suffix}{ext}" for suffix in suffixes)]
        members = {
            prefix + name: (
                draw(st.sampled_from(CONTENTS)),
                T0 + draw(st.integers(min_value=0, max_value=3)) * DAY,
            )
            for name in names
        }
        groups.append((f"{prefix}{stem}{ext}", members))
    return groups


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(groups=_groups())
def test_apply_keeps_every_byte_and_leaves_no_copies(
    groups: list[tuple[str, dict[str, tuple[bytes, int]]]],
) -> None:
    """Random trees: contents are conserved, plain names hold the newest, nothing is left to do."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        put(root, "unrelated.py", "u")
        for _, members in groups:
            for path, (content, mtime) in members.items():
                put(root, path, content, mtime)
        before = _contents(root)

        plan = dedupe(root, apply=True)

        assert plan.ok, str(plan)
        assert _contents(root, plan.manifest) == before
        for plain, members in groups:
            newest = max(mtime for _, mtime in members.values())
            newest_contents = {c for c, mtime in members.values() if mtime == newest}
            assert (root / plain).read_bytes() in newest_contents
        assert not [f for f in scan(root).files if copy_of(f.rpartition("/")[2])]
        assert dedupe(root).moves == ()


# --------------------------------------------------------------------------- command line


def test_cli_plans_by_default_and_applies_with_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`colab-bootstrap dedupe PATH` prints the plan; `--apply` carries it out; both exit 0."""
    _project(tmp_path)
    before = _snapshot(tmp_path)
    assert main(["dedupe", str(tmp_path)]) == 0
    assert "dry run" in capsys.readouterr().out
    assert _snapshot(tmp_path) == before
    assert main(["dedupe", str(tmp_path), "--apply"]) == 0
    assert "applied" in capsys.readouterr().out
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 2\n"


def test_cli_exit_codes_for_failure_and_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A part-way failure and a missing folder exit 1; unknown options exit 2."""
    _project(tmp_path)
    put(tmp_path, ".colab_bootstrap", "blocks the trash")
    assert main(["dedupe", str(tmp_path), "--apply"]) == 1
    assert "NOT done" in capsys.readouterr().out
    assert main(["dedupe", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["dedupe", str(tmp_path), "--force"])
    assert info.value.code == 2


def test_cli_in_a_subprocess_defaults_to_the_current_folder(tmp_path: Path) -> None:
    """`python -m colab_bootstrap dedupe --apply` in the project folder resolves its copies."""
    _project(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "colab_bootstrap", "dedupe", "--apply"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "applied: 2 file(s) moved to the trash" in proc.stdout
    assert (tmp_path / "pkg/prep.py").read_text() == "x = 2\n"


def test_public_names() -> None:
    """The names dedupe and DedupePlan are importable from the package."""
    assert colab_bootstrap.dedupe is dedupe
    assert colab_bootstrap.DedupePlan is DedupePlan
    assert {"dedupe", "DedupePlan"} <= set(colab_bootstrap.__all__)
