"""reset(): what a user reads and what happens to the runtime, pinned against small code changes.

Which cell ``reset(hard=True)`` says to re-run (read from a real IPython shell's input history),
the restart itself (a subprocess on a fake Colab, killed by its own SIGKILL, even when its
output streams are broken), where ``remount=True`` remounts, how the report shows an empty list,
which rows it has and which it marks red, and a name two imports bound in turn.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import ResetReport
from colab_bootstrap._reset import ResetFailure, _setup_cell
from conftest import FakeColab, Namespace, edit, fresh_session, run, write

pytest.importorskip("IPython")

SETUP = "colab_bootstrap.setup('proj', gpu='ignore')"


@pytest.fixture
def proj(mydrive: Path) -> Path:
    folder = mydrive / "proj"
    write(folder, {"prep.py": "V = 1\n"})
    return folder


# ------------------------------------------------------------------ the setup cell to re-run


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # the setup cell, then other cells: the last cell that calls setup() is named
        (["import colab_bootstrap", SETUP, "x = 1"], f"In [2]:\n    {SETUP}"),
        # the setup cell is the latest cell (and runs no reset): it is the one
        (["import colab_bootstrap", "x = 1", SETUP], f"In [3]:\n    {SETUP}"),
        # a cell calling setup() then reset() is the running one: the first cell is named,
        # its lines indented under its number
        (
            [
                f"import colab_bootstrap\n{SETUP}",
                "import prep",
                f"{SETUP}\nr = colab_bootstrap.reset()",
            ],
            f"In [1]:\n    import colab_bootstrap\n    {SETUP}",
        ),
    ],
    ids=["earlier-cell", "latest-cell", "not-the-reset-cell"],
)
def test_the_setup_cell_is_read_from_the_input_history(
    proj: Path, notebook: Namespace, cells: list[str], expected: str
) -> None:
    """The restart warning names the cell to re-run by its number, with its code."""
    for code in cells:
        run(notebook, code)
    assert _setup_cell() == expected


def test_without_history_or_project_the_call_itself_is_named() -> None:
    """Outside IPython with nothing set up, the warning names colab_bootstrap.setup(...)."""
    assert _setup_cell() == "the cell that runs colab_bootstrap.setup(...)"


# ------------------------------------------------------------------ the restart (a subprocess)

#: A script on a (fake) Colab: nothing set up, so no Drive is needed; reset(hard=True) must
#: warn, then kill this very process. {break_stdout} replaces sys.stdout by a broken stream.
#: A thread stamps the time into a log while the process lives; the warning display stamps when
#: it has shown (one write each, O_APPEND: lines never mix with each other or with stderr).
HARD = """\
import os, sys, threading, time, warnings
import colab_bootstrap
{break_stdout}
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
show = warnings.showwarning
def shown(*args, **kwargs):
    show(*args, **kwargs)
    os.write(log, f"WARNED {{time.monotonic()}}\\n".encode())
warnings.showwarning = shown
def alive():
    while True:
        os.write(log, f"ALIVE {{time.monotonic()}}\\n".encode())
        time.sleep(0.05)
