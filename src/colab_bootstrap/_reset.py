"""``reset()``: make every project module fresh and point the notebook's names at the new code.

Drop every module of the set-up projects, import them again, and rebind the notebook's names
(IPython's ``user_ns``, else ``__main__``) that held the old modules or objects taken from them.
A module that fails to re-import keeps its old code, and the names bound to it keep working.
``remount=True`` force-remounts Drive first; ``hard=True`` restarts the Colab runtime instead.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
import time
import types
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import _colab, _ipython
from ._errors import ColabBootstrapWarning, DriveMountError, NotOnColabError
from ._importhook import project_modules
from ._render import Rendered
from ._session import SESSION

__all__ = ["ResetFailure", "ResetReport", "reset"]


class ResetFailure(NamedTuple):
    """A project module that could not be re-imported; the old one stays in use."""

    module: str
    error: str

    def __str__(self) -> str:
        return f"{self.module}: {self.error}"


@dataclass(frozen=True)
class ResetReport(Rendered):
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

    def _row_style(self, label: str) -> str:
        return "color:#b00" if label == "failed" else ""


#: Names IPython keeps for itself (history, output cache); never rebound.
_HISTORY_NAME = re.compile(r"^(_+|_i+|_i?\d+|_[ido]h|In|Out)$")
_MISSING = object()


def _may_be_shared(value: object) -> bool:
    """Whether an equal value made by the notebook could be this very object (CPython caches).

    None, booleans, small ints, identifier-like strings and empty tuples are shared; for those
    a name only counts as imported from a module when it has the module attribute's name.
    """
    if value is None:
        return True
    if isinstance(value, int):  # booleans too: True and False are 1 and 0
        return -5 <= value <= 256
    if isinstance(value, (str, bytes)):
        return len(value) <= 1 or (isinstance(value, str) and value.isidentifier())
    if isinstance(value, (tuple, frozenset)):
        return not value
    return False


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
        sys.modules.pop(name, None)
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
    mountpoints = (r.location.mountpoint for r in SESSION.projects.values())
    points = list(dict.fromkeys(mountpoints)) or [SESSION.location().mountpoint]
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
    calls = [f"colab_bootstrap.setup({r.project.name!r})" for r in SESSION.projects.values()]
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
    if not SESSION.roots.paths:
        return ResetReport(
            remount=remounted,
            notes=("No project is set up in this process: call colab_bootstrap.setup() first.",),
        )
    namespace = _ipython.user_namespace()
    old = project_modules()
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
