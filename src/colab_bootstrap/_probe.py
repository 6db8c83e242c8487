"""The two GPU probes, started first and cheaply: ``nvidia-smi -L`` and ``GPUtil.getGPUs()``.

They run side by side under one deadline:

- ``nvidia-smi -L`` (index, name, UUID), run in its own session and parsed strictly. It is the
  presence test: it fills in every GPU that GPUtil failed on, hung on or silently dropped.
- GPUtil's ``getGPUs()`` (name, memory, driver). GPUtil 1.4.0 runs ``nvidia-smi`` with no timeout
  and parses error text as data, so it runs in a daemon thread, everything it raises is kept as
  text, and when it does not answer in time its ``nvidia-smi`` (and that process's children) are
  found through ``/proc`` and killed.

Starting them needs only the standard library's light modules, so ``setup()`` starts them
before it imports anything else: nvidia-smi answers while Drive is mounted and the folder linked.
``_accelerator`` reads what they said; ``_gpu`` keeps the answer for the process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
import types
import warnings

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

#: Where processes are listed, to find GPUtil's hung nvidia-smi.
PROC_DIR = "/proc"


_GRACE = 0.5  # seconds allowed for killed processes to go and their pipes to close
_QUERY_FLAG = b"--query-gpu="  # in the command line of the nvidia-smi that GPUtil runs
_MAX_TEXT = 300


def short(text: str) -> str:
    """One line of at most a few hundred characters, for messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_TEXT else flat[: _MAX_TEXT - 3] + "..."


def error_text(exc: BaseException) -> str:
    """``Type: message``, shortened."""
    return short(f"{type(exc).__name__}: {exc}")


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


class ListRun:
    """``nvidia-smi -L`` started in its own session, so a hang is ended with its children."""

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

    def finish(self, deadline: float, timeout: float) -> tuple[int, bytes, bytes] | str:
        """(exit code, stdout, stderr), or the problem as a sentence."""
        if self.proc is None:
            return self.error or "nvidia-smi could not be run"
        proc = self.proc
        try:
            out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=_GRACE)  # reap; a process stuck in the driver stays
            return f"nvidia-smi -L did not answer within {timeout:g}s (the GPU driver seems hung)"
        return proc.returncode, out, err


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
    """

    def __init__(self) -> None:
        self.found: list[object] = []
        self.error: str | None = None
        self._cancelled = threading.Event()
        self.thread: threading.Thread | None = None
        try:
            gputil = import_gputil()
        except Exception as exc:  # noqa: BLE001 - any failure to import means: use nvidia-smi -L
            self.error = f"GPUtil could not be imported: {error_text(exc)}"
            return
        self.thread = threading.Thread(
            target=self._run, args=(gputil,), name="colab_bootstrap-GPUtil", daemon=True
        )
        self.thread.start()

    def _run(self, gputil: object) -> None:
        try:
            if self._cancelled.is_set():
                return
            self.found = list(gputil.getGPUs())  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - GPUtil parses error text as data
            self.error = f"GPUtil failed: {error_text(exc)}"

    def finish(self, deadline: float, timeout: float) -> tuple[list[object], str | None]:
        """Wait until the deadline; return GPUtil's GPU objects and the error (a hang is one)."""
        if self.thread is None:
            return self.found, self.error
        self.thread.join(max(0.0, deadline - time.monotonic()))
        if not self.thread.is_alive():
            return self.found, self.error
        self._cancelled.set()
        killed = _kill_query_children()
        self.thread.join(_GRACE)
        return [], f"GPUtil did not answer within {timeout:g}s (nvidia-smi hung); " + (
            "its nvidia-smi was stopped"
            if killed and not self.thread.is_alive()
            else "its nvidia-smi could not be stopped and is left waiting in the background"
        )


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


def _cmdline(pid: int) -> bytes:
    try:
        with open(os.path.join(PROC_DIR, str(pid), "cmdline"), "rb") as cmdline:
            return cmdline.read()
    except OSError:
        return b""


def _kill_query_children() -> bool:
    """SIGKILL the hung ``nvidia-smi --query-gpu`` children of this process, and theirs.

    GPUtil starts nvidia-smi in our own process group with no handle for us, so its
    process tree is found through PROC_DIR. Returns whether any such child was found.
    """
    table = _process_table()
    me = os.getpid()
    roots = [pid for pid, ppid in table.items() if ppid == me and _QUERY_FLAG in _cmdline(pid)]
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
        self.runs = (ListRun(self.smi), GputilRun()) if self.smi is not None else None
