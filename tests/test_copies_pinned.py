"""Issue 17 (mutation testing): Drive's ``name (N)`` copy rules and the module hash, pinned.

Which copies ``drive_copies`` hands to ``stale()`` (none where the plain name is listed in two
Unicode forms) and in Drive's order (by copy number, not by text), how a group of several copies
is printed, and which file a too-large module's error names. The mutants each test kills are
listed in docs/testing.md.
"""

from __future__ import annotations

import errno
import unicodedata
from pathlib import Path

import pytest

from colab_bootstrap import dedupe
from colab_bootstrap._copies import copy_groups, drive_copies
from colab_bootstrap._importhook import hash_file
from colab_bootstrap._scan import Scan, scan

NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


@pytest.mark.parametrize("plain", [f"{NFC}.py", f"{NFD}.py"])
def test_a_plain_name_listed_in_two_unicode_forms_gets_no_copies(plain: str) -> None:
    """``café.py`` listed in NFC and in NFD: which one a copy belongs to is unknown, so none."""
    listing = [f"{NFC}.py", f"{NFD}.py", f"{NFC} (1).py", "other.py", "other (1).py"]
    assert drive_copies(listing, [plain, "other.py"]) == {"other.py": ("other (1).py",)}
    # One spelling of the plain name only: its copy is found, whichever form the module has.
    single = [f"{NFD}.py", f"{NFC} (1).py"]
    assert drive_copies(single, [plain]) == {plain: (f"{NFC} (1).py",)}


def test_drive_copies_come_in_drive_order_by_number_not_by_text() -> None:
    """``prep (2).py`` before ``prep (10).py``: stale() names the first of equally new copies."""
    copies = [f"prep ({n}).py" for n in range(1, 11)]
    listing = ["prep.py", *reversed(copies), "prep (1) (1).py"]
    found = drive_copies(listing, ["prep.py"])
    assert found == {"prep.py": ("prep (1).py", "prep (1) (1).py", *copies[1:])}


def test_a_group_of_several_copies_lists_each_copy_once_by_its_name() -> None:
    """What doctor() and dedupe() print for a group: the copies' names, comma-separated."""
    walk = Scan(
        root=Path("/nonexistent"),
        files=("prep.py", "prep (2).py", "prep (1).py", "pkg/x.csv", "pkg/x (1).csv"),
        dirs=("pkg",),
        pycache_dirs=(),
        truncated=False,
        limit=100,
    )
    printed = [str(group) for group in copy_groups(walk)]
    assert printed == ["pkg/x.csv: x (1).csv", "prep.py: prep (1).py, prep (2).py"]


def test_a_module_over_the_size_limit_is_named_in_its_error(tmp_path: Path) -> None:
    """EFBIG from hash_file names the file: stale() shows it in the "unreadable" line."""
    path = tmp_path / "big.py"
    path.write_bytes(b"x = 1\n" * 4)
    with pytest.raises(OSError, match="not read to the end") as raised:
        hash_file(str(path), limit=10)
    assert raised.value.errno == errno.EFBIG
    assert raised.value.filename == str(path)
    assert str(path) in str(raised.value)


def test_two_forms_of_one_name_are_named_and_a_folder_copy_finds_its_folder() -> None:
    """The reason names both spellings (which to rename); ``data (1)/`` sits beside ``data/``."""
    walk = Scan(
        root=Path("/nonexistent"),
        files=(f"{NFC}.py", f"{NFD}.py", f"{NFC} (1).py"),
        dirs=("data", "data (1)"),
        pycache_dirs=(),
        truncated=False,
        limit=100,
    )
    groups = {group.plain: group for group in copy_groups(walk)}
    cafe = groups[f"{NFD}.py"]  # the first spelling in sorted order
    assert not cafe.movable
    forms = f"{NFD + '.py'!a}, {NFC + '.py'!a}"
    assert cafe.reason == f"one name in two Unicode forms: {forms}"
    assert groups["data"].is_folder
    assert groups["data"].plain_exists


@pytest.mark.parametrize(
    ("folder", "file"),
    [("data", "data (1)"), ("data (1)", "data")],
    ids=["plain-is-a-folder", "copy-is-a-folder"],
)
def test_a_group_with_a_folder_on_either_side_is_never_merged(
    tmp_path: Path, folder: str, file: str
) -> None:
    """``data/`` beside a file ``data (1)`` (or the other way round): listed, nothing moves."""
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "inside.txt").write_text("kept")
    (tmp_path / file).write_text("a file")
    (group,) = copy_groups(scan(tmp_path))
    assert group.is_folder
    plan = dedupe(tmp_path, apply=True)
    assert plan.moves == ()
    assert "folder copies are never merged" in str(plan)
    assert (tmp_path / folder / "inside.txt").read_text() == "kept"
    assert (tmp_path / file).read_text() == "a file"
