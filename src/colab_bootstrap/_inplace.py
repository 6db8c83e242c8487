"""Update a dropped module's functions and classes in place from the fresh module's.

After an edit, ``reset()`` re-imports a module as a new module object. Names the notebook bound
by imports then point at the new functions and classes, but objects made before the edit still
hold the old ones: a fast.ai ``Learner``'s callbacks are instances of the old classes, a list
holds the old function. IPython's autoreload patches such objects for the same reason, and so
does this module, after the re-import:

- a function gets the new code, defaults, keyword defaults, annotations, docstring and
  attributes; its closure cells take the new closure's values when both close over the same
  names (so a decorated function's wrapper calls the new function). When the names differ, the
  code cannot be swapped (CPython checks the closure's length), and that is reported;
- a class gets the new class's attributes and methods (its methods are functions, patched as
  above, so bound methods taken earlier run the new code too); attributes the edit removed are
  removed. Only when its layout is unchanged: the same metaclass, bases (by name), ``__slots__``,
  dataclass fields, named-tuple fields. A class whose layout changed is reported and left whole,
  never half-patched: its old instances keep the old code, and the fix is to make them again;
- the old module's globals take the new module's values, so the patched code finds the helpers
  and constants the edit added.

Only objects the module defines (``__module__`` is its name) are touched. Nothing here raises: a
patch that fails is reported with the reason.
"""

from __future__ import annotations

import types
from typing import Any, NamedTuple

from ._errors import describe

__all__ = ["InPlace", "update_module"]

_MISSING = object()
_DEPTH = 8  # nested classes followed at most
#: Class attributes that belong to the type object itself: never copied or removed.
_OWN = frozenset(
    {"__dict__", "__weakref__", "__module__", "__qualname__", "__slots__", "_abc_impl"}
)
_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)


class InPlace(NamedTuple):
    """What was updated in place (``module.name``), and what could not be, with why."""

    updated: tuple[str, ...]
    not_updated: tuple[str, ...]


def _update_function(old: types.FunctionType, new: types.FunctionType) -> str | None:
    """Give ``old`` the behaviour of ``new``; the reason when it cannot be done."""
    if old.__code__.co_freevars != new.__code__.co_freevars:
        return (
            "its closure changed (it uses other variables of an enclosing function), so the "
            "old function object cannot take the new code"
        )
    try:
        old.__code__ = new.__code__
        old.__defaults__ = new.__defaults__
        old.__kwdefaults__ = new.__kwdefaults__
        old.__annotations__ = dict(getattr(new, "__annotations__", None) or {})
        old.__doc__ = new.__doc__
        old.__dict__.clear()
        old.__dict__.update(new.__dict__)
        for old_cell, new_cell in zip(old.__closure__ or (), new.__closure__ or ()):
            try:
                value = new_cell.cell_contents
            except ValueError:  # an empty cell: the variable is not bound yet
                continue
            old_cell.cell_contents = value
    except (AttributeError, TypeError, ValueError) as exc:
        return describe(exc)
    return None


