"""The GPU check against a fake nvidia-smi: every fixture, hangs, missing tools, TPU, setup()."""

from __future__ import annotations

import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap import _accelerator, _gpu, _probe
from colab_bootstrap._errors import ColabBootstrapWarning, GpuNotAvailableError
from conftest import FakeNvidiaSmi, nvidia_data, write_fake_nvidia_smi

MakeFake = Callable[..., FakeNvidiaSmi]

MARGIN = 3.0  # seconds allowed past the timeout: process start and kill on a busy machine
HANG = 60  # seconds a hung fake sleeps: far longer than any timeout here
T4_LIST = "GPU 0: Tesla T4 (UUID: GPU-1b965d81-1d0f-6501-027c-1ecc1437f5ea)\n"
A100_LIST = (
    "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-aaaaaaaa-0000-0000-0000-000000000000)\n"
    "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-bbbbbbbb-0000-0000-0000-000000000000)\n"
)
SWITCH = "Runtime > Change runtime type > Hardware accelerator > a GPU"


def _gputil_imports() -> bool:
    """Whether GPUtil imports in this interpreter, tried in a fresh one."""
    probe = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", "import GPUtil"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.fixture
def no_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds one empty folder: no nvidia-smi anywhere, like today's CPU runtime."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


def _alive(pid: int) -> bool:
    """Whether a process still runs (a zombie has finished)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")


def _running(pids: list[int]) -> list[int]:
    """The processes among ``pids`` still running once killed ones had a moment to finish."""
    deadline = time.monotonic() + 2.0
    while [pid for pid in pids if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.01)
    return [pid for pid in pids if _alive(pid)]


def _end(pids: list[int]) -> None:
    """End processes this test started that are still running (test cleanup only)."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _assert_gputil_error(result: _accelerator.GpuCheck, expected: str | None) -> None:
    """GPUtil answered (``expected`` None) or failed with ``expected`` in its error."""
    if expected is None:
        assert result.gputil_error is None
    else:
        assert result.gputil_error is not None
        assert expected in result.gputil_error


# --- the recorded outputs in tests/data/nvidia-smi, one test each ------------------------------


def test_plain_gputil_import_needs_distutils_but_the_check_does_not(
    fake_nvidia_smi: MakeFake,
) -> None:
    """`import GPUtil` alone fails on 3.12+ without setuptools; our check still gets GPUtil's data.

    The nox sessions gpu-nosetuptools and gpu-setuptools state which case they are
    (COLAB_BOOTSTRAP_EXPECT_GPUTIL), so this is checked, not assumed.
    """
    plain = _gputil_imports()
    setuptools = subprocess.run(
        [sys.executable, "-c", "import setuptools"], capture_output=True, check=False
    )
    assert plain == (sys.version_info < (3, 12) or setuptools.returncode == 0)
    expected = os.environ.get("COLAB_BOOTSTRAP_EXPECT_GPUTIL")
    if expected is not None:
        assert plain == (expected == "1"), f"this session expects plain import={expected}"
    fake_nvidia_smi(query=nvidia_data("t4.csv"), listing=nvidia_data("list-t4.txt"))
    result = _gpu.check()
    assert result.gputil_error is None
    assert [(g.source, g.memory_total_mb) for g in result.gpus] == [("GPUtil", 15109)]
    assert "distutils" not in sys.modules or sys.modules["distutils"] is not None


def test_t4_reports_name_memory_and_driver(fake_nvidia_smi: MakeFake) -> None:
    """t4.csv: one Tesla T4 with its memory and driver from GPUtil (name only via -L without)."""
    fake_nvidia_smi(query=nvidia_data("t4.csv"), listing=nvidia_data("list-t4.txt"))
    result = _gpu.check()
    assert result.accelerator == "gpu"
    assert result.reason is None
    [gpu] = result.gpus
    assert (gpu.index, gpu.name) == (0, "Tesla T4")
    _assert_gputil_error(result, None)
    assert gpu == _accelerator.Gpu(
        0,
        "Tesla T4",
        "GPU-1b965d81-1d0f-6501-027c-1ecc1437f5ea",
        15109,
        0,
        "460.32.03",
        "GPUtil",
    )
    assert str(gpu) == "GPU 0: Tesla T4 (15109 MiB total, 0 MiB used)"
    assert result.notes == ()


