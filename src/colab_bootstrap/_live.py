"""Live code: the import record, ``stale()`` and ``reset()``.

``setup()`` calls :func:`watch` with the project folders. That installs one path hook, used only
for directories inside a project (the link or the real path): every other directory is turned
down once, when it first appears on ``sys.path`` or in a package's ``__path__``, so modules
outside the projects cost nothing per import.

For project ``.py`` files the hook's loader reads the source once, hashes those exact bytes and
remembers the hash for the module object that runs them. Byte-code is cached as checked
hash-based ``.pyc`` files (PEP 552) keyed by that hash, so a cached ``.pyc`` is never trusted on
mtime: an edit that arrives through Drive with an older mtime is compiled like any other.

``stale()`` re-hashes each recorded file and lists each project directory once to find newer
``name (N).py`` copies. ``reset()`` drops every project module, re-imports them, and rebinds
the notebook's names (IPython's ``user_ns``, else ``__main__``) to the fresh objects.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.machinery
import importlib.util
import marshal
import os
import re
import sys
import time
import types
import warnings
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from . import _colab, _ipython
from ._errors import ColabBootstrapWarning, DriveMountError, NotOnColabError
from ._render import html_table, text_block
from ._scan import copy_of

__all__ = [
    "ResetFailure",
    "ResetReport",
    "StaleModule",
    "StaleReason",
    "reset",
    "stale",
    "watch",
    "watched_roots",
]

StaleReason = Literal["changed", "deleted", "newer copy", "unreadable"]

#: Project folders (link and real path, plus any other spelling the hook met) being watched.
_roots: list[Path] = []


class _Record(NamedTuple):
    """What a project module was built from: its file and the hash of the bytes compiled."""

    name: str
    file: str
    digest: bytes
    at_setup: bool = False  # loaded before setup(): the file as it was when setup() ran


#: Module object -> what it was loaded from. Weak, so dropped modules leave no trace.
_records: weakref.WeakKeyDictionary[types.ModuleType, _Record] = weakref.WeakKeyDictionary()

# ---------------------------------------------------------------------------------------------
# Which paths belong to a project
# ---------------------------------------------------------------------------------------------


class _Roots(NamedTuple):
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    real: tuple[Path, ...]

    def contains(self, path: str) -> bool:
        """``path`` (absolute, as spelled) is a project folder or lies inside one."""
        return path in self.exact or path.startswith(self.prefixes)

    def contains_real(self, path: str) -> bool:
        """Like ``contains``, also through symlinks and other spellings (costs a realpath)."""
        absolute = os.path.abspath(path)
        if self.contains(absolute):
            return True
        real = Path(os.path.realpath(absolute))
        return any(real == root or root in real.parents for root in self.real)


@functools.lru_cache(maxsize=16)
def _roots_for(roots: tuple[Path, ...]) -> _Roots:
    spelled = [os.path.abspath(root) for root in roots]
    return _Roots(
        exact=frozenset(spelled),
        prefixes=tuple(s.rstrip(os.sep) + os.sep for s in spelled),
        real=tuple(Path(os.path.realpath(s)) for s in spelled),
    )


def _current_roots() -> _Roots:
    return _roots_for(tuple(_roots))


# ---------------------------------------------------------------------------------------------
# The import hook: a FileFinder for project directories whose source loader records hashes
# ---------------------------------------------------------------------------------------------

_PYC_HEADER = 16  # magic (4), flags (4), source hash (8): PEP 552
_CHECKED_HASH_PYC = 0b11  # hash-based, check_source


class _RecordingLoader(importlib.machinery.SourceFileLoader):
    """Compile the exact source bytes read, remember their hash, cache checked hash pycs."""

    def get_code(self, fullname: str) -> types.CodeType:
        source_path = self.get_filename(fullname)
        source = self.get_data(source_path)
        digest = importlib.util.source_hash(source)
        bytecode_path = _bytecode_path(source_path)
        code = self._cached(bytecode_path, digest) if bytecode_path else None
        if code is None:
            code = self.source_to_code(source, source_path)
            if bytecode_path and not sys.dont_write_bytecode:
                header = importlib.util.MAGIC_NUMBER + _CHECKED_HASH_PYC.to_bytes(4, "little")
                self.set_data(bytecode_path, header + digest + marshal.dumps(code))
        module = sys.modules.get(fullname)
        if module is not None and getattr(module, "__loader__", None) is self:
            _records[module] = _Record(fullname, source_path, digest)
        return code

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
    try:
        return importlib.util.cache_from_source(source_path)
    except NotImplementedError:  # pragma: no cover - interpreters without a cache tag
        return None


class _ProjectFinder(importlib.machinery.FileFinder):
    """A FileFinder for one project directory (subclassed only to be recognisable)."""


_LOADERS: tuple[tuple[Any, list[str]], ...] = (
    (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
    (_RecordingLoader, importlib.machinery.SOURCE_SUFFIXES),
    (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES),
)


def _path_hook(entry: str) -> _ProjectFinder:
    """``sys.path_hooks`` entry: a finder for project directories, ImportError for the rest."""
    if not _roots:
        raise ImportError("colab_bootstrap watches no project folder")
    roots = _current_roots()
    absolute = os.path.abspath(entry)
    if not roots.contains(absolute):
        if not roots.contains_real(absolute):
            raise ImportError("not in a colab_bootstrap project folder")
        _roots.append(Path(absolute))  # another spelling of a project path: remember it
    if not os.path.isdir(absolute):
        raise ImportError("only directories are supported")
    return _ProjectFinder(entry, *_LOADERS)


def _install_hook(roots: _Roots) -> None:
    if _path_hook not in sys.path_hooks:
        sys.path_hooks.insert(0, _path_hook)
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


def _hash_file(path: str) -> bytes:
    with open(path, "rb", buffering=0) as file:  # unbuffered: one fstat-sized read
        return importlib.util.source_hash(file.readall())


def _record_loaded(roots: _Roots) -> None:
    """Remember project modules imported before setup(), as their files are now."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or not file.endswith(".py") or not roots.contains(file):
            continue
        if module in _records or _excluded(name):
            continue
        try:
            _records[module] = _Record(name, file, _hash_file(file), at_setup=True)
        except (OSError, TypeError):  # unreadable, or an object that is not a real module
            continue


