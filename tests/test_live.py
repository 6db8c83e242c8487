"""stale() and reset(): real files, real imports, a real IPython shell, a fake Colab kill."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import runpy
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import colab_bootstrap
from colab_bootstrap import DriveMountError, NotOnColabError, ResetReport, StaleModule
from colab_bootstrap._importhook import _ProjectFinder
from colab_bootstrap._reset import _setup_cell
from conftest import IPYTHON_PRELUDE, FakeColab, Namespace, edit, run, write

pytest.importorskip("IPython")


@pytest.fixture(autouse=True)
def _cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte-code caches of these tests go to tmp_path, never to the real home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def reasons(found: list[StaleModule]) -> set[tuple[str, str]]:
    return {(s.name, s.reason) for s in found}


@pytest.fixture
def proj(mydrive: Path) -> Path:
    """A project with a module that imports another, a package and a namespace package."""
    folder = mydrive / "proj"
    write(
        folder,
        {
            "preprocessing.py": """
                from helpers import helper
                def greet():
                    return "old"
                class Thing:
                    kind = "old"
                """,
            "helpers.py": "def helper():\n    return 'h-old'\n",
            "pkg/__init__.py": "from . import mod\n",
            "pkg/mod.py": "def value():\n    return 1\n",
            "nspkg/inner.py": "NAME = 'old'\n",
        },
    )
    return folder


def test_same_size_edit_with_older_mtime_is_stale_and_reset_runs_it(
    proj: Path, notebook: Namespace
) -> None:
    """An edit that keeps the size and has an older mtime is found by content and reset loads it."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing\nfrom preprocessing import greet, Thing")
    assert colab_bootstrap.stale() == []
    size = (proj / "preprocessing.py").stat().st_size
    edit(proj / "preprocessing.py", '"old"', '"new"')
    assert (proj / "preprocessing.py").stat().st_size == size

    assert reasons(colab_bootstrap.stale()) == {("preprocessing", "changed")}
    report = colab_bootstrap.reset()

    assert run(notebook, "greet(), Thing.kind, preprocessing.greet()") == ("new", "new", "new")
    assert {"preprocessing", "greet", "Thing"} <= set(report.rebound)
    assert report.ok
    assert colab_bootstrap.stale() == []


def test_packages_and_submodules_are_dropped_and_rebound(proj: Path, notebook: Namespace) -> None:
    """`import pkg.mod`, `import pkg.mod as m`, `from pkg.mod import value` all see the edit."""
    import linecache

    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import pkg.mod\nimport pkg.mod as m\nfrom pkg.mod import value")
    mod_file = str(proj / "pkg" / "mod.py")
    assert linecache.getline(mod_file, 2).strip() == "return 1"
    edit(proj / "pkg" / "mod.py", "return 1", "return 2")

    report = colab_bootstrap.reset()

    assert run(notebook, "pkg.mod.value(), m.value(), value()") == (2, 2, 2)
    assert run(notebook, "import sys\nsys.modules['pkg'].mod is m")
    assert {"pkg", "pkg.mod"} <= set(report.dropped) & set(report.reimported)
    assert linecache.getline(mod_file, 2).strip() == "return 2"


