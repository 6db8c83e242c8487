"""The fake Colab itself: real FUSE mounts of type fuse.drive, and drive.py's behaviour."""

from __future__ import annotations

import errno
import mmap
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pexpect
import pytest

from conftest import FAKES, FakeColab, denied, drivefs


def _mount(fake: FakeColab, point: Path | None = None, **kwargs: object) -> Path:
    """drive.mount at ``point`` (the fake's mountpoint): its MyDrive."""
    from google.colab import drive

    point = point or fake.mountpoint
    drive.mount(str(point), **kwargs)
    return point / "MyDrive"


def test_mount_is_a_fuse_drive_mount_showing_mydrive(
    fake_colab: FakeColab, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fuse.drive entry named 'drive'; MyDrive and Shareddrives listed, 'My Drive' hidden."""
    (fake_colab.mydrive / "notes.txt").write_text("hello")
    start = time.monotonic()
    mydrive = _mount(fake_colab)
    took = time.monotonic() - start
    assert capsys.readouterr().out == f"Mounted at {fake_colab.mountpoint}\n"
    assert (fake_colab.mountpoint, "drive") in fake_colab.mounts()
    line = next(
        line.split()
        for line in Path("/proc/self/mounts").read_text().splitlines()
        if line.split()[1] == str(fake_colab.mountpoint)
    )
    assert line[:3] == ["drive", str(fake_colab.mountpoint), "fuse.drive"]
    assert line[3].startswith("rw,")
    assert sorted(os.listdir(fake_colab.mountpoint)) == ["MyDrive", "Shareddrives"]
    alias = fake_colab.mountpoint / "My Drive"
    assert alias.is_dir()
    assert (alias / "notes.txt").read_text() == "hello"
    assert os.path.samefile(alias / "notes.txt", mydrive / "notes.txt")
    assert (mydrive / "notes.txt").read_text() == "hello"
    assert len(fake_colab.daemons()) == 1
    assert took < 2, f"mounting took {took:.2f} s"
    assert [c["mountpoint"] for c in fake_colab.calls("mounted")] == [str(fake_colab.mountpoint)]


def test_changes_show_both_ways(fake_colab: FakeColab) -> None:
    """The backing folder (written directly) and the mount see each other's changes at once."""
    mydrive = _mount(fake_colab)
    backing = fake_colab.mydrive
    (backing / "a.py").write_text("A = 1\n")
    assert (mydrive / "a.py").read_text() == "A = 1\n"
    (backing / "a.py").write_text("A = 22\n")  # same file, new size and content
    assert (mydrive / "a.py").read_text() == "A = 22\n"
    (backing / "new.py").write_text("fresh")
    os.replace(backing / "new.py", backing / "a.py")  # an atomic save: a new file
    assert (mydrive / "a.py").read_text() == "fresh"

    (mydrive / "pkg").mkdir()
    (mydrive / "pkg" / "m.py").write_text("M = 1\n")
    assert (backing / "pkg" / "m.py").read_text() == "M = 1\n"
    with (mydrive / "pkg" / "m.py").open("a") as handle:
        with (backing / "pkg" / "m.py").open("a") as behind:  # grown behind the mount's back
            behind.write("# 2\n")
        handle.write("N = 3\n")
    assert (backing / "pkg" / "m.py").read_text() == "M = 1\n# 2\nN = 3\n"
    (mydrive / "pkg" / "m.py").rename(mydrive / "pkg" / "n.py")
    assert sorted(os.listdir(backing / "pkg")) == ["n.py"]
    (mydrive / "pkg").rename(mydrive / "lib")
    assert (backing / "lib" / "n.py").is_file()
    assert (mydrive / "lib" / "n.py").read_text() == "M = 1\n# 2\nN = 3\n"
    (backing / "lib").rename(backing / "src")  # moved behind the mount's back
    assert sorted(os.listdir(mydrive)) == ["a.py", "src"]
    assert (mydrive / "src" / "n.py").is_file()

    (mydrive / "link").symlink_to("src/n.py")
    assert os.readlink(backing / "link") == "src/n.py"
    assert (mydrive / "link").read_text() == "M = 1\n# 2\nN = 3\n"
    os.mkfifo(mydrive / "fifo")
    assert stat.S_ISFIFO(os.lstat(backing / "fifo").st_mode)
    os.link(mydrive / "a.py", mydrive / "hard.py")
    assert os.stat(backing / "a.py").st_nlink == 2

    (mydrive / "a.py").chmod(0o600)
    assert stat.S_IMODE(os.stat(backing / "a.py").st_mode) == 0o600
    os.utime(mydrive / "a.py", ns=(1_600_000_000_123_456_789, 1_700_000_000_987_654_321))
    assert os.stat(backing / "a.py").st_mtime_ns == 1_700_000_000_987_654_321
    os.utime(backing / "a.py", ns=(1, 1_500_000_000_000_000_001))
    assert os.stat(mydrive / "a.py").st_mtime_ns == 1_500_000_000_000_000_001
    os.truncate(mydrive / "a.py", 2)
    assert (backing / "a.py").read_text() == "fr"

    for name in ("link", "fifo", "hard.py", "a.py"):
        (mydrive / name).unlink()
    (mydrive / "src" / "n.py").unlink()
    (mydrive / "src").rmdir()
    assert os.listdir(backing) == []
    assert os.listdir(mydrive) == []


def test_big_files_and_mmap(fake_colab: FakeColab) -> None:
    """Reads and writes over several requests, and mmap (no direct I/O) work."""
    mydrive = _mount(fake_colab)
    data = os.urandom(3 * 1024 * 1024 + 17)
    (mydrive / "big.bin").write_bytes(data)
    assert (fake_colab.mydrive / "big.bin").read_bytes() == data
    with (
        (mydrive / "big.bin").open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
    ):
        assert mapped[-17:] == data[-17:]


def test_the_kernel_checks_modes_through_the_mount(fake_colab: FakeColab) -> None:
    """default_permissions: a mode-0 file is unreadable through the mount (root included)."""
    mydrive = _mount(fake_colab)
    (mydrive / "secret.txt").write_text("s")
    with denied(mydrive / "secret.txt"), pytest.raises(PermissionError):
        (mydrive / "secret.txt").read_text()
    assert (mydrive / "secret.txt").read_text() == "s"


def test_top_of_drive_is_fixed(fake_colab: FakeColab) -> None:
    """Nothing can be made in the top folder of the mount, beside MyDrive and Shareddrives."""
    _mount(fake_colab)
    with pytest.raises(PermissionError):
        (fake_colab.mountpoint / "stray.txt").write_text("x")
    with pytest.raises(PermissionError):
        (fake_colab.mountpoint / "stray").mkdir()


def test_readonly_mount(fake_colab: FakeColab) -> None:
    """readonly=True: reading works, writing fails with EROFS."""
    (fake_colab.mydrive / "r.txt").write_text("r")
    mydrive = _mount(fake_colab, readonly=True)
    assert (mydrive / "r.txt").read_text() == "r"
    with pytest.raises(OSError, match="Read-only") as info:
        (mydrive / "w.txt").write_text("w")
    assert info.value.errno == errno.EROFS


def test_killed_daemon_leaves_a_dead_mount(fake_colab: FakeColab) -> None:
    """SIGKILL the daemon: the entry stays, every access gives ENOTCONN; umount -f clears it."""
    mydrive = _mount(fake_colab)
    assert fake_colab.kill_drivefs()
    assert fake_colab.daemons() == []
    assert fake_colab.is_dead(fake_colab.mountpoint)
    assert (fake_colab.mountpoint, "drive") in fake_colab.mounts()
    with pytest.raises(OSError, match="Transport endpoint is not connected") as info:
        os.stat(mydrive)
    assert info.value.errno == errno.ENOTCONN
    assert not os.path.isdir(mydrive)  # os.path swallows the error...
    if sys.version_info < (3, 14):  # ...pathlib (before 3.14) does not
        with pytest.raises(OSError, match="not connected"):
            mydrive.is_dir()
    subprocess.run(["umount", "-f", str(fake_colab.mountpoint)], check=True)
    assert fake_colab.mounts() == []
    assert not fake_colab.is_dead(fake_colab.mountpoint)
    assert os.listdir(fake_colab.mountpoint) == []


def test_mounting_elsewhere_kills_the_other_mount(fake_colab: FakeColab, tmp_path: Path) -> None:
    """drive.mount runs `pkill -9 -x drive`: Drive mounted by an earlier cell elsewhere dies."""
    gdrive = fake_colab.mount_at(tmp_path / "gdrive")
    assert gdrive.is_dir()
    assert fake_colab.calls() == []  # mount_at is the test's setup, not a call to check
    first = fake_colab.daemons()
    mydrive = _mount(fake_colab)
    assert drivefs.wait(first, 5) == []  # pkill does not wait; the daemon is gone by now
    assert fake_colab.is_dead(tmp_path / "gdrive")
    assert not fake_colab.is_dead(fake_colab.mountpoint)
    assert mydrive.is_dir()
    points = [point for point, _ in fake_colab.mounts()]
    assert sorted(points) == sorted([tmp_path / "gdrive", fake_colab.mountpoint])
    assert len(fake_colab.daemons()) == 1


def test_force_remount_brings_a_dead_mount_back(fake_colab: FakeColab) -> None:
    """After the daemon died, drive.mount(..., force_remount=True) mounts anew in its place."""
    (fake_colab.mydrive / "keep.txt").write_text("kept")
    _mount(fake_colab)
    fake_colab.kill_drivefs()
    mydrive = _mount(fake_colab, force_remount=True)
    assert not fake_colab.is_dead(fake_colab.mountpoint)
    assert (mydrive / "keep.txt").read_text() == "kept"
    assert fake_colab.mounts() == [(fake_colab.mountpoint, "drive")]


def test_already_mounted_prints_and_leaves_the_mount(
    fake_colab: FakeColab, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mounting again without force_remount prints Colab's message; the same daemon serves."""
    _mount(fake_colab)
    daemons = fake_colab.daemons()
    _mount(fake_colab)
    point = fake_colab.mountpoint
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Drive already mounted at {point}; to attempt to forcibly remount, call "
        f'drive.mount("{point}", force_remount=True).'
    )
    assert fake_colab.daemons() == daemons


def test_local_files_at_the_mountpoint_are_refused(fake_colab: FakeColab) -> None:
    """A MyDrive folder written before mounting is local files: Colab refuses to mount there."""
    (fake_colab.mountpoint / "MyDrive").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"^Mountpoint must not already contain files$"):
        _mount(fake_colab)
    assert fake_colab.mounts() == []


