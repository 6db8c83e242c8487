"""mutation/score.py: which survivors are wording, and which mutants --modules runs.

Wording survivors by rule: prose only, on lines that decide nothing.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from conftest import TESTS


def _score() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("score", TESTS.parent / "mutation" / "score.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["score"] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


SCORE = _score()


def _diff(old: str, new: str) -> str:
    return f"--- a.py\n+++ a.py\n@@ -1,3 +1,3 @@\n def f():\n-{old}\n+{new}\n     return x"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            '    raise ValueError("the folder is missing")',
            '    raise ValueError("XXthe folder is missingXX")',
        ),
        ('    print("Drive is not mounted")', '    print("drive is not mounted")'),
        ('    hint = ("Run the cell " "again")', '    hint = ("XXRun the cell XX" "again")'),
    ],
)
def test_prose_changed_on_a_line_that_decides_nothing_is_wording(old: str, new: str) -> None:
    assert SCORE.wording_by_rule(_diff(old, new))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a decision reads the text: a comparison, a membership test, a prefix check
        (
            '    if "credential propagation" in text:',
            '    if "XXcredential propagationXX" in text:',
        ),
        ('    ok = name == "My Drive"', '    ok = name == "XXMy DriveXX"'),
        ('    ok = line.startswith("a b")', '    ok = line.startswith("XXa bXX")'),
        # no space: a name, a mode, a path part, not prose
        ('    path = root / "MyDrive"', '    path = root / "XXMyDriveXX"'),
        ('    handle = open(path, "xb")', '    handle = open(path, "XXxbXX")'),
        # code changed beside the text
        ('    raise ValueError("a b")', '    raise TypeError("a b")'),
        ("    return None", '    return ""'),
    ],
)
def test_anything_else_is_no_wording(old: str, new: str) -> None:
    assert not SCORE.wording_by_rule(_diff(old, new))


def test_a_mutant_of_several_lines_is_wording_only_if_every_line_is() -> None:
    diff = _diff('    a = "one two"\n-    b = 1', '    a = "XXone twoXX"\n+    b = 2')
    assert not SCORE.wording_by_rule(diff)


def test_words_inside_the_text_are_no_decision() -> None:
    """'match' or 'in' inside the message itself decides nothing."""
    old = '    raise OSError(errno.EIO, "the copy does not match the one in the trash", path)'
    assert SCORE.wording_by_rule(_diff(old, old.replace('"the', '"XXthe').replace('h",', 'hXX",')))


@pytest.mark.parametrize(
    "new",
    [
        '    _log.info(None, "created project folder %s", folder)',
        '    _log.info(__name__, "created project folder %s", )',
        '    _log.info("created project folder %s", folder)',
    ],
)
def test_the_arguments_of_a_one_line_log_call_are_wording(new: str) -> None:
    old = '    _log.info(__name__, "created project folder %s", folder)'
    assert SCORE.wording_by_rule(_diff(old, new))


def test_a_log_call_turned_into_something_else_is_no_wording() -> None:
    old = '    _log.info(__name__, "created project folder %s", folder)'
    assert not SCORE.wording_by_rule(_diff(old, "    pass"))
    assert not SCORE.wording_by_rule(
        _diff('    _log.info(__name__, "x %s",', '    _log.info(None, "x %s",')
    )


def test_modules_become_mutmut_name_patterns_and_an_unknown_one_is_refused() -> None:
    config = SCORE._mutmut_config()
    assert SCORE.mutmut_names(config, []) == []
    assert SCORE.mutmut_names(config, ["_colab", "_dedupe"]) == [
        "colab_bootstrap._colab.*",
        "colab_bootstrap._dedupe.*",
    ]
    with pytest.raises(SystemExit, match=r"not among .* only_mutate: _cli$"):
        SCORE.mutmut_names(config, ["_cli", "_colab"])


def test_only_patterns_and_modules_both_choose_mutants() -> None:
    key = "colab_bootstrap._dedupe.x__rename__mutmut_16"
    assert SCORE.chosen(key, "_dedupe", [], [])
    assert SCORE.chosen(key, "_dedupe", ["_dedupe"], [])
    assert not SCORE.chosen(key, "_dedupe", ["_colab"], [])
    assert SCORE.chosen(key, "_dedupe", ["_colab"], ["colab_bootstrap._dedupe.x__rename__*"])
    assert not SCORE.chosen(key, "_dedupe", [], ["colab_bootstrap._dedupe.x__renameat2__*"])