def watch(roots: Iterable[Path]) -> None:
    """Watch project folders (link and real path): install the import hook once, record."""
    for root in roots:
        if root not in _roots:
            _roots.append(root)
    current = _current_roots()
    _install_hook(current)
    _record_loaded(current)


def watched_roots() -> tuple[Path, ...]:
    """The project folders being watched, in the order they were set up."""
    return tuple(_roots)


# ---------------------------------------------------------------------------------------------
# Stale modules
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleModule:
    """A loaded project module whose code no longer matches its file.

    ``reason`` is "changed" (the file's content differs from what was imported), "deleted",
    "newer copy" (Drive sync made a ``name (N).py`` newer than the file; ``detail`` is its
    path) or "unreadable" (``detail`` says why, e.g. a broken Drive mount).
    """

    name: str
    file: Path
    reason: StaleReason
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.file}): {self.reason}" + (
            f": {self.detail}" if self.detail else ""
        )


def _current_records() -> Iterator[tuple[types.ModuleType, _Record]]:
    for module, record in list(_records.items()):
        if sys.modules.get(record.name) is module:
            yield module, record


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return float("-inf")


def _newest_copies(folder: str, plain_names: Iterable[str]) -> dict[str, tuple[float, str]]:
    """List ``folder`` once: for each plain name, its newest ``name (N).ext`` copy."""
    wanted = set(plain_names)
    newest: dict[str, tuple[float, str]] = {}
    try:
        names = os.listdir(folder)
    except OSError:
        return newest
    for name in names:
        copy = copy_of(name) if " (" in name else None
        if copy is None or copy[0] not in wanted:
            continue
        path = os.path.join(folder, name)
        mtime = _mtime(path)
        if copy[0] not in newest or mtime > newest[copy[0]][0]:
            newest[copy[0]] = (mtime, path)
    return newest


def _newer_copies(files: dict[str, list[_Record]]) -> Iterator[tuple[_Record, str]]:
    """Yield (record, copy) where Drive sync left a copy newer than the recorded file."""
    for folder, records in files.items():
        by_plain = {os.path.basename(r.file): r for r in records}
        for plain, (mtime, path) in _newest_copies(folder, by_plain).items():
            record = by_plain[plain]
            if mtime > _mtime(record.file):
                yield record, path


