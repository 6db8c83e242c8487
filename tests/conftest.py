"""Shared fixtures: the two fakes (Colab, nvidia-smi) and process-state isolation."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import importlib.util
import io
import json
import os
import select
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

from colab_bootstrap._session import Session, reset_session

TESTS = Path(__file__).parent

#: Start of a script that drives a real IPython shell in a subprocess: ``cell(code)`` runs one
#: notebook cell and returns its value, or exits naming the cell that failed.
IPYTHON_PRELUDE = """
import json, os, sys, time
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()

def cell(code):
    result = shell.run_cell(code, store_history=True)
    if not result.success:
        error = result.error_in_exec or result.error_before_exec
        raise SystemExit(f"cell failed: {code!r}: {error!r}")
    return result.result
"""
FAKES = TESTS / "fakes"
NVIDIA_DATA = TESTS / "data" / "nvidia-smi"
IN_CI = bool(os.environ.get("CI"))


def _load_drivefs() -> types.ModuleType:
    """tests/fakes/drivefs.py (the fake DriveFS and its helpers), one module for the process."""
    module = sys.modules.get("drivefs")
    if module is None:
        spec = importlib.util.spec_from_file_location("drivefs", FAKES / "drivefs.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["drivefs"] = module
        spec.loader.exec_module(module)
    return module


drivefs = _load_drivefs()

#: Why this run cannot make real FUSE mounts ('' when it can). Done at import, while pytest has
#: one thread: from here on this process, and every subprocess (Jupyter kernels included), is
#: in a mount namespace of its own, so the fake Drive's mounts never reach the machine running
#: the tests, and they go away with the run's last process.
MOUNT_NAMESPACE_PROBLEM: str = drivefs.private_mount_namespace()
_fuse_checked: list[str] = []
#: The fake Colab roots made in this run (their leftovers are cleaned at the end).
_ROOTS: list[str] = []


class DriveFSMountError(Exception):
    """The fake DriveFS did not mount; the message says why."""


@contextlib.contextmanager
def drivefs_mount(
    root: str | os.PathLike[str], point: str | os.PathLike[str], *options: str
) -> Iterator[Path]:
    """The fake DriveFS mounted at ``point`` (backed by ``<root>/drivefs``), meanwhile.

    ``options`` go to the daemon (``--quirks=no-rename2``). Yields ``<point>/MyDrive``; at the
    end the mount is detached and the daemon reaped. Raises DriveFSMountError when it cannot mount.
    """
    point = os.fspath(point)
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-S",
            str(FAKES / "drivefs.py"),
            f"--root={os.fspath(root)}",
            f"--mount_point_path={point}",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert daemon.stdout is not None
    output = b""
    try:
        while drivefs.READY.encode() not in output:
            if not select.select([daemon.stdout], [], [], 10)[0]:
                raise DriveFSMountError("the fake DriveFS did not come up within 10 s")
            chunk = os.read(daemon.stdout.fileno(), 4096)
            if not chunk:
                text = output.decode(errors="replace").strip()
                why = text or f"exit status {daemon.wait()}"
                raise DriveFSMountError(f"the fake DriveFS could not mount ({why})")
            output += chunk
        if point not in [p for p, _ in drivefs.mounts()]:
            raise DriveFSMountError("the fake DriveFS's mount is not in /proc/self/mounts")
        yield Path(point) / "MyDrive"
    finally:
        drivefs.detach(point)
        try:
            daemon.wait(5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        daemon.stdout.close()


def _probe_fuse() -> str:
    """Mount the fake DriveFS once in a temporary folder; '' when that works, else why not."""
    with tempfile.TemporaryDirectory(prefix="drivefs-probe-") as folder:
        try:
            with drivefs_mount(folder, os.path.join(folder, "drive")):
                return ""
        except DriveFSMountError as exc:
            return str(exc)


def fuse_problem() -> str:
    """Why the fake Colab cannot run here ('' when it can); checked once per run."""
    if not _fuse_checked:
        _fuse_checked.append(MOUNT_NAMESPACE_PROBLEM or _probe_fuse())
    return _fuse_checked[0]


def need_fuse() -> None:
    """Skip the test where real FUSE mounts cannot be made (fail instead in CI)."""
    problem = fuse_problem()
    if problem:
        message = f"the fake Colab makes real FUSE mounts: {problem}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _no_drivefs_left() -> Iterator[None]:
    """At the end of the run: no fake DriveFS daemon, mount session or Drive mount is left."""
    yield
    if not MOUNT_NAMESPACE_PROBLEM:  # only ever in the run's own mount namespace
        drivefs.stop(_ROOTS, everything=True)


#: Names a test run may add to a watched folder: caches of Python, pytest, hypothesis, coverage
#: and the build folder (``nox`` sessions), all ignored by git.
_RUN_LEFTOVERS = frozenset(
    {"__pycache__", ".pytest_cache", ".hypothesis", "build", ".coverage", ".mypy_cache"}
)


#: setup()'s byte-code folder with XDG_CACHE_HOME unset: watched whole, since it mirrors the
#: absolute paths of the projects (a forgotten XDG_CACHE_HOME writes deep inside it).
_OWN_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "colab_bootstrap")


def watched_folders() -> tuple[str, ...]:
    """Folders outside every temporary folder where a forgotten path argument would write.

    What ``setup()`` and friends touch by default: ``/content`` (the link) and
    ``/content/drive`` (the mount point), ``/var/colab`` (Colab's marker), ``~/.cache``
    (byte-code with ``XDG_CACHE_HOME`` unset), the home and config folders, the file-system
    root (a ``/content`` made from nothing shows there), and the repository (a relative path
    resolved in the current folder).
    """
    home = os.path.expanduser("~")
    repo = str(TESTS.parent)
    return (
        "/",
        "/content",
        "/content/drive",
        "/var/colab",
        "/mnt",
        home,
        os.path.join(home, ".cache"),
        _OWN_CACHE,
        os.path.join(home, ".config"),
        repo,
        os.path.join(repo, "tests"),
        os.path.join(repo, "src"),
        os.path.join(repo, "src", "colab_bootstrap"),
        os.getcwd(),
    )


def listings(folders: tuple[str, ...]) -> dict[str, frozenset[str] | None]:
    """Each folder's names, or None where it does not exist (or cannot be listed)."""
    return {folder: _names(folder) for folder in folders}


def _names(folder: str) -> frozenset[str] | None:
    if folder == _OWN_CACHE and os.path.isdir(folder):
        return frozenset(
            os.path.relpath(os.path.join(parent, name), folder)
            for parent, dirs, files in os.walk(folder)
            for name in (*dirs, *files)
        )
    try:
        return frozenset(os.listdir(folder))
    except OSError:
        return None


def made_since(before: dict[str, frozenset[str] | None]) -> list[str]:
    """What appeared in the watched folders since ``before``: a folder, or names in one."""
    made = []
    for folder, now in listings(tuple(before)).items():
        if now is None:
            continue
        was = before[folder]
        if was is None:
            made.append(folder + os.sep)
            continue
        made.extend(
            os.path.join(folder, name)
            for name in sorted(now - was)
            if name not in _RUN_LEFTOVERS and not name.startswith(".coverage.")
        )
    return sorted(set(made))


@pytest.fixture(scope="session", autouse=True)
def _nothing_made_outside_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the run if anything appeared outside its temporary folders (a real /content...).

    Every test passes its paths (``content_dir``, ``drive_dir``, ``mountpoint``,
    ``XDG_CACHE_HOME``) into ``tmp_path``; one that forgets would write to the machine. The
    watched folders are listed before the first test and after the last one.
    """
    before = listings(watched_folders())
    # IPython keeps its profile and history in ~/.ipython: every shell of the run (in this
    # process, in subprocesses, in Jupyter kernels) gets one in the run's temporary folder.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        yield
    made = made_since(before)
    if made:
        pytest.fail(
            "the test run made these outside its temporary folders (a test that forgot to "
            f"pass a path?): {', '.join(made)}",
            pytrace=False,
        )


#: A fixed modification time (2023-11-14) for files whose age matters to a test.
T0 = 1_700_000_000 * 10**9


def put(root: Path, relative: str, content: bytes | str, mtime_ns: int = T0) -> Path:
    """Write a file under ``root`` (folders made as needed) with a known mtime."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


#: Linux capabilities that let root ignore file modes (linux/capability.h).
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _mode_override(allowed: bool) -> bool:
    """Raise or drop, for this thread, the capabilities that let root ignore file modes."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [
            ("effective", ctypes.c_uint32),
            ("permitted", ctypes.c_uint32),
            ("inheritable", ctypes.c_uint32),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3; pid 0: this thread
    data = (Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        return False
    mask = (1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH)
    if allowed:
        data[0].effective |= mask & data[0].permitted
    else:
        data[0].effective &= ~mask
    return bool(libc.capset(ctypes.byref(header), data) == 0)


@contextlib.contextmanager
def denied(path: Path, mode: int = 0) -> Iterator[None]:
    """Give ``path`` the permissions ``mode`` and make them count, also for root.

    Root ignores modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): for root this thread drops
    those capabilities meanwhile (Linux only; elsewhere the test is skipped), so ``mode`` 0
    makes a folder unlistable and a file unreadable, as for any other user.
    """
    saved = stat.S_IMODE(path.stat().st_mode)
    as_root = getattr(os, "geteuid", lambda: -1)() == 0
    if as_root and not (sys.platform.startswith("linux") and _mode_override(allowed=False)):
        pytest.skip("running as root where the mode-overriding capabilities cannot be dropped")
    path.chmod(mode)
    try:
        yield
    finally:
        if as_root:
            _mode_override(allowed=True)
        path.chmod(saved)


@contextlib.contextmanager
def chattr(path: Path, flags: str) -> Iterator[None]:
    """Set file attributes meanwhile, which bind root too: ``+i`` immutable, ``+a`` append-only.

    An immutable file cannot be renamed, replaced or written; nothing can be added to, removed
    from or renamed in an immutable folder; an append-only folder takes new files only.
    """
    command = shutil.which("chattr")
    setting = [command or "chattr", flags, str(path)]
    if command is None or subprocess.run(setting, capture_output=True, check=False).returncode:
        pytest.skip(f"chattr {flags} needs Linux, root and a file system that has it")
    try:
        yield
    finally:
        subprocess.run([command, flags.replace("+", "-"), str(path)], check=True)


def tree_digest(root: Path) -> dict[str, str]:
    """Every entry under root: kind, bytes and mtime of files, target of links."""
    digest = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            digest[relative] = f"link {os.readlink(path)}"
        elif path.is_dir():
            digest[relative] = "dir"
        else:
            data = path.read_bytes()
            digest[relative] = f"{hashlib.sha256(data).hexdigest()} {path.stat().st_mtime_ns}"
    return digest


T = TypeVar("T")
#: The name of the thread ``bounded`` runs a call on (tests that count threads leave it out).
WATCHDOG_THREAD = "test-watchdog"


def bounded(call: Callable[[], T], seconds: float) -> T:
    """``call()`` on a watchdog thread: the test fails, instead of hanging, past ``seconds``.

    What the call raises is raised here, in the test's own thread.
    """
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test below
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name=WATCHDOG_THREAD, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds} s: a hang")
    returned, value = outcome[0]
    if not returned:
        raise value
    return value  # type: ignore[no-any-return]


def fresh_session(tmp_path: Path, **defaults: object) -> Session:
    """Start a new session record, as a new process would, with ``defaults`` changed.

    TPU evidence is looked for in ``tmp_path/dev`` (empty unless a test puts a device there)
    and under a package name nobody has, so the machine running the tests cannot leak in.
    """
    isolated: dict[str, object] = {
        "tpu_device_globs": (str(tmp_path / "dev" / "accel*"),),
        "tpu_modules": ("colab_bootstrap_tests_libtpu",),
    }
    return reset_session(**{**isolated, **defaults})


@pytest.fixture(autouse=True)
def _isolate_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what setup() changes in the process: sys.path, modules, pycache, the record, env."""
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_meta_path = list(sys.meta_path)
    saved_path_hooks = list(sys.path_hooks)
    saved_importer_cache = dict(sys.path_importer_cache)
    saved_prefix = sys.pycache_prefix
    for name in ("COLAB_RELEASE_TAG", "COLAB_BOOTSTRAP_DRIVE", "FAKE_COLAB_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # setup()'s byte-code folder
    fresh_session(tmp_path)
    yield
    reset_session()
    sys.path[:] = saved_path
    sys.meta_path[:] = saved_meta_path
    sys.path_hooks[:] = saved_path_hooks
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update(saved_importer_cache)
    sys.pycache_prefix = saved_prefix
    # Drop only the modules the test's own files defined (project modules in tmp folders):
    # dropping a library such as requests and re-importing it later breaks its identity checks.
    # A file a test replaced by a link (to /dev/zero, say) is judged by where it was.
    temps = tuple(
        p + os.sep for p in {tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())}
    )
    for name in set(sys.modules) - saved_modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        where = (os.path.abspath(file), os.path.realpath(file)) if file else ()
        if not file or any(path.startswith(temps) for path in where):
            del sys.modules[name]


