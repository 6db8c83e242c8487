"""End to end: the README's local run, and the install cell plus the workflow in real kernels.

The kernel tests (marked ``slow``, run by ``nox -s e2e``) build fresh venvs: Colab's pins on
Python 3.12 and current IPython/ipykernel on Python 3.13. Each kernel runs the generated
snippet notebook's setup cell as is, so ``pip install git+file://<this repo>@<HEAD>`` installs
what is committed, against the fake ``google.colab`` and a fake ``nvidia-smi`` showing a T4.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import nbformat
import pytest

import colab_bootstrap
from colab_bootstrap._copies import copy_of
from conftest import FAKES, FakeColab, nvidia_data, tree_digest, write_fake_nvidia_smi

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "MyDrive"
IN_CI = bool(os.environ.get("CI"))


# -- "Try it without Colab": the README's command on the example folder ---------------------


def _readme_commands() -> list[list[str]]:
    """The colab-bootstrap invocations of the README's "Try it without Colab" command."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try it without Colab", 1)[1]
    block = re.search(r"```bash\n(.+?)```", section, re.DOTALL)
    assert block is not None, "the README lost its 'Try it without Colab' command"
    commands = []
    for part in block[1].replace("\\\n", " ").split("&&"):
        words = shlex.split(part)
        if words and Path(words[0]).name == "colab-bootstrap":
            commands.append(words[1:])
    return commands


