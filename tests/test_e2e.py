"""End to end: the README's local run, and the install cell plus the workflow in real kernels.

The kernel tests (marked ``slow``, run by ``nox -s e2e``) build fresh venvs: Colab's pins on
Python 3.13 (Colab's since 2026-08-19) and 3.12 (the 2026.07 runtime), and current
IPython/ipykernel on Python 3.13. Each kernel runs the generated snippet notebook's setup cell as
is, so ``pip install git+file://<this repo>@<HEAD>`` installs what is committed, against the fake
``google.colab`` and a fake ``nvidia-smi`` showing a T4. One more test runs ``reset(hard=True)``
in a kernel on Colab's pins under jupyter_client's kernel manager, whose autorestart must bring
up a fresh kernel (docs/restart.md).
"""

from __future__ import annotations

import ast
import asyncio
import html
import importlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
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


def _noxfile_pins() -> tuple[str, ...]:
    """noxfile.py's COLAB_PINS (Colab's runtime pins), read with ast: one list for both."""
    tree = ast.parse((REPO / "noxfile.py").read_text(encoding="utf-8"))
    pins: tuple[str, ...] = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "COLAB_PINS" for t in node.targets)
    )
    return pins


#: Colab's runtime pins (googlecolab/backend-info, 2026-08-19), as ``nox -s colab`` installs them.
COLAB_PINS = _noxfile_pins()
REPAIRED = "enabled (repaired IPython's missing 'imp')"
FLAVORS = [
    Flavor("colab-3.13", "python3.13", COLAB_PINS, REPAIRED),  # Colab since 2026-08-19
    Flavor("colab-3.12", "python3.12", COLAB_PINS, REPAIRED),  # the 2026.07 runtime
    Flavor("current", "python3.13", ("ipython", "ipykernel"), "enabled"),
]


def test_the_colab_pins_are_read_from_the_noxfile() -> None:
    """The kernels and ``nox -s colab`` install the same Colab pins, Colab's IPython among them."""
    assert "ipython==7.34.0" in COLAB_PINS
    assert "ipykernel==6.17.1" in COLAB_PINS


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


#: Prints the inode of the installed .dist-info folder: a reinstall makes a new one.
_DIST_INFO_INODE = (
    "import glob, os\n"
    "print(os.stat(glob.glob(os.path.join(os.path.dirname(os.path.dirname("
    "colab_bootstrap.__file__)), 'colab_bootstrap-*.dist-info'))[0]).st_ino)"
)


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
            f"print(colab_bootstrap.__file__)\n{_DIST_INFO_INODE}",
        ),
        # The install line again (a re-run cell): nothing reinstalled, nothing printed.
        ("install-again", f"{setup_source.splitlines()[0]}\n{_DIST_INFO_INODE}"),
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


def _jupyter_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point Jupyter at tmp_path/jupyter (kernelspecs, runtime files), never the user's home."""
    # Older jupyter_core warns at import unless told to use platformdirs (now its default).
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    jupyter = tmp_path / "jupyter"
    for variable, folder in (
        ("JUPYTER_PATH", jupyter),
        ("JUPYTER_DATA_DIR", jupyter / "data"),
        ("JUPYTER_RUNTIME_DIR", jupyter / "runtime"),
        ("JUPYTER_CONFIG_DIR", jupyter / "config"),
    ):
        monkeypatch.setenv(variable, str(folder))


def _execute(
    cells: list[tuple[str, str]],
    kernel: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, list[Any]]:
    """Run the cells with nbclient in ``kernel`` (registered under tmp_path); outputs by name."""
    _jupyter_dirs(tmp_path, monkeypatch)
    from nbclient import NotebookClient  # only the kernel tests need Jupyter's client

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
    # The project as the Drive mount shows it (project itself is the fake DriveFS's backing
    # folder, which the kernel must never use directly).
    assert link.resolve() == (fake_colab.mountpoint / "MyDrive" / PROJECT).resolve()

    installed = _text(out["installed"]).splitlines()
    assert installed[0] == head
    assert installed[1].startswith(str(venv))
    assert setup_cell["source"][0].startswith('!python -c "import colab_bootstrap" 2>/dev/null ||')
    assert _text(out["install-again"]).splitlines() == [installed[2]]  # the same .dist-info
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


# -- reset(hard=True) under a Jupyter kernel manager ------------------------------------------


@dataclass
class HardReset:
    """What the client and the kernel manager saw around ``reset(hard=True)``."""

    before: tuple[Any, ...]  # (pid, 'x' defined, colab_bootstrap imported, mymodule imported)
    cell_output: str  # the hard-reset cell's streams (stdout and stderr)
    cell_reply: str | None  # its execute_reply status, None when no reply came
    exit_codes: list[int | None]  # the old kernel's exit code, once per autorestart
    dead: bool  # the manager gave up ("dead" callback)
    restart_s: float  # from sending the cell until the new kernel answered
    after: tuple[Any, ...]  # the same state as ``before``, in the new kernel
    again: str  # stdout of the setup cell re-run in the new kernel


STATE = (
    "import os as _os, sys as _sys\n"
    "_state = (_os.getpid(), 'x' in globals(), 'colab_bootstrap' in _sys.modules, "
    "'mymodule' in _sys.modules)"
)


async def _run(client: Any, code: str, timeout: float = 120) -> tuple[str, Any]:
    """Execute ``code``; return its stream text and its reply."""
    msg_id = client.execute(code, user_expressions={"state": "_state"})
    text = ""
    while True:
        msg = await client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    while True:
        reply = await client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return text, reply


