"""The two GPU probes, started first and cheaply: ``nvidia-smi -L`` and ``GPUtil.getGPUs()``.

They run side by side under one deadline, and neither may outlast it or fill memory:

- ``nvidia-smi -L`` (index, name, UUID), run in its own session and parsed strictly. It is the
  presence test: it fills in every GPU that GPUtil failed on, hung on or silently dropped.
  Its output is read as it comes, at most 64 KiB (and 4 KiB of errors): past that its process
  group is killed and the whole lines read so far are what it said, with a note that it was
  cut. Once nvidia-smi itself has exited, a process it left holding its output gets a tenth of
  a second, then the group is killed: the GPUs printed are not held back until the deadline.
- GPUtil's ``getGPUs()`` (name, memory, driver). GPUtil 1.4.0 runs ``nvidia-smi`` with no
  timeout, reads all it prints into memory and parses error text as data, so it runs in a
  daemon thread and everything it raises is kept as text. A second daemon thread watches the
  nvidia-smi that GPUtil's thread started, whatever program it has since become (``/proc``
  lists a thread's own children; where it does not, this process's children running
  ``nvidia-smi --query-gpu`` are taken), and kills it and its children once they have written
  more than 1 MiB, or at the deadline, whether or not the answer was asked for yet. GPUtil's
  pipe is out of reach, so what GPUtil reads is bounded by what is written between two looks,
  5 ms apart: tens of MiB at pipe speed, a few times that once GPUtil has split it into lines.
  Only a child that exited and left an orphan of its own holding the pipe escapes: GPUtil's
  thread then waits on in the background. nvidia-smi is not killed merely because ``-L``
  answered first: where persistence mode is off every nvidia-smi start initialises the driver
  (seconds on some GPUs), so a query a little slower than the listing is normal and its memory
  figures are worth the wait; output is what costs memory, and output is watched directly.

Starting them needs only the standard library's light modules, so ``setup()`` starts them
before it imports anything else: nvidia-smi answers while Drive is mounted and the folder linked.
``_accelerator`` reads what they said; ``_gpu`` keeps the answer for the process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
import types
import warnings

from ._errors import describe

__all__ = [
    "DEFAULT_TIMEOUT",
    "PROC_DIR",
    "Probes",
    "error_text",
    "find_nvidia_smi",
    "import_gputil",
    "short",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds the whole check may take (GPUtil and ``nvidia-smi -L`` run side by side)."""

#: Where processes are listed, to find GPUtil's nvidia-smi.
PROC_DIR = "/proc"


_GRACE = 0.5  # seconds allowed for killed processes to go and their pipes to close
_LINGER = 0.1  # seconds to read on after nvidia-smi -L exited, while its output is held open
_EXIT_POLL = 0.02  # seconds between looks at whether nvidia-smi -L has exited
_WATCH_POLL = 0.005  # seconds between looks at what GPUtil's nvidia-smi has written
_LIST_CAP = 64 * 1024  # bytes of nvidia-smi -L output read at most
_ERR_CAP = 4 * 1024  # bytes of its error output read at most
_QUERY_CAP = 1024 * 1024  # bytes GPUtil's nvidia-smi may write before it is killed
_MAX_TREE = 64  # processes looked at below GPUtil's nvidia-smi when counting what they wrote
_QUERY_FLAG = b"--query-gpu="  # in the command line of the nvidia-smi that GPUtil runs
_MAX_TEXT = 300


def short(text: str) -> str:
    """One line of at most a few hundred characters, for messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_TEXT else flat[: _MAX_TEXT - 3] + "..."


def error_text(exc: BaseException) -> str:
    """``Type: message``, shortened."""
    return short(describe(exc))


def find_nvidia_smi() -> tuple[str | None, str]:
    """The runnable nvidia-smi on PATH, or None and why not."""
    not_executable = None
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", "nvidia-smi")
        if os.path.isfile(candidate):
            if os.access(candidate, os.X_OK):
                return candidate, ""
            not_executable = not_executable or candidate
    if not_executable is not None:
        return None, f"{not_executable} is not executable, so no GPU can be listed"
    return None, "nvidia-smi is not on PATH: no NVIDIA driver on this runtime"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):  # already gone
        os.killpg(pid, signal.SIGKILL)


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the process has ended, left unreaped where the platform allows.

    Unreaped, its PID stays taken, so killing its process group cannot reach a newcomer.
    """
    if proc.returncode is not None:
        return True
    waitid = getattr(os, "waitid", None)
    if waitid is None:
        return proc.poll() is not None
    try:
        return waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except OSError:  # reaped by someone else: let Popen find out
        return proc.poll() is not None