def test_two_gpus_are_both_reported(fake_nvidia_smi: MakeFake) -> None:
    """a100x2.csv: two A100s, the busy one with its used memory."""
    fake_nvidia_smi(query=nvidia_data("a100x2.csv"), listing=A100_LIST)
    found = colab_bootstrap.gpus()
    assert [(g.index, g.name) for g in found] == [
        (0, "NVIDIA A100-SXM4-40GB"),
        (1, "NVIDIA A100-SXM4-40GB"),
    ]
    assert [(g.memory_total_mb, g.memory_used_mb) for g in found] == [
        (40960, 0),
        (40960, 30000),
    ]
    assert {g.source for g in found} == {"GPUtil"}


def test_na_fields_give_unknown_memory(fake_nvidia_smi: MakeFake) -> None:
    """na.csv: every number [N/A]: the GPU is reported, its memory is None rather than nan."""
    fake_nvidia_smi(
        query=nvidia_data("na.csv"),
        listing="GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-cccccccc-0000-0000-0000-000000000000)\n",
    )
    result = _gpu.check()
    [gpu] = result.gpus
    assert gpu.name == "NVIDIA A100-SXM4-40GB"
    assert (gpu.memory_total_mb, gpu.memory_used_mb) == (None, None)
    assert "memory not reported" in result.summary
    _assert_gputil_error(result, None)
    assert (gpu.source, gpu.driver) == ("GPUtil", "550.54.15")


def test_not_supported_fields_keep_the_memory(fake_nvidia_smi: MakeFake) -> None:
    """notsup.csv: [Not Supported] load and serial on an L4 do not hide its memory."""
    fake_nvidia_smi(
        query=nvidia_data("notsup.csv"),
        listing="GPU 0: NVIDIA L4 (UUID: GPU-dddddddd-0000-0000-0000-000000000000)\n",
    )
    result = _gpu.check()
    [gpu] = result.gpus
    assert gpu.name == "NVIDIA L4"
    _assert_gputil_error(result, None)
    assert (gpu.memory_total_mb, gpu.memory_used_mb) == (23034, 0)


def test_zero_total_memory_falls_back_to_the_listing(fake_nvidia_smi: MakeFake) -> None:
    """zero_total.csv: GPUtil divides by zero; nvidia-smi -L still reports the GPU."""
    fake_nvidia_smi(
        query=nvidia_data("zero_total.csv"),
        listing="GPU 0: NVIDIA L4 (UUID: GPU-eeeeeeee-0000-0000-0000-000000000000)\n",
    )
    result = _gpu.check()
    assert [(g.name, g.source) for g in result.gpus] == [("NVIDIA L4", "nvidia-smi -L")]
    _assert_gputil_error(result, "ZeroDivisionError")


def test_short_lines_fall_back_to_the_listing(fake_nvidia_smi: MakeFake) -> None:
    """short.csv: GPUtil's IndexError on a short line is kept; -L reports the GPU."""
    fake_nvidia_smi(query=nvidia_data("short.csv"), listing="GPU 0: Tesla T4 (UUID: GPU-ffff)\n")
    result = _gpu.check()
    assert [(g.index, g.name, g.uuid) for g in result.gpus] == [(0, "Tesla T4", "GPU-ffff")]
    _assert_gputil_error(result, "IndexError")


def test_crlf_line_ends(fake_nvidia_smi: MakeFake) -> None:
    """crlf.csv and a CRLF listing: no stray carriage return in any field."""
    fake_nvidia_smi(
        query=nvidia_data("crlf.csv"), listing="GPU 0: Tesla T4 (UUID: GPU-1b965d81)\r\n"
    )
    result = _gpu.check()
    [gpu] = result.gpus
    assert (gpu.name, gpu.uuid) == ("Tesla T4", "GPU-1b965d81")
    _assert_gputil_error(result, None)
    assert (gpu.memory_total_mb, gpu.driver, gpu.source) == (15360, "535.104.05", "GPUtil")
    assert result.notes == ()


def test_gpu_on_a_last_line_without_newline_is_reported(fake_nvidia_smi: MakeFake) -> None:
    """nonewline.csv: GPUtil silently drops the GPU; the listing brings it back, with a note."""
    fake_nvidia_smi(
        query=nvidia_data("nonewline.csv"), listing="GPU 0: Tesla T4 (UUID: GPU-1b965d81)"
    )
    result = _gpu.check()
    assert [(g.index, g.name) for g in result.gpus] == [(0, "Tesla T4")]
    _assert_gputil_error(result, None)
    assert result.notes == ("GPUtil did not report GPU 0; nvidia-smi -L did",)


