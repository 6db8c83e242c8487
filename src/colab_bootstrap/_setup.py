"""``setup()``: one call that makes a Drive project folder importable in this notebook.

This module is light on purpose: ``setup()`` starts the GPU probes first and only then imports
the modules that do the work (``_wiring``, ``_project``...), so nvidia-smi answers while they
load and while Drive is mounted. A re-run of the same call takes the fast path below.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings

from . import _ipython, _probe
from ._errors import ColabBootstrapWarning, GpuNotAvailableError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from typing import Literal

    from ._gpu import GpuCheck
    from ._project import Project

    GpuPolicy = Literal["warn", "require", "ignore"]

__all__ = ["current_project", "projects", "setup"]


DEFAULT_MOUNTPOINT = "/content/drive"
DEFAULT_CONTENT_DIR = "/content"
#: Environment variable that points at the My Drive folder (after drive_dir, before the rest).
DRIVE_ENV = "COLAB_BOOTSTRAP_DRIVE"
_GPU_TIMEOUT = 5.0  # seconds; the same default as gpus()

_projects: dict[str, Project] = {}


def projects() -> tuple[Project, ...]:
    """Every project set up in this process, oldest first."""
    return tuple(_projects.values())


def current_project() -> Project | None:
    """The project set up last in this process, if any."""
    return next(reversed(_projects.values()), None) if _projects else None


# setup() arguments -> the Project they produced, for the fast path of a re-run.
_done: dict[tuple[object, ...], Project] = {}


def _remember(project: Project) -> None:
    """Record ``project`` as the latest one set up (re-running moves it to the end)."""
    _projects.pop(str(project.path), None)
    _projects[str(project.path)] = project


def _repeat(key: tuple[object, ...], gpu: str, *, autoreload: bool) -> Project | None:
    """Re-run of the same setup() call: verify the result still holds, with a few syscalls.

    Returns None (take the full path) when anything changed: the entry left sys.path, the
    link was re-pointed or removed, the folder vanished (e.g. Drive was unmounted).
    """
    done = _done.get(key)
    if done is None or done.sys_path_entry not in sys.path:
        return None
    try:
        if done.link is not None and os.readlink(done.link) != str(done.path):
            return None
        if not stat.S_ISDIR(os.stat(done.sys_path_entry).st_mode):
            return None
    except OSError:
        return None
    _gpu_check(gpu, stacklevel=4)  # the cached result: warns or raises again, spawns nothing
    if autoreload and _ipython.get_shell() is not None:
        state = _ipython.enable_autoreload()
        if state != done.autoreload:
            from dataclasses import replace  # noqa: PLC0415 - loaded by the first setup()

            done = replace(done, autoreload=state)
    _remember(done)
    return done


def _gpu_check(policy: str, *, stacklevel: int = 3) -> GpuCheck | None:
    """Collect the GPU check; warn (``"warn"``) or raise (``"require"``) without a GPU."""
    if policy == "ignore":
        return None
    from . import _gpu  # noqa: PLC0415 - imported after the probes were started

    result = _gpu.check()
    if not result.gpus:
        message = _gpu.no_gpu_message(result)
        if policy == "require":
            raise GpuNotAvailableError(message)
        warnings.warn(message, ColabBootstrapWarning, stacklevel=stacklevel)
    return result


def setup(  # noqa: PLR0913 - the signature is the product's contract
    project: str,
    *,
    drive_dir: str | os.PathLike[str] | None = None,
    mountpoint: str | os.PathLike[str] = DEFAULT_MOUNTPOINT,
    content_dir: str | os.PathLike[str] = DEFAULT_CONTENT_DIR,
    gpu: GpuPolicy = "warn",
    force_remount: bool = False,
    create: bool = False,
    autoreload: bool = True,
    install: bool = False,
) -> Project:
    """Make a Drive project folder importable in this notebook, in one call.

    Mounts Drive on Colab (only when needed), checks the GPU, links
    ``<content_dir>/<name>`` to the project folder, puts it on ``sys.path`` once, keeps
    byte-code out of Drive, and turns on autoreload inside IPython. Safe to re-run.

    Args:
        project: folder path relative to My Drive with ``/`` separators.
        drive_dir: the My Drive folder; default ``$COLAB_BOOTSTRAP_DRIVE``, Colab's mount,
            or the Google Drive for desktop folder.
        mountpoint: where Colab mounts Drive.
        content_dir: where the link is made (always on Colab; off Colab only when given).
        gpu: "warn" (default), "require" (raise without GPU) or "ignore".
        force_remount: remount Drive even when it is mounted.
        create: create the project folder when it is missing.
        autoreload: turn on IPython's autoreload (mode 2) when running in IPython.
        install: pip-install the unmet requirements of the project's requirements.txt /
            pyproject.toml with this interpreter's pip (no process at all when all are met).

    Raises:
        InvalidProjectError: a bad project name (nothing touched).
        DriveNotFoundError: no Drive folder off Colab.
        DriveMountError: Colab's mount failed.
        ProjectNotFoundError: the folder is missing (with close names).
        LinkConflictError: a real file or folder holds the link path.
        GpuNotAvailableError: ``gpu="require"`` and no GPU.
        RequirementsError: ``install=True`` and pip failed (pip's text and the fix).
    """
    key = (
        project,
        None if drive_dir is None else os.fspath(drive_dir),
        os.fspath(mountpoint),
        os.fspath(content_dir),
        gpu,
        create,
        autoreload,
        os.environ.get(DRIVE_ENV),
        os.environ.get("COLAB_RELEASE_TAG"),
    )
    # install=True re-reads the requirements on every run (they may have been edited).
    if not force_remount and not install and isinstance(project, str):
        again = _repeat(key, gpu, autoreload=autoreload)
        if again is not None:
            return again
    if gpu not in ("warn", "require", "ignore"):
        raise ValueError(f"gpu must be 'warn', 'require' or 'ignore', not {gpu!r}.")
    if gpu != "ignore":
        # First of all: nvidia-smi answers while the modules below load and Drive mounts.
        _probe.start(_GPU_TIMEOUT)
    from . import _colab, _locate, _wiring  # noqa: PLC0415 - after the probes started
    from ._project import Project  # noqa: PLC0415

    relative = _locate.validate_project(project)
    colab = _colab.on_colab()
    gpu_result = _gpu_check(gpu) if gpu == "require" else None  # raise before mounting
    drive = _wiring.locate_drive(drive_dir, mountpoint, colab=colab, force_remount=force_remount)
    if create:
        _wiring.create(drive.path.joinpath(*relative.parts))
    folder = _locate.project_path(drive.path, relative)
    installed: tuple[str, ...] | None = None
    if install:
        from . import _requirements  # noqa: PLC0415 - importlib.metadata etc. only when asked

        installed = _requirements.install_missing(folder)

    make_link = colab or os.fspath(content_dir) != DEFAULT_CONTENT_DIR
    link, entry = _wiring.make_importable(folder, content_dir, make_link=make_link)
    reload_state = _ipython.enable_autoreload() if autoreload else "off (autoreload=False)"
    if gpu == "warn":
        gpu_result = _gpu_check(gpu)

    result = Project(
        name=str(relative),
        path=folder,
        link=link,
        drive_dir=drive.path,
        on_colab=colab,
        gpus=gpu_result.gpus if gpu_result else (),
        autoreload=reload_state,
        sys_path_entry=entry,
        accelerator=gpu_result.summary if gpu_result else "not checked (gpu='ignore')",
        pycache_prefix=sys.pycache_prefix,
        mountpoint=os.fspath(mountpoint) if colab else None,
        installed=installed,
    )
    _remember(result)
    _done[key] = result
    return result
