"""``reset()``: make every project module fresh and point the notebook's names at the new code.

Drop every module of the set-up projects, import them again, rebind the notebook's names
(IPython's ``user_ns``, else ``__main__``) that an import statement bound to them
(:mod:`._bindings` reads which from IPython's input history), and update the old functions and
classes in place (:mod:`._inplace`), so objects made before the edit run the new code. A name
the notebook bound any other way is never touched. A module that fails to re-import keeps its
old code, and the names bound to it keep working. ``remount=True`` force-remounts Drive first;
``hard=True`` restarts the Colab runtime instead.
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

from . import _bindings, _colab, _inplace, _ipython
from ._errors import (
    DRIVE_LOST,
    ColabBootstrapWarning,
    DriveMountError,
    NotOnColabError,
    ResetError,
    describe,
)
from ._files import drive_lost
from ._importhook import project_modules
from ._render import Rendered
from ._session import SESSION, flag

__all__ = ["ResetFailure", "ResetReport", "reset"]


class ResetFailure(NamedTuple):
    """A project module that could not be re-imported; the old one stays in use."""

    module: str
    error: str

    def __str__(self) -> str:
        return f"{self.module}: {self.error}"


@dataclass(frozen=True)
class ResetReport(Rendered):
    """What ``reset()`` did: modules dropped and re-imported, names rebound, failures.

    ``rebound``: notebook names an import bound, now pointing at the fresh code (``name`` or
    ``name=module.attr``). ``added``: names a ``from m import *`` gained. ``kept``: import-bound
    names that keep the old object, with why. ``left``: names that hold an old project object but
    were bound by the notebook's own statements (``model = train.fit()``): never rebound.
    ``updated``: old functions and classes updated in place (``module.name``), so objects made
    before the edit run the new code. ``not_updated``: those that could not be, with why.
    ``lost``: set when a project folder is on a dead Drive mount and ``remount`` was not asked:
    nothing was dropped (re-importing would fail), and it says how to reconnect.
    """

    dropped: tuple[str, ...] = ()
    reimported: tuple[str, ...] = ()
    rebound: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    not_updated: tuple[str, ...] = ()
    failed: tuple[ResetFailure, ...] = ()
    remount: str = "not asked"
    notes: tuple[str, ...] = field(default=())
    lost: str = ""

    @property
    def ok(self) -> bool:
        """True when every dropped module was re-imported (and Drive could be read)."""
        return not self.failed and not self.lost

    def _title(self) -> str:
        if self.lost:
            return "colab_bootstrap: reset() did nothing: Google Drive's connection was lost"
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

        rows = [("Google Drive", self.lost)] if self.lost else []
        rows += [
            ("remount", self.remount),
            ("dropped", listing(self.dropped)),
            ("re-imported", listing(self.reimported)),
            ("names rebound", listing(self.rebound)),
        ]
        if self.added:
            rows.append(("names added", listing(self.added)))
        if self.kept:
            rows.append(("names kept", "\n".join(self.kept)))
        if self.left:
            rows.append(
                ("left as they are", listing(self.left) + " (bound by your own statements)")
            )
        rows.append(("updated in place", listing(self.updated)))
        rows += [("not updated", problem) for problem in self.not_updated]
        rows += [("failed", str(failure)) for failure in self.failed]
        rows += [("note", note) for note in self.notes]
        return rows

    def _row_style(self, label: str) -> str:
        return "color:#b00" if label in ("failed", "not updated", "Google Drive") else ""


#: Names IPython keeps for itself (history, output cache); never rebound.
_HISTORY_NAME = re.compile(r"^(_+|_i+|_i?\d+|_[ido]h|In|Out)$")
_MISSING = object()
_SHOWN = 20  # names left alone, listed at most


def _may_be_shared(value: object) -> bool:
    """Whether an equal value made by the notebook could be this very object (CPython caches).

    None, booleans, small ints, identifier-like strings and empty tuples are shared: a notebook
    name holding one is not said to "hold" a module's attribute of that value.
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