def test_module_importing_another_project_module_gets_the_fresh_one(
    proj: Path, notebook: Namespace
) -> None:
    """After reset, a project module's own imports of project modules are fresh too."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing")
    edit(proj / "helpers.py", "h-old", "h-new")

    colab_bootstrap.reset()

    assert run(notebook, "preprocessing.helper()") == "h-new"
    assert run(notebook, "import helpers\npreprocessing.helper is helpers.helper")


def test_namespace_package_in_the_project_is_reset(proj: Path, notebook: Namespace) -> None:
    """A folder without __init__.py is dropped and its modules re-imported like any other."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import nspkg.inner\nfrom nspkg.inner import NAME")
    edit(proj / "nspkg" / "inner.py", "'old'", "'new'")

    report = colab_bootstrap.reset()

    assert {"nspkg", "nspkg.inner"} <= set(report.dropped)
    assert run(notebook, "NAME, nspkg.inner.NAME") == ("new", "new")


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ("def greet(:\n    return 'x'\n", "SyntaxError"),
        ("raise RuntimeError('half-synced file')\n", "RuntimeError: half-synced file"),
    ],
)
def test_failed_reimport_is_reported_and_old_names_keep_working(
    proj: Path, notebook: Namespace, broken: str, error: str
) -> None:
    """A module broken mid-edit is listed with its error; the rest is fresh; old names still run."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing\nfrom preprocessing import greet\nimport pkg.mod as m")
    old_module = sys.modules["preprocessing"]
    (proj / "preprocessing.py").write_text(broken)
    edit(proj / "pkg" / "mod.py", "return 1", "return 2")

    report = colab_bootstrap.reset()

    assert not report.ok
    assert [f.module for f in report.failed] == ["preprocessing"]
    assert error in report.failed[0].error
    assert run(notebook, "greet(), preprocessing.greet(), m.value()") == ("old", "old", 2)
    assert sys.modules["preprocessing"] is old_module
    assert any(k.startswith("greet: old preprocessing.greet") for k in report.kept)
    assert ("preprocessing", "changed") in reasons(colab_bootstrap.stale())
    assert "failed" in str(report)

    (proj / "preprocessing.py").write_text("def greet():\n    return 'fixed'\n")
    assert colab_bootstrap.reset().ok
    assert run(notebook, "greet()") == "fixed"


def test_failed_submodule_stays_reachable_from_its_fresh_package(
    mydrive: Path, notebook: Namespace
) -> None:
    """When only pkg.sub fails, the fresh pkg still offers the old pkg.sub to `pkg.sub.f()`."""
    write(
        mydrive / "proj",
        {"pkg/__init__.py": "V = 'old'\n", "pkg/sub.py": "def f():\n    return 1\n"},
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import pkg.sub")
    edit(mydrive / "proj" / "pkg" / "__init__.py", "old", "new")
    (mydrive / "proj" / "pkg" / "sub.py").write_text("def f(:\n")

    report = colab_bootstrap.reset()

    assert [f.module for f in report.failed] == ["pkg.sub"]
    assert run(notebook, "pkg.V, pkg.sub.f()") == ("new", 1)


def test_unreadable_file_is_reported_with_the_reason(proj: Path, notebook: Namespace) -> None:
    """A module file that cannot be read (here: replaced by a folder) is "unreadable", with why."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers")
    (proj / "helpers.py").unlink()
    (proj / "helpers.py").mkdir()

    [found] = colab_bootstrap.stale()

    assert (found.name, found.reason) == ("helpers", "unreadable")
    assert found.detail.startswith("IsADirectoryError: ")
    assert "remount" not in found.detail  # not a Drive connection problem


def test_deleted_file_is_stale_and_reset_keeps_the_old_code(
    proj: Path, notebook: Namespace
) -> None:
    """A deleted module file shows as "deleted"; reset lists it as failed and keeps its names."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from helpers import helper")
    (proj / "helpers.py").unlink()

    [found] = colab_bootstrap.stale()
    assert (found.name, found.reason, found.file) == ("helpers", "deleted", proj / "helpers.py")
    report = colab_bootstrap.reset()

    assert [f.module for f in report.failed] == ["helpers"]
    assert "ModuleNotFoundError" in report.failed[0].error
    assert run(notebook, "helper()") == "h-old"


def test_newer_drive_copy_is_reported_with_its_path(proj: Path, notebook: Namespace) -> None:
    """`helpers (1).py` newer than `helpers.py` is reported; an older copy is not."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing\nimport pkg")
    newer = proj / "helpers (1).py"
    newer.write_text("def helper():\n    return 'h-copy'\n")
    older = proj / "pkg" / "__init__ (2).py"
    older.write_text("")
    stamp = (proj / "pkg" / "__init__.py").stat().st_mtime_ns
    os.utime(older, ns=(stamp, stamp - 10**9))
    (proj / "unrelated (1).py").write_text("")

    found = colab_bootstrap.stale()

    assert found == [StaleModule("helpers", proj / "helpers.py", "newer copy", str(newer))]
    assert str(newer) in str(found[0])


