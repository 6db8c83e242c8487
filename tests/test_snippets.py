"""snippets(), register_snippets() and `colab-bootstrap snippet`: the notebook Colab reads."""

from __future__ import annotations

import ast
import inspect
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

import colab_bootstrap
from colab_bootstrap import InvalidProjectError, InvalidUrlError, NotOnColabError, _snippets
from colab_bootstrap._cli import main
from conftest import FakeColab, chattr

TITLES = [
    "colab_bootstrap: set up fastai_course2",
    "colab_bootstrap: doctor",
    "colab_bootstrap: reset",
    "colab_bootstrap: reset with remount",
    "colab_bootstrap: dedupe (dry run)",
]


def _as_python(source: str) -> str:
    """A cell's source as IPython runs it (``!pip ...`` becomes a call)."""
    python: str = TransformerManager().transform_cell(source)  # type: ignore[no-untyped-call]
    return python


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _code_cells(notebook: dict[str, Any]) -> list[str]:
    return [_source(c) for c in notebook["cells"] if c["cell_type"] == "code"]


def _setup_call(source: str) -> ast.Call:
    """The ``colab_bootstrap.setup(...)`` call in a setup cell, parsed as IPython runs it."""
    tree = ast.parse(_as_python(source))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "setup"
    ]
    assert len(calls) == 1
    return calls[0]


def test_notebook_validates_as_nbformat_4() -> None:
    """The dict is a valid nbformat 4 notebook, also after a JSON round trip."""
    notebook = colab_bootstrap.snippets("fastai_course2")
    nbformat.validate(notebook)
    again = nbformat.reads(json.dumps(notebook), as_version=4)
    nbformat.validate(again)
    assert again.nbformat == 4


def test_each_snippet_is_an_h1_title_followed_by_code() -> None:
    """Colab finds snippets by H1 title: the cells alternate '# title' markdown and code."""
    cells = colab_bootstrap.snippets("fastai_course2")["cells"]
    kinds = [cell["cell_type"] for cell in cells]
    assert kinds == ["markdown", "code"] * len(TITLES)
    titles = [_source(c).splitlines()[0] for c in cells if c["cell_type"] == "markdown"]
    assert titles == [f"# {title}" for title in TITLES]
    assert len({cell["id"] for cell in cells}) == len(cells)


def test_setup_snippet_installs_then_sets_up_the_project() -> None:
    """The first code cell is the README's cell: pip install, import, setup(project)."""
    setup_cell = _code_cells(colab_bootstrap.snippets("fastai_course2"))[0]
    assert setup_cell.splitlines() == [
        '!python -c "import colab_bootstrap" 2>/dev/null || '
        "pip install -q git+https://github.com/colab-bootstrap/colab-bootstrap",
        "import colab_bootstrap",
        'colab_bootstrap.setup("fastai_course2")',
    ]


def test_every_code_cell_is_valid_ipython() -> None:
    """Each code cell compiles after IPython's own input transformation (the `!pip` line)."""
    for source in _code_cells(colab_bootstrap.snippets("fastai_course2")):
        python = _as_python(source)
        compile(python, "<snippet>", "exec")


def test_snippet_calls_match_the_public_api() -> None:
    """Every colab_bootstrap.X(...) a snippet calls exists and accepts the arguments given."""
    checked = []
    for source in _code_cells(colab_bootstrap.snippets("fastai_course2", gpu="require")):
        tree = ast.parse(_as_python(source))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if not (
                isinstance(node.func.value, ast.Name) and node.func.value.id == "colab_bootstrap"
            ):
                continue
            name = node.func.attr
            function = getattr(colab_bootstrap, name)
            args = [ast.literal_eval(arg) for arg in node.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
            inspect.signature(function).bind(*args, **kwargs)
            checked.append(name)
    assert "setup" in checked


def test_project_name_is_normalised_and_quoted_safely() -> None:
    """Doubled slashes are dropped and quotes in a name survive as one Python string."""
    notebook = colab_bootstrap.snippets('courses//it\'s "ok"/')
    call = _setup_call(_code_cells(notebook)[0])
    assert ast.literal_eval(call.args[0]) == 'courses/it\'s "ok"'
    assert _source(notebook["cells"][0]).startswith("# colab_bootstrap: set up courses/it's")


@pytest.mark.parametrize("project", ["", "/content/drive/MyDrive/x", "a\\b", "../x"])
def test_bad_project_raises_invalid_project_error(project: str) -> None:
    """A name setup() would refuse is refused here already, with the same error."""
    with pytest.raises(InvalidProjectError):
        colab_bootstrap.snippets(project)


@pytest.mark.parametrize(
    "url",
    [
        "colab-bootstrap==0.1.0",
        "git+file:///tmp/repo@0123abc",
        "git+https://github.com/you/colab-bootstrap@main#egg=colab-bootstrap",
        "https://example.org/colab_bootstrap-0.1-py3-none-any.whl",
        "git+file:///tmp/with%20space/repo",
    ],
)
def test_install_url_goes_verbatim_on_the_pip_line(url: str) -> None:
    """A URL that is one safe shell word is written after `pip install -q` unchanged."""
    setup_cell = _code_cells(colab_bootstrap.snippets("p", install_url=url))[0]
    assert setup_cell.splitlines()[0].endswith(f" || pip install -q {url}")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "git+https://host/a b",
        "pkg; rm -rf ~",
        "$(whoami)",
        "git+https://host/{name}",
        "colab-bootstrap>=0.1",
        "pkg\n!rm -rf ~",
        "'quoted'",
        "-e",
        None,
    ],
)
def test_unsafe_install_url_is_refused(url: Any) -> None:
    """Spaces, shell or IPython syntax in install_url raise InvalidUrlError naming the fix."""
    with pytest.raises(InvalidUrlError, match="Percent-encode") as info:
        colab_bootstrap.snippets("p", install_url=url)
    assert isinstance(info.value, ValueError)