def stale() -> list[StaleModule]:
    """List loaded project modules whose files changed (by content), vanished or have newer copies.

    Each module's file is read and hashed once; each folder is listed once. Only modules from
    folders given to ``setup()`` (through the link or the real path) are looked at.
    """
    found: list[StaleModule] = []
    folders: dict[str, list[_Record]] = {}
    for _module, record in _current_records():
        folder = record.file.rpartition(os.sep)[0]
        if folder in folders:
            folders[folder].append(record)
        else:
            folders[folder] = [record]
        try:
            digest = _hash_file(record.file)
        except (FileNotFoundError, NotADirectoryError):
            found.append(
                StaleModule(
                    record.name,
                    Path(record.file),
                    "deleted",
                    "the file is gone; the notebook still runs the code it imported",
                )
            )
            continue
        except OSError as exc:
            found.append(
                StaleModule(
                    record.name,
                    Path(record.file),
                    "unreadable",
                    f"{exc}. If Drive says 'Transport endpoint is not connected', call "
                    "colab_bootstrap.reset(remount=True).",
                )
            )
            continue
        if digest != record.digest:
            since = "since setup() ran" if record.at_setup else "since it was imported"
            found.append(
                StaleModule(
                    record.name,
                    Path(record.file),
                    "changed",
                    f"the file's content changed {since}; colab_bootstrap.reset() loads it",
                )
            )
    for record, copy in _newer_copies(folders):
        found.append(StaleModule(record.name, Path(record.file), "newer copy", copy))
    return found


# ---------------------------------------------------------------------------------------------
# Reset: drop, re-import, rebind
# ---------------------------------------------------------------------------------------------


class ResetFailure(NamedTuple):
    """A project module that could not be re-imported; the old one stays in use."""

    module: str
    error: str

    def __str__(self) -> str:
        return f"{self.module}: {self.error}"