def _get(module: types.ModuleType, attr: str) -> object:
    """``getattr`` that never raises: a module ``__getattr__`` may raise anything."""
    try:
        return getattr(module, attr, _MISSING)
    except Exception:  # noqa: BLE001 - a module's own __getattr__ failing means: not there
        return _MISSING


def _public_names(module: types.ModuleType) -> list[str]:
    names = vars(module).get("__all__")
    if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
        return list(names)
    return [n for n in vars(module) if not n.startswith("_")]


def _user_names(namespace: dict[str, Any], shell: Any) -> dict[str, Any]:
    hidden: dict[str, Any] = getattr(shell, "user_ns_hidden", None) or {}
    return {
        name: value
        for name, value in namespace.items()
        if not (name.startswith("__") or _HISTORY_NAME.match(name) or name in hidden)
    }


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
    if module_name not in old or "." in qualname or qualname not in vars(old[module_name]):
        return []
    return [(module_name, qualname)]


def _imported(value: object, source: _bindings.Source, old: dict[str, types.ModuleType]) -> bool:
    """Whether ``value`` is what the import ``source`` bound, from the dropped modules."""
    module = old.get(source.module)
    if module is None:
        return False
    if source.attr is None:
        return value is module
    if value is _get(module, source.attr) or value is old.get(f"{source.module}.{source.attr}"):
        return True
    return _defined_in(value, {source.module: module}) == [(source.module, source.attr)]


class _Plan(NamedTuple):
    """Which notebook names to rebind, which star imports to extend, what to say."""

    bindings: list[_Binding]
    stars: list[str]
    left: list[str]  # names holding old project objects that no import bound
    others: frozenset[str]  # names some statement other than an import bound
    notes: list[str]


def _holding(names: dict[str, Any], old: dict[str, types.ModuleType]) -> dict[str, str]:
    """Notebook names that hold a dropped module or one of its attributes: name -> which."""
    by_id: dict[int, list[str]] = {}
    for name, value in names.items():
        if not _may_be_shared(value):
            by_id.setdefault(id(value), []).append(name)
    held: dict[str, str] = {}
    for module_name, module in old.items():
        for name in by_id.get(id(module), ()):
            held.setdefault(name, module_name)
    for module_name, module in old.items():
        for attr, value in vars(module).items():
            if not attr.startswith("__"):
                for name in by_id.get(id(value), ()):
                    held.setdefault(name, f"{module_name}.{attr}")
    return held


def _plan(namespace: dict[str, Any], old: dict[str, types.ModuleType], shell: Any) -> _Plan:
    """Read how the notebook bound its names, and pick those an import bound to old code."""
    names = _user_names(namespace, shell)
    modules = {id(module): name for name, module in old.items()}
    cells = _ipython.cell_history(shell) if shell is not None else None
    analysis = None
    notes: list[str] = []
    if cells is not None:

        def star_names(module_name: str) -> list[str] | None:
            module = old.get(module_name) or sys.modules.get(module_name)
            return _public_names(module) if isinstance(module, types.ModuleType) else None

        analysis = _bindings.analyse(cells, star_names)
        if not analysis.complete:
            analysis = None
            notes.append(
                f"A notebook cell is too large to read (over {_bindings.MAX_CELL:,} characters), "
                "so how names were bound is unknown: only names bound to project modules "
                "themselves were rebound."
            )
    elif shell is not None:
        notes.append(
            "This IPython keeps no input history, so only names bound to project modules "
            "themselves were rebound."
        )
    bindings: list[_Binding] = []
    for name, value in names.items():
        if analysis is None:  # outside IPython: only names that hold a project module
            if id(value) in modules:
                bindings.append(_Binding(name, modules[id(value)], None, value))
            continue
        for source in sorted(analysis.imports(name)):
            if _imported(value, source, old):
                bindings.append(_Binding(name, source.module, source.attr, value))
                break
    chosen = {b.name for b in bindings}
    held = _holding(names, old)
    left = [f"{name} (holds {what})" for name, what in held.items() if name not in chosen]
    stars = [m for m in analysis.stars if m in old] if analysis is not None else []
    others = frozenset(
        () if analysis is None else (n for n in analysis.names if analysis.by_other_statement(n))
    )
    return _Plan(bindings, stars, left, others, notes)