threading.Thread(target=alive, daemon=True).start()
colab_bootstrap.reset(hard=True)
print("SURVIVED", file=sys.stderr, flush=True)
"""
RESET_LINE = 1 + HARD.splitlines().index("colab_bootstrap.reset(hard=True)")

BROKEN_STDOUT = {  # one line each: RESET_LINE holds
    "working": "pass",
    "none": "sys.stdout = None",  # AttributeError on flush (pythonw, detached kernels)
    "closed": "sys.stdout.close()",  # ValueError on flush
    "full-disk": "sys.stdout = open('/dev/full', 'w'); print('pending')",  # OSError on flush
}


def _stamps(log: str, kind: str) -> list[float]:
    return [float(stamp) for stamp in re.findall(rf"^{kind} (\S+)$", log, re.MULTILINE)]


@pytest.mark.parametrize("stdout", list(BROKEN_STDOUT), ids=list(BROKEN_STDOUT))
def test_hard_reset_warns_then_kills_the_kernel(tmp_path: Path, stdout: str) -> None:
    """A ColabBootstrapWarning at the caller names what to re-run; then SIGKILL, promptly.

    The kill comes even when the kernel's stdout cannot be flushed (None, closed, disk full).
    """
    if stdout == "full-disk" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    script = tmp_path / "kernel.py"
    script.write_text(HARD.format(break_stdout=BROKEN_STDOUT[stdout]))
    env = {**os.environ, "COLAB_RELEASE_TAG": "release-colab-fake", "PYTHONWARNINGS": "default"}
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "stamps.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "SURVIVED" not in proc.stderr
    # the warning points at the caller's line, not into colab_bootstrap (nor past the caller)
    where = re.search(r"^(.*):(\d+): ColabBootstrapWarning: ", proc.stderr, re.MULTILINE)
    assert where is not None, proc.stderr
    file, line = where.group(1), int(where.group(2))
    assert os.path.isfile(file), where.group(0)
    assert Path(colab_bootstrap.__file__).parent not in Path(file).parents, where.group(0)
    if Path(file) == script:  # else a mutation-testing harness frame came in between
        assert line == RESET_LINE
    assert "re-run the setup cell, the cell that runs colab_bootstrap.setup(...)" in proc.stderr
    # about half a second for the warning to get out, then the kill: not seconds more
    stamps = (tmp_path / "stamps.log").read_text()
    (warned,) = _stamps(stamps, "WARNED")
    assert max(_stamps(stamps, "ALIVE")) - warned < 1.3, stamps


# ------------------------------------------------------------------ remount=True on (fake) Colab


def test_remount_remounts_where_drive_was_found_not_where_asked(fake_colab: FakeColab) -> None:
    """Drive mounted elsewhere by an earlier cell: setup() used it, so reset remounts it."""
    fake_colab.project("proj", {"prep.py": "V = 1\n"})
    other = fake_colab.content / "gdrive"
    fake_colab.mount_at(other)
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )

    report = colab_bootstrap.reset(remount=True)

    forced = [c["mountpoint"] for c in fake_colab.calls("mount") if c["force_remount"]]
    assert forced == [str(other)]
    assert report.remount == f"remounted Google Drive at {other}"


def test_remount_with_nothing_set_up_remounts_the_default_mountpoint(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """No project yet: remount=True still remounts Drive, where setup() would mount it."""
    fresh_session(tmp_path, mountpoint=str(fake_colab.mountpoint))

    report = colab_bootstrap.reset(remount=True)

    forced = [c["mountpoint"] for c in fake_colab.calls("mount") if c["force_remount"]]
    assert forced == [str(fake_colab.mountpoint)]
    assert report.remount == f"remounted Google Drive at {fake_colab.mountpoint}"


# ------------------------------------------------------------------ the report


def _row_values(report: ResetReport) -> dict[str, list[str]]:
    """Each row label of str(report) -> its value lines (continuation lines included)."""
    rows: dict[str, list[str]] = {}
    current: list[str] = []
    for line in str(report).splitlines()[1:]:
        if line[2:3].strip():  # "  label   value"; a continuation line is indented further
            label, _, value = line.strip().partition("  ")
            current = rows.setdefault(label, [])
        else:
            value = line
        current.append(value.strip())
    return rows


def _html_rows(report: ResetReport) -> list[tuple[str, str]]:
    """(style, text) of each table row of the notebook view."""
    html = report._repr_html_()
    return [
        (style or "", re.sub(r"<[^>]+>", " ", cells))
        for style, cells in re.findall(r'<tr(?: style="([^"]*)")?>(.*?)</tr>', html)
    ]


def test_an_empty_list_reads_none_and_only_asked_rows_appear() -> None:
    """Nothing dropped reads "none", not "0: "; rows for what did not happen are left out."""
    report = ResetReport(remount="not asked")
    rows = _row_values(report)
    assert rows["dropped"] == ["none"]
    assert rows["names rebound"] == ["none"]
    assert rows["updated in place"] == ["none"]
    assert "Google Drive" not in rows  # Drive answered: no Drive row
    assert not {"names added", "names kept", "left as they are", "failed", "not updated"} & set(
        rows
    )


def test_kept_names_are_listed_one_per_line() -> None:
    """Each name reset() kept, with why, is a line of its own under "names kept"."""
    kept = ("f: old m.f (m failed to re-import)", "g: old m.g (no longer in m)")
    rows = _row_values(ResetReport(dropped=("m",), kept=kept))
    assert [line.strip() for line in rows["names kept"]] == list(kept)


def test_an_ok_report_marks_no_row() -> None:
    """A reset that went well has no row in red (no style at all) in the notebook."""
    report = ResetReport(
        dropped=("m",), reimported=("m",), rebound=("m",), updated=("m.f",), notes=("a note",)
    )
    assert report.ok
    assert [style for style, _ in _html_rows(report)] == [""] * len(report._rows())


@pytest.mark.parametrize(
    ("report", "red_text"),
    [
        (ResetReport(dropped=("m",), failed=(ResetFailure("m", "SyntaxError: boom"),)), "boom"),
        (ResetReport(dropped=("m",), not_updated=("m.Shape: its layout changed",)), "layout"),
        (ResetReport(lost="/content/drive/MyDrive/proj cannot be read"), "cannot be read"),
    ],
    ids=["failed", "not-updated", "drive-lost"],
)
def test_a_problem_row_is_red_and_only_it(report: ResetReport, red_text: str) -> None:
    """The row telling what went wrong is red in the notebook; the other rows are not."""
    rows = _html_rows(report)
    red = [text for style, text in rows if style]
    assert len(red) == 1, rows
    assert red_text in red[0]
    assert {style for style, _ in rows} == {"", "color:#b00"}


# ------------------------------------------------------------------ a name two imports bound


def test_a_name_either_import_may_have_bound_follows_the_one_that_did(
    mydrive: Path, notebook: Namespace
) -> None:
    """``if fast: from b import f`` / ``else: from a import f``: reset() rebinds f to fresh b.f."""
    folder = mydrive / "proj"
    write(
        folder,
        {
            "a.py": "def f():\n    return 'a'\n",
            "b.py": "import a\n\ndef f():\n    return 'b-old'\n",  # a is imported too
        },
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "fast = True\nif fast:\n    from b import f\nelse:\n    from a import f")
    edit(folder / "b.py", "b-old", "b-new")

    report = colab_bootstrap.reset()

    assert run(notebook, "f()") == "b-new"
    assert "f" in report.rebound
    assert report.ok


# ------------------------------------------------------------------ which names reset() lists

#: A module whose attributes are values CPython may share with a notebook's own equal values
#: (None, small ints, identifier-like strings, empty tuples) or not (anything else).
VALUES = """\
NONE = None
SMALL = 256
LOW = -5
ZERO = 0
BIG = 257
LOWER = -6
CHAR = "-"
WORD = "word"
TEXT = "two words"
BYTE = b"x"
BYTES = b"xy"
EMPTY = ()
PAIR = (1, 2)
NOTHING = frozenset()
"""


def _values_project(mydrive: Path, files: dict[str, str] | None = None) -> Path:
    folder = mydrive / "proj"
    write(folder, {"values.py": VALUES, **(files or {})})
    colab_bootstrap.setup("proj", gpu="ignore")
    return folder


def test_a_name_holding_a_value_python_shares_is_not_said_to_hold_project_code(
    mydrive: Path, notebook: Namespace
) -> None:
    """``n = 256`` could be the notebook's own 256: only unshareable values are listed as held.

    None, ints -5..256, one-character strings and bytes, identifier-like strings and empty
    tuples or frozensets are shared by CPython; 257, -6, "two words", b"xy" and (1, 2) are not.
    """
    _values_project(mydrive)
    names = [line.partition(" = ")[0] for line in VALUES.splitlines()]
    run(notebook, "import values\n" + "\n".join(f"{n.lower()} = values.{n}" for n in names))

    report = colab_bootstrap.reset()

    held = ("BIG", "LOWER", "TEXT", "BYTES", "PAIR")
    assert sorted(report.left) == sorted(f"{n.lower()} (holds values.{n})" for n in held)
    assert report.rebound == ("values",)


def test_a_module_held_by_an_assignment_is_listed_and_its_dunders_are_not(
    mydrive: Path, notebook: Namespace
) -> None:
    """``alias = values`` holds the old module: listed, never rebound.

    ``values.__file__`` is not project code: a name holding it is not listed.
    """
    _values_project(mydrive)
    run(notebook, "import values\nalias = values\nwhere = values.__file__")
    old = notebook["alias"]

    report = colab_bootstrap.reset()

    assert report.left == ("alias (holds values)",)
    assert notebook["alias"] is old
    assert report.rebound == ("values",)


def test_names_ipython_hides_are_never_listed(mydrive: Path, notebook: Namespace) -> None:
    """A name an extension pushed as hidden (``push(..., interactive=False)``) is not the user's."""
    _values_project(mydrive)
    run(notebook, "import values\nget_ipython().push({'helper': values.PAIR}, interactive=False)")

    report = colab_bootstrap.reset()

    assert report.left == ()
    assert report.ok


