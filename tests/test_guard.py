"""The session-wide guard: a run that makes anything outside its temporary folders fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import TESTS, listings, made_since, watched_folders

PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def test_the_watched_folders_are_where_forgotten_paths_land() -> None:
    """/content, the mount point, ~/.cache (byte-code), the repository: all watched."""
    watched = watched_folders()
    home = os.path.expanduser("~")
    cache = os.path.join(home, ".cache")
    for folder in ("/", "/content", "/content/drive", home, cache, f"{cache}/colab_bootstrap"):
        assert folder in watched
    assert str(TESTS.parent) in watched


def test_made_since_names_new_folders_and_new_names_only(tmp_path: Path) -> None:
    """A folder that appeared, a name added: reported; caches of the run itself: not."""
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "old.txt").write_text("")
    absent = tmp_path / "content"
    before = listings((str(kept), str(absent)))
    assert before == {str(kept): frozenset({"old.txt"}), str(absent): None}
    assert made_since(before) == []
    (kept / "new.txt").write_text("")
    (kept / "__pycache__").mkdir()
    (kept / ".coverage.host.1.2").write_text("")
    (absent / "drive").mkdir(parents=True)
    assert made_since(before) == [str(absent) + os.sep, str(kept / "new.txt")]


def _inner_run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Run one test with this suite's conftest as a plugin, HOME and cwd in tmp_path."""
    home, work = tmp_path / "home", tmp_path / "work"
    (home / ".cache/colab_bootstrap/pycache/tmp").mkdir(parents=True)  # from an earlier run
    work.mkdir()
    (work / "test_inner.py").write_text(textwrap.dedent(body))
    env = {
        **os.environ,
        "HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        # Its own --basetemp: two runs sharing pytest's folder race in each other's cleanup.
        [
            *PYTEST,
            "-p",
            "conftest",
            f"--rootdir={work}",
            f"--basetemp={tmp_path / 't'}",
            "test_inner.py",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("body", "stray"),
    [
        ("import os\ndef test_forgot_a_path():\n    os.mkdir(os.path.expanduser('~/x'))\n", "x"),
        (
            "import os\ndef test_forgot_a_path():\n"
            "    os.makedirs(os.path.expanduser('~/.cache/colab_bootstrap/pycache/tmp/p'))\n",
            "pycache/tmp/p",
        ),
        ("def test_forgot_a_path():\n    open('notes.txt', 'w').close()\n", "notes.txt"),
    ],
    ids=["home", "deep-in-the-bytecode-folder", "current-folder"],
)
def test_a_run_that_writes_outside_its_temporary_folders_fails(
    tmp_path: Path, body: str, stray: str
) -> None:
    """The inner test passes on its own; the guard fails the run and names what it made."""
    result = _inner_run(tmp_path, body)
    assert result.returncode != 0, result.stdout
    assert "1 passed" in result.stdout
    assert "made these outside its temporary folders" in result.stdout
    assert stray in result.stdout.split("temporary folders", 1)[1]


def test_a_run_that_keeps_to_tmp_path_passes_and_ipython_stays_out_of_home(
    tmp_path: Path,
) -> None:
    """Writing under tmp_path is fine; IPython's profile goes to the run's folder, not ~."""
    result = _inner_run(
        tmp_path,
        """
        import os
        def test_keeps_to_tmp(tmp_path):
            (tmp_path / "a.txt").write_text("x")
            assert not os.environ["IPYTHONDIR"].startswith(os.path.expanduser("~"))
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.listdir(tmp_path / "home") == [".cache"]
