"""``setup()``: make a Drive project folder importable in this notebook, in one call, safely twice.

The steps, each of which leaves everything as it was when it refuses: mount Drive (on Colab, only
when it is not mounted), create the folder (when asked), install missing requirements (when
asked), link it into ``/content``, put it on ``sys.path`` once, let the import hook watch it, turn
on autoreload, and collect the GPU check.

The GPU probes start before anything heavy is imported (only the light modules are imported at
the top here), so nvidia-smi answers while Drive mounts and the folder is linked. A re-run of
the same call takes the fast path: a few syscalls that check the result still holds.
"""

from __future__ import annotations

import os
import stat
import sys
import warnings

from . import _ipython
from ._errors import ColabBootstrapWarning, LinkConflictError
from ._session import (
    GPU_POLICIES,
    SESSION,
    Location,
    SetupRecord,
    again,
    flag,
    option,
    seconds,
    shown,
    too_long,
)

TYPE_CHECKING = False

if TYPE_CHECKING:  # the heavy modules are imported inside setup(), once the probes run
    from pathlib import Path

    from ._locate import DriveLocation
    from ._project import Project
    from ._session import GpuPolicy

__all__ = ["setup"]


def _repeat(
    key: tuple[object, ...], location: Location, gpu: GpuPolicy, *, autoreload: bool
) -> Project | None:
    """Re-run of the same setup() call: verify the result still holds, with a few syscalls.

    Returns None (take the full path) when anything changed: the entry left sys.path, the
    link was re-pointed or removed, the folder vanished (e.g. Drive was unmounted).
    """
    done = SESSION.reruns.get(key)
    if done is None or done.sys_path_entry not in sys.path:
        return None
    try:
        if done.link is not None and os.readlink(done.link) != str(done.path):
            return None
        if not stat.S_ISDIR(os.stat(done.sys_path_entry).st_mode):
            return None
    except OSError:
        return None
    from . import _gpu  # noqa: PLC0415 - loaded by the first setup() already

    _gpu.enforce(gpu, stacklevel=3)  # the kept result: warns or raises again, runs nothing
    if autoreload and _ipython.get_shell() is not None:
        state = _ipython.enable_autoreload()
        if state != done.autoreload:
            from dataclasses import replace  # noqa: PLC0415 - rare: autoreload changed

            done = replace(done, autoreload=state)
    SESSION.remember(SetupRecord(done, location), key)
    return done


def _find_or_mount(
    location: Location, *, colab: bool, force_remount: bool, timeout: float
) -> tuple[DriveLocation, str | None]:
    """My Drive (mounting it first on Colab when needed), and what was done to Drive there."""
    from . import _colab, _locate  # noqa: PLC0415 - imported once the probes run

    given = _locate.given_drive(location.drive_dir)
    if given is not None:
        return given, None
    if not colab:
        return _locate.desktop_drive(), None
    mydrive, done = _colab.ensure_mounted(
        location.mountpoint, force_remount=force_remount, timeout=timeout
    )
    return _locate.DriveLocation(mydrive, "colab"), done


def _create(folder: Path) -> None:
    """Create the project folder (and its parents) where nothing is; never over anything.

    Something in the way (a file, a FIFO, a link to nothing, a folder that cannot be entered)
    is left as it is, for ``project_path`` to name.

    Raises:
        ProjectNotFoundError: the folder could not be made (no permission, a read-only disk).
        DriveConnectionLostError: Drive's connection was lost (a dead mount).
    """
    from . import _locate, _log  # noqa: PLC0415 - only when asked to create

    if os.path.lexists(folder) or _locate.obstacle(folder) is not None:
        return
    try:
        folder.mkdir(parents=True)
    except FileExistsError:  # made meanwhile: project_path() looks at what is there now
        return
    except OSError as exc:
        from ._errors import (  # noqa: PLC0415 - rare: a failure
            DRIVE_LOST,
            DriveConnectionLostError,
            ProjectNotFoundError,
            connection_lost,
        )

        if connection_lost(exc):
            raise DriveConnectionLostError(f"Cannot create {folder}. {DRIVE_LOST}") from exc
        raise ProjectNotFoundError(
            f"Could not create the project folder {folder}: {exc.strerror or exc}. Create it "
            f"yourself, or pass a project path in a folder this account can write to, then "
            f"{again()}."
        ) from exc
    _log.info(__name__, "created project folder %s", folder)


