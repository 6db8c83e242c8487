"""The one seam to Colab: am I on Colab, is Drive mounted, mount it, restart, register snippets.

Everything that imports ``google.colab`` lives here, so tests fake exactly one thing. What the
code relies on, from Colab's own ``google/colab/drive.py``:

- A Colab VM has ``COLAB_RELEASE_TAG`` in its environment and the file ``/var/colab/hostname``
  (``drive.mount`` refuses to run without it). ``COLAB_GPU`` and ``import google.colab`` are not
  evidence: both vary or exist elsewhere.
- ``drive.mount(mountpoint, force_remount=False)`` shows the user's files under
  ``<mountpoint>/MyDrive``; the old ``<mountpoint>/My Drive`` spelling still resolves. Mounting
  again without ``force_remount`` prints "Drive already mounted" and returns.
- Its failures arrive as ``ValueError``/``NotImplementedError`` with fixed texts, a
  ``MessageError`` when the sign-in pop-up is refused, or pexpect's ``TIMEOUT``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from ._errors import DriveMountError, NotOnColabError
from ._session import SESSION, again, option

__all__ = [
    "HOSTNAME_FILE",
    "kill_kernel",
    "mount",
    "mydrive_in",
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
    """Tell whether this process runs on a Colab runtime (the release tag or the hostname file)."""
    return release_tag() is not None or os.path.exists(hostname_file)


def mydrive_in(mountpoint: str | os.PathLike[str]) -> Path | None:
    """Return ``<mountpoint>/MyDrive`` (or the old ``My Drive`` alias) if it is there."""
    for name in ("MyDrive", "My Drive"):
        candidate = Path(mountpoint) / name
        if candidate.is_dir():
            return candidate
    return None


def _mount_fixes() -> tuple[tuple[str, str], ...]:
    """Colab's own error texts (drive.py), each with the one thing to do next."""
    retry = again()
    return (
        (
            "timeout during initial read of root folder",
            "Drive timed out listing the root of My Drive; the usual cause is very many items "
            f"directly in My Drive. Move loose files into folders, then {retry}.",
        ),
        (
            "credential propagation was unsuccessful",
            f"The Google sign-in pop-up was closed or refused. {retry.capitalize()} and allow "
            "access for the account that holds the project.",
        ),
        (
            "invalid oauth code",
            f"The authorization code was not accepted. {retry.capitalize()} and sign in again.",
        ),
        (
            "must not already contain files",
            "The mountpoint folder already holds files. Move them elsewhere (or pick another "
            f"{option('mountpoint', None)}), then {retry}.",
        ),
        (
            "must not be a symlink",
            f"The mountpoint is a symlink. Pass {option('mountpoint', None)} a plain folder "
            f"path, then {retry}.",
        ),
        (
            "must either be a directory or not exist",
            f"The mountpoint is a file. Pass {option('mountpoint', None)} a folder path, "
            f"then {retry}.",
        ),
        (
            "must be in a directory that exists",
            "The folder that should hold the mountpoint does not exist. Create it or pass "
            f"another {option('mountpoint', None)}, then {retry}.",
        ),
        (
            "must not contain a space",
            "Pass a mountpoint without spaces, e.g. "
            f"{option('mountpoint', SESSION.defaults.mountpoint)}.",
        ),
        (
            "unsupported in this environment",
            "This is not a Colab VM, so Drive cannot be mounted from code. Pass "
            f"{option('drive_dir', '/path/to/My Drive')} (or set COLAB_BOOTSTRAP_DRIVE) instead.",
        ),
        (
            "Colab Enterprise",
            "Colab Enterprise cannot mount Drive. Copy the project to the runtime (or a bucket) "
            f"and pass {option('drive_dir', None)} the folder that holds it.",
        ),
        (
            "domain policy has disabled Drive File Stream",
            "Your Google Workspace admin has disabled Drive for this account. Use a personal "
            "account, or ask the admin to enable Drive File Stream.",
        ),
        (
            "Transport endpoint is not connected",
            f"The previous mount is half torn down. Runtime > Restart session, then {retry}.",
        ),
        (
            "mount failed",
            f"Drive could not be mounted. {retry.capitalize()}; if it keeps failing, Runtime > "
            "Disconnect and delete runtime, then run the notebook again.",
        ),
    )


def _mount_error(exc: BaseException, mountpoint: str) -> DriveMountError:
    original = f"{type(exc).__name__}: {exc}"
    text = str(exc)
    fix = next((fix for needle, fix in _mount_fixes() if needle in text), None)
    if fix is None and type(exc).__name__ == "TIMEOUT":  # pexpect escaping drive.mount
        fix = f"Mounting timed out. {again().capitalize()}; Drive sometimes needs a second try."
    if fix is None:
        fix = (
            f"{again().capitalize()}; if it keeps failing, Runtime > Restart session and try again."
        )
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
            f"Off Colab, pass {option('drive_dir', '/path/to/My Drive')} or set "
            "COLAB_BOOTSTRAP_DRIVE."
        ) from exc
    try:
        drive.mount(point, force_remount=force_remount)
    except Exception as exc:  # every failure of Colab's mount becomes one error type
        raise _mount_error(exc, point) from exc


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