@dataclass(frozen=True)
class ResetReport:
    """What ``reset()`` did: modules dropped and re-imported, names rebound, failures."""

    dropped: tuple[str, ...] = ()
    reimported: tuple[str, ...] = ()
    rebound: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    failed: tuple[ResetFailure, ...] = ()
    remount: str = "not asked"
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every dropped module was re-imported."""
        return not self.failed

    def _title(self) -> str:
        if self.failed:
            return (
                f"colab_bootstrap: reset() re-imported {len(self.reimported)} modules; "
                f"{len(self.failed)} failed (the old code stays in use for those)"
            )
        return f"colab_bootstrap: reset() re-imported {len(self.reimported)} modules"

    def _rows(self) -> list[tuple[str, str]]:
        def listing(items: Iterable[object]) -> str:
            values = [str(item) for item in items]
            return f"{len(values)}: " + ", ".join(values) if values else "none"

        rows = [
            ("remount", self.remount),
            ("dropped", listing(self.dropped)),
            ("re-imported", listing(self.reimported)),
            ("names rebound", listing(self.rebound)),
        ]
        if self.added:
            rows.append(("names added", listing(self.added)))
        if self.kept:
            rows.append(("names kept", "\n".join(self.kept)))
        rows += [("failed", str(failure)) for failure in self.failed]
        rows += [("note", note) for note in self.notes]
        return rows

    def __str__(self) -> str:
        return text_block(self._title(), self._rows())

    def _repr_html_(self) -> str:
        rows = self._rows()
        styles = ["color:#b00" if label == "failed" else "" for label, _ in rows]
        return html_table(self._title(), rows, row_styles=styles)


#: Names IPython keeps for itself (history, output cache); never rebound.
_HISTORY_NAME = re.compile(r"^(_+|_i+|_i?\d+|_[ido]h|In|Out)$")
_MISSING = object()


def _may_be_shared(value: object) -> bool:
    """Whether an equal value made by the notebook could be this very object (CPython caches).

    None, booleans, small ints, identifier-like strings and empty tuples are shared; for those
    a name only counts as imported from a module when it has the module attribute's name.
    """
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -5 <= value <= 256
    if isinstance(value, (str, bytes)):
        return len(value) <= 1 or (isinstance(value, str) and value.isidentifier())
    if isinstance(value, (tuple, frozenset)):
        return not value
    return False


def _excluded(name: str) -> bool:
    return name in ("__main__", "__mp_main__") or name.split(".", 1)[0] == "colab_bootstrap"


def _project_modules(roots: _Roots) -> dict[str, types.ModuleType]:
    """Project modules in ``sys.modules`` order (packages come before their submodules)."""
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


class _Binding(NamedTuple):
    name: str  # in the notebook
    module: str
    attr: str | None  # None: the name is bound to the module itself
    old: object


def _public_names(module: types.ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
        return list(names)
    return [n for n in vars(module) if not n.startswith("_")]


def _user_names(namespace: dict[str, Any]) -> dict[str, Any]:
    shell = _ipython.get_shell()
    hidden: dict[str, Any] = getattr(shell, "user_ns_hidden", None) or {}
    return {
        name: value
        for name, value in namespace.items()
        if not (name.startswith("__") or _HISTORY_NAME.match(name) or name in hidden)
    }


def _bindings(names: dict[str, Any], old: dict[str, types.ModuleType]) -> list[_Binding]:
    """Which notebook names hold a project module, or a value taken from one."""
    modules = {id(module): name for name, module in old.items()}
    wanted = {id(value) for value in names.values()}
    sources: dict[int, list[tuple[str, str]]] = {}
    for module_name, module in old.items():
        for attr, value in vars(module).items():
            if id(value) in wanted and not attr.startswith("__"):
                sources.setdefault(id(value), []).append((module_name, attr))
    found: list[_Binding] = []
    for name, value in names.items():
        if id(value) in modules:
            found.append(_Binding(name, modules[id(value)], None, value))
            continue
        candidates = sources.get(id(value), []) or _defined_in(value, old)
        same_name = [c for c in candidates if c[1] == name]
        if not same_name and _may_be_shared(value):
            continue  # `x = 3` is not `from config import N` just because 3 is 3
        choices = same_name or candidates
        if not choices:
            continue
        home = getattr(value, "__module__", None)
        module_name, attr = next((c for c in choices if c[0] == home), choices[0])
        found.append(_Binding(name, module_name, attr, value))
    return found


def _defined_in(value: object, old: dict[str, types.ModuleType]) -> list[tuple[str, str]]:
    """(module, attr) for a function or class a project module defines at its top level.

    Catches objects that are no longer the module's attribute but still came from it: IPython
    7's autoreload reloads a module in place and patches the *old* function objects the
    notebook holds, so ``from m import f`` leaves a notebook ``f`` that is not ``m.f``.
    """
    if not isinstance(value, (types.FunctionType, type)):
        return []
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", "")
    if module_name not in old or "." in qualname or not hasattr(old[module_name], qualname):
        return []
    return [(module_name, qualname)]


def _from_module(value: object, module_name: str, attr: str, module: types.ModuleType) -> bool:
    if value is getattr(module, attr, _MISSING):
        return True
    return _defined_in(value, {module_name: module}) == [(module_name, attr)]


def _star_imports(names: dict[str, Any], old: dict[str, types.ModuleType]) -> list[str]:
    """Modules whose every public name is bound to the same object: ``from m import *``."""
    found = []
    for module_name, module in old.items():
        public = _public_names(module)
        if public and all(
            n in names and _from_module(names[n], module_name, n, module) for n in public
        ):
            found.append(module_name)
    return found


def _drop(old: dict[str, types.ModuleType]) -> None:
    import linecache  # noqa: PLC0415 - only reset() needs it

    for name, module in old.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if parent is not None and getattr(parent, child, None) is module:
            delattr(parent, child)
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            linecache.cache.pop(file, None)
    importlib.invalidate_caches()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _reimport(
    old: dict[str, types.ModuleType],
) -> tuple[list[str], list[ResetFailure]]:
    """Import every dropped module again; put the old module back where that fails."""
    done: list[str] = []
    failed: list[ResetFailure] = []
    try:
        for name in old:
            if name in sys.modules:
                done.append(name)
                continue
            try:
                importlib.import_module(name)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - reported, never raised
                failed.append(ResetFailure(name, _describe(exc)))
            else:
                done.append(name)
    finally:
        for name, module in old.items():  # failed (or interrupted): keep the old code running
            if name not in sys.modules:
                sys.modules[name] = module
                parent_name, _, child = name.rpartition(".")
                parent = sys.modules.get(parent_name) if parent_name else None
                if parent is not None and not hasattr(parent, child):
                    setattr(parent, child, module)
    return done, failed


def _rebind(
    namespace: dict[str, Any],
    bindings: list[_Binding],
    stars: list[str],
    fresh: set[str],
) -> tuple[list[str], list[str], list[str]]:
    rebound: list[str] = []
    kept: list[str] = []
    for binding in bindings:
        if namespace.get(binding.name, _MISSING) is not binding.old:
            continue  # the module's own code rebound it while re-importing
        target = binding.module + (f".{binding.attr}" if binding.attr else "")
        if binding.module not in fresh:
            kept.append(f"{binding.name}: old {target} ({binding.module} failed to re-import)")
            continue
        module = sys.modules[binding.module]
        new = module if binding.attr is None else getattr(module, binding.attr, _MISSING)
        if new is _MISSING:
            kept.append(f"{binding.name}: old {target} (no longer in {binding.module})")
            continue
        namespace[binding.name] = new
        same = binding.name == (binding.attr or binding.module)
        rebound.append(binding.name if same else f"{binding.name}={target}")
    added: list[str] = []
    for module_name in stars:
        if module_name not in fresh:
            continue
        module = sys.modules[module_name]
        for name in _public_names(module):
            if name not in namespace and hasattr(module, name):
                namespace[name] = getattr(module, name)
                added.append(name)
    return rebound, added, kept


def _remount(colab: bool) -> str:
    if not colab:
        return (
            "skipped: not on Colab (nothing to remount; Drive for desktop syncs by itself). "
            "Modules were reset as usual."
        )
    from . import _setup  # noqa: PLC0415 - _setup imports this module

    mountpoints = (p.mountpoint for p in _setup.projects() if p.mountpoint)
    points = list(dict.fromkeys(mountpoints)) or [_setup.DEFAULT_MOUNTPOINT]
    try:
        for point in points:
            _colab.mount(point, force_remount=True)
    except DriveMountError as exc:
        raise DriveMountError(
            f"{exc} reset(remount=True) stopped before dropping any module, so the notebook "
            "still runs the code it had."
        ) from exc
    return "remounted Google Drive at " + ", ".join(points)


def _setup_cell() -> str:
    """The cell to re-run after a restart: the last one that called setup(), else a call."""
    shell = _ipython.get_shell()
    inputs = getattr(shell, "user_ns", {}).get("In") if shell is not None else None
    if isinstance(inputs, list):
        last = len(inputs) - 1
        for number in range(last, 0, -1):
            text = inputs[number]
            if not isinstance(text, str) or "setup(" not in text:
                continue
            if number == last and "reset(" in text:
                continue  # the cell running reset(hard=True) itself
            return f"In [{number}]:\n    " + text.strip().replace("\n", "\n    ")
    from . import _setup  # noqa: PLC0415

    calls = [f"colab_bootstrap.setup({p.name!r})" for p in _setup.projects()]
    return "the cell that runs " + (" and ".join(calls) or "colab_bootstrap.setup(...)")


def _restart() -> None:  # pragma: no cover - the process ends here (tested in a subprocess)
    warnings.warn(
        "reset(hard=True): restarting the runtime now. The kernel process is killed and Colab "
        "starts a fresh one; Drive stays mounted, but imports, variables and sys.path are "
        f"gone. When Colab has reconnected, re-run the setup cell, {_setup_cell()}\n"
        "then your import cells.",
        ColabBootstrapWarning,
        stacklevel=3,
    )
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    time.sleep(0.5)  # let the notebook's output thread send the warning before the kill
    _colab.kill_kernel()


def reset(*, remount: bool = False, hard: bool = False) -> ResetReport:
    """Make every project module fresh and point the notebook's names at the new code.

    Drops every module from the set-up project folders (packages and submodules too),
    re-imports them, and rebinds the notebook's names: modules (``import m``,
    ``import pkg.mod as m``) and names taken from them (``from m import f``, ``from m import *``).
    Names the notebook rebound to something else are left alone. A module that fails to
    re-import is listed in the report; its old code (and the names bound to it) stay in use.

    Args:
        remount: on Colab, force-remount Drive first (after "Transport endpoint is not
            connected" or when Drive shows stale files). Off Colab the report says it was
            skipped.
        hard: on Colab, restart the runtime instead (kill the kernel; Drive stays mounted),
            after a ColabBootstrapWarning that names the setup cell to re-run.

    Raises:
        NotOnColabError: ``hard=True`` off Colab (nothing is killed or changed).
        DriveMountError: the remount failed; no module was dropped.
    """
    colab = _colab.on_colab()
    if hard and not colab:
        raise NotOnColabError(
            "reset(hard=True) restarts a Colab runtime by killing its kernel, and this is not "
            "Colab: nothing would start a new kernel, so nothing was killed. Call "
            "colab_bootstrap.reset() instead, or restart from your notebook's menu "
            "(Kernel > Restart), then re-run the setup cell."
        )
    remounted = _remount(colab) if remount else "not asked"
    if hard:  # pragma: no cover - the process ends here (tested in a subprocess)
        _restart()
    roots = _current_roots()
    if not _roots:
        return ResetReport(
            remount=remounted,
            notes=("No project is set up in this process: call colab_bootstrap.setup() first.",),
        )
    namespace = _ipython.user_namespace()
    old = _project_modules(roots)
    names = _user_names(namespace)
    bindings = _bindings(names, old)
    stars = _star_imports(names, old)
    _drop(old)
    done, failed = _reimport(old)
    failed_names = {f.module for f in failed}
    fresh = {name for name in done if sys.modules.get(name) is not old[name]} - failed_names
    rebound, added, kept = _rebind(namespace, bindings, stars, fresh)
    return ResetReport(
        dropped=tuple(old),
        reimported=tuple(n for n in done if n in fresh),
        rebound=tuple(rebound),
        added=tuple(added),
        kept=tuple(kept),
        failed=tuple(failed),
        remount=remounted,
    )
