"""``setup()`` and ``Project``: mount, GPU check, link, ``sys.path``, byte-code, autoreload."""

from __future__ import annotations

import os
import stat
import sys
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import _colab, _gpu, _ipython, _live, _locate, _log
from ._errors import (
    ColabBootstrapWarning,
    DriveMountError,
    GpuNotAvailableError,
    LinkConflictError,
)
from ._render import html_table, text_block

__all__ = ["Project", "current_project", "projects", "setup"]


DEFAULT_MOUNTPOINT = "/content/drive"
DEFAULT_CONTENT_DIR = "/content"

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    from typing import Literal

    GpuPolicy = Literal["warn", "require", "ignore"]


@dataclass(frozen=True)
class Project:
    """A project folder that ``setup()`` made importable."""

    name: str
    path: Path
    link: Path | None
    drive_dir: Path
    on_colab: bool
    gpus: tuple[_gpu.Gpu, ...]
    autoreload: str
    sys_path_entry: str = ""
    accelerator: str = ""
    pycache_prefix: str | None = None
    mountpoint: str | None = None  # Colab's Drive mountpoint setup() used; None off Colab
    notes: tuple[str, ...] = field(default=())
    installed: tuple[str, ...] | None = None

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("folder", str(self.path)),
            ("link", str(self.link) if self.link else "none (off Colab)"),
            ("on sys.path", self.sys_path_entry),
            ("runtime", "Colab" if self.on_colab else "not Colab"),
            ("accelerator", self.accelerator or "not checked"),
            ("autoreload", self.autoreload),
            ("byte-code", self.pycache_prefix or "Python's default (__pycache__ next to files)"),
            *self._installed_rows(),
            *(("note", note) for note in self.notes),
        ]

    def _installed_rows(self) -> list[tuple[str, str]]:
        if self.installed is None:
            return []
        return [("installed", ", ".join(self.installed) or "nothing (requirements already met)")]

    def __str__(self) -> str:
        return text_block(f"colab_bootstrap: project {self.name!r} is ready", self._rows())

    def _repr_html_(self) -> str:
        return html_table(f"colab_bootstrap: project {self.name!r} is ready", self._rows())


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
    _gpu_check(gpu)  # the cached result: warns or raises again, spawns nothing
    if autoreload and _ipython.get_shell() is not None:
        state = _ipython.enable_autoreload()
        if state != done.autoreload:
            done = replace(done, autoreload=state)
    _remember(done)
    return done


def _locate_drive(
    drive_dir: str | os.PathLike[str] | None,
    mountpoint: str | os.PathLike[str],
    *,
    colab: bool,
    force_remount: bool,
) -> _locate.DriveLocation:
    found = _locate.find_drive(drive_dir, colab=colab, mountpoint=mountpoint)
    if found is not None and not (force_remount and found.how == "colab"):
        return found
    _colab.mount(mountpoint, force_remount=force_remount)
    mydrive = _colab.mydrive_in(mountpoint)
    if mydrive is None:
        raise DriveMountError(
            f"Google Drive was mounted at {mountpoint}, but it holds no 'MyDrive' folder. "
            "Run drive.flush_and_unmount(), then re-run this cell with force_remount=True."
        )
    return _locate.DriveLocation(mydrive, "colab")


def _link(content_dir: Path, target: Path) -> Path:
    """Make ``content_dir/<target name>`` a symlink to ``target``; never touch real files."""
    link = content_dir / target.name
    if link.is_symlink():
        current = os.readlink(link)
        if current == str(target) or os.path.realpath(link) == os.path.realpath(target):
            return link
        content_dir.mkdir(parents=True, exist_ok=True)
        temporary = content_dir / f".{target.name}.colab_bootstrap-{os.getpid()}"
        if temporary.is_symlink():
            temporary.unlink()
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, link)
        warnings.warn(
            f"{link} pointed to {current}; it now points to {target}.",
            ColabBootstrapWarning,
            stacklevel=3,
        )
        return link
    if link.exists():
        kind = "folder" if link.is_dir() else "file"
        raise LinkConflictError(
            f"Cannot link {link} to {target}: a real {kind} is already there, and it is "
            "left untouched. Move or rename it (it may hold your work), or pass "
            "content_dir= another folder, then re-run."
        )
    content_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link, target_is_directory=True)
    return link


def _create(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir(parents=True)
        _log.info(__name__, "created project folder %s", folder)


def _make_importable(
    folder: Path, content_dir: str | os.PathLike[str], *, colab: bool
) -> tuple[Path | None, str]:
    """Link (on Colab, or when content_dir was given), sys.path once, byte-code, import hook."""
    link: Path | None = None
    if colab or os.fspath(content_dir) != DEFAULT_CONTENT_DIR:
        link = _link(Path(content_dir), folder)
    entry = str(link if link is not None else folder)
    if entry not in sys.path:
        sys.path.append(entry)
    if sys.pycache_prefix is None:
        sys.pycache_prefix = str(_pycache_folder())
    _live.watch([Path(entry), folder.resolve()])
    return link, entry


def _pycache_folder() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "colab_bootstrap" / "pycache"


def _gpu_check(policy: str) -> _gpu.GpuCheck | None:
    if policy == "ignore":
        return None
    result = _gpu.check()
    if not result.gpus:
        message = _gpu.no_gpu_message(result)
        if policy == "require":
            raise GpuNotAvailableError(message)
        warnings.warn(message, ColabBootstrapWarning, stacklevel=3)
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
        os.environ.get(_locate.DRIVE_ENV),
        os.environ.get("COLAB_RELEASE_TAG"),
    )
    # install=True re-reads the requirements on every run (they may have been edited).
    if not force_remount and not install and isinstance(project, str):
        again = _repeat(key, gpu, autoreload=autoreload)
        if again is not None:
            return again
    relative = _locate.validate_project(project)
    if gpu not in ("warn", "require", "ignore"):
        raise ValueError(f"gpu must be 'warn', 'require' or 'ignore', not {gpu!r}.")
    colab = _colab.on_colab()
    if gpu == "require":
        gpu_result = _gpu_check(gpu)  # no GPU: raise before mounting (the sign-in is wasted)
    elif gpu == "warn":
        _gpu.prefetch()  # nvidia-smi runs while Drive is mounted and the folder linked
    drive = _locate_drive(drive_dir, mountpoint, colab=colab, force_remount=force_remount)
    if create:
        _create(drive.path.joinpath(*relative.parts))
    folder = _locate.project_path(drive.path, relative)
    installed: tuple[str, ...] | None = None
    if install:
        from . import _requirements  # noqa: PLC0415 - importlib.metadata etc. only when asked

        installed = _requirements.install_missing(folder)

    link, entry = _make_importable(folder, content_dir, colab=colab)
    reload_state = _ipython.enable_autoreload() if autoreload else "off (autoreload=False)"
    if gpu != "require":
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
        installed=installed,
        mountpoint=os.fspath(mountpoint) if colab else None,
    )
    _remember(result)
    _done[key] = result
    return result
