"""The one seam to Colab: am I on Colab, where is Drive mounted and is it alive, mount it, restart.

Everything that imports ``google.colab`` lives here, so tests fake exactly one thing. What the
code relies on, from Colab's own ``google/colab/drive.py`` (colabtools, checked at commit 3c07d77):

- A Colab VM has ``COLAB_RELEASE_TAG`` in its environment and the file ``/var/colab/hostname``
  (``drive.mount`` refuses to run without it). ``COLAB_GPU`` and ``import google.colab`` are not
  evidence: both vary or exist elsewhere.
- A mounted Drive is a FUSE mount of type ``fuse.drive``; the user's files are under
  ``<mountpoint>/MyDrive`` (the old ``<mountpoint>/My Drive`` spelling still resolves). So
  "mounted" is read from the mount table, never from "a MyDrive folder exists": a notebook that
  wrote to ``/content/drive/MyDrive/...`` before mounting made a plain local folder there, which
  is lost with the runtime, and over which Colab refuses to mount.
- When the Drive daemon dies (a crash, an idle disconnect, ``drive.mount`` run at another
  mountpoint) its mount stays in the table and every access fails with ENOTCONN ("Transport
  endpoint is not connected"); a kernel restart does not clear it, ``drive.mount(mountpoint,
  force_remount=True)`` does.
- ``drive.mount`` first asks the browser for Drive access (which needs a notebook kernel: from a
  ``!python`` subprocess it raises ``AttributeError: 'NoneType' object has no attribute
  'kernel'``), and only then sees that Drive is already mounted. Mounting anew runs
  ``pkill -9 -x drive``: every Drive daemon dies, so a Drive mounted at another mountpoint
  (``/content/gdrive`` in older tutorials) becomes a dead mount. Hence: a live Drive mount is
  used where it is, and ``drive.mount`` is called only when there is none, or to replace a dead
  one at the same mountpoint.
- Its failures arrive as ``ValueError``/``NotImplementedError`` with fixed texts, a
  ``MessageError`` when the sign-in pop-up is refused, or pexpect's ``TIMEOUT`` when the daemon
  hangs (after ``timeout_ms / 1000 + 30`` seconds). They are told apart by type first: a
  ``TIMEOUT``'s text holds pexpect's buffer and drive.mount's expect patterns, among them
  "The domain policy has disabled Drive File Stream", which says nothing about this failure.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Literal, NamedTuple

from ._errors import (
    ColabBootstrapError,
    DriveMountError,
    NotInNotebookError,
    NotOnColabError,
    first_line,
)
from ._session import SESSION, again, option

#: "live": Drive answers there; "dead": in the mount table, but every access fails with
#: ENOTCONN; "absent": no Drive mount there.
MountState = Literal["live", "dead", "absent"]

__all__ = [
    "DRIVE_FS_TYPE",
    "HOSTNAME_FILE",
    "MOUNT_TABLE",
    "DriveMount",
    "MountState",
    "drive_mountpoints",
    "ensure_mounted",
    "find_mount",
    "kill_kernel",
    "local_entries",
    "mount",
    "mydrive_in",
    "on_colab",
    "register_snippets",
    "release_tag",
]

#: The file every Colab VM has; its presence is the second sign of being on Colab.
HOSTNAME_FILE = "/var/colab/hostname"
#: This process's mount table (Linux).
MOUNT_TABLE = "/proc/self/mounts"
#: The file-system type of Colab's Drive mount (drive.py's flush_and_unmount looks for it).
DRIVE_FS_TYPE = "fuse.drive"
#: The most of the mount table read (a container can list thousands of mounts; each ~100 B).
_TABLE_LIMIT = 4 * 1024 * 1024
#: How many local entries at a mountpoint a message names.
_SHOWN = 3


def release_tag() -> str | None:
    """Return ``COLAB_RELEASE_TAG`` (set on every Colab runtime), or None."""
    return os.environ.get("COLAB_RELEASE_TAG") or None


def on_colab(hostname_file: str | os.PathLike[str] = HOSTNAME_FILE) -> bool:
    """Tell whether this process runs on a Colab runtime (the release tag or the hostname file)."""
    return release_tag() is not None or os.path.exists(hostname_file)


def _unescape(field: str) -> str:
    """A mount table field: the kernel writes space, tab, newline and backslash octal-escaped."""
    if "\\" not in field:
        return field
    out: list[str] = []
    index = 0
    while index < len(field):
        octal = field[index + 1 : index + 4]
        if field[index] == "\\" and len(octal) == 3 and all(c in "01234567" for c in octal):
            out.append(chr(int(octal, 8)))
            index += 4
        else:
            out.append(field[index])
            index += 1
    return "".join(out)


def drive_mountpoints(table: str = MOUNT_TABLE) -> list[str]:
    """Every mountpoint of a ``fuse.drive`` file system in the mount table, in its order.

    Dead mounts included (the table keeps them). Empty where there is no table (not Linux) or
    it cannot be read.
    """
    try:
        with open(table, "rb") as handle:
            data = handle.read(_TABLE_LIMIT)
    except OSError:
        return []
    points: list[str] = []
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        fields = line.split(" ")
        if len(fields) >= 3 and fields[2] == DRIVE_FS_TYPE:
            point = _unescape(fields[1])
            if point not in points:
                points.append(point)
    return points


class DriveMount(NamedTuple):
    """A Drive mountpoint and its state; ``error`` is why a dead mount is dead."""

    point: str
    state: MountState
    error: str = ""


def _state(point: str) -> DriveMount:
    """Whether the Drive mounted at ``point`` answers (one stat of the mountpoint)."""
    try:
        os.stat(point)
    except OSError as exc:
        return DriveMount(point, "dead", first_line(exc))
    return DriveMount(point, "live")


def find_mount(mountpoint: str | os.PathLike[str], table: str = MOUNT_TABLE) -> DriveMount:
    """The Drive mount to use: the one at ``mountpoint``, else one mounted elsewhere, else none.

    A Drive mounted at another mountpoint (say ``/content/gdrive``) is the one to use: mounting
    again at ``mountpoint`` would kill it. A live one elsewhere is preferred to a dead one.
    Without any, the result is ``absent`` at ``mountpoint``.
    """
    point = os.path.abspath(os.fspath(mountpoint))
    mounted = drive_mountpoints(table)
    if point in mounted:
        return _state(point)
    others = [_state(other) for other in mounted]
    live = [found for found in others if found.state == "live"]
    if live or others:
        return (live or others)[0]
    return DriveMount(point, "absent")


def mydrive_in(mountpoint: str | os.PathLike[str]) -> Path | None:
    """Return ``<mountpoint>/MyDrive`` (or the old ``My Drive`` alias) if it is there.

    ``os.path.isdir`` on purpose: on a dead mount it answers False where ``Path.is_dir()``
    raises (Python 3.12+).
    """
    for name in ("MyDrive", "My Drive"):
        candidate = os.path.join(os.fspath(mountpoint), name)
        if os.path.isdir(candidate):
            return Path(candidate)
    return None


def local_entries(mountpoint: str) -> list[str]:
    """What is in ``mountpoint`` when no Drive is mounted there (a few names), else nothing."""
    try:
        with os.scandir(mountpoint) as entries:
            names = []
            for entry in entries:
                names.append(entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""))
                if len(names) > _SHOWN:
                    break
    except OSError:
        return []
    return sorted(names)


def _fix_for(exc: BaseException, mountpoint: str, waited: float, timeout: float) -> str:
    """What to do after ``drive.mount`` raised ``exc``: by type first, then Colab's fixed texts."""
    retry = again()
    if isinstance(exc, ValueError):
        return _value_fix(str(exc), mountpoint, retry)
    kind = type(exc)
    text = str(exc)
    cases: tuple[tuple[bool, str], ...] = (
        (
            kind.__name__ == "TIMEOUT" and kind.__module__.startswith("pexpect"),
            f"Drive did not finish mounting: Colab gave up after {waited:.0f} s (its limit is "
            f"the mount timeout, {timeout:g} s, plus 30 s), so the Drive daemon hung. "
            f"{retry.capitalize()}; if it hangs again, Runtime > Disconnect and delete runtime. "
            f"To wait longer, pass {option('mount_timeout', 300)}.",
        ),
        (
            kind.__name__ == "MessageError" and "credential propagation" in text,
            f"The Google sign-in pop-up was closed or refused. {retry.capitalize()} and allow "
            "access for the account that holds the project.",
        ),
        (
            kind.__name__ == "MessageError",
            f"The browser did not answer Colab's request for Drive access. "
            f"{retry.capitalize()} and answer the sign-in pop-up.",
        ),
        (
            isinstance(exc, AttributeError) and "kernel" in text,
            "Mounting Drive needs a notebook cell: Colab asks the browser for access through "
            "the notebook's kernel, and this process (a `!python` script or a "
            "`!colab-bootstrap` command) has none. Run colab_bootstrap.setup(...) in a cell; "
            "once a cell has mounted Drive, scripts and commands can use it too.",
        ),
        (
            isinstance(exc, KeyError) and "TBE_EPHEM_CREDS_ADDR" in text,
            "This runtime lacks Colab's credentials service (TBE_EPHEM_CREDS_ADDR is not set), "
            "so Drive cannot be mounted from code here. Mount it from the Files panel, or pass "
            f"{option('drive_dir', '/path/to/My Drive')}.",
        ),
        (
            isinstance(exc, NotImplementedError) and "Colab Enterprise" in text,
            "Colab Enterprise cannot mount Drive. Copy the project to the runtime (or a "
            f"bucket) and pass {option('drive_dir', None)} the folder that holds it.",
        ),
        (
            isinstance(exc, NotImplementedError),
            "This is not a Colab VM, so Drive cannot be mounted from code. Pass "
            f"{option('drive_dir', '/path/to/My Drive')} (or set COLAB_BOOTSTRAP_DRIVE) instead.",
        ),
    )
    for matched, fix in cases:
        if matched:
            return fix
    return (
        f"{retry.capitalize()}; if it keeps failing, Runtime > Disconnect and delete runtime, "
        "then run the notebook again."
    )


