"""The one record of this process: what ``setup()`` did, and where later calls look by default.

``doctor()``, ``stale()``, ``reset()``, ``dedupe()`` and ``snippets()`` must see the same session
``setup()`` made: the projects and the exact location options each call used, the folders the
import hook watches and the modules it loaded, the GPU answer. All of it lives in one
:class:`Session`, ``SESSION``, and nowhere else: no other module keeps state, so a test (or
anyone) starts afresh with one call, :func:`reset_session`.

Also here: the defaults every call starts from (Colab's own places), and how to name an option
to the user, which depends on who is asking: ``create=True`` in a notebook, ``--create`` at the
command line. ``setup()`` reads this record before it starts the GPU probes, so the module
imports nothing heavier than ``typing``: the value types it holds are named for the type
checker only.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

if TYPE_CHECKING:
    import types
    from pathlib import Path

    from ._accelerator import GpuCheck
    from ._probe import Probes
    from ._project import Project

__all__ = [
    "GPU_POLICIES",
    "SESSION",
    "Defaults",
    "GpuPolicy",
    "Location",
    "ModuleRecord",
    "Session",
    "SetupRecord",
    "Surface",
    "WatchedRoots",
    "again",
    "option",
    "reset_session",
]

GpuPolicy = Literal["warn", "require", "ignore"]
GPU_POLICIES: tuple[GpuPolicy, ...] = get_args(GpuPolicy)

#: Who the messages speak to: a notebook (Python calls) or a shell (``colab-bootstrap ...``).
Surface = Literal["python", "cli"]


class Defaults(NamedTuple):
    """Where things are when a call does not say, and the bounds of the doctor's walk.

    The places are Colab's own: Drive is mounted at ``/content/drive`` and notebooks run in
    ``/content``. Off Colab, ``$COLAB_BOOTSTRAP_DRIVE`` (``drive_env``) can name My Drive.
    """

    mountpoint: str = "/content/drive"
    content_dir: str = "/content"
    drive_env: str = "COLAB_BOOTSTRAP_DRIVE"
    #: Entries of a project that ``doctor()`` walks at most (a Drive listing is a round trip).
    scan_limit: int = 20_000
    #: Device files whose presence means a TPU VM runtime.
    tpu_device_globs: tuple[str, ...] = ("/dev/accel*",)
    #: Packages whose presence means a TPU runtime (found, never imported).
    tpu_modules: tuple[str, ...] = ("libtpu",)


def _absolute(value: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.path.expanduser(os.fspath(value)))


class Location(NamedTuple):
    """Where a call looks, every path absolute (relative ones are read against the cwd once).

    ``drive_dir`` None: My Drive is found by the usual search ($COLAB_BOOTSTRAP_DRIVE, Colab's
    mount, the Drive for desktop folders). ``content_dir`` None: not given, so the link is made
    on Colab only (in the default ``/content``).
    """

    drive_dir: str | None
    mountpoint: str
    content_dir: str | None

    @classmethod
    def given(
        cls,
        drive_dir: str | os.PathLike[str] | None,
        mountpoint: str | os.PathLike[str] | None,
        content_dir: str | os.PathLike[str] | None,
        defaults: Defaults,
    ) -> Location:
        """The location a call names, the defaults filling in what it leaves out."""
        return cls(
            None if drive_dir is None else _absolute(drive_dir),
            _absolute(defaults.mountpoint if mountpoint is None else mountpoint),
            None if content_dir is None else _absolute(content_dir),
        )


class SetupRecord(NamedTuple):
    """One project set up in this process: what ``setup()`` returned and where it looked."""

    project: Project
    location: Location


class ModuleRecord(NamedTuple):
    """What a project module was built from: its file and the hash of the bytes compiled."""

    name: str
    file: str
    digest: bytes
    at_setup: bool = False  # loaded before setup(): the file as it was when setup() ran


class WatchedRoots:
    """The project folders the import hook handles: each spelling met (link, real path...)."""

    __slots__ = ("_exact", "_prefixes", "_real", "paths")

    def __init__(self, paths: tuple[Path, ...] = ()) -> None:
        self.paths = paths
        spelled = [os.path.abspath(root) for root in paths]
        self._exact = frozenset(spelled)
        self._prefixes = tuple(s.rstrip(os.sep) + os.sep for s in spelled)
        self._real: tuple[str, ...] | None = None  # realpath costs syscalls: on first need

    def added(self, *roots: Path) -> WatchedRoots:
        """These roots and ``roots`` (each once, in order)."""
        return WatchedRoots(tuple(dict.fromkeys((*self.paths, *roots))))

    def contains(self, path: str) -> bool:
        """``path`` (absolute, as spelled) is a project folder or lies inside one."""
        return path in self._exact or path.startswith(self._prefixes)

    def contains_real(self, path: str) -> bool:
        """Like ``contains``, also through symlinks and other spellings (costs a realpath)."""
        absolute = os.path.abspath(path)
        if self.contains(absolute):
            return True
        if self._real is None:
            self._real = tuple(os.path.realpath(root) for root in self.paths)
        real = os.path.realpath(absolute)
        return any(
            real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self._real
        )


class Session:
    """Everything this process set up; one instance, ``SESSION``. Change it under ``lock``."""

    def __init__(self, defaults: Defaults | None = None) -> None:
        self.lock = threading.RLock()
        self.defaults = defaults or Defaults()
        self.surface: Surface = "python"
        #: Projects by real folder, oldest first; setting one up again moves it to the end.
        self.projects: dict[str, SetupRecord] = {}
        #: The fast re-run cache: a setup() call's arguments -> the Project it returned.
        self.reruns: dict[tuple[object, ...], Project] = {}
        self.roots = WatchedRoots()
        #: Module object -> what it was loaded from. Weak: a dropped module leaves no trace.
        self.records: weakref.WeakKeyDictionary[types.ModuleType, ModuleRecord] = (
            weakref.WeakKeyDictionary()
        )
        self.gpu: GpuCheck | None = None
        self.probes: Probes | None = None

    def remember(self, record: SetupRecord, rerun_key: tuple[object, ...]) -> None:
        """Record a project set up (again: it becomes the latest) and its re-run key."""
        with self.lock:
            key = str(record.project.path)
            self.projects.pop(key, None)
            self.projects[key] = record
            self.reruns[rerun_key] = record.project

    def current(self) -> SetupRecord | None:
        """The project set up last in this process, if any."""
        return next(reversed(self.projects.values()), None)

    def location(
        self,
        drive_dir: str | os.PathLike[str] | None = None,
        mountpoint: str | os.PathLike[str] | None = None,
        content_dir: str | os.PathLike[str] | None = None,
    ) -> Location:
        """Where a later call looks: what it names, else what the last ``setup()`` used."""
        current = self.current()
        if current is None:
            return Location.given(drive_dir, mountpoint, content_dir, self.defaults)
        used = current.location
        return Location.given(
            used.drive_dir if drive_dir is None else drive_dir,
            used.mountpoint if mountpoint is None else mountpoint,
            used.content_dir if content_dir is None else content_dir,
            self.defaults,
        )


SESSION = Session()


def reset_session(**defaults: object) -> Session:
    """Forget everything this process set up and start from ``Defaults(**defaults)``.

    Only the record is cleared: ``sys.path``, links and loaded modules stay as they are.
    """
    fresh = Session(Defaults(**defaults))  # type: ignore[arg-type]
    with SESSION.lock:
        SESSION.__dict__.update({k: v for k, v in vars(fresh).items() if k != "lock"})
    return SESSION


# How to name an option to whoever is asking: a notebook cell or a shell command.
_FLAGS = {
    "apply": "--apply",
    "content_dir": "--content-dir",
    "create": "--create",
    "drive_dir": "--drive",
    "force_remount": "--force-remount",
    "gpu": "--gpu",
    "install": "--install",
    "mountpoint": "--mountpoint",
}


def option(name: str, value: object = True) -> str:
    """Option ``name`` as the user passes it: ``create=True`` / ``--create``.

    ``value`` None names the option alone (``drive_dir=`` / ``--drive``), for "pass ... a folder".
    """
    if SESSION.surface == "cli":
        flag = _FLAGS[name]
        if value is True or value is None:
            return flag
        import shlex  # noqa: PLC0415 - the command line's messages only

        return f"{flag} {shlex.quote(str(value))}"
    return f"{name}=" if value is None else f"{name}={value!r}"


def again() -> str:
    """What the user does to try again: "re-run the cell", or "run the command again"."""
    return "run the command again" if SESSION.surface == "cli" else "re-run the cell"
