"""Hostile requirement files: secrets never shown, linear parsing, bounded reading (issue 15).

Everything runs the real code on real files in tmp_path. What could hang or eat the machine
(FIFOs, a 1 GB include, quadratic parsing) runs in a child interpreter with a timeout and a
capped address space, so that a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap._requirements import RequirementsReport, install_missing, requirements_report

# Made-up secrets that no output may show.
TOKEN = "ghp_Hostile0Token0Value"  # noqa: S105 - the value of $PRIVATE_TOKEN in these tests
LITERAL = "L1teral0Passw0rd"  # a password written into the file itself
USER_TOKEN = "Us3rOnlyT0ken"  # noqa: S105 - a token written as the user part of a URL

SECRET_FILE = (
    "--extra-index-url https://user:${PRIVATE_TOKEN}@pypi.example.org/simple\n"
    f"--extra-index-url https://user:{LITERAL}@pypi2.example.org/simple\n"
    f"-f https://{USER_TOKEN}@wheels.example.org/\n"
    "private-lib @ git+https://oauth2:${PRIVATE_TOKEN}@gitlab.example.org/me/lib.git@v1\n"
    'odd-marker ; python_version ~= "${PRIVATE_TOKEN}"\n'
    "-r ${PRIVATE_TOKEN}/more.txt\n"
    "cbt-hostile-absent>=1\n"
)


def everything_shown(report: RequirementsReport) -> str:
    """Every text a user can see of a report: its fields, text, HTML and pip command."""
    shown = (repr(report), str(report), report._repr_html_(), report.pip_args, report.pip_command)
    return "\n".join(map(str, shown))


def assert_no_secret(text: str) -> None:
    for secret in (TOKEN, LITERAL, USER_TOKEN):
        assert secret not in text


def project(tmp_path: Path, text: str | bytes, name: str = "requirements.txt") -> Path:
    folder = tmp_path / "proj"
    folder.mkdir(exist_ok=True)
    target = folder / name
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)
    return folder


# --- 1. secrets ---------------------------------------------------------------------------


def test_report_shows_secrets_as_written_and_masks_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """${PRIVATE_TOKEN} stays as written; credentials written in a URL are shown as ***."""
    monkeypatch.setenv("PRIVATE_TOKEN", TOKEN)
    report = requirements_report(project(tmp_path, SECRET_FILE), path=[])
    assert_no_secret(everything_shown(report))
    assert report.pip_options == (
        "--extra-index-url",
        "https://user:${PRIVATE_TOKEN}@pypi.example.org/simple",
        "--extra-index-url",
        "https://user:***@pypi2.example.org/simple",
        "--find-links",
        "https://***@wheels.example.org/",
    )
    lines = [item.line for item in report.not_checked]
    assert "private-lib @ git+https://oauth2:${PRIVATE_TOKEN}@gitlab.example.org/me/lib.git@v1" in (
        lines
    )
    assert "--extra-index-url https://user:***@pypi2.example.org/simple" in lines
    reasons = " ".join(item.reason for item in report.not_checked)
    assert "${PRIVATE_TOKEN}" in reasons  # the marker error and the include's path quote it
    # the fix line stays a command a shell can run: the variable is left for it to expand
    assert report.pip_command == (
        'pip install --extra-index-url "https://user:${PRIVATE_TOKEN}@pypi.example.org/simple" '
        "--extra-index-url 'https://user:***@pypi2.example.org/simple' "
        "--find-links 'https://***@wheels.example.org/' 'cbt-hostile-absent>=1'"
    )


def test_a_variable_in_a_requirement_is_shown_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requirement built from ${VAR} shows the variable in every field, never its value."""
    monkeypatch.setenv("PRIVATE_TOKEN", TOKEN)
    text = "cbt-hostile===${PRIVATE_TOKEN}\n${PRIVATE_TOKEN}[extra]\n"
    report = requirements_report(project(tmp_path, text), path=[])
    assert_no_secret(everything_shown(report))
    assert [item.requirement for item in report.missing] == [
        "cbt-hostile===${PRIVATE_TOKEN}",
        "${PRIVATE_TOKEN}[extra]",
    ]


