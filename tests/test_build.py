"""The build backend (backend/colab_bootstrap_build.py): what it builds, and that pip takes it.

The hooks run in-process with the repository as the working folder, as pip runs them; the
wheels and sdists they write are read back with zipfile/tarfile and checked against
pyproject.toml, the source tree and packaging's metadata validator. One slow test installs the
sdist with a real pip into a fresh venv, offline.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from packaging.metadata import Metadata
from packaging.requirements import Requirement

import colab_bootstrap

REPO = Path(__file__).resolve().parents[1]
if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.9 and 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
STEM = f"colab_bootstrap-{colab_bootstrap.__version__}"
DIST_INFO = f"{STEM}.dist-info"


def _backend() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "colab_bootstrap_build", REPO / "backend" / "colab_bootstrap_build.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The backend module, run from the repository root as pip runs it."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return _backend()


def _source_files(top: Path) -> set[str]:
    """Files under ``top`` a build packs: no byte-code, no caches."""
    found = set()
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found |= {
            Path(folder, n).relative_to(top).as_posix()
            for n in names
            if not n.endswith((".pyc", ".pyo"))
        }
    return found


def _wheel(backend: ModuleType, where: Path) -> zipfile.ZipFile:
    name = backend.build_wheel(str(where))
    assert name == f"{STEM}-py3-none-any.whl"
    return zipfile.ZipFile(where / name)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def test_build_system_requires_nothing_on_current_pythons(backend: ModuleType) -> None:
    """No build environment to fill: pip skips its second pip (tomli only before 3.11)."""
    assert PYPROJECT["build-system"]["requires"] == []
    expected = ["tomli>=1.1"] if sys.version_info < (3, 11) else []
    for hook in ("wheel", "sdist", "editable"):
        assert getattr(backend, f"get_requires_for_build_{hook}")() == expected


def test_wheel_holds_the_package_and_valid_metadata(backend: ModuleType, tmp_path: Path) -> None:
    """Every source file, and metadata that packaging validates and that matches pyproject."""
    project = PYPROJECT["project"]
    with _wheel(backend, tmp_path) as wheel:
        names = set(wheel.namelist())
        metadata = Metadata.from_email(wheel.read(f"{DIST_INFO}/METADATA"), validate=True)
        points = wheel.read(f"{DIST_INFO}/entry_points.txt").decode()
        tags = wheel.read(f"{DIST_INFO}/WHEEL").decode()
        licence = wheel.read(f"{DIST_INFO}/licenses/LICENSE")
    package = {f"colab_bootstrap/{n}" for n in _source_files(REPO / "src" / "colab_bootstrap")}
    assert "colab_bootstrap/py.typed" in package
    info = {f"{DIST_INFO}/{n}" for n in ("METADATA", "WHEEL", "entry_points.txt", "RECORD")}
    assert names == package | info | {f"{DIST_INFO}/licenses/LICENSE"}
    assert metadata.name == project["name"]
    assert str(metadata.version) == colab_bootstrap.__version__
    assert metadata.summary == project["description"]
    assert metadata.license_expression == project["license"]
    assert metadata.license_files == ["LICENSE"]
    assert licence == (REPO / "LICENSE").read_bytes()
    assert str(metadata.requires_python) == project["requires-python"]
    assert [str(r) for r in metadata.requires_dist or []] == [
        str(Requirement(d)) for d in project["dependencies"]
    ]
    assert metadata.classifiers == project["classifiers"]
    assert metadata.keywords == project["keywords"]
    assert metadata.project_urls == project["urls"]
    assert metadata.description == (REPO / "README.md").read_text(encoding="utf-8")
    assert metadata.description_content_type == "text/markdown"
    assert "[console_scripts]\ncolab-bootstrap = colab_bootstrap._cli:main\n" in points
    assert "Tag: py3-none-any\n" in tags
    assert "Root-Is-Purelib: true\n" in tags


def test_record_lists_every_file_with_its_hash_and_size(
    backend: ModuleType, tmp_path: Path
) -> None:
    """RECORD is what installers check: every entry, the right sha256 and size."""
    with _wheel(backend, tmp_path) as wheel:
        rows = list(csv.reader(io.StringIO(wheel.read(f"{DIST_INFO}/RECORD").decode())))
        assert {row[0] for row in rows} == set(wheel.namelist())
        for path, digest, size in rows:
            if path == f"{DIST_INFO}/RECORD":
                assert (digest, size) == ("", "")
                continue
            data = wheel.read(path)
            assert (digest, int(size)) == (_record_hash(data), len(data)), path


def test_package_files_are_the_source_bytes(backend: ModuleType, tmp_path: Path) -> None:
    """The wheel carries the source files unchanged."""
    with _wheel(backend, tmp_path) as wheel:
        for name in wheel.namelist():
            if name.startswith("colab_bootstrap/"):
                assert wheel.read(name) == (REPO / "src" / name).read_bytes(), name


def test_prepare_metadata_writes_what_the_wheel_holds(backend: ModuleType, tmp_path: Path) -> None:
    """Metadata comes first (prepare_metadata_for_build_wheel): it must match the wheel."""
    folder = backend.prepare_metadata_for_build_wheel(str(tmp_path / "meta"))
    assert folder == DIST_INFO
    written = _source_files(tmp_path / "meta" / folder)
    assert written == {"METADATA", "WHEEL", "entry_points.txt", "licenses/LICENSE"}
    with _wheel(backend, tmp_path / "wheel") as wheel:
        for name in written:
            assert (tmp_path / "meta" / folder / name).read_bytes() == wheel.read(
                f"{DIST_INFO}/{name}"
            )


def test_builds_are_reproducible(
    backend: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same tree gives the same bytes; SOURCE_DATE_EPOCH sets the timestamps."""
    for where in ("a", "b"):
        backend.build_wheel(str(tmp_path / where))
        backend.build_sdist(str(tmp_path / where))
    for name in (f"{STEM}-py3-none-any.whl", f"{STEM}.tar.gz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / f"{STEM}-py3-none-any.whl") as wheel:
        assert {info.date_time for info in wheel.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    with zipfile.ZipFile(tmp_path / "c" / backend.build_wheel(str(tmp_path / "c"))) as wheel:
        assert {info.date_time for info in wheel.infolist()} == {(2026, 1, 1, 0, 0, 0)}


def test_sdist_carries_tests_examples_and_the_backend(backend: ModuleType, tmp_path: Path) -> None:
    """The sdist holds what a packager needs to test and rebuild; caches never go in."""
    name = backend.build_sdist(str(tmp_path))
    assert name == f"{STEM}.tar.gz"
    with tarfile.open(tmp_path / name) as sdist:
        members = {m.name: m for m in sdist.getmembers()}
        pkg_info = sdist.extractfile(f"{STEM}/PKG-INFO")
        assert pkg_info is not None
        metadata = Metadata.from_email(pkg_info.read(), validate=True)
    names = {n.split("/", 1)[1] for n in members}
    tool = PYPROJECT["tool"]["colab_bootstrap_build"]
    expected = {"PKG-INFO"}
    for top in tool["sdist"]:
        path = REPO / top
        files = _source_files(path) if path.is_dir() else {""}
        expected |= {f"{top}/{f}".rstrip("/") for f in files}
    assert names == expected
    for needed in ("tests/conftest.py", "examples/MyDrive", "backend/colab_bootstrap_build.py"):
        assert any(n.startswith(needed) for n in names), needed
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in members.values())
    assert str(metadata.version) == colab_bootstrap.__version__


def test_sdist_rebuilds_the_same_wheel(
    backend: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building from the unpacked sdist gives the wheel the repository gives, byte for byte."""
    direct = backend.build_wheel(str(tmp_path / "direct"))
    with tarfile.open(tmp_path / "sdist" / backend.build_sdist(str(tmp_path / "sdist"))) as sdist:
        if sys.version_info >= (3, 12):
            sdist.extractall(tmp_path / "unpacked", filter="data")
        else:  # pragma: no cover - 3.9 to 3.11 have no extraction filters (our own archive)
            sdist.extractall(tmp_path / "unpacked")  # noqa: S202
    monkeypatch.chdir(tmp_path / "unpacked" / STEM)
    again = backend.build_wheel(str(tmp_path / "again"))
    assert (tmp_path / "again" / again).read_bytes() == (tmp_path / "direct" / direct).read_bytes()


def test_editable_wheel_puts_src_on_the_path(backend: ModuleType, tmp_path: Path) -> None:
    """PEP 660: a .pth file naming the source folder, plus the same metadata."""
    name = backend.build_editable(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as wheel:
        pth = [n for n in wheel.namelist() if n.endswith(".pth")]
        assert pth == ["_colab_bootstrap_editable.pth"]
        assert wheel.read(pth[0]).decode() == f"{REPO / 'src'}\n"
        assert not any(n.startswith("colab_bootstrap/") for n in wheel.namelist())
        assert f"{DIST_INFO}/entry_points.txt" in wheel.namelist()


# --- what the backend refuses -----------------------------------------------------------------


def _project(tmp_path: Path, project: str, tool: str = "") -> Path:
    """A small project folder with its own pyproject.toml."""
    root = tmp_path / "proj"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text('__version__ = "1.2"\n')
    (root / "README.md").write_text("# pkg\n")
    tool = tool or (
        'package = "src/pkg"\nversion-file = "src/pkg/__init__.py"\nsdist = ["src", "README.md"]\n'
    )
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "pkg"\ndynamic = ["version"]\n{project}\n'
        f"[tool.colab_bootstrap_build]\n{tool}"
    )
    return root


def test_a_small_project_builds(
    backend: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Optional dependencies and authors with e-mail come out as core metadata says."""
    root = _project(
        tmp_path,
        'readme = "README.md"\nauthors = [{name = "A", email = "a@example.org"}, {name = "B"}]\n'
        '[project.optional-dependencies]\nfast = ["ujson>=5", "orjson; sys_platform == \'linux\'"]',
    )
    monkeypatch.chdir(root)
    with zipfile.ZipFile(tmp_path / "out" / backend.build_wheel(str(tmp_path / "out"))) as wheel:
        assert "pkg/__init__.py" in wheel.namelist()
        metadata = Metadata.from_email(wheel.read("pkg-1.2.dist-info/METADATA"), validate=True)
    assert metadata.provides_extra == ["fast"]
    assert [str(r) for r in metadata.requires_dist or []] == [
        'ujson>=5; extra == "fast"',
        'orjson; sys_platform == "linux" and extra == "fast"',
    ]
    assert metadata.author == "B"
    assert metadata.author_email == "A <a@example.org>"
    tool = root / "src" / "pkg" / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    with tarfile.open(tmp_path / "out" / backend.build_sdist(str(tmp_path / "out"))) as sdist:
        modes = {m.name: m.mode for m in sdist.getmembers()}
    assert modes == {
        "pkg-1.2/PKG-INFO": 0o644,
        "pkg-1.2/README.md": 0o644,
        "pkg-1.2/src/pkg/__init__.py": 0o644,
        "pkg-1.2/src/pkg/tool.sh": 0o755,
    }


@pytest.mark.parametrize(
    "case",
    [
        ('gui = "x"', "", "keys this backend does not build: gui"),
        ('license = {text = "MIT"}', "", "SPDX expression string"),
        ('license-files = ["COPYING*"]', "", "matches no file"),
        (
            "",
            'package = "src/pkg"\nversion-file = "README.md"\nsdist = ["src"]\n',
            "no __version__",
        ),
        (
            "",
            'package = "src/pkg"\nversion-file = "src/pkg/__init__.py"\nsdist = ["src", "docs"]\n',
            "docs does not exist",
        ),
    ],
)
def test_what_it_cannot_build_is_an_error(
    backend: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str, str],
) -> None:
    """Metadata is never dropped silently, and a missing sdist path is named."""
    project, tool, message = case
    monkeypatch.chdir(_project(tmp_path, project, tool))
    with pytest.raises(backend.BuildError, match=message):
        backend.build_sdist(str(tmp_path / "out"))


@pytest.mark.slow
def test_pip_installs_the_sdist_offline(backend: ModuleType, tmp_path: Path) -> None:
    """A real pip, no index: the backend needs nothing downloaded (3.11+), and the CLI runs."""
    if sys.version_info < (3, 11):  # pragma: no cover - e2e runs on 3.12
        pytest.skip("before 3.11 the build needs tomli from an index")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=300)
    python = tmp_path / "venv" / "bin" / "python"
    sdist = backend.build_sdist(str(tmp_path / "dist"))
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}
    env.pop("PIP_FIND_LINKS", None)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(tmp_path / "dist" / sdist)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    script = shutil.which("colab-bootstrap", path=str(tmp_path / "venv" / "bin"))
    assert script is not None
    out = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"colab-bootstrap {colab_bootstrap.__version__}"
