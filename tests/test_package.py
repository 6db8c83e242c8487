"""The package itself: version, cheap import, public names, the setup command line."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap._cli import main


def test_version_has_one_source() -> None:
    """The installed metadata and __version__ agree."""
    assert metadata.version("colab-bootstrap") == colab_bootstrap.__version__


def test_import_loads_nothing_heavy() -> None:
    """A fresh `import colab_bootstrap` loads only our version and error modules."""
    code = (
        "import sys; before = set(sys.modules); import colab_bootstrap; "
        "print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(eval(out))  # noqa: S307 - our own subprocess printed a list literal
    assert loaded <= {
        "colab_bootstrap",
        "colab_bootstrap._errors",
        "colab_bootstrap._version",
        "__future__",
    }


def test_public_names_resolve_lazily() -> None:
    """Every name in __all__ resolves, and unknown names raise AttributeError."""
    for name in colab_bootstrap.__all__:
        assert getattr(colab_bootstrap, name) is not None
    assert set(colab_bootstrap.__all__) <= set(dir(colab_bootstrap))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        colab_bootstrap.nope  # noqa: B018


def test_errors_are_catchable_by_base_and_value_error() -> None:
    """InvalidProjectError is both our base error and a ValueError; warnings subclass ours."""
    assert issubclass(colab_bootstrap.InvalidProjectError, ValueError)
    assert issubclass(colab_bootstrap.LinkConflictError, colab_bootstrap.ColabBootstrapError)
    assert issubclass(colab_bootstrap.ColabBootstrapWarning, UserWarning)


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the version and exits 0."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"colab-bootstrap {colab_bootstrap.__version__}"


def test_cli_without_command_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    """No subcommand: usage on stdout and exit 2."""
    assert main([]) == 2
    assert "usage: colab-bootstrap" in capsys.readouterr().out


def test_cli_setup_prints_the_project(mydrive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`setup PROJECT` prints the summary; warnings go to stderr prefixed 'warning:'."""
    (mydrive / "proj").mkdir()
    assert main(["setup", "proj"]) == 0
    captured = capsys.readouterr()
    assert "project 'proj' is ready" in captured.out
    assert captured.err.startswith("warning: No GPU")


def test_cli_setup_errors(mydrive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing folder exits 1 with the error; a bad name exits 2."""
    assert main(["setup", "nothere", "--gpu", "ignore"]) == 1
    assert "error: Project folder" in capsys.readouterr().err
    assert main(["setup", "../x", "--gpu", "ignore"]) == 2
    assert "'..'" in capsys.readouterr().err


def test_cli_as_module_subprocess(mydrive: Path) -> None:
    """`python -m colab_bootstrap setup` runs in a real process."""
    (mydrive / "proj").mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "colab_bootstrap",
            "setup",
            "proj",
            "--drive",
            str(mydrive),
            "--gpu",
            "ignore",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "is ready" in proc.stdout


def test_html_escape_matches_the_standard_library() -> None:
    """Our escape (which avoids importing html.entities) gives html.escape's output."""
    import html

    from colab_bootstrap._render import escape

    for text in ("a<b>&\"'", "plain", "&amp; already", "<script>alert('x')</script>"):
        assert escape(text) == html.escape(text)
