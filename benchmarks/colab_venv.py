"""A Colab-like venv for the benchmarks, and the install cell's rows measured in it.

Colab's runtime, as googlecolab/backend-info lists it (2026-08-19): Python 3.13 with pip 24.1.2,
setuptools 75.2.0, wheel 0.48.0, requests 2.32.4, packaging 26.3 and IPython 7.34.0 installed;
GPUtil is not. The pins are noxfile.py's ``COLAB_PINS`` (read with ``ast``: one list for the
test sessions, the end-to-end kernels and these benchmarks).

The wheels (and GPUtil's sdist) are downloaded once into a wheel folder (``build/bench-wheels``
by default, kept between runs); every install after that runs with ``--no-index`` against it, so
the measured figures use no network. pip runs with ``--no-cache-dir`` semantics
(``PIP_NO_CACHE_DIR``) and ignores the machine's pip configuration (``PIP_CONFIG_FILE``), as on a
fresh runtime.
"""

from __future__ import annotations

import ast
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent
#: Colab's Python since 2026-08-19.
COLAB_PYTHON = "3.13"
#: What the install cell installs from PyPI besides us (GPUtil's sdist, built on install).
GPUTIL = "GPUtil==1.4.0"


class RowData(TypedDict):
    """One round's figures of one row: run.py turns these into its rows."""

    name: str
    ours_s: float
    baseline_s: float
    baseline: str
    target: float | None
    why: str  # the known cause, printed when the target is missed


#: Where the first run's own time goes (measured on the development machine, 2026-12-02).
FIRST_RUN_COST = (
    "Ours is GPUtil's install (~0.8 s, the baseline) plus ~0.5 s of our own: pip's git clone "
    "and checkout (~0.17 s), three build-hook processes (~0.15 s: ~0.03 s each is pip's hook "
    "runner starting Python, ~0.06 s in all is our backend reading pyproject.toml and zipping "
    "the wheel), byte-compiling our 32 modules on install (~0.09 s) and pip's work for a second "
    "package. With hatchling (before 2026-12-02) the cell took ~2.0 s (2.6x): pip first "
    "installed hatchling and four more wheels into a build environment (~0.45 s, and a PyPI "
    "download on Colab). What is left is the fixed cost of a git install of a 420 KB package; "
    "only a prebuilt wheel (no clone, no build) would go lower."
)


def _literal(file: Path, name: str) -> object:
    """The value of the module-level ``name = <literal>`` in ``file``, read with ``ast``."""
    for node in ast.parse(file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{file.relative_to(ROOT)} has no {name}")


def colab_pins() -> tuple[str, ...]:
    """noxfile.py's COLAB_PINS."""
    pins = _literal(ROOT / "noxfile.py", "COLAB_PINS")
    assert isinstance(pins, tuple)
    return pins


def offline_env(wheels: Path, venv: Path) -> dict[str, str]:
    """Environment for pip: the wheel folder only, no cache, none of the machine's pip settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_NO_CACHE_DIR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_ROOT_USER_ACTION="ignore",
        VIRTUAL_ENV=str(venv),
        PATH=os.pathsep.join([str(venv / "bin"), env.get("PATH", os.defpath)]),
    )
    return env


def fill_wheels(wheels: Path, python: Path) -> None:
    """Download the pins and GPUtil into ``wheels`` once (the only step that needs a network).

    ``python`` is the new venv's interpreter (its pip comes from ``ensurepip``), so the wheels
    match its version and platform.
    """
    wanted = sorted((*colab_pins(), GPUTIL))
    done = wheels / "requirements.txt"
    if done.is_file() and done.read_text().split() == wanted:
        return
    wheels.mkdir(parents=True, exist_ok=True)
    # GPUtil has only an sdist on PyPI: Colab builds it on install, and so does the row.
    subprocess.run(
        [str(python), "-m", "pip", "download", "-q", "-d", str(wheels), *wanted],
        check=True,
        timeout=900,
    )
    done.write_text("\n".join(wanted) + "\n")


def make_venv(where: Path, python: str, wheels: Path) -> Path:
    """A fresh venv at ``where`` with Colab's pins from ``wheels``; return its interpreter.

    ``python`` may itself be a venv's (nox's, which has no pip): the new venv gets pip from
    ``ensurepip``, fills the wheel folder if needed, then installs the pins from it offline.
    """
    if where.exists():
        shutil.rmtree(where)
    subprocess.run([python, "-m", "venv", str(where)], check=True, timeout=300)
    venv_python = where / "bin" / "python"
    fill_wheels(wheels, venv_python)
    env = offline_env(wheels, where)
    pins = colab_pins()
    pip = next(p for p in pins if p.startswith("pip=="))
    for batch in ([pip], [p for p in pins if p != pip]):
        subprocess.run(
            [str(venv_python), "-m", "pip", "install", "-q", *batch],
            check=True,
            timeout=900,
            env=env,
        )
    return venv_python


def install_line(url: str) -> str:
    """The README's install line (``_snippets.INSTALL_LINE``) as the shell runs it, no ``!``."""
    line = _literal(ROOT / "src" / "colab_bootstrap" / "_snippets.py", "INSTALL_LINE")
    assert isinstance(line, str)
    return line.format(url=url).removeprefix("!")


def head_url() -> str:
    """``git+file://<repo>@<HEAD>``: the install cell installs what is committed."""
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    return f"git+{ROOT.as_uri()}@{head}"


def _shell(line: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        ["/bin/sh", "-c", line], env=env, capture_output=True, text=True, check=False, timeout=600
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{line!r} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def _uninstall(venv: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "uninstall",
            "-q",
            "-y",
            "colab-bootstrap",
            "GPUtil",
        ],
        env=env,
        capture_output=True,
        check=False,
        timeout=300,
    )


def install_cell(venv: Path, wheels: Path, url: str) -> None:
    """Run the install line once in a venv without the package, as a fresh runtime does."""
    env = offline_env(wheels, venv)
    _uninstall(venv, env)
    _shell(install_line(url), env)


def install_rows(venv: Path, wheels: Path, url: str, repeat: int) -> list[RowData]:
    """One round of the install cell's rows in the venv at ``venv``.

    Each sample starts from a venv without colab_bootstrap and GPUtil. The first run of the
    install line is interleaved with installing GPUtil alone the same way (``pip install -q``,
    offline, no cache; which goes first alternates); then the same line runs again with
    colab_bootstrap installed (the re-run of the cell). The venv is left with the package
    installed by the install cell, as on Colab after the cell.
    """
    env = offline_env(wheels, venv)
    line = install_line(url)
    first: list[float] = []
    alone: list[float] = []
    again: list[float] = []
    for i in range(repeat):
        order = ("ours", "gputil") if i % 2 == 0 else ("gputil", "ours")
        for side in order:
            _uninstall(venv, env)
            if side == "ours":
                first.append(_shell(line, env))
                again.append(_shell(line, env))
            else:
                alone.append(_shell(f"pip install -q {GPUTIL}", env))
    install_cell(venv, wheels, url)
    median = statistics.median
    return [
        RowData(
            name="install cell, first run (Colab-like venv, local wheels, git+file clone)",
            ours_s=median(first),
            baseline_s=median(alone),
            baseline="pip install -q GPUtil alone, the same way",
            target=1.5,
            why=FIRST_RUN_COST,
        ),
        RowData(
            name="install cell, re-run with colab_bootstrap installed",
            ours_s=median(again),
            baseline_s=median(first),
            baseline="the install cell's first run",
            target=0.1,
            why="",
        ),
    ]
