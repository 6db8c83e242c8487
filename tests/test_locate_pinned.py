"""Issue 17 (mutation testing): where My Drive is looked for off Colab, pinned on real folders.

``desktop_candidates`` takes the home folder and the platform, so every platform's list is
checked here on tmp folders, with no patching. The mutants each test kills are listed in
docs/testing.md.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from colab_bootstrap import DriveNotFoundError, InvalidProjectError, ProjectNotFoundError
from colab_bootstrap._locate import (
    DriveLocation,
    close_names,
    desktop_candidates,
    desktop_drive,
    find_drive,
    given_drive,
    link_path,
    obstacle,
    project_folder,
    project_path,
    validate_link_name,
    validate_project,
)
from conftest import FakeColab, denied

#: Drive for desktop's letter on Windows: G first (its default), then H to Z, and D, E, F last
#: (those are often a second disk or an optical drive). Never A, B or C.
WINDOWS_LETTERS = [f"{letter}:\\My Drive" for letter in "GHIJKLMNOPQRSTUVWXYZ"] + [
    "D:\\My Drive",
    "E:\\My Drive",
    "F:\\My Drive",
]


def _home(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A home folder (its name has glob characters) with two macOS Drive accounts, and those."""
    home = tmp_path / "ho[m]e*"
    cloud = home / "Library" / "CloudStorage"
    accounts = [cloud / "GoogleDrive-ann@example.com", cloud / "GoogleDrive-bob@example.com"]
    for account in reversed(accounts):
        account.mkdir(parents=True)
    (cloud / "OneDrive-ann").mkdir()  # another cloud's folder: never a candidate
    return home, accounts


def _tail(home: Path) -> list[Path]:
    """The folders older clients (and Drive for desktop's mirror mode) use, in order."""
    return [
        home / "Google Drive" / "My Drive",
        home / "My Drive",
        home / "GoogleDrive" / "My Drive",
        home / "Google Drive",
        home / "GoogleDrive",
    ]


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_desktop_candidates_are_every_account_then_the_letters_then_the_home_folders(
    tmp_path: Path, platform: str
) -> None:
    """Each macOS account (sorted, both spellings), Windows letters on win32 only, then home."""
    home, accounts = _home(tmp_path)
    found = desktop_candidates(home, platform)
    mac = [account / name for account in accounts for name in ("My Drive", "MyDrive")]
    letters = WINDOWS_LETTERS if platform == "win32" else []
    assert [str(p) for p in found] == [str(p) for p in mac] + letters + [
        str(p) for p in _tail(home)
    ]


def test_desktop_candidates_without_a_mac_account_start_with_the_letters_on_windows(
    tmp_path: Path,
) -> None:
    """No CloudStorage folder: Windows looks at G: first; elsewhere no letter is ever looked at."""
    assert [str(p) for p in desktop_candidates(tmp_path, "win32")][:23] == WINDOWS_LETTERS
    assert desktop_candidates(tmp_path, "linux") == _tail(tmp_path)
    assert desktop_candidates(tmp_path, "WIN32") == _tail(tmp_path)  # sys.platform is lowercase


def test_desktop_drive_takes_the_first_folder_that_exists(tmp_path: Path) -> None:
    """Made from the last candidate to the first, each new folder wins over all made before."""
    home, accounts = _home(tmp_path)
    for account in accounts:
        account.rmdir()
    order = [a / n for a in accounts for n in ("My Drive", "MyDrive")] + _tail(home)
    for folder in reversed(order):
        folder.mkdir(parents=True, exist_ok=True)
        found = desktop_drive(home)
        assert (found.path, found.how) == (folder, "desktop")


def test_no_desktop_drive_lists_each_folder_looked_in_on_its_own_line(tmp_path: Path) -> None:
    """The error lists every candidate, one per line, so the user can see where it looked."""
    home, _ = _home(tmp_path)
    with pytest.raises(DriveNotFoundError) as raised:
        desktop_drive(home)
    lines = str(raised.value).splitlines()
    for candidate in desktop_candidates(home):
        assert f"  - {candidate}" in lines


