"""The one seam to Colab: detection, Drive mount, kernel restart, snippet registration.

Everything that imports ``google.colab`` lives here, so tests fake exactly one thing.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ._errors import DriveMountError, NotOnColabError

__all__ = [
    "HOSTNAME_FILE",
    "flush_and_unmount",
    "kill_kernel",
    "mount",
    "on_colab",
    "register_snippets",
    "release_tag",
]

#: The file every Colab VM has; its presence is the second sign of being on Colab.
HOSTNAME_FILE = "/var/colab/hostname"


def release_tag() -> str | None:
    """Return ``COLAB_RELEASE_TAG`` (set on every Colab runtime), or None."""
    return os.environ.get("COLAB_RELEASE_TAG") or None


def on_colab(hostname_file: str | os.PathLike[str] = HOSTNAME_FILE) -> bool:
    """Tell whether this process runs on a Colab runtime.

    ``COLAB_RELEASE_TAG`` or ``/var/colab/hostname`` decide; ``import google.colab`` and
    ``COLAB_GPU`` are not trusted (both exist or vary outside real runtimes).
    """
    return release_tag() is not None or os.path.exists(hostname_file)


# Colab's own error texts (google/colab/drive.py), each with the one thing to do next.
_MOUNT_FIXES: tuple[tuple[str, str], ...] = (
    (
        "timeout during initial read of root folder",
        "Drive timed out listing the root of My Drive; the usual cause is very many items "
        "directly in My Drive. Move loose files into folders, then re-run the cell.",
    ),
    (
        "credential propagation was unsuccessful",
        "The Google sign-in pop-up was closed or refused. Re-run the cell and allow access "
        "for the account that holds the project.",
    ),
    (
        "invalid oauth code",
        "The authorization code was not accepted. Re-run the cell and sign in again.",
    ),
    (
        "must not already contain files",
        "The mountpoint folder already holds files. Move them elsewhere (or pick another "
        "mountpoint=...), then re-run.",
    ),
    (
        "must not be a symlink",
        "The mountpoint is a symlink. Pass mountpoint= a plain folder path, then re-run.",
    ),
    (
        "must either be a directory or not exist",
        "The mountpoint is a file. Pass mountpoint= a folder path, then re-run.",
    ),
    (
        "must be in a directory that exists",
        "The folder that should hold the mountpoint does not exist. Create it or pass "
        "another mountpoint=..., then re-run.",
    ),
    (
        "must not contain a space",
        "Pass a mountpoint without spaces, e.g. mountpoint='/content/drive'.",
    ),
    (
        "unsupported in this environment",
        "This is not a Colab VM, so Drive cannot be mounted from code. Pass "
        "drive_dir='/path/to/My Drive' (or set COLAB_BOOTSTRAP_DRIVE) instead.",
    ),
    (
        "Colab Enterprise",
        "Colab Enterprise cannot mount Drive. Copy the project to the runtime (or a bucket) "
        "and pass drive_dir= the folder that holds it.",
    ),
    (
        "domain policy has disabled Drive File Stream",
        "Your Google Workspace admin has disabled Drive for this account. Use a personal "
        "account, or ask the admin to enable Drive File Stream.",
    ),
    (
        "Transport endpoint is not connected",
        "The previous mount is half torn down. Runtime > Restart session, then re-run.",
    ),
    (
        "mount failed",
        "Drive could not be mounted. Re-run the cell; if it keeps failing, Runtime > "
        "Disconnect and delete runtime, then run the notebook again.",
    ),
)


def _mount_error(exc: BaseException, mountpoint: str) -> DriveMountError:
    original = f"{type(exc).__name__}: {exc}"
    text = str(exc)
    fix = next((fix for needle, fix in _MOUNT_FIXES if needle in text), None)
    if fix is None and type(exc).__name__ == "TIMEOUT":  # pexpect escaping drive.mount
        fix = "Mounting timed out. Re-run the cell; Drive sometimes needs a second try."
    if fix is None:
        fix = "Re-run the cell; if it keeps failing, Runtime > Restart session and re-run."
    return DriveMountError(f"Mounting Google Drive at {mountpoint} failed ({original}). {fix}")


def mount(mountpoint: str | os.PathLike[str], *, force_remount: bool = False) -> None:
    """Mount Google Drive through ``google.colab.drive.mount``.

    Raises:
        DriveMountError: whatever Colab raised, with its text kept and the fix added.
    """
    point = os.fspath(mountpoint)
    try:
        from google.colab import drive  # noqa: PLC0415 - Colab only, never at import time
    except ImportError as exc:
        raise DriveMountError(
            f"Cannot mount Google Drive at {point}: google.colab is not importable ({exc}). "
            "Off Colab, pass drive_dir='/path/to/My Drive' or set COLAB_BOOTSTRAP_DRIVE."
        ) from exc
    try:
        drive.mount(point, force_remount=force_remount)
    except Exception as exc:  # every failure of Colab's mount becomes one error type
        raise _mount_error(exc, point) from exc


def flush_and_unmount() -> None:
    """Push pending Drive writes and unmount (Colab only; errors become DriveMountError)."""
    from google.colab import drive  # noqa: PLC0415

    try:
        drive.flush_and_unmount()
    except Exception as exc:
        raise DriveMountError(
            f"Flushing and unmounting Google Drive failed ({type(exc).__name__}: {exc}). "
            "Runtime > Restart session, then re-run the setup cell."
        ) from exc


def kill_kernel() -> None:  # pragma: no cover - the process ends here (tested in a subprocess)
    """Restart the Colab runtime the way Colab users do: the kernel dies, Colab starts anew."""
    if not on_colab():
        raise NotOnColabError(
            "Refusing to kill the kernel: this is not a Colab runtime, where nothing would "
            "restart it. Restart the kernel from your notebook's menu instead."
        )
    os.kill(os.getpid(), signal.SIGKILL)


def register_snippets(url: str) -> None:
    """Register a snippet notebook URL with Colab (``google.colab.snippets.register``)."""
    if not on_colab():
        raise NotOnColabError(
            "Snippet notebooks can only be registered from a Colab runtime. Paste the URL in "
            "Colab under Tools > Settings > Site > Custom snippet notebook URL instead."
        )
    from google.colab import snippets  # noqa: PLC0415

    snippets.register(url)


def mydrive_in(mountpoint: str | os.PathLike[str]) -> Path | None:
    """Return ``<mountpoint>/MyDrive`` (or the old ``My Drive`` alias) if it is there."""
    for name in ("MyDrive", "My Drive"):
        candidate = Path(mountpoint) / name
        if candidate.is_dir():
            return candidate
    return None