def _names(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def _layout_change(old: type, new: type) -> str | None:
    """Why instances of ``old`` cannot simply take ``new``'s code, or None when they can."""

    def spelled(cls: type) -> str:
        return f"{cls.__module__}.{cls.__qualname__}"

    if spelled(type(old)) != spelled(type(new)):
        return f"its metaclass changed ({spelled(type(old))} -> {spelled(type(new))})"
    if [spelled(b) for b in old.__bases__] != [spelled(b) for b in new.__bases__]:
        return "its base classes changed"
    checks = (
        ("__slots__", "its __slots__ changed", _names),
        ("__dataclass_fields__", "its dataclass fields changed", tuple),
        ("_fields", "its named-tuple fields changed", _names),
        ("__attrs_attrs__", "its attrs fields changed", lambda v: tuple(a.name for a in v)),
    )
    for attribute, reason, key in checks:
        before = vars(old).get(attribute, _MISSING)
        after = vars(new).get(attribute, _MISSING)
        if (before is _MISSING) != (after is _MISSING):
            return reason
        if before is _MISSING:
            continue
        try:
            if key(before) != key(after):
                return f"{reason} ({', '.join(_difference(key(before), key(after)))})"
        except (AttributeError, TypeError):
            continue
    return None


def _difference(before: tuple[Any, ...], after: tuple[Any, ...]) -> list[str]:
    added = [str(n) for n in after if n not in before]
    removed = [str(n) for n in before if n not in after]
    words = ([f"added {', '.join(added)}"] if added else []) + (
        [f"removed {', '.join(removed)}"] if removed else []
    )
    return words or ["reordered"]


class _Updater:
    def __init__(self, module: str) -> None:
        self.module = module
        self.updated: list[str] = []
        self.problems: list[str] = []
        self.seen: set[int] = set()

    def ours(self, old: object, new: object) -> bool:
        return (
            getattr(old, "__module__", None) == self.module
            and getattr(new, "__module__", None) == self.module
            and id(old) not in self.seen
        )

    def value(self, where: str, old: object, new: object, depth: int) -> bool:
        """Update ``old`` from ``new`` when both are functions or classes; False: not such."""
        if isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
            self.seen.add(id(old))
            problem = _update_function(old, new)
            if problem:
                self.problems.append(f"{where}: {problem}; objects holding it run the old code")
            return True
        if isinstance(old, type) and isinstance(new, type):
            self.seen.add(id(old))
            if depth > _DEPTH:
                return True
            self.klass(where, old, new, depth)
            return True
        wrapped_old = getattr(old, "__wrapped__", None)
        wrapped_new = getattr(new, "__wrapped__", None)
        if isinstance(wrapped_old, types.FunctionType) and isinstance(
            wrapped_new, types.FunctionType
        ):  # functools.lru_cache and other wrappers that are not functions themselves
            return self.value(where, wrapped_old, wrapped_new, depth)
        return False

    def klass(self, where: str, old: type, new: type, depth: int) -> None:
        change = _layout_change(old, new)
        if change is not None:
            self.problems.append(
                f"{where}: not updated, {change}; objects made before the edit keep the old "
                "class: make them again"
            )
            return
        import enum  # noqa: PLC0415 - loaded with the standard library anyway

        members_fixed = isinstance(old, enum.EnumMeta)  # members cannot be reassigned
        before = len(self.problems)
        old_vars, new_vars = dict(vars(old)), dict(vars(new))
        for name, new_value in new_vars.items():
            if name in _OWN or isinstance(new_value, _DESCRIPTORS):
                continue
            old_value = old_vars.get(name, _MISSING)
            if (
                not self._method(f"{where}.{name}", old_value, new_value, depth)
                and not members_fixed
            ):
                self._change(where, old, name, new_value)
        if not members_fixed:
            for name, old_value in old_vars.items():
                gone = name not in new_vars and name not in _OWN
                if gone and not isinstance(old_value, _DESCRIPTORS):
                    self._change(where, old, name, _MISSING)
        if len(self.problems) == before:
            self.updated.append(where)

    def _change(self, where: str, cls: type, name: str, value: object) -> None:
        """Set (or, given _MISSING, delete) one class attribute; a refusal is a problem."""
        try:
            if value is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value)
        except (AttributeError, TypeError) as exc:
            self.problems.append(f"{where}.{name}: {describe(exc)}")

    def _method(self, where: str, old: object, new: object, depth: int) -> bool:
        """Patch a method (plain, class or static) or a nested class in place."""
        if isinstance(old, (classmethod, staticmethod)) and type(old) is type(new):
            old, new = old.__func__, new.__func__
        if not self.ours(old, new):
            return False
        before = len(self.problems)
        handled = self.value(where, old, new, depth + 1)
        if handled and isinstance(old, type):
            return True
        return handled and len(self.problems) == before


def update_module(old: types.ModuleType, new: types.ModuleType) -> InPlace:
    """Update ``old``'s functions and classes from ``new``, then its globals; never raises."""
    name = getattr(new, "__name__", "")
    updater = _Updater(name)
    try:
        old_vars, new_vars = vars(old), dict(vars(new))
        for attr, old_value in list(old_vars.items()):
            new_value = new_vars.get(attr, _MISSING)
            if attr.startswith("__") or new_value is _MISSING:
                continue
            if not updater.ours(old_value, new_value):
                continue
            before = len(updater.problems)
            if (
                updater.value(f"{name}.{attr}", old_value, new_value, 0)
                and not isinstance(old_value, type)
                and len(updater.problems) == before
            ):
                updater.updated.append(f"{name}.{attr}")
        old_vars.update({k: v for k, v in new_vars.items() if not k.startswith("__")})
    except Exception as exc:  # noqa: BLE001 - reported: reset() never stops half-way
        updater.problems.append(f"{name}: {describe(exc)}")
    return InPlace(tuple(updater.updated), tuple(updater.problems))