@dataclass
class FakeColab:
    """A Colab runtime stood up in tmp_path: hostname file, My Drive, /content, real mounts.

    ``mydrive`` is the folder holding the user's files (the fake DriveFS's backing folder);
    ``drive.mount(mountpoint)`` shows it, through a real ``fuse.drive`` FUSE mount, as
    ``<mountpoint>/MyDrive``.
    """

    root: Path
    mydrive: Path
    mountpoint: Path
    content: Path

    @property
    def drivefs_log(self) -> Path:
        """The fake DriveFS's log; drive.mount greps all of it for 'QueryManager timed out'."""
        return Path(drivefs.log_path(str(self.root)))

    def log_timeout(self) -> None:
        """Put a 'QueryManager timed out' line in the DriveFS log, as a timeout long ago did."""
        self.drivefs_log.parent.mkdir(parents=True, exist_ok=True)
        with self.drivefs_log.open("a", encoding="utf-8") as log:
            log.write(f"{drivefs.QUERY_TIMEOUT} (an earlier mount)\n")

    def calls(self, kind: str | None = None) -> list[dict[str, Any]]:
        log = self.root / "calls.jsonl"
        if not log.exists():
            return []
        entries = [json.loads(line) for line in log.read_text().splitlines()]
        return [e for e in entries if kind is None or e["call"] == kind]

    def project(self, name: str, files: dict[str, str] | None = None) -> Path:
        folder = self.mydrive / name
        folder.mkdir(parents=True, exist_ok=True)
        for rel, text in (files or {}).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
        return folder

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should see the same fake Colab.

        Such a subprocess is no notebook kernel (as a ``!python`` cell on Colab): drive.mount
        fails there, unless it sets ``FAKE_COLAB_KERNEL_PID`` to its own pid.
        """
        env = dict(os.environ)
        env.pop("FAKE_COLAB_KERNEL_PID", None)
        env["FAKE_COLAB_ROOT"] = str(self.root)
        env["COLAB_RELEASE_TAG"] = "release-colab-fake"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), env.get("PYTHONPATH")]))
        return env

    def mounts(self) -> list[tuple[Path, str]]:
        """(mountpoint, source) of every ``fuse.drive`` mount in the mount table, dead or not."""
        return [(Path(point), source) for point, source in drivefs.mounts()]

    def is_dead(self, point: str | os.PathLike[str]) -> bool:
        """Whether ``point`` is a dead mount: stat fails with ENOTCONN."""
        try:
            os.stat(point)
        except OSError as exc:
            return exc.errno == errno.ENOTCONN
        return False

    def daemons(self) -> list[int]:
        """Pids of this fake Colab's live DriveFS daemons."""
        return [int(pid) for pid in drivefs.daemons(str(self.root))]

    def kill_drivefs(self) -> list[int]:
        """SIGKILL this fake Colab's DriveFS daemons: their mounts stay, dead (ENOTCONN)."""
        pids = self.daemons()
        drivefs.kill(pids, reaped=True)
        return pids

    def mount_at(self, point: str | os.PathLike[str]) -> Path:
        """Mount Drive at ``point`` as an earlier cell's ``drive.mount(point)`` did; its MyDrive.

        Like that cell, it kills the daemons of Drive mounted elsewhere. Nothing is printed or
        recorded in ``calls()``, and $FAKE_COLAB_MOUNT_ERROR is not looked at.
        """
        from google.colab import drive

        with contextlib.redirect_stdout(io.StringIO()):
            drive._mount(os.fspath(point), error="", ask=False, record=False)
        return Path(point) / "MyDrive"


