"""Exceptions and warnings: every message says what happened, where, and what to do next."""

from __future__ import annotations

__all__ = [
    "ColabBootstrapError",
    "ColabBootstrapWarning",
    "DriveMountError",
    "DriveNotFoundError",
    "GpuNotAvailableError",
    "InvalidProjectError",
    "InvalidUrlError",
    "LinkConflictError",
    "NotOnColabError",
    "ProjectNotFoundError",
    "RequirementsError",
    "ResetError",
    "describe",
]


def describe(exc: BaseException) -> str:
    """An exception as a report line names it: ``Type: message``."""
    return f"{type(exc).__name__}: {exc}"


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


class ProjectNotFoundError(ColabBootstrapError):
    """The project folder does not exist in My Drive."""


class LinkConflictError(ColabBootstrapError):
    """The link path is taken by a real file or directory, which is left untouched."""


class GpuNotAvailableError(ColabBootstrapError):
    """``gpu="require"`` was asked and no GPU is attached to the runtime."""


class NotOnColabError(ColabBootstrapError):
    """The operation exists only on a Colab runtime (restart, snippet registration)."""


class RequirementsError(ColabBootstrapError):
    """Installing the project's requirements with pip failed."""


class ResetError(ColabBootstrapError, RuntimeError):
    """``reset()`` cannot run now: a project module is being imported, or a reset is under way."""


class ColabBootstrapWarning(UserWarning):
    """Something is off but the notebook can go on; the text says how to fix it."""
