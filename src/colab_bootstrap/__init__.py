"""colab_bootstrap: one cell to mount Drive, check the GPU and wire your dev folder on Colab.

>>> import colab_bootstrap
>>> colab_bootstrap.setup("fastai_course2")  # doctest: +SKIP

Importing the package loads nothing but the version and the exception classes: every other
public name is imported on first use (``doctor()``'s module on its first call, once the GPU
probes run), so ``import colab_bootstrap`` stays almost free.
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
    import os

    from ._accelerator import Gpu
    from ._dedupe import DedupePlan, dedupe
    from ._doctor import Check, Report
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
    "gpus": "_gpu",
    "register_snippets": "_snippets",
    "requirements_report": "_requirements",
    "reset": "_reset",
    "setup": "_setup",
    "snippets": "_snippets",
    "stale": "_stale",
}


def doctor(
    project: str | None = None,
    *,
    drive_dir: str | os.PathLike[str] | None = None,
    mountpoint: str | os.PathLike[str] | None = None,
    content_dir: str | os.PathLike[str] | None = None,
    network: bool = True,
) -> Report:
    """Diagnose the runtime, Drive and the project; change nothing; never raise for a finding.

    Looks where the last ``setup()`` of this process looked, unless told otherwise.

    Args:
        project: folder relative to My Drive; default the project set up last in this process.
        drive_dir: the My Drive folder; default what ``setup()`` used (found as it finds it).
        mountpoint: where Colab mounts Drive; default what ``setup()`` used, else
            ``/content/drive``.
        content_dir: where ``setup()`` makes the link; default what ``setup()`` used.
        network: allow the update check (a short HTTP request); False skips it.

    Returns:
        A ``Report``: ``print(report)``, or let the notebook show it as a table. Whatever the
        project holds (special files, deep or huge files, odd names) is a finding or a file
        skipped with its reason; a walk or a read cut short by a limit is a warning that says
        so, never "ok".

    Raises:
        ValueError: ``drive_dir``, ``mountpoint`` or ``content_dir`` is not a folder path (not
            a str or os.PathLike, or it holds a NUL character). Nothing else: every problem
            found is a check in the report.
    """
    # Defined here, not in ._doctor, so that the GPU probes start before anything heavy is
    # imported: nvidia-smi answers while ._doctor loads and the project is walked, and the
    # doctor's GPU check collects that run. The options are checked first (nothing starts for
    # a call that raises); ._session and ._probe import only light standard-library modules.
    import time  # noqa: PLC0415

    from ._session import SESSION  # noqa: PLC0415

    started = time.perf_counter()
    location = SESSION.location(drive_dir, mountpoint, content_dir)
    SESSION.start_probes()
    from . import _doctor  # noqa: PLC0415

    return _doctor.run(project, location=location, network=network, started=started)


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