def _check_link_place(link: Path, target: Path, project: str) -> None:
    """Refuse a link that cannot be made, before anything changes (reads only).

    Raises:
        ValueError: the link's path would be longer than a path may be.
        LinkConflictError: the folder for links is not a folder and cannot be made one (a file,
            a FIFO, a link to nothing on the way, or a folder this account cannot enter), or
            the link's place is taken (see ``_link_plan``).
    """
    from . import _locate  # noqa: PLC0415 - imported once the probes run

    long = too_long(str(link))
    if long:
        raise ValueError(
            f"The link {shown(str(link))} would be too long: {long}. Pass a shorter "
            f"{option('content_dir', None)} or {option('link_name', None)}."
        )
    blocked = _locate.obstacle(link.parent)
    if blocked is not None:
        where, what = blocked
        raise LinkConflictError(
            f"Cannot make the link {link}: {where} is {what}, where the folder for links "
            f"should be, and it is left as it is. Pass {option('content_dir', None)} a folder "
            f"(one that exists, or that can be made), then {again()}."
        )
    try:
        _link_plan(link, target, project)
    except OSError as exc:
        raise _cannot_link(link, target, exc) from exc


def _target_gone(link: Path) -> bool:
    """The symlink's target is gone (a vanished folder); one that cannot be read is not."""
    try:
        os.stat(link)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:  # e.g. a dead Drive mount: the folder may well come back
        return False
    return False


def _whose(real: str) -> str:
    """Who made the folder a link points to: a project of this session, or someone else."""
    for record in SESSION.projects.values():
        if os.path.realpath(record.project.path) == real:
            return f"the project {record.project.name!r}, set up earlier in this session"
    return "a folder linked by you or another tool"


def _link_plan(link: Path, target: Path, project: str) -> str:
    """What making ``link`` point to ``target`` takes; reads only.

    "done": it points there already; "make": nothing is there; "replace": it is a link to a
    folder that no longer exists, which is re-pointed.

    Raises:
        LinkConflictError: a link there points to another folder that exists, or a real file
            or folder is there (left untouched).
        OSError: the folder for links cannot be read.
    """
    from ._locate import same_folder  # noqa: PLC0415 - imported once the probes run

    if link.is_symlink():
        current = os.readlink(link)
        real = os.path.realpath(link)
        if current == str(target) or same_folder(link, target):
            return "done"
        if _target_gone(link):
            return "replace"
        other = project.replace("/", "_") if "/" in project else f"{project}_2"
        raise LinkConflictError(
            f"Cannot link {link} to {target}: it already links to {current} ({_whose(real)}), "
            "and re-pointing it would break the imports that use it, so it is left as it "
            f"is. Give this project another link name, e.g. {option('link_name', other)}, "
            f"or another folder for links with {option('content_dir', None)}, then "
            f"{again()}."
        )
    if link.exists():
        kind = "folder" if link.is_dir() else "file"
        raise LinkConflictError(
            f"Cannot link {link} to {target}: a real {kind} is already there, and it is "
            "left untouched. Move or rename it (it may hold your work), or pass "
            f"{option('link_name', None)} another name or {option('content_dir', None)} "
            f"another folder, then {again()}."
        )
    return "make"


def _cannot_link(link: Path, target: Path, exc: OSError) -> LinkConflictError:
    """The error for a link the file system refused (no permission, a read-only folder...)."""
    return LinkConflictError(
        f"Cannot make the link {link} to {target}: {exc.strerror or exc}. Pass "
        f"{option('content_dir', None)} a folder this account can write to, then {again()}."
    )


def _link(link: Path, target: Path, project: str) -> None:
    """Make ``link`` a symlink to ``target``; never re-point a live link, never touch a file."""
    plan = _link_plan(link, target, project)
    if plan == "done":
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    if plan == "make":
        os.symlink(target, link, target_is_directory=True)
        return
    current = os.readlink(link)
    temporary = link.with_name(f".{link.name}.colab_bootstrap-{os.getpid()}")
    if temporary.is_symlink():
        temporary.unlink()
    os.symlink(target, temporary, target_is_directory=True)
    os.replace(temporary, link)
    warnings.warn(
        f"{link} pointed to {current}, which no longer exists; it now points to {target}.",
        ColabBootstrapWarning,
        stacklevel=4,  # _link, _make_importable, setup, the caller
    )


