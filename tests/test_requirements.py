"""Requirements of the project: reading the files, comparing with real installed metadata."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap._requirements import (
    RequirementsReport,
    find_distributions,
    requirements_report,
)
from conftest import write_dist

CORPUS = """\
# Course requirements, written as people write them.
cbt-met>=1.0          # a trailing comment
cbt-old>=2.0
cbt-absent
cbt-marker-true==1.0 ; python_version >= "3"
cbt-marker-false ; python_version < "3"
cbt-nowhere ; sys_platform == "no-such-platform"
cbt-extras[fast]>=1
cbt-pre>=1.0
cbt-continued \\
    >=1.0
-r more/extra.txt
--requirement=more/extra.txt
-c constraints.txt
-e ./my_lib
--extra-index-url https://download.example.org/whl
--no-index
--some-option
git+https://github.com/me/lib.git
https://example.org/wheels/lib-1.0-py3-none-any.whl
./vendor/lib-1.0-py3-none-any.whl
cbt-direct @ https://example.org/cbt_direct-1.0.whl
cbt-hashed==1.0 --hash=sha256:0123456789abcdef
cbt-bad >= = 1
cbt-odd-marker ; python_version ~= "abc"
-r more/missing.txt
"""

EXTRA = """\
# included from requirements.txt; it includes its includer back: a cycle
-r ../requirements.txt
cbt-included==3.0
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder of installed distributions, searched instead of sys.path."""
    folder = tmp_path / "site"
    write_dist(folder, "cbt-met", "1.5")
    write_dist(folder, "cbt-old", "1.0")
    write_dist(folder, "cbt-marker-true", "1.0")
    write_dist(
        folder,
        "cbt-extras",
        "1.2",
        extras=("fast",),
        requires=("cbt-speed>=2 ; extra == 'fast'", "cbt-base"),
    )
    write_dist(folder, "cbt-speed", "1.0")
    write_dist(folder, "cbt-pre", "2.0rc1")
    write_dist(folder, "cbt-continued", "1.0")
    write_dist(folder, "cbt-included", "3.0")
    return folder


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "project"
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def by_source(report: RequirementsReport) -> dict[str, str]:
    """Each line's source mapped to where the report put it."""
    placed = {}
    for kind in ("met", "missing", "mismatched", "not_needed"):
        for item in getattr(report, kind):
            placed[item.source] = kind
    for unchecked in report.not_checked:
        placed[unchecked.source] = "not_checked"
    return placed


def test_corpus_sorts_every_line(tmp_path: Path, site: Path) -> None:
    """Each line lands in its group: met, missing, mismatched, not needed, not checked."""
    project = project_with(tmp_path, {"requirements.txt": CORPUS, "more/extra.txt": EXTRA})
    report = requirements_report(project, path=[str(site)])
    assert by_source(report) == {
        "requirements.txt:2": "met",
        "requirements.txt:3": "mismatched",
        "requirements.txt:4": "missing",
        "requirements.txt:5": "met",
        "requirements.txt:6": "not_needed",
        "requirements.txt:7": "not_needed",
        "requirements.txt:8": "missing",
        "requirements.txt:9": "met",
        "requirements.txt:10": "met",
        "more/extra.txt:2": "not_checked",
        "more/extra.txt:3": "met",
        "requirements.txt:14": "not_checked",
        "requirements.txt:15": "not_checked",
        "requirements.txt:16": "not_checked",
        "requirements.txt:17": "not_checked",
        "requirements.txt:18": "not_checked",
        "requirements.txt:19": "not_checked",
        "requirements.txt:20": "not_checked",
        "requirements.txt:21": "not_checked",
        "requirements.txt:22": "not_checked",
        "requirements.txt:23": "not_checked",
        "requirements.txt:24": "not_checked",
        "requirements.txt:25": "not_checked",
        "requirements.txt:26": "not_checked",
    }
    assert report.files == (project / "requirements.txt", project / "more" / "extra.txt")
    assert not report.ok


