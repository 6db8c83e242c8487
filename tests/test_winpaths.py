"""The Windows-path lint: a corpus of true and false positives, bounds, encodings, notebooks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from colab_bootstrap._scan import scan
from colab_bootstrap._winpaths import windows_paths
from conftest import put

CORPUS = r"""'''Module docstring: ..\\data and C:\\Users\\me are prose here.'''  # ok
import re
import re as regex_module
from re import compile as rx, sub
from pathlib import Path

A = '..\\..\\data'  # flag
B = r'C:\Users\me\data'  # flag
C = "data\\train.csv"  # flag
D = f'..\\{name}\\train.csv'  # flag
E = rf'{root}\images\{i}.png'  # flag
F = b'data\\x.csv'  # flag
FB = br'logs\run.txt'  # flag
G = open('C:/Users/me/fastai/x.csv')  # flag
H = r'G:\My Drive\fastai\data'  # flag
I = '\\\\server\\share\\data'  # flag
J = ('..\\'  # flag
     'data')
K = 'data\\%s\\%s' % (a, b)  # flag
L = '{}\\{}'.format(a, b)  # flag
M = 'C:\data\new'  # flag
N = '\n' + '\t' + '\\' + '\\n' + "Done\nNext" + '\r\n'  # ok
S = re.compile(r'logs\\runs')  # ok
T = regex_module.search(r'logs\\runs', s)  # ok
U = rx(r'logs\\runs')  # ok
V = sub(r'x', r'logs\\runs', s)  # ok
W = pattern.sub(r'\1\\logs', s)  # ok
X = r'$\alpha$' + r'$\mu \pm \sigma$' + r'\frac{a}{b}' + "a \\cdot b"  # ok
Y = 'https://example.com/a' + '%H:%M' + 'a\\b' + r'\d{3}-\d{4}'  # ok
AA = "Put it in %APPDATA%\\Python on Windows. See the docs."  # ok
AB = '{\\rtf1\\ansi' + r'0.\1' + r"abc._\-~" + '\\\r\n' + '\x41\\\x42'  # ok
# a comment with '..\\data' and C:\Users\me  # ok
def f():
    '''Docstring with ..\\..\\data.'''  # ok
    '..\\bare\\string\\statement'  # ok
    return 1
def g():
    import re as r2
    return r2.compile(r'logs\\runs')  # ok