def test_setup_options_become_keyword_arguments() -> None:
    """Options are written into the setup() call, paths as strings, in the order given."""
    notebook = colab_bootstrap.snippets(
        "p", gpu="require", content_dir=Path("/tmp/content"), create=True, drive_dir=None
    )
    call = _setup_call(_code_cells(notebook)[0])
    assert {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords} == {
        "gpu": "require",
        "content_dir": "/tmp/content",
        "create": True,
        "drive_dir": None,
    }
    assert [kw.arg for kw in call.keywords] == ["gpu", "content_dir", "create", "drive_dir"]


def test_snippets_without_a_project_and_before_setup_say_what_to_pass() -> None:
    """snippets() with no project and no setup() in this process names the call to make."""
    with pytest.raises(InvalidProjectError, match=r"snippets\('fastai_course2'\)"):
        colab_bootstrap.snippets()


def test_snippets_after_a_plain_setup_write_the_plain_call(mydrive: Path) -> None:
    """After setup('p') found Drive by itself, the setup cell is setup("p"), no options added."""
    (mydrive / "p").mkdir()
    colab_bootstrap.setup("p", gpu="ignore")
    cell = _source(colab_bootstrap.snippets()["cells"][1])
    assert 'colab_bootstrap.setup("p")' in cell


def test_unknown_setup_option_names_the_accepted_ones() -> None:
    """A typo in an option is a TypeError listing what setup() takes."""
    with pytest.raises(TypeError, match=r"'gpus'.*gpu, force_remount"):
        colab_bootstrap.snippets("p", gpus="require")


def test_option_value_that_is_not_a_literal_is_refused() -> None:
    """A value with no source form (an object) is a TypeError, not a broken cell."""
    with pytest.raises(TypeError, match="cannot be written"):
        colab_bootstrap.snippets("p", content_dir=object())


def test_snippets_are_deterministic() -> None:
    """The same arguments give the same notebook (re-generating makes no diff)."""
    assert colab_bootstrap.snippets("p") == colab_bootstrap.snippets("p")