def test_a_copy_of_a_copy_counts_as_a_copy(proj: Path, notebook: Namespace) -> None:
    """`helpers (1) (1).py` (a copy of a copy, as dedupe() groups it) is a newer copy too."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers")
    (proj / "helpers (1).py").write_text((proj / "helpers.py").read_text())
    newer = proj / "helpers (1) (1).py"
    newer.write_text("def helper():\n    return 'h-copy-of-copy'\n")
    later = (proj / "helpers.py").stat().st_mtime_ns + 10**9
    os.utime(newer, ns=(later, later))
    assert colab_bootstrap.stale() == [
        StaleModule("helpers", proj / "helpers.py", "newer copy", str(newer))
    ]
    assert [g.group.plain for g in colab_bootstrap.dedupe(proj).groups] == ["helpers.py"]


def test_names_the_user_rebound_are_left_alone(mydrive: Path, notebook: Namespace) -> None:
    """Rebound names stay; a user value equal to a module constant is not mistaken for it."""
    write(mydrive / "proj", {"config.py": "N = 3\ndef lr():\n    return 0.1\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(
        notebook,
        """
        import config
        from config import N, lr
        from config import lr as rate
        M = 3
        lr = lambda: 'mine'
        config = 'not a module any more'
        import json
        from os import path
        """,
    )
    json_module = notebook["json"]
    edit(mydrive / "proj" / "config.py", "N = 3", "N = 4")
    edit(mydrive / "proj" / "config.py", "0.1", "0.2")

    report = colab_bootstrap.reset()

    assert run(notebook, "N, M, lr(), rate(), config") == (
        4,
        3,
        "mine",
        0.2,
        "not a module any more",
    )
    assert notebook["json"] is json_module
    assert notebook["path"] is os.path
    assert set(report.rebound) == {"N", "rate=config.lr"}


def test_star_import_gains_new_names_without_overwriting_the_users(
    proj: Path, notebook: Namespace
) -> None:
    """After `from m import *`, names added to m appear; a name the user owns is not replaced."""
    write(proj, {"listed.py": "__all__ = ['a']\na = 1\nb = 2\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from preprocessing import *\nfarewell = 'mine'\nfrom listed import *")
    with (proj / "preprocessing.py").open("a") as file:
        file.write("def farewell():\n    return 'bye'\ndef shout():\n    return 'HEY'\n")
    (proj / "listed.py").write_text("__all__ = ['a', 'c']\na = 1\nb = 2\nc = 3\n")

    report = colab_bootstrap.reset()

    assert run(notebook, "shout(), farewell, c") == ("HEY", "mine", 3)
    assert "b" not in notebook
    assert report.added == ("shout", "c")
    assert "names added       2: shout, c" in str(report)


def test_names_holding_objects_an_in_place_reload_replaced_are_rebound(
    proj: Path, notebook: Namespace
) -> None:
    """After an in-place reload (IPython 7's autoreload), the notebook's old objects still count."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from preprocessing import *\nfrom preprocessing import greet as hello")
    module = sys.modules["preprocessing"]
    importlib.reload(module)  # what autoreload does: new objects in the module, old ones kept
    assert notebook["greet"] is not module.greet
    edit(proj / "preprocessing.py", '"old"', '"new"')

    report = colab_bootstrap.reset()

    assert run(notebook, "greet(), hello(), Thing.kind") == ("new", "new", "new")
    assert {"greet", "hello=preprocessing.greet", "Thing"} <= set(report.rebound)


def test_function_removed_from_the_file_keeps_its_old_binding(
    proj: Path, notebook: Namespace
) -> None:
    """A name whose function was deleted from the file stays bound, and the report says why."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from preprocessing import greet, Thing")
    (proj / "preprocessing.py").write_text("class Thing:\n    kind = 'new'\n")

    report = colab_bootstrap.reset()

    assert run(notebook, "greet(), Thing.kind") == ("old", "new")
    assert report.kept == ("greet: old preprocessing.greet (no longer in preprocessing)",)


def test_two_projects_are_both_watched(mydrive: Path, notebook: Namespace) -> None:
    """Modules of every set-up project are checked and reset."""
    write(mydrive / "a", {"mod_a.py": "V = 'a-old'\n"})
    write(mydrive / "b", {"mod_b.py": "V = 'b-old'\n"})
    colab_bootstrap.setup("a", gpu="ignore")
    colab_bootstrap.setup("b", gpu="ignore")
    run(notebook, "from mod_a import V as A\nfrom mod_b import V as B")
    edit(mydrive / "a" / "mod_a.py", "old", "new")
    edit(mydrive / "b" / "mod_b.py", "old", "new")

    assert reasons(colab_bootstrap.stale()) == {("mod_a", "changed"), ("mod_b", "changed")}
    report = colab_bootstrap.reset()

    assert set(report.dropped) == {"mod_a", "mod_b"}
    assert run(notebook, "A, B") == ("a-new", "b-new")


def test_modules_outside_the_projects_are_never_dropped(proj: Path, notebook: Namespace) -> None:
    """Only the project's modules leave sys.modules: stdlib and site-packages keep their objects."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing, pkg.mod, nspkg.inner, json, email.mime.text")
    project = {"preprocessing", "helpers", "pkg", "pkg.mod", "nspkg", "nspkg.inner"}
    outside = {name: module for name, module in sys.modules.items() if name not in project}

    report = colab_bootstrap.reset()

    assert len(report.dropped) == len(project)
    assert set(report.dropped) == project
    assert sum(1 for name in sys.modules if name not in project) == len(outside)
    assert all(sys.modules[name] is module for name, module in outside.items())
    assert colab_bootstrap.reset().dropped == report.dropped  # re-running is safe


