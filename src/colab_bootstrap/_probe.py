"""Asking the machine which accelerator it has, without ever hanging: the probes and their answers.

Two probes run side by side under one deadline:

- ``nvidia-smi -L`` (index, name, UUID), run in its own session and parsed strictly. It is the
  presence test: it fills in every GPU that GPUtil failed on, hung on or silently dropped.
- GPUtil's ``getGPUs()`` (name, memory, driver). GPUtil 1.4.0 runs ``nvidia-smi`` with no timeout
  and parses error text as data, so it runs in a daemon thread, everything it raises is kept as
  text, and when it does not answer in time its ``nvidia-smi`` (and that process's children) are
  found through ``/proc`` and killed.

Without a GPU, device files and installed packages tell a TPU runtime from a CPU one. Starting
the probes needs only the standard library's light modules, so ``setup()`` starts them before it
imports the rest: nvidia-smi answers while Drive is mounted. ``_gpu`` keeps the answer for the
process and turns it into advice.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import importlib.util
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import types
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._render import Rendered

__all__ = [
    "PROC_DIR",
    "Accelerator",
    "Gpu",
    "GpuCheck",
    "Probes",
    "collect",
    "find_nvidia_smi",
    "import_gputil",
]

#: Where processes are listed, to find GPUtil's hung nvidia-smi.
PROC_DIR = "/proc"

_LIST_LINE = re.compile(r"GPU (\d+): (\S(?:.*\S)?) \(UUID: (GPU-[0-9A-Fa-f-]+)\)")
_MIG_LINE = re.compile(r"MIG \S+\s+Device\s+\d+: \(UUID: MIG-[^)]*\)")
_UNKNOWN = frozenset({"", "[N/A]", "[Not Supported]", "N/A"})

Source = Literal["GPUtil", "nvidia-smi -L"]
Accelerator = Literal["gpu", "tpu", "cpu"]

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


@dataclass(frozen=True)
class Gpu:
    """One GPU as reported by GPUtil or ``nvidia-smi -L`` (memory in MiB, None if unknown)."""

    index: int
    name: str
    uuid: str | None = None
    memory_total_mb: int | None = None
    memory_used_mb: int | None = None
    driver: str | None = None
    source: Source = "nvidia-smi -L"

    def __str__(self) -> str:
        if self.memory_total_mb is None:
            memory = "memory not reported"
        elif self.memory_used_mb is None:
            memory = f"{self.memory_total_mb} MiB total"
        else:
            memory = f"{self.memory_total_mb} MiB total, {self.memory_used_mb} MiB used"
        return f"GPU {self.index}: {self.name} ({memory})"


@dataclass(frozen=True)
class GpuCheck(Rendered):
    """What the accelerator check found, and why there is no GPU when there is none.

    Attributes:
        gpus: the GPUs found, by index (empty when none).
        accelerator: "gpu", "tpu" or "cpu" (cpu: no usable accelerator).
        reason: why there is no GPU (None when there are GPUs).
        nvidia_smi: the ``nvidia-smi`` that was run, or None when there is none to run.
        notes: other things worth knowing (GPUs GPUtil missed, odd output, ...).
        gputil_error: None when GPUtil was imported and answered; else why it gave nothing
            (its import error, the exception it raised, its timeout, or why it was not run).
    """

    gpus: tuple[Gpu, ...]
    accelerator: Accelerator
    reason: str | None = None
    nvidia_smi: str | None = None
    notes: tuple[str, ...] = field(default=())
    gputil_error: str | None = None

    @property
    def summary(self) -> str:
        """One line: the GPUs, or what is attached instead."""
        if self.gpus:
            return "; ".join(str(g) for g in self.gpus)
        if self.accelerator == "tpu":
            return "TPU runtime, not GPU"
        return f"no GPU ({self.reason})" if self.reason else "no GPU"

    def _title(self) -> str:
        return f"GPU check: {self.summary}"

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("accelerator", self.accelerator),
            *((f"GPU {g.index}", f"{g} via {g.source}") for g in self.gpus),
            *((("reason", self.reason),) if self.reason else ()),
            ("nvidia-smi", self.nvidia_smi or "not found"),
            ("GPUtil", self.gputil_error or "answered"),
            *(("note", note) for note in self.notes),
        ]


# --- nvidia-smi -L -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Listing:
    """What ``nvidia-smi -L`` said: the GPUs, or the problem; unexpected lines kept."""

    gpus: tuple[Gpu, ...] = ()
    problem: str | None = None
    unexpected: tuple[str, ...] = ()


def _parse_listing(code: int, out: bytes, err: bytes) -> _Listing:
    """Parse ``nvidia-smi -L`` strictly: GPUs only from exit code 0 and whole GPU lines."""
    text = out.decode("utf-8", "replace")
    said = short(text) or short(err.decode("utf-8", "replace")) or "no output"
    if code != 0:
        return _Listing(problem=f"nvidia-smi -L failed with exit code {code}: {said}")
    found: list[Gpu] = []
    unexpected: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        match = _LIST_LINE.fullmatch(line)
        if match:
            found.append(Gpu(int(match[1]), match[2], match[3]))
        elif line and not _MIG_LINE.fullmatch(line):
            unexpected.append(short(line))
    if not found:
        return _Listing(problem=f"nvidia-smi -L listed no GPU: {said}")
    return _Listing(tuple(found), None, tuple(unexpected))


# --- GPUtil --------------------------------------------------------------------------------


def _number(value: Any) -> int | None:
    """GPUtil's float (nan for [N/A]) as whole MiB, or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return round(number) if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text in _UNKNOWN else text