def test_each_unchecked_line_says_why(tmp_path: Path, site: Path) -> None:
    """Lines only pip can judge carry a reason a user can act on; none is guessed at."""
    project = project_with(tmp_path, {"requirements.txt": CORPUS, "more/extra.txt": EXTRA})
    report = requirements_report(project, path=[str(site)])
    reasons = {item.line: item.reason for item in report.not_checked}
    assert (
        "include cycle (requirements.txt -> extra.txt -> requirements.txt)"
        in (reasons["-r ../requirements.txt"])
    )
    assert reasons["-c constraints.txt"].startswith("constraints file")
    assert reasons["-e ./my_lib"].startswith("editable install")
    assert reasons["--extra-index-url https://download.example.org/whl"] == (
        "pip option: passed on to pip install"
    )
    assert reasons["--some-option"] == "pip option this check does not judge"
    for location in (
        "git+https://github.com/me/lib.git",
        "https://example.org/wheels/lib-1.0-py3-none-any.whl",
        "./vendor/lib-1.0-py3-none-any.whl",
    ):
        assert reasons[location].startswith("a URL or local path")
    assert reasons["cbt-direct @ https://example.org/cbt_direct-1.0.whl"].startswith(
        "a direct URL reference"
    )
    assert "--hash" in reasons["cbt-hashed==1.0 --hash=sha256:0123456789abcdef"]
    assert reasons["cbt-bad >= = 1"].startswith("not a requirement packaging understands")
    assert reasons['cbt-odd-marker ; python_version ~= "abc"'].startswith(
        "its marker cannot be evaluated"
    )
    assert reasons["-r more/missing.txt"] == (
        f"included file not found: {project / 'more' / 'missing.txt'}"
    )
    # the second include of the same file is not a cycle: it is read once, silently
    assert "--requirement=more/extra.txt" not in reasons


def test_details_name_versions_and_the_extra(tmp_path: Path, site: Path) -> None:
    """Mismatches show installed vs required; an extra's unmet dependency makes it missing."""
    project = project_with(tmp_path, {"requirements.txt": CORPUS, "more/extra.txt": EXTRA})
    report = requirements_report(project, path=[str(site)])
    details = {item.name: item.detail for item in (*report.met, *report.unmet)}
    assert details["cbt-old"] == "1.0 installed, >=2.0 required"
    assert details["cbt-absent"] == "not installed"
    assert details["cbt-extras"] == "its extra [fast] needs cbt-speed (1.0 installed, >=2 required)"
    assert details["cbt-pre"] == "2.0rc1 installed"  # pip counts an installed pre-release too
    assert details["cbt-met"] == "1.5 installed"
    assert [item.installed for item in report.mismatched] == ["1.0"]
    assert [item.requirement for item in report.missing] == ["cbt-absent", "cbt-extras[fast]>=1"]


def test_pip_command_installs_only_the_unmet_with_the_files_index_options(
    tmp_path: Path, site: Path
) -> None:
    """One pip line: index options first, unmet requirements quoted for a shell, markers gone."""
    project = project_with(tmp_path, {"requirements.txt": CORPUS, "more/extra.txt": EXTRA})
    report = requirements_report(project, path=[str(site)])
    assert report.pip_args == (
        "install",
        "--extra-index-url",
        "https://download.example.org/whl",
        "--no-index",
        "cbt-absent",
        "cbt-extras[fast]>=1",
        "cbt-old>=2.0",
    )
    assert report.pip_command == (
        "pip install --extra-index-url https://download.example.org/whl --no-index "
        "cbt-absent 'cbt-extras[fast]>=1' 'cbt-old>=2.0'"
    )


def test_all_met_means_no_pip_command(tmp_path: Path, site: Path) -> None:
    """When everything checked is met there is nothing to run, even with unchecked lines."""
    project = project_with(tmp_path, {"requirements.txt": "cbt-met\n-e .\ncbt-old>=0.5\n"})
    report = requirements_report(project, path=[str(site)])
    assert report.ok
    assert report.pip_args is None
    assert report.pip_command is None
    assert str(report).splitlines()[0] == (
        "colab_bootstrap: all 2 requirements met (requirements.txt)"
    )


def test_included_file_relative_to_includer_and_read_once(tmp_path: Path, site: Path) -> None:
    """-r paths are relative to the file that includes them; a file included twice counts once."""
    project = project_with(
        tmp_path,
        {
            "requirements.txt": "-r reqs/a.txt\n-rreqs/b.txt\n",
            "reqs/a.txt": "-r b.txt\ncbt-met\n",
            "reqs/b.txt": "cbt-old\n",
        },
    )
    report = requirements_report(project, path=[str(site)])
    assert [item.source for item in report.met] == ["reqs/b.txt:1", "reqs/a.txt:2"]
    assert report.files == (
        project / "requirements.txt",
        project / "reqs" / "a.txt",
        project / "reqs" / "b.txt",
    )
    assert report.not_checked == ()