def test_link_real_path_and_other_spellings_all_count(
    mydrive: Path, tmp_path: Path, notebook: Namespace
) -> None:
    """Modules imported through the link, the real folder or another symlink are all watched."""
    write(mydrive / "proj", {"via_link.py": "V = 'old'\n", "via_real.py": "V = 'old'\n"})
    write(mydrive / "proj", {"via_alias.py": "V = 'old'\n"})
    project = colab_bootstrap.setup("proj", gpu="ignore", content_dir=tmp_path / "content")
    alias = tmp_path / "My Drive alias"
    alias.symlink_to(mydrive)
    assert project.link is not None
    sys.path.append(str(mydrive / "proj"))
    run(notebook, "import via_link")
    sys.path.remove(str(project.link))
    sys.path.insert(0, str(alias / "proj"))
    run(notebook, "import via_alias")
    sys.path.insert(0, str(mydrive / "proj"))
    run(notebook, "import via_real")
    assert notebook["via_link"].__file__ == str(project.link / "via_link.py")
    assert notebook["via_alias"].__file__ == str(alias / "proj" / "via_alias.py")
    assert notebook["via_real"].__file__ == str(mydrive / "proj" / "via_real.py")
    for name in ("via_link", "via_real", "via_alias"):
        edit(mydrive / "proj" / f"{name}.py", "old", "new")

    assert reasons(colab_bootstrap.stale()) == {
        ("via_link", "changed"),
        ("via_real", "changed"),
        ("via_alias", "changed"),
    }
    colab_bootstrap.reset()
    assert run(notebook, "via_link.V, via_real.V, via_alias.V") == ("new", "new", "new")


def test_module_imported_before_setup_is_watched_from_setup_on(
    mydrive: Path, notebook: Namespace
) -> None:
    """A project module imported before setup() is compared with its file as setup() saw it."""
    write(mydrive / "proj", {"early.py": "V = 'old'\n"})
    sys.path.insert(0, str(mydrive / "proj"))
    run(notebook, "import early")
    colab_bootstrap.setup("proj", gpu="ignore")
    assert colab_bootstrap.stale() == []
    edit(mydrive / "proj" / "early.py", "old", "new")

    [found] = colab_bootstrap.stale()
    assert (found.name, found.reason) == ("early", "changed")
    assert "since setup() ran" in found.detail
    colab_bootstrap.reset()
    assert run(notebook, "early.V") == "new"
    assert colab_bootstrap.stale() == []