Z = '''multi
line\\path\\inside'''  # ok
"""


def _lint(root: Path, **limits: int) -> list[tuple[str, int | None, int]]:
    result = windows_paths(scan(root), **limits)
    return [(f.file, f.cell, f.line) for f in result.findings]


def test_path_lint_on_a_corpus_of_true_and_false_positives(tmp_path: Path) -> None:
    """Exactly the lines marked '# flag' are reported: comments, docstrings, regexes are not."""
    put(tmp_path, "pkg/paths.py", CORPUS)
    expected = [
        ("pkg/paths.py", None, number)
        for number, line in enumerate(CORPUS.splitlines(), start=1)
        if line.endswith("# flag")
    ]
    lint = windows_paths(scan(tmp_path))
    assert lint.skipped == ()
    assert [(f.file, f.cell, f.line) for f in lint.findings] == expected


def test_each_true_positive_alone_passes_the_cheap_byte_filter(tmp_path: Path) -> None:
    """Every flagged corpus line, alone in its own file, is still found (the pre-parse filter)."""
    lines = CORPUS.splitlines()
    for number, line in enumerate(lines):
        if line.endswith("# flag"):
            statement = (
                line if line.count("(") == line.count(")") else f"{line}\n{lines[number + 1]}"
            )
            put(tmp_path, f"alone/line{number + 1:02}.py", statement + "\n")
    lint = windows_paths(scan(tmp_path))
    assert len(lint.findings) == sum(line.endswith("# flag") for line in lines)
    assert all(f.line == 1 for f in lint.findings)


def test_path_lint_reports_the_literal_and_a_pathlib_rewrite(tmp_path: Path) -> None:
    """Each finding shows where, the literal as written, what is wrong and what to write."""
    put(tmp_path, "paths.py", CORPUS)
    lint = windows_paths(scan(tmp_path))
    found = {f.literal: f for f in lint.findings}
    assert found["'..\\\\..\\\\data'"].rewrite == 'Path("../../data")'
    assert found["'..\\\\..\\\\data'"].where == "paths.py:7"
    assert found["f'..\\\\{name}\\\\train.csv'"].rewrite == 'Path(f"../{...}/train.csv")'
    assert found["b'data\\\\x.csv'"].rewrite.startswith('b"data/x.csv"')
    assert found[r"r'G:\My Drive\fastai\data'"].rewrite == (
        'Path("/content/drive/MyDrive/fastai/data")'
    )
    assert "drive letter C:" in found[r"r'C:\Users\me\data'"].problem
    assert "network share" in found["'\\\\\\\\server\\\\share\\\\data'"].problem
    assert "\\n in it is a control character" in found[r"'C:\data\new'"].problem
    assert found["'..\\\\' 'data'"].rewrite == 'Path("../data")'
    text = str(lint)
    assert "paths.py:7: '..\\\\..\\\\data'" in text
    assert 'use Path("../../data")' in text
    assert "<table" in lint._repr_html_()


def test_path_lint_reads_notebook_code_cells_only(tmp_path: Path) -> None:
    """Code cells are linted with cell and line; markdown, magics and shell lines are not."""
    cells = [
        {"cell_type": "markdown", "source": ["Data lives in ..\\\\data\n"]},
        {
            "cell_type": "code",
            "source": ["%cd ..\\data\n", "!ls ..\\data\n", "df = read('..\\\\data\\\\a.csv')\n"],
        },
        {"cell_type": "code", "source": "%%bash\nls ..\\\\data\\\\x\n"},
        {"cell_type": "code", "source": "%%time\nx = r'C:\\data'\n"},
        {"cell_type": "code", "source": "def broken(:\n    'a\\\\b\\\\c'\n"},
    ]
    put(tmp_path, "nb.ipynb", json.dumps({"cells": cells, "nbformat": 4}))
    lint = windows_paths(scan(tmp_path))
    assert [(f.cell, f.line) for f in lint.findings] == [(2, 3), (4, 2)]
    assert lint.findings[0].where == "nb.ipynb cell 2, line 3"
    assert lint.skipped == ()


def test_path_lint_is_bounded_and_says_what_it_skipped(tmp_path: Path) -> None:
    """Only .py/.ipynb are read, at most max_files of them, none over max_bytes; it says so."""
    put(tmp_path, "a.py", "A = 'ab\\\\cd'\n")
    put(tmp_path, "b.py", "B = 'ab\\\\cd'\n" + "#" * 500)
    put(tmp_path, "c.py", "def broken(:\n    'ab\\\\cd'\n")
    put(tmp_path, "d.py", "D = 'ab\\\\cd'\n")
    put(tmp_path, "notes.txt", "T = 'ab\\\\cd'\n")
    put(tmp_path, "bad.ipynb", "{not json: '..\\\\data'")
    lint = windows_paths(scan(tmp_path), max_files=4, max_bytes=200)
    assert [f.file for f in lint.findings] == ["a.py"]
    assert dict(lint.skipped) == {
        "b.py": "larger than 200 bytes",
        "c.py": "not valid Python (SyntaxError)",
        "bad.ipynb": "not a readable notebook (JSON)",
    }
    assert lint.checked == 4
    assert lint.stopped
    assert lint.why_stopped == "stopped after 4 files (max_files)"
    assert "stopped after 4 files" in str(lint)
    timed = windows_paths(scan(tmp_path), max_seconds=0)
    assert (timed.checked, timed.stopped) == (0, True)
    assert "max_seconds" in str(timed)
    complete = windows_paths(scan(tmp_path), max_bytes=200)
    assert not complete.stopped
    assert [f.file for f in complete.findings] == ["a.py", "d.py"]


def test_path_lint_honours_encodings_and_unicode_columns(tmp_path: Path) -> None:
    """A latin-1 file with a coding line, and literals after non-ASCII text, are read right."""
    put(tmp_path, "old.py", "# -*- coding: latin-1 -*-\nA = 'caf\xe9\\\\data'\n".encode("latin-1"))
    put(tmp_path, "new.py", "données = 'données\\\\x'\n")
    put(tmp_path, "mac.py", b"# old Mac line ends\rA = 1\rB = 'ab\\\\cd'\r")
    lint = windows_paths(scan(tmp_path))
    assert {(f.file, f.literal) for f in lint.findings} == {
        ("new.py", "'données\\\\x'"),
        ("old.py", "'café\\\\data'"),
        ("mac.py", "'ab\\\\cd'"),
    }
    assert next(f.line for f in lint.findings if f.file == "mac.py") == 3


def test_escapes_in_literals_are_read_as_python_reads_them(tmp_path: Path) -> None:
    r"""A backslash-newline joins lines, ``\N{...}`` is a letter, ``\u`` in bytes stays text."""
    put(
        tmp_path,
        "esc.py",
        b"A = 'C:\\\\Users\\\\me\\\n\\\\data'\n"
        b"B = b'logs\\u00e9\\\\data'\n"
        b"C = '..\\\\caf\\N{LATIN SMALL LETTER E WITH ACUTE}\\\\data'\n",
    )
    lint = windows_paths(scan(tmp_path))
    assert [(f.line, f.rewrite) for f in lint.findings] == [
        (1, 'Path("/content/drive/MyDrive/<folder>/data")'),
        (3, 'b"logs/u00e9/data" (forward slashes)'),
        (4, 'Path("../café/data")'),
    ]


def test_calls_through_any_expression_and_format_specs_are_judged_right(tmp_path: Path) -> None:
    r"""A path passed to ``loaders[0](...)`` is flagged; a date format spec ``%Y\%m`` is not."""
    put(
        tmp_path,
        "calls.py",
        "A = loaders[0]('..\\\\data')\nB = (lambda p: p)('..\\\\x\\\\y')\nC = f'{when:%Y\\\\%m}'\n",
    )
    lint = windows_paths(scan(tmp_path))
    assert [(f.line, f.rewrite) for f in lint.findings] == [
        (1, 'Path("../data")'),
        (2, 'Path("../x/y")'),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_a_pipe_named_like_a_module_is_skipped_not_read(tmp_path: Path) -> None:
    """A FIFO called pipe.py is never opened for reading (that would block); the lint says so."""
    put(tmp_path, "a.py", "A = 'ab\\\\cd'\n")
    os.mkfifo(tmp_path / "pipe.py")
    lint = windows_paths(scan(tmp_path))
    assert [f.file for f in lint.findings] == ["a.py"]
    assert lint.skipped == (("pipe.py", "unreadable (not a regular file (a pipe or device?))"),)
    assert "skipped pipe.py: unreadable" in str(lint)


def test_literals_inside_multiline_fstrings_never_break_the_lint(tmp_path: Path) -> None:
    """Python 3.9 misplaces literals inside multi-line f-strings; the lint still reads the file."""
    put(tmp_path, "f.py", "vvvvvv = rf'''\n{'C:/abcd'}'\\N{{x}}'\n'''\nw = f'''\n{'C:/x'}\n'''\n")
    lint = windows_paths(scan(tmp_path))
    assert lint.checked == 1
    assert lint.skipped == ()
