"""The package's shape: imports only go down, no cycle, no state outside the session record.

Read from the source with ``ast``, so it also sees imports inside functions and under
``TYPE_CHECKING``, which a runtime check would miss.
"""

from __future__ import annotations

import ast
from pathlib import Path

import colab_bootstrap

PACKAGE = Path(colab_bootstrap.__file__).parent

#: Every module, bottom first: a module may import only the modules before it.
ORDER = (
    "_version",
    "_errors",
    "_redact",
    "_render",
    "_files",
    "_log",
    "_ipython",
    "_scan",
    "_copies",
    "_probe",
    "_accelerator",
    "_project",
    "_session",  # the one record: everything above may read and change it
    "_colab",
    "_locate",
    "_gpu",
    "_importhook",
    "_stale",
    "_bindings",
    "_inplace",
    "_reset",
    "_requirements",
    "_update",
    "_winpaths",
    "_dedupe",
    "_setup",
    "_doctor",
    "_snippets",
    "_cli",
    "__main__",
    "__init__",
)

#: The methods that change a list, dict or set in place.
_MUTATORS = frozenset(
    {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear"}
    | {"add", "discard", "remove", "sort", "reverse"}
)
#: Calls that make an object whose whole point is to change.
_STATEFUL = frozenset(
    {"Lock", "RLock", "Event", "Condition", "WeakKeyDictionary", "WeakValueDictionary"}
)


def _tree(module: str, package: Path = PACKAGE) -> ast.Module:
    return ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))


def _imports(module: str) -> set[str]:
    """Modules of the package that ``module`` imports anywhere in its source."""
    found: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module is None:
                found.update(alias.name for alias in node.names)
            else:
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "colab_bootstrap."
        ):
            found.add((node.module or "").split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith("colab_bootstrap.")
            )
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in ``graph`` (module -> modules it imports), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_every_module_has_a_place_in_the_order() -> None:
    """A new module must be placed in ORDER, so its imports are checked too."""
    assert sorted(path.stem for path in PACKAGE.glob("*.py")) == sorted(ORDER)


def test_no_import_cycle_not_even_inside_functions() -> None:
    """The package's import graph (function-local and type-only imports too) has no cycle."""
    graph = {module: _imports(module) for module in ORDER}
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above can fail: a planted cycle is found and named."""
    assert _cycle({"_a": {"_b"}, "_b": {"_c"}, "_c": {"_a"}}) == ["_a", "_b", "_c", "_a"]
    assert _cycle({"_a": {"_b"}, "_b": set()}) is None


def test_no_module_imports_one_above_it() -> None:
    """Each module imports only modules below it in ORDER: data flows one way."""
    upward = [
        f"{module} imports {target}"
        for module in ORDER
        for target in sorted(_imports(module))
        if target in ORDER and ORDER.index(target) >= ORDER.index(module)
    ]
    assert upward == []


def _module_names(tree: ast.Module) -> set[str]:
    """Names a module binds at its top level by assignment (not by import or def)."""
    names: set[str] = set()
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, (ast.AnnAssign, ast.AugAssign))
            else []
        )
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _changes(node: ast.AST, own: set[str]) -> str | None:
    """What ``node`` does to the module's own globals, if anything."""
    if isinstance(node, ast.Global):
        return f"global {', '.join(node.names)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in own and node.func.attr in _MUTATORS:
            return f"{owner.id}.{node.func.attr}(...)"
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            base = getattr(target, "value", None)
            if isinstance(base, ast.Name) and base.id in own:
                return f"{base.id} changed in place"
            if isinstance(base, ast.Call) and getattr(base.func, "id", "") == "globals":
                return "globals() written"
    return None


def _memoised(node: ast.AST) -> str | None:
    """A function whose results are cached for the life of the process."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for decorator in map(ast.unparse, node.decorator_list):
            if "lru_cache" in decorator or decorator.endswith("cache"):
                return f"{node.name} is memoised with {decorator}"
    return None


def _stateful_at_import(node: ast.stmt) -> str | None:
    """A lock or a weak dictionary made at import: state by nature."""
    value = getattr(node, "value", None)
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return f"{called}() at import" if called in _STATEFUL else None


def _state_kept(module: str, package: Path = PACKAGE) -> list[str]:
    """Where ``module`` keeps state of its own: globals it changes, caches, locks."""
    tree = _tree(module, package)
    own = _module_names(tree)
    found = [
        f"{module}.py:{getattr(node, 'lineno', '?')}: {what}"
        for node in ast.walk(tree)
        if (what := _changes(node, own) or _memoised(node))
    ]
    found += [
        f"{module}.py:{node.lineno}: {what}"
        for node in tree.body
        if (what := _stateful_at_import(node))
    ]
    return found


def test_no_state_outside_the_session_record() -> None:
    """Only _session keeps what calls share; no other module changes its own globals."""
    kept = {module: _state_kept(module) for module in ORDER if module != "_session"}
    # PEP 562: the package's __getattr__ stores each public name once resolved, so the next
    # access is a plain attribute; the value never changes afterwards.
    lazy = kept.pop("__init__")
    assert len(lazy) == 1
    assert lazy[0].endswith(": globals() written")
    assert {module: found for module, found in kept.items() if found} == {}


def test_the_state_finder_finds_state(tmp_path: Path) -> None:
    """The check above can fail: each kind of module-level state is found."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import functools, threading\n"
        "_cache = {}\n"
        "_items = []\n"
        "_lock = threading.Lock()\n"
        "def f():\n"
        "    global _seen\n"
        "    _cache['x'] = 1\n"
        "    _items.append(2)\n"
        "@functools.lru_cache\n"
        "def g():\n"
        "    return 1\n"
    )
    found = _state_kept("planted", tmp_path)
    assert len(found) == 5, found


def test_dir_lists_the_public_names_only() -> None:
    """dir(colab_bootstrap) is __all__: no private modules, no helpers."""
    assert dir(colab_bootstrap) == sorted(colab_bootstrap.__all__)
    assert colab_bootstrap.__all__ == sorted(colab_bootstrap.__all__)
