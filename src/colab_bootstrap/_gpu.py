"""The GPU check: which accelerator the runtime has, never hanging, never raising.

Two sources, run side by side under one deadline:

- GPUtil's ``getGPUs()`` (name, memory, driver), imported only when the check runs. It runs
  ``nvidia-smi`` with no timeout and parses error text as data, so it runs in a daemon worker
  thread, everything it raises is kept as text, and when it does not answer in time its
  ``nvidia-smi`` (and that process's children) are killed.
- ``nvidia-smi -L`` (index, name, UUID), run in its own session with a timeout and parsed
  strictly. It is the presence test: it fills in every GPU that GPUtil failed on, hung on or
  silently dropped.

Without a GPU it says what is there instead (TPU or CPU runtime) and why. The result is
computed once per process; ``refresh=True`` checks again.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import importlib.util
import math
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

from ._render import html_table, text_block

__all__ = [
    "DEFAULT_TIMEOUT",
    "TPU_DEVICE_GLOBS",
    "TPU_MODULES",
    "Gpu",
    "GpuCheck",
    "check",
    "gpus",
    "no_gpu_message",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds the whole check may take (GPUtil and ``nvidia-smi -L`` run side by side)."""

TPU_DEVICE_GLOBS: tuple[str, ...] = ("/dev/accel*",)
"""Device files whose presence means a TPU VM runtime."""

TPU_MODULES: tuple[str, ...] = ("libtpu",)
"""Top-level packages whose presence means a TPU runtime (found, never imported)."""

PROC_DIR = "/proc"
"""Where the processes of this machine are listed (Linux); used to end a hung GPUtil child."""

_GRACE = 0.5  # seconds allowed for killed processes to go and their pipes to close
_QUERY_FLAG = b"--query-gpu="  # in the command line of the nvidia-smi that GPUtil runs
_LIST_LINE = re.compile(r"GPU (\d+): (\S(?:.*\S)?) \(UUID: (GPU-[0-9A-Fa-f-]+)\)")
_MIG_LINE = re.compile(r"MIG \S+\s+Device\s+\d+: \(UUID: MIG-[^)]*\)")
_UNKNOWN = frozenset({"", "[N/A]", "[Not Supported]", "N/A"})
_MAX_TEXT = 300

_SWITCH_ON = (
    "To use a GPU in Colab: Runtime > Change runtime type > Hardware accelerator > a GPU "
    "(e.g. T4 GPU) > Save, then re-run this cell. Changing the runtime type restarts the "
    "runtime: run the notebook from the top again."
)
_BROKEN_DRIVER = (
    "If a GPU runtime is already selected, its driver is not answering: Runtime > Disconnect "
    "and delete runtime, then run the notebook from the top again."
)

Source = Literal["GPUtil", "nvidia-smi -L"]
Accelerator = Literal["gpu", "tpu", "cpu"]


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
class GpuCheck:
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

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("accelerator", self.accelerator),
            *((f"GPU {g.index}", f"{g} via {g.source}") for g in self.gpus),
            *((("reason", self.reason),) if self.reason else ()),
            ("nvidia-smi", self.nvidia_smi or "not found"),
            ("GPUtil", self.gputil_error or "answered"),
            *(("note", note) for note in self.notes),
        ]

    def __str__(self) -> str:
        return text_block(f"GPU check: {self.summary}", self._rows())

    def _repr_html_(self) -> str:
        return html_table(f"GPU check: {self.summary}", self._rows())


_cache: GpuCheck | None = None
_pending: _Pending | None = None
_lock = threading.Lock()


def _short(text: str) -> str:
    """Squash output to one line of readable length for messages."""
    line = " ".join(text.split())
    return line if len(line) <= _MAX_TEXT else line[: _MAX_TEXT - 3] + "..."


def _error_text(exc: BaseException) -> str:
    return _short(f"{type(exc).__name__}: {exc}")


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
    said = _short(text) or _short(err.decode("utf-8", "replace")) or "no output"
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
            unexpected.append(_short(line))
    if not found:
        return _Listing(problem=f"nvidia-smi -L listed no GPU: {said}")
    return _Listing(tuple(found), None, tuple(unexpected))


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):  # already gone
        os.killpg(pid, signal.SIGKILL)


class _ListRun:
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
            self.error = f"nvidia-smi could not be run: {_error_text(exc)}"

    def finish(self, deadline: float, timeout: float) -> _Listing:
        if self.proc is None:
            return _Listing(problem=self.error)
        proc = self.proc
        try:
            out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=_GRACE)  # reap; a process stuck in the driver stays
            return _Listing(
                problem=f"nvidia-smi -L did not answer within {timeout:g}s "
                "(the GPU driver seems hung)"
            )
        return _parse_listing(proc.returncode, out, err)


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


