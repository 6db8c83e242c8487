"""Issue 17: what users would notice, each pinned by a test that fails on a mutant of it.

Every test drives the public code path (``setup()``, ``reset()``, ``stale()``...) on real files,
real FUSE mounts of the fake Colab, a real IPython shell and a real executable on PATH. The
mutants each test kills are listed in docs/testing.md.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import colab_bootstrap
from colab_bootstrap import DriveMountError
from conftest import (
    IPYTHON_PRELUDE,
    FakeColab,
    fresh_session,
    nvidia_data,
    write_fake_nvidia_smi,
)

# ---------------------------------------------------------------------------------------------
# Issue 17, point 1: each mount failure gets its own fix, not just "Re-run the cell"
# ---------------------------------------------------------------------------------------------

#: The words that tell each fix apart: every mapped case's own, and the fallback's.
MOUNT_FIXES = {
    "timeout": "Drive did not finish mounting: Colab gave up after",
    "sign-in refused": "The Google sign-in pop-up was closed or refused.",
    "browser silent": "The browser did not answer Colab's request for Drive access.",
    "fallback": (
        "Re-run the cell; if it keeps failing, Runtime > Disconnect and delete runtime, then "
        "run the notebook again."
    ),
}


def _mount_error(fake: FakeColab, **kwargs: object) -> str:
    """The text of the DriveMountError that setup() raises on the fake Colab."""
    with pytest.raises(DriveMountError) as caught:
        colab_bootstrap.setup(
            "proj",
            mountpoint=fake.mountpoint,
            content_dir=fake.content,
            gpu="ignore",
            **kwargs,  # type: ignore[arg-type]
        )
    return str(caught.value)


def _only_fix(text: str, case: str) -> None:
    """``text`` holds the fix of ``case`` and no other case's."""
    assert MOUNT_FIXES[case] in text
    others = [other for other in MOUNT_FIXES if other != case and MOUNT_FIXES[other] in text]
    assert others == [], f"{case}: also the fix of {others}: {text}"


