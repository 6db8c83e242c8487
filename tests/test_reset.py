"""reset() as a guest: it rebinds only names imports bound, and updates old objects in place.

Every test runs cells in a real IPython shell (``notebook``), which keeps them in its input
history as a notebook does; edits are real file writes with an older mtime (a late Drive sync).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import ResetError
from colab_bootstrap._bindings import MAX_CELL, Analysis, analyse
from conftest import Namespace, edit, run, write

pytest.importorskip("IPython")

TRAIN = """
model = None

def fit():
    global model
    model = {"weights": [0.1, 0.2], "epochs": 40}
    return model
"""


@pytest.fixture
def proj(mydrive: Path) -> Path:
    folder = mydrive / "proj"
    write(
        folder,
        {
            "train.py": TRAIN,
            "config.py": """
                CONFIG = {"lr": 0.01}
                def load():
                    return CONFIG
                """,
            "tools.py": """
                __all__ = ["f", "g", "Shape"]
                def f():
                    return "f-old"
                def g():
                    return "g-old"
                class Shape:
                    def __init__(self, side):
                        self.side = side
                    def area(self):
                        return ("old", self.side ** 2)
                """,
        },
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    return folder


def test_a_trained_model_is_never_overwritten(proj: Path, notebook: Namespace) -> None:
    """The issue's repro: names bound by assignment keep their objects, whatever they are."""
    run(notebook, "import train")
    run(notebook, "model = train.fit()")
    run(notebook, "my_copy = model")
    trained = notebook["model"]
    edit(proj / "train.py", "0.1, 0.2", "0.3, 0.4")

    report = colab_bootstrap.reset()

    assert notebook["model"] is trained
    assert notebook["my_copy"] is trained
    assert report.rebound == ("train",)
    assert run(notebook, "train.model") is None  # the fresh module, as its file says
    assert "model (holds train.model)" in report.left
    assert "my_copy (holds train.model)" in report.left
    assert "left as they are" in str(report)


def test_a_value_returned_by_a_project_function_is_kept(proj: Path, notebook: Namespace) -> None:
    """``cfg = config.load()`` is the user's, though it is config.CONFIG itself."""
    run(notebook, "import config\ncfg = config.load()\ncfg['lr'] = 0.5")
    edit(proj / "config.py", "0.01", "0.02")
    report = colab_bootstrap.reset()
    assert run(notebook, "cfg, config.CONFIG") == ({"lr": 0.5}, {"lr": 0.02})
    assert report.rebound == ("config",)


def test_from_import_names_are_rebound(proj: Path, notebook: Namespace) -> None:
    """``from m import f`` and ``from m import f as h`` point at the new code."""
    run(notebook, "from tools import f, g as h")
    edit(proj / "tools.py", "f-old", "f-new")
    edit(proj / "tools.py", "g-old", "g-new")
    report = colab_bootstrap.reset()
    assert run(notebook, "f(), h()") == ("f-new", "g-new")
    assert run(notebook, "import tools\nf is tools.f and h is tools.g") is True
    assert set(report.rebound) == {"f", "h=tools.g"}


def test_star_import_names_are_rebound(proj: Path, notebook: Namespace) -> None:
    """``from m import *`` names point at the new objects, not only the added ones."""
    run(notebook, "from tools import *")
    edit(proj / "tools.py", "f-old", "f-new")
    report = colab_bootstrap.reset()
    assert run(notebook, "import tools\nf(), f is tools.f, Shape is tools.Shape") == (
        "f-new",
        True,
        True,
    )
    assert {"f", "g", "Shape"} <= set(report.rebound)


def test_a_name_shadowed_after_a_star_import_is_left_alone(proj: Path, notebook: Namespace) -> None:
    """``from m import *`` then ``g = ...``: g is the user's; the other names are rebound."""
    run(notebook, "from tools import *")
    run(notebook, "g = lambda: 'mine'")
    edit(proj / "tools.py", "f-old", "f-new")
    report = colab_bootstrap.reset()
    assert run(notebook, "f(), g()") == ("f-new", "mine")
    assert "g" not in report.rebound
    assert "f" in report.rebound