class _GputilRun:
    """``GPUtil.getGPUs()`` in a daemon thread: it cannot block the caller or the exit."""

    def __init__(self) -> None:
        self.gpus: tuple[Gpu, ...] = ()
        self.error: str | None = None
        self._cancelled = threading.Event()
        # GPUtil is imported in the thread too: its import (distutils through setuptools on
        # 3.12+) then overlaps with whatever the caller does meanwhile.
        self.thread: threading.Thread | None = threading.Thread(
            target=self._run, name="colab_bootstrap-GPUtil", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        try:
            with warnings.catch_warnings():
                # GPUtil imports distutils (deprecated on 3.10 and 3.11): not the user's concern.
                warnings.simplefilter("ignore")
                gputil = importlib.import_module("GPUtil")
        except Exception as exc:  # noqa: BLE001 - any failure to import means: use nvidia-smi -L
            self.error = f"GPUtil could not be imported: {_error_text(exc)}"
            return
        try:
            if self._cancelled.is_set():
                return
            found = gputil.getGPUs()
            self.gpus = tuple(_from_gputil(gpu) for gpu in found)
        except Exception as exc:  # noqa: BLE001 - GPUtil parses error text as data
            self.error = f"GPUtil failed: {_error_text(exc)}"

    def finish(self, deadline: float, timeout: float) -> tuple[tuple[Gpu, ...], str | None]:
        """Wait until the deadline; return the GPUs and the error (a hang is one)."""
        if self.thread is None:
            return self.gpus, self.error
        self.thread.join(max(0.0, deadline - time.monotonic()))
        if not self.thread.is_alive():
            return self.gpus, self.error
        self._cancelled.set()
        killed = _kill_query_children()
        self.thread.join(_GRACE)
        return (), f"GPUtil did not answer within {timeout:g}s (nvidia-smi hung); " + (
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


# --- TPU -----------------------------------------------------------------------------------


def _tpu_evidence() -> str | None:
    """Why this looks like a TPU runtime (a device file, libtpu), or None."""
    for pattern in TPU_DEVICE_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return f"{found[0]} is present"
    for name in TPU_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return f"the {name} package is installed"
    return None


# --- the check -----------------------------------------------------------------------------


def _find_nvidia_smi() -> tuple[str | None, str]:
    """The runnable nvidia-smi on PATH, or None and why not."""
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        return smi, ""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", "nvidia-smi")
        if os.path.isfile(candidate):
            return None, f"{candidate} is not executable, so no GPU can be listed"
    return None, "nvidia-smi is not on PATH: no NVIDIA driver on this runtime"


def _no_gpu(reason: str, smi: str | None, notes: list[str], gputil_error: str | None) -> GpuCheck:
    tpu = _tpu_evidence()
    if tpu is not None:
        return GpuCheck(
            (), "tpu", f"TPU runtime, not GPU ({tpu})", smi, (*notes, reason), gputil_error
        )
    return GpuCheck((), "cpu", reason, smi, tuple(notes), gputil_error)


class _Pending:
    """A check under way: both probes started at once, collected by ``finish()``."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.smi, self.missing = _find_nvidia_smi()
        self.runs = (_ListRun(self.smi), _GputilRun()) if self.smi is not None else None

    def finish(self) -> GpuCheck:
        if self.runs is None:
            return _no_gpu(self.missing, None, [], f"not run: {self.missing}")
        listing_run, gputil = self.runs
        listing = listing_run.finish(self.deadline, self.timeout)
        gputil_gpus, gputil_error = gputil.finish(self.deadline, self.timeout)
        return _combine(listing, gputil_gpus, gputil_error, self.smi)


def _combine(
    listing: _Listing, gputil_gpus: tuple[Gpu, ...], gputil_error: str | None, smi: str | None
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
    return _no_gpu(listing.problem or "no GPU listed", smi, notes, gputil_error)


def check(timeout: float = DEFAULT_TIMEOUT, *, refresh: bool = False) -> GpuCheck:
    """Check the accelerator once per process (``refresh=True`` checks again); never raises.

    Args:
        timeout: seconds the check may take in all; a hung driver is given up on after it.
        refresh: check again instead of returning this process's earlier result.

    Raises:
        ValueError: timeout is not a positive, finite number of seconds.
    """
    _validate(timeout)
    global _cache, _pending  # noqa: PLW0603 - one result per process, by design
    with _lock:
        if _cache is None or refresh:
            pending = _pending if _pending is not None and not refresh else None
            _pending = None
            _cache = (pending or _Pending(float(timeout))).finish()
        return _cache


def prefetch(timeout: float = DEFAULT_TIMEOUT) -> None:
    """Start the check in the background and return at once; ``check()`` collects it.

    ``setup()`` calls this first, so nvidia-smi runs while Drive is mounted and linked.
    Does nothing when this process already has a result or a check under way.
    """
    _validate(timeout)
    global _pending  # noqa: PLW0603
    with _lock:
        if _cache is None and _pending is None:
            _pending = _Pending(float(timeout))


def _validate(timeout: float) -> None:
    if not 0 < timeout < math.inf:  # also refuses nan
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}.")


def gpus(timeout: float = DEFAULT_TIMEOUT, *, refresh: bool = False) -> list[Gpu]:
    """Return the GPUs attached to this runtime (empty when none); never hangs or raises.

    The check runs once per process (GPUtil, then ``nvidia-smi -L`` for what GPUtil could
    not tell); later calls return the same answer unless ``refresh=True``.

    Args:
        timeout: seconds the check may take in all (default 5).
        refresh: check again instead of reusing this process's earlier answer.

    Raises:
        ValueError: timeout is not a positive, finite number of seconds.
    """
    return list(check(timeout, refresh=refresh).gpus)


def no_gpu_message(result: GpuCheck) -> str:
    """The warning text for a runtime without GPU: what is attached and how to switch."""
    if result.accelerator == "tpu":
        attached = f"this is a TPU runtime, not GPU ({result.reason})"
    elif result.nvidia_smi is None:
        attached = f"this is a CPU-only runtime ({result.reason})"
    else:
        attached = f"no working GPU on this runtime ({result.reason})"
    message = f"No GPU: {attached}. {_SWITCH_ON}"
    if result.nvidia_smi is not None and result.accelerator == "cpu":
        message += f" {_BROKEN_DRIVER}"
    return message