def test_readme_local_run_leaves_the_example_folder_untouched(tmp_path: Path) -> None:
    """The README's one command runs on examples/MyDrive and changes nothing in it."""
    commands = _readme_commands()
    assert ["setup", "fastai_course2", "--drive", "examples/MyDrive"] in commands
    assert ["doctor", "fastai_course2", "--drive", "examples/MyDrive", "--offline"] in commands
    before = tree_digest(EXAMPLES)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for arguments in commands:
        proc = subprocess.run(
            [sys.executable, "-m", "colab_bootstrap", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
            env=env,
        )
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        if arguments[0] == "setup":
            assert proc.returncode == 0, proc.stderr
            assert "project 'fastai_course2' is ready" in proc.stdout
        if arguments[0] == "doctor":
            assert proc.returncode == 1, proc.stdout  # the unmet requirements fail
            for finding in ("preprocessing (1).py", "Windows path: training.py", "missing: "):
                assert finding in proc.stdout, proc.stdout
    assert tree_digest(EXAMPLES) == before


def test_example_project_holds_each_kind_of_trouble() -> None:
    """The example keeps what the README promises to show: modules, a (1) copy, a Windows path."""
    project = EXAMPLES / "fastai_course2"
    names = sorted(p.name for p in project.iterdir())
    modules = [n for n in names if n.endswith(".py") and copy_of(n) is None]
    assert len(modules) >= 2
    assert [copy_of(n) for n in names if copy_of(n)] == [("preprocessing.py", 1)]
    assert any("..\\\\" in (project / m).read_text() for m in modules)
    assert (project / "requirements.txt").read_text().strip()


# -- The kernels -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Flavor:
    """One kernel to run the notebook in."""

    id: str
    python: str
    packages: tuple[str, ...]
    autoreload: str  # what Project.autoreload says after setup()


FLAVORS = [
    Flavor(
        "colab-pins",
        "python3.12",
        # Colab's pins (its runtime's pip freeze), plus two packages Colab always has.
        ("ipython==7.34.0", "ipykernel==6.17.1", "setuptools==75.2.0", "requests", "packaging"),
        "enabled (repaired IPython's missing 'imp')",
    ),
    Flavor("current", "python3.13", ("ipython", "ipykernel"), "enabled"),
]

PROJECT = "e2e_course"
V1 = "def greet():\n    return 'v1'\n"
V2 = "def greet():\n    return 'v2'\n"
V3 = "def greet():\n    return 'v3, after an edit autoreload missed'\n"


def _missing(what: str) -> NoReturn:
    """Fail in CI (where everything must run), skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} (CI must run the end-to-end tests)")
    pytest.skip(what)


def _interpreter(name: str) -> str:
    """Path of a working ``python3.X`` on PATH (a pyenv shim for another version is not)."""
    found = shutil.which(name)
    if found is not None:
        probe = subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.split() == name[len("python") :].split("."):
            return found
    _missing(f"no working {name} on PATH")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()


def _committed_head() -> str:
    """HEAD of this checkout; refuses when the code to install differs from what is committed."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        _missing("not a git checkout: the install cell installs a commit")
    dirty = _git("status", "--porcelain", "--", "src", "pyproject.toml")
    if dirty:
        pytest.fail(
            "src/ or pyproject.toml has uncommitted changes, and the install cell installs the "
            f"commit, not the working tree. Commit (or stash) first:\n{dirty}"
        )
    return _git("rev-parse", "HEAD")


def _make_venv(flavor: Flavor, where: Path) -> Path:
    """A fresh venv with real pip and the flavor's packages (uv when present, for speed)."""
    python = _interpreter(flavor.python)
    uv = shutil.which("uv")
    if uv is not None:
        create = [uv, "venv", "-q", "--seed", "-p", python, str(where)]
        install = [uv, "pip", "install", "-q", "-p", str(where / "bin" / "python")]
    else:  # pragma: no cover - nox's e2e session installs uv
        create = [python, "-m", "venv", str(where)]
        install = [str(where / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(create, check=True, timeout=300)
    subprocess.run([*install, *flavor.packages], check=True, timeout=600)
    assert (where / "bin" / "pip").exists()
    return where


def _cells(fake: FakeColab, setup_source: str) -> list[tuple[str, str]]:
    """The notebook, as (name, source): setup, import, edits, autoreload, stale/reset, doctor."""
    module = fake.mydrive / PROJECT / "mymodule.py"
    edit = textwrap.dedent(
        """\
        import os
        path = {path!r}
        old = os.stat(path).st_mtime
        with open(path, "w") as handle:
            handle.write({text!r})
        os.utime(path, (old {shift}, old {shift}))
        """
    )
    cells = [
        ("setup", setup_source),
        (
            "installed",
            "import importlib.metadata, json\n"
            "dist = importlib.metadata.distribution('colab-bootstrap')\n"
            "print(json.loads(dist.read_text('direct_url.json'))['vcs_info']['commit_id'])\n"
            "print(colab_bootstrap.__file__)",
        ),
        (
            "import",
            "from mymodule import *\nimport sys\nprint(greet())\n"
            "print(sys.modules['mymodule'].__file__)",
        ),
        ("edit", edit.format(path=str(module), text=V2, shift="+ 10")),
        ("autoreload", "print(greet())"),
    ]
    cells += [
        ("older-edit", edit.format(path=str(module), text=V3, shift="- 60")),
        ("missed", "print(greet())"),
        ("stale", "print([(m.name, m.reason) for m in colab_bootstrap.stale()])"),
        ("reset", "report = colab_bootstrap.reset()\nprint(greet())"),
        ("fresh", "print(colab_bootstrap.stale())"),
        (
            "doctor",
            "report = colab_bootstrap.doctor()\n"
            "print(report.ok, report['Drive'].status, report['Project'].status)\nreport",
        ),
    ]
    return cells


def _kernelspec(jupyter: Path, name: str, venv: Path, env: dict[str, str]) -> None:
    """Register ``name`` under ``jupyter/kernels`` (a tmp JUPYTER_PATH, not the user's home)."""
    folder = jupyter / "kernels" / name
    folder.mkdir(parents=True)
    spec = {
        "argv": [
            str(venv / "bin" / "python"),
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
        "display_name": name,
        "language": "python",
        "env": env,
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def _text(outputs: list[Any]) -> str:
    parts = []
    for output in outputs:
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"] + "\n")
    return "".join(parts)


def _html(outputs: list[Any]) -> str:
    """The HTML outputs, entities decoded (the text a user reads)."""
    return html.unescape("".join(o["data"].get("text/html", "") for o in outputs if "data" in o))


def _kernel_env(fake: FakeColab, venv: Path, smi_bin: Path, tmp_path: Path) -> dict[str, str]:
    """What the kernel sees: the fake Colab, nvidia-smi, the venv's pip, caches in tmp_path."""
    env = fake.env()
    env.pop("COLAB_BOOTSTRAP_DRIVE", None)  # setup() must mount the fake Drive
    env.update(
        PATH=os.pathsep.join([str(smi_bin), str(venv / "bin"), os.environ["PATH"]]),
        PYTHONPATH=str(FAKES),  # only the fake google.colab; nothing from this checkout
        VIRTUAL_ENV=str(venv),
        XDG_CACHE_HOME=str(tmp_path / "cache"),  # pip's cache and setup()'s byte-code folder
        IPYTHONDIR=str(tmp_path / "ipython"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_ROOT_USER_ACTION="ignore",
        PYDEVD_DISABLE_FILE_VALIDATION="1",  # ipykernel's debugger chatter on stderr
    )
    return env


def _execute(
    cells: list[tuple[str, str]],
    kernel: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, list[Any]]:
    """Run the cells with nbclient in ``kernel`` (registered under tmp_path); outputs by name."""
    # Older jupyter_core warns at import unless told to use platformdirs (now its default).
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    from nbclient import NotebookClient  # only the kernel tests need Jupyter's client

    jupyter = tmp_path / "jupyter"
    for variable, folder in (
        ("JUPYTER_PATH", jupyter),
        ("JUPYTER_DATA_DIR", jupyter / "data"),
        ("JUPYTER_RUNTIME_DIR", jupyter / "runtime"),
        ("JUPYTER_CONFIG_DIR", jupyter / "config"),
    ):
        monkeypatch.setenv(variable, str(folder))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for _, source in cells]
    workdir = tmp_path / "work"
    workdir.mkdir()
    NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=300,
        startup_timeout=120,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()
    return {name: cell.outputs for (name, _), cell in zip(cells, notebook.cells)}


@pytest.mark.slow
@pytest.mark.parametrize("flavor", FLAVORS, ids=[f.id for f in FLAVORS])
def test_notebook_in_a_real_kernel(
    flavor: Flavor, fake_colab: FakeColab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snippet setup cell installs the commit; imports, autoreload, reset, doctor all work."""
    head = _committed_head()
    venv = _make_venv(flavor, tmp_path / "venv")
    project = fake_colab.project(PROJECT, {"mymodule.py": V1})
    smi = write_fake_nvidia_smi(
        tmp_path / "bin", query=nvidia_data("t4.csv"), listing=nvidia_data("list-t4.txt")
    )
    snippet_notebook = colab_bootstrap.snippets(
        PROJECT,
        install_url=f"git+{REPO.as_uri()}@{head}",
        mountpoint=str(fake_colab.mountpoint),
        content_dir=str(fake_colab.content),
    )
    setup_cell = next(c for c in snippet_notebook["cells"] if c["cell_type"] == "code")
    cells = _cells(fake_colab, "".join(setup_cell["source"]))
    for cell in snippet_notebook["cells"][2:]:  # the other snippets, as generated
        source = "".join(cell["source"])
        called = re.search(r"colab_bootstrap\.(\w+)\(", source)
        if called:
            cells.append((cell["id"], source))
    kernel = f"colab-bootstrap-e2e-{flavor.id}"
    _kernelspec(
        tmp_path / "jupyter", kernel, venv, _kernel_env(fake_colab, venv, smi.bin_dir, tmp_path)
    )
    out = _execute(cells, kernel, tmp_path, monkeypatch)

    setup_text, setup_html = _text(out["setup"]), _html(out["setup"])
    assert f"Mounted at {fake_colab.mountpoint}" in setup_text
    assert f"project {PROJECT!r} is ready" in setup_html
    assert "Tesla T4" in setup_html
    row = re.search(r">autoreload</td><td[^>]*>(.*?)</td>", setup_html)
    assert row is not None, setup_html
    assert row[1] == flavor.autoreload, setup_text
    # One mount by the setup cell, one forced remount by the "reset with remount" snippet.
    assert [call["mountpoint"] for call in fake_colab.calls("mounted")] == [
        str(fake_colab.mountpoint)
    ] * 2
    assert [call["force_remount"] for call in fake_colab.calls("mount")] == [False, True]
    link = fake_colab.content / PROJECT
    assert link.is_symlink()
    assert link.resolve() == project.resolve()

    installed = _text(out["installed"]).splitlines()
    assert installed[0] == head
    assert installed[1].startswith(str(venv))
    imported = _text(out["import"]).splitlines()
    assert imported == ["v1", str(link / "mymodule.py")]
    assert _text(out["autoreload"]) == "v2\n"
    assert not list(project.rglob("__pycache__")), "byte-code was written into Drive"

    assert _text(out["missed"]) == "v2\n"  # the older mtime fooled autoreload...
    assert _text(out["stale"]) == "[('mymodule', 'changed')]\n"  # ...not stale()
    assert _text(out["reset"]) == "v3, after an edit autoreload missed\n"
    assert _text(out["fresh"]) == "[]\n"
    # doctor() without arguments looks where setup() looked (a non-default mountpoint here).
    assert _text(out["doctor"]).splitlines()[0] == "True ok ok", _html(out["doctor"])
    assert "colab_bootstrap doctor" in _html(out["doctor"])
    # The generated snippets, run as they are in the same kernel.
    assert "colab_bootstrap doctor" in _html(out["doctor-code"])
    assert "✗" not in _html(out["doctor-code"])
    assert "mymodule" in _html(out["reset-code"])
    assert "remount" in _html(out["reset-remount-code"]).lower()
    assert "dedupe" in _html(out["dedupe-code"]).lower()