# --- close names: what a missing project's error suggests -----------------------------------


def test_close_names_puts_the_other_case_first_then_the_closest(tmp_path: Path) -> None:
    """The same name in another case first, then look-alikes by closeness, ``limit`` at most.

    Never a file, a link that leads nowhere, a hidden folder, or the same text in another
    Unicode form.
    """
    for name in (
        "Fastai_Course",
        "fastai_cours",
        "fastai_course_2",
        "fastai_coarse",
        ".fastai_course",
        "unrelated",
        "cafe\u0301",
    ):
        (tmp_path / name).mkdir()
    (tmp_path / "fastai_courses").write_text("a file, not a folder\n")
    (tmp_path / "fastai_course1").symlink_to(tmp_path / "fastai_course1")  # a loop: no folder
    assert close_names(tmp_path, "fastai_course") == [
        "Fastai_Course",
        "fastai_cours",
        "fastai_course_2",
    ]
    assert close_names(tmp_path, "fastai_course", limit=5) == [
        "Fastai_Course",
        "fastai_cours",
        "fastai_course_2",
        "fastai_coarse",
    ]
    assert close_names(tmp_path, "fastai_course", limit=1) == ["Fastai_Course"]
    (tmp_path / "FASTAI_COURSE").mkdir()  # two names in other cases: both come first
    both = close_names(tmp_path, "fastai_course")
    assert (sorted(both[:2]), both[2:]) == (["FASTAI_COURSE", "Fastai_Course"], ["fastai_cours"])
    assert close_names(tmp_path, "caf\u00e9") == []  # the NFD folder is the same name
    assert close_names(tmp_path, "CAF\u00e9") == ["cafe\u0301"]
    assert close_names(tmp_path / "missing", "fastai_course") == []


# --- given_drive: drive_dir= and $COLAB_BOOTSTRAP_DRIVE ---------------------------------------


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("missing", "does not exist"),
        ("file", "is not a folder"),
        ("fifo", "is not a folder"),
        ("denied", "cannot be reached from this account (permission denied)"),
    ],
)
@pytest.mark.parametrize("how", ["drive_dir", "env"])
def test_a_named_drive_that_is_no_folder_says_what_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, words: str, how: str
) -> None:
    """drive_dir= or $COLAB_BOOTSTRAP_DRIVE naming no folder: which of the two, and what it is."""
    path = tmp_path / "drive"
    if kind == "file":
        path.write_text("notes\n")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "denied":
        (tmp_path / "locked").mkdir()
        path = tmp_path / "locked" / "drive"
    if how == "env":
        monkeypatch.setenv("COLAB_BOOTSTRAP_DRIVE", str(path))
    name = "drive_dir" if how == "drive_dir" else "$COLAB_BOOTSTRAP_DRIVE"
    with contextlib.ExitStack() as stack:
        if kind == "denied":
            stack.enter_context(denied(tmp_path / "locked"))
        with pytest.raises(DriveNotFoundError) as raised:
            given_drive(path if how == "drive_dir" else None)
    assert str(raised.value).startswith(f"{name} {str(path)!r} {words}.")