class DriverError(NamedTuple):
    """A fixture that nvidia-smi prints for both commands, and what the check must say."""

    fixture: str
    code: int
    stderr: str
    reason: str
    gputil_error: str | None


DRIVER_ERRORS = {
    "empty": DriverError(
        "empty.csv",
        9,
        "Failed to initialize NVML: Unknown Error\n",
        "nvidia-smi -L failed with exit code 9: Failed to initialize NVML: Unknown Error",
        None,  # GPUtil reads no line, so it answers with no GPU
    ),
    "nodriver": DriverError(
        "nodriver.txt",
        9,
        "",
        "exit code 9: NVIDIA-SMI has failed because it couldn't communicate with the "
        "NVIDIA driver.",
        "ValueError",
    ),
    "nodevices": DriverError(
        "nodevices.txt", 6, "", "exit code 6: No devices were found", "ValueError"
    ),
    "mismatch": DriverError(
        "mismatch.txt",
        18,
        "",
        "exit code 18: Failed to initialize NVML: Driver/library version mismatch NVML "
        "library version: 580.173",
        "ValueError",
    ),
    "nonutf8": DriverError(
        "nonutf8.txt",
        0,
        "",
        "nvidia-smi -L listed no GPU: \ufffd\ufffd garbage",
        "UnicodeDecodeError",
    ),
    "table-for-every-command": DriverError(
        "table-t4.txt", 0, "", "nvidia-smi -L listed no GPU: +----", "ValueError"
    ),
}


@pytest.mark.parametrize("case", DRIVER_ERRORS.values(), ids=DRIVER_ERRORS.keys())
def test_driver_errors_mean_no_gpu_with_the_reason_kept(
    fake_nvidia_smi: MakeFake, case: DriverError
) -> None:
    """Error text from nvidia-smi (both commands) is never taken for a GPU; the reason is kept."""
    fixture, code, stderr, reason, gputil_error = case
    fake = fake_nvidia_smi(
        query=nvidia_data(fixture),
        query_code=code,
        query_stderr=stderr,
        listing=nvidia_data(fixture),
        list_code=code,
        list_stderr=stderr,
    )
    result = _gpu.check()
    assert result.gpus == ()
    assert result.accelerator == "cpu"
    assert result.reason is not None
    assert reason in result.reason
    assert result.nvidia_smi == str(fake.bin_dir / "nvidia-smi")
    _assert_gputil_error(result, gputil_error)
    message = _gpu.no_gpu_message(result)
    assert reason in message
    assert SWITCH in message
    assert "Disconnect and delete runtime" in message


def test_listing_alone_carries_a_hung_gputil(fake_nvidia_smi: MakeFake) -> None:
    """list-t4.txt answers while GPUtil's query hangs: the T4 is reported within the timeout."""
    fake = fake_nvidia_smi(
        query=nvidia_data("t4.csv"), query_delay=HANG, listing=nvidia_data("list-t4.txt")
    )
    start = time.monotonic()
    result = _gpu.check(timeout=1.5)
    assert time.monotonic() - start < 1.5 + MARGIN
    assert [(g.name, g.source) for g in result.gpus] == [("Tesla T4", "nvidia-smi -L")]
    assert result.gputil_error == (
        "GPUtil did not answer within 1.5s (nvidia-smi hung); its nvidia-smi was stopped"
    )
    assert len(fake.queries()) == 1
    assert _running(fake.pids()) == []


# --- no nvidia-smi, hangs, TPU -----------------------------------------------------------------


def test_missing_nvidia_smi_means_cpu_runtime(no_nvidia_smi: Path) -> None:
    """No nvidia-smi on PATH (today's CPU runtime): CPU, with the reason and the way to switch."""
    result = _gpu.check()
    assert (result.gpus, result.accelerator, result.nvidia_smi) == ((), "cpu", None)
    assert result.reason == "nvidia-smi is not on PATH: no NVIDIA driver on this runtime"
    assert result.gputil_error == f"not run: {result.reason}"
    message = _gpu.no_gpu_message(result)
    assert message.startswith("No GPU: this is a CPU-only runtime (nvidia-smi is not on PATH")
    assert SWITCH in message
    assert "then re-run the cell" in message
    assert "restarts the runtime" in message
    assert "Disconnect" not in message


