"""reset(): what a user reads and what happens to the runtime, pinned against small code changes.

Which cell ``reset(hard=True)`` says to re-run (read from a real IPython shell's input history),
the restart itself (a subprocess on a fake Colab, killed by its own SIGKILL, even when its
output streams are broken), where ``remount=True`` remounts, how the report shows an empty list,
which rows it has and which it marks red, and a name two imports bound in turn.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import ResetReport
from colab_bootstrap._reset import ResetFailure, _setup_cell
from conftest import FakeColab, Namespace, edit, fresh_session, run, write

pytest.importorskip("IPython")

SETUP = "colab_bootstrap.setup('proj', gpu='ignore')"


@pytest.fixture
def proj(mydrive: Path) -> Path:
    folder = mydrive / "proj"
    write(folder, {"prep.py": "V = 1\n"})
    return folder


# ------------------------------------------------------------------ the setup cell to re-run


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        # the setup cell, then other cells: the last cell that calls setup() is named
        (["import colab_bootstrap", SETUP, "x = 1"], f"In [2]:\n    {SETUP}"),
        # the setup cell is the latest cell (and runs no reset): it is the one
        (["import colab_bootstrap", "x = 1", SETUP], f"In [3]:\n    {SETUP}"),
        # a cell calling setup() then reset() is the running one: the first cell is named,
        # its lines indented under its number
        (
            [
                f"import colab_bootstrap\n{SETUP}",
                "import prep",
                f"{SETUP}\nr = colab_bootstrap.reset()",
            ],
            f"In [1]:\n    import colab_bootstrap\n    {SETUP}",
        ),
    ],
    ids=["earlier-cell", "latest-cell", "not-the-reset-cell"],
)
def test_the_setup_cell_is_read_from_the_input_history(
    proj: Path, notebook: Namespace, cells: list[str], expected: str
) -> None:
    """The restart warning names the cell to re-run by its number, with its code."""
    for code in cells:
        run(notebook, code)
    assert _setup_cell() == expected


def test_without_history_or_project_the_call_itself_is_named() -> None:
    """Outside IPython with nothing set up, the warning names colab_bootstrap.setup(...)."""
    assert _setup_cell() == "the cell that runs colab_bootstrap.setup(...)"


# ------------------------------------------------------------------ the restart (a subprocess)

#: A script on a (fake) Colab: nothing set up, so no Drive is needed; reset(hard=True) must
#: warn, then kill this very process. {break_stdout} replaces sys.stdout by a broken stream.
#: A thread stamps the time into a log while the process lives; the warning display stamps when
#: it has shown (one write each, O_APPEND: lines never mix with each other or with stderr).
HARD = """\
import os, sys, threading, time, warnings
import colab_bootstrap
{break_stdout}
log = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
show = warnings.showwarning
def shown(*args, **kwargs):
    show(*args, **kwargs)
    os.write(log, f"WARNED {{time.monotonic()}}\\n".encode())
warnings.showwarning = shown
def alive():
    while True:
        os.write(log, f"ALIVE {{time.monotonic()}}\\n".encode())
        time.sleep(0.05)