def test_outside_ipython_underscore_and_dunder_names_are_never_listed(
    mydrive: Path, main_module: Namespace
) -> None:
    """In plain Python, ``_`` (the throwaway name) and system ``__*__`` names are not listed."""
    _values_project(mydrive)
    run(main_module, "import values\n_ = values.PAIR\n__pair__ = values.PAIR\nmine = values.PAIR")

    report = colab_bootstrap.reset()

    assert report.left == ("mine (holds values.PAIR)",)
    assert report.rebound == ("values",)


def test_names_imported_from_other_modules_are_not_touched(
    mydrive: Path, notebook: Namespace
) -> None:
    """``import json`` / ``from json import dumps``: not project code, neither rebound nor kept.

    A star import of a module that is not installed (in a try) does not stop reset().
    """
    _values_project(mydrive)
    run(notebook, "import json\nfrom json import dumps\nimport values")
    run(notebook, "try:\n    from not_installed_anywhere import *\nexcept ImportError:\n    pass")
    stdlib_json = notebook["json"]

    report = colab_bootstrap.reset()

    assert report.kept == ()
    assert report.rebound == ("values",)
    assert notebook["json"] is stdlib_json
    assert notebook["dumps"] is stdlib_json.dumps
    assert report.ok


def test_a_later_star_import_of_another_module_owns_the_name(
    mydrive: Path, notebook: Namespace
) -> None:
    """``from helpers import *`` then ``from json import *``: ``dumps`` is json's, not rebound."""
    _values_project(mydrive, {"helpers.py": "from json import dumps\n\ndef tool():\n    pass\n"})
    run(notebook, "from helpers import *")
    run(notebook, "from json import *")

    report = colab_bootstrap.reset()

    assert "dumps" not in report.rebound
    assert "tool" in report.rebound


