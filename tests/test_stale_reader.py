"""The bounded regular-file reader behind stale(): the bytes to the end, never anything else's.

As a rule it takes one fstat and one read of the size fstat gives: read_within() trusts that
size only when the read returns exactly that many bytes; any other answer (a file that grew or
shrank, a /proc or /sys file whose size says otherwise) is read on to its end, within the limit.
The type check comes before the first read.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap._files import read_bytes, read_within
from colab_bootstrap._importhook import hash_file
from colab_bootstrap._stale import MAX_MODULE_BYTES
from conftest import bounded

BOUND_S = 20.0


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=300), limit=st.integers(min_value=0, max_value=300))
def test_a_file_up_to_the_limit_is_read_whole_and_one_byte_more_is_not(
    tmp_path: Path, content: bytes, limit: int
) -> None:
    """Exactly ``limit`` bytes: read and hashed; ``limit + 1``: None, and EFBIG from hash_file."""
    path = tmp_path / "module.py"
    path.write_bytes(content)
    if len(content) <= limit:
        assert read_within(path, limit) == content
        assert hash_file(str(path), limit=limit) == importlib.util.source_hash(content)
    else:
        assert read_within(path, limit) is None
        with pytest.raises(OSError, match="larger than") as raised:
            hash_file(str(path), limit=limit)
        assert raised.value.errno == errno.EFBIG


@pytest.mark.parametrize(
    "path",
    [
        "/proc/self/cmdline",  # fstat says 0 bytes; it holds the command line
        "/sys/devices/system/cpu/online",  # fstat says 4096; it holds a few bytes
    ],
)
def test_a_file_whose_size_says_otherwise_is_read_to_its_end(path: str) -> None:
    if not os.path.isfile(path):
        pytest.skip(f"no {path} here")
    with open(path, "rb") as handle:
        expected = handle.read()
    assert expected  # else the case proves nothing
    assert os.stat(path).st_size != len(expected)
    assert read_within(path, 1 << 20) == expected
    assert read_within(path, len(expected)) == expected
    assert read_within(path, len(expected) - 1) is None  # the limit holds on that path too


def test_a_file_that_grows_while_read_gives_bytes_it_held(tmp_path: Path) -> None:
    """A writer keeps putting a short file in place (one rename) and appending to it.

    Every read, bounded or not, is then a prefix of the full bytes (never more than the limit,
    and nothing past an end the file had). A file cut short in place is left out: Linux itself
    may then hand a reader zeros from the cut page, whatever the reader.
    """
    content = bytes(range(256)) * 1024  # 256 KiB: several chunks past the fstat size
    path = tmp_path / "growing.py"
    path.write_bytes(content)
    stop = threading.Event()

    def writer() -> None:
        cut = 1000
        while not stop.is_set():
            fresh = tmp_path / "fresh.py"
            with open(fresh, "wb", buffering=0) as handle:
                handle.write(content[:cut])
                os.replace(fresh, path)
                steps = range(cut, len(content), 8192)  # it grows, one write at a time
                handle.writelines(content[start : start + 8192] for start in steps)
            cut = (cut * 7 + 4099) % len(content)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 1.0
        reads = 0
        while time.monotonic() < deadline:
            limit = (reads * 4093) % (len(content) + 100)
            data = read_within(path, limit)
            if data is not None:
                assert len(data) <= limit
                assert content.startswith(data)
            whole = read_bytes(path)
            assert content.startswith(whole)
            reads += 1
    finally:
        stop.set()
        thread.join(BOUND_S)
    assert reads > 10


def _fifo_with_data(path: Path) -> tuple[int, int]:
    """A FIFO at ``path`` holding bytes a writer has sent: (reading end, writing end)."""
    os.mkfifo(path)
    reading = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    writing = os.open(path, os.O_WRONLY)
    os.write(writing, b"VALUE = 'from the pipe'\n")
    return reading, writing


def test_a_fifo_with_data_waiting_is_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    path = tmp_path / "piped.py"
    reading, writing = _fifo_with_data(path)
    try:
        for read in (lambda: read_within(path, 100), lambda: read_bytes(path)):
            with pytest.raises(OSError, match="not a regular file") as raised:
                bounded(read, BOUND_S)
            assert raised.value.errno == errno.EINVAL
        assert os.read(reading, 100) == b"VALUE = 'from the pipe'\n"  # all still there
    finally:
        os.close(reading)
        os.close(writing)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A project set up without a link, with one module imported from it."""
    where = tmp_path / "drive" / "proj"
    where.mkdir(parents=True)
    (where / "reader_mod.py").write_text("VALUE = 1\n")
    colab_bootstrap.setup("proj", drive_dir=tmp_path / "drive", gpu="ignore", autoreload=False)
    import reader_mod  # type: ignore[import-not-found]  # noqa: F401

    return where


def test_stale_leaves_a_fifos_waiting_data_unread(folder: Path) -> None:
    module = folder / "reader_mod.py"
    module.unlink()
    reading, writing = _fifo_with_data(module)
    try:
        (found,) = bounded(colab_bootstrap.stale, BOUND_S)
        assert (found.reason, found.name) == ("unreadable", "reader_mod")
        assert "not a regular file" in found.detail
        assert os.read(reading, 100) == b"VALUE = 'from the pipe'\n"
    finally:
        os.close(reading)
        os.close(writing)


@pytest.mark.parametrize("extra", [0, 1])
def test_a_module_file_at_the_size_limit_is_compared_and_one_byte_more_is_not(
    folder: Path, extra: int
) -> None:
    """64 MiB (sparse, no disk): read and found changed; one byte more: unreadable, EFBIG."""
    with open(folder / "reader_mod.py", "r+b") as handle:
        handle.truncate(MAX_MODULE_BYTES + extra)
    (found,) = bounded(colab_bootstrap.stale, BOUND_S)
    if extra:
        assert found.reason == "unreadable"
        assert "larger than 64 MiB" in found.detail
    else:
        assert found.reason == "changed"


_TERMINAL_CHILD = """
import errno, os, sys
from colab_bootstrap._files import read_bytes, read_within

main, side = os.openpty()
name = os.ttyname(side)
for read in (lambda: read_within(name, 100), lambda: read_bytes(name)):
    try:
        read()
    except OSError as exc:
        assert exc.errno == errno.EINVAL, exc
    else:
        sys.exit("a terminal was read")
try:
    os.close(os.open("/dev/tty", os.O_RDONLY))
except OSError as exc:
    print("no controlling terminal:", errno.errorcode[exc.errno])
else:
    sys.exit(f"opening {name} made it this session's controlling terminal")
"""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals")
def test_a_terminal_named_like_a_module_is_refused_and_never_taken_as_controlling_terminal() -> (
    None
):
    """A Jupyter kernel leads its own session with no terminal: opening one would adopt it."""
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_TERMINAL_CHILD)],
        start_new_session=True,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr + child.stdout
    assert "no controlling terminal" in child.stdout
