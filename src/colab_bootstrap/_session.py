"""The one record of this process: what ``setup()`` did, and where later calls look by default.

``doctor()``, ``stale()``, ``reset()``, ``dedupe()`` and ``snippets()`` must see the same session
``setup()`` made: the projects and the exact location options each call used, the folders the
import hook watches and the modules it loaded, the GPU answer. All of it lives in one
:class:`Session`, ``SESSION``, and nowhere else: no other module keeps state, so a test (or
anyone) starts afresh with one call, :func:`reset_session`.

Also here: the defaults every call starts from (Colab's own places), and how to name an option
to the user, which depends on who is asking: ``create=True`` in a notebook, ``--create`` at the
command line. ``setup()`` reads this record before it starts the GPU probes, so the module
imports only the lightest of the standard library: the value types it holds are written by
hand, and those defined elsewhere are named for the type checker only.
"""

from __future__ import annotations

import os
import threading
import weakref

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at import; annotations are strings anyway
    import types
    from pathlib import Path
    from typing import Literal

    from ._accelerator import GpuCheck
    from ._probe import Probes
    from ._project import Project

    GpuPolicy = Literal["warn", "require", "ignore"]
    #: Who the messages speak to: a notebook (Python calls) or a shell (``colab-bootstrap``).
    Surface = Literal["python", "cli"]

__all__ = [
    "GPU_POLICIES",
    "NAME_MAX",
    "PATH_MAX",
    "SESSION",
    "Defaults",
    "Location",
    "ModuleRecord",
    "Session",
    "SetupRecord",
    "WatchedRoots",
    "again",
    "flag",
    "option",
    "reset_session",
    "seconds",
    "shown",
    "too_long",
]

#: The values of ``setup(gpu=...)``, as GpuPolicy spells them (a test checks they agree).
GPU_POLICIES: tuple[GpuPolicy, ...] = ("warn", "require", "ignore")


class _Value:
    """A small record, equal and hashed by the values of its slots, shown with them.

    Written by hand rather than with dataclasses or typing.NamedTuple: ``setup()`` reads this
    module before it starts the GPU probes, and those imports would hold nvidia-smi back by
    milliseconds in a fresh interpreter. Treat every record as frozen.
    """

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Value)
            and type(other) is type(self)
            and (other._values() == self._values())
        )

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Defaults(_Value):
    """Where things are when a call does not say, and the bounds of the doctor's walk.

    The places are Colab's own: Drive is mounted at ``/content/drive`` and notebooks run in
    ``/content``. Off Colab, ``$COLAB_BOOTSTRAP_DRIVE`` (``drive_env``) can name My Drive.
    ``mount_timeout`` is how long ``drive.mount`` may wait for Drive, in seconds (Colab's own
    default: a large Drive can take a minute to list; a hung one is given up on 30 s later).
    ``scan_limit`` is how many entries of a project ``doctor()`` walks at most (a Drive listing
    is a network round trip); ``tpu_device_globs`` (device files) and ``tpu_modules`` (packages,
    found, never imported) are what tells a TPU runtime.
    """

    __slots__ = (
        "content_dir",
        "drive_env",
        "mount_timeout",
        "mountpoint",
        "scan_limit",
        "tpu_device_globs",
        "tpu_modules",
    )

    def __init__(  # noqa: PLR0913 - one keyword per default
        self,
        *,
        mountpoint: str = "/content/drive",
        content_dir: str = "/content",
        drive_env: str = "COLAB_BOOTSTRAP_DRIVE",
        mount_timeout: float = 120.0,
        scan_limit: int = 20_000,
        tpu_device_globs: tuple[str, ...] = ("/dev/accel*",),
        tpu_modules: tuple[str, ...] = ("libtpu",),
    ) -> None:
        self.mountpoint = mountpoint
        self.content_dir = content_dir
        self.drive_env = drive_env
        self.mount_timeout = mount_timeout
        self.scan_limit = scan_limit
        self.tpu_device_globs = tpu_device_globs
        self.tpu_modules = tpu_modules


#: Bytes in one file name, and in a whole path with its closing NUL (Linux: NAME_MAX, PATH_MAX).
NAME_MAX = 255
PATH_MAX = 4096
_DAY = 86_400.0
_SHOWN = 60  # characters of a bad value quoted in a message
#: What each folder option looks like, for the example in its error message.
_FOLDER_EXAMPLES = {
    "drive_dir": "/path/to/My Drive",
    "mountpoint": "/content/drive",
    "content_dir": "/content",
}