@pytest.fixture
def fake_colab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeColab]:
    """Be on Colab: env tag set, fake google.colab importable, Drive not mounted yet.

    This process counts as the notebook kernel (``FAKE_COLAB_KERNEL_PID``). At the end the
    test's DriveFS daemons and mount sessions are killed, and every Drive mount (the test's:
    one test runs at a time) lazily unmounted, wherever it was.
    """
    need_fuse()
    root = tmp_path / "colab"
    (root / "var" / "colab").mkdir(parents=True)
    (root / "var" / "colab" / "hostname").write_text("colab-fake\n")
    mydrive = root / "drivefs" / "MyDrive"
    mydrive.mkdir(parents=True)
    (root / "drivefs" / "Shareddrives").mkdir()
    content = tmp_path / "content"
    content.mkdir()
    for name in (
        "FAKE_COLAB_MOUNT_ERROR",
        "FAKE_COLAB_EXPECT_SLACK_S",
        "FAKE_COLAB_DRIVE_QUIRKS",
        "VERTEX_PRODUCT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAKE_COLAB_ROOT", str(root))
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-fake")
    monkeypatch.setenv("TBE_EPHEM_CREDS_ADDR", "127.0.0.1:8009")
    monkeypatch.setenv("FAKE_COLAB_KERNEL_PID", str(os.getpid()))
    monkeypatch.syspath_prepend(str(FAKES))
    for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
        monkeypatch.delitem(sys.modules, name)
    _ROOTS.append(str(root))
    yield FakeColab(root, mydrive, content / "drive", content)
    drivefs.stop([str(root)])  # every Drive mount goes: in this namespace, only tests make them