def test_a_submodule_its_package_deleted_is_import_bound(
    mydrive: Path, notebook: Namespace
) -> None:
    """``from pkg import sub`` where pkg's ``__init__`` ends with ``del sub`` (a tidy namespace).

    ``sub`` holds the module ``pkg.sub`` though ``pkg`` has no attribute ``sub``: reset() still
    knows an import bound it, so it is never listed as bound by the notebook's own statements.
    """
    folder = _values_project(
        mydrive,
        {
            "pkg/__init__.py": "from .sub import f\ndel sub\n",
            "pkg/sub.py": "def f():\n    return 'old'\n",
        },
    )
    run(notebook, "from pkg import sub")
    edit(folder / "pkg" / "sub.py", "old", "new")

    report = colab_bootstrap.reset()

    assert report.left == ()
    assert [n for n in report.rebound + report.kept if n.partition(":")[0] == "sub"], report
    assert run(notebook, "sub.f()") == "new"


def test_a_name_the_module_removed_while_re_importing_stays_removed(
    mydrive: Path, notebook: Namespace
) -> None:
    """A module whose import code deletes a notebook name: reset() does not put it back.

    The name held None (the module's ``X``) before the module's code removed it; names bound
    after it are still rebound.
    """
    _values_project(
        mydrive,
        {
            "cleaner.py": (
                "from IPython import get_ipython\nX = None\nget_ipython().user_ns.pop('X', None)\n"
            )
        },
    )
    run(notebook, "from cleaner import X")
    run(notebook, "import values")
    assert "X" in notebook

    report = colab_bootstrap.reset()

    assert "X" not in notebook
    assert report.rebound == ("values",)  # the names after it are rebound all the same
    assert report.ok


# ------------------------------------------------------------------ a namespace package shared
# with installed code: its parent packages are not the project's, so reset() keeps them


