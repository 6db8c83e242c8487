"""Fake google.colab.drive: the real signature, messages and errors of colabtools' drive.py.

The user's Drive is ``$FAKE_COLAB_ROOT/MyDrive``; mounting makes ``<mountpoint>/MyDrive`` and
``<mountpoint>/My Drive`` point at it, as the real FUSE mount shows them.
"""

import os

from google.colab import _record, _root

__all__ = ["flush_and_unmount", "mount"]


class MessageError(RuntimeError):
    """Stand-in for google.colab._message.MessageError."""


class TIMEOUT(Exception):  # noqa: N818 - pexpect's own spelling
    """Stand-in for pexpect.exceptions.TIMEOUT."""


ERRORS = {
    "not_colab": NotImplementedError(
        "Mounting drive is unsupported in this environment. Use PyDrive2 instead. See examples "
        "at https://colab.research.google.com/notebooks/io.ipynb#scrollTo=7taylj9wpsA2."
    ),
    "enterprise": NotImplementedError(
        "google.colab.drive.mount is not supported in Colab Enterprise."
    ),
    "failed": ValueError("mount failed"),
    "timeout": ValueError(
        "mount failed: timeout during initial read of root folder; for more info: "
        "https://research.google.com/colaboratory/faq.html#drive-timeout"
    ),
    "domain": ValueError(
        "The domain policy has disabled Drive File Stream: https://support.google.com/a/answer/7496409"
    ),
    "auth": MessageError("Error: credential propagation was unsuccessful"),
    "pexpect": TIMEOUT("Timeout exceeded."),
    "transport": OSError(107, "Transport endpoint is not connected"),
}


def _hostname_file():
    return os.path.join(_root(), "var", "colab", "hostname")


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    _record("mount", mountpoint=mountpoint, force_remount=force_remount)
    if not os.path.exists(_hostname_file()):
        raise ERRORS["not_colab"]
    if " " in mountpoint:
        raise ValueError("Mountpoint must not contain a space.")
    mountpoint = os.path.expanduser(mountpoint)
    already_mounted = os.path.isdir(os.path.join(mountpoint, "My Drive"))
    if not force_remount and already_mounted:
        print(
            f"Drive already mounted at {mountpoint}; to attempt to forcibly remount, "
            f'call drive.mount("{mountpoint}", force_remount=True).'
        )
        return
    error = os.environ.get("FAKE_COLAB_MOUNT_ERROR")
    if error:
        raise ERRORS[error]
    if already_mounted:  # force_remount: the real one unmounts first
        _unmount(mountpoint)
    if os.path.islink(mountpoint):
        raise ValueError("Mountpoint must not be a symlink")
    if os.path.isdir(mountpoint) and os.listdir(mountpoint):
        raise ValueError("Mountpoint must not already contain files")
    if not os.path.isdir(mountpoint) and os.path.exists(mountpoint):
        raise ValueError("Mountpoint must either be a directory or not exist")
    normed = os.path.normpath(mountpoint)
    if "/" in normed and not os.path.exists(os.path.dirname(normed)):
        raise ValueError("Mountpoint must be in a directory that exists")
    os.makedirs(mountpoint, exist_ok=True)
    backing = os.path.join(_root(), "MyDrive")
    os.makedirs(backing, exist_ok=True)
    os.symlink(backing, os.path.join(mountpoint, "MyDrive"))
    os.symlink(backing, os.path.join(mountpoint, "My Drive"))
    _record("mounted", mountpoint=mountpoint)
    print(f"Mounted at {mountpoint}")


def _unmount(mountpoint):
    for name in ("MyDrive", "My Drive"):
        path = os.path.join(mountpoint, name)
        if os.path.islink(path):
            os.unlink(path)


def _mounted_points():
    points = []
    calls = os.path.join(_root(), "calls.jsonl")
    if os.path.exists(calls):
        import json

        with open(calls, encoding="utf-8") as log:
            for line in log:
                entry = json.loads(line)
                if entry["call"] == "mounted":
                    points.append(entry["mountpoint"])
    return [p for p in points if os.path.isdir(os.path.join(p, "My Drive"))]


def flush_and_unmount(timeout_ms=24 * 60 * 60 * 1000):
    _record("flush_and_unmount")
    points = _mounted_points()
    if not points:
        print("Drive not mounted, so nothing to flush and unmount.")
        return
    for point in points:
        _unmount(point)