@pytest.fixture
def mydrive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Off Colab: a My Drive folder that COLAB_BOOTSTRAP_DRIVE points at."""
    folder = tmp_path / "My Drive"
    folder.mkdir()
    monkeypatch.setenv("COLAB_BOOTSTRAP_DRIVE", str(folder))
    return folder


@dataclass
class FakeNvidiaSmi:
    """A fake nvidia-smi on PATH: ``calls()`` gives each run's arguments, ``pids()`` its PIDs."""

    bin_dir: Path
    log: Path
    pid_log: Path

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def queries(self) -> list[str]:
        """The runs that answered GPUtil's ``--query-gpu``."""
        return [call for call in self.calls() if "--query-gpu=" in call]

    def listings(self) -> list[str]:
        """The runs that answered ``-L``."""
        return [call for call in self.calls() if call == "-L"]

    def pids(self) -> list[int]:
        """Every process the fake started: the script itself and its ``sleep``."""
        text = self.pid_log.read_text() if self.pid_log.exists() else ""
        return [int(pid) for pid in text.split()]


def write_fake_nvidia_smi(
    bin_dir: Path,
    *,
    query: str | bytes = "",
    query_code: int = 0,
    query_stderr: str | bytes = "",
    listing: str | bytes = "",
    list_code: int = 0,
    list_stderr: str | bytes = "",
    delay: float = 0.0,
    query_delay: float | None = None,
    list_delay: float | None = None,
    detach: bool = False,
    table: str | bytes = "",
) -> FakeNvidiaSmi:
    """Write an nvidia-smi shell script answering GPUtil's query and ``-L`` separately.

    Each answer is stdout, stderr and an exit code, given after a delay (``delay`` for both,
    or ``query_delay`` / ``list_delay``). The delay is a ``sleep`` child that holds stdout
    open, like a hung driver call; with ``detach`` the script leaves it behind as an orphan
    (reparented away from the script) and exits, so only its process group can find it.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    data = bin_dir / "nvidia-smi.data"
    data.mkdir(exist_ok=True)
    answers = {
        "query": query,
        "query.err": query_stderr,
        "list": listing,
        "list.err": list_stderr,
        "table": table,
    }
    for name, payload in answers.items():
        raw = payload.encode() if isinstance(payload, str) else payload
        (data / name).write_bytes(raw)
    log = bin_dir / "nvidia-smi.calls"
    pid_log = bin_dir / "nvidia-smi.pids"
    q = shlex.quote

    def hang(seconds: float) -> str:
        if seconds <= 0:
            return ""
        record = f"echo $! >> {q(str(pid_log))}"
        if detach:
            return f"(sleep {seconds} & {record}); "
        return f"sleep {seconds} & {record}; wait $!; "

    qd = delay if query_delay is None else query_delay
    ld = delay if list_delay is None else list_delay
    answer = f"{q(str(data))}/"
    script = f"""#!/bin/sh
