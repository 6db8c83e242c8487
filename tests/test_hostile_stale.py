"""stale() against hostile module files: special files, huge files, files that vanish.

stale() promises a list, never an exception, in bounded time: each module file is opened only
when it is a regular file, read at most to a cap, and anything else is a reason in the list.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import StaleModule
from conftest import bounded

BOUND_S = 20.0


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    """A project set up without a link, with two modules imported from it."""
    folder = tmp_path / "drive" / "proj"
    folder.mkdir(parents=True)
    (folder / "hostile_a.py").write_text("VALUE = 1\n")
    (folder / "hostile_b.py").write_text("VALUE = 2\n")
    colab_bootstrap.setup("proj", drive_dir=tmp_path / "drive", gpu="ignore", autoreload=False)
    import hostile_a  # type: ignore[import-not-found]  # noqa: F401
    import hostile_b  # type: ignore[import-not-found]  # noqa: F401

    return folder


def _stale() -> list[StaleModule]:
    """stale(), failing the test instead of hanging it."""
    return bounded(colab_bootstrap.stale, BOUND_S)


def _replace(path: Path, how: str, tmp_path: Path) -> None:
    path.unlink()
    if how == "fifo":
        os.mkfifo(path)
    elif how == "link to a fifo":
        os.mkfifo(tmp_path / "fifo")
        path.symlink_to(tmp_path / "fifo")
    elif how == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif how == "folder":
        path.mkdir()
    elif how == "1 GB":
        with open(path, "wb") as handle:
            handle.truncate(1 << 30)  # sparse: costs no disk


@pytest.mark.parametrize("how", ["fifo", "link to a fifo", "link to /dev/zero", "folder", "1 GB"])
def test_a_module_file_replaced_by_something_unreadable_is_listed(
    imported: Path, tmp_path: Path, how: str
) -> None:
    """Never opened for a blocking or endless read: 'unreadable' with the reason.

    The other module is still compared.
    """
    _replace(imported / "hostile_a.py", how, tmp_path)
    (imported / "hostile_b.py").write_text("VALUE = 3\n")
    found = {item.name: item for item in _stale()}
    assert set(found) == {"hostile_a", "hostile_b"}
    assert found["hostile_a"].reason == "unreadable"
    expected = "larger than 64 MiB" if how == "1 GB" else "not a regular file"
    if how == "folder":
        expected = "Is a directory"
    assert expected in found["hostile_a"].detail
    assert found["hostile_b"].reason == "changed"


def test_every_module_is_compared_whatever_happened_to_the_first(
    imported: Path, tmp_path: Path
) -> None:
    """One deleted and one unreadable module do not stop the comparison of the others."""
    (imported / "hostile_a.py").unlink()
    (imported / "hostile_b.py").write_text("VALUE = 9\n")
    reasons = {item.name: item.reason for item in _stale()}
    assert reasons == {"hostile_a": "deleted", "hostile_b": "changed"}


def test_numbered_names_drive_did_not_make_are_not_newer_copies(imported: Path) -> None:
    """``hostile_a (2023).py`` beside ``hostile_a.py`` is the user's own file, not a copy."""
    odd = imported / "hostile_a (2023).py"
    odd.write_text("VALUE = 'mine'\n")
    later = (imported / "hostile_a.py").stat().st_mtime_ns + 10**9
    os.utime(odd, ns=(later, later))
    assert _stale() == []
    odd.unlink()  # beside an odd number, no name of the group counts as Drive's
    copy = imported / "hostile_a (1).py"
    copy.write_text("VALUE = 'synced'\n")
    os.utime(copy, ns=(later, later))
    assert [item.reason for item in _stale()] == ["newer copy"]
