"""setup() against hostile input: it returns, or raises what its docstring names, touching nothing.

Real folders, files, FIFOs and symlinks in tmp_path stand in for My Drive and for the folder of
links; off Colab, so nothing is mounted and no link is made unless ``content_dir`` is given.
"""

from __future__ import annotations

import os
import stat
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap import (
    InvalidProjectError,
    LinkConflictError,
    ProjectNotFoundError,
)
from conftest import denied, fresh_session

NFC_CAFE = unicodedata.normalize("NFC", "café")
NFD_CAFE = unicodedata.normalize("NFD", "café")


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (a FIFO is never opened): files' bytes, links' targets."""
    seen: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            key = os.path.relpath(path, root)
            if stat.S_ISLNK(mode):
                seen[key] = f"link {os.readlink(path)}"
            elif stat.S_ISREG(mode):
                seen[key] = f"file {Path(path).read_bytes()!r}"
            else:
                seen[key] = f"mode {stat.S_IFMT(mode):o}"
    return seen


def _setup(project: object, drive: Path, **options: object) -> colab_bootstrap.Project:
    options = {"gpu": "ignore", "autoreload": False, **options}
    return colab_bootstrap.setup(project, drive_dir=drive, **options)  # type: ignore[arg-type]


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    """My Drive with one project folder, ``proj``."""
    folder = tmp_path / "My Drive"
    (folder / "proj").mkdir(parents=True)
    return folder


# --- names too long for any file system ----------------------------------------------------------


@pytest.mark.parametrize("create", [False, True])
def test_a_project_name_part_over_255_bytes_is_an_invalid_project(
    drive: Path, create: bool
) -> None:
    """300 bytes in one name is InvalidProjectError naming the limit, not a raw ENAMETOOLONG."""
    before = snapshot(drive.parent)
    with pytest.raises(InvalidProjectError, match="255 bytes"):
        _setup("x" * 300, drive, create=create)
    with pytest.raises(InvalidProjectError, match="255 bytes"):
        _setup("ok/" + "é" * 128, drive, create=create)  # 256 bytes in UTF-8, 128 characters
    assert snapshot(drive.parent) == before


def test_a_project_path_too_long_with_drive_is_refused_before_any_folder_is_made(
    drive: Path,
) -> None:
    """16 names of 255 bytes fit a path alone, not under My Drive: nothing is half-created."""
    project = "/".join(["x" * 255] * 16)  # 4095 bytes: the longest path, before My Drive's
    before = snapshot(drive.parent)
    with pytest.raises(InvalidProjectError, match="bytes a path may have"):
        _setup(project, drive, create=True)
    assert snapshot(drive.parent) == before


def test_a_link_name_over_255_bytes_is_a_value_error(drive: Path, tmp_path: Path) -> None:
    """link_name='z'*300 is refused like other bad link names, before anything changes."""
    links = tmp_path / "links"
    links.mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(ValueError, match=r"link_name must be one plain file name.*255 bytes"):
        _setup("proj", drive, content_dir=links, link_name="z" * 300)
    assert snapshot(tmp_path) == before


# --- content_dir that is not a folder ------------------------------------------------------------


def _not_a_folder(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"links-{kind}"
    if kind == "file":
        path.write_text("my notes\n")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    elif kind == "under-a-file":
        (tmp_path / "notes.txt").write_text("mine\n")
        path = tmp_path / "notes.txt" / "links"
    return path


@pytest.mark.parametrize("kind", ["file", "fifo", "dangling", "under-a-file"])
@pytest.mark.parametrize("create", [False, True])
def test_a_content_dir_that_is_not_a_folder_is_a_link_conflict(
    drive: Path, tmp_path: Path, kind: str, create: bool
) -> None:
    """A file, FIFO or link to nothing where the links go: LinkConflictError, nothing made."""
    content = _not_a_folder(tmp_path, kind)
    project = "new_proj" if create else "proj"
    before = snapshot(tmp_path)
    path_before = list(sys.path)
    with pytest.raises(LinkConflictError, match="content_dir= a folder") as raised:
        _setup(project, drive, content_dir=content, create=create)
    assert "left as it is" in str(raised.value)
    assert snapshot(tmp_path) == before  # create=True made no project folder either
    assert sys.path == path_before


def test_a_content_dir_this_account_cannot_enter_is_a_link_conflict(
    drive: Path, tmp_path: Path
) -> None:
    """A folder of links without search permission: LinkConflictError, not PermissionError."""
    outer = tmp_path / "locked"
    outer.mkdir()
    with denied(outer):
        with pytest.raises(LinkConflictError, match="permission denied"):
            _setup("proj", drive, content_dir=outer / "links")
        with pytest.raises(LinkConflictError, match="can write to"):
            _setup("proj", drive, content_dir=outer)
    assert list(outer.iterdir()) == []


# --- project folders out of reach, or with something else in their place -------------------------


@pytest.mark.parametrize("create", [False, True])
def test_a_project_behind_a_folder_that_cannot_be_entered(drive: Path, create: bool) -> None:
    """A parent without permission: ProjectNotFoundError saying so, not PermissionError."""
    (drive / "locked" / "proj").mkdir(parents=True)
    before = snapshot(drive)
    with denied(drive / "locked"), pytest.raises(ProjectNotFoundError) as raised:
        _setup("locked/proj", drive, create=create)
    assert "permission denied" in str(raised.value)
    assert "does not exist" not in str(raised.value)
    assert snapshot(drive) == before


@pytest.mark.parametrize("kind", ["fifo", "file", "dangling"])
def test_create_through_something_that_is_not_a_folder(drive: Path, kind: str) -> None:
    """create=True never writes over a FIFO, a file or a link: ProjectNotFoundError naming it."""
    blocker = drive / "blocker"
    if kind == "fifo":
        os.mkfifo(blocker)
    elif kind == "file":
        blocker.write_text("mine\n")
    else:
        blocker.symlink_to(drive / "gone")
    before = snapshot(drive)
    for project in ("blocker", "blocker/sub"):
        with pytest.raises(ProjectNotFoundError) as raised:
            _setup(project, drive, create=True)
        assert str(blocker) in str(raised.value)
    assert snapshot(drive) == before


# --- names written with My Drive's own path ------------------------------------------------------


@pytest.mark.parametrize("prefix", ["My Drive/", "MyDrive/", "drive/MyDrive/"])
def test_a_project_starting_with_my_drive_gets_the_relative_path(drive: Path, prefix: str) -> None:
    """'My Drive/proj' is looked for inside My Drive: the message says to pass 'proj'."""
    with pytest.raises(ProjectNotFoundError) as raised:
        _setup(prefix + "proj", drive)
    message = str(raised.value)
    assert f"drop {prefix!r}" in message
    assert "pass 'proj' (that folder exists)" in message


@pytest.mark.parametrize(
    "project", ["/content/drive/MyDrive/proj", "G:\\My Drive\\proj", "G:/My Drive/proj"]
)
def test_an_absolute_path_to_my_drive_names_the_relative_path(drive: Path, project: str) -> None:
    """Colab's and Windows' absolute paths are absolute (not 'use /'), with the path to pass."""
    with pytest.raises(InvalidProjectError) as raised:
        _setup(project, drive)
    assert "absolute path" in str(raised.value)
    assert "For this path that is 'proj'." in str(raised.value)


# --- Unicode forms -------------------------------------------------------------------------------


def test_a_name_typed_in_another_unicode_form_finds_the_folder(drive: Path) -> None:
    """'café' typed (NFC) finds the folder macOS wrote as 'cafe' + U+0301 (NFD): the only one."""
    (drive / NFD_CAFE).mkdir()
    (drive / NFD_CAFE / "hostile_nfd_mod.py").write_text("VALUE = 7\n")
    project = _setup(NFC_CAFE, drive)
    assert project.path == drive / NFD_CAFE
    assert project.name == NFD_CAFE
    import hostile_nfd_mod  # type: ignore[import-not-found]

    assert hostile_nfd_mod.VALUE == 7


def test_create_never_makes_a_look_alike_twin(drive: Path) -> None:
    """create=True with 'café' in NFC uses the NFD folder there instead of making a second one."""
    (drive / NFD_CAFE).mkdir()
    _setup(f"{NFC_CAFE}/sub", drive, create=True)
    assert sorted(os.listdir(drive)) == sorted(["proj", NFD_CAFE])
    assert (drive / NFD_CAFE / "sub").is_dir()


def test_two_look_alike_folders_are_shown_escaped(drive: Path) -> None:
    """Two folders that are the name in other Unicode forms: the message shows them apart."""
    typed = "\u00c5ngstr\u00f6m"  # NFC: 'Å' as one character
    sign = "\u212bngstr\u00f6m"  # 'Å' as the ANGSTROM SIGN
    decomposed = unicodedata.normalize("NFD", typed)  # 'A' + combining ring
    (drive / sign).mkdir()
    (drive / decomposed).mkdir()
    before = snapshot(drive)
    with pytest.raises(ProjectNotFoundError) as raised:
        _setup(typed, drive, create=True)
    message = str(raised.value)
    assert "Unicode" in message
    assert ascii(sign) in message
    assert ascii(decomposed) in message
    assert "Did you mean" not in message
    assert snapshot(drive) == before


# --- wrong types and values for every option -----------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("drive_dir", 5),
        ("drive_dir", b"/tmp"),
        ("drive_dir", "/tmp/a\x00b"),
        ("drive_dir", ""),
        ("drive_dir", "/tmp/" + "d" * 300),
        ("mountpoint", 3),
        ("mountpoint", "/content/\x00drive"),
        ("content_dir", 3.5),
        ("content_dir", "/tmp/\ud800"),
        ("content_dir", "/tmp/" + "/".join(["c" * 200] * 25)),
        ("gpu", []),
        ("gpu", None),
        ("link_name", ["a"]),
        ("link_name", "\udcff"),
        ("create", "no"),
        ("force_remount", None),
        ("autoreload", []),
        ("install", "yes"),
        ("mount_timeout", True),
        ("mount_timeout", "60"),
        ("mount_timeout", float("inf")),
        ("mount_timeout", 10**400),
    ],
)
def test_a_bad_option_is_a_value_error_naming_it(
    drive: Path, tmp_path: Path, option: str, value: object
) -> None:
    """Every option refuses what it cannot use with a ValueError that names it; nothing made."""
    options: dict[str, object] = {
        "drive_dir": drive,
        "content_dir": tmp_path / "links",
        "gpu": "ignore",
        "autoreload": False,
    }
    options[option] = value
    before = snapshot(tmp_path)
    path_before = list(sys.path)
    with pytest.raises(ValueError, match=option) as raised:
        colab_bootstrap.setup("proj", **options)  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)
    assert snapshot(tmp_path) == before
    assert sys.path == path_before


def test_a_project_name_that_is_not_text_is_refused(drive: Path) -> None:
    """A lone surrogate (half a character) is InvalidProjectError, and no folder is made."""
    before = snapshot(drive)
    for name in ("a\udcffb", "\ud800"):
        with pytest.raises(InvalidProjectError, match="not valid text"):
            _setup(name, drive, create=True)
    assert snapshot(drive) == before


# --- any project name ----------------------------------------------------------------------------

_PARTS = st.one_of(
    st.sampled_from(
        [
            "proj",
            "missing",
            NFC_CAFE,
            NFD_CAFE,
            "..",
            ".",
            "",
            " ",
            "~",
            "C:",
            "My Drive",
            "MyDrive",
            "a\\b",
            "a\x00b",
            "\udcff",
            "\ud800",
            "x" * 255,
            "x" * 256,
            "é" * 128,
            "pipe",
            "file.txt",
            "dangling",
        ]
    ),
    st.text(st.characters(exclude_categories=()), max_size=12),
)
_NAMES = st.one_of(
    st.lists(_PARTS, max_size=5).map("/".join),
    st.lists(_PARTS, min_size=1, max_size=3).map("\\".join),
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.builds(
        unicodedata.normalize, st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]), st.text(max_size=10)
    ),
    st.integers(1, 20).map(lambda n: "/".join(["y" * 250] * n)),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=_NAMES, create=st.booleans())
def test_any_project_name_returns_or_raises_what_is_documented(
    tmp_path: Path, name: str, create: bool
) -> None:
    """setup(name) returns or raises a documented error; when it raises, nothing changed."""
    fresh_session(tmp_path)
    drive = tmp_path / "drive"
    if not drive.exists():
        (drive / "proj").mkdir(parents=True)
        (drive / NFD_CAFE).mkdir()
        os.mkfifo(drive / "pipe")
        (drive / "file.txt").write_text("mine\n")
        (drive / "dangling").symlink_to(tmp_path / "nowhere")
    links = tmp_path / "links"
    before = snapshot(tmp_path)
    path_before = list(sys.path)
    documented = (InvalidProjectError, ProjectNotFoundError, LinkConflictError)
    try:
        project = _setup(name, drive, content_dir=links, create=create)
    except documented as exc:
        raised: Exception | None = exc
    else:
        raised = None
        assert project.path.is_dir()
        assert project.path.is_relative_to(drive)
    if raised is not None:
        assert "\n" not in str(raised)
        assert snapshot(tmp_path) == before
        assert sys.path == path_before
