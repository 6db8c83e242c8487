"""Development sessions: ``nox`` runs the default set (tests, Colab pins, e2e, lint, types).

``colab`` runs the suite on Colab's pins, on Colab's Python 3.13 (``colab-3.13``) and on the
still selectable 3.12 runtime (``colab-3.12``); ``nox -s colab`` runs both.

Interpreters that are absent are skipped, except in CI (``CI`` set), where they are an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
#: Colab's runtime as googlecolab/backend-info lists it (2026-08-19: Python 3.13.15), every pin
#: that installs on our interpreters (GPUtil is not preinstalled; we depend on it anyway). pip is
#: what the e2e install cell runs. tests/test_e2e.py checks that its copy matches this one.
COLAB_PINS = (
    "ipython==7.34.0",
    "ipykernel==6.17.1",
    "pip==24.1.2",
    "setuptools==75.2.0",
    "wheel==0.48.0",
    "requests==2.32.4",
    "packaging==26.3",
    "pexpect==4.9.0",
    "psutil==5.9.5",
)
#: Colab's Python (since 2026-08-19) first, then the 2026.07 runtime's, which stays selectable.
COLAB_PYTHONS = ["3.13", "3.12"]
#: Where every session's coverage data goes (pyproject's data_file points here too).
COVERAGE_DATA = Path.cwd() / "build" / "coverage"


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _coverage_env(session: nox.Session) -> dict[str, str]:
    """Measure subprocesses of this venv's Python too (many tests run a real IPython in one).

    A .pth file in the venv starts coverage in every process that finds
    COVERAGE_PROCESS_START. The data files all go to build/coverage/ (absolute: those
    processes run in tmp folders), where `nox -s coverage` combines them.
    """
    site = session.run(
        "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", silent=True
    )
    Path(str(site).strip(), "colab_bootstrap_coverage.pth").write_text(
        "import coverage; coverage.process_startup()\n"
    )
    COVERAGE_DATA.mkdir(parents=True, exist_ok=True)
    return {
        "COVERAGE_FILE": str(COVERAGE_DATA / f".coverage.{session.name}"),
        "COVERAGE_PROCESS_START": str(Path.cwd() / "pyproject.toml"),
    }


def _pytest(session: nox.Session, *args: str) -> None:
    session.run(
        "coverage", "run", "-m", "pytest", *args, *session.posargs, env=_coverage_env(session)
    )


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest options after --)."""
    session.install("-e", ".", *_group("test"))
    _pytest(session, "-m", "not slow")


@nox.session(python=COLAB_PYTHONS)
def colab(session: nox.Session) -> None:
    """The suite on Colab's pins (IPython 7.34.0, ipykernel 6.17.1); 3.12 is the 2026.07 runtime."""
    session.install("-e", ".", *_group("test"), *COLAB_PINS)
    _pytest(session, "-m", "not slow")


@nox.session(python="3.12")
def e2e(session: nox.Session) -> None:
    """Real Jupyter kernels: the notebook on Colab's pins (3.13, 3.12) and current IPython.

    Also reset(hard=True) under jupyter_client's autorestarting kernel manager (see
    docs/restart.md). The install cell installs the committed HEAD: commit before running this.
    """
    session.install("-e", ".", *_group("test"), "uv")
    _pytest(session, "-m", "slow")


def _gpu_tests(session: nox.Session, *, setuptools: bool) -> None:
    """Run tests/test_gpu.py after checking that setuptools (so GPUtil) is there or not."""
    session.install("-e", ".", *_group("test"), *(["setuptools"] if setuptools else []))
    probe = "import importlib.util as u; print(u.find_spec('setuptools') is not None)"
    found = str(session.run("python", "-c", probe, silent=True)).strip() == "True"
    if found != setuptools:
        session.error(
            f"setuptools is {'missing from' if setuptools else 'present in'} this venv, so the "
            "session would not test what it says; recreate it (nox -r) with the uv backend."
        )
    session.run(
        "coverage",
        "run",
        "-m",
        "pytest",
        *(session.posargs or ["tests/test_gpu.py"]),
        env={
            **_coverage_env(session),
            "COLAB_BOOTSTRAP_EXPECT_GPUTIL": "1" if setuptools else "0",
        },
    )


@nox.session(python="3.12", name="gpu-nosetuptools")
def gpu_nosetuptools(session: nox.Session) -> None:
    """GPU check on 3.12 without setuptools: plain `import GPUtil` fails, the check still works."""
    _gpu_tests(session, setuptools=False)


@nox.session(python="3.12", name="gpu-setuptools")
def gpu_setuptools(session: nox.Session) -> None:
    """GPU check on 3.12 with setuptools (Colab's case): GPUtil's failures must be caught."""
    _gpu_tests(session, setuptools=True)


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.12")
def typecheck(session: nox.Session) -> None:
    """Mypy strict on src, tests and this file."""
    session.install("-e", ".", *_group("typecheck"), "nox")
    session.run("mypy", *session.posargs)


@nox.session(python=COLAB_PYTHONS[0], default=False)
def bench(session: nox.Session) -> None:
    """The benchmark table, measured in a Colab-like venv that benchmarks/run.py builds itself.

    The script downloads Colab's pins and GPUtil into build/bench-wheels once (the only step that
    needs a network), makes a Python 3.13 venv from them (build/bench-colab), measures the install
    cell there (it installs the committed HEAD: commit first), then runs every other row inside
    that venv. Pass options after --, e.g. ``nox -s bench -- --rounds 3``.
    """
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python="3.12", default=False)
def mutation(session: nox.Session) -> None:
    """Mutation testing: mutmut, then every survivor re-checked in a fresh process.

    Not in the default set nor in CI: two hours or more on two cores. Prints the score per module
    (target 90%) and the diff of every mutant no test kills; exits 1 when a module misses the
    target. See mutation/score.py; pass its options after --, e.g. ``-- --no-mutmut``.
    """
    session.install("-e", ".", *_group("test"), "mutmut==3.8.1")
    session.run("python", "mutation/score.py", *session.posargs)


@nox.session(python="3.12", default=False)
def coverage(session: nox.Session) -> None:
    """Combine the coverage of earlier sessions and report it."""
    session.install("coverage[toml]")
    session.run("coverage", "combine", success_codes=[0, 1])
    session.run("coverage", "report")