def test_nvidia_smi_that_is_not_executable_is_named(
    no_nvidia_smi: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An nvidia-smi without the execute bit: no GPU, and the reason names that file."""
    fake = write_fake_nvidia_smi(tmp_path / "bin", listing=T4_LIST)
    (fake.bin_dir / "nvidia-smi").chmod(0o644)
    monkeypatch.setenv("PATH", f"{no_nvidia_smi}{os.pathsep}{fake.bin_dir}")
    result = _gpu.check()
    assert result.gpus == ()
    assert (
        result.reason == f"{fake.bin_dir / 'nvidia-smi'} is not executable, so no GPU can be listed"
    )
    assert fake.calls() == []


def test_nvidia_smi_that_cannot_be_run_is_reported(
    no_nvidia_smi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken nvidia-smi binary (exec format error): no GPU, with the operating system's error."""
    broken = no_nvidia_smi / "nvidia-smi"
    broken.write_bytes(b"\x7fELF not really a program")
    broken.chmod(0o755)
    result = _gpu.check()
    assert (result.gpus, result.accelerator, result.nvidia_smi) == ((), "cpu", str(broken))
    assert result.reason is not None
    assert result.reason.startswith("nvidia-smi could not be run: OSError: [Errno 8] Exec format")
    _assert_gputil_error(result, None)  # GPUtil swallows it and answers "no GPU"


def test_hang_returns_within_the_timeout_and_leaves_no_process(fake_nvidia_smi: MakeFake) -> None:
    """Both commands hang: the call returns after the timeout, and every fake process is ended."""
    fake = fake_nvidia_smi(query=nvidia_data("t4.csv"), listing=T4_LIST, delay=HANG)
    start = time.monotonic()
    result = _gpu.check(timeout=1.5)
    assert time.monotonic() - start < 1.5 + MARGIN
    assert result.gpus == ()
    assert result.reason == ("nvidia-smi -L did not answer within 1.5s (the GPU driver seems hung)")
    assert "Disconnect and delete runtime" in _gpu.no_gpu_message(result)
    assert result.gputil_error is not None
    assert result.gputil_error.endswith("its nvidia-smi was stopped")
    assert fake.pids()
    assert _running(fake.pids()) == []


_EXIT_SCRIPT = """
import json, sys, time
start = time.monotonic()
import colab_bootstrap._gpu as gpu
result = gpu.check(timeout=1.5)
print(json.dumps({"returned": time.monotonic() - start, "reason": result.reason,
                  "gputil_error": result.gputil_error, "exiting_at": time.time()}))
"""


def _run_hung_check(fake: FakeNvidiaSmi) -> tuple[float, dict[str, str | float | None]]:
    """Run a check against a hung fake in a fresh interpreter; its exit delay and its report.

    The exit delay is the time from the check's return to the interpreter's exit.

    Its output goes to files and only the process's own exit is awaited: a hung child that
    inherited its stderr would hold a pipe open long after the interpreter is gone.
    """
    env = dict(os.environ)
    env["PATH"] = f"{fake.bin_dir}{os.pathsep}{env['PATH']}"
    out, err = fake.bin_dir / "check.out", fake.bin_dir / "check.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_EXIT_SCRIPT)],
            env=env,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        try:
            code = proc.wait(timeout=HANG / 2)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        exited_at = time.time()
    assert code == 0, err.read_text()
    report: dict[str, str | float | None] = json.loads(out.read_text())
    assert isinstance(report["exiting_at"], float)
    return exited_at - report["exiting_at"], report


@pytest.fixture
def hung_fake(tmp_path: Path) -> Iterator[Callable[..., FakeNvidiaSmi]]:
    """Factory for a hung fake that is not on this process's PATH; its leftovers are ended."""
    made: list[FakeNvidiaSmi] = []

    def make(**kwargs: object) -> FakeNvidiaSmi:
        fake = write_fake_nvidia_smi(tmp_path / "bin", **kwargs)  # type: ignore[arg-type]
        made.append(fake)
        return fake

    yield make
    for fake in made:
        _end(fake.pids())


def test_interpreter_exits_promptly_after_a_hang(hung_fake: Callable[..., FakeNvidiaSmi]) -> None:
    """In a fresh interpreter a hung nvidia-smi costs the timeout, and exit does not wait on it."""
    fake = hung_fake(query=nvidia_data("t4.csv"), listing=T4_LIST, delay=HANG)
    exit_delay, report = _run_hung_check(fake)
    assert isinstance(report["returned"], float)
    assert report["returned"] < 1.5 + MARGIN
    assert exit_delay < MARGIN
    assert (
        report["reason"] == "nvidia-smi -L did not answer within 1.5s (the GPU driver seems hung)"
    )
    assert len(fake.queries()) == 1
    assert _running(fake.pids()) == []


def test_interpreter_exits_promptly_even_if_a_hung_child_cannot_be_found(
    hung_fake: Callable[..., FakeNvidiaSmi],
) -> None:
    """A hung child that escaped GPUtil's reach keeps its thread waiting; exit is still prompt.

    nvidia-smi -L leaves such an orphan holding its output too, but that one stays in its
    process group: the listing is read once nvidia-smi -L has exited, and the orphan killed.
    """
    fake = hung_fake(query=nvidia_data("t4.csv"), listing=T4_LIST, delay=HANG, detach=True)
    exit_delay, report = _run_hung_check(fake)
    assert isinstance(report["returned"], float)
    assert report["returned"] < 1.5 + MARGIN
    assert exit_delay < MARGIN
    assert report["reason"] is None  # the T4 that nvidia-smi -L printed
    assert report["gputil_error"] == (
        "GPUtil did not answer within 1.5s (nvidia-smi hung); its nvidia-smi could not be "
        "stopped and is left waiting in the background"
    )
    assert len(_running(fake.pids())) == 1  # GPUtil's orphan sleep


def test_gputil_import_blocked_falls_back(
    fake_nvidia_smi: MakeFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With distutils unimportable (3.12+ without setuptools): nvidia-smi -L carries the check."""
    for name in [m for m in sys.modules if m == "GPUtil" or m.startswith("GPUtil.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "distutils", None)
    fake = fake_nvidia_smi(query=nvidia_data("t4.csv"), listing=nvidia_data("list-t4.txt"))
    result = _gpu.check()
    assert [(g.name, g.source) for g in result.gpus] == [("Tesla T4", "nvidia-smi -L")]
    assert result.gputil_error is not None
    assert result.gputil_error.startswith("GPUtil could not be imported: ModuleNotFoundError")
    assert "distutils" in result.gputil_error
    assert fake.queries() == []
    assert "GPUtil" not in sys.modules


def test_tpu_device_means_tpu_runtime(
    no_nvidia_smi: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/dev/accel0 and no nvidia-smi: 'TPU runtime, not GPU', and the message says so."""
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "accel0").touch()
    result = _gpu.check()
    assert result.accelerator == "tpu"
    assert result.summary == "TPU runtime, not GPU"
    assert result.reason == f"TPU runtime, not GPU ({tmp_path / 'dev' / 'accel0'} is present)"
    message = _gpu.no_gpu_message(result)
    assert message.startswith("No GPU: this is a TPU runtime, not GPU")
    assert SWITCH in message


def test_libtpu_means_tpu_runtime(
    no_nvidia_smi: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed libtpu package (found, not imported) also means a TPU runtime."""
    site = tmp_path / "site"
    (site / "colab_bootstrap_tests_libtpu").mkdir(parents=True)
    (site / "colab_bootstrap_tests_libtpu" / "__init__.py").write_text("raise ImportError\n")
    monkeypatch.syspath_prepend(str(site))
    result = _gpu.check()
    assert result.accelerator == "tpu"
    assert result.reason == (
        "TPU runtime, not GPU (the colab_bootstrap_tests_libtpu package is installed)"
    )


def test_a_stub_module_named_like_libtpu_is_no_evidence(
    no_nvidia_smi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module made at run time under libtpu's name (a notebook's stub, no spec) is no TPU."""
    stub = types.ModuleType("colab_bootstrap_tests_libtpu")
    monkeypatch.setitem(sys.modules, "colab_bootstrap_tests_libtpu", stub)
    result = _gpu.check()
    assert result.accelerator == "cpu"
    assert result.summary == f"no GPU ({result.reason})"


def test_tpu_runtime_with_a_leftover_nvidia_smi(fake_nvidia_smi: MakeFake, tmp_path: Path) -> None:
    """Older TPU images kept a failing nvidia-smi: still a TPU runtime, its message in the notes."""
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "accel0").touch()
    fixture = nvidia_data("nodriver.txt")
    fake_nvidia_smi(query=fixture, query_code=9, listing=fixture, list_code=9)
    result = _gpu.check()
    assert result.accelerator == "tpu"
    assert any("NVIDIA-SMI has failed" in note for note in result.notes)
    assert "Disconnect" not in _gpu.no_gpu_message(result)


# --- output held open, floods, children that became other programs ------------------------------


def _write_scripted_fake(bin_dir: Path, *, listing: str, query: str) -> FakeNvidiaSmi:
    """An nvidia-smi whose ``-L`` and ``--query-gpu`` runs are the shell code given.

    The code appends the PIDs it starts to "$PIDS", so the test can check they were ended.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    log, pid_log = bin_dir / "nvidia-smi.calls", bin_dir / "nvidia-smi.pids"
    script = f"""#!/bin/sh
echo "$*" >> {shlex.quote(str(log))}
PIDS={shlex.quote(str(pid_log))}
export PIDS
echo $$ >> "$PIDS"
case "$*" in
  *--query-gpu=*)
{query}
    ;;
  -L)
{listing}
    ;;
