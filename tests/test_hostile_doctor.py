"""doctor() against hostile projects: special files, deep and huge inputs, secrets, odd names.

Each case asserts the documented outcome (a finding, a skipped file with its reason, a
redacted report) and a time bound with a wide margin: what it catches is a hang or a blow-up,
never speed.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap import Report
from conftest import Answer, TagServer, bounded, install_from_github

#: Generous: each call below takes well under a second when it works.
BOUND_S = 20.0


def _doctor(project: str = "proj", **kwargs: object) -> Report:
    return bounded(lambda: colab_bootstrap.doctor(project, network=False, **kwargs), BOUND_S)  # type: ignore[arg-type]


def _no_failed_checks(report: Report) -> None:
    broken = [c for c in report.checks if "could not look" in c.summary or "itself" in c.summary]
    assert not broken, broken


@pytest.fixture
def project(mydrive: Path) -> Path:
    folder = mydrive / "proj"
    folder.mkdir()
    (folder / "main.py").write_text("import prep\n")
    return folder


@pytest.mark.parametrize(
    "name", ["pipe.py", "notebook.ipynb", "requirements.txt", "pyproject.toml", "prep (1).py"]
)
def test_a_fifo_in_the_project_never_blocks_the_doctor(project: Path, name: str) -> None:
    """A FIFO (no writer, so any read would block forever) is never opened for reading."""
    os.mkfifo(project / name)
    (project / "prep.py").write_text("X = 1\n")
    report = _doctor()
    _no_failed_checks(report)
    check = report["Requirements and updates"]
    if name == "pyproject.toml" and sys.version_info < (3, 11):  # no tomllib: never opened
        assert "not checked: [project] dependencies (pyproject.toml" in "\n".join(check.details)
    elif name in ("requirements.txt", "pyproject.toml"):  # never "no requirements file, ok"
        assert check.status == "warn"
        assert "1 not read (incomplete)" in check.summary
        assert any(d.startswith("not read: ") for d in check.details)


def test_a_symlink_to_a_fifo_is_not_followed_into_a_read(project: Path, tmp_path: Path) -> None:
    """``link.py -> fifo``: the reader sees what the link leads to and refuses it."""
    os.mkfifo(tmp_path / "fifo")
    (project / "link.py").symlink_to(tmp_path / "fifo")
    (project / "requirements.txt").symlink_to(tmp_path / "fifo")
    report = _doctor()
    _no_failed_checks(report)


def test_a_notebook_nested_100000_deep_is_one_skipped_file(project: Path) -> None:
    """JSON too deep to decode skips that notebook with the reason; other findings stand."""
    depth = 100_000
    (project / "deep.ipynb").write_text('{"cells": ' + "[" * depth + "]" * depth + "}")
    (project / "deep.py").write_text("x = " + "-" * depth + '1\np = "C:\\\\data"\n')
    (project / "paths.py").write_text('DATA = "..\\\\data\\\\train.csv"\n')
    check = _doctor()["Copies and Windows paths"]
    assert check.status == "warn"
    assert "1 Windows-only path(s)" in check.summary
    details = "\n".join(check.details)
    assert "paths.py:1" in details
    assert "not checked: deep.ipynb: nested too deeply to read (RecursionError)" in details
    assert "not checked: deep.py: not valid Python" in details


def test_a_capped_walk_is_never_ok(mydrive: Path) -> None:
    """Past the walk's limit the checks that used it say "incomplete" and warn, never "ok"."""
    folder = mydrive / "proj"
    bulk = folder / "aaa_data"
    bulk.mkdir(parents=True)
    for number in range(20_001):  # the doctor's default limit is 20,000 entries
        (bulk / f"{number:05}.bin").touch()
    (folder / "zzz").mkdir()
    (folder / "zzz" / "prep.py").write_text("X = 1\n")
    (folder / "zzz" / "prep (1).py").write_text("X = 2\n")
    report = _doctor()
    for name in ("Copies and Windows paths", "Byte-code on Drive", "Shadowed names"):
        check = report[name]
        assert check.status == "warn", check
        assert "(incomplete: the walk stopped after 20000 entries)" in check.summary
        assert check.fix is not None
        assert "looked at part of the project only" in check.fix


def test_a_small_walk_stays_ok(project: Path) -> None:
    """The cap's warning appears only when the cap was reached."""
    check = _doctor()["Copies and Windows paths"]
    assert check.status == "ok"
    assert "incomplete" not in check.summary


def _personal_drive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder with a quote in it and Drive for desktop's account folder inside."""
    home = tmp_path / "home" / "o'brien"
    drive = home / "Library" / "CloudStorage" / "GoogleDrive-jane.o.brien@gmail.com" / "My Drive"
    drive.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("COLAB_BOOTSTRAP_DRIVE", str(drive))
    return drive


def test_markdown_redacts_home_drive_and_account_in_every_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shell-quoted, repr'd and plain paths are all replaced; the e-mail appears nowhere."""
    drive = _personal_drive(tmp_path, monkeypatch)
    folder = drive / "course 2"
    folder.mkdir()
    (folder / "prep.py").write_text("X = 1\n")
    (folder / "prep (1).py").write_text("X = 2\n")
    report = _doctor("course 2")
    text = str(report)
    # The report itself (for the user, on their screen) names the real places, quoted...
    assert shlex.quote(str(folder)) in text
    assert repr(str(folder)) in text
    # ...the markdown meant for a public issue names none of them.
    markdown = report.markdown()
    pasted = report.to_json(redact=True)
    for personal in ("brien", "jane", "gmail.com", str(tmp_path)):
        assert personal not in markdown, personal
        assert personal not in pasted, personal
    assert "<My Drive>" in markdown
    assert json.loads(pasted)["checks"]
    assert "brien" in report.to_json()  # the data as it is, for programs on this machine