def test_other_folders_keep_the_standard_finder(tmp_path: Path, mydrive: Path) -> None:
    """A folder outside the projects gets Python's own finder, and its modules are not recorded."""
    write(mydrive / "proj", {"inside.py": ""})
    write(tmp_path / "elsewhere", {"outside_mod.py": "V = 1\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    sys.path.append(str(tmp_path / "elsewhere"))
    import inside  # type: ignore[import-not-found]
    import outside_mod  # type: ignore[import-not-found]

    assert isinstance(sys.path_importer_cache[str(mydrive / "proj")], _ProjectFinder)
    assert type(sys.path_importer_cache[str(tmp_path / "elsewhere")]).__name__ == "FileFinder"
    assert type(outside_mod.__loader__).__name__ == "SourceFileLoader"
    assert type(inside.__loader__).__name__ == "_RecordingLoader"
    (tmp_path / "elsewhere" / "outside_mod.py").write_text("V = 2\n")
    assert colab_bootstrap.stale() == []
    assert colab_bootstrap.reset().dropped == ("inside",)


def test_cached_bytecode_is_checked_by_content(
    mydrive: Path, notebook: Namespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The .pyc written for a project module is reused, and ignored once the source changes."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    write(mydrive / "proj", {"cached.py": "V = 'old'\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import cached")
    [pyc] = (tmp_path / "cache").rglob("cached*.pyc")
    assert pyc.read_bytes()[4:8] == b"\x03\x00\x00\x00"  # PEP 552: hash-based, checked
    written = pyc.stat().st_mtime_ns
    os.utime(pyc, ns=(written - 10**9, written - 10**9))
    colab_bootstrap.reset()
    assert pyc.stat().st_mtime_ns == written - 10**9  # reused, not rewritten

    edit(mydrive / "proj" / "cached.py", "old", "new")
    colab_bootstrap.reset()
    assert run(notebook, "cached.V") == "new"

    pyc.write_bytes(pyc.read_bytes()[:20])  # truncated cache: compiled again
    colab_bootstrap.reset()
    assert run(notebook, "cached.V") == "new"
    assert len(pyc.read_bytes()) > 20


def test_report_shows_as_text_and_html(proj: Path, notebook: Namespace) -> None:
    """The report names what was dropped, re-imported, rebound and failed, in text and HTML."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "from preprocessing import greet\nimport helpers")
    (proj / "helpers.py").write_text("def helper(:\n")

    report = colab_bootstrap.reset()

    assert isinstance(report, ResetReport)
    text = str(report)
    assert text.startswith("colab_bootstrap: reset() re-imported 0 modules; 2 failed")
    assert "dropped           2: helpers, preprocessing" in text
    assert "helpers: SyntaxError" in text
    html = report._repr_html_()
    assert html.startswith("<table")
    assert 'style="color:#b00"' in html
    assert "helpers: SyntaxError: invalid syntax (helpers.py, line 1)" in html


def test_without_setup_reset_says_so_and_stale_is_empty(notebook: Namespace) -> None:
    """Before setup() there is nothing to check or reset, and the report says what to do."""
    assert colab_bootstrap.stale() == []
    report = colab_bootstrap.reset()
    assert report.dropped == ()
    assert "call colab_bootstrap.setup() first" in str(report)


def test_hard_reset_off_colab_is_refused_and_changes_nothing(
    proj: Path, notebook: Namespace
) -> None:
    """reset(hard=True) off Colab raises NotOnColabError; this process and its modules survive."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing")
    module = sys.modules["preprocessing"]
    with pytest.raises(NotOnColabError, match=r"nothing was killed.*reset\(\)"):
        colab_bootstrap.reset(hard=True)
    assert sys.modules["preprocessing"] is module


def test_remount_off_colab_is_a_stated_no_op(proj: Path, notebook: Namespace) -> None:
    """Off Colab remount=True only resets modules, and the report says the remount was skipped."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing")
    report = colab_bootstrap.reset(remount=True)
    assert report.remount.startswith("skipped: not on Colab")
    assert report.dropped


def test_remount_on_colab_force_remounts_then_resets(
    fake_colab: FakeColab, notebook: Namespace
) -> None:
    """On Colab remount=True force-remounts Drive at setup()'s mountpoint, then resets."""
    folder = fake_colab.project("proj", {"prep.py": "V = 'old'\n"})
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    run(notebook, "from prep import V")
    edit(folder / "prep.py", "old", "new")

    report = colab_bootstrap.reset(remount=True)

    mounts = fake_colab.calls("mount")
    assert mounts[-1] == {**mounts[-1], "force_remount": True}
    assert report.remount == f"remounted Google Drive at {fake_colab.mountpoint}"
    assert run(notebook, "V") == "new"


def test_failed_remount_raises_and_drops_nothing(
    fake_colab: FakeColab, notebook: Namespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remount failure raises DriveMountError naming the fix; every module stays as it was."""
    fake_colab.project("proj", {"prep.py": "V = 'old'\n"})
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    run(notebook, "import prep")
    module = sys.modules["prep"]
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", "failed")

    with pytest.raises(DriveMountError) as info:
        colab_bootstrap.reset(remount=True)

    assert "mount failed" in str(info.value)
    assert "Disconnect and delete runtime" in str(info.value)
    assert "stopped before dropping any module" in str(info.value)
    assert sys.modules["prep"] is module


def test_restart_message_names_the_setup_call_outside_ipython(mydrive: Path) -> None:
    """Without IPython history, the restart warning names the setup() call to re-run."""
    (mydrive / "proj").mkdir()
    colab_bootstrap.setup("proj", gpu="ignore")
    assert _setup_cell() == "the cell that runs colab_bootstrap.setup('proj')"


def test_library_prints_nothing(proj: Path, notebook: Namespace, capsys: Any) -> None:
    """stale() and reset() write nothing to stdout or stderr."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import preprocessing")
    edit(proj / "preprocessing.py", "old", "new")
    colab_bootstrap.stale()
    colab_bootstrap.reset()
    assert capsys.readouterr() == ("", "")


def test_importing_the_library_installs_no_hook(tmp_path: Path) -> None:
    """`import colab_bootstrap` leaves sys.path_hooks alone; setup() adds one hook, once."""
    (tmp_path / "drive" / "p").mkdir(parents=True)
    code = textwrap.dedent(
        f"""
        import sys
        hooks = len(sys.path_hooks)
        import colab_bootstrap
        print(len(sys.path_hooks) - hooks)
        for _ in range(2):
            colab_bootstrap.setup("p", drive_dir={str(tmp_path / "drive")!r}, gpu="ignore")
        print(len(sys.path_hooks) - hooks)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.split() == ["0", "1"]


def test_a_deleted_module_with_a_drive_copy_left_names_the_copy(
    proj: Path, notebook: Namespace
) -> None:
    """The module file is gone but 'helpers (1).py' is there: deleted, and the copy is named."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers")
    (proj / "helpers (1).py").write_text("def helper():\n    return 'h-copy'\n")
    (proj / "helpers.py").unlink()
    found = colab_bootstrap.stale()
    assert reasons(found) == {("helpers", "deleted"), ("helpers", "newer copy")}
    assert str(proj / "helpers (1).py") in "\n".join(map(str, found))


def test_a_deleted_package_folder_is_reported_not_raised(proj: Path, notebook: Namespace) -> None:
    """The whole folder of a package vanished (Drive sync): its modules are 'deleted'."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import pkg.mod")
    shutil.rmtree(proj / "pkg")
    assert reasons(colab_bootstrap.stale()) == {("pkg", "deleted"), ("pkg.mod", "deleted")}


def test_of_several_drive_copies_the_newest_is_named(proj: Path, notebook: Namespace) -> None:
    """Whatever order the folder lists them in, the newest of several copies is reported."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers")
    copies = [f"helpers ({n}).py" for n in range(1, 5)]
    for name in copies:
        (proj / name).write_text("def helper():\n    return 'h-copy'\n")
    listed = [name for name in os.listdir(proj) if name in copies]
    stamp = (proj / "helpers.py").stat().st_mtime_ns
    for age, name in enumerate(listed):  # the first listed is the newest
        os.utime(proj / name, ns=(stamp, stamp + (10 - age) * 10**9))
    assert colab_bootstrap.stale() == [
        StaleModule("helpers", proj / "helpers.py", "newer copy", str(proj / listed[0]))
    ]


def test_loading_a_project_module_by_hand_never_marks_the_imported_one_fresh(
    proj: Path, notebook: Namespace
) -> None:
    """Recipes that run a module's file without importing it (importlib) record nothing."""
    colab_bootstrap.setup("proj", gpu="ignore")
    spec = importlib.util.find_spec("helpers")  # not imported yet: a copy, never registered
    assert spec is not None
    assert spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert "helpers" not in sys.modules
    run(notebook, "import helpers")
    edit(proj / "helpers.py", "h-old", "h-new")
    spec = importlib.machinery.PathFinder.find_spec("helpers", [str(proj)])
    assert spec is not None
    assert spec.loader is not None
    second = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(second)  # a second copy, of the edited file
    assert second.helper() == "h-new"
    assert reasons(colab_bootstrap.stale()) == {("helpers", "changed")}
    assert runpy.run_module("helpers")["helper"]() == "h-new"  # runs the file, imports nothing
    assert reasons(colab_bootstrap.stale()) == {("helpers", "changed")}


def test_a_reload_that_fails_leaves_the_module_stale(proj: Path, notebook: Namespace) -> None:
    """importlib.reload (what autoreload does) of a file that raises keeps it reported."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers")
    edit(proj / "helpers.py", "def helper", "raise RuntimeError('half-synced')\ndef helper")
    with pytest.raises(RuntimeError, match="half-synced"):
        importlib.reload(sys.modules["helpers"])
    assert reasons(colab_bootstrap.stale()) == {("helpers", "changed")}


def test_setting_up_another_project_keeps_edits_visible(
    proj: Path, mydrive: Path, notebook: Namespace
) -> None:
    """A later setup() (another project) does not re-record loaded modules as they are now."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers")
    edit(proj / "helpers.py", "h-old", "h-new")
    (mydrive / "other").mkdir()
    colab_bootstrap.setup("other", gpu="ignore")
    [found] = colab_bootstrap.stale()
    assert (found.name, found.reason) == ("helpers", "changed")
    assert "since it was imported" in found.detail