class _Pipes:
    """Pipes read as they fill, each up to its cap in bytes: ``full`` is the one that went past."""

    def __init__(self, caps: dict[int, int]) -> None:
        self.caps = caps
        self.data = {fd: bytearray() for fd in caps}
        self.full: int | None = None
        self._selector = selectors.DefaultSelector()
        for fd in caps:
            self._selector.register(fd, selectors.EVENT_READ)

    def open(self) -> bool:
        """Whether more may be read: a pipe is still open and none went past its cap."""
        return self.full is None and bool(self._selector.get_map())

    def read(self, wait: float) -> bool:
        """Read what has come, waiting up to ``wait`` seconds for it; False if nothing came."""
        ready = self._selector.select(wait)
        for key, _ in ready:
            fd, cap = key.fd, self.caps[key.fd]
            try:
                chunk = os.read(fd, cap + 1 - len(self.data[fd]))
            except OSError:  # unreadable after all: as good as closed
                chunk = b""
            if not chunk:
                self._selector.unregister(fd)
                continue
            self.data[fd] += chunk
            if len(self.data[fd]) > cap:
                del self.data[fd][cap:]
                self.full = fd
                break
        return bool(ready)

    def close(self) -> None:
        self._selector.close()


class ListRun:
    """``nvidia-smi -L`` in its own session, so a hang is ended with its children.

    Its output is read as it comes, each pipe up to its cap, and not waited on once
    nvidia-smi itself has exited and ``_LINGER`` has passed.
    """

    def __init__(self, smi: str) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.error: str | None = None
        try:
            self.proc = subprocess.Popen(
                [smi, "-L"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            self.error = f"nvidia-smi could not be run: {error_text(exc)}"

    def finish(
        self, deadline: float, timeout: float
    ) -> tuple[int | None, bytes, bytes, str | None] | str:
        """(exit code, stdout, stderr, why the output was cut), or the problem as a sentence.

        The exit code is None when nvidia-smi was stopped for printing too much before it
        ended; the cut (None when all was read) says so in a sentence.
        """
        if self.proc is None:
            return self.error or "nvidia-smi could not be run"
        proc, stdout, stderr = self.proc, self.proc.stdout, self.proc.stderr
        if stdout is None or stderr is None:  # never: both are pipes
            return "nvidia-smi -L could not be read"
        out_fd, err_fd = stdout.fileno(), stderr.fileno()
        pipes = _Pipes({out_fd: _LIST_CAP, err_fd: _ERR_CAP})
        try:
            exited = _read_until_done(proc, pipes, deadline)
        finally:
            pipes.close()
            stdout.close()
            stderr.close()
        if exited is None:
            return f"nvidia-smi -L did not answer within {timeout:g}s (the GPU driver seems hung)"
        out, err, cut = bytes(pipes.data[out_fd]), bytes(pipes.data[err_fd]), None
        if pipes.full is not None:
            what = "output" if pipes.full == out_fd else "error output"
            cut = (
                f"nvidia-smi -L printed more than {pipes.caps[pipes.full] // 1024} KiB of "
                f"{what}, so it was stopped and the rest left unread"
            )
        if pipes.full == out_fd or not exited:
            out = out[: out.rfind(b"\n") + 1]  # a line cut short is no line
        return (proc.returncode if exited else None), out, err, cut


def _read_until_done(proc: subprocess.Popen[bytes], pipes: _Pipes, deadline: float) -> bool | None:
    """Read ``proc``'s pipes until it is done; whether it exited by itself, None if it hung.

    Done: its pipes are closed and it has exited; or it has exited and what it left holding
    its pipes had ``_LINGER`` to finish (its group is then killed); or a pipe went past its cap
    (its group is killed). None: still running at the deadline (its group is killed).
    """
    exited_at: float | None = None
    while pipes.open():
        now = time.monotonic()
        if exited_at is None and _exited(proc):
            exited_at = now
        end = deadline if exited_at is None else min(deadline, exited_at + _LINGER)
        if now >= end:
            break
        pipes.read(min(end - now, _EXIT_POLL))
    exited = exited_at is not None or _exited(proc)
    while not exited and pipes.full is None and time.monotonic() < deadline:
        time.sleep(_EXIT_POLL)  # both pipes closed, yet still running
        exited = _exited(proc)
    if not exited and pipes.full is None:
        _kill_group(proc.pid)
        _reap(proc)
        return None
    if pipes.open() or pipes.full is not None or not exited:
        _kill_group(proc.pid)  # it, stopped for printing too much, or what it left behind
        while pipes.open() and pipes.read(0):  # what they printed before the kill
            pass
    _reap(proc)
    return exited


def _reap(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(_GRACE)  # a process stuck in the driver stays


def _find_executable(executable: str, path: str | None = None) -> str | None:
    """``distutils.spawn.find_executable``, the one name GPUtil takes from distutils."""
    import shutil  # noqa: PLC0415 - GPUtil calls this on Windows only

    return shutil.which(executable, path=path)


def import_gputil() -> object:
    """Import GPUtil without paying for (or needing) distutils.

    GPUtil 1.4.0 does ``from distutils import spawn`` at import and uses only
    ``spawn.find_executable``, on Windows. distutils is gone from Python 3.12, where setuptools
    provides it by importing all of setuptools (a fifth of a second on Colab), and without
    setuptools GPUtil does not import at all. Unless this process already has a ``distutils``
    (loaded, or set to None to block it), a stand-in holding ``find_executable`` is registered
    for GPUtil's import only, then removed, so no other code ever sees it.
    """
    if "distutils" in sys.modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the real distutils is deprecated on 3.10 and 3.11
            return importlib.import_module("GPUtil")
    spawn = types.ModuleType("distutils.spawn", "colab_bootstrap stand-in, for GPUtil only")
    spawn.find_executable = _find_executable  # type: ignore[attr-defined]
    distutils = types.ModuleType("distutils", "colab_bootstrap stand-in, for GPUtil only")
    distutils.spawn = spawn  # type: ignore[attr-defined]
    sys.modules["distutils"], sys.modules["distutils.spawn"] = distutils, spawn
    try:
        return importlib.import_module("GPUtil")
    finally:
        for name, module in (("distutils", distutils), ("distutils.spawn", spawn)):
            if sys.modules.get(name) is module:
                del sys.modules[name]


class GputilRun:
    """``GPUtil.getGPUs()`` in a daemon thread: it cannot block the caller or the exit.

    GPUtil is imported here, in the caller's thread, never in the worker: an import running
    in a thread while the caller imports too can deadlock on the import locks (seen with
    setuptools' distutils hook, which GPUtil's ``from distutils import spawn`` goes through).
    A second daemon thread watches the nvidia-smi the worker starts and kills it once it has
    written more than ``_QUERY_CAP`` bytes, or at ``deadline``; ``stopped`` then says which.
    """

    def __init__(self, deadline: float) -> None:
        self.found: list[object] = []
        self.error: str | None = None
        self.stopped: str | None = None  # "flooded" or "hung", set by the watch
        self.killed = False  # whether the watch found GPUtil's nvidia-smi to kill
        self._cancelled = threading.Event()
        self.thread: threading.Thread | None = None
        self._watch: threading.Thread | None = None
        try:
            gputil = import_gputil()
        except Exception as exc:  # noqa: BLE001 - any failure to import means: use nvidia-smi -L
            self.error = f"GPUtil could not be imported: {error_text(exc)}"
            return
        self.thread = threading.Thread(
            target=self._run, args=(gputil,), name="colab_bootstrap-GPUtil", daemon=True
        )
        self.thread.start()
        self._watch = threading.Thread(
            target=self._guard,
            args=(self.thread, deadline),
            name="colab_bootstrap-GPUtil-watch",
            daemon=True,
        )
        self._watch.start()

    def _run(self, gputil: object) -> None:
        try:
            if self._cancelled.is_set():
                return
            self.found = list(gputil.getGPUs())  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - GPUtil parses error text as data
            self.error = f"GPUtil failed: {error_text(exc)}"

    def _guard(self, worker: threading.Thread, deadline: float) -> None:
        """Kill the worker's nvidia-smi once it wrote more than ``_QUERY_CAP``, or at deadline."""
        while worker.is_alive():
            children = _thread_children(worker.native_id)
            if time.monotonic() >= deadline:
                self.stopped = "hung"
            elif children and _written(children) > _QUERY_CAP:
                self.stopped = "flooded"
            else:
                worker.join(min(_WATCH_POLL, max(0.0, deadline - time.monotonic())))
                continue
            self._cancelled.set()
            self.killed = _kill_tree(_query_children() if children is None else children)
            return

    def finish(self, deadline: float, timeout: float) -> tuple[list[object], str | None]:
        """Wait until the deadline; return GPUtil's GPU objects and the error (a hang is one)."""
        if self.thread is None or self._watch is None:
            return self.found, self.error
        self._watch.join(max(0.0, deadline - time.monotonic()) + _GRACE)
        if self.stopped is None and not self.thread.is_alive():
            return self.found, self.error
        self.thread.join(_GRACE)
        gone = self.killed and not self.thread.is_alive()
        if self.stopped == "flooded":
            return [], f"GPUtil's nvidia-smi printed more than {_QUERY_CAP // 2**20} MiB, so " + (
                "it was stopped" if gone else "it was stopped, but GPUtil still waits on its output"
            )
        return [], f"GPUtil did not answer within {timeout:g}s (nvidia-smi hung); " + (
            "its nvidia-smi was stopped"
            if gone
            else "its nvidia-smi could not be stopped and is left waiting in the background"
        )


def _read_proc(pid: int, *names: str) -> bytes:
    """A file of process ``pid`` in PROC_DIR (empty if unreadable or gone)."""
    try:
        with open(os.path.join(PROC_DIR, str(pid), *names), "rb") as file:
            return file.read()
    except OSError:
        return b""


def _thread_children(tid: int | None) -> list[int] | None:
    """The processes that thread ``tid`` of this process started; None where none are listed.

    The kernel lists them in PROC_DIR whatever they became, an exec included, until they
    are reaped; it does so since Linux 3.5 if built with CONFIG_PROC_CHILDREN.
    """
    if tid is None:
        return None
    try:
        path = os.path.join(PROC_DIR, str(os.getpid()), "task", str(tid), "children")
        with open(path, "rb") as listing:
            return [int(pid) for pid in listing.read().split()]
    except (OSError, ValueError):
        return None


def _written(roots: list[int]) -> int:
    """Bytes written by ``roots``, their live descendants, and the ones they have reaped."""
    total = 0
    tree = list(roots)
    for pid in tree:  # grows while walking: children, grandchildren, ...
        for line in _read_proc(pid, "io").splitlines():
            name, _, value = line.partition(b":")
            if name == b"wchar" and value.strip().isdigit():
                total += int(value)
        if len(tree) < _MAX_TREE:
            with contextlib.suppress(OSError):
                for tid in os.listdir(os.path.join(PROC_DIR, str(pid), "task")):
                    children = _read_proc(pid, "task", tid, "children").split()
                    tree.extend(int(child) for child in children if child.isdigit())
    return total


def _process_table() -> dict[int, int]:
    """Map pid to parent pid for every process listed in PROC_DIR (empty if none)."""
    table: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir(PROC_DIR):
            if not entry.isdigit():
                continue
            try:
                with open(os.path.join(PROC_DIR, entry, "stat"), "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
                table[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):  # gone meanwhile, or unreadable
                continue
    return table


def _query_children() -> list[int]:
    """This process's children running ``nvidia-smi --query-gpu``: GPUtil's, most likely.

    Only where threads' children are not listed: a child that has since become another
    program (or died, its own children left running) is not found this way.
    """
    me = os.getpid()
    return [
        pid
        for pid, ppid in _process_table().items()
        if ppid == me and _QUERY_FLAG in _read_proc(pid, "cmdline")
    ]


def _kill_tree(roots: list[int]) -> bool:
    """SIGKILL ``roots`` and all their descendants; whether there was any root to kill.

    GPUtil starts nvidia-smi in our own process group with no handle for us, so its
    process tree is found through PROC_DIR.
    """
    table = _process_table()
    doomed = list(roots)
    for parent in doomed:  # grows while walking: children, grandchildren, ...
        doomed.extend(pid for pid, ppid in table.items() if ppid == parent)
    for pid in doomed:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return bool(roots)


class Probes:
    """Both probes under way, sharing one deadline; ``runs`` is None without nvidia-smi."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.smi, self.missing = find_nvidia_smi()
        self.runs = (ListRun(self.smi), GputilRun(self.deadline)) if self.smi is not None else None
