"""What the accelerator is: the GPU probes' answers read into ``Gpu`` records, or why there is none.

``nvidia-smi -L`` is parsed strictly (GPUs only from whole GPU lines, and from exit code 0 or
output cut at its cap); GPUtil's objects give memory and driver where it answered; the listing
fills in every GPU GPUtil failed on, hung on or silently dropped. Without a GPU, device files
and installed packages tell a TPU runtime from a CPU one, and the reason is kept for the advice.
"""

from __future__ import annotations

import glob
import importlib.util
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._probe import Probes, short
from ._render import Rendered

__all__ = ["Accelerator", "Gpu", "GpuCheck", "Source", "collect"]

_LIST_LINE = re.compile(r"GPU (\d+): (\S(?:.*\S)?) \(UUID: (GPU-[0-9A-Fa-f-]+)\)")
_MIG_LINE = re.compile(r"MIG \S+\s+Device\s+\d+: \(UUID: MIG-[^)]*\)")
_UNKNOWN = frozenset({"", "[N/A]", "[Not Supported]", "N/A"})
_MAX_ODD = 3  # unexpected lines of nvidia-smi -L kept for the note

#: Which probe described a GPU.
Source = Literal["GPUtil", "nvidia-smi -L"]
#: What the runtime has: a GPU, a TPU, or neither ("cpu").
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
    """What ``nvidia-smi -L`` said: the GPUs, or the problem; unexpected lines kept, and the cut."""

    gpus: tuple[Gpu, ...] = ()
    problem: str | None = None
    unexpected: tuple[str, ...] = ()
    cut: str | None = None


def _parse_listing(code: int | None, out: bytes, err: bytes, cut: str | None = None) -> _Listing:
    """Parse ``nvidia-smi -L`` strictly: GPUs only from exit code 0 and whole GPU lines.

    ``code`` None: nvidia-smi was stopped for printing too much before it ended (``cut`` says
    so, and is kept); the whole lines it printed until then are read as with exit code 0. A GPU
    index listed again is an unexpected line; only the first few of those are kept.
    """
    text = out.decode("utf-8", "replace")
    said = short(text) or short(err.decode("utf-8", "replace")) or "no output"
    if code is not None and code != 0:
        return _Listing(problem=f"nvidia-smi -L failed with exit code {code}: {said}", cut=cut)
    found: dict[int, Gpu] = {}
    unexpected: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        match = _LIST_LINE.fullmatch(line)
        if match and int(match[1]) not in found:
            found[int(match[1])] = Gpu(int(match[1]), match[2], match[3])
        elif line and not _MIG_LINE.fullmatch(line):
            unexpected.append(short(line))
    if len(unexpected) > _MAX_ODD:
        unexpected[_MAX_ODD:] = [f"and {len(unexpected) - _MAX_ODD} more lines"]
    if not found:
        return _Listing(problem=f"nvidia-smi -L listed no GPU: {said}", cut=cut)
    return _Listing(tuple(found.values()), None, tuple(unexpected), cut)


# --- GPUtil --------------------------------------------------------------------------------


def _number(value: float) -> int | None:
    """GPUtil's float (GPUtil makes every figure one; nan for [N/A]) as whole MiB, or None."""
    return round(value) if math.isfinite(value) else None


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
    if listing.cut:
        notes.append(listing.cut)
    if by_index:
        found = tuple(by_index[index] for index in sorted(by_index))
        if listing.problem:
            notes.append(listing.problem)
        return GpuCheck(found, "gpu", None, smi, tuple(notes), gputil_error)
    return _no_gpu(listing.problem or "no GPU listed", smi, notes, gputil_error, tpu_at)