esac
"""
    exe = bin_dir / "nvidia-smi"
    exe.write_text(script)
    exe.chmod(0o755)
    return FakeNvidiaSmi(bin_dir, log, pid_log)


PRINT_T4 = f"printf %s {shlex.quote(T4_LIST)}"
T4_LINE = T4_LIST.strip()


@pytest.fixture
def scripted_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., FakeNvidiaSmi]]:
    """Factory: a scripted fake first on PATH (GPUtil's query answers nothing by default)."""
    made: list[FakeNvidiaSmi] = []

    def make(*, listing: str = PRINT_T4, query: str = "exit 9") -> FakeNvidiaSmi:
        fake = _write_scripted_fake(tmp_path / "bin", listing=listing, query=query)
        monkeypatch.setenv("PATH", f"{fake.bin_dir}{os.pathsep}{os.environ['PATH']}")
        made.append(fake)
        return fake

    yield make
    for fake in made:
        _end(fake.pids())


def _peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux counts ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


HELD_OPEN = {
    "sleep-in-background": f'{PRINT_T4}; sleep {HANG} & echo $! >> "$PIDS"; exit 0',
    "subshell-prints-later": (
        f'{PRINT_T4}; (sleep {HANG} & echo $! >> "$PIDS"; wait; echo "GPU 1: late") & exit 0'
    ),
}


@pytest.mark.parametrize("listing", HELD_OPEN.values(), ids=HELD_OPEN.keys())
def test_listing_is_read_once_nvidia_smi_exits_though_a_child_holds_its_output(
    scripted_fake: Callable[..., FakeNvidiaSmi], listing: str
) -> None:
    """nvidia-smi -L exits, leaving a child on its stdout: its GPUs come now, the child is ended."""
    fake = scripted_fake(listing=listing)
    start = time.monotonic()
    result = _gpu.check(timeout=3.0)
    assert time.monotonic() - start < 2.5  # not held until the 3 s deadline
    assert [(g.name, g.source) for g in result.gpus] == [("Tesla T4", "nvidia-smi -L")]
    assert result.notes == ("GPUtil did not report GPU 0; nvidia-smi -L did",)
    assert _running(fake.pids()) == []


FLOODS = {
    "exec-yes-gpu-line": (f"exec yes {shlex.quote(T4_LINE)}", "of output"),
    "megabytes-then-exit": (f"{PRINT_T4}; yes junk | head -c 20000000; exit 0", "of output"),
    "errors-forever": (f"{PRINT_T4}; exec yes 'NVML error' >&2", "of error output"),
}


@pytest.mark.parametrize(("listing", "what"), FLOODS.values(), ids=FLOODS.keys())
def test_listing_output_is_capped(
    scripted_fake: Callable[..., FakeNvidiaSmi], listing: str, what: str
) -> None:
    """nvidia-smi -L printing megabytes (or forever) is stopped at the cap; its GPU lines count."""
    fake = scripted_fake(listing=listing)
    peak = _peak_rss_mib()
    start = time.monotonic()
    result = _gpu.check(timeout=3.0)
    assert time.monotonic() - start < 2.5  # well before the 3 s deadline
    assert _peak_rss_mib() - peak < 64
    assert [(g.index, g.name, g.source) for g in result.gpus] == [(0, "Tesla T4", "nvidia-smi -L")]
    cut = f"nvidia-smi -L printed more than {64 if what == 'of output' else 4} KiB {what}, so it"
    assert [note for note in result.notes if note.startswith(cut)] == [
        f"{cut} was stopped and the rest left unread"
    ]
    assert all(len(note) < 400 for note in result.notes)
    assert _running(fake.pids()) == []


def _kernel_lists_children_and_io() -> bool:
    """Whether /proc lists a thread's children and a process's I/O counts (Linux, usually)."""
    me = f"/proc/{os.getpid()}"
    return (
        Path(me, "io").exists()
        and Path(me, "task", str(threading.get_native_id()), "children").exists()
    )


needs_children_listed = pytest.mark.skipif(
    not _kernel_lists_children_and_io(),
    reason="this kernel does not list a thread's children or a process's I/O in /proc",
)

QUERY_FLOODS = {
    "exec-yes": "exec yes 'GPU flood'",
    "child-floods": 'yes flood & echo $! >> "$PIDS"; wait',
}


@needs_children_listed
@pytest.mark.parametrize("query", QUERY_FLOODS.values(), ids=QUERY_FLOODS.keys())
def test_gputil_nvidia_smi_that_floods_is_stopped(
    scripted_fake: Callable[..., FakeNvidiaSmi], query: str
) -> None:
    """GPUtil reads all its nvidia-smi prints: past 1 MiB it is killed, long before the deadline."""
    fake = scripted_fake(query=query)
    peak = _peak_rss_mib()
    start = time.monotonic()
    result = _gpu.check(timeout=3.0)
    assert time.monotonic() - start < 2.5  # well before the 3 s deadline
    assert [(g.name, g.source) for g in result.gpus] == [("Tesla T4", "nvidia-smi -L")]
    assert result.gputil_error == "GPUtil's nvidia-smi printed more than 1 MiB, so it was stopped"
    assert len(fake.queries()) == 1
    assert _running(fake.pids()) == []
    assert _peak_rss_mib() - peak < 512


@needs_children_listed
def test_gputil_nvidia_smi_that_became_another_program_is_stopped_with_its_children(
    scripted_fake: Callable[..., FakeNvidiaSmi],
) -> None:
    """A hung query that exec'd away from nvidia-smi's name, with child and grandchild: all end."""
    fake = scripted_fake(
        query=(
            f'sh -c \'sleep {HANG} & echo $! >> "$PIDS"; wait\' & echo $! >> "$PIDS"\n'
            f"exec sleep {HANG + 1}"
        )
    )
    start = time.monotonic()
    result = _gpu.check(timeout=2.0)
    assert time.monotonic() - start < 2.0 + 1.5
    assert [(g.name, g.source) for g in result.gpus] == [("Tesla T4", "nvidia-smi -L")]
    assert result.gputil_error == (
        "GPUtil did not answer within 2s (nvidia-smi hung); its nvidia-smi was stopped"
    )
    assert len(fake.pids()) == 4  # -L; the query, its sh child and that one's sleep
    assert _running(fake.pids()) == []


def test_gputil_nvidia_smi_is_stopped_at_the_deadline_before_anyone_asks(
    scripted_fake: Callable[..., FakeNvidiaSmi], tmp_path: Path
) -> None:
    """setup() collects the check late (after Drive): GPUtil's hung child still ends on time."""
    fake = scripted_fake(query=f'sleep {HANG} & echo $! >> "$PIDS"; wait')
    probes = _probe.Probes(1.0)
    time.sleep(1.0)
    assert _running(fake.pids()) == []  # waits up to 2s for them to end
    result = _accelerator.collect(
        probes, tpu_device_globs=(str(tmp_path / "dev" / "accel*"),), tpu_modules=()
    )
    assert [(g.name, g.source) for g in result.gpus] == [("Tesla T4", "nvidia-smi -L")]
    assert result.gputil_error == (
        "GPUtil did not answer within 1s (nvidia-smi hung); its nvidia-smi was stopped"
    )


# --- once per process -----------------------------------------------------------------------


def test_result_is_reused_until_refresh(fake_nvidia_smi: MakeFake) -> None:
    """gpus() twice runs nvidia-smi once; refresh=True runs it again and sees changes."""
    fake = fake_nvidia_smi(query=nvidia_data("t4.csv"), listing=T4_LIST)
    first = colab_bootstrap.gpus()
    second = colab_bootstrap.gpus()
    assert first == second
    assert len(first) == 1
    assert len(fake.listings()) == 1
    assert len(fake.queries()) == 1
    fake_nvidia_smi(query=nvidia_data("a100x2.csv"), listing=A100_LIST)
    assert len(colab_bootstrap.gpus(refresh=True)) == 2
    assert len(fake.listings()) == 2


def test_bad_timeout_is_a_value_error() -> None:
    """A timeout that is not a positive finite number is refused before anything runs."""
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="timeout must be a positive number"):
            colab_bootstrap.gpus(timeout=bad)