def _value_fix(text: str, mountpoint: str, retry: str) -> str:
    """drive.mount's ValueErrors: fixed texts, matched from their start."""
    elsewhere = f"or pass another {option('mountpoint', None)}"
    fixes = (
        (
            "Mountpoint must not contain a space",
            "Pass a mountpoint without spaces, e.g. "
            f"{option('mountpoint', SESSION.defaults.mountpoint)}.",
        ),
        (
            "Mountpoint must not be a symlink",
            f"{mountpoint} is a symlink. Remove it ({elsewhere}), then {retry}.",
        ),
        (
            "Mountpoint must not already contain files",
            f"{mountpoint} already holds files. Move them elsewhere ({elsewhere}), then {retry}.",
        ),
        (
            "Mountpoint must either be a directory or not exist",
            f"{mountpoint} is a file. Move it away ({elsewhere}), then {retry}.",
        ),
        (
            "Mountpoint must be in a directory that exists",
            f"The folder that should hold {mountpoint} does not exist. Create it "
            f"({elsewhere}), then {retry}.",
        ),
        (
            "The domain policy has disabled Drive File Stream",
            "Your Google Workspace admin has disabled Drive for this account. Use a personal "
            "account, or ask the admin to enable Drive File Stream.",
        ),
        (
            "mount failed: timeout during initial read of root folder",
            "Colab labels the failure a timeout reading the root of My Drive, but it gives that "
            "label to every failure once one mount of this runtime timed out, so the cause is "
            f"not known. {retry.capitalize()}; if it fails again, Runtime > Disconnect and "
            "delete runtime. Once Drive is mounted, colab_bootstrap.doctor() counts the items "
            "in the root of My Drive (thousands of them make mounting time out).",
        ),
        (
            "mount failed",
            f"Drive could not be mounted. {retry.capitalize()}; if it keeps failing, Runtime > "
            "Disconnect and delete runtime, then run the notebook again.",
        ),
    )
    for start, fix in fixes:
        if text.startswith(start):
            return fix
    if text.endswith("must be a directory if present"):
        return (
            f"Colab's Drive settings folder is a file ({text.split(' must ', 1)[0]}). Move it "
            f"away, then {retry}."
        )
    return f"{retry.capitalize()}; if it keeps failing, Runtime > Disconnect and delete runtime."


