"""Which notebook names were bound by import statements, read from the cells IPython ran.

``reset()`` may point a notebook name at the fresh code only when the notebook bound that name
with an import: ``import m``, ``import m as x``, ``from m import a, b as c``, ``from m import *``.
A name bound any other way (``model = train.fit()``, a ``for`` target, ``def``, ``del``, a
``global`` statement inside a function) is the user's, whatever object it holds: it may be the
trained model that ``train.model`` also points to.

IPython keeps every cell it ran, transformed into plain Python, in its input history (``In``),
in the order they ran. :func:`analyse` reads those cells with :mod:`ast`, statement by statement,
and follows where each name may have been bound last:

- a statement that surely runs replaces what was known of the names it binds;
- branches (``if``, ``try``/``except``, loops that may not run, ``match`` cases) are alternatives:
  afterwards a name may hold what any of them bound, and a name is import-bound only if *every*
  alternative bound it by an import. ``try: from m import f`` / ``except ImportError: f = None``
  is therefore not import-bound (``reset()`` updates the old ``f`` in place instead);
- imports inside a function bind its locals, not the notebook's, and are ignored; a name a
  function declares ``global`` may be rebound by any call of it, so it counts as the user's.

A cell that does not parse (a syntax error, or nesting too deep for the parser) never ran, since
IPython parses a cell the same way before it runs it, and is skipped. A cell too large to read
(over ``MAX_CELL`` characters) makes the whole analysis unknown: the caller then rebinds module
names only.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

__all__ = ["MAX_CELL", "OTHER", "Analysis", "Source", "analyse"]

#: Characters of one cell read at most: a larger cell makes the analysis unknown.
MAX_CELL = 1_000_000


class Source(NamedTuple):
    """What an import bound a name to: ``module`` itself (``attr`` None) or ``module.attr``."""

    module: str
    attr: str | None


#: A binding made by any statement other than an import.
OTHER = Source("", None)

_State = dict[str, frozenset[Source]]


class Analysis(NamedTuple):
    """Where each notebook name may have been bound last, and the modules star-imported.

    ``complete`` False: a cell could not be read, so nothing can be said of any name.
    """

    names: dict[str, frozenset[Source]]
    stars: tuple[str, ...]
    complete: bool

    def imports(self, name: str) -> frozenset[Source]:
        """The imports that may have bound ``name`` last; empty unless every binding was one."""
        sources = self.names.get(name, frozenset())
        return frozenset() if OTHER in sources else sources

    def by_other_statement(self, name: str) -> bool:
        """``name`` was (or may have been) bound by something else than an import."""
        return OTHER in self.names.get(name, frozenset())


def _merge(*states: _State) -> _State:
    merged: dict[str, frozenset[Source]] = {}
    for state in states:
        for name, sources in state.items():
            merged[name] = merged.get(name, frozenset()) | sources
    return merged


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _stored(node: ast.AST) -> Iterator[str]:
    """Names an expression or simple statement binds in the notebook's scope.

    Iterative, so a cell of any depth the parser accepted is read without recursion.
    """
    stack: list[tuple[ast.AST, bool]] = [(node, False)]  # (node, inside a comprehension)
    while stack:
        current, comprehension = stack.pop()
        if isinstance(current, ast.NamedExpr) and isinstance(current.target, ast.Name):
            yield current.target.id  # binds the enclosing scope, even from a comprehension
        elif isinstance(current, ast.Name):
            if not comprehension and isinstance(current.ctx, (ast.Store, ast.Del)):
                yield current.id
            continue
        if isinstance(current, _SCOPES):
            continue
        inner = comprehension or isinstance(current, _COMPREHENSIONS)
        stack.extend((child, inner) for child in ast.iter_child_nodes(current))


def _globals_declared(node: ast.AST) -> Iterator[str]:
    for inner in ast.walk(node):
        if isinstance(inner, ast.Global):
            yield from inner.names


def _pattern_names(pattern: ast.AST) -> Iterator[str]:
    for node in ast.walk(pattern):
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if isinstance(name, str):
            yield name


class _Reader:
    """Follows one cell's statements over the state left by the cells before it."""

    def __init__(self, star_names: Callable[[str], Iterable[str] | None]) -> None:
        self.star_names = star_names
        self.stars: list[str] = []

    def block(self, body: list[ast.stmt], state: _State) -> _State:
        for statement in body:
            state = self.statement(statement, state)
        return state

    def statement(self, node: ast.stmt, state: _State) -> _State:  # noqa: PLR0911 - one case per kind
        if isinstance(node, ast.Import):
            return self._import(node, state)
        if isinstance(node, ast.ImportFrom):
            return self._import_from(node, state)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return _bound(state, [node.name, *_globals_declared(node)])
        if isinstance(node, ast.If):
            return _merge(self.block(node.body, dict(state)), self.block(node.orelse, dict(state)))
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            start = state
            if not isinstance(node, ast.While):
                start = _bound(state, _stored(node.target))
            looped = _merge(state, self.block(node.body, dict(start)))
            return self.block(node.orelse, looped)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            names = [n for item in node.items for n in _stored(item)]
            return self.block(node.body, _bound(state, names))
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            return self._try(node, state)
        if type(node).__name__ == "Match":
            cases = [
                self.block(case.body, _bound(state, _pattern_names(case.pattern)))
                for case in getattr(node, "cases", ())
            ]
            return _merge(state, *cases)
        return _bound(state, _stored(node))

    def _import(self, node: ast.Import, state: _State) -> _State:
        state = dict(state)
        for alias in node.names:
            if alias.asname:
                state[alias.asname] = frozenset({Source(alias.name, None)})
            else:
                top = alias.name.split(".", 1)[0]
                state[top] = frozenset({Source(top, None)})
        return state

    def _import_from(self, node: ast.ImportFrom, state: _State) -> _State:
        module = node.module or ""
        if node.level:  # relative: fails in a notebook cell, and binds nothing of a project
            return _bound(state, [a.asname or a.name for a in node.names if a.name != "*"])
        state = dict(state)
        for alias in node.names:
            if alias.name != "*":
                state[alias.asname or alias.name] = frozenset({Source(module, alias.name)})
                continue
            names = self.star_names(module)
            if names is None:  # not imported now: none of its names is a project's
                continue
            self.stars.append(module)
            for name in names:
                state[name] = frozenset({Source(module, name)})
        return state

    def _try(self, node: ast.stmt, state: _State) -> _State:
        body = self.block(getattr(node, "body", []), dict(state))
        partial = _merge(state, body)  # an exception may stop the body anywhere
        handlers = [
            self.block(handler.body, _bound(partial, [handler.name] if handler.name else []))
            for handler in getattr(node, "handlers", [])
        ]
        done = _merge(self.block(getattr(node, "orelse", []), body), *handlers)
        return self.block(getattr(node, "finalbody", []), done)


def _bound(state: _State, names: Iterable[str]) -> _State:
    """``state`` with ``names`` bound by a statement other than an import."""
    changed = dict(state)
    for name in names:
        changed[name] = frozenset({OTHER})
    return changed


def analyse(cells: Iterable[object], star_names: Callable[[str], Iterable[str] | None]) -> Analysis:
    """Follow ``cells`` (in the order they ran) and say how each notebook name was bound last.

    ``star_names(module)`` gives the names ``from module import *`` bound (the module's public
    names), or None when the module is not loaded (then it cannot be a project module).
    """
    reader = _Reader(star_names)
    state: _State = {}
    for cell in cells:
        if not isinstance(cell, str) or not cell.strip():
            continue
        if len(cell) > MAX_CELL:
            return Analysis({}, (), complete=False)
        try:
            tree = ast.parse(cell)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue  # IPython parses a cell the same way before running it: this one never ran
        try:
            state = reader.block(tree.body, state)
        except RecursionError:  # nesting deeper than the interpreter can follow
            return Analysis({}, (), complete=False)
    return Analysis(state, tuple(dict.fromkeys(reader.stars)), complete=True)