def test_self_include_is_a_cycle_not_a_hang(tmp_path: Path, site: Path) -> None:
    """A file including itself is read once and the line is reported."""
    project = project_with(tmp_path, {"requirements.txt": "-r requirements.txt\ncbt-met\n"})
    report = requirements_report(project, path=[str(site)])
    assert [item.name for item in report.met] == ["cbt-met"]
    assert report.not_checked[0].reason.startswith("include cycle")


def test_comments_continuations_and_environment_variables(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules of pip's files: '#' comments, backslash continuations, ${VAR} expansion, BOM."""
    monkeypatch.setenv("CBT_VERSION", "1.5")
    text = (
        "\ufeff# header\n"
        "   # indented comment \\\n"
        "cbt-met==${CBT_VERSION}\n"
        "cbt-old\\\n"
        "  ==1.0  # pinned\n"
        "url-with-fragment-is-not-a-comment#egg=x\n"
    )
    project = project_with(tmp_path, {"requirements.txt": text})
    report = requirements_report(project, path=[str(site)])
    assert [(item.requirement, item.source) for item in report.met] == [
        ("cbt-met==${CBT_VERSION}", "requirements.txt:3"),  # as written: pip gets 1.5
        ("cbt-old==1.0", "requirements.txt:4"),
    ]
    assert report.not_checked[0].line == "url-with-fragment-is-not-a-comment#egg=x"


def test_names_are_compared_normalized(tmp_path: Path) -> None:
    """Foo.Bar_baz in a file matches an installed foo-bar-baz, whatever the spelling of either."""
    site = tmp_path / "site"
    write_dist(site, "Foo.Bar-Baz", "2.0")
    write_dist(site, "cbt-renamed", "1.0", folder="strange_folder_name-1.0.dist-info")
    project = project_with(tmp_path, {"requirements.txt": "foo_bar.BAZ>=2\nCBT_Renamed\n"})
    report = requirements_report(project, path=[str(site)])
    assert [(item.name, item.installed) for item in report.met] == [
        ("foo-bar-baz", "2.0"),
        ("cbt-renamed", "1.0"),
    ]


def test_first_distribution_on_the_path_wins(tmp_path: Path) -> None:
    """As for imports, the earlier path entry's version is the one compared."""
    first, second = tmp_path / "first", tmp_path / "second"
    write_dist(first, "cbt-shadowed", "1.0")
    write_dist(second, "cbt-shadowed", "2.0")
    found = find_distributions(["CBT_Shadowed"], [str(first), str(second), str(tmp_path / "no")])
    assert found["cbt-shadowed"].version == "1.0"
    project = project_with(tmp_path, {"requirements.txt": "cbt-shadowed>=2\n"})
    report = requirements_report(project, path=[str(first), str(second)])
    assert report.mismatched[0].detail == "1.0 installed, >=2 required"


def test_broken_and_odd_installs(tmp_path: Path) -> None:
    """A dist-info without METADATA is not installed; a non-PEP 440 version is a mismatch."""
    site = tmp_path / "site"
    (site / "cbt_broken-1.0.dist-info").mkdir(parents=True)
    write_dist(site, "cbt-legacy", "1.0-custom-build")
    project = project_with(
        tmp_path, {"requirements.txt": "cbt-broken\ncbt-legacy>=1\ncbt-legacy\n"}
    )
    report = requirements_report(project, path=[str(site)])
    assert [item.name for item in report.missing] == ["cbt-broken"]
    assert report.mismatched[0].detail == (
        "installed version '1.0-custom-build' is not a PEP 440 version"
    )
    assert report.met[0].detail == "1.0-custom-build installed"  # no specifier: any will do


def test_metadata_without_a_name_header_is_no_install(tmp_path: Path) -> None:
    """Headers without Name are a broken install, even if the description has a 'Name:' line."""
    site = tmp_path / "site"
    for folder, text in (
        ("cbt_described-1.0.dist-info", "Version: 1.0\n\nName: cbt-described\n"),
        ("cbt_nameless-1.0.dist-info", "Version: 1.0\n"),
    ):
        (site / folder).mkdir(parents=True)
        (site / folder / "METADATA").write_text("Metadata-Version: 2.1\n" + text)
    project = project_with(tmp_path, {"requirements.txt": "cbt-described\ncbt-nameless\n"})
    report = requirements_report(project, path=[str(site)])
    assert [item.name for item in report.missing] == ["cbt-described", "cbt-nameless"]


def test_extra_the_package_does_not_provide_is_met_with_a_note(tmp_path: Path) -> None:
    """An unknown extra is met (pip only warns about it); the detail says so."""
    site = tmp_path / "site"
    write_dist(site, "cbt-plain", "1.0", requires=("cbt-dep ; extra == 'docs'",), extras=("docs",))
    write_dist(site, "cbt-dep", "1.0")
    project = project_with(tmp_path, {"requirements.txt": "cbt-plain[gpu]\ncbt-plain[docs]\n"})
    report = requirements_report(project, path=[str(site)])
    assert [item.detail for item in report.met] == [
        "1.0 installed; cbt-plain has no extra [gpu] (pip ignores it)",
        "1.0 installed",
    ]


def test_undecodable_file_is_not_checked(tmp_path: Path) -> None:
    """A requirements.txt that is not UTF-8 is reported, not half-read."""
    project = project_with(tmp_path, {})
    project.mkdir()
    (project / "requirements.txt").write_bytes(b"caf\xe9\n")
    report = requirements_report(project, path=[])
    assert report.not_checked[0].source == "requirements.txt"
    assert report.not_checked[0].reason.startswith("could not be read")


def test_no_requirement_files(tmp_path: Path) -> None:
    """A project without requirement files has nothing to check and says so."""
    project = project_with(tmp_path, {"main.py": ""})
    report = requirements_report(project)
    assert report.ok
    assert report.files == ()
    assert str(report) == (f"colab_bootstrap: no requirements.txt or pyproject.toml in {project}")


def test_default_path_is_this_interpreter(tmp_path: Path) -> None:
    """Without path=, the real environment is read: packaging is installed here."""
    from importlib.metadata import version

    project = project_with(tmp_path, {"requirements.txt": "packaging>=1\n"})
    report = requirements_report(project)
    assert report.met[0].installed == version("packaging")


def test_report_shows_as_text_and_html(tmp_path: Path, site: Path) -> None:
    """The summary names the fix as a notebook cell; HTML escapes the lines."""
    project = project_with(tmp_path, {"requirements.txt": "cbt-absent<2\ncbt-met\n"})
    report = requirements_report(project, path=[str(site)])
    text = str(report)
    assert text.splitlines()[0] == "colab_bootstrap: 1 of 2 requirements unmet (requirements.txt)"
    assert "  missing  cbt-absent<2  (requirements.txt:1): not installed" in text
    assert text.splitlines()[-1] == "  fix      !pip install 'cbt-absent<2'"
    assert "cbt-absent&lt;2" in report._repr_html_()


PYPROJECT = """\
[build-system]
requires = ["hatchling"]

[project]
name = "my-course"
version = "1.0"
dependencies = [
    "cbt-met>=1",  # a comment
    'cbt-absent; python_version >= "3"',
    "cbt-bad >= = 1",
]

[tool.other]
dependencies = ["ignored"]
"""


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib exists from Python 3.11")
def test_pyproject_dependencies_are_read(tmp_path: Path, site: Path) -> None:
    """[project] dependencies are checked like requirement lines, each with its index."""
    project = project_with(tmp_path, {"pyproject.toml": PYPROJECT})
    report = requirements_report(project, path=[str(site)])
    assert by_source(report) == {
        "pyproject.toml dependencies[1]": "met",
        "pyproject.toml dependencies[2]": "missing",
        "pyproject.toml dependencies[3]": "not_checked",
    }
    assert report.files == (project / "pyproject.toml",)
    assert report.pip_command == "pip install cbt-absent"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib exists from Python 3.11")
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[project]\nname = "x"\ndynamic = ["dependencies"]\n', "the build backend computes"),
        ('[project]\ndependencies = "numpy"\n', "not a list of strings"),
        ("[project\n", "could not be read as TOML"),
    ],
)
def test_pyproject_that_cannot_be_judged(tmp_path: Path, text: str, reason: str) -> None:
    """Dynamic dependencies, a wrong type and broken TOML are not checked, with the reason."""
    project = project_with(tmp_path, {"pyproject.toml": text})
    report = requirements_report(project, path=[])
    assert [item.source for item in report.not_checked] == ["pyproject.toml"]
    assert reason in report.not_checked[0].reason


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib exists from Python 3.11")
def test_pyproject_for_tools_only_has_no_requirements(tmp_path: Path) -> None:
    """A pyproject.toml without [project] (ruff settings, say) is not a requirements file."""
    project = project_with(tmp_path, {"pyproject.toml": "[tool.ruff]\nline-length = 100\n"})
    report = requirements_report(project, path=[])
    assert report.files == ()
    assert report.not_checked == ()


