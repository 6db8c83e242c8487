"""Reading and writing the user's files: one bounded reader, one atomic writer.

Every file the package reads (module sources to hash, copies to compare, files to lint) goes
through :func:`read_chunks` or :func:`read_within`: only regular files are read (a FIFO or a
device named ``x.py`` would block or never end), checked with ``fstat`` on the opened file before
a byte is read, never more than asked. Every file it writes in place goes through
:func:`write_atomic`: a temporary file beside the target, renamed over it in one step, so a
reader never sees half a file and a failure leaves the old one.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator

from ._errors import connection_lost

__all__ = [
    "drive_lost",
    "file_kind",
    "read_bytes",
    "read_chunks",
    "read_within",
    "sha256_and_head",
    "too_large",
    "write_atomic",
]

_CHUNK = 1 << 16


def drive_lost(path: str | os.PathLike[str]) -> OSError | None:
    """The ENOTCONN error when ``path`` is on a dead Google Drive mount, else None (one stat)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc if connection_lost(exc) else None
    return None


_KINDS = (
    (stat.S_ISREG, "a file"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a file of ``mode`` (from ``stat`` or ``lstat``) is, in words: "a FIFO (named pipe)"."""
    return next((word for test, word in _KINDS if test(mode)), "a special file")


def _refused(path: str | os.PathLike[str], mode: int) -> OSError:
    """Why the file at ``path``, of ``mode`` and not a regular file, must not be read."""
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    return OSError(errno.EINVAL, "not a regular file (a pipe or device?)", os.fspath(path))


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
# O_NOCTTY: a terminal named ``x.py`` (refused once fstat tells) must not become the
# controlling terminal of the process that opened it (a kernel is a session leader).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOCTTY", 0) | _NONBLOCK


def _open_regular(path: str | os.PathLike[str]) -> int:
    """An fd for reading the regular file at ``path``; refuse anything else without blocking.

    Opened without blocking (a FIFO's open waits for a writer otherwise) and checked with
    ``fstat`` before a byte is read (a device such as ``/dev/zero`` would answer a read). A
    regular file ignores ``O_NONBLOCK``, so it is left set.
    """
    handle = os.open(path, _READ_FLAGS)
    try:
        mode = os.fstat(handle).st_mode
    except BaseException:
        os.close(handle)
        raise
    if not stat.S_ISREG(mode):
        os.close(handle)
        raise _refused(path, mode)
    return handle


def _chunks(handle: int, left: int | None) -> Iterator[bytes]:
    """The rest of the open file, in chunks, to its end or to ``left`` bytes in all (blocking)."""
    if _NONBLOCK:
        os.set_blocking(handle, True)
    while left is None or left > 0:
        chunk = os.read(handle, _CHUNK if left is None else min(_CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


def read_chunks(path: str | os.PathLike[str], *, limit: int | None = None) -> Iterator[bytes]:
    """Yield the bytes of the regular file at ``path`` in chunks, at most ``limit`` in all.

    Raises:
        OSError: it cannot be opened or read, or it is not a regular file.
    """
    handle = _open_regular(path)
    try:
        yield from _chunks(handle, limit)
    finally:
        os.close(handle)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file at ``path``."""
    return b"".join(read_chunks(path))


def read_within(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """The bytes of the regular file at ``path``, or None when it holds more than ``limit``.

    Reads ``limit`` bytes and one more at most: a huge file costs no more than a small one.
    The usual case (the hot path of stale(): each module file on every call) is one ``fstat``
    and one ``read`` of the size it gives; a file whose read does not match that size (it grew
    or shrank meanwhile, a short read, a ``/proc`` file that says 0) is read on to its end in
    chunks, as :func:`read_chunks` does.

    Raises:
        OSError: it cannot be opened or read, or it is not a regular file.
    """
    # _open_regular's steps written out, for the size its fstat gives: a tuple returned from
    # it cost this loop 2-3% (stale() row, 2026-12-02).
    handle = os.open(path, _READ_FLAGS)
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise _refused(path, info.st_mode)
        size = info.st_size
        want = (size if size < limit else limit) + 1  # noqa: FURB136 - min() costs a call
        try:
            data = os.read(handle, want)
        except BlockingIOError:  # a file system that answers EAGAIN all the same
            os.set_blocking(handle, True)
            data = os.read(handle, want)
        if len(data) != size:
            data = b"".join([data, *_chunks(handle, limit + 1 - len(data))])
    finally:
        os.close(handle)
    return data if len(data) <= limit else None


def too_large(path: str | os.PathLike[str], limit: int) -> OSError:
    """The error (errno EFBIG) for a file holding more than ``limit`` bytes: not read to the end."""
    return OSError(errno.EFBIG, f"larger than {limit >> 20} MiB, not read to the end", path)


def sha256_and_head(path: str | os.PathLike[str], keep: int) -> tuple[str, bytes | None]:
    """SHA-256 of the whole file, and its bytes when it has at most ``keep`` of them."""
    import hashlib  # noqa: PLC0415 - only dedupe compares contents; setup() never does

    digest = hashlib.sha256()
    head: list[bytes] = []
    size = 0
    for chunk in read_chunks(path):
        digest.update(chunk)
        size += len(chunk)
        if size <= keep:
            head.append(chunk)
    return digest.hexdigest(), b"".join(head) if size <= keep else None


def write_atomic(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    """Replace the file at ``path`` with ``text`` (UTF-8) in one rename; ``mode`` sets permissions.

    The temporary file lives beside ``path`` (same folder, same file system) and is removed
    when anything fails, leaving whatever was at ``path`` as it was.
    """
    import tempfile  # noqa: PLC0415 - only writers need it; setup() imports this module

    folder, name = os.path.split(os.fspath(path))
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
