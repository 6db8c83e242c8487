"""Updating an old module's functions and classes in place: each kind, and what is refused.

Each test runs a module's source twice, as ``reset()`` does (the old module, then the fresh one
from the edited file), and checks what objects made from the old one do afterwards.
"""

from __future__ import annotations

import textwrap
import types

from colab_bootstrap._inplace import update_module


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("edited")
    exec(compile(textwrap.dedent(source), "edited.py", "exec"), vars(module))  # noqa: S102
    return module


def _edit(old_source: str, new_source: str) -> tuple[types.ModuleType, types.ModuleType]:
    return _module(old_source), _module(new_source)


def test_methods_of_every_kind_are_updated_and_removed_ones_go() -> None:
    old, new = _edit(
        """
        class C:
            '''old doc'''
            size = 1
            def plain(self):
                return "old"
            @classmethod
            def klass(cls):
                return "old"
            @staticmethod
            def static():
                return "old"
            @property
            def prop(self):
                return "old"
            def removed(self):
                return "old"
            class Inner:
                def value(self):
                    return "old"
        """,
        """
        class C:
            '''new doc'''
            size = 2
            def plain(self):
                return "new"
            @classmethod
            def klass(cls):
                return "new"
            @staticmethod
            def static():
                return "new"
            @property
            def prop(self):
                return "new"
            def added(self):
                return "new"
            class Inner:
                def value(self):
                    return "new"
        """,
    )
    klass = old.C
    instance, inner = klass(), klass.Inner()
    bound = instance.plain
    result = update_module(old, new)
    assert result.updated == ("edited.C.Inner", "edited.C")
    assert result.not_updated == ()
    assert (bound(), instance.klass(), instance.static(), instance.prop) == ("new",) * 4
    assert (instance.added(), inner.value(), klass.size, klass.__doc__) == (
        "new",
        "new",
        2,
        "new doc",
    )
    assert not hasattr(instance, "removed")
    assert type(instance) is klass  # the old class object stays, updated
    assert klass is not new.C
    assert old.C is new.C  # the old module's globals take the new module's values


def test_a_function_gets_the_new_code_defaults_and_attributes() -> None:
    old, new = _edit(
        """
        SCALE = 1
        def f(x, y=1, *, z=1):
            '''old'''
            return ("old", x, y, z, SCALE)
        f.tag = "old"
        """,
        """
        SCALE = 10
        def helper():
            return "helper"
        def f(x, y=2, *, z=3):
            '''new'''
            return ("new", x, y, z, SCALE, helper())
        f.tag = "new"
        """,
    )
    held = [old.f]
    result = update_module(old, new)
    assert result.updated == ("edited.f",)
    assert held[0](0) == ("new", 0, 2, 3, 10, "helper")
    assert (held[0].__doc__, held[0].tag) == ("new", "new")


def test_a_cached_function_is_updated_through_its_wrapped_function() -> None:
    old, new = _edit(
        """
        import functools
        @functools.lru_cache(maxsize=None)
        def cached(x):
            return ("old", x)
        """,
        """
        import functools
        @functools.lru_cache(maxsize=None)
        def cached(x):
            return ("new", x)
        """,
    )
    held = old.cached.__wrapped__
    update_module(old, new)
    assert held(1) == ("new", 1)


def test_enum_methods_are_updated_and_members_are_left() -> None:
    old, new = _edit(
        """
        import enum
        class Color(enum.Enum):
            RED = 1
            def describe(self):
                return "old"
        """,
        """
        import enum
        class Color(enum.Enum):
            RED = 1
            GREEN = 2
            def describe(self):
                return "new"
        """,
    )
    color = old.Color
    red = color.RED
    result = update_module(old, new)
    assert result.not_updated == ()
    assert red.describe() == "new"
    assert red is color.RED
    assert "GREEN" not in color.__members__


def test_layout_changes_are_reported_and_the_class_is_left_whole() -> None:
    old, new = _edit(
        """
        import typing
        class Base: pass
        class Other: pass
        class Slotted:
            __slots__ = ("a",)
            def m(self):
                return "old"
        class Derived(Base):
            def m(self):
                return "old"
        class Pair(typing.NamedTuple):
            a: int
            def m(self):
                return "old"
        class Meta(type): pass
        class WithMeta(metaclass=Meta):
            def m(self):
                return "old"
        """,
        """
        import typing
        class Base: pass
        class Other: pass
        class Slotted:
            __slots__ = ("a", "b")
            def m(self):
                return "new"
        class Derived(Other):
            def m(self):
                return "new"
        class Pair(typing.NamedTuple):
            b: int
            def m(self):
                return "new"
        class Meta2(type): pass
        class WithMeta(metaclass=Meta2):
            def m(self):
                return "new"
        """,
    )
    objects = [old.Slotted(), old.Derived(), old.Pair(1), old.WithMeta()]
    result = update_module(old, new)
    reasons = {problem.split(":")[0]: problem for problem in result.not_updated}
    assert "its __slots__ changed (added b)" in reasons["edited.Slotted"]
    assert "its base classes changed" in reasons["edited.Derived"]
    assert "its named-tuple fields changed (added b, removed a)" in reasons["edited.Pair"]
    assert "its metaclass changed (edited.Meta -> edited.Meta2)" in reasons["edited.WithMeta"]
    assert [o.m() for o in objects] == ["old"] * 4
    assert "edited.Base" in result.updated


def test_a_function_whose_closure_changed_keeps_its_old_code() -> None:
    old, new = _edit(
        """
        def make():
            a = 1
            def inner():
                return a
            return inner
        inner = make()
        """,
        """
        def make():
            a, b = 1, 2
            def inner():
                return a + b
            return inner
        inner = make()
        """,
    )
    held = old.inner
    result = update_module(old, new)
    [problem] = result.not_updated
    assert problem.startswith("edited.inner: its closure changed")
    assert held() == 1


def test_objects_from_other_modules_and_aliases_are_left_alone() -> None:
    """Only what the module defines is touched, each object once however many names it has."""
    old, new = _edit(
        "import os.path\nfrom os.path import join\ndef f():\n    return 'old'\nalias = f\n",
        "import os.path\nfrom os.path import join\ndef f():\n    return 'new'\nalias = f\n",
    )
    join = old.join
    result = update_module(old, new)
    assert result.updated == ("edited.f",)
    assert old.alias() == "new"
    assert join("a", "b") == "a/b"