_GPU_LINES = st.builds(
    "GPU {}: {} (UUID: GPU-{})".format,
    st.integers(0, 15),
    st.text(min_size=1, max_size=20),
    st.text("0123456789abcdef-", min_size=1, max_size=12),
)
_LISTING_OUTPUT = st.one_of(
    st.binary(max_size=200),
    st.lists(st.one_of(_GPU_LINES, st.text(max_size=30)), max_size=6).map(
        lambda lines: "\n".join(lines).encode()
    ),
)


@given(st.sampled_from([0, 0, 0, 6, 9, 18, 255]), _LISTING_OUTPUT, st.binary(max_size=40))
def test_listing_parser_never_raises_and_takes_only_gpu_lines(
    code: int, out: bytes, err: bytes
) -> None:
    """Any output of nvidia-smi -L parses without raising; GPUs come only from exit code 0."""
    listing = _accelerator._parse_listing(code, out, err)
    assert bool(listing.gpus) != bool(listing.problem)
    if code != 0:
        assert listing.gpus == ()
    text = out.decode("utf-8", "replace")
    for gpu in listing.gpus:
        assert f"GPU {gpu.index}: {gpu.name} (UUID: {gpu.uuid})" in text
        assert gpu.name == gpu.name.strip()


def test_listing_keeps_odd_lines_and_skips_mig_lines() -> None:
    """MIG device lines are expected; anything else next to GPU lines is noted, not parsed."""
    out = (
        T4_LIST
        + "  MIG 1g.5gb     Device  0: (UUID: MIG-11111111-2222-3333-4444-555555555555)\n"
        + "Something odd\n"
    ).encode()
    listing = _accelerator._parse_listing(0, out, b"")
    assert [g.name for g in listing.gpus] == ["Tesla T4"]
    assert listing.unexpected == ("Something odd",)