def test_a_named_drive_is_found_absolute_and_home_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'~/x' is the home folder's x; a relative path is made absolute; drive_dir= beats $ENV.

    An empty $COLAB_BOOTSTRAP_DRIVE counts as unset.
    """
    home = tmp_path / "home"
    (home / "My Drive").mkdir(parents=True)
    (tmp_path / "cwd" / "drive").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path / "cwd")
    assert given_drive("~/My Drive") == DriveLocation(home / "My Drive", "drive_dir")
    assert given_drive(Path("drive")) == DriveLocation(tmp_path / "cwd" / "drive", "drive_dir")
    monkeypatch.setenv("COLAB_BOOTSTRAP_DRIVE", "~/My Drive")
    assert given_drive(None) == DriveLocation(home / "My Drive", "env")
    assert given_drive("drive") == DriveLocation(tmp_path / "cwd" / "drive", "drive_dir")
    monkeypatch.setenv("COLAB_BOOTSTRAP_DRIVE", "")
    assert given_drive(None) is None


# --- what stands where a folder should be -----------------------------------------------------


def test_obstacle_names_the_first_part_that_is_not_a_folder(tmp_path: Path) -> None:
    """A file, a FIFO, a link to nothing on the way: that part and what it is.

    A folder, or a place where a folder can be made: None.
    """
    (tmp_path / "notes.txt").write_text("mine\n")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    (tmp_path / "folder").mkdir()
    assert obstacle(tmp_path / "folder") is None
    assert obstacle(tmp_path / "folder" / "new" / "deeper") is None
    assert obstacle(tmp_path / "notes.txt" / "a" / "b") == (tmp_path / "notes.txt", "a file")
    assert obstacle(tmp_path / "pipe") == (tmp_path / "pipe", "a FIFO (named pipe)")
    assert obstacle(tmp_path / "dangling" / "x") == (
        tmp_path / "dangling",
        f"a symbolic link to {str(tmp_path / 'nowhere')!r}, which does not exist",
    )
    with denied(tmp_path / "folder"):
        assert obstacle(tmp_path / "folder" / "new" / "deeper") == (
            tmp_path / "folder",
            "a folder this account cannot enter (permission denied)",
        )


# --- the link's name and place ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "a/b", "a\\b", "a\0b", "a\nb", " a", "a ", "x" * 256, "\u00e9" * 128, 5, None],
)
def test_a_link_name_that_is_not_one_plain_file_name_is_refused(name: object) -> None:
    """A path, a dot name, control characters, spaces around, over 255 bytes, not a string."""
    with pytest.raises(ValueError, match="link_name must be one plain file name"):
        validate_link_name(name)


@pytest.mark.parametrize(
    "name", ["proj_b", "X_proj", "x" * 255, "\u00e9" * 127, "a b", "caf\u00e9"]
)
def test_a_plain_link_name_is_taken_as_it_is(name: str) -> None:
    """Up to 255 bytes, spaces inside, any printable text: returned unchanged."""
    assert validate_link_name(name) == name


def test_the_link_goes_in_content_dir_on_colab_always_and_elsewhere_only_when_asked() -> None:
    """Off Colab no link unless content_dir is given; on Colab /content by default."""
    folder = Path("/drive/My Drive/courses/proj")
    assert link_path(None, folder, colab=False) is None
    assert link_path(None, folder, colab=True) == Path("/content/proj")
    assert link_path("/links", folder, colab=False) == Path("/links/proj")
    assert link_path("/links", folder, colab=True, name="b_proj") == Path("/links/b_proj")


# --- an absolute project path: the relative path to pass instead ------------------------------


@pytest.mark.parametrize(
    ("project", "relative"),
    [
        ("/content/drive/MyDrive/courses/fastai_course2", "courses/fastai_course2"),
        ("G:\\My Drive\\courses\\fastai_course2\\", "courses/fastai_course2"),
        ("~/Google Drive/My Drive/courses//fastai_course2", "courses/fastai_course2"),
        ("/content/drive/MyDrive", None),
        ("/content/drive/MyDrive/", None),
        ("/home/me/fastai_course2", None),
    ],
)
def test_an_absolute_project_path_names_the_path_relative_to_my_drive(
    project: str, relative: str | None
) -> None:
    """The part after My Drive's own name is the project to pass; without one, no such hint."""
    with pytest.raises(InvalidProjectError, match="is an absolute path") as raised:
        validate_project(project)
    text = str(raised.value)
    if relative is None:
        assert "For this path" not in text
    else:
        assert f" For this path that is {relative!r}." in text
    assert "drive_dir=" in text


# --- a project folder that is not found: what to pass instead ---------------------------------


def _drive(tmp_path: Path) -> Path:
    drive = tmp_path / "drive"
    (drive / "courses" / "fastai").mkdir(parents=True)
    (drive / "notes.txt").write_text("mine\n")
    return drive