def mount(
    mountpoint: str | os.PathLike[str],
    *,
    force_remount: bool = False,
    timeout: float | None = None,
) -> float:
    """Mount Google Drive through ``google.colab.drive.mount``; return the seconds it took.

    ``timeout``: seconds ``drive.mount`` may wait for Drive (its ``timeout_ms``; Colab's own
    default, 120 s, when None).

    Raises:
        DriveMountError: whatever Colab raised: a short message (Colab's first line and the
            fix), the full exception chained as ``__cause__``.
    """
    point = os.fspath(mountpoint)
    limit = SESSION.defaults.mount_timeout if timeout is None else timeout
    try:
        from google.colab import drive  # noqa: PLC0415 - Colab only, never at import time
    except ImportError as exc:
        raise DriveMountError(
            f"Cannot mount Google Drive at {point}: google.colab is not importable "
            f"({first_line(exc)}). Off Colab, pass {option('drive_dir', '/path/to/My Drive')} "
            "or set COLAB_BOOTSTRAP_DRIVE."
        ) from exc
    started = time.monotonic()
    try:
        drive.mount(point, force_remount=force_remount, timeout_ms=round(limit * 1000))
    except Exception as exc:  # every failure of Colab's mount becomes one error type
        waited = time.monotonic() - started
        fix = _fix_for(exc, point, waited, limit)
        raise DriveMountError(
            f"Mounting Google Drive at {point} failed after {waited:.1f} s "
            f"({first_line(exc)}). {fix}"
        ) from exc
    return time.monotonic() - started


