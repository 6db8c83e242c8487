"""Reading and writing the user's files: one bounded reader, one atomic writer.

Every file the package reads (module sources to hash, copies to compare, files to lint) goes
through :func:`read_chunks`: only regular files are read (a FIFO or a device named ``x.py`` would
block or never end), in chunks, never more than asked. Every file it writes in place goes through
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


def _not_regular(path: str | os.PathLike[str], mode: int) -> OSError | None:
    """Why a file of ``mode`` must not be read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    return OSError(errno.EINVAL, "not a regular file (a pipe or device?)", os.fspath(path))


def _open_regular(path: str | os.PathLike[str]) -> int:
    """An fd for reading the regular file at ``path``; refuse anything else without blocking."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
    handle = os.open(path, flags | nonblocking)
    problem = _not_regular(path, os.fstat(handle).st_mode)
    if problem is not None:
        os.close(handle)
        raise problem
    if nonblocking:
        os.set_blocking(handle, True)
    return handle


def read_chunks(path: str | os.PathLike[str], *, limit: int | None = None) -> Iterator[bytes]:
    """Yield the bytes of the regular file at ``path`` in chunks, at most ``limit`` in all.

    Raises:
        OSError: it cannot be opened or read, or it is not a regular file.
    """
    handle = _open_regular(path)
    try:
        left = limit
        while left is None or left > 0:
            chunk = os.read(handle, _CHUNK if left is None else min(_CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        os.close(handle)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file at ``path``."""
    return b"".join(read_chunks(path))


def read_within(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """The bytes of the regular file at ``path``, or None when it holds more than ``limit``.

    Reads ``limit`` bytes and one more at most: a huge file costs no more than a small one.

    Raises:
        OSError: it cannot be opened or read, or it is not a regular file.
    """
    data = b"".join(read_chunks(path, limit=limit + 1))
    return data if len(data) <= limit else None


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