def test_imports_inside_functions_and_try_blocks(proj: Path, notebook: Namespace) -> None:
    """An import in a function binds nothing of the notebook's; one in a ``try:`` does."""
    run(
        notebook,
        """
        def use():
            from tools import f
            return f()
        try:
            from tools import g
        except ImportError:
            pass
        """,
    )
    run(notebook, "f = 'a string of mine'")
    edit(proj / "tools.py", "f-old", "f-new")
    edit(proj / "tools.py", "g-old", "g-new")
    report = colab_bootstrap.reset()
    assert run(notebook, "use(), f, g()") == ("f-new", "a string of mine", "g-new")
    assert "g" in report.rebound
    assert "f" not in report.rebound
    assert run(notebook, "import tools\ng is tools.g") is True


def test_a_try_with_a_fallback_assignment_is_updated_in_place_not_rebound(
    proj: Path, notebook: Namespace
) -> None:
    """``try: from m import f / except: f = None`` may be the user's: the old f is patched."""
    run(notebook, "try:\n    from tools import f\nexcept ImportError:\n    f = None")
    old_f = notebook["f"]
    edit(proj / "tools.py", "f-old", "f-new")
    report = colab_bootstrap.reset()
    assert notebook["f"] is old_f
    assert run(notebook, "f()") == "f-new"
    assert "f" not in report.rebound
    assert "tools.f" in report.updated


def test_a_global_statement_makes_the_name_the_users(proj: Path, notebook: Namespace) -> None:
    """A name a notebook function declares ``global`` may hold anything: never rebound."""
    run(notebook, "import train\nfrom train import model")
    run(notebook, "def retrain():\n    global model\n    model = train.fit()\nretrain()")
    trained = notebook["model"]
    edit(proj / "train.py", "0.1, 0.2", "0.3, 0.4")
    report = colab_bootstrap.reset()
    assert notebook["model"] is trained
    assert "model" not in report.rebound


def test_outside_ipython_only_module_names_are_rebound(proj: Path, main_module: Namespace) -> None:
    """Without IPython's history nothing says how a name was bound, except holding a module."""
    run(main_module, "import tools\nfrom tools import f")
    old_f = main_module["f"]
    edit(proj / "tools.py", "f-old", "f-new")
    report = colab_bootstrap.reset()
    assert report.rebound == ("tools",)
    assert main_module["f"] is old_f
    assert main_module["f"]() == "f-new"  # updated in place all the same


def test_an_instance_made_before_the_edit_runs_the_new_method(
    proj: Path, notebook: Namespace
) -> None:
    """Old objects run the edited methods: the class is updated in place."""
    run(notebook, "from tools import Shape\nsquare = Shape(3)\narea = square.area")
    edit(proj / "tools.py", '("old", self.side ** 2)', '("new", self.side * 4)')
    report = colab_bootstrap.reset()
    assert run(notebook, "square.area(), area()") == (("new", 12), ("new", 12))
    assert "tools.Shape" in report.updated
    assert run(notebook, "Shape(2).area()") == ("new", 8)


def test_a_function_captured_before_the_edit_runs_the_new_body(
    proj: Path, notebook: Namespace
) -> None:
    """A function object held in a list (a callback) runs the edited body."""
    run(notebook, "from tools import f\ncallbacks = [f]")
    edit(proj / "tools.py", "f-old", "f-new")
    report = colab_bootstrap.reset()
    assert run(notebook, "callbacks[0]()") == "f-new"
    assert "tools.f" in report.updated


def test_decorated_functions_follow_through_their_closure(
    mydrive: Path, notebook: Namespace
) -> None:
    """A ``functools.wraps`` wrapper taken before the edit calls the edited function."""
    write(
        mydrive / "deco",
        {
            "wrapped.py": """
                import functools
                def logged(fn):
                    @functools.wraps(fn)
                    def wrapper(*args):
                        return ("logged", fn(*args))
                    return wrapper
                @logged
                def step():
                    return "old"
                """
        },
    )
    colab_bootstrap.setup("deco", gpu="ignore")
    run(notebook, "import wrapped\nheld = [wrapped.step]")
    edit(mydrive / "deco" / "wrapped.py", 'return "old"', 'return "new"')
    colab_bootstrap.reset()
    assert run(notebook, "held[0]()") == ("logged", "new")