# Issue 17, point 1
def test_a_hung_drive_names_the_mount_timeout_and_how_to_wait_longer(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hang (pexpect's TIMEOUT): the fix names the mount timeout given and mount_timeout=."""
    fake_colab.project("proj")
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "hang")
    monkeypatch.setenv("FAKE_COLAB_EXPECT_SLACK_S", "-1")  # pexpect gives up after 2 - 1 s
    text = _mount_error(fake_colab, mount_timeout=2)
    _only_fix(text, "timeout")
    assert "(its limit is the mount timeout, 2 s, plus 30 s)" in text
    assert text.endswith("To wait longer, pass mount_timeout=300.")


# Issue 17, point 1
def test_a_refused_sign_in_says_to_allow_access(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MessageError "credential propagation was unsuccessful": the pop-up was refused."""
    fake_colab.project("proj")
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "auth")
    text = _mount_error(fake_colab)
    _only_fix(text, "sign-in refused")
    assert "(MessageError: Error: credential propagation was unsuccessful)" in text
    assert "allow access for the account that holds the project" in text


# Issue 17, point 1
def test_another_browser_error_says_to_answer_the_pop_up(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other MessageError from the browser is not called a refused sign-in."""
    fake_colab.project("proj")
    monkeypatch.setenv("FAKE_COLAB_BROWSER_ERROR", "Error: the request timed out")
    text = _mount_error(fake_colab)
    _only_fix(text, "browser silent")
    assert "(MessageError: Error: the request timed out)" in text
    assert "answer the sign-in pop-up" in text


# Issue 17, point 1
def test_an_unknown_mount_failure_gets_the_fallback_fix_only(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unmapped failure, pexpect's EOF (bash gone; pexpect's but no TIMEOUT): the fallback."""
    import pexpect  # the real pexpect, as drive.mount uses it

    fake_colab.project("proj")
    from google.colab import drive  # the fake: its mount fails the way pexpect would

    def bash_went_away(*args: object, **kwargs: object) -> None:
        raise pexpect.exceptions.EOF("End Of File (EOF). Exception style platform.")

    monkeypatch.setattr(drive, "mount", bash_went_away)
    text = _mount_error(fake_colab)
    _only_fix(text, "fallback")
    assert text.endswith(
        "(EOF: End Of File (EOF). Exception style platform.). " + MOUNT_FIXES["fallback"]
    )


# ---------------------------------------------------------------------------------------------
# Issue 17, point 3: setup(autoreload=False) leaves autoreload alone, also on a re-run
# ---------------------------------------------------------------------------------------------


#: A notebook in a fresh interpreter (IPython 7 finds its extensions through a sys.path entry it
#: adds when first imported, which the in-process tests' isolation would take away again): the
#: setup() cells given as arguments, then what each returned and autoreload's state after it.
AUTORELOAD_SCRIPT = (
    IPYTHON_PRELUDE
    + """
drive, calls = sys.argv[1], sys.argv[2:]
cell("import colab_bootstrap")
seen, projects = [], []
for call in calls:
    project = cell(f"colab_bootstrap.setup('proj', drive_dir={drive!r}, gpu='ignore'{call})")
    loaded = set(shell.extension_manager.loaded)
    seen.append({
        "autoreload": project.autoreload,
        "loaded": bool(loaded & {"autoreload", "IPython.extensions.autoreload"}),
        "doctor": cell("colab_bootstrap.doctor(network=False)['Autoreload'].summary"),
        "same as before": any(project is earlier for earlier in projects),
    })
    projects.append(project)
print(json.dumps(seen))
"""
)


def notebook_run(tmp_path: Path, script: str, *args: str) -> Any:
    """Run ``script`` (cells in a fresh IPython shell) with a Drive folder holding ``proj``.

    Its arguments are ``<tmp_path>/drive`` then ``args``; it prints JSON on its last line,
    which is returned.
    """
    (tmp_path / "drive" / "proj").mkdir(parents=True)
    path = tmp_path / "notebook.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path), str(tmp_path / "drive"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _setup_cells(tmp_path: Path, *calls: str) -> list[dict[str, Any]]:
    """Run setup('proj', ...) once per call (its extra arguments) in a fresh IPython shell."""
    seen: list[dict[str, Any]] = notebook_run(tmp_path, AUTORELOAD_SCRIPT, *calls)
    return seen


# Issue 17, point 3
def test_setup_with_autoreload_false_never_turns_it_on_even_when_re_run(tmp_path: Path) -> None:
    """In IPython, setup(autoreload=False) twice (the second the fast re-run): still off."""
    first, again = _setup_cells(tmp_path, ", autoreload=False", ", autoreload=False")
    for seen in (first, again):
        assert not seen["loaded"]
        assert seen["autoreload"] == "off (autoreload=False)"
        assert "mode 2" not in seen["doctor"]
    assert again["same as before"]  # it was the fast re-run


# Issue 17, point 3
def test_autoreload_false_after_autoreload_on_leaves_it_on(tmp_path: Path) -> None:
    """After setup() turned autoreload on, setup(autoreload=False) leaves it on (mode 2).

    As documented, ``autoreload=True`` turns it on and ``False`` does not ask for it: nothing
    turns it off. The Project says it was not asked for.
    """
    on, off = _setup_cells(tmp_path, "", ", autoreload=False")
    assert on["autoreload"].startswith("enabled")
    assert off["autoreload"] == "off (autoreload=False)"
    assert off["loaded"]
    assert off["doctor"] == "loaded, mode 2 (all modules)"


# ---------------------------------------------------------------------------------------------
# Issue 17, point 4: gpu="ignore" runs no nvidia-smi at all
# ---------------------------------------------------------------------------------------------


def _recording_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """First on PATH: an nvidia-smi (a T4) that logs ``$PHASE <arguments>`` for each start.

    ``$PHASE`` is read from the environment the process was started with, so a line tells in
    which part of the test the run began, whenever it got around to writing it.
    """
    fake = write_fake_nvidia_smi(
        tmp_path / "fake-bin", query=nvidia_data("t4.csv"), listing=nvidia_data("list-t4.txt")
    )
    log = tmp_path / "nvidia-smi.log"
    recorder = tmp_path / "bin" / "nvidia-smi"
    recorder.parent.mkdir()
    recorder.write_text(
        "#!/bin/sh\n"
        f'echo "$PHASE $*" >> {shlex.quote(str(log))}\n'
        f'exec {shlex.quote(str(fake.bin_dir / "nvidia-smi"))} "$@"\n'
    )
    recorder.chmod(0o755)
    monkeypatch.setenv("PATH", f"{recorder.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def _runs(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


# Issue 17, point 4
def test_gpu_ignore_starts_no_nvidia_smi_while_the_default_does(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """setup(gpu="ignore") starts no nvidia-smi, not even in the background; setup() does."""
    log = _recording_nvidia_smi(tmp_path, monkeypatch)
    (mydrive / "p").mkdir()
    monkeypatch.setenv("PHASE", "ignore")
    ignored = colab_bootstrap.setup("p", gpu="ignore")
    assert ignored.gpus == ()
    assert ignored.accelerator == "not checked (gpu='ignore')"
    assert colab_bootstrap.setup("p", gpu="ignore") is ignored  # the fast re-run: none either
    # Anything setup() started is collected (and so has logged) by the check gpus() makes.
    monkeypatch.setenv("PHASE", "later")
    assert [gpu.name for gpu in colab_bootstrap.gpus(refresh=True)] == ["Tesla T4"]
    assert [run for run in _runs(log) if not run.startswith("later ")] == []

    fresh_session(tmp_path)  # as a new process: no GPU answer kept
    (mydrive / "q").mkdir()
    monkeypatch.setenv("PHASE", "default")
    checked = colab_bootstrap.setup("q")  # gpu="warn": the check runs (a T4: no warning)
    assert [gpu.name for gpu in checked.gpus] == ["Tesla T4"]
    assert "default -L" in _runs(log)


# ---------------------------------------------------------------------------------------------
# Issue 17, point 5: byte-code goes to ~/.cache/colab_bootstrap when XDG_CACHE_HOME is unset
# ---------------------------------------------------------------------------------------------


# Issue 17, point 5
def test_bytecode_lands_in_home_cache_without_xdg_cache_home(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No $XDG_CACHE_HOME: the .pyc is written under $HOME/.cache/colab_bootstrap/pycache.

    Nothing lands in the real home folder, nor in the working folder, nor in the project.
    """
    real_home = Path(os.path.expanduser("~"))  # before HOME is changed
    home = tmp_path / "home"
    home.mkdir()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(elsewhere)  # a cache folder relative to the cwd would land here
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (mydrive / "p").mkdir()
    (mydrive / "p" / "pinned_cache_mod.py").write_text("V = 1\n")
    project = colab_bootstrap.setup("p", gpu="ignore")
    import pinned_cache_mod  # type: ignore[import-not-found]

    assert pinned_cache_mod.V == 1
    cache = home / ".cache" / "colab_bootstrap" / "pycache"
    assert project.bytecode_cache == str(cache)
    pyc = f"pinned_cache_mod.{sys.implementation.cache_tag}.pyc"
    relative = str(mydrive / "p").lstrip(os.sep)
    assert (cache / relative / pyc).is_file()
    assert [p.relative_to(home).as_posix() for p in home.rglob("*.pyc")] == [
        (cache / relative / pyc).relative_to(home).as_posix()
    ]
    assert list(elsewhere.iterdir()) == []
    assert not (mydrive / "p" / "__pycache__").exists()
    assert not (real_home / ".cache" / "colab_bootstrap" / "pycache" / relative).exists()


# ---------------------------------------------------------------------------------------------
# Issue 17, point 6: a link to the same folder, spelled through "My Drive", is already right
# ---------------------------------------------------------------------------------------------


# Issue 17, point 6
def test_a_link_through_the_old_my_drive_spelling_is_kept(fake_colab: FakeColab) -> None:
    """A link ``/content/proj -> <mount>/My Drive/proj`` (an old notebook's) is kept as it is.

    ``My Drive`` is Drive's old alias of ``MyDrive``: the link names the project's own folder,
    so setup() uses it, with no warning or error, and never re-points or moves it.
    """
    fake_colab.project("proj", {"pinned_alias_mod.py": "WHERE = 'drive'\n"})
    mydrive = fake_colab.mount_at(fake_colab.mountpoint)
    old_spelling = fake_colab.mountpoint / "My Drive" / "proj"
    assert os.path.samefile(old_spelling, mydrive / "proj")
    link = fake_colab.content / "proj"
    link.symlink_to(old_spelling, target_is_directory=True)
    before = sorted(os.listdir(fake_colab.content))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project = colab_bootstrap.setup(
            "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
        )
    assert project.link == link
    assert os.readlink(link) == str(old_spelling)
    assert sorted(os.listdir(fake_colab.content)) == before
    assert fake_colab.calls("mount") == []
    import pinned_alias_mod  # type: ignore[import-not-found]

    assert pinned_alias_mod.WHERE == "drive"
    report = colab_bootstrap.doctor("proj", network=False)
    (found,) = [check for check in report.checks if check.name == "Project"]
    assert f"link: {link} -> {old_spelling}" in found.details, found
    assert "not to the project" not in str(report)


# ---------------------------------------------------------------------------------------------
# Issue 17, point 7: reset() without remount never remounts Drive
# ---------------------------------------------------------------------------------------------


# Issue 17, point 7
def test_reset_without_remount_leaves_a_live_drive_mount_alone(fake_colab: FakeColab) -> None:
    """On Colab with Drive live: reset() reloads the modules and starts no mount at all."""
    fake_colab.project("proj", {"pinned_reset_mod.py": "VALUE = 1\n"})
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    import pinned_reset_mod  # type: ignore[import-not-found]

    assert pinned_reset_mod.VALUE == 1
    mounts, daemons = fake_colab.calls("mount"), fake_colab.daemons()
    assert len(mounts) == 1
    assert len(daemons) == 1
    (fake_colab.mydrive / "proj" / "pinned_reset_mod.py").write_text("VALUE = 2\n")
    report = colab_bootstrap.reset()
    assert fake_colab.calls("mount") == mounts
    assert fake_colab.daemons() == daemons
    assert report.remount == "not asked"
    assert "pinned_reset_mod" in report.reimported
    assert sys.modules["pinned_reset_mod"].VALUE == 2