def test_markdown_redacts_json_escaped_and_url_quoted_spellings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spellings a detail can carry (JSON, URL-quoted) are replaced too."""
    drive = _personal_drive(tmp_path, monkeypatch)
    home = os.environ["HOME"]
    report = _doctor()
    details = (
        json.dumps({"path": home + '/a "b"'}),
        "file://" + home.replace("'", "%27") + "/x",
        home.replace("'", "\\'"),
        str(drive),
    )
    report = Report(
        (colab_bootstrap.Check("Probe", "ok", "seen", details),),
        redactions=report.redactions,
    )
    markdown = report.markdown()
    assert "brien" not in markdown
    assert "gmail.com" not in markdown


def test_a_report_never_shows_a_url_credential(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requirement lines with tokens: the text, JSON and markdown mask them all."""
    monkeypatch.setenv("PRIVATE_TOKEN", "tok-EXPANDED-123")
    (project / "requirements.txt").write_text(
        "--extra-index-url https://user:${PRIVATE_TOKEN}@pypi.example.com/simple\n"
        "git+https://literal-secret-456@github.com/me/private.git\n"
        "https://user:pass-789@files.example.com/pkg-1.0.tar.gz\n"
        "colab-bootstrap-missing-package-xyz\n"
    )
    report = _doctor()
    outputs = (str(report), report.to_json(), report.markdown(), report._repr_html_())
    for output in outputs:
        for secret in ("tok-EXPANDED-123", "literal-secret-456", "pass-789"):
            assert secret not in output
    check = report["Requirements and updates"]
    assert check.status == "fail"  # the missing package is still found


def test_a_broken_update_answer_never_hides_the_requirement_findings(
    project: Path, tmp_path: Path, tag_server: TagServer
) -> None:
    """A tags answer nested 200,000 deep: the update part is a skip, requirements still count."""
    install_from_github(tmp_path, colab_bootstrap.__version__)
    depth = 200_000
    tag_server.answer = Answer(body=b"[" * depth + b"]" * depth)
    (project / "requirements.txt").write_text("colab-bootstrap-missing-package-xyz\n")
    report = bounded(lambda: colab_bootstrap.doctor("proj"), BOUND_S)
    check = report["Requirements and updates"]
    assert check.status == "fail"
    assert "1 missing" in check.summary
    assert "update check skipped" in check.summary
    assert any("colab-bootstrap-missing-package-xyz" in d for d in check.details)


_NAME_CHARS = st.characters(codec="utf-8", exclude_characters="/\x00", min_codepoint=1)
_NAMES = st.one_of(
    st.text(_NAME_CHARS, min_size=1, max_size=40),
    st.builds(
        lambda stem, n, ext: f"{stem} ({n}){ext}",
        st.text(_NAME_CHARS, min_size=1, max_size=10),
        st.integers(0, 3000),
        st.sampled_from(["", ".py", ".ipynb", ".txt", ".tar.gz"]),
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(_NAMES, min_size=1, max_size=8, unique=True))
def test_any_file_names_give_a_report_with_every_check(mydrive: Path, names: list[str]) -> None:
    """Whatever names the project holds, every check runs and none breaks."""
    folder = mydrive / "proj"
    folder.mkdir(exist_ok=True)
    made = []
    for name in names:
        if name in (".", "..") or len(name.encode("utf-8", "surrogatepass")) > 255:
            continue
        for form in {name, unicodedata.normalize("NFD", name)}:
            try:
                (folder / form).write_text("X = 1\n")
            except OSError:
                continue
            made.append(folder / form)
    try:
        report = _doctor()
        _no_failed_checks(report)
        json.loads(report.to_json())
        report.markdown()
    finally:
        for path in made:
            path.unlink(missing_ok=True)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.one_of(
        st.text(max_size=300),
        st.sampled_from(["..", "/", "/etc", "My Drive/proj", "proj/..", "x" * 5000, "\x00"]),
    )
)
def test_any_project_name_gives_a_report(project: Path, name: str) -> None:
    """The doctor answers every name with a report (a finding about the name), never raises."""
    report = _doctor(name)
    _no_failed_checks(report)
    assert report["Project"].status in ("ok", "fail", "warn", "skip")


@pytest.mark.parametrize(
    "location",
    [{"drive_dir": "\x00"}, {"content_dir": "a\x00b"}, {"mountpoint": 5}, {"drive_dir": b"/x"}],
)
def test_a_location_that_is_not_a_path_is_a_value_error(
    project: Path, location: dict[str, object]
) -> None:
    """The one documented exception: a location argument that cannot be a path."""
    with pytest.raises(ValueError, match=r"pass a folder's path|must be a folder path"):
        colab_bootstrap.doctor("proj", network=False, **location)  # type: ignore[arg-type]


def test_numbered_names_drive_did_not_make_are_listed_without_the_dedupe_fix(
    project: Path,
) -> None:
    """``report (2023).pdf`` and a lone ``Season (1).mp4``: listed, and no advice to move them."""
    for name in ("report.pdf", "report (2023).pdf", "Season (1).mp4", "Season (2).mp4"):
        (project / name).write_bytes(b"data")
    check = _doctor()["Copies and Windows paths"]
    assert check.summary.startswith("0 group(s) of Drive sync copies (and 2 numbered name")
    assert check.fix is not None
    assert "apply=True" not in check.fix
    assert "dedupe() never moves them" in check.fix
    (project / "prep.py").write_text("X = 1\n")
    (project / "prep (1).py").write_text("X = 2\n")
    check = _doctor()["Copies and Windows paths"]
    assert check.summary.startswith("1 group(s) of Drive sync copies (and 2 numbered name")
    assert check.fix is not None
    assert "apply=True" in check.fix
