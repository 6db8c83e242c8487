"""Drive as Colab really has it: real FUSE mounts, dead mounts, other mountpoints, no kernel.

The fake DriveFS (tests/fakes/drivefs.py) makes real ``fuse.drive`` mounts in the test
process's private mount namespace; killing it leaves exactly Colab's dead mount (ENOTCONN on
every access), and the fake ``drive.mount`` follows drive.py step by step (auth request first,
``umount -f``, ``pkill -9 -x drive``, the mountpoint checks, a pexpect-driven start).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import (
    DriveConnectionLostError,
    DriveMountError,
    NotInNotebookError,
)
from colab_bootstrap._colab import DriveMount, drive_mountpoints, find_mount
from conftest import FakeColab, denied, fresh_session

pytestmark = pytest.mark.filterwarnings("ignore::colab_bootstrap.ColabBootstrapWarning")

LOST = "connection was lost"


@pytest.fixture(autouse=True)
def _colab_places_in_tmp(fake_colab: FakeColab, tmp_path: Path) -> None:
    """Every call's default mountpoint and link folder are the fake's, never the real /content."""
    fresh_session(
        tmp_path, mountpoint=str(fake_colab.mountpoint), content_dir=str(fake_colab.content)
    )


def _setup(name: str = "proj", **kwargs: object) -> colab_bootstrap.Project:
    return colab_bootstrap.setup(name, gpu="ignore", **kwargs)  # type: ignore[arg-type]


def _mounts(fake: FakeColab, force: bool | None = None) -> list[dict[str, object]]:
    calls = fake.calls("mount")
    return [c for c in calls if force is None or c["force_remount"] is force]


def _project(fake: FakeColab) -> Path:
    return fake.project("proj", {"train.py": "VALUE = 1\n", "extra.py": "EXTRA = 2\n"})


# ------------------------------------------------------------------------ the mount table


def test_the_mount_table_decides_what_is_mounted(tmp_path: Path) -> None:
    r"""Octal escapes in the table (a space is \\040) are read back; other types are ignored."""
    table = tmp_path / "mounts"
    table.write_text(
        "proc /proc proc rw 0 0\n"
        "drive /content/drive fuse.drive rw,user_id=0 0 0\n"
        "drive /content/my\\040drive fuse.drive rw 0 0\n"
        "tmpfs /content/gdrive tmpfs rw 0 0\n"
        "garbage\n"
    )
    assert drive_mountpoints(str(table)) == ["/content/drive", "/content/my drive"]
    assert drive_mountpoints(str(tmp_path / "missing")) == []


def test_a_drive_mounted_elsewhere_is_found(fake_colab: FakeColab, tmp_path: Path) -> None:
    other = fake_colab.content / "gdrive"
    fake_colab.mount_at(other)
    assert find_mount(fake_colab.mountpoint) == DriveMount(str(other), "live")
    fake_colab.kill_drivefs()
    found = find_mount(fake_colab.mountpoint)
    assert (found.point, found.state) == (str(other), "dead")
    assert "Transport endpoint is not connected" in found.error


# ------------------------------------------------------------------------ 1. dead mounts


def test_setup_on_a_dead_mount_remounts_and_ends_with_a_working_project(
    fake_colab: FakeColab,
) -> None:
    _project(fake_colab)
    first = _setup()
    assert (first.drive or "").startswith(f"mounted at {fake_colab.mountpoint} in ")
    fake_colab.kill_drivefs()
    with pytest.raises(OSError, match="not connected") as dead:
        os.stat(first.path)
    assert dead.value.errno == errno.ENOTCONN

    again = _setup()

    assert "remounted at" in (again.drive or "")
    assert LOST in (again.drive or "")
    assert "remounted" in str(again)
    assert [c["force_remount"] for c in _mounts(fake_colab)] == [False, True]
    import train  # type: ignore[import-not-found]

    assert train.VALUE == 1


def test_force_remount_on_a_dead_mount_gets_to_the_remount(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    _setup()
    fake_colab.kill_drivefs()
    project = _setup(force_remount=True)
    assert project.path.is_dir()
    assert _mounts(fake_colab, force=True)


def test_a_failed_remount_of_a_dead_mount_is_a_drive_mount_error(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(fake_colab)
    _setup()
    fake_colab.kill_drivefs()
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "failed")
    with pytest.raises(DriveMountError) as caught:
        _setup()
    assert "(ValueError: mount failed)" in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)


def test_stale_names_a_lost_connection_and_does_not_raise(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    _setup()
    import train  # noqa: F401

    fake_colab.kill_drivefs()
    found = colab_bootstrap.stale()
    assert [(s.name, s.reason) for s in found] == [("train", "unreadable")]
    assert LOST in found[0].detail
    assert "reset(remount=True)" in found[0].detail


def test_reset_on_a_dead_mount_drops_nothing_and_does_not_remount(
    fake_colab: FakeColab,
) -> None:
    _project(fake_colab)
    _setup()
    import train

    fake_colab.kill_drivefs()
    report = colab_bootstrap.reset()
    assert not report.ok
    assert report.dropped == ()
    assert LOST in report.lost
    assert "reset(remount=True)" in str(report)
    assert sys.modules["train"] is train
    assert _mounts(fake_colab, force=True) == []  # reset() without remount never remounts


def test_reset_with_remount_on_a_dead_mount_reconnects_and_reloads(fake_colab: FakeColab) -> None:
    folder = _project(fake_colab)
    _setup()
    import train

    fake_colab.kill_drivefs()
    (folder / "train.py").write_text("VALUE = 2\n")  # the backing store: Drive's server side
    report = colab_bootstrap.reset(remount=True)
    assert report.ok, str(report)
    assert report.reimported == ("train",)
    assert sys.modules["train"] is not train
    assert sys.modules["train"].VALUE == 2
    assert len(_mounts(fake_colab, force=True)) == 1


def test_doctor_names_a_dead_mount_and_no_check_breaks(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    _setup()
    import train  # noqa: F401

    fake_colab.kill_drivefs()
    report = colab_bootstrap.doctor(network=False)
    drive = report["Drive"]
    assert drive.status == "fail"
    assert "dead" in drive.summary
    assert "reset(remount=True)" in (drive.fix or "")
    assert "itself failed" not in str(report)
    assert "could not look" not in str(report)
    assert report["Stale modules"].status != "ok"


def test_dedupe_on_a_dead_mount_says_the_connection_was_lost(fake_colab: FakeColab) -> None:
    folder = _project(fake_colab)
    (folder / "train (1).py").write_text("VALUE = 3\n")
    _setup()
    fake_colab.kill_drivefs()
    with pytest.raises(DriveConnectionLostError, match=r"reset\(remount=True\)"):
        colab_bootstrap.dedupe()
    with pytest.raises(DriveConnectionLostError, match="nothing was planned or moved"):
        colab_bootstrap.dedupe(fake_colab.mountpoint / "MyDrive" / "proj", apply=True)
    assert (folder / "train (1).py").read_text() == "VALUE = 3\n"


def test_imports_raise_only_import_error_while_drive_is_dead(fake_colab: FakeColab) -> None:
    """A third-party `try: import x except ImportError` keeps working; project imports say why."""
    _project(fake_colab)
    _setup()
    import train  # noqa: F401  (the project's path entry has its finder now)

    fake_colab.kill_drivefs()
    with pytest.raises(ImportError) as unknown:  # a third party's `try: import x`
        import colab_bootstrap_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert type(unknown.value) is ModuleNotFoundError
    assert LOST in str(unknown.value)
    with pytest.raises(ModuleNotFoundError, match="cannot be read") as caught:
        import extra  # type: ignore[import-not-found]
    assert caught.value.name == "extra"
    import colorsys  # a module earlier sys.path entries supply still imports

    assert colorsys.__name__ == "colorsys"
    colab_bootstrap.setup("proj", gpu="ignore")  # remount: imports work again
    import extra

    assert extra.EXTRA == 2


def test_a_path_entry_first_met_while_dead_recovers_after_the_remount(
    fake_colab: FakeColab,
) -> None:
    """The path hook must not make Python cache 'no finder' for a dead entry."""
    _project(fake_colab)
    project = _setup()
    sys.path_importer_cache.pop(project.sys_path_entry, None)
    fake_colab.kill_drivefs()
    with pytest.raises(ImportError):
        import train
    _setup()
    import train

    assert train.VALUE == 1


# ------------------------------------------------------------------------ 2. mounted means mounted


def test_local_files_at_the_mountpoint_are_never_taken_for_drive(fake_colab: FakeColab) -> None:
    local = fake_colab.mountpoint / "MyDrive" / "proj"
    local.mkdir(parents=True)
    (local / "train.py").write_text("VALUE = 'local'\n")
    with pytest.raises(DriveMountError) as caught:
        _setup(create=True)
    text = str(caught.value)
    assert "not a Google Drive mount" in text
    assert "MyDrive/" in text
    assert "refuses to mount" in text
    assert "mv " in text
    assert _mounts(fake_colab) == []  # nothing was mounted over them, nothing created
    assert sorted(p.name for p in local.iterdir()) == ["train.py"]
    report = colab_bootstrap.doctor("proj", network=False)
    assert report["Drive"].status == "fail"
    assert "not a Google Drive mount" in report["Drive"].summary


# ------------------------------------------------------------------------ 3. other mounts


def test_a_drive_mounted_elsewhere_is_used_and_kept_alive(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    other = fake_colab.content / "gdrive"
    fake_colab.mount_at(other)
    before = len(_mounts(fake_colab))

    project = _setup()

    assert len(_mounts(fake_colab)) == before  # mounted nothing
    assert project.path == other / "MyDrive" / "proj"
    assert "already mounted at" in (project.drive or "")
    assert str(other) in (project.drive or "")
    assert project.mountpoint == str(other)
    assert os.listdir(other / "MyDrive")  # still alive
    assert colab_bootstrap.doctor(network=False)["Drive"].status == "ok"


def test_force_remount_remounts_where_drive_is_mounted(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    other = fake_colab.content / "gdrive"
    fake_colab.mount_at(other)
    _setup(force_remount=True)
    forced = _mounts(fake_colab, force=True)
    assert [c["mountpoint"] for c in forced] == [str(other)]
    assert not os.path.ismount(fake_colab.mountpoint)


# ------------------------------------------------------------------------ 4. errors by type


def test_a_hung_drive_is_a_timeout_not_a_domain_policy(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(fake_colab)
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "hang")
    monkeypatch.setenv("FAKE_COLAB_EXPECT_SLACK_S", "0")
    with pytest.raises(DriveMountError) as caught:
        _setup(mount_timeout=1)
    text = str(caught.value)
    assert type(caught.value.__cause__).__name__ == "TIMEOUT"
    assert "domain policy" in str(caught.value.__cause__)  # pexpect's text holds the pattern
    assert "admin" not in text
    assert "domain policy" not in text
    assert "did not finish mounting" in text
    assert "mount_timeout=300" in text
    assert len(text) < 800
    assert text.count("\n") == 0
    assert [c.get("timeout_ms") for c in _mounts(fake_colab)] == [1000]


def test_an_old_timeout_in_drives_log_does_not_become_advice(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_colab.log_timeout()
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "failed")
    with pytest.raises(DriveMountError) as caught:
        _setup()
    text = str(caught.value)
    assert "timeout during initial read" in str(caught.value.__cause__)
    assert "cause is not known" in text
    assert "Move loose files" not in text


@pytest.mark.parametrize("value", [0, -1, 1e9, "60", True, float("nan")])
def test_mount_timeout_must_be_a_sane_number(fake_colab: FakeColab, value: object) -> None:
    with pytest.raises(ValueError, match="mount_timeout"):
        _setup(mount_timeout=value)
    assert _mounts(fake_colab) == []


# ------------------------------------------------------------------------ 5. no kernel


def _script(fake: FakeColab, code: str) -> subprocess.CompletedProcess[str]:
    env = fake.env()
    env.pop("FAKE_COLAB_KERNEL_PID", None)
    places = f"MP = {str(fake.mountpoint)!r}\nCONTENT = {str(fake.content)!r}\n"
    return subprocess.run(
        [sys.executable, "-c", places + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_setup_outside_a_notebook_says_to_run_it_in_a_cell(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    result = _script(
        fake_colab,
        """
        import colab_bootstrap
        try:
            colab_bootstrap.setup("proj", gpu="ignore", mountpoint=MP, content_dir=CONTENT)
        except colab_bootstrap.DriveMountError as exc:
            print("ERROR", exc, type(exc.__cause__).__name__)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert "needs a notebook cell" in result.stdout
    assert "AttributeError" in result.stdout
    command = subprocess.run(
        [
            *(sys.executable, "-m", "colab_bootstrap", "setup", "proj", "--gpu", "ignore"),
            *("--mountpoint", str(fake_colab.mountpoint), "--content-dir", str(fake_colab.content)),
        ],
        env={k: v for k, v in fake_colab.env().items() if k != "FAKE_COLAB_KERNEL_PID"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert command.returncode == 1
    assert "needs a notebook cell" in command.stderr
    assert "Traceback" not in command.stderr


def test_a_script_uses_the_drive_a_cell_mounted(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    _setup()  # the notebook cell
    result = _script(
        fake_colab,
        """
        import colab_bootstrap
        project = colab_bootstrap.setup("proj", gpu="ignore", mountpoint=MP, content_dir=CONTENT)
        import train
        print(train.VALUE, project.drive)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 already mounted at")


def test_register_snippets_outside_a_notebook_is_not_in_notebook_error(
    fake_colab: FakeColab,
) -> None:
    result = _script(
        fake_colab,
        """
        import json, colab_bootstrap
        try:
            colab_bootstrap.register_snippets("https://example.com/s.ipynb")
        except colab_bootstrap.NotInNotebookError as exc:
            print(json.dumps([str(exc), type(exc.__cause__).__name__]))
        """,
    )
    assert result.returncode == 0, result.stderr
    message, cause = json.loads(result.stdout)
    assert "needs a notebook cell" in message
    assert cause == "AttributeError"
    assert issubclass(NotInNotebookError, colab_bootstrap.NotOnColabError)


def test_no_public_call_lets_a_raw_os_error_out_on_a_dead_mount(fake_colab: FakeColab) -> None:
    _project(fake_colab)
    _setup()
    import train  # noqa: F401

    fake_colab.kill_drivefs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        colab_bootstrap.stale()
        colab_bootstrap.reset()
        colab_bootstrap.doctor(network=False)
        colab_bootstrap.snippets()
        with pytest.raises(DriveConnectionLostError):
            colab_bootstrap.dedupe()
        assert colab_bootstrap.setup("proj", gpu="ignore").path.is_dir()


# ------------------------------------------------------------------------ the rest of the seams


def test_a_mountpoint_that_is_a_file_is_refused_with_colabs_text(fake_colab: FakeColab) -> None:
    fake_colab.mountpoint.write_text("not a folder")
    with pytest.raises(DriveMountError, match=r"either be a directory.*is a file\. Move it"):
        _setup()
    assert fake_colab.mountpoint.read_text() == "not a folder"


def test_a_drive_settings_file_in_the_way_is_named(fake_colab: FakeColab) -> None:
    """drive.mount's '<config dir> must be a directory if present' names the file to move."""
    settings = fake_colab.root / "home" / ".config" / "Google"
    settings.parent.mkdir(parents=True)
    settings.write_text("")
    with pytest.raises(DriveMountError, match=r"settings folder is a file \(.*Google\)\. Move"):
        _setup()


def test_drive_lost_mid_walk_stops_dedupe_before_any_move(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """A folder whose subfolder is a dead Drive mount: the walk stops, nothing is planned."""
    folder = tmp_path / "work"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "x.py").write_text("1\n")
    (folder / "a" / "x (1).py").write_text("2\n")
    fake_colab.mount_at(folder / "zz")
    fake_colab.kill_drivefs()
    with pytest.raises(DriveConnectionLostError, match="stopped answering while"):
        colab_bootstrap.dedupe(folder, apply=True)
    assert sorted(p.name for p in (folder / "a").iterdir()) == ["x (1).py", "x.py"]


def test_a_module_file_that_cannot_be_read_fails_its_import_with_import_error(
    fake_colab: FakeColab,
) -> None:
    folder = _project(fake_colab)
    _setup()
    with denied(folder / "extra.py"), pytest.raises(ImportError, match="cannot be read") as caught:
        import extra  # noqa: F401
    assert isinstance(caught.value.__cause__, PermissionError)


def test_a_live_mount_without_mydrive_is_remounted(fake_colab: FakeColab) -> None:
    """A Drive mount whose root shows no MyDrive is not used as it is: it is remounted."""
    fake_colab.mount_at(fake_colab.mountpoint)
    fake_colab.mydrive.rename(fake_colab.mydrive.with_name("elsewhere"))
    project = _setup(create=True)
    assert "it showed no MyDrive folder" in (project.drive or "")
    [forced] = _mounts(fake_colab, force=True)
    assert forced["mountpoint"] == str(fake_colab.mountpoint)


def test_a_mount_that_reports_success_without_mounting_is_caught(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """drive.mount returning with no Drive mounted (nothing in the mount table) is an error."""
    _project(fake_colab)
    from google.colab import drive  # the fake: say "mounted", mount nothing

    def report_success(*args: object, **kwargs: object) -> None:
        """Return as drive.mount does on success, having mounted nothing."""

    monkeypatch.setattr(drive, "mount", report_success)
    with pytest.raises(DriveMountError, match=r"no Drive mount is there.*flush_and_unmount"):
        _setup()


@pytest.mark.parametrize(
    "error",
    [RuntimeError("bash went away"), ValueError("a message Colab never wrote")],
    ids=["other type", "unknown ValueError"],
)
def test_a_mount_failure_of_no_known_kind_keeps_its_text_and_says_to_retry(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    _project(fake_colab)
    from google.colab import drive

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(drive, "mount", fail)
    with pytest.raises(DriveMountError) as caught:
        _setup()
    assert f"({type(error).__name__}: {error})" in str(caught.value)
    assert "Re-run the cell; if it keeps failing, Runtime > Disconnect" in str(caught.value)
    assert caught.value.__cause__ is error


def test_drive_dir_or_project_on_a_dead_mount_is_a_lost_connection_not_missing(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """An explicit folder on a dead mount is not reported as "does not exist"."""
    work = tmp_path / "work"
    work.mkdir()
    fake_colab.mount_at(work / "proj")
    fake_colab.mount_at(tmp_path / "dead")
    fake_colab.kill_drivefs()
    with pytest.raises(DriveConnectionLostError, match=r"Cannot read .*dead"):
        _setup(drive_dir=tmp_path / "dead")
    with pytest.raises(DriveConnectionLostError, match=r"Cannot read .*proj"):
        _setup(drive_dir=work)


def test_later_path_entries_still_supply_modules_while_drive_is_dead(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """The dead project entry steps aside; once Drive is back, no stale 'cannot be read' stays."""
    _project(fake_colab)
    _setup()
    import train  # noqa: F401

    later = tmp_path / "later"
    later.mkdir()
    (later / "cbt_later_mod.py").write_text("WHERE = 'later'\n")
    sys.path.append(str(later))  # after the project's entry (the test's sys.path is restored)
    fake_colab.kill_drivefs()
    import cbt_later_mod  # type: ignore[import-not-found]

    assert cbt_later_mod.WHERE == "later"
    _setup()  # Drive back
    del sys.modules["cbt_later_mod"]
    (later / "cbt_later_mod.py").unlink()  # no invalidate_caches(): it would clear the record
    with pytest.raises(ModuleNotFoundError) as caught:
        import cbt_later_mod
    assert "cannot be read" not in str(caught.value)
