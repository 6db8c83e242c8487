"""The import hook for project folders: which modules are the project's, what each was built from.

``setup()`` calls :func:`watch` with the project folders. That installs one path hook, used only
for directories inside a project (the link, the real path, or another spelling of them): every
other directory is turned down once, when it first appears on ``sys.path`` or in a package's
``__path__``, so modules outside the projects cost nothing per import.

For project ``.py`` files the hook's loader reads the source once, hashes those exact bytes and
records the hash for the module object that runs them (in the session record). That is what
``stale()`` compares by content: Drive can deliver an edit with an *older* mtime, which
mtime-based checks (autoreload's, ``.pyc`` timestamps) miss. For the same reason byte-code is
cached as checked hash-based ``.pyc`` files (PEP 552), never trusted on mtime.

A project folder that cannot be read (Google Drive's connection lost: every access fails with
ENOTCONN) must not make ``import`` raise ``OSError``: third-party code writes ``try: import x
except ImportError`` and would break. The finder then steps aside (later ``sys.path`` entries
still supply what they hold), and when nothing else finds the module, a last-resort finder at
the end of ``sys.meta_path`` raises ``ModuleNotFoundError`` saying the folder could not be read
and how to reconnect, instead of a bare "No module named".

That byte-code goes to a local folder of the hook's own (``~/.cache/colab_bootstrap/pycache``,
mirroring each source folder's absolute path), never into Drive: a ``__pycache__`` there would
sync to every machine and churn. Only project modules are affected. ``sys.pycache_prefix`` is
left alone, because it is process-wide: set, it makes Python ignore the byte-code pip compiled
into site-packages, and every later ``import torch`` would compile thousands of modules again.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import marshal
import os
import stat
import sys
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._errors import DRIVE_LOST, connection_lost, describe
from ._files import read_bytes, read_within, too_large
from ._session import SESSION, ModuleRecord, WatchedRoots

__all__ = ["current_records", "hash_file", "project_modules", "watch"]

_PYC_HEADER = 16  # magic (4), flags (4), source hash (8): PEP 552
_CHECKED_HASH_PYC = 0b11  # hash-based, check_source


class _RecordingLoader(importlib.machinery.SourceFileLoader):
    """Compile the exact source bytes read, record their hash, cache checked hash pycs.

    The hash is recorded once the module's code has run to the end: a reload that fails (a
    half-synced file that raises) leaves the module running the old code, and ``stale()`` must
    still see it as changed. Code fetched without running it into the module (``runpy``,
    ``inspect``) records nothing.
    """

    def __init__(self, fullname: str, path: str) -> None:
        super().__init__(fullname, path)
        self._compiled: dict[str, tuple[str, bytes]] = {}  # name -> (file, hash), until run

    def get_code(self, fullname: str) -> types.CodeType:
        source_path = self.get_filename(fullname)
        try:
            source = self.get_data(source_path)
        except OSError as exc:  # an import raises ImportError, never OSError
            raise ImportError(
                f"Cannot import {fullname}: {source_path} cannot be read ({describe(exc)}). "
                + (DRIVE_LOST if connection_lost(exc) else ""),
                name=fullname,
                path=source_path,
            ) from exc
        digest = importlib.util.source_hash(source)
        bytecode_path = _bytecode_path(source_path)
        code = self._cached(bytecode_path, digest) if bytecode_path else None
        if code is None:
            code = self.source_to_code(source, source_path)
            if bytecode_path and not sys.dont_write_bytecode:
                header = importlib.util.MAGIC_NUMBER + _CHECKED_HASH_PYC.to_bytes(4, "little")
                self.set_data(bytecode_path, header + digest + marshal.dumps(code))
        self._compiled[fullname] = (source_path, digest)
        return code

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        try:
            super().exec_module(module)
        finally:
            compiled = self._compiled.pop(name, None)
        if compiled is not None and getattr(module, "__loader__", None) is self:
            SESSION.records[module] = ModuleRecord(name, *compiled)

    def _cached(self, bytecode_path: str, digest: bytes) -> types.CodeType | None:
        try:
            data = self.get_data(bytecode_path)
        except OSError:
            return None
        if (
            len(data) <= _PYC_HEADER
            or data[:4] != importlib.util.MAGIC_NUMBER
            or not int.from_bytes(data[4:8], "little") & 1
            or data[8:16] != digest
        ):
            return None
        try:
            # Our own cache, checked against the source hash first, as importlib does.
            code = marshal.loads(memoryview(data)[_PYC_HEADER:])  # noqa: S302
        except (EOFError, ValueError, TypeError):
            return None
        return code if isinstance(code, types.CodeType) else None


def _bytecode_path(source_path: str) -> str | None:
    """Where the ``.pyc`` of a project file lives in the hook's cache; None: do not cache.

    The layout is ``sys.pycache_prefix``'s: the cache folder, then the source's absolute folder
    (a Windows drive letter becomes a plain folder name), then ``name.<cache tag>.pyc``.
    """
    root = SESSION.bytecode_dir
    tag = sys.implementation.cache_tag
    if root is None or tag is None:
        return None
    folder, name = os.path.split(os.path.abspath(source_path))
    drive, folder = os.path.splitdrive(folder)
    level = sys.flags.optimize
    optimization = f".opt-{level}" if level else ""
    parts = (drive.replace(":", ""), folder.lstrip("\\/"))
    filename = f"{name.rpartition('.')[0]}.{tag}{optimization}.pyc"
    return os.path.join(root, *filter(None, parts), filename)


class _ProjectFinder(importlib.machinery.FileFinder):
    """A FileFinder for one project directory that never lets an ``OSError`` out.

    FileFinder lists its directory on demand and lets errors other than "missing" or "denied"
    escape, so a dead Drive mount would make every import that reaches this entry raise
    ``OSError``. Here the directory then finds nothing, and the reason is kept for the
    last-resort finder.

    FileFinder also takes a failed ``stat`` of its directory for "unchanged since the last
    listing" (both read as mtime -1), so a directory it never listed, first met while Drive is
    dead, would find nothing and say nothing: then the directory is looked at once more, here.
    """

    def find_spec(
        self, fullname: str, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        try:
            spec = super().find_spec(fullname, target)
            if spec is None and getattr(self, "_path_mtime", None) == -1:
                # Never listed: see why, FileFinder's own silent cases (nothing there) aside.
                with contextlib.suppress(FileNotFoundError, PermissionError, NotADirectoryError):
                    os.listdir(self.path)
        except OSError as exc:
            why = f"the project folder {self.path} cannot be read ({describe(exc)})"
            SESSION.unreadable[fullname] = why + (
                f". {DRIVE_LOST}" if connection_lost(exc) else "."
            )
            return None
        if SESSION.unreadable:
            SESSION.unreadable.pop(fullname, None)
        return spec


class _UnreadableProject:
    """Last on ``sys.meta_path``: a module no finder found, after a project folder failed to read.

    Raises ``ModuleNotFoundError`` (an ImportError) naming the folder and the fix; for every
    other module it finds nothing, like a finder that is not there.
    """

    @classmethod
    def find_spec(
        cls,
        fullname: str,
        path: object = None,  # noqa: ARG003 - the MetaPathFinder signature
        target: object = None,  # noqa: ARG003
    ) -> None:
        why = SESSION.unreadable.pop(fullname, None) if SESSION.unreadable else None
        if why is not None:
            raise ModuleNotFoundError(f"No module named {fullname!r}: {why}", name=fullname)

    @classmethod
    def invalidate_caches(cls) -> None:
        SESSION.unreadable.clear()


_LOADERS: tuple[tuple[Any, list[str]], ...] = (
    (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
    (_RecordingLoader, importlib.machinery.SOURCE_SUFFIXES),
    (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
)


def _path_hook(entry: str) -> _ProjectFinder:
    """``sys.path_hooks`` entry: a finder for project directories, ImportError for the rest."""
    roots = SESSION.roots
    absolute = os.path.abspath(entry)
    if not roots.contains(absolute):
        if not roots.contains_real(absolute):
            raise ImportError("not in a colab_bootstrap project folder")
        with SESSION.lock:  # another spelling of a project path: remember it
            SESSION.roots = SESSION.roots.added(Path(absolute))
    try:
        is_dir = stat.S_ISDIR(os.stat(absolute).st_mode)
    except OSError as exc:
        # A dead Drive mount: keep a finder for the entry, which finds modules again once Drive
        # is back (an ImportError here would make Python cache "no finder" for good).
        is_dir = connection_lost(exc)
    if not is_dir:
        raise ImportError("only directories are supported")
    return _ProjectFinder(entry, *_LOADERS)


def _install_hook(roots: WatchedRoots) -> None:
    if _path_hook not in sys.path_hooks:
        sys.path_hooks.insert(0, _path_hook)
    if _UnreadableProject not in sys.meta_path:
        sys.meta_path.append(_UnreadableProject)
    # The interpreter's own folders (stdlib, site-packages) are never a project: no realpath.
    python_dirs = tuple(
        os.path.join(os.path.abspath(p), "")
        for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    )
    for key, finder in list(sys.path_importer_cache.items()):
        if isinstance(finder, _ProjectFinder) or not isinstance(key, str):
            continue
        inside = roots.contains(key) or (
            not key.startswith(python_dirs) and roots.contains_real(key)
        )
        if inside:  # a finder cached before setup(): let the hook take over
            del sys.path_importer_cache[key]


def hash_file(path: str, *, limit: int | None = None) -> bytes:
    """The hash the loader records for a module file: ``importlib.util.source_hash`` of it.

    Raises:
        OSError: it cannot be read, is not a regular file, or (errno EFBIG) holds more than
            ``limit`` bytes: only ``limit`` and one more are read.
    """
    if limit is None:
        return importlib.util.source_hash(read_bytes(path))
    data = read_within(path, limit)
    if data is None:
        raise too_large(path, limit)
    return importlib.util.source_hash(data)


def _excluded(name: str) -> bool:
    return name in ("__main__", "__mp_main__") or name.split(".", 1)[0] == "colab_bootstrap"


def _record_loaded(roots: WatchedRoots) -> None:
    """Remember project modules imported before setup(), as their files are now."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or not file.endswith(".py") or not roots.contains(file):
            continue
        if module in SESSION.records or _excluded(name):
            continue
        try:
            SESSION.records[module] = ModuleRecord(name, file, hash_file(file), at_setup=True)
        except (OSError, TypeError):  # unreadable, or an object that is not a real module
            continue