def test_doctor_text_json_and_markdown_carry_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """doctor() on a project whose requirements hold secrets: no output form shows one."""
    monkeypatch.setenv("PRIVATE_TOKEN", TOKEN)
    drive = tmp_path / "drive"
    (drive / "proj").mkdir(parents=True)
    (drive / "proj" / "requirements.txt").write_text(SECRET_FILE)
    report = colab_bootstrap.doctor("proj", drive_dir=drive, network=False)
    for shown in (str(report), report.to_json(), report.markdown(), report._repr_html_()):
        assert_no_secret(shown)
        assert "${PRIVATE_TOKEN}" in shown
        assert "user:***@pypi2.example.org" in shown


FAKE_PIP = """\
#!{python}
# Stands in for this interpreter: `-m pip ...` logs its arguments and fails, echoing every one
# of them as a careless pip would; anything else runs the real interpreter.
import json, os, sys
if sys.argv[1:3] == ["-m", "pip"]:
    with open({log!r}, "w") as log:
        json.dump(sys.argv[1:], log)
    for arg in sys.argv[3:]:
        print("ERROR: Could not fetch", arg, file=sys.stderr)
    sys.exit(1)
os.execv({python!r}, [{python!r}, *sys.argv[1:]])
"""


def test_only_pip_gets_the_secret_and_its_echo_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The argv of pip holds the expanded values; the error quoting pip's output holds none."""
    monkeypatch.setenv("PRIVATE_TOKEN", TOKEN)
    log = tmp_path / "pip-argv.json"
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(FAKE_PIP.format(python=sys.executable, log=str(log)))
    wrapper.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(wrapper))
    text = SECRET_FILE + "cbt-hostile-${PRIVATE_TOKEN}==1.0\n"
    error, warning_class = colab_bootstrap.RequirementsError, colab_bootstrap.ColabBootstrapWarning
    with pytest.raises(error) as info, pytest.warns(warning_class) as warned:
        install_missing(project(tmp_path, text), path=[])
    (warning,) = warned
    assert "-r ${PRIVATE_TOKEN}/more.txt (requirements.txt:6): included file not found" in str(
        warning.message
    )
    assert_no_secret(str(warning.message))
    argv = json.loads(log.read_text())
    assert f"https://user:{TOKEN}@pypi.example.org/simple" in argv
    assert f"https://user:{LITERAL}@pypi2.example.org/simple" in argv
    assert f"cbt-hostile-{TOKEN}==1.0" in argv
    message = str(info.value)
    assert_no_secret(message)
    assert "ERROR: Could not fetch https://user:***@pypi2.example.org/simple" in message
    assert "ERROR: Could not fetch cbt-hostile-${PRIVATE_TOKEN}==1.0" in message
    assert message.endswith(
        "run: !pip install --extra-index-url "
        '"https://user:${PRIVATE_TOKEN}@pypi.example.org/simple" '
        "--extra-index-url 'https://user:***@pypi2.example.org/simple' "
        "--find-links 'https://***@wheels.example.org/' 'cbt-hostile-absent>=1' "
        '"cbt-hostile-${PRIVATE_TOKEN}==1.0"'
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_real_pip_fails_fast_and_its_error_carries_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real pip (fresh venv) given an index with a token on a closed port: no secret shown."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    for name in [name for name in os.environ if name.startswith("PIP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PRIVATE_TOKEN", TOKEN)
    monkeypatch.setattr(sys, "executable", str(python))
    port = closed_port()
    text = (
        f"--index-url http://127.0.0.1:{port}/simple\n"
        f"--extra-index-url https://user:${{PRIVATE_TOKEN}}@127.0.0.1:{port}/\n"
        f"--extra-index-url http://user:{LITERAL}@127.0.0.1:{port}/other/\n"
        "cbt-hostile-nowhere==1.0\n"
    )
    with pytest.raises(colab_bootstrap.RequirementsError) as info:
        install_missing(project(tmp_path, text), path=[])
    message = str(info.value)
    assert_no_secret(message)
    assert "No matching distribution found for cbt-hostile-nowhere==1.0" in message


# --- 2. linear parsing ---------------------------------------------------------------------

CHILD_PRELUDE = """\
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
import colab_bootstrap
from colab_bootstrap._requirements import requirements_report

def summary(folder):
    started = time.perf_counter()
    report = requirements_report(folder, path=[])
    return {{
        "seconds": time.perf_counter() - started,
        "module": colab_bootstrap.__file__,
        "ok": report.ok,
        "files": [str(path) for path in report.files],
        "missing": [item.line for item in report.missing],
        "not_checked": [
            [item.line, item.source, item.reason, getattr(item, "unread", None)]
            for item in report.not_checked
        ],
        "text": str(report),
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }}
"""


def in_child(code: str, *, timeout: float = 30, memory: int = 1 << 30) -> Any:
    """Run ``code`` in a fresh interpreter, killed after ``timeout`` s, its memory capped.

    Returns:
        What the code printed last, read as JSON.
    """
    script = CHILD_PRELUDE.format(memory=memory) + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("spaces", [20_000, 200_000])
def test_long_runs_of_spaces_parse_in_linear_time(tmp_path: Path, spaces: int) -> None:
    """Spaces then a name (pip's comment pattern backtracks there): read in well under 2 s."""
    text = " " * spaces + "x\n" + "y" + " " * spaces + "z\n" + " " * spaces + "#\n"
    folder = project(tmp_path, text)
    found = in_child(f"print(json.dumps(summary({str(folder)!r})))", timeout=60)
    assert found["seconds"] < 2
    assert found["missing"] == ["x"]
    ((line, source, _, _),) = found["not_checked"]
    assert (line[:2], line[-1], len(line), source) == ("y ", "\u2026", 200, "requirements.txt:2")


# --- 3. bounded reading ----------------------------------------------------------------------


def test_a_huge_include_is_not_read_and_the_report_says_so(tmp_path: Path) -> None:
    """-r of a 1 GB (sparse) file: refused in bounded time and memory, reported as not read."""
    folder = project(tmp_path, "cbt-hostile-a\n-r huge.txt\n")
    with (folder / "huge.txt").open("wb") as huge:
        huge.truncate(1 << 30)
    found = in_child(f"print(json.dumps(summary({str(folder)!r})))", timeout=60)
    assert found["seconds"] < 5
    assert found["rss_mib"] < 400
    assert not found["ok"]
    (line, source, reason, unread) = found["not_checked"][0]
    assert (line, source, unread) == ("-r huge.txt", "requirements.txt:2", True)
    assert "larger than 1 MiB" in reason
    assert "incomplete: 1 not read" in found["text"].splitlines()[0]


def test_total_size_file_count_and_depth_are_capped(tmp_path: Path) -> None:
    """Many big includes, many files, deep includes: each cap reached is reported as not read."""
    folder = project(tmp_path, "")
    filler = ("#" * 1000 + "\n") * 900  # 900 kB of comments: under the cap of one file
    for index in range(6):
        (folder / f"big{index}.txt").write_text(filler + f"cbt-big-{index}\n")
    for index in range(60):
        (folder / f"many{index}.txt").write_text(f"cbt-many-{index}\n")
    for index in range(15):
        (folder / f"deep{index}.txt").write_text(f"-r deep{index + 1}.txt\n")
    (folder / "deep15.txt").write_text("cbt-deepest\n")
    includes = [f"-r big{index}.txt" for index in range(6)]
    (folder / "requirements.txt").write_text("\n".join(includes) + "\n")
    report = requirements_report(folder, path=[])
    assert not report.ok
    assert [item.line for item in report.not_read] == ["-r big4.txt", "-r big5.txt"]
    assert "fill 4 MiB" in report.not_read[0].reason

    (folder / "requirements.txt").write_text(
        "\n".join(f"-r many{index}.txt" for index in range(60)) + "\n"
    )
    report = requirements_report(folder, path=[])
    assert len(report.files) == 50
    assert len(report.not_read) == 11
    assert "span 50 files" in report.not_read[0].reason

    (folder / "requirements.txt").write_text("-r deep0.txt\n")
    report = requirements_report(folder, path=[])
    assert [item.reason for item in report.not_read] == [
        "not read: included more than 10 levels deep (the limit); "
        "include the files from fewer levels"
    ]
    assert "cbt-deepest" not in str(report)


def test_too_many_lines_are_reported_not_read(tmp_path: Path) -> None:
    """Past 10,000 lines the rest is not read, and the report is not ok."""
    text = "".join(f"cbt-line-{index}\n" for index in range(10_050))
    report = requirements_report(project(tmp_path, text), path=[])
    assert len(report.missing) == 10_000
    assert not report.ok
    assert [item.source for item in report.not_read] == ["requirements.txt:10001"]


def test_long_lines_are_cut_when_shown(tmp_path: Path) -> None:
    """A 5000-character line is shown cut to 200 characters, with an ellipsis."""
    report = requirements_report(project(tmp_path, "a b c " * 1000 + "\ncbt-x\n"), path=[])
    (item,) = report.not_checked
    assert len(item.line) == 200
    assert item.line.endswith("\u2026")
    assert len(str(report)) < 1000


def test_include_cycles_through_links_and_link_loops(tmp_path: Path) -> None:
    """A cycle through a symlink is read once; a symlink loop is reported, never raised."""
    folder = project(tmp_path, "-r other/link.txt\n-r loop.txt\ncbt-top\n")
    (folder / "other").mkdir()
    (folder / "other" / "link.txt").symlink_to(folder / "requirements.txt")
    (folder / "loop.txt").symlink_to("loop.txt")
    report = requirements_report(folder, path=[])
    assert [item.line for item in report.missing] == ["cbt-top"]
    reasons = {item.line: item for item in report.not_checked}
    assert reasons["-r other/link.txt"].reason.startswith("include cycle")
    assert not reasons["-r other/link.txt"].unread
    assert reasons["-r loop.txt"].unread
    assert "symbolic links" in reasons["-r loop.txt"].reason


@pytest.mark.skipif(not Path("/etc/passwd").is_file(), reason="needs /etc/passwd")
def test_etc_passwd_is_not_a_requirements_file(tmp_path: Path) -> None:
    """-r /etc/passwd is one entry, 'not a requirements file', and none of its lines is shown."""
    folder = project(tmp_path, "cbt-x\n-r /etc/passwd\n")
    report = requirements_report(folder, path=[])
    (item,) = report.not_checked
    assert item.line == "-r /etc/passwd"
    assert item.reason.startswith("not a requirements file")
    assert item.unread
    assert report.files == (folder / "requirements.txt",)
    assert "root:" not in everything_shown(report)
    assert not report.ok


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00cbt-x\n", "not a requirements file: it holds NUL"),
        (b"caf\xe9\n", "could not be read: not UTF-8 text (byte 0xe9 at offset 3)"),
        (b'{\n  "cells": [],\n  "metadata": {}\n}\n', "not a requirements file: none of its"),
    ],
)
def test_includes_that_are_no_requirements_files(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    """A binary file, a non-UTF-8 file, a notebook: reported as not read, nothing dumped."""
    folder = project(tmp_path, "-r other.txt\n")
    (folder / "other.txt").write_bytes(content)
    report = requirements_report(folder, path=[])
    (item,) = report.not_checked
    assert item.reason.startswith(reason)
    assert item.unread
    assert not report.ok


def test_utf16_with_a_bom_is_read_as_pip_reads_it(tmp_path: Path) -> None:
    """Windows 'Unicode' (UTF-16 with a BOM) is text pip reads: so does the report."""
    report = requirements_report(project(tmp_path, "cbt-x>=1\n".encode("utf-16")), path=[])
    assert [item.requirement for item in report.missing] == ["cbt-x>=1"]


FIFO_CHILD = """\
print(json.dumps(summary({folder!r})))
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_requirements_txt_neither_blocks_nor_passes_for_ok(tmp_path: Path) -> None:
    """A FIFO named requirements.txt is refused at once and reported; the report is not ok."""
    folder = tmp_path / "proj"
    folder.mkdir()
    os.mkfifo(folder / "requirements.txt")
    found = in_child(FIFO_CHILD.format(folder=str(folder)), timeout=30)
    assert not found["ok"]
    (line, _, reason, unread) = found["not_checked"][0]
    assert (line, unread) == ("requirements.txt", True)
    assert "not a regular file" in reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_device_includes_neither_block_nor_read_forever(tmp_path: Path) -> None:
    """-r of a FIFO, of /dev/zero, of a link to it, of a folder: each refused and reported."""
    folder = project(tmp_path, "cbt-x\n-r fifo.txt\n-r /dev/zero\n-r zero.txt\n-r folder\n")
    os.mkfifo(folder / "fifo.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "folder").mkdir()
    found = in_child(FIFO_CHILD.format(folder=str(folder)), timeout=30)
    assert found["seconds"] < 5
    assert not found["ok"]
    reasons = {line: (reason, unread) for line, _, reason, unread in found["not_checked"]}
    for line in ("-r fifo.txt", "-r /dev/zero", "-r zero.txt"):
        assert reasons[line] == ("could not be read: not a regular file (a pipe or device?)", True)
    assert reasons["-r folder"] == ("could not be read: it is a folder, not a file", True)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib exists from Python 3.11")
@pytest.mark.parametrize("kind", ["fifo", "huge", "dotted", "nested"])
def test_hostile_pyproject_is_bounded_and_reported(tmp_path: Path, kind: str) -> None:
    """pyproject.toml: a FIFO, 1 GB, a 100k-deep dotted key, deep nesting: not read, reported."""
    folder = tmp_path / "proj"
    folder.mkdir()
    target = folder / "pyproject.toml"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "huge":
        with target.open("wb") as huge:
            huge.truncate(1 << 30)
    elif kind == "dotted":  # tomllib: quadratic time and memory in the depth of a key
        target.write_text("a" + ".a" * 100_000 + " = 1\n")
    else:
        target.write_text("a = " + "[" * 100_000 + "\n")
    found = in_child(FIFO_CHILD.format(folder=str(folder)), timeout=60)
    assert found["seconds"] < 5
    assert not found["ok"]
    (line, source, reason, unread) = found["not_checked"][0]
    assert (line, source, unread) == ("pyproject.toml", "pyproject.toml", True)
    assert reason.startswith(("could not be read", "not read"))


# --- 4. what the public functions raise ------------------------------------------------------


def test_install_missing_raises_requirements_error_when_pip_cannot_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interpreter that cannot be started is a RequirementsError, as the docstring says."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(colab_bootstrap.RequirementsError, match="could not be started"):
        install_missing(project(tmp_path, "cbt-hostile-absent\n"), path=[])


def test_install_missing_warns_when_a_file_was_not_read(tmp_path: Path) -> None:
    """Nothing to install but an include not read: a warning says so, not a silent 'done'."""
    folder = project(tmp_path, "-r missing.txt\n")
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="neither checked nor"):
        assert install_missing(folder, path=[]) == ()


def test_odd_paths_and_broken_metadata_raise_nothing(tmp_path: Path) -> None:
    """NUL bytes in paths, non-text path entries, undecodable METADATA: passed over, no raise."""
    site = tmp_path / "site"
    (site / "cbt_broken-1.0.dist-info").mkdir(parents=True)
    (site / "cbt_broken-1.0.dist-info" / "METADATA").write_bytes(b"Name: cbt-broken\n\xff\xfe\n")
    folder = project(tmp_path, "cbt-broken\n")
    entries: list[Any] = [str(site), "bad\x00entry", b"bytes"]
    report = requirements_report(folder, path=entries)
    assert [item.name for item in report.missing] == ["cbt-broken"]
    requirements_report(tmp_path / "no\x00where", path=[])


# --- hypothesis: any line, no raise, no secret ----------------------------------------------

PIECES = st.sampled_from(
    [
        "${PRIVATE_TOKEN}",
        "cbt-h",
        "==",
        "===",
        ">=1",
        " ; python_version ",
        '"',
        "[",
        "]",
        " @ ",
        "https://user:${PRIVATE_TOKEN}@h.example/simple",
        f"https://user:{LITERAL}@h.example/simple",
        f"git+https://{USER_TOKEN}@h.example/r.git@v1",
        "-r ",
        "-e ",
        "--index-url ",
        "--extra-index-url=",
        "-f",
        " --hash=sha256:00",
        " #",
        "\\",
        "\n",
        " ",
        "~=",
        "(",
        ")",
    ]
)
LINES = st.lists(
    st.one_of(PIECES, st.text(alphabet="abcXYZ019 .,;:#\\=<>!~*[]()'\"@${}-_\t", max_size=8)),
    max_size=25,
).map("".join)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=LINES)
def test_any_requirement_text_raises_nothing_and_shows_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Whatever the lines, requirements_report answers, and nothing it shows holds a secret."""
    monkeypatch.setenv("PRIVATE_TOKEN", TOKEN)
    report = requirements_report(project(tmp_path, text), path=[])
    assert_no_secret(everything_shown(report))
