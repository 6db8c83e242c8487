"""The GPU check: which accelerator the runtime has, never hanging, never raising.

First version: ``nvidia-smi -L`` with a timeout. The GPUtil path, TPU detection and the
full fixture coverage come with the GPU issue.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field

__all__ = ["Gpu", "GpuCheck", "check", "gpus", "no_gpu_message"]

DEFAULT_TIMEOUT = 5.0

_SWITCH_ON = (
    "In Colab: Runtime > Change runtime type > Hardware accelerator > a GPU (e.g. T4 GPU) > "
    "Save, then re-run this cell. Changing the runtime type restarts the runtime, so run the "
    "notebook from the top again."
)


@dataclass(frozen=True)
class Gpu:
    """One GPU as reported by GPUtil or ``nvidia-smi -L``."""

    index: int
    name: str
    uuid: str | None = None
    memory_total_mb: int | None = None
    memory_used_mb: int | None = None
    driver: str | None = None
    source: str = "nvidia-smi -L"

    def __str__(self) -> str:
        memory = f", {self.memory_total_mb} MiB" if self.memory_total_mb is not None else ""
        return f"GPU {self.index}: {self.name}{memory}"


@dataclass(frozen=True)
class GpuCheck:
    """What the accelerator check found, and why there is no GPU when there is none."""

    gpus: tuple[Gpu, ...]
    accelerator: str  # "gpu", "tpu" or "cpu"
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


_LIST_LINE = re.compile(r"^GPU (\d+): (.+?)(?: \(UUID: ([^)]+)\))?$")
_cache: GpuCheck | None = None
_lock = threading.Lock()


def _run(argv: list[str], timeout: float) -> tuple[int, str]:
    """Run argv with a hard timeout; kill the whole process group if it hangs."""
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):  # already gone
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return proc.returncode, out.decode("utf-8", "replace")


def _check(timeout: float) -> GpuCheck:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return GpuCheck((), "cpu", "nvidia-smi is not installed: this is a CPU runtime")
    try:
        code, out = _run([smi, "-L"], timeout)
    except subprocess.TimeoutExpired:
        return GpuCheck((), "cpu", f"nvidia-smi did not answer within {timeout:g}s", smi)
    except OSError as exc:
        return GpuCheck((), "cpu", f"nvidia-smi could not be run: {exc}", smi)
    found = []
    for line in out.splitlines():
        match = _LIST_LINE.match(line.strip())
        if match:
            found.append(Gpu(int(match[1]), match[2], match[3]))
    if found:
        return GpuCheck(tuple(found), "gpu", None, smi)
    text = out.strip().splitlines()[0] if out.strip() else f"exit code {code}, no output"
    return GpuCheck((), "cpu", f"nvidia-smi: {text}", smi)


def check(timeout: float = DEFAULT_TIMEOUT, *, refresh: bool = False) -> GpuCheck:
    """Check the accelerator once per process (``refresh=True`` checks again)."""
    global _cache  # noqa: PLW0603 - one result per process, by design
    with _lock:
        if _cache is None or refresh:
            _cache = _check(timeout)
        return _cache


def gpus(timeout: float = DEFAULT_TIMEOUT, *, refresh: bool = False) -> list[Gpu]:
    """Return the GPUs attached to this runtime (empty when none); never raises."""
    return list(check(timeout, refresh=refresh).gpus)


def no_gpu_message(result: GpuCheck) -> str:
    """The warning text for a runtime without GPU: what is attached and how to switch."""
    return f"No GPU is attached to this runtime ({result.summary}). {_SWITCH_ON}"