def watch(roots: Iterable[Path], bytecode_dir: str | None = None) -> None:
    """Watch project folders (link and real path): install the import hook once, record.

    ``bytecode_dir``: where project byte-code is cached from now on (None: keep the folder set
    before, or cache none).
    """
    with SESSION.lock:
        if bytecode_dir is not None:
            SESSION.bytecode_dir = bytecode_dir
        SESSION.roots = SESSION.roots.added(*roots)
        current = SESSION.roots
    _install_hook(current)
    _record_loaded(current)


def current_records() -> Iterator[tuple[types.ModuleType, ModuleRecord]]:
    """Each project module still in ``sys.modules``, with what it was loaded from."""
    for module, record in list(SESSION.records.items()):
        if sys.modules.get(record.name) is module:
            yield module, record


def project_modules() -> dict[str, types.ModuleType]:
    """Project modules in ``sys.modules`` order (packages come before their submodules)."""
    roots = SESSION.roots
    found: dict[str, types.ModuleType] = {}
    for name, module in list(sys.modules.items()):
        if _excluded(name):
            continue
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            if roots.contains(file):
                found[name] = module
            continue
        spec = getattr(module, "__spec__", None)
        locations = list(getattr(spec, "submodule_search_locations", None) or ())
        if locations and all(isinstance(p, str) and roots.contains(p) for p in locations):
            found[name] = module  # a namespace package that lives only in the project
    return found