def _from_gputil(gpu: Any) -> Gpu:
    name = _text(gpu.name)
    return Gpu(
        index=int(gpu.id),
        name=name or "unnamed GPU",
        uuid=_text(gpu.uuid),
        memory_total_mb=_number(gpu.memoryTotal),
        memory_used_mb=_number(gpu.memoryUsed),
        driver=_text(gpu.driver),
        source="GPUtil",
    )


# --- TPU -----------------------------------------------------------------------------------


def _tpu_evidence(device_globs: Sequence[str], modules: Sequence[str]) -> str | None:
    """Why this looks like a TPU runtime (a device file, an installed libtpu), or None."""
    for pattern in device_globs:
        found = sorted(glob.glob(pattern))
        if found:
            return f"{found[0]} is present"
    for name in modules:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return f"the {name} package is installed"
    return None


# --- the check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tpu:
    """Where TPU evidence is looked for (device file patterns, package names)."""

    device_globs: Sequence[str]
    modules: Sequence[str]


def _no_gpu(
    reason: str, smi: str | None, notes: list[str], gputil_error: str | None, tpu_at: _Tpu
) -> GpuCheck:
    tpu = _tpu_evidence(tpu_at.device_globs, tpu_at.modules)
    if tpu is not None:
        return GpuCheck(
            (), "tpu", f"TPU runtime, not GPU ({tpu})", smi, (*notes, reason), gputil_error
        )
    return GpuCheck((), "cpu", reason, smi, tuple(notes), gputil_error)


def collect(
    probes: Probes, *, tpu_device_globs: Sequence[str], tpu_modules: Sequence[str]
) -> GpuCheck:
    """Wait for both probes (one deadline) and combine what they said; never raises.

    Without a GPU, ``tpu_device_globs`` (device files) and ``tpu_modules`` (packages, found,
    never imported) tell a TPU runtime from a CPU one.
    """
    tpu_at = _Tpu(tpu_device_globs, tpu_modules)
    if probes.runs is None:
        return _no_gpu(probes.missing, None, [], f"not run: {probes.missing}", tpu_at)
    listing_run, gputil_run = probes.runs
    said = listing_run.finish(probes.deadline, probes.timeout)
    listing = _Listing(problem=said) if isinstance(said, str) else _parse_listing(*said)
    found, gputil_error = gputil_run.finish(probes.deadline, probes.timeout)
    gputil_gpus = tuple(_from_gputil(gpu) for gpu in found)
    return _combine(listing, gputil_gpus, gputil_error, probes.smi, tpu_at)


def _combine(
    listing: _Listing,
    gputil_gpus: tuple[Gpu, ...],
    gputil_error: str | None,
    smi: str | None,
    tpu_at: _Tpu,
) -> GpuCheck:
    by_index = {gpu.index: gpu for gpu in gputil_gpus}
    notes: list[str] = []
    missed = [gpu for gpu in listing.gpus if gpu.index not in by_index]
    if missed and gputil_error is None:
        names = ", ".join(f"GPU {gpu.index}" for gpu in missed)
        notes.append(f"GPUtil did not report {names}; nvidia-smi -L did")
    by_index.update((gpu.index, gpu) for gpu in missed)
    if listing.unexpected:
        notes.append("nvidia-smi -L also printed: " + " | ".join(listing.unexpected))
    if by_index:
        found = tuple(by_index[index] for index in sorted(by_index))
        if listing.problem:
            notes.append(listing.problem)
        return GpuCheck(found, "gpu", None, smi, tuple(notes), gputil_error)
    return _no_gpu(listing.problem or "no GPU listed", smi, notes, gputil_error, tpu_at)