def test_a_script_in_the_project_is_not_one_of_its_modules(mydrive: Path, tmp_path: Path) -> None:
    """`python proj/train.py` calling setup(): the running script is never reported as stale."""
    (mydrive / "proj").mkdir()
    script = mydrive / "proj" / "train.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import colab_bootstrap
            colab_bootstrap.setup("proj", drive_dir={str(mydrive)!r}, gpu="ignore")
            with open(__file__, "a") as me:
                me.write("# edited while running\\n")
            print([str(found) for found in colab_bootstrap.stale()])
            """
        )
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_modules_imported_before_setup_that_are_gone_or_odd_are_skipped(
    mydrive: Path, notebook: Namespace
) -> None:
    """Before setup(): a module whose file was then deleted, one that replaced itself: no error."""
    write(
        mydrive / "proj",
        {
            "early_gone.py": "V = 1\n",
            "frozen_cfg.py": "import sys, types\nLR = 0.1\n"
            "sys.modules[__name__] = types.SimpleNamespace(**globals())\n",
        },
    )
    sys.path.insert(0, str(mydrive / "proj"))
    run(notebook, "import early_gone, frozen_cfg")
    (mydrive / "proj" / "early_gone.py").unlink()
    colab_bootstrap.setup("proj", gpu="ignore")
    assert colab_bootstrap.stale() == []
    assert run(notebook, "frozen_cfg.LR, early_gone.V") == (0.1, 1)


def test_an_old_module_the_notebook_still_holds_is_not_reported(
    proj: Path, notebook: Namespace
) -> None:
    """After reset(), a list still holding the old module object does not make it 'stale'."""
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import helpers\nkept = [helpers]")
    edit(proj / "helpers.py", "h-old", "h-new")
    colab_bootstrap.reset()
    assert run(notebook, "kept[0] is not helpers, helpers.helper()") == (True, "h-new")
    assert colab_bootstrap.stale() == []


def test_values_python_shares_are_not_taken_for_imports(proj: Path, notebook: Namespace) -> None:
    """Notebook names holding None, True or () like a module's constants are not rebound."""
    write(proj, {"settings.py": "SEED = None\nDEBUG = True\nTAGS = ()\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import settings\nresult = None\nverbose = True\nhistory = ()")
    report = colab_bootstrap.reset()
    assert report.rebound == ("settings",)


def test_a_name_the_module_sets_in_the_notebook_is_left_as_it_set_it(
    proj: Path, notebook: Namespace
) -> None:
    """A module that publishes a name into the notebook on import keeps it its own way."""
    write(proj, {"publish.py": "import __main__\nDATA = ['old']\n__main__.DATA = list(DATA)\n"})
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "import publish\nfrom publish import DATA")
    edit(proj / "publish.py", "'old'", "'new'")
    report = colab_bootstrap.reset()
    assert "DATA" not in report.rebound
    assert run(notebook, "DATA, DATA is publish.DATA") == (["new"], False)