@pytest.mark.parametrize(
    ("project", "hint"),
    [
        (
            "MyDrive/courses/fastai",
            "drop 'MyDrive/' and pass 'courses/fastai' (that folder exists).",
        ),
        ("My Drive/courses/nothing", "drop 'My Drive/' and pass 'courses/nothing'. "),
        ("MyDrive/notes.txt", "drop 'MyDrive/' and pass 'notes.txt'. "),
        (
            "drive/MyDrive/My Drive/courses",
            "drop 'drive/MyDrive/My Drive/' and pass 'courses' (that",
        ),
        ("MyDrive", "The project is a folder inside My Drive ({drive}): pass its path from there"),
        ("courses/My Drive", "The project is a folder inside My Drive ({drive}): pass its path"),
        ("courses/nothing", None),
    ],
)
def test_a_missing_project_written_with_my_drives_name_says_what_to_pass(
    tmp_path: Path, project: str, hint: str | None
) -> None:
    """The part after the last 'MyDrive' or 'My Drive' is what to pass.

    '(that folder exists)' only when it is a folder there.
    """
    drive = _drive(tmp_path)
    with pytest.raises(ProjectNotFoundError) as raised:
        project_path(drive, validate_project(project))
    text = str(raised.value)
    if hint is None:
        assert "My Drive (" not in text
    else:
        assert hint.format(drive=drive) in text
    assert text.endswith("or pass create=True to make an empty folder.")


def test_a_missing_nested_project_names_the_missing_part_and_where(tmp_path: Path) -> None:
    """The first missing part, the folder it is not in, and names close to it there."""
    drive = _drive(tmp_path)
    (drive / "courses" / "fastai" / "lesson1").mkdir()
    with pytest.raises(ProjectNotFoundError) as raised:
        project_path(drive, validate_project("courses/fastai/lesson_1/data"))
    text = str(raised.value)
    where = drive / "courses" / "fastai"
    assert project_path(drive, validate_project("courses/fastai/lesson1")) == where / "lesson1"
    assert f"does not exist ('lesson_1' is not in {where})." in text
    assert "Did you mean 'courses/fastai/lesson1'?" in text


@pytest.mark.parametrize("kind", ["fifo", "dangling", "unreadable", "behind"])
def test_a_project_that_is_no_folder_or_out_of_reach_says_what_is_there(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO, a link to nothing, a folder that cannot be read or entered: named, left as is."""
    drive = _drive(tmp_path)
    path = drive / "proj"
    locked = path
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling":
        path.symlink_to(drive / "gone")
    elif kind == "unreadable":
        path.mkdir()
    else:
        path.mkdir()
        (path / "inner").mkdir()
        path = path / "inner"
    expected = {
        "fifo": f"{path} is a FIFO (named pipe), not a folder.",
        "dangling": f"{path}: {path} is a symbolic link to {str(drive / 'gone')!r}, which does"
        " not exist. It is left as it is: move it away",
        "unreadable": f"{path}: {path} is a folder this account cannot read (permission denied)."
        " Give this account access to it (e.g. chmod u+rwx)",
        "behind": f"{path}: {locked} is a folder this account cannot enter (permission denied)."
        " Give this account access to it (e.g. chmod u+rwx)",
    }[kind]
    with contextlib.ExitStack() as stack:
        if kind in ("unreadable", "behind"):
            stack.enter_context(denied(locked, 0o300 if kind == "unreadable" else 0))
        if kind == "unreadable" and os.access(path, os.R_OK):
            pytest.skip("access(2) lets root read any folder, whatever its mode")
        with pytest.raises(ProjectNotFoundError) as raised:
            project_path(drive, validate_project(str(path.relative_to(drive))))
    assert expected in str(raised.value)


#: Run first in a child: drop, for good, the capabilities that let root ignore file modes. Root's
#: access(2) checks with the permitted set (not the effective one), so only a process that lost
#: them there is told "no" for a folder it may not read, as any other account is.
_AS_ANOTHER_ACCOUNT = """
import ctypes
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("effective", "permitted", "inheritable")]
libc = ctypes.CDLL(None, use_errno=True)
header, data = Header(0x20080522, 0), (Data * 2)()
assert libc.capget(ctypes.byref(header), data) == 0
for field in ("effective", "permitted", "inheritable"):
    setattr(data[0], field, getattr(data[0], field) & ~0b110)  # CAP_DAC_OVERRIDE, READ_SEARCH
