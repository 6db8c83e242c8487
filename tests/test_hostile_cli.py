"""The command line against hostile input: every outcome is an exit status and one line.

Exit statuses are the CLI's contract (0 ok, 1 a failure, 2 a bad argument); a traceback is a
bug. The subprocess cases run the real entry point (``python -m colab_bootstrap``) with a
timeout, so a hang fails the test instead of stopping the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colab_bootstrap._cli import main
from conftest import tree_digest

BOUND_S = 60.0


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m colab_bootstrap ARGS`` offline, with a bound."""
    environment = {**os.environ, "COLAB_BOOTSTRAP_NO_UPDATE_CHECK": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "colab_bootstrap", *args],
        capture_output=True,
        text=True,
        timeout=BOUND_S,
        env=environment,
        check=False,
    )


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    folder = tmp_path / "My Drive"
    (folder / "proj").mkdir(parents=True)
    (folder / "proj" / "prep.py").write_text("X = 1\n")
    return folder


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        (["setup", "x" * 300], 2, "255 bytes"),
        (["setup", "proj", "--link-name", "a/b"], 2, "link_name must be one plain file name"),
        (["setup", "proj", "--link-name", "z" * 300], 2, "link_name"),
        (["setup", "proj", "--mount-timeout", "nan"], 2, "mount_timeout must be"),
        (["setup", "proj", "--mount-timeout", "-1"], 2, "mount_timeout must be"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(
    drive: Path, tmp_path: Path, args: list[str], status: int, words: str
) -> None:
    """Bad values get exit 2 and the error's text; nothing is created."""
    before = tree_digest(tmp_path)
    content = tmp_path / "content"
    result = cli(*args, "--drive", str(drive), "--gpu", "ignore", "--content-dir", str(content))
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert words in result.stderr
    assert tree_digest(tmp_path) == before


def test_a_content_dir_that_is_a_file_is_an_error_not_a_traceback(
    drive: Path, tmp_path: Path
) -> None:
    """``--content-dir`` naming a file: one line naming the fix, the file untouched."""
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    result = cli(
        "setup", "proj", "--drive", str(drive), "--gpu", "ignore", "--content-dir", str(taken)
    )
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert taken.read_text() == "mine\n"


def test_doctor_json_stays_whole_with_hostile_files(drive: Path, tmp_path: Path) -> None:
    """FIFOs, a 1 GB sparse include and a deep notebook: the JSON is complete and parses."""
    project = drive / "proj"
    os.mkfifo(project / "pipe.py")
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: costs no disk
    (project / "requirements.txt").write_text(f"-r {huge}\n")
    depth = 100_000
    (project / "deep.ipynb").write_text('{"cells": ' + "[" * depth + "]" * depth + "}")
    result = cli("doctor", "proj", "--drive", str(drive), "--offline", "--json")
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    names = [check["name"] for check in report["checks"]]
    assert "Requirements and updates" in names
    assert all("itself failed" not in check["summary"] for check in report["checks"])


def test_doctor_markdown_carries_no_personal_names(tmp_path: Path) -> None:
    """The CLI's --markdown block, with a quote in the home folder and an account folder."""
    home = tmp_path / "home" / "o'brien"
    drive = home / "Library" / "CloudStorage" / "GoogleDrive-jane@gmail.com" / "My Drive"
    (drive / "proj").mkdir(parents=True)
    (drive / "proj" / "prep.py").write_text("X = 1\n")
    (drive / "proj" / "prep (1).py").write_text("X = 2\n")
    result = cli("doctor", "proj", "--drive", str(drive), "--markdown", env={"HOME": str(home)})
    assert "Traceback" not in result.stderr
    assert "<My Drive>" in result.stdout
    for personal in ("brien", "jane", "gmail.com"):
        assert personal not in result.stdout


_ARGUMENT = st.one_of(
    st.text(st.characters(codec="utf-8", min_codepoint=1), max_size=300),
    st.sampled_from(["..", ".", "/", "My Drive/proj", "MyDrive/proj", "proj/", "-", "--"]),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(project=_ARGUMENT, link=st.one_of(st.none(), _ARGUMENT))
def test_any_project_and_link_name_give_an_exit_status(
    drive: Path, tmp_path: Path, project: str, link: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``setup`` with any name either works or exits 1/2 with an error line; never raises."""
    content = tmp_path / "content"
    args = ["setup", project, "--drive", str(drive), "--gpu", "ignore"]
    args += ["--content-dir", str(content)]
    if link is not None:
        args += ["--link-name", link]
    if project.startswith("-") or (link or "").startswith("-"):
        args.insert(1, "--")  # argparse reads a leading '-' as an option
        args = ["setup", "--drive", str(drive), "--gpu", "ignore", "--content-dir", str(content)]
        args += [*(["--link-name=" + link] if link is not None else []), "--", project]
    try:
        status = main(args)
    except SystemExit as exit_:  # argparse's own refusal of the command line
        status = exit_.code if isinstance(exit_.code, int) else 2
    err = capsys.readouterr().err
    assert status in (0, 1, 2)
    if status:
        assert "error" in err