# --- setup() --------------------------------------------------------------------------------


def test_setup_warns_once_with_the_way_to_switch(mydrive: Path, no_nvidia_smi: Path) -> None:
    """setup(gpu='warn') on a CPU runtime: one warning saying CPU and how to switch the GPU on."""
    (mydrive / "p").mkdir()
    with pytest.warns(ColabBootstrapWarning) as caught:
        project = colab_bootstrap.setup("p")
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "CPU-only runtime" in text
    assert SWITCH in text
    assert "re-run the cell" in text
    assert "restarts the runtime" in text
    assert project.gpus == ()
    assert "no GPU (nvidia-smi is not on PATH" in str(project)


def test_setup_require_raises_with_the_way_to_switch(
    mydrive: Path, fake_nvidia_smi: MakeFake
) -> None:
    """setup(gpu='require') without a GPU raises GpuNotAvailableError naming the fix."""
    fixture = nvidia_data("nodevices.txt")
    fake_nvidia_smi(query=fixture, query_code=6, listing=fixture, list_code=6)
    (mydrive / "p").mkdir()
    with pytest.raises(GpuNotAvailableError, match="No devices were found") as raised:
        colab_bootstrap.setup("p", gpu="require")
    assert SWITCH in str(raised.value)
    assert not any(entry.startswith(str(mydrive)) for entry in sys.path)