echo "$*" >> {q(str(log))}
echo $$ >> {q(str(pid_log))}
case "$*" in
  *--query-gpu=*) {hang(qd)}cat {answer}query; cat {answer}query.err >&2; exit {query_code} ;;
  -L) {hang(ld)}cat {answer}list; cat {answer}list.err >&2; exit {list_code} ;;
  *) cat {answer}table; exit 0 ;;
esac
"""
    exe = bin_dir / "nvidia-smi"
    exe.write_text(script)
    exe.chmod(0o755)
    return FakeNvidiaSmi(bin_dir, log, pid_log)


@pytest.fixture
def fake_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Factory: ``fake_nvidia_smi(query=..., listing=..., delay=...)`` puts one first on PATH."""

    def make(**kwargs: Any) -> FakeNvidiaSmi:
        fake = write_fake_nvidia_smi(tmp_path / "bin", **kwargs)
        monkeypatch.setenv("PATH", f"{fake.bin_dir}{os.pathsep}{os.environ['PATH']}")
        return fake

    return make


def nvidia_data(name: str) -> bytes:
    """Bytes of a recorded nvidia-smi output in tests/data/nvidia-smi."""
    return (NVIDIA_DATA / name).read_bytes()


def write_dist(
    site: Path,
    name: str,
    version: str,
    *,
    requires: tuple[str, ...] = (),
    extras: tuple[str, ...] = (),
    direct_url: dict[str, Any] | None = None,
    folder: str | None = None,
) -> Path:
    """Lay down a real ``.dist-info`` (METADATA, optional direct_url.json) in ``site``."""
    info = site / (folder or f"{name.replace('-', '_').replace('.', '_')}-{version}.dist-info")
    info.mkdir(parents=True, exist_ok=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Provides-Extra: {extra}" for extra in extras]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))
    return info


def install_from_github(tmp_path: Path, version: str) -> None:
    """Make this process look installed from GitHub by git at ``version`` (first on sys.path)."""
    site = tmp_path / "site"
    write_dist(
        site,
        "colab-bootstrap",
        version,
        direct_url={
            "url": "https://github.com/colab-bootstrap/colab-bootstrap.git",
            "vcs_info": {"vcs": "git", "commit_id": "a" * 40},
        },
    )
    sys.path.insert(0, str(site))


@dataclass
class Answer:
    """What the fake tags endpoint sends back."""

    status: int = 200
    body: bytes = b"[]"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass
class TagServer:
    """A real HTTP server on 127.0.0.1 that answers the tags request as told."""

    url: str
    answer: Answer
    requests: list[tuple[str, dict[str, str]]]

    def tags(self, *names: str) -> None:
        self.answer = Answer(body=json.dumps([{"name": n, "commit": {}} for n in names]).encode())


@pytest.fixture
def tag_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[TagServer]:
    """Serve GET requests in a thread; $COLAB_BOOTSTRAP_GITHUB_API points at it."""
    release = threading.Event()
    server_box: list[TagServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state = server_box[0]
            state.requests.append((self.path, dict(self.headers.items())))
            if state.answer.hang:
                release.wait(30)
                return
            self.send_response(state.answer.status)
            for name, value in state.answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(state.answer.body)))
            self.end_headers()
            self.wfile.write(state.answer.body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
            """Keep the test output quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    server_box.append(TagServer(url, Answer(), []))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("COLAB_BOOTSTRAP_GITHUB_API", url + "/")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("COLAB_BOOTSTRAP_NO_UPDATE_CHECK", raising=False)
    yield server_box[0]
    release.set()
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------------------------------------
# A notebook: a real IPython shell in this process, cells kept in its history
# ---------------------------------------------------------------------------------------------

#: A notebook's namespace (IPython's ``user_ns``, or a plain ``__main__``'s globals).
Namespace = dict[str, Any]


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Namespace]:
    """A real IPython shell in this process; its ``user_ns`` is the notebook namespace.

    Cells go through ``run()``, which keeps them in the shell's input history as a notebook does.
    """
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.enabled = False  # no SQLite file; the input history is kept all the same
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    yield shell.user_ns
    InteractiveShell.clear_instance()


@pytest.fixture
def main_module(monkeypatch: pytest.MonkeyPatch) -> Namespace:
    """A fresh ``__main__``, outside IPython: the namespace of a plain Python session."""
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    return vars(main)


def run(namespace: Namespace, code: str) -> Any:
    """Run a notebook cell; return the value of its last line when that is an expression.

    In IPython (``notebook``), the cell runs in the shell, which keeps it in its history; in a
    plain ``__main__`` (``main_module``), it is executed in that namespace.
    """
    from IPython import get_ipython

    code = textwrap.dedent(code).strip()
    shell = get_ipython()
    if shell is not None and namespace is shell.user_ns:
        result = shell.run_cell(code, store_history=True)
        result.raise_error()
        return result.result
    *body, last = code.splitlines()
    try:
        compiled = compile(last, "<cell>", "eval")
    except SyntaxError:
        exec("\n".join([*body, last]), namespace)  # noqa: S102 - a notebook cell
        return None
    exec("\n".join(body), namespace)  # noqa: S102
    return eval(compiled, namespace)  # noqa: S307


def write(folder: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(textwrap.dedent(text))


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` and give the file an older mtime, as a late Drive sync does."""
    before = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    older = before.st_mtime_ns - 100 * 10**9
    os.utime(path, ns=(before.st_atime_ns, older))