def _drop(old: dict[str, types.ModuleType]) -> None:
    import linecache  # noqa: PLC0415 - only reset() needs it

    for name, module in old.items():
        sys.modules.pop(name, None)
        parent_name, _, child = name.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if parent is not None and vars(parent).get(child) is module:
            delattr(parent, child)
        file = vars(module).get("__file__")
        if isinstance(file, str):
            linecache.cache.pop(file, None)
    importlib.invalidate_caches()


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
                failed.append(ResetFailure(name, describe(exc)))
            else:
                done.append(name)
    finally:
        for name, module in old.items():  # failed (or interrupted): keep the old code running
            if name not in sys.modules:
                sys.modules[name] = module
                parent_name, _, child = name.rpartition(".")
                parent = sys.modules.get(parent_name) if parent_name else None
                if parent is not None and child not in vars(parent):
                    setattr(parent, child, module)
    return done, failed


def _rebind_one(
    namespace: dict[str, Any], binding: _Binding, target: str, fresh: set[str]
) -> tuple[bool, str] | None:
    """Rebind one name: (True, how it reads) when done, (False, why) when kept, None: untouched."""
    if namespace.get(binding.name, _MISSING) is not binding.old:
        return None  # the module's own code rebound it while re-importing
    if binding.module not in fresh:
        return False, f"{binding.name}: old {target} ({binding.module} failed to re-import)"
    module = sys.modules[binding.module]
    new = module if binding.attr is None else _get(module, binding.attr)
    if new is _MISSING:
        return False, f"{binding.name}: old {target} (no longer in {binding.module})"
    namespace[binding.name] = new
    same = binding.name == (binding.attr or binding.module.split(".")[0])
    return True, binding.name if same else f"{binding.name}={target}"


def _rebind(
    namespace: dict[str, Any], plan: _Plan, fresh: set[str]
) -> tuple[list[str], list[str], list[str]]:
    """Point import-bound names at the fresh code; add the names star-imported modules gained."""
    rebound: list[str] = []
    kept: list[str] = []
    for binding in plan.bindings:
        target = binding.module + (f".{binding.attr}" if binding.attr else "")
        try:
            done = _rebind_one(namespace, binding, target, fresh)
        except Exception as exc:  # noqa: BLE001 - reported: reset() never stops half-way
            kept.append(f"{binding.name}: old {target} (rebinding failed: {describe(exc)})")
            continue
        if done is None:
            continue
        (rebound if done[0] else kept).append(done[1])
    added: list[str] = []
    for module_name in plan.stars:
        if module_name not in fresh:
            continue
        module = sys.modules[module_name]
        for name in _public_names(module):
            if name in namespace or name in plan.others:
                continue  # never over a name the notebook has, or one it deleted
            value = _get(module, name)
            if value is not _MISSING:
                namespace[name] = value
                added.append(name)
    return rebound, added, kept


def _update_in_place(
    old: dict[str, types.ModuleType], fresh: set[str]
) -> tuple[list[str], list[str]]:
    updated: list[str] = []
    problems: list[str] = []
    for name in (n for n in old if n in fresh):  # in sys.modules order: the report is stable
        result = _inplace.update_module(old[name], sys.modules[name])
        updated += result.updated
        problems += result.not_updated
    return updated, problems


def _importing(modules: dict[str, types.ModuleType]) -> list[str]:
    """Project modules whose import is under way (their code is running right now)."""
    return [
        name
        for name, module in modules.items()
        if getattr(getattr(module, "__spec__", None), "_initializing", False) is True
    ]


def _remount(colab: bool) -> str:
    if not colab:
        return (
            "skipped: not on Colab (nothing to remount; Drive for desktop syncs by itself). "
            "Modules were reset as usual."
        )
    mountpoints = (  # where each project's Drive is mounted: setup() may have used another's
        r.project.mountpoint or r.location.mountpoint for r in SESSION.projects.values()
    )
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


