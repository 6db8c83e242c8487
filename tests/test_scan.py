"""The shared bounded walk: skips, limits, symlink loops."""

from __future__ import annotations

from pathlib import Path

from colab_bootstrap._scan import scan
from conftest import denied


def _tree(root: Path) -> None:
    for rel in ("a.py", "pkg/__init__.py", "pkg/sub/m.py", ".git/config", "pkg/__pycache__/x.pyc"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")


def test_scan_lists_files_and_skips_caches(tmp_path: Path) -> None:
    """Files are relative with '/', .git is skipped, __pycache__ is reported, not walked."""
    _tree(tmp_path)
    result = scan(tmp_path)
    assert set(result.files) == {"a.py", "pkg/__init__.py", "pkg/sub/m.py"}
    assert result.pycache_dirs == ("pkg/__pycache__",)
    assert not result.truncated
    assert result.entries == 5


def test_scan_stops_at_the_limit_and_says_so(tmp_path: Path) -> None:
    """A limit of 2 entries truncates and flags it."""
    _tree(tmp_path)
    result = scan(tmp_path, limit=2)
    assert result.truncated
    assert result.entries == 2


def test_scan_does_not_follow_symlink_loops(tmp_path: Path) -> None:
    """A folder link back to the root is a file-like entry, not a loop."""
    _tree(tmp_path)
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)
    result = scan(tmp_path)
    assert "pkg/loop" in result.files
    assert not result.truncated


def test_folders_that_cannot_be_listed_are_skipped(tmp_path: Path) -> None:
    """An unreadable folder is skipped, its siblings walked; a vanished root is an empty walk."""
    _tree(tmp_path)
    with denied(tmp_path / "pkg" / "sub"):
        result = scan(tmp_path)
    assert set(result.files) == {"a.py", "pkg/__init__.py"}
    assert "pkg/sub" in result.dirs
    gone = scan(tmp_path / "vanished")
    assert (gone.files, gone.dirs, gone.truncated) == ((), (), False)


def test_copy_of_recognises_drive_sync_copies() -> None:
    """'prep (1).py' is a copy of 'prep.py'; folders and multi-dot names work; others are not."""
    from colab_bootstrap._copies import copy_of

    assert copy_of("prep (1).py") == ("prep.py", 1)
    assert copy_of("prep (12).py") == ("prep.py", 12)
    assert copy_of("data (1)") == ("data", 1)
    assert copy_of("my model (2).tar.gz") == ("my model.tar.gz", 2)
    assert copy_of("a (1) b.py") is None
    assert copy_of("prep.py") is None
    assert copy_of("prep (0).py") is None
    assert copy_of("prep(1).py") is None