@pytest.mark.skipif(sys.version_info >= (3, 11), reason="Python 3.11+ reads it with tomllib")
def test_pyproject_without_tomllib_is_not_checked(tmp_path: Path, site: Path) -> None:
    """On 3.9/3.10 the dependencies are reported as not checked, saying why and what to do."""
    project = project_with(tmp_path, {"pyproject.toml": PYPROJECT, "requirements.txt": "cbt-met\n"})
    report = requirements_report(project, path=[str(site)])
    assert [item.name for item in report.met] == ["cbt-met"]
    (unchecked,) = report.not_checked
    assert unchecked.source == "pyproject.toml"
    assert "has no tomllib" in unchecked.reason
    assert "requirements.txt" in unchecked.reason


def test_setup_without_install_reads_nothing(mydrive: Path) -> None:
    """install=False (the default) leaves requirements alone and records nothing."""
    (mydrive / "proj").mkdir()
    (mydrive / "proj" / "requirements.txt").write_text("cbt-absent\n")
    project = colab_bootstrap.setup("proj", gpu="ignore", autoreload=False)
    assert project.installed is None
    assert "installed" not in str(project)


# --- install=True against a real fresh venv and a folder of hand-built wheels (no network) ---

PROCESS_LOG_HOOK = """\
import atexit, json, os, sys
_log = os.environ.get("CBT_PROCESS_LOG")
if _log:
    atexit.register(lambda: open(_log, "a").write(json.dumps(sys.argv) + "\\n"))
"""