def test_building_snippets_needs_no_nbformat() -> None:
    """The product writes the notebook by hand: nbformat is never imported."""
    code = (
        "import sys, colab_bootstrap; colab_bootstrap.snippets('p'); "
        "print('nbformat' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.strip() == "False"


def test_register_snippets_off_colab_says_where_to_paste_the_url() -> None:
    """Off Colab there is nothing to register with: the error names Tools > Settings > Site."""
    if os.path.exists("/var/colab/hostname"):  # pragma: no cover - only on a real Colab VM
        pytest.skip("this machine is a Colab VM")
    with pytest.raises(NotOnColabError, match=r"Tools > Settings > Site"):
        colab_bootstrap.register_snippets("https://colab.research.google.com/drive/abc")


def test_register_snippets_on_colab_calls_google_colab(fake_colab: FakeColab) -> None:
    """On Colab the URL goes to google.colab.snippets.register unchanged."""
    url = "https://colab.research.google.com/drive/1AbC-dEf_123"
    colab_bootstrap.register_snippets(url)
    assert [call["url"] for call in fake_colab.calls("snippets.register")] == [url]


@pytest.mark.parametrize(
    "url", ["", "colab.research.google.com/drive/abc", "https://a b", "file:///x.ipynb", None]
)
def test_register_snippets_refuses_what_is_not_a_url(url: Any, fake_colab: FakeColab) -> None:
    """A value that is not an http(s) URL raises InvalidUrlError and registers nothing."""
    with pytest.raises(InvalidUrlError, match="copy the address"):
        colab_bootstrap.register_snippets(url)
    assert fake_colab.calls() == []


def _read_notebook(path: Path) -> Any:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    return notebook


def test_cli_writes_the_default_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`colab-bootstrap snippet P` writes colab_bootstrap_snippets.ipynb and says what's next."""
    monkeypatch.chdir(tmp_path)
    assert main(["snippet", "fastai_course2"]) == 0
    notebook = _read_notebook(tmp_path / "colab_bootstrap_snippets.ipynb")
    assert notebook.cells[0].source.startswith("# colab_bootstrap: set up fastai_course2")
    out = capsys.readouterr().out
    assert "wrote colab_bootstrap_snippets.ipynb: 5 snippets for 'fastai_course2'" in out
    assert "Tools > Settings > Site > Custom snippet notebook URL" in out


def test_cli_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing file is left byte for byte; the error says to pass --force."""
    target = tmp_path / "mine.ipynb"
    target.write_text("my own notebook")
    assert main(["snippet", "p", "-o", str(target)]) == 1
    assert target.read_text() == "my own notebook"
    err = capsys.readouterr().err
    assert "already exists" in err
    assert "--force" in err


def test_cli_force_replaces_the_file_keeping_its_permissions(tmp_path: Path) -> None:
    """--force overwrites in one step, keeps the file mode and leaves no temporary file."""
    target = tmp_path / "snips.ipynb"
    target.write_text("old")
    target.chmod(0o640)
    assert main(["snippet", "p", "-o", str(target), "--force"]) == 0
    assert _read_notebook(target).cells[0].source.startswith("# colab_bootstrap: set up p")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["snips.ipynb"]


def test_cli_force_on_a_file_that_cannot_be_replaced_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--force onto an immutable file: exit 1, why, the old file intact, no temporary file left."""
    target = tmp_path / "snips.ipynb"
    target.write_text("old")
    with chattr(target, "+i"):
        assert main(["snippet", "p", "-o", str(target), "--force"]) == 1
    assert capsys.readouterr().err == f"error: cannot write {target}: Operation not permitted.\n"
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["snips.ipynb"]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device"])
def test_cli_force_replaces_only_a_regular_file(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--force onto a link, a FIFO or a device (``-o /dev/full``): refused, left as it was."""
    target = tmp_path / "out.ipynb"
    if kind == "symlink":
        (tmp_path / "real.ipynb").write_text("mine")
        target.symlink_to(tmp_path / "real.ipynb")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        try:  # the same device as /dev/full; only root may make one (as on Colab)
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        except PermissionError:
            pytest.skip("making a device node needs root")
    before = os.lstat(target)
    assert main(["snippet", "p", "-o", str(target), "--force"]) == 1
    err = capsys.readouterr().err
    assert "not a regular file, and was left as it is" in err
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (
        before.st_mode,
        before.st_ino,
        before.st_rdev,
    )
    if kind == "symlink":
        assert (tmp_path / "real.ipynb").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["out.ipynb", *(["real.ipynb"] if kind == "symlink" else [])]
    )


def test_cli_force_on_a_new_file_just_writes_it(tmp_path: Path) -> None:
    """--force with no file there writes it like a plain run."""
    target = tmp_path / "new.ipynb"
    assert main(["snippet", "p", "-o", str(target), "--force"]) == 0
    _read_notebook(target)


def test_cli_install_url_reaches_the_setup_cell(tmp_path: Path) -> None:
    """--install-url replaces what the setup snippet installs."""
    target = tmp_path / "s.ipynb"
    url = "git+https://github.com/you/colab-bootstrap@dev"
    assert main(["snippet", "p", "-o", str(target), "--install-url", url]) == 0
    assert _read_notebook(target).cells[1].source.splitlines()[0].endswith(f"pip install -q {url}")


@pytest.mark.parametrize(
    ("argv", "fragment", "code"),
    [
        (["snippet", "p", "-o", "{tmp}/missing/s.ipynb"], "does not exist", 1),
        (["snippet", "p", "-o", "{tmp}"], "is a folder", 1),
        (["snippet", "/abs/p", "-o", "{tmp}/s.ipynb"], "absolute path", 2),
        (["snippet", "p", "-o", "{tmp}/s.ipynb", "--install-url", "a b"], "Percent-encode", 2),
    ],
)
def test_cli_errors_name_the_fix_and_write_nothing(
    argv: list[str], fragment: str, code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad paths exit 1, bad values (project, URL) exit 2; each names the fix, writes nothing."""
    assert main([arg.replace("{tmp}", str(tmp_path)) for arg in argv]) == code
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert fragment in err
    assert os.listdir(tmp_path) == []


def test_console_script_form_works(tmp_path: Path) -> None:
    """`python -m colab_bootstrap snippet P -o FILE` in a subprocess writes a valid notebook."""
    proc = subprocess.run(
        [sys.executable, "-m", "colab_bootstrap", "snippet", "fastai_course2", "-o", "s.ipynb"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    _read_notebook(tmp_path / "s.ipynb")


def test_readme_install_cell_is_the_snippets_install_line() -> None:
    """The README's Colab cell and the setup snippet install the same way."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    cell = readme.split("## On Colab", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    setup_cell = _code_cells(colab_bootstrap.snippets("fastai_course2"))[0]
    assert cell.splitlines()[0] == setup_cell.splitlines()[0]
    assert cell.splitlines()[0] == _snippets.INSTALL_LINE.format(url=_snippets.DEFAULT_INSTALL_URL)
