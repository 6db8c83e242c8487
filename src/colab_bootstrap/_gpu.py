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

import glob
import importlib
import importlib.util
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _probe
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
    "switch_on_advice",
]

DEFAULT_TIMEOUT = 5.0
"""Seconds the whole check may take (GPUtil and ``nvidia-smi -L`` run side by side)."""

TPU_DEVICE_GLOBS: tuple[str, ...] = ("/dev/accel*",)
"""Device files whose presence means a TPU VM runtime."""

TPU_MODULES: tuple[str, ...] = ("libtpu",)
"""Top-level packages whose presence means a TPU runtime (found, never imported)."""

_LIST_LINE = re.compile(r"GPU (\d+): (\S(?:.*\S)?) \(UUID: (GPU-[0-9A-Fa-f-]+)\)")
_MIG_LINE = re.compile(r"MIG \S+\s+Device\s+\d+: \(UUID: MIG-[^)]*\)")
_UNKNOWN = frozenset({"", "[N/A]", "[Not Supported]", "N/A"})

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
_lock = threading.Lock()


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
    said = _probe.short(text) or _probe.short(err.decode("utf-8", "replace")) or "no output"
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
            unexpected.append(_probe.short(line))
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


def _no_gpu(reason: str, smi: str | None, notes: list[str], gputil_error: str | None) -> GpuCheck:
    tpu = _tpu_evidence()
    if tpu is not None:
        return GpuCheck(
            (), "tpu", f"TPU runtime, not GPU ({tpu})", smi, (*notes, reason), gputil_error
        )
    return GpuCheck((), "cpu", reason, smi, tuple(notes), gputil_error)


def _collect(probes: _probe.Probes) -> GpuCheck:
    """Wait for both probes (one deadline) and combine what they said."""
    if probes.runs is None:
        return _no_gpu(probes.missing, None, [], f"not run: {probes.missing}")
    listing_run, gputil_run = probes.runs
    said = listing_run.finish(probes.deadline, probes.timeout)
    listing = _Listing(problem=said) if isinstance(said, str) else _parse_listing(*said)
    found, gputil_error = gputil_run.finish(probes.deadline, probes.timeout)
    return _combine(listing, tuple(_from_gputil(gpu) for gpu in found), gputil_error, probes.smi)


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
    global _cache  # noqa: PLW0603 - one result per process, by design
    with _lock:
        if _cache is None or refresh:
            # Probes started by setup() and not collected yet are as fresh as a new check.
            pending = _probe.take() or _probe.Probes(float(timeout))
            _cache = _collect(pending)
        return _cache


def prefetch(timeout: float = DEFAULT_TIMEOUT) -> None:
    """Start the check in the background and return at once; ``check()`` collects it.

    ``setup()`` calls this first, so nvidia-smi runs while Drive is mounted and linked.
    Does nothing when this process already has a result or a check under way.
    """
    _validate(timeout)
    if _cache is None:
        _probe.start(float(timeout))


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
    return f"No GPU: {attached}. {switch_on_advice(result)}"


def switch_on_advice(result: GpuCheck) -> str:
    """How to get a GPU: the runtime-type menu path, plus the driver hint when one is broken."""
    if result.nvidia_smi is not None and result.accelerator == "cpu":
        return f"{_SWITCH_ON} {_BROKEN_DRIVER}"
    return _SWITCH_ON