def _make_importable(folder: Path, link: Path | None, project: str) -> str:
    """Link (where the rule says), sys.path once, the import hook (byte-code out of Drive)."""
    from pathlib import Path  # noqa: PLC0415 - imported once the probes run

    from . import _importhook  # noqa: PLC0415

    if link is not None:
        try:
            _link(link, folder, project)
        except OSError as exc:  # e.g. a read-only folder for links, or no permission
            raise _cannot_link(link, folder, exc) from exc
    entry = str(link if link is not None else folder)
    if entry not in sys.path:
        sys.path.append(entry)
    _importhook.watch([Path(entry), folder.resolve()], _bytecode_folder())
    return entry


def _bytecode_folder() -> str:
    """The local folder for project byte-code: ``$XDG_CACHE_HOME`` or ``~/.cache``, then ours."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(cache), "colab_bootstrap", "pycache")


def _timeout(value: object) -> float:
    """``mount_timeout``: a positive number of seconds under a day (None: the default)."""
    if value is None:
        return float(SESSION.defaults.mount_timeout)
    return seconds(value, "mount_timeout", option("mount_timeout", 300))


def _check_options(gpu: object, flags: dict[str, object], link_name: object) -> tuple[bool, ...]:
    """The policy, flags and link name checked (cheaply: before the re-run cache is asked).

    Raises:
        ValueError: naming the option and a value it takes.
    """
    if not isinstance(gpu, str) or gpu not in GPU_POLICIES:
        words = ", ".join(map(repr, GPU_POLICIES[:-1])) + f" or {GPU_POLICIES[-1]!r}"
        raise ValueError(f"gpu must be {words}, not {shown(gpu)}.")
    if link_name is not None:
        from ._locate import validate_link_name  # noqa: PLC0415 - rare: only when given

        validate_link_name(link_name)
    return tuple(flag(value, name) for name, value in flags.items())


def setup(  # noqa: PLR0913 - the signature is the product's contract
    project: str,
    *,
    drive_dir: str | os.PathLike[str] | None = None,
    mountpoint: str | os.PathLike[str] | None = None,
    content_dir: str | os.PathLike[str] | None = None,
    gpu: GpuPolicy = "warn",
    force_remount: bool = False,
    create: bool = False,
    autoreload: bool = True,
    install: bool = False,
    link_name: str | None = None,
    mount_timeout: float | None = None,
) -> Project:
    """Make a Drive project folder importable in this notebook, in one call.

    Mounts Drive on Colab (only when needed), checks the GPU, links
    ``<content_dir>/<name>`` to the project folder, puts it on ``sys.path`` once, caches
    the project's byte-code outside Drive (no other module's byte-code changes), and turns on
    autoreload inside IPython. Safe to re-run. Later calls
    (``doctor()``, ``reset()``, ``dedupe()``...) look where this call looked.

    Args:
        project: folder path relative to My Drive with ``/`` separators (not starting with
            ``MyDrive/``: it is looked for in My Drive). A part that differs from the folder's
            name only in its Unicode form ('café' typed as one character, 'cafe' + U+0301 as macOS
            writes it) finds that folder when it is the only one; ``Project.name`` is then
            spelled as on disk.
        drive_dir: the My Drive folder; default ``$COLAB_BOOTSTRAP_DRIVE``, Colab's mount,
            or the Google Drive for desktop folder.
        mountpoint: where Colab mounts Drive; default ``/content/drive``.
        content_dir: where the link is made; default ``/content`` on Colab, and no link off
            Colab unless given.
        gpu: "warn" (default), "require" (raise without GPU) or "ignore".
        force_remount: remount Drive even when it is mounted.
        create: create the project folder when it is missing.
        autoreload: turn on IPython's autoreload (mode 2) when running in IPython.
        install: pip-install the unmet requirements of the project's requirements.txt /
            pyproject.toml with this interpreter's pip (no process at all when all are met).
        link_name: the link's name in ``content_dir``; default the project folder's own name.
            Two projects whose folders share a name (``a/proj``, ``b/proj``) need two names.
        mount_timeout: seconds Colab's ``drive.mount`` may wait for Drive; default 120, Colab's
            own (a hung Drive is given up on 30 s after it). Used only when Drive is mounted.

    Raises:
        InvalidProjectError: a bad project name (nothing touched): not a string, empty,
            absolute, ``..``, backslashes, control characters, a lone surrogate, a part over
            255 bytes or a whole path over 4095.
        ValueError: a ``gpu`` policy, ``link_name`` (over 255 bytes too) or ``mount_timeout``
            that is not one of those described (True, a string, None, nan: not a number of
            seconds); a flag (``force_remount``, ``create``, ``autoreload``, ``install``) that
            is not True or False; a ``drive_dir``, ``mountpoint`` or ``content_dir`` that is not
            a str or path, is empty, holds a NUL, or is too long (also with the link's name).
            Nothing touched.
        DriveNotFoundError: no Drive folder off Colab, or ``drive_dir`` is not a folder.
        DriveMountError: Colab's mount failed (Colab's first line and the fix; the full error
            is its ``__cause__``), local files sit where Drive would be mounted, or Drive's
            connection was lost and could not be restored.
        ProjectNotFoundError: the folder is missing (with close names, and the path to pass
            when it starts with ``MyDrive/``), is not a folder, cannot be reached (permission
            denied), or could not be created with ``create=True``.
        LinkConflictError: a real file or folder holds the link path, or a link there points
            to another folder that exists (another project, or the user's own link); or
            ``content_dir`` is not a folder (a file, a FIFO, a link to nothing: left as it is)
            or the link cannot be written there. Nothing touched: checked before
            ``create=True`` makes the folder.
        GpuNotAvailableError: ``gpu="require"`` and no GPU.
        RequirementsError: ``install=True`` and pip failed (pip's text and the fix).
    """
    location = Location.given(drive_dir, mountpoint, content_dir, SESSION.defaults)
    force_remount, create, autoreload, install = _check_options(
        gpu,
        {
            "force_remount": force_remount,
            "create": create,
            "autoreload": autoreload,
            "install": install,
        },
        link_name,
    )
    key = (  # plain strings: hashed and compared in well under a microsecond
        project,
        location.drive_dir,
        location.mountpoint,
        location.content_dir,
        gpu,
        create,
        autoreload,
        link_name,
        os.environ.get(SESSION.defaults.drive_env),
        os.environ.get("COLAB_RELEASE_TAG"),
    )
    # install=True re-reads the requirements on every run (they may have been edited).
    if not force_remount and not install and isinstance(project, str):
        repeated = _repeat(key, location, gpu, autoreload=autoreload)
        if repeated is not None:
            return repeated
    timeout = _timeout(mount_timeout)
    if gpu != "ignore":
        SESSION.start_probes()  # first: nvidia-smi answers while the rest loads and Drive mounts
    from pathlib import PurePosixPath  # noqa: PLC0415 - after the probes started

    from . import _colab, _gpu, _locate  # noqa: PLC0415
    from ._project import Project  # noqa: PLC0415

    relative = _locate.validate_project(project)
    colab = _colab.on_colab()
    gpu_result = _gpu.enforce(gpu, stacklevel=2) if gpu == "require" else None  # before mounting
    drive, mounted = _find_or_mount(
        location, colab=colab, force_remount=force_remount, timeout=timeout
    )
    content_dir = location.content_dir
    if create:  # what the link needs is checked first: a refusal leaves no new folder behind
        planned = _locate.project_folder(drive.path, relative)
        planned_link = _locate.link_path(content_dir, planned, colab=colab, name=link_name)
        if planned_link is not None:
            _check_link_place(planned_link, planned, str(relative))
        _create(planned)
    folder = _locate.project_path(drive.path, relative)
    name = str(PurePosixPath(*folder.relative_to(drive.path).parts))  # as spelled on disk
    link = _locate.link_path(content_dir, folder, colab=colab, name=link_name)
    if link is not None:
        _check_link_place(link, folder, name)
    installed: tuple[str, ...] | None = None
    if install:
        from . import _requirements  # noqa: PLC0415 - importlib.metadata etc. only when asked

        installed = _requirements.install_missing(folder)

    entry = _make_importable(folder, link, name)
    reload_state = _ipython.enable_autoreload() if autoreload else "off (autoreload=False)"
    if gpu == "warn":
        gpu_result = _gpu.enforce(gpu, stacklevel=2)

    result = Project(
        name=name,
        path=folder,
        link=link,
        drive_dir=drive.path,
        on_colab=colab,
        gpus=gpu_result.gpus if gpu_result else (),
        autoreload=reload_state,
        sys_path_entry=entry,
        accelerator=gpu_result.summary
        if gpu_result
        else f"not checked ({option('gpu', 'ignore')})",
        bytecode_cache=SESSION.bytecode_dir,
        mountpoint=str(drive.path.parent) if drive.how == "colab" else None,
        drive=mounted,
        installed=installed,
    )
    SESSION.remember(SetupRecord(result, location), key)
    return result
