"""Fake google.colab.drive: colabtools' drive.py (commit 3c07d77), step by step, for real.

``mount`` follows Colab's order of checks and messages, asks the "browser" for access through
``_message.blocking_request`` (so it needs a notebook kernel), then drives a real
``setsid bash`` through pexpect: ``umount -f``, ``pkill -9 -x drive`` (limited to this mount
namespace: the tests' own), the mountpoint checks, and the fake DriveFS daemon
(``tests/fakes/drivefs.py``), which makes a real ``fuse.drive`` FUSE mount. What differs from
Colab: the daemon says when it is up (Colab polls ``ls -A`` every half second), the log
filter and directory prefetcher are not started, and the pexpect timeout's 30 s of slack can
be changed with ``$FAKE_COLAB_EXPECT_SLACK_S``.

Failures are injected with ``$FAKE_COLAB_MOUNT_ERROR`` (see ``ERRORS``), and what the mounted
file system lacks with ``$FAKE_COLAB_DRIVE_QUIRKS`` (comma-separated ``drivefs.QUIRKS``).
"""

import importlib.util
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import uuid

import pexpect.popen_spawn as _popen_spawn
from google.colab import _message, _record, _root

__all__ = ["flush_and_unmount", "mount"]

#: Values of $FAKE_COLAB_MOUNT_ERROR, and what each makes happen.
ERRORS = {
    "not_colab": "no /var/colab/hostname: NotImplementedError",
    "enterprise": "VERTEX_PRODUCT=COLAB_ENTERPRISE: NotImplementedError",
    "auth": "the sign-in pop-up is refused: MessageError, even when already mounted",
    "failed": "DriveFS stops with a problem: ValueError('mount failed')",
    "timeout": "DriveFS logs 'QueryManager timed out', exits: ValueError('mount failed: timeout')",
    "domain": "DriveFS reports the domain policy: ValueError('The domain policy has disabled...')",
    "hang": "DriveFS never comes up: pexpect's TIMEOUT after timeout_ms / 1000 + slack seconds",
}

_FAKES = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_PATH = "/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin:."