def build_wheel(folder: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> Path:
    """Write a minimal valid pure-Python wheel: one module, METADATA, WHEEL and RECORD."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    metadata = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
    extras = sorted({r.split("extra == '")[1].rstrip("'") for r in requires if "extra ==" in r})
    metadata += [f"Provides-Extra: {extra}\n" for extra in extras]
    metadata += [f"Requires-Dist: {requirement}\n" for requirement in requires]
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": "".join(metadata),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@dataclass
class PipVenv:
    """A fresh venv with pip, colab_bootstrap on its path, and a log of every Python process."""

    python: Path
    wheels: Path
    log: Path

    def env(self, drive: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
        env.update(
            COLAB_BOOTSTRAP_DRIVE=str(drive),
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS=str(self.wheels),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            CBT_PROCESS_LOG=str(self.log),
        )
        return env

    def run(self, args: list[str], drive: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args],
            env=self.env(drive),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def pip_runs(self) -> list[list[str]]:
        """The argument lists of the pip processes started since the log was cleared."""
        if not self.log.exists():
            return []
        runs = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [argv for argv in runs if Path(argv[0]).parent.name == "pip"]


@pytest.fixture(scope="module")
def pip_venv(tmp_path_factory: pytest.TempPathFactory) -> PipVenv:
    """Create the venv once per module (python -m venv bundles pip offline)."""
    import packaging

    root = tmp_path_factory.mktemp("pip-venv")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=300)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = Path(purelib)
    # colab_bootstrap from this checkout, packaging from the test environment
    (site / "cbt_paths.pth").write_text(f"{SRC}\n{Path(packaging.__file__).parent.parent}\n")
    (site / "_cbt_process_log.py").write_text(PROCESS_LOG_HOOK)
    (site / "cbt_process_log.pth").write_text("import _cbt_process_log\n")
    wheels = root / "wheels"
    build_wheel(wheels, "cbt-alpha", "1.0")
    build_wheel(wheels, "cbt-beta", "1.0")
    build_wheel(wheels, "cbt-beta", "2.0")
    build_wheel(wheels, "cbt-gamma", "1.0", requires=("cbt-delta>=1 ; extra == 'fast'",))
    build_wheel(wheels, "cbt-delta", "1.0")
    venv = PipVenv(python, wheels, root / "processes.log")
    # cbt-beta 1.0 and cbt-gamma (without its extra) are there before the project asks
    done = venv.run(["-m", "pip", "install", "-q", "cbt-beta==1.0", "cbt-gamma"], root)
    assert done.returncode == 0, done.stderr
    venv.log.unlink()
    return venv


SRC = Path(__file__).parent.parent / "src"

DRIVER = """\
import json, sys, warnings
import colab_bootstrap
import cbt_beta  # 1.0, imported before the upgrade
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first = colab_bootstrap.setup("course", gpu="ignore", autoreload=False, install=True)
import cbt_alpha, cbt_delta
again = colab_bootstrap.setup("course", gpu="ignore", autoreload=False, install=True)
print(json.dumps({
    "first": first.installed,
    "again": again.installed,
    "versions": [cbt_alpha.VERSION, cbt_beta.VERSION, cbt_delta.VERSION],
    "summary": str(first),
    "warnings": [str(w.message) for w in caught],
}))
"""


def test_install_installs_only_the_unmet_then_starts_no_pip(
    pip_venv: PipVenv, tmp_path: Path
) -> None:
    """setup(install=True) pip-installs what is missing or mismatched once; re-runs start no pip."""
    drive = tmp_path / "My Drive"
    requirements = (
        "cbt-alpha>=1.0\n"
        "cbt-beta==2.0\n"
        "cbt-gamma[fast]\n"
        'cbt-never ; python_version < "3"\n'
        "-e ./not-checked\n"
    )
    (drive / "course").mkdir(parents=True)
    (drive / "course" / "requirements.txt").write_text(requirements)
    (tmp_path / "driver.py").write_text(DRIVER)

    done = pip_venv.run([str(tmp_path / "driver.py")], drive)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["first"] == ["cbt-alpha>=1.0", "cbt-gamma[fast]", "cbt-beta==2.0"]
    assert result["again"] == []
    # new ones are importable in the same kernel; the upgraded one stays old until a restart
    assert result["versions"] == ["1.0", "1.0", "1.0"]
    assert result["warnings"] == [
        "cbt_beta was imported before pip replaced it; this process keeps running the old "
        "version: restart the runtime (Runtime > Restart session), then re-run the notebook."
    ]
    assert "  installed    cbt-alpha>=1.0, cbt-gamma[fast], cbt-beta==2.0" in result["summary"]
    (pip_run,) = pip_venv.pip_runs()
    assert pip_run[1:] == [
        "install",
        "--disable-pip-version-check",
        "cbt-alpha>=1.0",
        "cbt-gamma[fast]",
        "cbt-beta==2.0",
    ]

    # a fresh process (a new session of the same runtime), through the command line
    again = pip_venv.run(
        ["-m", "colab_bootstrap", "setup", "course", "--gpu", "ignore", "--install"], drive
    )
    assert again.returncode == 0, again.stderr
    assert "installed    nothing (requirements already met)" in again.stdout
    assert len(pip_venv.pip_runs()) == 1


FAILING_DRIVER = """\
import sys
import colab_bootstrap
before = list(sys.path)
try:
    colab_bootstrap.setup("broken", gpu="ignore", autoreload=False, install=True)
except colab_bootstrap.RequirementsError as exc:
    print(exc)
    print("sys.path unchanged:", sys.path == before)
"""


def test_pip_failure_raises_with_pips_text_and_changes_nothing(
    pip_venv: PipVenv, tmp_path: Path
) -> None:
    """When pip fails, RequirementsError carries pip's own error and the fix; no path is added."""
    drive = tmp_path / "My Drive"
    (drive / "broken").mkdir(parents=True)
    (drive / "broken" / "requirements.txt").write_text("cbt-alpha\ncbt-nowhere==9.9\n")
    (tmp_path / "driver.py").write_text(FAILING_DRIVER)
    done = pip_venv.run([str(tmp_path / "driver.py")], drive)
    assert done.returncode == 0, done.stderr
    message = done.stdout
    assert message.startswith(
        f"pip could not install the requirements of {drive / 'broken'} (cbt-nowhere==9.9; "
        "exit status 1). pip said:\n"
    )
    assert "ERROR: No matching distribution found for cbt-nowhere==9.9" in message
    assert "Fix the requirement in requirements.txt" in message
    assert "run: !pip install cbt-nowhere==9.9\n" in message
    assert "sys.path unchanged: True" in message


def test_install_when_all_met_starts_no_process_here(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process too: met requirements start nothing (sys.executable is a logging wrapper)."""
    log = tmp_path / "started"
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    (mydrive / "proj").mkdir()
    (mydrive / "proj" / "requirements.txt").write_text("packaging\n-e .\n")
    project = colab_bootstrap.setup("proj", gpu="ignore", autoreload=False, install=True)
    assert project.installed == ()
    assert not log.exists()


def test_install_failure_here_names_the_command(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In this process: pip's failure (no index, or no pip at all) is a RequirementsError."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    (mydrive / "proj").mkdir()
    (mydrive / "proj" / "requirements.txt").write_text("cbt-nowhere>=1\n")
    before = list(sys.path)
    with pytest.raises(colab_bootstrap.RequirementsError) as info:
        colab_bootstrap.setup("proj", gpu="ignore", autoreload=False, install=True)
    text = str(info.value)
    assert "No matching distribution found for cbt-nowhere>=1" in text or (
        "No module named pip" in text
    )
    assert text.endswith("To see pip's whole output, run: !pip install 'cbt-nowhere>=1'")
    assert sys.path == before


def test_edges_of_the_file_format(tmp_path: Path, site: Path) -> None:
    """Includes outside the folder, a trailing continuation, and a bare wheel file name."""
    (tmp_path / "shared.txt").write_text("cbt-old\n")
    project = project_with(
        tmp_path,
        {"requirements.txt": "-r ../shared.txt\nvendor_lib-1.0-py3-none-any.whl\ncbt-met \\"},
    )
    report = requirements_report(project, path=[str(site)])
    assert [item.source for item in report.met] == [
        f"{tmp_path / 'shared.txt'}:1",
        "requirements.txt:3",
    ]
    assert report.not_checked[0].reason.startswith("a URL or local path")


def test_extras_with_broken_or_missing_dependencies(tmp_path: Path) -> None:
    """Someone else's broken Requires-Dist line is ignored; a missing extra dependency is named."""
    site = tmp_path / "site"
    write_dist(
        site,
        "cbt-lib",
        "1.0",
        extras=("docs",),
        requires=("cbt-x >= = 1 ; extra == 'docs'", "cbt-docs ; extra == 'docs'"),
    )
    project = project_with(tmp_path, {"requirements.txt": "cbt-lib[docs]\n"})
    report = requirements_report(project, path=[str(site)])
    assert report.missing[0].detail == "its extra [docs] needs cbt-docs (not installed)"


def test_command_line_install_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`colab-bootstrap setup PROJECT --install` reports what it installed (here: nothing)."""
    from colab_bootstrap._cli import main

    drive = tmp_path / "drive"
    (drive / "proj").mkdir(parents=True)
    (drive / "proj" / "requirements.txt").write_text("packaging\n")
    status = main(["setup", "proj", "--drive", str(drive), "--gpu", "ignore", "--install"])
    assert status == 0
    assert "  installed    nothing (requirements already met)" in capsys.readouterr().out


def test_legacy_egg_info_file_and_folder_are_installs(tmp_path: Path) -> None:
    """Old setuptools installs (an .egg-info file, or folder with PKG-INFO) count as installed."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "cbt_eggfile-1.0-py3.9.egg-info").write_text(
        "Metadata-Version: 1.0\nName: cbt-eggfile\nVersion: 1.0\n\nName: not-a-header\n"
    )
    (site / "cbt_eggdir.egg-info").mkdir()
    (site / "cbt_eggdir.egg-info" / "PKG-INFO").write_text("Name: cbt-eggdir\nVersion: 0.5\n")
    project = project_with(tmp_path, {"requirements.txt": "cbt-eggfile==1.0\ncbt-eggdir<1\n"})
    report = requirements_report(project, path=[str(site)])
    assert [(item.name, item.installed) for item in report.met] == [
        ("cbt-eggfile", "1.0"),
        ("cbt-eggdir", "0.5"),
    ]
