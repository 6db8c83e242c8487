"""colab_bootstrap: one cell to mount Drive, check the GPU and wire your dev folder on Colab.

>>> import colab_bootstrap
>>> colab_bootstrap.setup("fastai_course2")  # doctest: +SKIP

Importing the package loads nothing but the version and the exception classes: every other
public name is imported on first use, so ``import colab_bootstrap`` stays almost free.
"""

from __future__ import annotations

from ._errors import (
    ColabBootstrapError,
    ColabBootstrapWarning,
    DriveConnectionLostError,
    DriveMountError,
    DriveNotFoundError,
    GpuNotAvailableError,
    InvalidProjectError,
    InvalidUrlError,
    LinkConflictError,
    NotInNotebookError,
    NotOnColabError,
    ProjectNotFoundError,
    RequirementsError,
    ResetError,
)
from ._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._accelerator import Gpu
    from ._dedupe import DedupePlan, dedupe
    from ._doctor import Check, Report, doctor
    from ._gpu import gpus
    from ._project import Project
    from ._requirements import RequirementsReport, requirements_report
    from ._reset import ResetReport, reset
    from ._setup import setup
    from ._snippets import register_snippets, snippets
    from ._stale import StaleModule, stale
    from ._update import UpdateStatus, check_update

__all__ = [
    "Check",
    "ColabBootstrapError",
    "ColabBootstrapWarning",
    "DedupePlan",
    "DriveConnectionLostError",
    "DriveMountError",
    "DriveNotFoundError",
    "Gpu",
    "GpuNotAvailableError",
    "InvalidProjectError",
    "InvalidUrlError",
    "LinkConflictError",
    "NotInNotebookError",
    "NotOnColabError",
    "Project",
    "ProjectNotFoundError",
    "Report",
    "RequirementsError",
    "RequirementsReport",
    "ResetError",
    "ResetReport",
    "StaleModule",
    "UpdateStatus",
    "__version__",
    "check_update",
    "dedupe",
    "doctor",
    "gpus",
    "register_snippets",
    "requirements_report",
    "reset",
    "setup",
    "snippets",
    "stale",
]

# Public name -> private module that defines it, imported on first attribute access (PEP 562).
_LAZY = {
    "Check": "_doctor",
    "DedupePlan": "_dedupe",
    "Gpu": "_accelerator",
    "Project": "_project",
    "Report": "_doctor",
    "RequirementsReport": "_requirements",
    "ResetReport": "_reset",
    "StaleModule": "_stale",
    "UpdateStatus": "_update",
    "check_update": "_update",
    "dedupe": "_dedupe",
    "doctor": "_doctor",
    "gpus": "_gpu",
    "register_snippets": "_snippets",
    "requirements_report": "_requirements",
    "reset": "_reset",
    "setup": "_setup",
    "snippets": "_snippets",
    "stale": "_stale",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'colab_bootstrap' has no attribute {name!r}")
    from importlib import import_module  # noqa: PLC0415 - already loaded by Python itself

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
