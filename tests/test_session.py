"""One session record: every call made without location options looks where setup() looked."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import _session
from colab_bootstrap._session import SESSION, reset_session
from conftest import FakeColab, put

MODULE = "def greet():\n    return 'old'\n"


@pytest.fixture
def no_drive_around(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Off Colab with nothing to find by default: no $COLAB_BOOTSTRAP_DRIVE, an empty home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("COLAB_BOOTSTRAP_DRIVE", raising=False)
    return home


@pytest.fixture
def off_colab(tmp_path: Path, no_drive_around: Path) -> dict[str, Path]:
    """setup() off Colab with a drive_dir and a content_dir that are not the defaults."""
    drive = tmp_path / "drive"
    put(drive, "proj/greeting.py", MODULE)
    options = {"drive_dir": drive, "content_dir": tmp_path / "links"}
    colab_bootstrap.setup("proj", gpu="ignore", **options)  # type: ignore[arg-type]
    return {**options, "folder": drive / "proj"}


@pytest.fixture
def on_colab(fake_colab: FakeColab, tmp_path: Path) -> dict[str, Path]:
    """setup() on (fake) Colab with a mountpoint and a content_dir that are not the defaults."""
    put(fake_colab.mydrive, "proj/greeting.py", MODULE)
    options = {"mountpoint": tmp_path / "content" / "gdrive", "content_dir": tmp_path / "links"}
    colab_bootstrap.setup("proj", gpu="ignore", **options)  # type: ignore[arg-type]
    return {**options, "folder": options["mountpoint"] / "MyDrive" / "proj"}


@pytest.fixture(params=["off Colab", "on Colab"])
def set_up(request: pytest.FixtureRequest) -> dict[str, Path]:
    """Each test below runs after a non-default setup(), off and on Colab."""
    fixture = "off_colab" if request.param == "off Colab" else "on_colab"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def test_doctor_without_arguments_finds_setups_drive_and_project(set_up: dict[str, Path]) -> None:
    """doctor() sees the Drive, the folder and the link that setup() used, and finds no fault."""
    report = colab_bootstrap.doctor()
    assert report["Drive"].status == "ok", report["Drive"]
    assert str(set_up["folder"].parent) in report["Drive"].summary
    project = report["Project"]
    assert project.status == "ok", project
    assert f"link: {set_up['content_dir'] / 'proj'} -> " in "\n".join(project.details)
    assert report.ok, str(report)


def test_stale_without_arguments_watches_setups_folder(set_up: dict[str, Path]) -> None:
    """stale() compares the modules imported from the folder setup() wired."""
    import greeting  # type: ignore[import-not-found]

    assert greeting.greet() == "old"
    (set_up["folder"] / "greeting.py").write_text(MODULE.replace("old", "new"))
    assert [(s.name, s.reason) for s in colab_bootstrap.stale()] == [("greeting", "changed")]


def test_dedupe_without_arguments_cleans_setups_folder(set_up: dict[str, Path]) -> None:
    """dedupe() plans in the project folder setup() found."""
    put(set_up["folder"], "greeting (1).py", MODULE.replace("old", "newer"))
    plan = colab_bootstrap.dedupe()
    assert plan.root == set_up["folder"]
    assert [group.group.plain for group in plan.groups] == ["greeting.py"]


def test_snippets_without_arguments_repeat_setups_call(set_up: dict[str, Path]) -> None:
    """snippets() writes the setup() call that was made: same project, same location options."""
    cell = "".join(colab_bootstrap.snippets()["cells"][1]["source"])
    expected = ", ".join(
        f"{name}={str(set_up[name])!r}".replace("'", '"')
        for name in ("drive_dir", "mountpoint", "content_dir")
        if name in set_up
    )
    assert f'colab_bootstrap.setup("proj", {expected})' in cell


def test_snippets_options_win_over_setups(off_colab: dict[str, Path], tmp_path: Path) -> None:
    """An option given to snippets() replaces the one setup() used."""
    cell = "".join(
        colab_bootstrap.snippets(content_dir=str(tmp_path / "elsewhere"))["cells"][1]["source"]
    )
    assert f'content_dir="{tmp_path / "elsewhere"}"' in cell
    assert f'content_dir="{off_colab["content_dir"]}"' not in cell


def test_reset_remount_without_arguments_remounts_where_setup_mounted(
    on_colab: dict[str, Path], fake_colab: FakeColab
) -> None:
    """reset(remount=True) force-remounts the mountpoint setup() used, not /content/drive."""
    report = colab_bootstrap.reset(remount=True)
    mounts = fake_colab.calls("mount")
    assert mounts[-1] == {**mounts[-1], "mountpoint": str(on_colab["mountpoint"])}
    assert mounts[-1]["force_remount"] is True
    assert str(on_colab["mountpoint"]) in report.remount


def test_explicit_arguments_win_over_setups(off_colab: dict[str, Path], tmp_path: Path) -> None:
    """doctor(drive_dir=...) looks where it is told, not where setup() looked."""
    other = tmp_path / "other"
    put(other, "proj/x.py", "")
    report = colab_bootstrap.doctor(drive_dir=other, network=False)
    assert str(other) in report["Drive"].summary
    assert f"folder: {other / 'proj'}" in report["Project"].details


def test_a_relative_drive_dir_is_remembered_where_it_was(
    tmp_path: Path, no_drive_around: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """setup('proj', drive_dir='drive') from one folder; doctor() from another still finds it."""
    put(tmp_path, "work/drive/proj/m.py", "")
    monkeypatch.chdir(tmp_path / "work")
    colab_bootstrap.setup("proj", drive_dir="drive", gpu="ignore")
    monkeypatch.chdir(tmp_path)
    report = colab_bootstrap.doctor(network=False)
    assert report["Drive"].status == "ok"
    assert report["Project"].status == "ok"
    assert report.ok


def test_the_project_set_up_last_is_current(mydrive: Path) -> None:
    """setup('a'), setup('b'), setup('a'): a is current again, each project listed once."""
    for name in ("a", "b"):
        (mydrive / name).mkdir()
    for name in ("a", "b", "a"):
        colab_bootstrap.setup(name, gpu="ignore")
    current = SESSION.current()
    assert current is not None
    assert current.project.name == "a"
    assert [r.project.name for r in SESSION.projects.values()] == ["b", "a"]
    assert colab_bootstrap.dedupe().root == mydrive / "a"
    assert colab_bootstrap.doctor(network=False).project == "a"


def test_reset_session_forgets_everything(mydrive: Path, tmp_path: Path) -> None:
    """One call empties the record: no project, no roots, no GPU answer, the defaults again."""
    (mydrive / "p").mkdir()
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="No GPU"):
        colab_bootstrap.setup("p")
    before = (len(SESSION.projects), len(SESSION.reruns), len(SESSION.roots.paths), SESSION.gpu)
    assert before[:3] == (1, 1, 1)
    assert before[3] is not None
    fresh = reset_session(scan_limit=7)
    assert fresh is SESSION
    assert (SESSION.projects, SESSION.reruns, SESSION.roots.paths) == ({}, {}, ())
    assert (SESSION.gpu, SESSION.probes) == (None, None)
    assert SESSION.defaults.scan_limit == 7
    assert SESSION.location().mountpoint == os.path.abspath("/content/drive")


def test_a_fresh_process_starts_from_the_defaults(tmp_path: Path) -> None:
    """In a new interpreter nothing is set up: the record holds the defaults only."""
    code = textwrap.dedent(
        """
        from colab_bootstrap._session import SESSION
        print(SESSION.current(), SESSION.location())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == (
        "None Location(content_dir=None, drive_dir=None, mountpoint='/content/drive')"
    )


def test_the_gpu_policies_are_the_ones_the_type_names() -> None:
    """GPU_POLICIES (checked at run time) lists exactly the words of the GpuPolicy type."""
    tree = ast.parse(Path(_session.__file__).read_text(encoding="utf-8"))
    alias = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", "") for t in node.targets] == ["GpuPolicy"]
    )
    assert isinstance(alias, ast.Subscript)
    assert ast.literal_eval(alias.slice) == _session.GPU_POLICIES


def test_setup_reads_the_record_without_heavy_imports() -> None:
    """Starting the probes needs only light modules: no typing, dataclasses or pathlib yet."""
    code = textwrap.dedent(
        """
        import sys
        before = set(sys.modules)
        import colab_bootstrap._setup
        new = set(sys.modules) - before
        print(sorted({"typing", "dataclasses", "pathlib", "inspect"} & new))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