threading.Thread(target=alive, daemon=True).start()
colab_bootstrap.reset(hard=True)
print("SURVIVED", file=sys.stderr, flush=True)
"""
RESET_LINE = 1 + HARD.splitlines().index("colab_bootstrap.reset(hard=True)")

BROKEN_STDOUT = {  # one line each: RESET_LINE holds
    "working": "pass",
    "none": "sys.stdout = None",  # AttributeError on flush (pythonw, detached kernels)
    "closed": "sys.stdout.close()",  # ValueError on flush
    "full-disk": "sys.stdout = open('/dev/full', 'w'); print('pending')",  # OSError on flush
}


def _stamps(log: str, kind: str) -> list[float]:
    return [float(stamp) for stamp in re.findall(rf"^{kind} (\S+)$", log, re.MULTILINE)]


@pytest.mark.parametrize("stdout", list(BROKEN_STDOUT), ids=list(BROKEN_STDOUT))
def test_hard_reset_warns_then_kills_the_kernel(tmp_path: Path, stdout: str) -> None:
    """A ColabBootstrapWarning at the caller names what to re-run; then SIGKILL, promptly.

    The kill comes even when the kernel's stdout cannot be flushed (None, closed, disk full).
    """
    if stdout == "full-disk" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    script = tmp_path / "kernel.py"
    script.write_text(HARD.format(break_stdout=BROKEN_STDOUT[stdout]))
    env = {**os.environ, "COLAB_RELEASE_TAG": "release-colab-fake", "PYTHONWARNINGS": "default"}
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "stamps.log")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "SURVIVED" not in proc.stderr
    # the warning points at the caller's line, not into colab_bootstrap (nor past the caller)
    where = re.search(r"^(.*):(\d+): ColabBootstrapWarning: ", proc.stderr, re.MULTILINE)
    assert where is not None, proc.stderr
    file, line = where.group(1), int(where.group(2))
    assert os.path.isfile(file), where.group(0)
    assert Path(colab_bootstrap.__file__).parent not in Path(file).parents, where.group(0)
    if Path(file) == script:  # else a mutation-testing harness frame came in between
        assert line == RESET_LINE
    assert "re-run the setup cell, the cell that runs colab_bootstrap.setup(...)" in proc.stderr
    # about half a second for the warning to get out, then the kill: not seconds more
    stamps = (tmp_path / "stamps.log").read_text()
    (warned,) = _stamps(stamps, "WARNED")
    assert max(_stamps(stamps, "ALIVE")) - warned < 1.3, stamps


# ------------------------------------------------------------------ remount=True on (fake) Colab


def test_remount_remounts_where_drive_was_found_not_where_asked(fake_colab: FakeColab) -> None:
    """Drive mounted elsewhere by an earlier cell: setup() used it, so reset remounts it."""
    fake_colab.project("proj", {"prep.py": "V = 1\n"})
    other = fake_colab.content / "gdrive"
    fake_colab.mount_at(other)
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )

    report = colab_bootstrap.reset(remount=True)

    forced = [c["mountpoint"] for c in fake_colab.calls("mount") if c["force_remount"]]
    assert forced == [str(other)]
    assert report.remount == f"remounted Google Drive at {other}"


def test_remount_with_nothing_set_up_remounts_the_default_mountpoint(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """No project yet: remount=True still remounts Drive, where setup() would mount it."""
    fresh_session(tmp_path, mountpoint=str(fake_colab.mountpoint))

    report = colab_bootstrap.reset(remount=True)

    forced = [c["mountpoint"] for c in fake_colab.calls("mount") if c["force_remount"]]
    assert forced == [str(fake_colab.mountpoint)]
    assert report.remount == f"remounted Google Drive at {fake_colab.mountpoint}"


# ------------------------------------------------------------------ the report


def _row_values(report: ResetReport) -> dict[str, list[str]]:
    """Each row label of str(report) -> its value lines (continuation lines included)."""
    rows: dict[str, list[str]] = {}
    current: list[str] = []
    for line in str(report).splitlines()[1:]:
        if line[2:3].strip():  # "  label   value"; a continuation line is indented further
            label, _, value = line.strip().partition("  ")
            current = rows.setdefault(label, [])
        else:
            value = line
        current.append(value.strip())
    return rows


def _html_rows(report: ResetReport) -> list[tuple[str, str]]:
    """(style, text) of each table row of the notebook view."""
    html = report._repr_html_()
    return [
        (style or "", re.sub(r"<[^>]+>", " ", cells))
        for style, cells in re.findall(r'<tr(?: style="([^"]*)")?>(.*?)</tr>', html)
    ]


def test_an_empty_list_reads_none_and_only_asked_rows_appear() -> None:
    """Nothing dropped reads "none", not "0: "; rows for what did not happen are left out."""
    report = ResetReport(remount="not asked")
    rows = _row_values(report)
    assert rows["dropped"] == ["none"]
    assert rows["names rebound"] == ["none"]
    assert rows["updated in place"] == ["none"]
    assert "Google Drive" not in rows  # Drive answered: no Drive row
    assert not {"names added", "names kept", "left as they are", "failed", "not updated"} & set(
        rows
    )


def test_kept_names_are_listed_one_per_line() -> None:
    """Each name reset() kept, with why, is a line of its own under "names kept"."""
    kept = ("f: old m.f (m failed to re-import)", "g: old m.g (no longer in m)")
    rows = _row_values(ResetReport(dropped=("m",), kept=kept))
    assert [line.strip() for line in rows["names kept"]] == list(kept)


def test_an_ok_report_marks_no_row() -> None:
    """A reset that went well has no row in red (no style at all) in the notebook."""
    report = ResetReport(
        dropped=("m",), reimported=("m",), rebound=("m",), updated=("m.f",), notes=("a note",)
    )
    assert report.ok
    assert [style for style, _ in _html_rows(report)] == [""] * len(report._rows())


@pytest.mark.parametrize(
    ("report", "red_text"),
    [
        (ResetReport(dropped=("m",), failed=(ResetFailure("m", "SyntaxError: boom"),)), "boom"),
        (ResetReport(dropped=("m",), not_updated=("m.Shape: its layout changed",)), "layout"),
        (ResetReport(lost="/content/drive/MyDrive/proj cannot be read"), "cannot be read"),
    ],
    ids=["failed", "not-updated", "drive-lost"],
)
def test_a_problem_row_is_red_and_only_it(report: ResetReport, red_text: str) -> None:
    """The row telling what went wrong is red in the notebook; the other rows are not."""
    rows = _html_rows(report)
    red = [text for style, text in rows if style]
    assert len(red) == 1, rows
    assert red_text in red[0]
    assert {style for style, _ in rows} == {"", "color:#b00"}


# ------------------------------------------------------------------ a name two imports bound


def test_a_name_either_import_may_have_bound_follows_the_one_that_did(
    mydrive: Path, notebook: Namespace
) -> None:
    """``if fast: from b import f`` / ``else: from a import f``: reset() rebinds f to fresh b.f."""
    folder = mydrive / "proj"
    write(
        folder,
        {
            "a.py": "def f():\n    return 'a'\n",
            "b.py": "import a\n\ndef f():\n    return 'b-old'\n",  # a is imported too
        },
    )
    colab_bootstrap.setup("proj", gpu="ignore")
    run(notebook, "fast = True\nif fast:\n    from b import f\nelse:\n    from a import f")
    edit(folder / "b.py", "b-old", "b-new")

    report = colab_bootstrap.reset()

    assert run(notebook, "f()") == "b-new"
    assert "f" in report.rebound
    assert report.ok