def _lost_folder() -> str:
    """A project folder on a dead Drive mount, as the report says it; "" when all answer."""
    lost = next((root for root in SESSION.roots.paths if drive_lost(root)), None)
    if lost is None:
        return ""
    return (
        f"{lost} cannot be read, so nothing was dropped: the notebook keeps the code it has. "
        f"{DRIVE_LOST}"
    )


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
    re-imports them, and rebinds the notebook names that import statements bound (``import m``,
    ``import pkg.mod as m``, ``from m import f``, ``from m import *``), as IPython's input
    history shows; outside IPython only names that hold a project module. A name bound by any
    other statement (``model = train.fit()``) is never rebound, whatever it holds. The old
    functions and classes are then updated in place, so objects made before the edit run the
    new code; what cannot be (a changed closure, a class whose layout changed) is listed. A
    module that fails to re-import is listed in the report; its old code (and the names bound
    to it) stay in use.

    Args:
        remount: on Colab, force-remount Drive first (after "Transport endpoint is not
            connected" or when Drive shows stale files). Off Colab the report says it was
            skipped.
        hard: on Colab, restart the runtime instead (kill the kernel; Drive stays mounted),
            after a ColabBootstrapWarning that names the setup cell to re-run.

    Raises:
        ValueError: ``remount`` or ``hard`` is not True or False (``hard="no"`` must not
            restart the runtime); nothing changed.
        NotOnColabError: ``hard=True`` off Colab (nothing is killed or changed).
        DriveMountError: the remount failed; no module was dropped.
        ResetError: called while a project module is being imported (e.g. a module that calls
            ``reset()`` at import time); nothing was dropped or remounted.
    """
    remount, hard = flag(remount, "remount"), flag(hard, "hard")
    colab = _colab.on_colab()
    if hard and not colab:
        raise NotOnColabError(
            "reset(hard=True) restarts a Colab runtime by killing its kernel, and this is not "
            "Colab: nothing would start a new kernel, so nothing was killed. Call "
            "colab_bootstrap.reset() instead, or restart from your notebook's menu "
            "(Kernel > Restart), then re-run the setup cell."
        )
    old = project_modules() if SESSION.roots.paths else {}
    running = _importing(old)
    if SESSION.resetting or running:
        raise ResetError(
            "reset() was called while "
            + (f"{', '.join(running)} is being imported" if running else "reset() is running")
            + ": a project module must not call reset() when it is imported. Nothing was "
            "dropped. Remove that call from the module and call colab_bootstrap.reset() from a "
            "notebook cell."
        )
    lost = "" if remount else _lost_folder()
    if lost:
        return ResetReport(lost=lost)
    remounted = _remount(colab) if remount else "not asked"
    if hard:  # pragma: no cover - the process ends here (tested in a subprocess)
        _restart()
    if not SESSION.roots.paths:
        return ResetReport(
            remount=remounted,
            notes=("No project is set up in this process: call colab_bootstrap.setup() first.",),
        )
    SESSION.resetting = True
    try:
        return _reset(old, remounted)
    finally:
        SESSION.resetting = False


def _reset(old: dict[str, types.ModuleType], remounted: str) -> ResetReport:
    shell = _ipython.get_shell()
    namespace = _ipython.user_namespace()
    plan = _plan(namespace, old, shell)
    _drop(old)
    done, failed = _reimport(old)
    failed_names = {f.module for f in failed}
    fresh = {name for name in done if sys.modules.get(name) is not old[name]} - failed_names
    updated, not_updated = _update_in_place(old, fresh)
    rebound, added, kept = _rebind(namespace, plan, fresh)
    left = plan.left[:_SHOWN] + (
        [f"... and {len(plan.left) - _SHOWN} more"] if len(plan.left) > _SHOWN else []
    )
    return ResetReport(
        dropped=tuple(old),
        reimported=tuple(n for n in done if n in fresh),
        rebound=tuple(rebound),
        added=tuple(added),
        kept=tuple(kept),
        left=tuple(left),
        updated=tuple(updated),
        not_updated=tuple(not_updated),
        failed=tuple(failed),
        remount=remounted,
        notes=tuple(plan.notes),
    )