def _state(reply: Any) -> tuple[Any, ...]:
    result: tuple[Any, ...] = ast.literal_eval(
        reply["content"]["user_expressions"]["state"]["data"]["text/plain"]
    )
    return result


async def _until_restarted(
    client: Any, km: Any, msg_id: str, exit_codes: list[int | None]
) -> tuple[str, str | None]:
    """Collect the cell's streams and reply until the manager has restarted the kernel."""
    from queue import Empty

    output, status = "", None
    deadline = time.monotonic() + 60
    while not (exit_codes and km._restarter._restarting):  # restart_kernel() has returned
        assert time.monotonic() < deadline, f"no restart within 60 s; the cell printed:\n{output}"
        try:
            msg = await client.get_iopub_msg(timeout=0.05)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                output += msg["content"]["text"]
            reply = await client.get_shell_msg(timeout=0.001)
            if reply["parent_header"].get("msg_id") == msg_id:
                status = reply["content"]["status"]
                assert status == "ok", f"reset(hard=True) failed:\n{output}"
        except Empty:
            await asyncio.sleep(0.01)
    return output, status


async def _hard_reset(kernel: str, setup_cell: str) -> HardReset:
    """Start ``kernel`` under jupyter_client's autorestarting manager, then reset(hard=True)."""
    from traitlets.config import Config

    # Jupyter server's manager class; imported by name, as the typecheck venv has no Jupyter.
    manager = importlib.import_module("jupyter_client.ioloop")
    config = Config()
    config.AsyncIOLoopKernelRestarter.time_to_dead = 0.5  # poll every 0.5 s (Jupyter: 3 s)
    # A kernel up for more than stable_start_time (10 s) is restarted on the same ports; this
    # one dies sooner, so say the same explicitly (the client then simply reconnects).
    config.AsyncIOLoopKernelRestarter.random_ports_until_alive = False
    km = manager.AsyncIOLoopKernelManager(kernel_name=kernel, config=config)
    await km.start_kernel()
    exit_codes: list[int | None] = []
    dead: list[bool] = []

    def on_restart() -> None:  # before the restart: the provisioner still has the old process
        exit_codes.append(km.provisioner.process.returncode)

    km.add_restart_callback(on_restart, "restart")  # only once the restarter exists
    km.add_restart_callback(lambda: dead.append(True), "dead")
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=120)
        text, reply = await _run(client, setup_cell + "\n" + STATE)
        assert reply["content"]["status"] == "ok", text
        before = _state(reply)
        start = time.monotonic()
        msg_id = client.execute("colab_bootstrap.reset(hard=True)")
        cell_output, cell_reply = await _until_restarted(client, km, msg_id, exit_codes)
        await client.wait_for_ready(timeout=120)
        restart_s = time.monotonic() - start
        _, reply = await _run(client, STATE)
        after = _state(reply)
        again, reply = await _run(client, setup_cell + "\nprint(mymodule.greet())")
        assert reply["content"]["status"] == "ok", again
        return HardReset(
            before=before,
            cell_output=cell_output,
            cell_reply=cell_reply,
            exit_codes=exit_codes,
            dead=bool(dead),
            restart_s=restart_s,
            after=after,
            again=again,
        )
    finally:
        client.stop_channels()
        await km.shutdown_kernel(now=True)


@pytest.mark.slow
def test_hard_reset_ends_with_a_fresh_kernel_under_a_jupyter_kernel_manager(
    fake_colab: FakeColab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reset(hard=True) in a kernel on Colab's pins and Python: the manager starts a fresh one.

    The kernel runs this checkout's src/ (no commit needed), on the fake Colab. Jupyter's
    autorestart stands in for Colab's kernel manager, which is not available: it sees the kernel
    die and starts a new one on the same ports; the cell gets no reply, the warning names the
    setup cell, Drive stays mounted, and re-running that cell brings the project back.
    """
    flavor = FLAVORS[0]
    assert flavor.id == "colab-3.13"
    venv = _make_venv(flavor, tmp_path / "venv")
    fake_colab.project(PROJECT, {"mymodule.py": V1})
    env = _kernel_env(fake_colab, venv, tmp_path / "bin", tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(FAKES), str(REPO / "src")])
    kernel = "colab-bootstrap-e2e-hard-reset"
    _jupyter_dirs(tmp_path, monkeypatch)
    _kernelspec(tmp_path / "jupyter", kernel, venv, env)
    setup_cell = (
        "import colab_bootstrap\n"
        f"colab_bootstrap.setup({PROJECT!r}, mountpoint={str(fake_colab.mountpoint)!r}, "
        f"content_dir={str(fake_colab.content)!r}, gpu='ignore')\n"
        "import mymodule\nx = 42"
    )
    seen = asyncio.run(_hard_reset(kernel, setup_cell))

    assert seen.before[1:] == (True, True, True)
    assert seen.exit_codes == [-signal.SIGKILL], seen  # one restart, of a SIGKILLed kernel
    assert not seen.dead
    assert seen.cell_reply is None  # the cell never completes: the process died in it
    assert "ColabBootstrapWarning" in seen.cell_output, seen.cell_output
    assert "re-run the setup cell, In [1]:" in seen.cell_output, seen.cell_output
    assert seen.after[0] != seen.before[0]
    assert seen.after[1:] == (False, False, False)  # a fresh kernel: nothing of the old one
    # The manager killed the old kernel's process group; the Drive daemon is not in it.
    assert (fake_colab.mountpoint / "MyDrive").is_dir()
    assert seen.again.strip().splitlines()[-1] == "v1"
    assert seen.restart_s < 30, seen
