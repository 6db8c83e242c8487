"""Exceptions and warnings: every message says what happened, where, and what to do next."""

from __future__ import annotations

__all__ = [
    "DRIVE_LOST",
    "ColabBootstrapError",
    "ColabBootstrapWarning",
    "DriveConnectionLostError",
    "DriveMountError",
    "DriveNotFoundError",
    "GpuNotAvailableError",
    "InvalidProjectError",
    "InvalidUrlError",
    "LinkConflictError",
    "NotInNotebookError",
    "NotOnColabError",
    "ProjectNotFoundError",
    "RequirementsError",
    "ResetError",
    "connection_lost",
    "describe",
    "first_line",
]

#: What to do when Google Drive's connection is lost (a dead mount, ENOTCONN).
DRIVE_LOST = (
    "Google Drive's connection was lost (the mount is still listed, but Drive no longer "
    "answers: Transport endpoint is not connected). Reconnect with "
    "colab_bootstrap.reset(remount=True), or re-run the setup cell with force_remount=True; "
    "restarting the session does not help, the dead mount outlives the kernel."
)


def describe(exc: BaseException) -> str:
    """An exception as a report line names it: ``Type: message``."""
    return f"{type(exc).__name__}: {exc}"


def first_line(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` cut to its first line and ``limit`` characters, for a short message.

    Some errors carry kilobytes (pexpect's TIMEOUT holds its whole buffer): the message shown
    keeps the gist, the full text stays on the exception chained as ``__cause__``.
    """
    text = describe(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def connection_lost(exc: BaseException) -> bool:
    """The error of a dead Drive mount: ``OSError`` with errno ENOTCONN (107 on Linux).

    When Colab's Drive daemon dies (a crash, an idle disconnect, ``drive.mount`` run at another
    mountpoint), its FUSE mount stays in the mount table and every access to a path under it
    fails this way until the mount is replaced.
    """
    import errno  # noqa: PLC0415 - only when an error is being classified

    return isinstance(exc, OSError) and exc.errno == errno.ENOTCONN


class ColabBootstrapError(Exception):
    """Base class of every error colab_bootstrap raises on purpose."""


class InvalidProjectError(ColabBootstrapError, ValueError):
    """The project name is not a folder path relative to My Drive."""


class InvalidUrlError(ColabBootstrapError, ValueError):
    """A URL argument (install URL, snippet notebook URL) cannot be used as given."""


class DriveNotFoundError(ColabBootstrapError):
    """No Google Drive folder could be found on this machine."""


class DriveMountError(ColabBootstrapError):
    """``google.colab.drive.mount`` failed; the message keeps Colab's own text."""


class DriveConnectionLostError(DriveMountError):
    """Google Drive's mount is dead: listed, but every access fails with ENOTCONN.

    ``colab_bootstrap.reset(remount=True)`` or ``setup(..., force_remount=True)`` reconnects;
    a session restart does not (the mount belongs to the VM, not the kernel).
    """


class ProjectNotFoundError(ColabBootstrapError):
    """The project folder does not exist in My Drive, or is not one this account can use.

    Also: something else is where it should be (a file, a FIFO, a link to nothing: left as it
    is), a folder on the way cannot be entered (permission denied), or ``create=True`` could not
    make it.
    """


class LinkConflictError(ColabBootstrapError):
    """The link cannot be made where asked; whatever is in the way is left untouched.

    The link path is taken by a real file or folder, or by a link to another folder that exists;
    or ``content_dir`` is not a folder (a file, a FIFO, a link to nothing) or cannot be written.
    """


class GpuNotAvailableError(ColabBootstrapError):
    """``gpu="require"`` was asked and no GPU is attached to the runtime."""


class NotOnColabError(ColabBootstrapError):
    """The operation exists only on a Colab runtime (restart, snippet registration)."""


class NotInNotebookError(NotOnColabError):
    """The call needs a Colab notebook cell: this process has no notebook kernel.

    Colab asks the browser (for Drive's sign-in, for snippet registration) through the kernel
    a notebook cell runs in; ``!python script.py`` or ``!colab-bootstrap ...`` have none.
    """


class RequirementsError(ColabBootstrapError):
    """Installing the project's requirements with pip failed."""


class ResetError(ColabBootstrapError, RuntimeError):
    """``reset()`` cannot run now: a project module is being imported, or a reset is under way."""


class ColabBootstrapWarning(UserWarning):
    """Something is off but the notebook can go on; the text says how to fix it."""
