"""The import hook's decisions a user would notice, pinned against small code changes.

Which byte-code in the hook's cache is trusted (another build's magic number, a timestamp or
unchecked pyc, something that is not code), that ``python -O`` keeps its own byte-code, what an
unreadable module or project folder says (the Drive hint only for a lost connection), which
finders cached before ``setup()`` the hook takes over (another spelling of the project, a second
project) and which it leaves alone, which modules ``setup()`` records, and that a script, a
spawned worker or a vendored ``colab_bootstrap`` is never treated as a project module.
Everything runs real imports of real files, real subprocesses, and the fake Drive's real FUSE
mounts.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import marshal
import os
import py_compile
import subprocess
import sys
import textwrap
import types
from collections.abc import Sequence
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap._errors import DRIVE_LOST
from colab_bootstrap._importhook import watch
from colab_bootstrap._session import SESSION
from conftest import FakeColab, denied, edit, write

pytestmark = pytest.mark.filterwarnings("ignore::colab_bootstrap.ColabBootstrapWarning")


@pytest.fixture
def writes_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte-code is written, as on Colab (the test run may have PYTHONDONTWRITEBYTECODE set)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def _setup(name: str = "proj") -> colab_bootstrap.Project:
    return colab_bootstrap.setup(name, gpu="ignore")


def _fresh_import(name: str) -> types.ModuleType:
    """Import ``name`` again from its file, as a new session would."""
    sys.modules.pop(name, None)
    return importlib.import_module(name)


def _stale_names() -> set[str]:
    return {found.name for found in colab_bootstrap.stale()}


# ---------------------------------------------------------------------------------------------
# The byte-code cache: only checked hash-based pycs of this Python, holding code
# ---------------------------------------------------------------------------------------------


def _craft(pyc: Path, *, magic: bytes, flags: int, digest: bytes, payload: bytes) -> None:
    pyc.write_bytes(magic + flags.to_bytes(4, "little") + digest + payload)


@pytest.mark.parametrize(
    "kind", ["other-magic", "timestamp-flags", "not-code"], ids=lambda kind: kind
)
def test_a_cached_pyc_that_is_not_ours_is_never_run(
    mydrive: Path, tmp_path: Path, writes_bytecode: None, kind: str
) -> None:
    """A cached pyc with the source's hash that is not ours is compiled over: the source runs.

    Another magic number (another build of this Python, same cache tag), no hash-based flag,
    or no code object in it.
    """
    write(mydrive / "proj", {"cachemod.py": "V = 'source'\n"})
    _setup()
    assert _fresh_import("cachemod").V == "source"
    [pyc] = (tmp_path / "cache").rglob("cachemod*.pyc")
    digest = importlib.util.source_hash((mydrive / "proj" / "cachemod.py").read_bytes())
    other_code = marshal.dumps(compile("V = 'from another pyc'\n", "cachemod.py", "exec"))
    magic = importlib.util.MAGIC_NUMBER
    if kind == "other-magic":
        other_magic = bytes([magic[0] ^ 1]) + magic[1:]
        _craft(pyc, magic=other_magic, flags=0b11, digest=digest, payload=other_code)
    elif kind == "timestamp-flags":
        _craft(pyc, magic=magic, flags=0, digest=digest, payload=other_code)
    else:
        _craft(pyc, magic=magic, flags=0b11, digest=digest, payload=marshal.dumps(42))

    assert _fresh_import("cachemod").V == "source"
    data = pyc.read_bytes()
    assert data[:4] == magic
    assert data[4:8] == b"\x03\x00\x00\x00"  # written again: checked hash-based


def test_an_unchecked_hash_pyc_with_the_source_hash_is_reused(
    mydrive: Path, tmp_path: Path, writes_bytecode: None
) -> None:
    """An unchecked hash-based pyc (py_compile's) with the source's hash is reused as it is.

    The hook checks the hash itself, so the missing check flag does not make it compile again.
    """
    source = mydrive / "proj" / "uncheckedmod.py"
    write(mydrive / "proj", {"uncheckedmod.py": "V = 1\n"})
    _setup()
    _fresh_import("uncheckedmod")
    [pyc] = (tmp_path / "cache").rglob("uncheckedmod*.pyc")
    py_compile.compile(
        str(source),
        cfile=str(pyc),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    written = pyc.read_bytes()
    assert written[4:8] == b"\x01\x00\x00\x00"

    assert _fresh_import("uncheckedmod").V == 1
    assert pyc.read_bytes() == written


def test_optimized_and_plain_sessions_keep_separate_byte_code(
    mydrive: Path, tmp_path: Path, writes_bytecode: None
) -> None:
    """A plain session after a ``python -O`` one still runs the project's asserts.

    Byte-code compiled under ``-O`` (asserts stripped) goes to its own ``.opt-1`` file.
    """
    write(
        mydrive / "proj",
        {
            "checks.py": """
                def asserts_run():
                    try:
                        assert False
                    except AssertionError:
                        return True
                    return False
                """
        },
    )
    script = "import colab_bootstrap, checks; print(checks.asserts_run())"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    prelude = "import colab_bootstrap; colab_bootstrap.setup('proj', gpu='ignore')\n"
    proc = subprocess.run(
        [sys.executable, "-O", "-c", prelude + script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"
    tag = sys.implementation.cache_tag
    assert [p.name for p in (tmp_path / "cache").rglob("checks*.pyc")] == [
        f"checks.{tag}.opt-1.pyc"
    ]

    _setup()
    checks = _fresh_import("checks")
    assert checks.asserts_run() is True
    names = sorted(p.name for p in (tmp_path / "cache").rglob("checks*.pyc"))
    assert names == [f"checks.{tag}.opt-1.pyc", f"checks.{tag}.pyc"]


def test_watch_without_a_bytecode_folder_imports_and_records_without_caching(
    tmp_path: Path, writes_bytecode: None
) -> None:
    """``watch(roots)`` with no byte-code folder imports and records, and caches nothing.

    Project modules import and an edit is found; no byte-code is written anywhere.
    """
    folder = tmp_path / "plain"
    write(folder, {"nocache.py": "V = 'old'\n"})
    sys.path.append(str(folder))
    watch([folder])
    assert SESSION.bytecode_dir is None

    import nocache  # type: ignore[import-not-found]

    assert nocache.V == "old"
    edit(folder / "nocache.py", "old", "new")
    assert [(s.name, s.reason) for s in colab_bootstrap.stale()] == [("nocache", "changed")]
    assert not list(tmp_path.rglob("*.pyc"))


# ---------------------------------------------------------------------------------------------
# What an unreadable module or project folder says
# ---------------------------------------------------------------------------------------------


def test_a_module_file_that_cannot_be_read_names_itself_without_the_drive_hint(
    mydrive: Path,
) -> None:
    """An unreadable module file: ImportError with its name, path and why, no Drive advice.

    Permission denied is not a lost connection: nothing tells the user to reconnect Drive.
    """
    write(mydrive / "proj", {"locked.py": "V = 1\n"})
    _setup()
    path = mydrive / "proj" / "locked.py"
    with denied(path), pytest.raises(ImportError) as caught:
        import locked  # type: ignore[import-not-found]  # noqa: F401
    cause = caught.value.__cause__
    assert isinstance(cause, PermissionError)
    assert caught.value.name == "locked"
    assert caught.value.path == str(path)
    assert str(caught.value) == (
        f"Cannot import locked: {path} cannot be read (PermissionError: {cause}). "
    )


def test_a_lazily_imported_module_first_used_after_drive_died_says_how_to_reconnect(
    fake_colab: FakeColab,
) -> None:
    """A module's code read after Drive's connection was lost: the error says how to reconnect.

    Here a project module imported lazily (importlib.util.LazyLoader), first used after the
    Drive daemon died.
    """
    fake_colab.project("proj", {"lazymod.py": "V = 1\n"})
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    spec = importlib.util.find_spec("lazymod")
    assert spec is not None
    assert spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lazymod"] = module
    spec.loader.exec_module(module)
    fake_colab.kill_drivefs()

    with pytest.raises(ImportError) as caught:
        module.V  # noqa: B018 - the first use runs the module
    assert str(caught.value).endswith(f"). {DRIVE_LOST}")
    assert caught.value.name == "lazymod"


def test_a_project_folder_failing_otherwise_is_named_without_the_drive_hint(
    mydrive: Path, tmp_path: Path
) -> None:
    """A project folder unlistable for another reason than Drive: named, no Drive advice.

    Here a symlink loop where the folder was: a module it should supply fails with an error
    naming the folder and the reason, and not advising to reconnect Drive.
    """
    folder = mydrive / "proj"
    write(folder, {"loopfirst.py": "", "loopsecond.py": ""})
    project = _setup()
    import loopfirst  # type: ignore[import-not-found]  # noqa: F401  (the finder is cached now)

    folder.rename(tmp_path / "moved")
    folder.symlink_to(folder)  # a loop: ELOOP, not "missing" or "denied"
    try:
        with pytest.raises(ModuleNotFoundError) as caught:
            import loopsecond  # type: ignore[import-not-found]  # noqa: F401
    finally:
        folder.unlink()
        (tmp_path / "moved").rename(folder)
    message = str(caught.value)
    entry = project.sys_path_entry
    assert message.startswith(
        f"No module named 'loopsecond': the project folder {entry} cannot be read (OSError: "
    )
    assert message.endswith("Too many levels of symbolic links: " + repr(entry) + ").")
    assert DRIVE_LOST not in message


def test_a_project_entry_first_met_while_drive_is_dead_recovers_with_drive(
    fake_colab: FakeColab,
) -> None:
    """A project entry first met while Drive is dead says so, and imports once Drive is back.

    The import fails naming the folder and how to reconnect (FileFinder alone, which takes a
    failed stat for "unchanged", said only "No module named"). The entry still gets the hook's
    finder (no "no finder" cached for good): after a plain drive.mount cell, with no setup()
    again, the project's modules import.
    """
    fake_colab.project("proj", {"train.py": "VALUE = 1\n"})
    project = colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    sys.path_importer_cache.pop(project.sys_path_entry, None)
    fake_colab.kill_drivefs()
    with pytest.raises(ModuleNotFoundError) as caught:
        import train  # type: ignore[import-not-found]
    assert str(caught.value).startswith(
        f"No module named 'train': the project folder {project.sys_path_entry} cannot be read ("
    )
    assert str(caught.value).endswith(f". {DRIVE_LOST}")
    fake_colab.mount_at(fake_colab.mountpoint)
    import train

    assert train.VALUE == 1


def test_after_drive_is_back_a_leftover_failure_breaks_no_other_import(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """After Drive is back, a failure noted while it was dead breaks no other import.

    A module a later sys.path entry supplied while Drive was dead leaves its failure noted;
    once Drive is back, other project modules import and a missing module is a plain
    ModuleNotFoundError.
    """
    fake_colab.project("proj", {"train.py": "VALUE = 1\n", "extra.py": "EXTRA = 2\n"})
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    import train  # noqa: F401

    later = tmp_path / "later"
    write(later, {"cbt_later_mod.py": "WHERE = 'later'\n"})
    sys.path.append(str(later))
    fake_colab.kill_drivefs()
    import cbt_later_mod  # type: ignore[import-not-found]  # noqa: F401

    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    import extra  # type: ignore[import-not-found]

    assert extra.EXTRA == 2
    with pytest.raises(ModuleNotFoundError) as caught:
        import colab_bootstrap_no_such_module  # type: ignore[import-not-found]  # noqa: F401
    assert str(caught.value) == "No module named 'colab_bootstrap_no_such_module'"


# ---------------------------------------------------------------------------------------------
# Finders cached before setup(): which the hook takes over, which it leaves alone
# ---------------------------------------------------------------------------------------------


def test_another_spelling_of_the_project_cached_before_setup_is_taken_over(
    mydrive: Path, tmp_path: Path
) -> None:
    """A link to the project used before setup() is taken over by the hook after it.

    Modules imported through the link after setup() are recorded, so their edits are found.
    """
    write(mydrive / "proj", {"alias_early.py": "", "alias_late.py": "V = 'old'\n"})
    alias = tmp_path / "alias"
    alias.symlink_to(mydrive / "proj")
    sys.path.insert(0, str(alias))
    import alias_early  # type: ignore[import-not-found]  # noqa: F401

    _setup()
    import alias_late  # type: ignore[import-not-found]

    assert alias_late.__file__ == str(alias / "alias_late.py")
    edit(mydrive / "proj" / "alias_late.py", "old", "new")
    assert "alias_late" in _stale_names()


def test_a_second_project_imported_from_before_its_setup_is_taken_over(
    mydrive: Path, tmp_path: Path
) -> None:
    """A second project's folder used before its own setup() is fully tracked after it.

    With one project already set up and imported from, the second one's earlier and later
    modules both have their edits found.
    """
    write(mydrive / "one", {"one_mod.py": ""})
    write(mydrive / "two", {"two_early.py": "V = 'old'\n", "two_late.py": "V = 'old'\n"})
    _setup("one")
    import one_mod  # type: ignore[import-not-found]  # noqa: F401

    sys.path.append(str(mydrive / "two"))
    import two_early  # type: ignore[import-not-found]  # noqa: F401

    _setup("two")
    import two_late  # type: ignore[import-not-found]  # noqa: F401

    edit(mydrive / "two" / "two_early.py", "old", "new")
    edit(mydrive / "two" / "two_late.py", "old", "new")
    assert _stale_names() == {"two_early", "two_late"}


class _MemoryFinder(importlib.abc.PathEntryFinder):
    """A path-entry finder another tool put straight into sys.path_importer_cache."""

    def find_spec(
        self,
        fullname: str,
        target: types.ModuleType | None = None,  # noqa: ARG002 - the PathEntryFinder signature
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "cbt_memory_mod":
            return None
        return importlib.util.spec_from_loader(fullname, _MemoryLoader())


class _MemoryLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:  # noqa: ARG002
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.WHERE = "memory"  # type: ignore[attr-defined]


def test_finders_of_other_entries_cached_before_setup_are_left_alone(mydrive: Path) -> None:
    """setup() drops only the projects' cached finders, never another tool's.

    A finder registered straight in sys.path_importer_cache for its own (non-folder) entry
    keeps supplying its modules.
    """
    write(mydrive / "proj", {"plain.py": ""})
    entry = "cbt-memory-entry"
    sys.path.append(entry)
    sys.path_importer_cache[entry] = _MemoryFinder()
    _setup()
    import cbt_memory_mod  # type: ignore[import-not-found]

    assert cbt_memory_mod.WHERE == "memory"


def test_the_hook_comes_before_path_hooks_installed_earlier(mydrive: Path) -> None:
    """setup()'s hook goes in front of a directory path hook another tool installed first.

    So project modules are still recorded and their edits found.
    """
    loaders = (
        importlib.machinery.SourceFileLoader,
        importlib.machinery.SOURCE_SUFFIXES,
    )
    sys.path_hooks.insert(0, importlib.machinery.FileFinder.path_hook(loaders))
    write(mydrive / "proj", {"hooked.py": "V = 'old'\n"})
    _setup()
    import hooked  # type: ignore[import-not-found]  # noqa: F401

    edit(mydrive / "proj" / "hooked.py", "old", "new")
    assert _stale_names() == {"hooked"}


# ---------------------------------------------------------------------------------------------
# Which modules setup() records
# ---------------------------------------------------------------------------------------------


def test_an_edited_module_outside_the_projects_is_never_stale(
    mydrive: Path, tmp_path: Path
) -> None:
    """A module from another folder, imported before setup() and edited after, is not stale."""
    write(mydrive / "proj", {"inproj.py": ""})
    write(tmp_path / "elsewhere", {"cbt_outside_mod.py": "V = 'old'\n"})
    sys.path.append(str(tmp_path / "elsewhere"))
    import cbt_outside_mod  # type: ignore[import-not-found]  # noqa: F401

    _setup()
    edit(tmp_path / "elsewhere" / "cbt_outside_mod.py", "old", "new")
    assert colab_bootstrap.stale() == []


def test_a_deleted_module_file_at_setup_does_not_stop_recording_the_others(
    mydrive: Path,
) -> None:
    """A module whose file is gone at setup() does not stop the others being recorded.

    Two project modules imported before setup(), the first one's file deleted meanwhile: the
    second one's edit is found.
    """
    folder = mydrive / "proj"
    write(folder, {"gone_first.py": "", "kept_second.py": "V = 'old'\n"})
    sys.path.append(str(folder))
    import gone_first  # type: ignore[import-not-found]  # noqa: F401
    import kept_second  # type: ignore[import-not-found]  # noqa: F401

    (folder / "gone_first.py").unlink()
    _setup()
    edit(folder / "kept_second.py", "old", "new")
    assert "kept_second" in _stale_names()


def test_a_module_that_deletes_its_own_loader_name_imports(mydrive: Path) -> None:
    """A project module whose code deletes ``__loader__`` from its namespace imports fine."""
    write(mydrive / "proj", {"noloader.py": "V = 1\ndel __loader__\n"})
    _setup()
    import noloader  # type: ignore[import-not-found]

    assert noloader.V == 1


# ---------------------------------------------------------------------------------------------
# Never project modules: the script, a spawned worker's main, colab_bootstrap itself
# ---------------------------------------------------------------------------------------------

#: Set up, import the project's helper, reset(): write what reset() dropped and whether the
#: main module is still the one running.
_RESET_AND_REPORT = """
def reset_and_report(out):
    import json, sys
    import colab_bootstrap
    colab_bootstrap.setup("proj", gpu="ignore")
    import helper
    main = sys.modules["__main__"]
    report = colab_bootstrap.reset()
    with open(out, "w") as file:
        kept = sys.modules.get("__main__") is main
        json.dump({"dropped": list(report.dropped), "main_kept": kept}, file)
"""


def _run_script(args: Sequence[str], cwd: Path, out: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_a_script_run_from_the_project_is_not_reset(mydrive: Path, tmp_path: Path) -> None:
    """A script run from the project that resets drops only the project's modules.

    ``python proj/run.py`` sets up, imports and resets: the running script (``__main__``)
    stays.
    """
    folder = mydrive / "proj"
    write(folder, {"helper.py": "V = 1\n"})
    (folder / "run.py").write_text(
        _RESET_AND_REPORT + "\nimport sys\nreset_and_report(sys.argv[1])\n"
    )
    out = tmp_path / "out.json"
    result = _run_script([str(folder / "run.py"), str(out)], tmp_path, out)
    assert result == {"dropped": ["helper"], "main_kept": True}


def test_a_spawned_worker_of_a_project_script_does_not_reset_its_main(
    mydrive: Path, tmp_path: Path
) -> None:
    """A worker spawned from a project script that resets drops only the project's modules.

    Its main module is ``__mp_main__`` there (multiprocessing's spawn); it stays.
    """
    folder = mydrive / "proj"
    write(folder, {"helper.py": "V = 1\n"})
    spawn = """
        if __name__ == "__main__":
            import multiprocessing, sys
            worker = multiprocessing.get_context("spawn").Process(
                target=reset_and_report, args=(sys.argv[1],)
            )
            worker.start()
            worker.join()
            sys.exit(worker.exitcode)
        """
    (folder / "spawner.py").write_text(_RESET_AND_REPORT + textwrap.dedent(spawn))
    out = tmp_path / "out.json"
    result = _run_script([str(folder / "spawner.py"), str(out)], tmp_path, out)
    assert result == {"dropped": ["helper"], "main_kept": True}


def test_colab_bootstrap_vendored_in_the_project_is_not_a_project_module(
    mydrive: Path, tmp_path: Path
) -> None:
    """colab_bootstrap vendored inside the project is never recorded or reset.

    Imported from inside the project folder, its modules are not the project's: reset()
    drops only the project's own.
    """
    folder = mydrive / "proj"
    write(folder, {"helper.py": "V = 1\n"})
    (folder / "colab_bootstrap").symlink_to(Path(colab_bootstrap.__file__).parent)
    runner = tmp_path / "runner.py"
    runner.write_text(
        f"import sys\nsys.path.insert(0, {str(folder)!r})\n"
        + _RESET_AND_REPORT
        + "\nimport colab_bootstrap\n"
        + f"assert colab_bootstrap.__file__.startswith({str(folder)!r}), colab_bootstrap.__file__\n"
        + "reset_and_report(sys.argv[1])\n"
    )
    out = tmp_path / "out.json"
    result = _run_script([str(runner), str(out)], tmp_path, out)
    assert result == {"dropped": ["helper"], "main_kept": True}


@pytest.mark.parametrize("how", ["missing", "a file", "denied"])
def test_a_folder_never_listed_and_not_there_once_drive_is_back_gives_the_plain_message(
    fake_colab: FakeColab, tmp_path: Path, how: str
) -> None:
    """A folder never listed and not there once Drive is back: the plain ``No module named``.

    Drive died before the project was first listed; when it is back, the folder is gone (or
    under a file, or behind a folder the user may not enter). Those are FileFinder's own
    silent cases ("nothing there"), as for a folder with nothing to import. Only a folder that
    cannot be read for another reason (a dead Drive, a link loop) is named with its reason.
    """
    fake_colab.project("course/proj", {"there.py": ""})
    project = colab_bootstrap.setup(
        "course/proj",
        mountpoint=fake_colab.mountpoint,
        content_dir=fake_colab.content,
        gpu="ignore",
    )
    sys.path_importer_cache.pop(project.sys_path_entry, None)  # never listed yet
    fake_colab.kill_drivefs()
    with pytest.raises(ModuleNotFoundError, match="connection was lost"):
        import cbt_while_dead  # type: ignore[import-not-found]  # noqa: F401
    course = fake_colab.mydrive / "course"
    if how == "missing":
        (course / "proj").rename(tmp_path / "proj")
    elif how == "a file":
        course.rename(tmp_path / "course")
        course.write_text("not a folder\n")
    mydrive = fake_colab.mount_at(fake_colab.mountpoint)
    with contextlib.ExitStack() as stack:
        if how == "denied":
            stack.enter_context(denied(mydrive / "course"))
        with pytest.raises(ModuleNotFoundError) as caught:
            import cbt_not_anywhere  # type: ignore[import-not-found]  # noqa: F401
    assert str(caught.value) == "No module named 'cbt_not_anywhere'"
