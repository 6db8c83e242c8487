"""reset() when the project goes away or turns hostile under it, and reset() with odd flags.

A project folder deleted, renamed or replaced by a file between calls is a report, never an
exception: stale() says the files are gone, reset() keeps the old modules and lists why.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import ProjectNotFoundError
from conftest import bounded


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    """A project set up through a link, with a module and a package imported from it."""
    folder = tmp_path / "drive" / "proj"
    (folder / "vanishing_pkg").mkdir(parents=True)
    (folder / "vanishing_mod.py").write_text("VALUE = 1\n")
    (folder / "vanishing_pkg" / "__init__.py").write_text("OTHER = 2\n")
    colab_bootstrap.setup(
        "proj",
        drive_dir=tmp_path / "drive",
        content_dir=tmp_path / "links",
        gpu="ignore",
        autoreload=False,
    )
    import vanishing_mod  # type: ignore[import-not-found]  # noqa: F401
    import vanishing_pkg  # type: ignore[import-not-found]  # noqa: F401

    return folder


def _vanish(folder: Path, how: str) -> None:
    if how == "deleted":
        shutil.rmtree(folder)
    elif how == "renamed":
        folder.rename(folder.with_name("proj_old"))
    else:
        shutil.rmtree(folder)
        folder.write_text("a file where the project was\n")


@pytest.mark.parametrize("how", ["deleted", "renamed", "a file"])
def test_stale_and_reset_report_a_project_that_went_away(imported: Path, how: str) -> None:
    """Nothing raises: stale() lists the files as deleted, reset() keeps the old modules."""
    old = sys.modules["vanishing_mod"]
    _vanish(imported, how)
    found = {item.name: item.reason for item in colab_bootstrap.stale()}
    assert found == {"vanishing_mod": "deleted", "vanishing_pkg": "deleted"}
    report = colab_bootstrap.reset()
    assert not report.ok
    assert {failure.module for failure in report.failed} == {"vanishing_mod", "vanishing_pkg"}
    assert sys.modules["vanishing_mod"] is old  # the notebook keeps the code it had
    with pytest.raises(ProjectNotFoundError):
        colab_bootstrap.setup(
            "proj",
            drive_dir=imported.parent,
            content_dir=imported.parent.parent / "links",
            gpu="ignore",
            autoreload=False,
        )


@pytest.mark.parametrize(
    ("flag", "value"), [("hard", "no"), ("hard", None), ("remount", "yes"), ("remount", [])]
)
def test_reset_refuses_a_flag_that_is_not_true_or_false(
    imported: Path, flag: str, value: object
) -> None:
    """reset(hard="no") is a ValueError naming the flag, not a restart; nothing is dropped."""
    old = sys.modules["vanishing_mod"]
    with pytest.raises(ValueError, match=f"{flag} must be True or False"):
        colab_bootstrap.reset(**{flag: value})  # type: ignore[arg-type]
    assert sys.modules["vanishing_mod"] is old


def test_reset_takes_zero_and_one_as_flags(imported: Path) -> None:
    """0 and 1 are False and True (as bool() would read them): reset runs as usual."""
    report = colab_bootstrap.reset(remount=0, hard=0)  # type: ignore[arg-type]
    assert report.ok
    assert report.reimported == ("vanishing_mod", "vanishing_pkg")


@pytest.mark.parametrize("how", ["fifo", "link to /dev/zero"])
def test_reset_with_a_module_file_that_cannot_be_read_keeps_the_old_module(
    imported: Path, tmp_path: Path, how: str
) -> None:
    """A FIFO or a device where a module was: no blocking read, the old module stays.

    The failure says why; the other module is re-imported.
    """
    old = sys.modules["vanishing_mod"]
    target = imported / "vanishing_mod.py"
    target.unlink()
    if how == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/zero")
    report = bounded(colab_bootstrap.reset, 20)
    assert isinstance(report, colab_bootstrap.ResetReport)
    assert not report.ok
    assert [failure.module for failure in report.failed] == ["vanishing_mod"]
    assert sys.modules["vanishing_mod"] is old
    assert "vanishing_pkg" in report.reimported
