"""The command line reads like a command line: flags in messages, quiet pipes, honest notes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap._cli import main
from colab_bootstrap._session import SESSION
from conftest import FakeColab


def test_errors_name_flags_not_keywords(
    mydrive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing folder says --create, a taken link path --content-dir, and 'run ... again'."""
    assert main(["setup", "nothere", "--gpu", "ignore"]) == 1
    err = capsys.readouterr().err
    assert "pass --create to make an empty folder" in err
    assert "create=True" not in err
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    (links / "p").mkdir(parents=True)
    assert main(["setup", "p", "--content-dir", str(links), "--gpu", "ignore"]) == 1
    err = capsys.readouterr().err
    assert (
        "pass --link-name another name or --content-dir another folder, then run the command again"
        in err
    )
    assert "content_dir=" not in err
    assert "re-run" not in err
    link_q = ["--link-name", "q"]
    assert main(["setup", "p", "--content-dir", str(links), "--gpu", "ignore", *link_q]) == 0
    assert (links / "q").resolve() == (mydrive / "p").resolve()


def test_no_drive_names_the_drive_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Off Colab without Drive, the fix is --drive (not drive_dir=)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["setup", "p", "--gpu", "ignore"]) == 1
    err = capsys.readouterr().err
    assert "--drive '/path/to/My Drive'" in err
    assert "drive_dir" not in err


def test_mount_errors_name_flags_on_colab(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Colab's mount failures get their fix in the command line's words too."""
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "failed")
    args = ["setup", "p", "--gpu", "ignore", "--mountpoint", str(fake_colab.mountpoint)]
    assert main([*args, "--content-dir", str(fake_colab.content)]) == 1
    err = capsys.readouterr().err
    assert "mount failed" in err
    assert "Run the command again; if it keeps failing" in err


def test_the_python_words_come_back_after_the_command(
    mydrive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """main() speaks the command line's language only while it runs."""
    assert main(["setup", "nothere", "--gpu", "ignore"]) == 1
    capsys.readouterr()
    assert SESSION.surface == "python"
    with pytest.raises(colab_bootstrap.ProjectNotFoundError, match=r"pass create=True"):
        colab_bootstrap.setup("nothere", gpu="ignore")


def test_setup_says_autoreload_does_not_apply(
    mydrive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a shell there is no notebook to reload in: it says so, not 'off'."""
    (mydrive / "p").mkdir()
    assert main(["setup", "p", "--gpu", "ignore"]) == 0
    out = capsys.readouterr().out
    assert "autoreload   does not apply (not running in IPython)" in out
    assert "autoreload=False" not in out
    assert "not checked (--gpu ignore)" in out


def test_doctor_says_what_it_cannot_see(mydrive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """From a terminal, doctor cannot see the notebook: stderr says so and what to run there."""
    (mydrive / "p").mkdir()
    assert main(["doctor", "p", "--offline", "--markdown"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("### colab_bootstrap doctor")
    assert "cannot see a notebook's state" in captured.err
    assert "print(colab_bootstrap.doctor().markdown())" in captured.err


@pytest.mark.parametrize("command", [["doctor", "p", "--offline"], ["--help"], ["snippet", "p"]])
def test_a_closed_pipe_ends_quietly(command: list[str], mydrive: Path, tmp_path: Path) -> None:
    """`colab-bootstrap ... | head` with the reader gone: no BrokenPipeError traceback."""
    (mydrive / "p").mkdir()
    with subprocess.Popen(
        [sys.executable, "-m", "colab_bootstrap", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.close()  # the reader goes away before anything is written
        _, err_bytes = proc.communicate(timeout=60)
    err = err_bytes.decode()
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