# ---------------------------------------------------------------------------------------------
# A real IPython shell in a subprocess (on Colab's pins too: `nox -s colab`)
# ---------------------------------------------------------------------------------------------

SHELL_PRELUDE = (
    IPYTHON_PRELUDE
    + """

def edit(path, old, new):
    before = os.stat(path)
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 100 * 10**9))
"""
)

SHELL_SCRIPT = (
    SHELL_PRELUDE
    + """
drive = sys.argv[1]
proj = os.path.join(drive, "proj")
out = {}
cell(f"import colab_bootstrap; colab_bootstrap.setup('proj', drive_dir={drive!r}, gpu='ignore')")
cell("import preprocessing")
cell("import pkg.mod as m\\nfrom pkg.mod import value")
cell("from preprocessing import *")
cell("from helpers import shout, Thing")
cell("from helpers import lower\\nlower = lambda s: 'mine'")
NAMES = "[preprocessing.greet(), m.value(), greet(), shout('a'), Thing.kind, lower('A')]"
out["before"] = cell(NAMES)
edit(os.path.join(proj, "preprocessing.py"), '"old"', '"new"')
edit(os.path.join(proj, "pkg", "mod.py"), "return 1", "return 2")
edit(os.path.join(proj, "helpers.py"), "'!'", "'?'")
edit(os.path.join(proj, "helpers.py"), "kind = 'old'", "kind = 'new'")
out["autoreload"] = cell("[preprocessing.greet(), m.value()]")
out["stale"] = cell("sorted([s.name, s.reason] for s in colab_bootstrap.stale())")
cell("report = colab_bootstrap.reset()")
out["after"] = cell(NAMES)
cell("import sys")
out["fresh"] = cell("sys.modules['preprocessing'] is preprocessing and m.value is value")
out["rebound"] = cell("sorted(report.rebound)")
out["stale_after"] = cell("[str(s) for s in colab_bootstrap.stale()]")
print("JSON", json.dumps(out))
"""
)


def _run_shell(script: str, args: list[str], cwd: Path, **kwargs: Any) -> Any:
    path = cwd / "shell.py"
    path.write_text(script)
    return subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        **kwargs,
    )