def test_a_dataclass_gaining_a_field_is_reported_not_half_patched(
    mydrive: Path, notebook: Namespace
) -> None:
    """A class whose layout changed is listed with why, and left exactly as it was."""
    write(
        mydrive / "dc",
        {
            "cfgs.py": """
                from dataclasses import dataclass
                @dataclass
                class Cfg:
                    lr: float
                    def describe(self):
                        return "old"
                """
        },
    )
    colab_bootstrap.setup("dc", gpu="ignore")
    run(notebook, "from cfgs import Cfg\nc = Cfg(0.1)")
    old_class = notebook["Cfg"]
    edit(mydrive / "dc" / "cfgs.py", "    lr: float\n", "    lr: float\n    bs: int = 64\n")
    edit(mydrive / "dc" / "cfgs.py", 'return "old"', 'return "new"')
    report = colab_bootstrap.reset()

    [problem] = report.not_updated
    assert problem.startswith("cfgs.Cfg: not updated, its dataclass fields changed (added bs)")
    assert "make them again" in problem
    assert run(notebook, "c.describe(), repr(c)") == ("old", "Cfg(lr=0.1)")
    assert list(old_class.__dataclass_fields__) == ["lr"]
    assert run(notebook, "Cfg(0.2).describe(), Cfg(0.2).bs") == ("new", 64)
    assert "not updated" in report._repr_html_()


def test_a_changed_closure_is_reported(mydrive: Path, notebook: Namespace) -> None:
    """A function whose free variables changed cannot take the new code: said, not guessed."""
    write(
        mydrive / "cl",
        {
            "clos.py": """
                def make():
                    a = 1
                    def inner():
                        return a
                    return inner
                inner = make()
                """
        },
    )
    colab_bootstrap.setup("cl", gpu="ignore")
    run(notebook, "from clos import inner\nheld = inner")
    edit(
        mydrive / "cl" / "clos.py",
        "    a = 1\n    def inner():\n        return a",
        "    a, b = 1, 2\n    def inner():\n        return a + b",
    )
    report = colab_bootstrap.reset()
    assert any(p.startswith("clos.inner: its closure changed") for p in report.not_updated)
    assert run(notebook, "held(), inner()") == (1, 3)


def test_a_module_getattr_that_raises_does_not_stop_reset(
    mydrive: Path, notebook: Namespace
) -> None:
    """A removed name behind a module ``__getattr__`` raising ImportError: reported, per name."""
    write(mydrive / "lz", {"lazy.py": "__all__ = ['kept', 'gone']\nkept = 1\ngone = 2\n"})
    write(mydrive / "lz", {"other.py": "def value():\n    return 'old'\n"})
    colab_bootstrap.setup("lz", gpu="ignore")
    run(notebook, "from lazy import *\nfrom other import value")
    (mydrive / "lz" / "lazy.py").write_text(
        "__all__ = ['kept', 'gone']\nkept = 10\n"
        "def __getattr__(name):\n    raise ImportError(f'{name} was removed')\n"
    )
    edit(mydrive / "lz" / "other.py", "'old'", "'new'")

    report = colab_bootstrap.reset()

    assert run(notebook, "kept, gone, value()") == (10, 2, "new")
    assert "gone: old lazy.gone (no longer in lazy)" in report.kept
    assert {"kept", "value"} <= set(report.rebound)