def _local_files_error(point: str, names: list[str]) -> DriveMountError:
    shown = ", ".join(names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")
    return DriveMountError(
        f"{point} is not a Google Drive mount, but it holds local files ({shown}): something "
        "wrote there before Drive was mounted (e.g. a cell that saved to "
        f"{point}/MyDrive/...). They live on this runtime's disk and are lost with it, and "
        "Colab refuses to mount Drive over them. Move them aside (in a cell: "
        f"!mv {point} {point}_local), then {again()}; or pass {option('mountpoint', None)} "
        "another folder."
    )


def ensure_mounted(
    mountpoint: str | os.PathLike[str],
    *,
    force_remount: bool = False,
    timeout: float | None = None,
) -> tuple[Path, str]:
    """My Drive, mounted: (the ``MyDrive`` folder, a line saying what was done).

    A live Drive mount is used as it is, wherever it is (mounting again elsewhere would kill
    it), unless ``force_remount``, which remounts it where it is. A dead mount is remounted in
    place. Without any, Drive is mounted at ``mountpoint``, unless local files are there.

    Raises:
        DriveMountError: local files at the mountpoint, Colab's mount failed, or it ended
            without a live Drive.
    """
    found = find_mount(mountpoint)
    point = found.point
    asked = os.path.abspath(os.fspath(mountpoint))
    if found.state == "live" and not force_remount:
        mydrive = mydrive_in(point)
        if mydrive is not None:
            if point == asked:
                return mydrive, f"already mounted at {point}"
            return mydrive, (
                f"using the Drive already mounted at {point} (mounting it again at {asked} "
                "would disconnect that one)"
            )
    if found.state == "absent":
        names = local_entries(point)
        if names:
            raise _local_files_error(point, names)
        took = mount(point, force_remount=force_remount, timeout=timeout)
        done = f"mounted at {point} in {took:.1f} s"
    else:
        why = {
            "dead": f"the connection was lost: {found.error}",
            "live": option("force_remount") if force_remount else "it showed no MyDrive folder",
        }[found.state]
        took = mount(point, force_remount=True, timeout=timeout)
        done = f"remounted at {point} in {took:.1f} s ({why})"
    after = _state(point) if point in drive_mountpoints() else DriveMount(point, "absent")
    mydrive = mydrive_in(point) if after.state == "live" else None
    if mydrive is None:
        what = {
            "live": "it shows no MyDrive folder",
            "dead": f"it does not answer ({after.error})",
            "absent": "no Drive mount is there",
        }[after.state]
        raise DriveMountError(
            f"Colab reported Google Drive mounted at {point}, but {what}. In a cell run "
            f"from google.colab import drive; drive.flush_and_unmount(), then {again()} with "
            f"{option('force_remount')}."
        )
    return mydrive, done


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

    try:
        snippets.register(url)
    except Exception as exc:
        if not (isinstance(exc, AttributeError) and "kernel" in str(exc)):
            raise ColabBootstrapError(  # e.g. a MessageError: the browser said no
                f"Colab did not register the snippet notebook ({first_line(exc)}). Paste the "
                "URL under Tools > Settings > Site > Custom snippet notebook URL instead."
            ) from exc
        raise NotInNotebookError(
            "Registering snippets needs a notebook cell: Colab asks the browser through the "
            "notebook's kernel, and this process (a `!python` script or a `!colab-bootstrap` "
            f"command) has none ({first_line(exc)}). Run "
            f"colab_bootstrap.register_snippets({url!r}) in a cell, or paste the URL under "
            "Tools > Settings > Site > Custom snippet notebook URL."
        ) from exc