def test_in_ipython_reset_rebinds_the_notebooks_names(tmp_path: Path) -> None:
    """In a real IPython shell, names from three kinds of import run the edited code after reset."""
    drive = tmp_path / "drive"
    write(
        drive / "proj",
        {
            "preprocessing.py": """
                from helpers import shout
                import sys
                def greet():
                    return "old"
                """,
            "helpers.py": """
                def shout(s):
                    return s.upper() + '!'
                def lower(s):
                    return s.lower()
                class Thing:
                    kind = 'old'
                """,
            "pkg/__init__.py": "from . import mod\n",
            "pkg/mod.py": "def value():\n    return 1\n",
        },
    )
    proc = _run_shell(SHELL_SCRIPT, [str(drive)], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    seen = json.loads(proc.stdout.split("JSON ", 1)[1])

    assert seen["before"] == ["old", 1, "old", "A!", "old", "mine"]
    assert seen["autoreload"] == ["old", 1]  # older mtimes: even autoreload 2 misses these
    assert seen["stale"] == [
        ["helpers", "changed"],
        ["pkg.mod", "changed"],
        ["preprocessing", "changed"],
    ]
    assert seen["after"] == ["new", 2, "new", "A?", "new", "mine"]
    assert seen["fresh"] is True
    assert {"preprocessing", "m=pkg.mod", "greet", "shout", "Thing"} <= set(seen["rebound"])
    assert "lower" not in seen["rebound"]
    assert seen["stale_after"] == []


#: The script stands in for a notebook kernel, so the fake drive.mount may ask the browser.
AS_KERNEL = """
os.environ["FAKE_COLAB_KERNEL_PID"] = str(os.getpid())
"""

HARD_SCRIPT = (
    SHELL_PRELUDE
    + AS_KERNEL
    + """
mountpoint, content = sys.argv[1], sys.argv[2]
cell(
    "import colab_bootstrap\\n"
    f"colab_bootstrap.setup('proj', mountpoint={mountpoint!r}, content_dir={content!r}, "
    "gpu='ignore')"
)
cell("import prep")
cell(
    "import subprocess, sys\\n"
    "sibling = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
    "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
)
print("SIBLING", shell.user_ns["sibling"].pid, flush=True)
shell.run_cell("colab_bootstrap.reset(hard=True)", store_history=True)
print("SURVIVED", flush=True)
"""
)


def test_hard_reset_on_colab_kills_only_the_kernel(fake_colab: FakeColab, tmp_path: Path) -> None:
    """On (fake) Colab reset(hard=True) warns which cell to re-run, then dies by SIGKILL alone."""
    fake_colab.project("proj", {"prep.py": "V = 1\n"})
    proc = _run_shell(
        HARD_SCRIPT,
        [str(fake_colab.mountpoint), str(fake_colab.content)],
        tmp_path,
        env=fake_colab.env(),
    )
    assert "SIBLING " in proc.stdout, proc.stdout + proc.stderr
    sibling = int(proc.stdout.split("SIBLING ", 1)[1].split()[0])
    try:
        assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
        assert "SURVIVED" not in proc.stdout
        assert "ColabBootstrapWarning" in proc.stderr
        assert "re-run the setup cell, In [1]:" in proc.stderr
        assert "colab_bootstrap.setup('proj'" in proc.stderr
        os.kill(sibling, 0)  # the kernel's own child is still running: only the kernel died
        assert (fake_colab.mountpoint / "MyDrive").is_dir()  # the mount survives
    finally:
        os.kill(sibling, signal.SIGTERM)


HARD_IN_SETUP_CELL = (
    SHELL_PRELUDE
    + AS_KERNEL
    + """
mountpoint, content = sys.argv[1], sys.argv[2]
SETUP = (
    f"colab_bootstrap.setup('proj', mountpoint={mountpoint!r}, content_dir={content!r}, "
    "gpu='ignore')"
)
cell("import colab_bootstrap\\n" + SETUP)
cell("import prep")
shell.run_cell(SETUP + "\\ncolab_bootstrap.reset(hard=True)", store_history=True)
print("SURVIVED", flush=True)
"""
)


def test_hard_reset_never_names_its_own_cell_as_the_setup_cell(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """A cell running setup() then reset(hard=True) is not the one to re-run: In [1] is."""
    fake_colab.project("proj", {"prep.py": "V = 1\n"})
    proc = _run_shell(
        HARD_IN_SETUP_CELL,
        [str(fake_colab.mountpoint), str(fake_colab.content)],
        tmp_path,
        env=fake_colab.env(),
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    assert "re-run the setup cell, In [1]:" in proc.stderr
    assert "In [3]" not in proc.stderr