assert libc.capset(ctypes.byref(header), data) == 0
"""


def test_a_folder_this_account_cannot_read_is_named_in_a_process_without_roots_powers(
    tmp_path: Path,
) -> None:
    """A project folder that may be entered but not listed (mode 0300): named, with the fix.

    Run in a child that has lost, for good, what lets root read any folder (as root, access(2)
    says yes whatever the mode): there, as for any other account, the folder is "a folder this
    account cannot read", not "missing" and not used as it is.
    """
    if not sys.platform.startswith("linux"):
        pytest.skip("capabilities are Linux's")
    drive = _drive(tmp_path)
    path = drive / "proj"
    path.mkdir(mode=0o300)
    path.chmod(0o300)
    code = _AS_ANOTHER_ACCOUNT + textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from colab_bootstrap import ProjectNotFoundError
        from colab_bootstrap._locate import project_path, validate_project
        assert not os.access({str(path)!r}, os.R_OK)  # root's powers are gone
        try:
            project_path(Path({str(drive)!r}), validate_project("proj"))
        except ProjectNotFoundError as exc:
            print(exc)
        """
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        path.chmod(0o700)
    assert result.returncode == 0, result.stderr
    assert (
        f"{path}: {path} is a folder this account cannot read (permission denied). Give this "
        "account access to it (e.g. chmod u+rwx)"
    ) in result.stdout


def test_a_nested_part_typed_in_another_unicode_form_is_spelled_as_on_disk(
    tmp_path: Path,
) -> None:
    """'courses/café' typed (NFC) finds 'courses/cafe' + U+0301 on disk, below a plain part."""
    drive = _drive(tmp_path)
    on_disk = "cafe\u0301"
    (drive / "courses" / on_disk).mkdir()
    found = project_folder(drive, validate_project("courses/caf\u00e9/week1"))
    assert found == drive / "courses" / on_disk / "week1"


def test_a_missing_name_with_two_look_alikes_on_disk_names_what_was_typed(
    tmp_path: Path,
) -> None:
    """Two folders are the typed name in other Unicode forms: ambiguous, the typed name shown."""
    drive = _drive(tmp_path)
    for form in ("e\u0323\u0302", "e\u0302\u0323"):
        (drive / form).mkdir()
    with pytest.raises(ProjectNotFoundError) as raised:
        project_folder(drive, validate_project("\u1ec7"))
    assert f"names are {chr(0x1EC7)!r} in different Unicode forms" in str(raised.value)


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        ("\\proj", "is an absolute path"),
        ("Xa\\X\\", "Use '/' instead: 'Xa/X'."),
        ("./", "names no folder"),
        ("./.", "names no folder"),
    ],
)
def test_odd_project_names_get_the_message_for_what_they_are(project: str, expected: str) -> None:
    """Odd names: each gets the message for what it is, never the whole of My Drive.

    A leading backslash is absolute, the '/' suggestion keeps the name's own letters, and a
    name of only '.' parts names no folder.
    """
    with pytest.raises(InvalidProjectError) as raised:
        validate_project(project)
    assert expected in str(raised.value)


def test_on_colab_my_drive_is_found_in_the_live_mount_and_nowhere_else(
    fake_colab: FakeColab,
) -> None:
    """find_drive on Colab: the live mount's MyDrive, wherever it is; None before a mount."""
    point = fake_colab.mountpoint
    assert find_drive(None, colab=True, mountpoint=point) is None
    mydrive = fake_colab.mount_at(point)
    assert find_drive(None, colab=True, mountpoint=point) == DriveLocation(mydrive, "colab")
    elsewhere = fake_colab.root / "other"
    assert find_drive(None, colab=True, mountpoint=elsewhere) == DriveLocation(mydrive, "colab")
