"""``gpus()``: the accelerator this runtime has, asked once per process, and what to do without one.

The probes (``_probe``) run, ``_accelerator`` reads what they said, and the answer is kept in
the session record, so ``setup()``, ``doctor()`` and ``gpus()`` share one nvidia-smi run;
``refresh=True`` asks again. Without a GPU the advice names Colab's menu path, and the driver
hint when nvidia-smi is there but broken.
"""

from __future__ import annotations

import warnings

from ._accelerator import Gpu, GpuCheck, collect
from ._errors import ColabBootstrapWarning, GpuNotAvailableError
from ._probe import DEFAULT_TIMEOUT, Probes
from ._session import SESSION, again, flag, seconds

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._session import GpuPolicy

__all__ = ["check", "enforce", "gpus", "no_gpu_message", "switch_on_advice"]

_BROKEN_DRIVER = (
    "If a GPU runtime is already selected, its driver is not answering: Runtime > Disconnect "
    "and delete runtime, then run the notebook from the top again."
)


def check(timeout: float = DEFAULT_TIMEOUT, *, refresh: bool = False) -> GpuCheck:
    """Check the accelerator once per process (``refresh=True`` checks again); never hangs.

    Probes that ``setup()`` started and nobody collected yet are as fresh as a new check.

    Args:
        timeout: seconds the check may take in all; a hung driver is given up on after it.
        refresh: check again instead of returning this process's earlier result.

    Raises:
        ValueError: ``timeout`` is not a number of seconds above 0 and under a day (True,
            False, a string, None, nan and the infinities are refused), or ``refresh`` is not
            True or False.
    """
    limit = seconds(timeout, "timeout", "gpus(timeout=10) (to check again: gpus(refresh=True))")
    recheck = flag(refresh, "refresh")
    with SESSION.lock:
        if SESSION.gpu is None or recheck:
            pending, SESSION.probes = SESSION.probes, None
            defaults = SESSION.defaults
            SESSION.gpu = collect(
                pending or Probes(limit),
                tpu_device_globs=defaults.tpu_device_globs,
                tpu_modules=defaults.tpu_modules,
            )
        return SESSION.gpu


def gpus(timeout: float = DEFAULT_TIMEOUT, *, refresh: bool = False) -> list[Gpu]:
    """Return the GPUs attached to this runtime (empty when none); never hangs or raises.

    The check runs once per process (GPUtil, then ``nvidia-smi -L`` for what GPUtil could
    not tell); later calls return the same answer unless ``refresh=True``.

    Args:
        timeout: seconds the check may take in all (default 5): a number above 0 and under
            a day.
        refresh: check again instead of reusing this process's earlier answer.

    Raises:
        ValueError: ``timeout`` is not a number of seconds above 0 and under a day (True,
            False, a string, None, nan and the infinities are refused: ``gpus(True)`` is not
            ``gpus(refresh=True)``), or ``refresh`` is not True or False.
    """
    return list(check(timeout, refresh=refresh).gpus)


def enforce(policy: GpuPolicy, *, stacklevel: int) -> GpuCheck | None:
    """Collect the check for ``setup(gpu=policy)``: warn ("warn") or raise ("require") without GPU.

    Raises:
        GpuNotAvailableError: ``policy`` is "require" and there is no GPU.
    """
    if policy == "ignore":
        return None
    result = check()
    if not result.gpus:
        message = no_gpu_message(result)
        if policy == "require":
            raise GpuNotAvailableError(message)
        warnings.warn(message, ColabBootstrapWarning, stacklevel=stacklevel + 1)
    return result


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
    switch_on = (
        "To use a GPU in Colab: Runtime > Change runtime type > Hardware accelerator > a GPU "
        f"(e.g. T4 GPU) > Save, then {again()}. Changing the runtime type restarts the "
        "runtime: run the notebook from the top again."
    )
    if result.nvidia_smi is not None and result.accelerator == "cpu":
        return f"{switch_on} {_BROKEN_DRIVER}"
    return switch_on