def test_reset_called_while_a_project_module_is_imported_refuses(
    mydrive: Path, notebook: Namespace
) -> None:
    """A module that calls reset() at import time gets a clear error, not a recursion."""
    write(mydrive / "rc", {"selfreset.py": "import colab_bootstrap\ncolab_bootstrap.reset()\n"})
    write(mydrive / "rc", {"plain.py": "X = 'old'\n"})
    colab_bootstrap.setup("rc", gpu="ignore")
    with pytest.raises(ResetError, match="selfreset is being imported"):
        run(notebook, "import selfreset")
    run(notebook, "import plain")
    calls_reset = "import colab_bootstrap\ncolab_bootstrap.reset()"
    edit(mydrive / "rc" / "plain.py", "X = 'old'", calls_reset)

    report = colab_bootstrap.reset()  # re-importing plain calls reset() again: refused, reported

    [failure] = report.failed
    assert failure.module == "plain"
    assert "ResetError: reset() was called while" in failure.error
    assert run(notebook, "plain.X") == "old"
    assert colab_bootstrap.reset().failed  # the session is not left "resetting"


def _nothing_loaded(module: str) -> None:
    """``star_names`` for the analysis alone: no module is loaded."""


def test_analysis_follows_branches_and_scopes() -> None:
    """The reader of cells: alternatives, loops, comprehensions, del, match, oversize cells."""
    cells = [
        "import a.b.c\nimport a.b as ab\nfrom m import x, y as z",
        "if cond:\n    from m import p\nelse:\n    from m import q as p",
        "for i in range(3):\n    from m import loop",
        "[w := 1 for k in range(2)]\nkeep = [k for k in range(2)]",
        "del y2\nfrom m import gone\ndel gone",
        "with open('f') as handle:\n    from m import inner",
        "def f():\n    from m import local\n    return local",
        "this is not python",
        "x = " + "-" * 100_000 + "1",  # too deep for the parser: IPython could not run it
        "while cond:\n    from m import spin\nelse:\n    from m import after",
        "from .rel import r\nfrom unloaded import *",
        "class K:\n    from m import inside\n    def method(self):\n        global gl",
    ]
    result = analyse(cells, _nothing_loaded)
    assert result.complete
    assert result.imports("a") == {("a", None)}
    assert result.imports("ab") == {("a.b", None)}
    assert result.imports("x") == {("m", "x")}
    assert result.imports("z") == {("m", "y")}
    assert result.imports("p") == {("m", "p"), ("m", "q")}
    assert result.imports("loop") == {("m", "loop")}
    assert result.imports("inner") == {("m", "inner")}
    assert result.imports("spin") == {("m", "spin")}
    assert result.imports("after") == {("m", "after")}
    for name in ("w", "keep", "gone", "handle", "f", "i", "r", "K", "gl"):
        assert not result.imports(name), name
        assert result.by_other_statement(name), name
    for name in ("k", "local", "inside"):
        assert name not in result.names, name
    assert result.stars == ()
    assert not analyse(["x = 1", "y" * (MAX_CELL + 1)], _nothing_loaded).complete


@pytest.mark.skipif(sys.version_info < (3, 10), reason="match statements are Python 3.10+")
def test_analysis_follows_match_cases() -> None:
    """Each case is an alternative; names its pattern captures are the user's."""
    cell = (
        "match value:\n"
        "    case {'k': captured, **rest}:\n"
        "        from m import a\n"
        "    case [first, *others]:\n"
        "        from m import a\n"
        "    case _:\n"
        "        pass"
    )
    result = _bindings_of([cell])
    assert result.imports("a") == {("m", "a")}
    for name in ("captured", "rest", "first", "others"):
        assert result.by_other_statement(name), name


def _bindings_of(cells: list[str]) -> Analysis:
    return analyse(cells, _nothing_loaded)


def test_an_unreadable_history_falls_back_to_module_names(proj: Path, notebook: Namespace) -> None:
    """A cell too large to read: only module names are rebound, and the report says why."""
    run(notebook, "import tools\nfrom tools import f")
    run(notebook, f"big = {'x' * (MAX_CELL + 10)!r}")
    edit(proj / "tools.py", "f-old", "f-new")
    report = colab_bootstrap.reset()
    assert report.rebound == ("tools",)
    assert any("cell is too large to read (over 1,000,000 characters)" in n for n in report.notes)
    assert run(notebook, "f()") == "f-new"