def _shared_namespace(mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``plugins.sub`` spans an installed folder and the project; ``plugins.sub.mod`` is ours."""
    write(tmp_path / "site", {"plugins/sub/other.py": "X = 1\n"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    folder = mydrive / "proj"
    write(
        folder,
        {
            "user.py": "from plugins.sub import mod\n",
            # mod and user import each other: user is done first, so it is re-imported first
            "plugins/sub/mod.py": "import user\n\ndef f():\n    return 'old'\n",
        },
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    return folder


def test_a_module_importing_from_a_shared_namespace_gets_the_fresh_submodule(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notebook: Namespace
) -> None:
    """``from plugins.sub import mod`` in a project module, re-imported first, gets the new mod.

    The old ``mod`` is taken off the (kept) ``plugins.sub`` package, so that import finds the
    fresh module rather than the dropped one.
    """
    folder = _shared_namespace(mydrive, tmp_path, monkeypatch)
    run(notebook, "import plugins.sub.mod\nimport user")
    edit(folder / "plugins" / "sub" / "mod.py", "old", "new")

    report = colab_bootstrap.reset()

    assert report.reimported == ("user", "plugins.sub.mod")
    assert run(notebook, "import sys\nuser.mod is sys.modules['plugins.sub.mod']") is True
    assert run(notebook, "import plugins.sub\nplugins.sub.mod is user.mod") is True


def test_a_failed_submodule_of_a_shared_namespace_stays_reachable(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notebook: Namespace
) -> None:
    """``plugins.sub.mod`` fails to re-import: ``plugins.sub.mod`` still reaches the old code."""
    folder = _shared_namespace(mydrive, tmp_path, monkeypatch)
    run(notebook, "import plugins.sub.mod")
    edit(folder / "plugins" / "sub" / "mod.py", "return 'old'", "return 'old'(")

    report = colab_bootstrap.reset()

    assert "plugins.sub.mod" in [f.module for f in report.failed]
    assert run(notebook, "plugins.sub.mod.f()") == "old"


# ------------------------------------------------------------------ what reset() re-imports


def test_a_module_its_package_already_re_imported_does_not_stop_the_rest(
    mydrive: Path, notebook: Namespace
) -> None:
    """``pkg`` imports ``pkg.sub`` itself; ``later`` comes after them and is re-imported too."""
    folder = mydrive / "proj"
    write(
        folder,
        {
            "pkg/__init__.py": "from . import sub\n",
            "pkg/sub.py": "V = 1\n",
            "later.py": "def f():\n    return 'old'\n",
        },
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import pkg\nimport later")
    edit(folder / "later.py", "old", "new")

    report = colab_bootstrap.reset()

    assert sorted(report.reimported) == ["later", "pkg", "pkg.sub"]
    assert run(notebook, "import sys\nlater is sys.modules['later'], later.f()") == (True, "new")


def test_every_module_s_functions_are_updated_and_every_problem_listed(
    mydrive: Path, notebook: Namespace
) -> None:
    """Two modules, each with a held function and a changed closure: all of both are reported.

    Both functions are updated in place; both closures are listed as not updated.
    """
    body = """\
        def f():
            return 'old'

        def make():
            a = 1
            def inner():
                return a
            return inner

        inner = make()
        """
    folder = mydrive / "proj"
    write(folder, {"one.py": body, "two.py": body})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import one, two\nheld = (one.f, two.f)")
    for name in ("one.py", "two.py"):
        edit(folder / name, "return 'old'", "return 'new'")
        edit(folder / name, "a = 1\n", "a, b = 1, 2\n")
        edit(folder / name, "return a\n", "return a + b\n")

    report = colab_bootstrap.reset()

    assert {"one.f", "two.f"} <= set(report.updated)
    assert sorted(p.partition(":")[0] for p in report.not_updated) == ["one.inner", "two.inner"]
    assert run(notebook, "held[0](), held[1]()") == ("new", "new")


# ------------------------------------------------------------------ how names are rebound


def test_a_module_imported_under_another_name_reads_name_equals_module(
    mydrive: Path, notebook: Namespace
) -> None:
    """``import values as v`` reads ``v=values`` under "names rebound"."""
    _values_project(mydrive)
    run(notebook, "import values as v")

    report = colab_bootstrap.reset()

    assert report.rebound == ("v=values",)


def test_a_star_import_adds_new_names_but_not_ones_the_notebook_deleted(
    mydrive: Path, notebook: Namespace
) -> None:
    """``from stars import *`` then ``del b``: reset() adds the module's new ``c``, not ``b``."""
    folder = mydrive / "proj"
    write(folder, {"stars.py": "def a():\n    pass\n\ndef b():\n    pass\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from stars import *")
    run(notebook, "del b")
    (folder / "stars.py").write_text("def a():\n    pass\n\ndef b():\n    pass\n\nc = 3\n")

    report = colab_bootstrap.reset()

    assert report.added == ("c",)
    assert notebook["c"] == 3
    assert "b" not in notebook
    assert report.rebound == ("a",)


def test_outside_ipython_every_name_holding_a_module_is_rebound_without_a_note(
    mydrive: Path, main_module: Namespace
) -> None:
    """Plain Python: each name holding a project module is rebound; no note about history."""
    _values_project(mydrive, {"helpers.py": "V = 1\n"})
    run(main_module, "x = 1\nimport values\nimport helpers")

    report = colab_bootstrap.reset()

    assert report.rebound == ("values", "helpers")
    assert report.notes == ()


def test_an_ipython_without_input_history_says_so(mydrive: Path, notebook: Namespace) -> None:
    """A shell keeping no input history: only module names are rebound, and a note says why."""
    from IPython import get_ipython

    _values_project(mydrive)
    run(notebook, "import values\nfrom values import PAIR")
    get_ipython().history_manager = None

    report = colab_bootstrap.reset()

    assert report.rebound == ("values",)
    assert report.notes == (
        "This IPython keeps no input history, so only names bound to project modules "
        "themselves were rebound.",
    )


@pytest.mark.parametrize("count", [20, 21])
def test_at_most_twenty_names_left_alone_are_listed(
    mydrive: Path, notebook: Namespace, count: int
) -> None:
    """Names bound by the notebook's own statements: 20 are listed, then "... and N more"."""
    _values_project(mydrive)
    run(notebook, "import values\n" + "\n".join(f"p{i:02} = values.PAIR" for i in range(count)))

    report = colab_bootstrap.reset()

    listed = tuple(f"p{i:02} (holds values.PAIR)" for i in range(20))
    assert report.left == listed + (("... and 1 more",) if count > 20 else ())


def test_a_star_imported_module_that_fails_does_not_stop_the_next_one_adding_names(
    mydrive: Path, notebook: Namespace
) -> None:
    """``from broken import *`` (now failing) then ``from stars import *``: c is still added."""
    folder = mydrive / "proj"
    write(folder, {"broken.py": "def x():\n    pass\n", "stars.py": "def a():\n    pass\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from broken import *\nfrom stars import *")
    (folder / "broken.py").write_text("def x(:\n")
    (folder / "stars.py").write_text("def a():\n    pass\n\nc = 3\n")

    report = colab_bootstrap.reset()

    assert [f.module for f in report.failed] == ["broken"]
    assert report.added == ("c",)
    assert notebook["c"] == 3


def test_reset_called_while_reset_runs_refuses_and_says_so(
    mydrive: Path, notebook: Namespace
) -> None:
    """reset() re-entered while no module is importing: refused, saying "reset() is running".

    Here a module's ``__getattr__``, asked by reset() for a star-imported name, calls reset();
    the outer reset() goes on and is not left "running".
    """
    folder = mydrive / "proj"
    write(folder, {"lazy.py": "__all__ = ['a']\na = 1\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from lazy import *")
    (folder / "lazy.py").write_text(
        "import colab_bootstrap\n"
        "__all__ = ['a', 'thing']\n"
        "a = 1\n"
        "SEEN = []\n"
        "def __getattr__(name):\n"
        "    if name != 'thing':\n"
        "        raise AttributeError(name)\n"
        "    try:\n"
        "        colab_bootstrap.reset()\n"
        "    except colab_bootstrap.ResetError as exc:\n"
        "        SEEN.append(str(exc))\n"
        "    return 42\n"
    )

    report = colab_bootstrap.reset()

    (seen,) = sys.modules["lazy"].SEEN
    assert seen.startswith("reset() was called while reset() is running: "), seen
    assert report.added == ("thing",)
    assert notebook["thing"] == 42
    assert colab_bootstrap.reset().ok  # and it is not left "running"


def test_a_module_that_keeps_its_first_self_is_not_said_to_be_re_imported(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notebook: Namespace
) -> None:
    """A "load me once" module puts its first module object back in sys.modules on import.

    reset() ran its file again but got the old module back: it is not listed as re-imported,
    and the notebook's name keeps that (only) module.
    """
    write(tmp_path / "site", {"registry.py": "MODULES = {}\n"})  # installed code, not a project
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    folder = mydrive / "proj"
    write(
        folder,
        {
            "once.py": (
                "import sys\n"
                "import registry\n"
                "if __name__ in registry.MODULES:\n"
                "    sys.modules[__name__] = registry.MODULES[__name__]\n"
                "else:\n"
                "    registry.MODULES[__name__] = sys.modules[__name__]\n"
            ),
            "other.py": "V = 1\n",
        },
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import once\nimport other")
    first = notebook["once"]

    report = colab_bootstrap.reset()

    assert report.dropped == ("once", "other")
    assert report.reimported == ("other",)
    assert "once" not in report.rebound
    assert notebook["once"] is first