def test_the_auth_error_comes_even_when_already_mounted(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sign-in request comes before the already-mounted check."""
    from google.colab import _message

    _mount(fake_colab)
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "auth")
    with pytest.raises(_message.MessageError, match="credential propagation was unsuccessful"):
        _mount(fake_colab)
    assert not fake_colab.is_dead(fake_colab.mountpoint)


def test_a_hang_is_pexpects_timeout(fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon that never comes up: pexpect's TIMEOUT escapes, with pexpect's own text."""
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "hang")
    monkeypatch.setenv("FAKE_COLAB_EXPECT_SLACK_S", "0.5")
    start = time.monotonic()
    with pytest.raises(pexpect.exceptions.TIMEOUT) as info:
        _mount(fake_colab, timeout_ms=0)
    assert time.monotonic() - start < 5
    text = str(info.value)
    assert text.startswith("<pexpect.popen_spawn.PopenSpawn object at ")
    assert "searcher: searcher_re:" in text
    assert "The domain policy has disabled Drive File Stream" in text
    assert fake_colab.mounts() == []
    assert len(fake_colab.daemons()) == 1  # still there, as on Colab, until the test ends


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ("failed", "mount failed"),
        (
            "timeout",
            "mount failed: timeout during initial read of root folder; for more info: "
            "https://research.google.com/colaboratory/faq.html#drive-timeout",
        ),
        (
            "domain",
            "The domain policy has disabled Drive File Stream: "
            "https://support.google.com/a/answer/7496409",
        ),
    ],
)
def test_daemon_failures(
    error: str, message: str, fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each way DriveFS fails gives drive.py's ValueError; no daemon and no mount are left."""
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", error)
    with pytest.raises(ValueError) as info:  # noqa: PT011 - the whole text is checked below
        _mount(fake_colab)
    assert str(info.value) == message
    assert fake_colab.mounts() == []
    assert drivefs.wait(fake_colab.daemons(), 5) == []  # exiting, or killed (domain)


def test_an_old_timeout_in_the_log_relabels_later_failures(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """drive.py greps the whole DriveFS log, so one old timeout names every later failure."""
    fake_colab.log_timeout()
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "failed")
    with pytest.raises(ValueError, match=r"^mount failed: timeout during initial read"):
        _mount(fake_colab)


@pytest.mark.parametrize(
    ("error", "exception", "text"),
    [
        ("not_colab", NotImplementedError, "unsupported in this environment. Use PyDrive2"),
        ("enterprise", NotImplementedError, "not supported in Colab Enterprise"),
    ],
)
def test_not_colab_and_enterprise(
    error: str,
    exception: type[Exception],
    text: str,
    fake_colab: FakeColab,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", error)
    with pytest.raises(exception, match=text):
        _mount(fake_colab)


def test_flush_and_unmount(fake_colab: FakeColab, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing mounted: Colab's message. Mounted: unmounted, daemon gone, files kept."""
    from google.colab import drive

    drive.flush_and_unmount()
    assert capsys.readouterr().out == "Drive not mounted, so nothing to flush and unmount.\n"
    mydrive = _mount(fake_colab)
    (mydrive / "saved.txt").write_text("saved")
    drive.flush_and_unmount()
    assert fake_colab.mounts() == []
    assert fake_colab.daemons() == []
    assert os.listdir(fake_colab.mountpoint) == []
    assert (fake_colab.mydrive / "saved.txt").read_text() == "saved"


def test_stop_leaves_no_daemon_and_no_mount(fake_colab: FakeColab, tmp_path: Path) -> None:
    """What the fixture does at the end: daemons killed and reaped, mounts detached."""
    _mount(fake_colab)
    pids = fake_colab.daemons()
    fake_colab.mount_at(tmp_path / "other")  # the first one's daemon dies: a dead mount
    pids += fake_colab.daemons()
    assert len(fake_colab.mounts()) == 2
    detached = drivefs.stop([str(fake_colab.root)], under=tmp_path)
    assert sorted(detached) == sorted([str(fake_colab.mountpoint), str(tmp_path / "other")])
    assert fake_colab.mounts() == []
    assert fake_colab.daemons() == []
    assert [drivefs.process(pid) for pid in pids] == [None, None]  # no zombie either


SUBPROCESS = textwrap.dedent(
    """
    import os, sys
    if sys.argv[2] == "kernel":  # a script standing in for a notebook kernel
        os.environ["FAKE_COLAB_KERNEL_PID"] = str(os.getpid())
    from google.colab import drive, snippets
    for call in (lambda: drive.mount(sys.argv[1]), lambda: snippets.register("https://x")):
        try:
            call()
        except Exception as exc:
            print(f"{type(exc).__name__}: {exc}")
    """
)


def test_a_subprocess_is_no_notebook_kernel(fake_colab: FakeColab) -> None:
    """As `!python` on Colab: drive.mount and snippets.register fail; a stand-in kernel mounts."""
    argv = [sys.executable, "-c", SUBPROCESS, str(fake_colab.mountpoint)]
    env = fake_colab.env()
    assert "FAKE_COLAB_KERNEL_PID" not in env
    plain = subprocess.run([*argv, "plain"], env=env, capture_output=True, text=True, check=True)
    error = "AttributeError: 'NoneType' object has no attribute 'kernel'"
    assert plain.stdout.splitlines() == [error, error], plain.stderr
    assert fake_colab.mounts() == []
    kernel = subprocess.run([*argv, "kernel"], env=env, capture_output=True, text=True, check=True)
    assert kernel.stdout.splitlines() == [f"Mounted at {fake_colab.mountpoint}"], kernel.stderr
    assert fake_colab.mounts() == [(fake_colab.mountpoint, "drive")]
    assert (fake_colab.mountpoint / "MyDrive").is_dir()  # the daemon outlives the process


def test_an_unknown_quirk_is_refused_before_anything_is_mounted(tmp_path: Path) -> None:
    """``--quirks`` takes only the quirks it knows: a typo must not give a normal mount."""
    point = tmp_path / "drive"
    daemon = [sys.executable, "-I", "-S", str(FAKES / "drivefs.py")]
    args = [f"--root={tmp_path}", f"--mount_point_path={point}", "--quirks=no-chmod,fold-cases"]
    result = subprocess.run(
        [*daemon, *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stdout) == (2, "drive: unknown quirks: ['fold-cases']\n")
    assert not point.exists()
    assert str(point) not in [p for p, _ in drivefs.mounts()]