def test_setup_shows_the_gpu_name_and_memory(mydrive: Path, fake_nvidia_smi: MakeFake) -> None:
    """With a GPU, setup() warns about nothing and its summary names the GPU (and its memory)."""
    fake_nvidia_smi(query=nvidia_data("t4.csv"), listing=T4_LIST)
    (mydrive / "p").mkdir()
    project = colab_bootstrap.setup("p", gpu="require")
    assert [g.name for g in project.gpus] == ["Tesla T4"]
    shown = str(project)
    assert "GPU 0: Tesla T4" in shown
    assert "Tesla T4" in project._repr_html_()
    assert "15109 MiB total" in shown


def test_check_result_renders_as_text_and_html(no_nvidia_smi: Path) -> None:
    """The check result shows its reason in a terminal and in a notebook."""
    result = _gpu.check()
    assert "nvidia-smi is not on PATH" in str(result)
    assert "nvidia-smi is not on PATH" in result._repr_html_()
    assert (
        str(_accelerator.Gpu(1, "Tesla T4", memory_total_mb=15360))
        == "GPU 1: Tesla T4 (15360 MiB total)"
    )


def test_import_does_not_import_gputil_or_run_anything() -> None:
    """Importing colab_bootstrap loads neither GPUtil nor distutils."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, colab_bootstrap; "
            "print(sorted({'GPUtil', 'distutils'} & set(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "[]"