def shown(value: object) -> str:
    """``repr(value)`` for a message, cut to a few dozen characters (a name may be kilobytes)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real message
        text = f"<{type(value).__name__} object>"
    if len(text) <= _SHOWN:
        return text
    closing = text[-1] if text[-1] in "'\")]}>" else ""  # 'xxx...' reads as a string still
    return text[: _SHOWN - 4] + "..." + closing


def too_long(path: str) -> str:
    """Why ``path`` is longer than a path may be ('' when it is not): names the long part.

    A name (one part between ``/``) may have 255 bytes in UTF-8, a whole path 4095 (Linux, and
    so Colab; Drive for desktop's folders keep within the same limits).
    """
    encoded = path.encode("utf-8", "surrogateescape")
    parts = encoded.split(b"/")
    for part in parts:
        if len(part) > NAME_MAX:
            which = "it" if len(parts) == 1 else f"its part {shown(os.fsdecode(part))}"
            return f"{which} has {len(part)} bytes, over the {NAME_MAX} bytes a name may have"
    if len(encoded) >= PATH_MAX:
        return f"it has {len(encoded)} bytes, over the {PATH_MAX - 1} bytes a path may have"
    return ""


def _absolute(value: object, name: str) -> str:
    """A folder option as an absolute path; ValueError naming the fix for anything else."""
    example = option(name, _FOLDER_EXAMPLES.get(name, "/path/to/folder"))
    try:
        text = os.fspath(value)  # type: ignore[call-overload]
    except TypeError:
        text = None
    if not isinstance(text, str):
        raise ValueError(  # noqa: TRY004 - every bad option value is a ValueError, as documented
            f"{name} must be a folder path (a str or a pathlib.Path), not "
            f"{type(value).__name__} {shown(value)}; e.g. {example}."
        )
    problem = ""
    if not text.strip():
        problem = "is empty"
    elif "\0" in text:
        problem = "contains a NUL character"
    else:
        try:
            os.fsencode(text)
        except UnicodeError:  # a lone surrogate the file system encoding cannot write
            problem = "is not valid text (it holds half of a character, a lone surrogate)"
    if not problem:
        absolute = os.path.abspath(os.path.expanduser(text))
        reason = too_long(absolute)
        if not reason:
            return absolute
        problem = f"is too long: {reason}"
    raise ValueError(f"{name} {shown(text)} {problem}; pass a folder's path, e.g. {example}.")


def seconds(value: object, name: str, example: str) -> float:
    """A duration option: a real number of seconds above 0 and under a day, as a float.

    ``True`` and ``False`` are refused (``gpus(True)`` is a slip for ``gpus(refresh=True)``, not
    one second), and so are strings, None, nan and the infinities.

    Raises:
        ValueError: naming the option, the value and an example.
    """
    number: float | None = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):  # compared as it is: float() of a huge int overflows
        number = float(value) if 0 < value < _DAY else None
    elif isinstance(value, float):
        number = value
    else:
        import numbers  # noqa: PLC0415 - rare: numpy scalars, Fraction

        if isinstance(value, numbers.Real):
            try:
                number = float(value)
            except (ArithmeticError, TypeError, ValueError):
                number = None
    if number is None or not 0 < number < _DAY:  # also refuses nan
        raise ValueError(
            f"{name} must be a positive number of seconds, under a day, not {shown(value)}; "
            f"e.g. {example}."
        )
    return number


def flag(value: object, name: str) -> bool:
    """A True/False option: True, False, 1 or 0; anything else (``create="no"``) is refused.

    Raises:
        ValueError: naming the option and the value.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be True or False, not {shown(value)}; e.g. {option(name)}.")


class Location(_Value):
    """Where a call looks, every path absolute (relative ones are read against the cwd once).

    ``drive_dir`` None: My Drive is found by the usual search ($COLAB_BOOTSTRAP_DRIVE, Colab's
    mount, the Drive for desktop folders). ``content_dir`` None: not given, so the link is made
    on Colab only (in the default ``/content``).
    """

    __slots__ = ("content_dir", "drive_dir", "mountpoint")

    def __init__(self, drive_dir: str | None, mountpoint: str, content_dir: str | None) -> None:
        self.drive_dir = drive_dir
        self.mountpoint = mountpoint
        self.content_dir = content_dir

    @classmethod
    def given(
        cls,
        drive_dir: str | os.PathLike[str] | None,
        mountpoint: str | os.PathLike[str] | None,
        content_dir: str | os.PathLike[str] | None,
        defaults: Defaults,
    ) -> Location:
        """The location a call names, the defaults filling in what it leaves out.

        Raises:
            ValueError: a folder that is not a str or path, is empty, holds a NUL or a lone
                surrogate, or is longer than a path may be.
        """
        return cls(
            None if drive_dir is None else _absolute(drive_dir, "drive_dir"),
            _absolute(defaults.mountpoint if mountpoint is None else mountpoint, "mountpoint"),
            None if content_dir is None else _absolute(content_dir, "content_dir"),
        )


class SetupRecord(_Value):
    """One project set up in this process: what ``setup()`` returned and where it looked."""

    __slots__ = ("location", "project")

    def __init__(self, project: Project, location: Location) -> None:
        self.project = project
        self.location = location


class ModuleRecord(_Value):
    """What a project module was built from: its file and the hash of the bytes compiled.

    ``at_setup``: it was loaded before ``setup()``, so the hash is of the file as it was then.
    """

    __slots__ = ("at_setup", "digest", "file", "name")

    def __init__(self, name: str, file: str, digest: bytes, *, at_setup: bool = False) -> None:
        self.name = name
        self.file = file
        self.digest = digest
        self.at_setup = at_setup


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
        #: Where the import hook caches project byte-code (a local folder, never Drive).
        self.bytecode_dir: str | None = None
        self.gpu: GpuCheck | None = None
        self.probes: Probes | None = None
        #: Answers read from installed metadata (where colab_bootstrap was installed from, a
        #: package's version), by kind: the question, the files and folders read, their state
        #: then, and the answer. Read again once any of them changes (``_update.kept``).
        self.installed: dict[str, tuple[object, tuple[str, ...], tuple[object, ...], object]] = {}
        #: A reset() is under way (a project module calling reset() must not recurse).
        self.resetting = False
        #: Module name -> why a project folder could not be read while importing it (a dead
        #: Drive mount): the import hook's last-resort finder turns it into the ImportError.
        self.unreadable: dict[str, str] = {}

    def remember(self, record: SetupRecord, rerun_key: tuple[object, ...]) -> None:
        """Record a project set up (again: it becomes the latest) and its re-run key."""
        with self.lock:
            current = self.current()
            if current is not None and current.project is record.project:
                return  # the same call again: already the latest, already cached
            key = str(record.project.path)
            self.projects.pop(key, None)
            self.projects[key] = record
            self.reruns[rerun_key] = record.project

    def start_probes(self) -> None:
        """Start nvidia-smi and GPUtil, unless this process has their answer or has them running.

        For the first GPU check to collect (``_gpu.check``): ``setup()`` and ``doctor()`` start
        them before their heavy imports, so nvidia-smi answers meanwhile. Needs only ``_probe``,
        which imports the light modules of the standard library.
        """
        with self.lock:
            if self.gpu is None and self.probes is None:
                from . import _probe  # noqa: PLC0415 - light, but not needed by every caller

                self.probes = _probe.Probes(_probe.DEFAULT_TIMEOUT)

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
    "mount_timeout": "--mount-timeout",
    "gpu": "--gpu",
    "install": "--install",
    "link_name": "--link-name",
    "mountpoint": "--mountpoint",
}


def option(name: str, value: object = True) -> str:
    """Option ``name`` as the user passes it: ``create=True`` / ``--create``.

    ``value`` None names the option alone (``drive_dir=`` / ``--drive``), for "pass ... a folder".
    """
    if SESSION.surface == "cli":
        flag = _FLAGS.get(name) or "--" + name.replace("_", "-")
        if value is True or value is None:
            return flag
        import shlex  # noqa: PLC0415 - the command line's messages only

        return f"{flag} {shlex.quote(str(value))}"
    return f"{name}=" if value is None else f"{name}={value!r}"


def again() -> str:
    """What the user does to try again: "re-run the cell", or "run the command again"."""
    return "run the command again" if SESSION.surface == "cli" else "re-run the cell"