def _drivefs():
    """The helpers in tests/fakes/drivefs.py, one module for the whole process."""
    module = sys.modules.get("drivefs")
    if module is None:
        spec = importlib.util.spec_from_file_location("drivefs", os.path.join(_FAKES, "drivefs.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["drivefs"] = module
        spec.loader.exec_module(module)
    return module


def _hostname_file():
    return os.path.join(_root(), "var", "colab", "hostname")


def _home():
    return os.path.join(_root(), "home")


def _config_dir():
    return os.path.join(_home(), ".config", "Google")


def _logs_dir():
    return os.path.join(_config_dir(), "DriveFS/Logs/")


def _slack():
    """Seconds pexpect waits beyond timeout_ms (Colab: 30); may be negative, for quick tests."""
    return float(os.environ.get("FAKE_COLAB_EXPECT_SLACK_S", "30"))


def _check_namespace(drivefs):
    if not drivefs.in_private_namespace():
        raise RuntimeError(
            "the fake google.colab.drive mounts file systems and kills processes, so it runs only "
            "in the private mount namespace that tests/conftest.py makes ($FAKE_COLAB_MNT_NS)"
        )


def flush_and_unmount(timeout_ms=24 * 60 * 60 * 1000):
    """Unmount Google Drive and flush any outstanding writes to it."""
    _record("flush_and_unmount")
    if os.path.exists(os.path.join(_root(), "var", "colab", "mp")):
        raise NotImplementedError(__name__ + " is unsupported in this environment.")
    mount_command = "/bin/mount" if os.path.exists("/bin/mount") else "mount"
    if b"type fuse.drive" not in subprocess.check_output([mount_command]):
        print("Drive not mounted, so nothing to flush and unmount.")
        return
    drivefs = _drivefs()
    _check_namespace(drivefs)
    points = [point for point, _ in drivefs.mounts()]
    arguments = {f"--mount_point_path={point}" for point in points}
    serving = []
    for pid in drivefs.daemons():
        entry = drivefs.process(pid)
        if entry is not None and arguments & set(entry.cmdline()):
            serving.append(pid)
    for point in points:
        done = subprocess.run(["umount", point], capture_output=True, check=False)
        if done.returncode and not drivefs.detach(point):
            raise ValueError("flush_and_unmount failed")
    # Unmounted, the daemons exit by themselves (DriveFS quits after flushing).
    drivefs.kill(drivefs.wait(serving, 5), reaped=True)


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    """Mount your Google Drive at the specified mountpoint path."""
    return _mount(
        mountpoint,
        force_remount=force_remount,
        timeout_ms=timeout_ms,
        readonly=readonly,
    )


def _mount(  # noqa: C901, PLR0912, PLR0915 - Colab's function, step by step
    mountpoint,
    force_remount=False,
    timeout_ms=120000,
    readonly=False,
    *,
    error=None,
    ask=True,
    record=True,
):
    """Colab's _mount; ``error`` overrides $FAKE_COLAB_MOUNT_ERROR, ``ask=False`` skips the
    sign-in request (an earlier cell made it), ``record=False`` leaves calls.jsonl alone."""
    if record:
        _record(
            "mount",
            mountpoint=mountpoint,
            force_remount=force_remount,
            timeout_ms=timeout_ms,
            readonly=readonly,
        )
    if error is None:
        error = os.environ.get("FAKE_COLAB_MOUNT_ERROR", "")
    if error and error not in ERRORS:
        raise KeyError(f"FAKE_COLAB_MOUNT_ERROR={error!r}: not one of {', '.join(ERRORS)}")
    if error == "not_colab" or not os.path.exists(_hostname_file()):
        raise NotImplementedError(
            "Mounting drive is unsupported in this environment. Use PyDrive2"
            " instead. See examples at"
            " https://colab.research.google.com/notebooks/io.ipynb#scrollTo=7taylj9wpsA2."
        )

    if " " in mountpoint:
        raise ValueError("Mountpoint must not contain a space.")

    vertex = "COLAB_ENTERPRISE" if error == "enterprise" else os.environ.get("VERTEX_PRODUCT")
    if vertex == "COLAB_ENTERPRISE":
        raise NotImplementedError("google.colab.drive.mount is not supported in Colab Enterprise.")
    metadata_server_addr = os.environ["TBE_EPHEM_CREDS_ADDR"]
    if ask:
        _message.blocking_request(
            "request_auth",
            request={"authType": "dfs_ephemeral"},
            timeout_sec=int(timeout_ms / 1000),
        )

    mountpoint = os.path.expanduser(mountpoint)
    # If we've already mounted drive at the specified mountpoint, exit now.
    already_mounted = os.path.isdir(os.path.join(mountpoint, "My Drive"))
    if not force_remount and already_mounted:
        print(
            f"Drive already mounted at {mountpoint}; to attempt to forcibly "
            f'remount, call drive.mount("{mountpoint}", force_remount=True).'
        )
        return

    drivefs = _drivefs()
    _check_namespace(drivefs)
    config_dir = _config_dir()
    try:
        os.makedirs(config_dir)
    except OSError:
        if not os.path.isdir(config_dir):
            raise ValueError(f"{config_dir} must be a directory if present")  # noqa: B904

    root = _root()
    prompt = f"root@{socket.gethostname()}-{uuid.uuid4().hex}: "
    setsid = shutil.which("setsid") or "/usr/bin/setsid"
    bash = shutil.which("bash") or "/bin/bash"
    d = _popen_spawn.PopenSpawn(
        f"{setsid} {bash} --noediting --norc -i",  # Colab: -i without --norc
        timeout=max(timeout_ms / 1000 + _slack(), 0.1),
        maxread=int(1e6),
        encoding="utf-8",
        env={"HOME": _home(), "FUSE_DEV_NAME": "/dev/fuse", "PATH": _PATH},
    )
    drivefs.keep(root, d)  # closed, with its processes, when the test ends
    d.sendline(f'unset HISTFILE; export PS1="{prompt}"')
    d.expect(prompt)  # The new prompt.
    # Colab: `pkill -9 -x drive`, every DriveFS on the machine; here every one in the tests'
    # mount namespace, and never a process of the machine running the tests.
    d.sendline(
        f"umount -f {mountpoint} || umount {mountpoint}; pkill --ns $$ --nslist mnt -9 -x drive"
    )
    d.expect(prompt)
    # Only check the mountpoint after potentially unmounting/pkill'ing above.
    try:
        if os.path.islink(mountpoint):
            raise ValueError("Mountpoint must not be a symlink")
        if os.path.isdir(mountpoint) and os.listdir(mountpoint):
            raise ValueError("Mountpoint must not already contain files")
        if not os.path.isdir(mountpoint) and os.path.exists(mountpoint):
            raise ValueError("Mountpoint must either be a directory or not exist")
        normed = os.path.normpath(mountpoint)
        if "/" in normed and not os.path.exists(os.path.dirname(normed)):
            raise ValueError("Mountpoint must be in a directory that exists")
    except:  # Colab's own bare except
        d.kill(signal.SIGKILL)
        raise

    success = drivefs.READY
    domain_disabled_drivefs = drivefs.DOMAIN
    problem_and_stopped = drivefs.PROBLEM
    drive_exited = "drive EXITED"
    daemon = [
        sys.executable,
        "-I",
        "-S",
        os.path.join(_FAKES, "drivefs.py"),
        f"--root={root}",
        f"--mount_point_path={os.path.abspath(mountpoint)}",
        f"--read_only_mode={str(readonly).lower()}",
        f"--metadata_server_auth_uri={metadata_server_addr}/computeMetadata/v1",
        f"--opendir_timeout_ms={timeout_ms}",
    ]
    if error in ("failed", "timeout", "domain", "hang"):
        daemon.append(f"--fail={error}")
    if os.environ.get("FAKE_COLAB_DRIVE_QUIRKS"):  # what the file system lacks (drivefs.QUIRKS)
        daemon.append(f"--quirks={os.environ['FAKE_COLAB_DRIVE_QUIRKS']}")
    d.sendline(
        "("
        f" {shlex.join(daemon)}"
        " 2>&1 |"
        " grep --line-buffered -E"
        f' "{success}|{problem_and_stopped}|{domain_disabled_drivefs}";'
        f' echo "{drive_exited}";'
        ") &"
    )
    d.expect(prompt)
    timeout_pattern = drivefs.QUERY_TIMEOUT
    dfs_log = os.path.join(_logs_dir(), "drive_fs.txt")

    while True:
        case = d.expect(
            [
                success,
                prompt,
                problem_and_stopped,
                drive_exited,
                domain_disabled_drivefs,
            ]
        )
        if case == 0:
            break
        if case in (1, 2, 3):
            # Prompt appearing here means something went wrong with the drive binary.
            d.kill(signal.SIGKILL)
            extra_reason = ""
            if 0 == subprocess.call(f'grep -q "{timeout_pattern}" "{dfs_log}"', shell=True):  # noqa: S602, SIM300
                extra_reason = (
                    ": timeout during initial read of root folder; for more info: "
                    "https://research.google.com/colaboratory/faq.html#drive-timeout"
                )
            raise ValueError("mount failed" + extra_reason)
        if case == 4:
            # Terminate the DriveFS binary before killing bash.
            drivefs.kill(drivefs.daemons(), reaped=True)
            d.kill(signal.SIGKILL)
            raise ValueError(
                str(domain_disabled_drivefs) + ": https://support.google.com/a/answer/7496409"
            )
    d.sendline("disown -a")
    d.expect(prompt)
    d.sendline("exit")
    assert d.wait() == 0  # Colab's own assert
    if record:
        _record("mounted", mountpoint=mountpoint)
    print(f"Mounted at {mountpoint}")
