"""setup(): every numbered rule of the one-cell setup, on real files and symlinks."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import (
    DriveMountError,
    DriveNotFoundError,
    InvalidProjectError,
    LinkConflictError,
    ProjectNotFoundError,
)
from colab_bootstrap._locate import desktop_candidates, find_drive
from colab_bootstrap._session import SESSION
from conftest import FakeColab, denied


@pytest.mark.parametrize(
    ("project", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("/content/drive/MyDrive/fastai_course2", "'fastai_course2'"),
        ("~/fastai", "absolute"),
        ("C:/Users/me/fastai", "absolute"),
        ("../secret", "'..'"),
        ("courses/../../etc", "'..'"),
        ("courses\\fastai_course2", "'courses/fastai_course2'"),
        ("fast\x00ai", "control character"),
        ("fastai\n", "control character"),
        (".", "names no folder"),
        (" fastai", "space"),
    ],
)
def test_bad_project_names_raise_before_anything_is_touched(
    project: str, fragment: str, fake_colab: FakeColab
) -> None:
    """Each bad name raises InvalidProjectError (a ValueError) naming the fix; nothing mounted."""
    before = list(sys.path)
    with pytest.raises(InvalidProjectError) as info:
        colab_bootstrap.setup(project, content_dir=fake_colab.content, gpu="ignore")
    assert isinstance(info.value, ValueError)
    assert fragment in str(info.value)
    assert fake_colab.calls() == []
    assert list(fake_colab.content.iterdir()) == []
    assert sys.path == before


def test_non_string_project_is_rejected() -> None:
    """A Path or None is not silently str()-ed."""
    with pytest.raises(InvalidProjectError, match="must be a string"):
        colab_bootstrap.setup(None, gpu="ignore")  # type: ignore[arg-type]


def test_nested_project_name_with_slashes_is_accepted(mydrive: Path) -> None:
    """'courses/fastai_course2' finds the nested folder; doubled slashes are tolerated."""
    (mydrive / "courses" / "fastai_course2").mkdir(parents=True)
    project = colab_bootstrap.setup("courses//fastai_course2/", gpu="ignore")
    assert project.path == mydrive / "courses" / "fastai_course2"
    assert project.name == "courses/fastai_course2"


def test_on_colab_by_release_tag_or_hostname_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COLAB_RELEASE_TAG or the hostname file mean Colab; COLAB_GPU alone does not."""
    from colab_bootstrap._colab import on_colab

    missing = tmp_path / "hostname"
    monkeypatch.setenv("COLAB_GPU", "1")
    assert not on_colab(missing)
    missing.write_text("x")
    assert on_colab(missing)
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20261101-060000_RC00")
    assert on_colab(tmp_path / "nothing")


def test_drive_dir_argument_wins_over_env(tmp_path: Path, mydrive: Path) -> None:
    """drive_dir= beats COLAB_BOOTSTRAP_DRIVE."""
    other = tmp_path / "other"
    (other / "proj").mkdir(parents=True)
    (mydrive / "proj").mkdir()
    assert colab_bootstrap.setup("proj", drive_dir=other, gpu="ignore").path == other / "proj"
    assert colab_bootstrap.setup("proj", gpu="ignore").path == mydrive / "proj"


def test_missing_drive_dir_names_the_fix(tmp_path: Path) -> None:
    """An explicit drive_dir that does not exist raises DriveNotFoundError naming it."""
    with pytest.raises(DriveNotFoundError, match="does not exist"):
        colab_bootstrap.setup("p", drive_dir=tmp_path / "nope", gpu="ignore")


def test_desktop_folders_are_found_off_colab(tmp_path: Path) -> None:
    """Off Colab, Google Drive for desktop's macOS folder is found under the home folder."""
    account = tmp_path / "Library" / "CloudStorage" / "GoogleDrive-me@example.com" / "My Drive"
    account.mkdir(parents=True)
    found = find_drive(None, colab=False, mountpoint="/nowhere", home=tmp_path)
    assert found is not None
    assert found.path == account
    assert found.how == "desktop"
    linux = desktop_candidates(tmp_path, "linux")
    assert tmp_path / "Google Drive" / "My Drive" in linux


def test_no_drive_off_colab_lists_where_it_looked(tmp_path: Path) -> None:
    """Nothing found off Colab: DriveNotFoundError lists the folders and both ways to point."""
    with pytest.raises(DriveNotFoundError) as info:
        find_drive(None, colab=False, mountpoint="/nowhere", home=tmp_path)
    text = str(info.value)
    assert str(tmp_path / "Google Drive" / "My Drive") in text
    assert "drive_dir=" in text
    assert "COLAB_BOOTSTRAP_DRIVE" in text


def test_colab_mounts_once_and_links(fake_colab: FakeColab) -> None:
    """On Colab: mount through google.colab.drive, link /content/<name>, sys.path once."""
    folder = fake_colab.project("fastai_course2", {"preprocessing.py": "X = 1\n"})
    project = colab_bootstrap.setup(
        "fastai_course2",
        mountpoint=fake_colab.mountpoint,
        content_dir=fake_colab.content,
        gpu="ignore",
    )
    link = fake_colab.content / "fastai_course2"
    assert link.is_symlink()
    assert link.resolve() == fake_colab.mountpoint / "MyDrive" / folder.name  # through the mount
    assert project.link == link
    assert project.on_colab
    assert sys.path.count(str(link)) == 1
    assert [c["force_remount"] for c in fake_colab.calls("mount")] == [False]
    import preprocessing  # type: ignore[import-not-found]

    assert preprocessing.X == 1


def test_second_setup_leaves_the_state_of_one(
    fake_colab: FakeColab, fake_nvidia_smi: object
) -> None:
    """Twice == once: one mount, one sys.path entry, same link, no second nvidia-smi run."""
    fake = fake_nvidia_smi(listing="GPU 0: Tesla T4 (UUID: GPU-1)\n")  # type: ignore[operator]
    fake_colab.project("p")
    kwargs = {"mountpoint": fake_colab.mountpoint, "content_dir": fake_colab.content}
    first = colab_bootstrap.setup("p", **kwargs)  # type: ignore[arg-type]
    path_after_one = list(sys.path)
    calls_after_one = len(fake.calls())
    second = colab_bootstrap.setup("p", **kwargs)  # type: ignore[arg-type]
    assert sys.path == path_after_one
    assert len(fake_colab.calls("mount")) == 1
    assert len(fake.calls()) == calls_after_one
    assert first.path == second.path
    assert first.link == second.link
    assert [r.project.name for r in SESSION.projects.values()] == ["p"]


def test_force_remount_mounts_again(fake_colab: FakeColab) -> None:
    """force_remount=True calls drive.mount(..., force_remount=True) even when mounted."""
    fake_colab.project("p")
    kwargs = {
        "mountpoint": fake_colab.mountpoint,
        "content_dir": fake_colab.content,
        "gpu": "ignore",
    }
    colab_bootstrap.setup("p", **kwargs)  # type: ignore[arg-type]
    colab_bootstrap.setup("p", force_remount=True, **kwargs)  # type: ignore[arg-type]
    assert [c["force_remount"] for c in fake_colab.calls("mount")] == [False, True]


def test_already_mounted_drive_is_not_remounted(
    fake_colab: FakeColab, capsys: pytest.CaptureFixture[str]
) -> None:
    """My Drive present before setup() (e.g. after a kernel restart): no mount call at all."""
    from google.colab import drive

    drive.mount(str(fake_colab.mountpoint))
    fake_colab.project("p")
    colab_bootstrap.setup(
        "p", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    assert len(fake_colab.calls("mount")) == 1
    assert "Mounted at" in capsys.readouterr().out


def test_a_folder_that_only_looks_like_a_mount_is_not_drive(fake_colab: FakeColab) -> None:
    """'<mountpoint>/My Drive' that is not a mount (here a link to the files) is never used."""
    fake_colab.mountpoint.mkdir()
    (fake_colab.mountpoint / "My Drive").symlink_to(fake_colab.mydrive)
    fake_colab.project("p")
    with pytest.raises(DriveMountError, match=r"not a Google Drive mount.*\(My Drive\)"):
        colab_bootstrap.setup(
            "p", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
        )
    assert fake_colab.calls("mount") == []


@pytest.mark.parametrize(
    ("error", "original", "fix"),
    [
        ("timeout", "timeout during initial read of root folder", "cause is not known"),
        ("auth", "credential propagation was unsuccessful", "allow access"),
        ("not_colab", "unsupported in this environment", "drive_dir="),
        ("enterprise", "Colab Enterprise", "drive_dir="),
        ("domain", "domain policy has disabled Drive File Stream", "admin"),
        ("failed", "mount failed", "Re-run the cell"),
        # pexpect's text lists drive.mount's expect patterns, the domain policy one among them:
        # the fix must come from the type (a hang), not from words in that text.
        ("hang", "TIMEOUT: <pexpect.popen_spawn.PopenSpawn object at", "did not finish mounting"),
    ],
)
def test_each_mount_error_becomes_drive_mount_error_with_fix(
    error: str, original: str, fix: str, fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Colab's own text is kept, the fix is added, and nothing else is changed."""
    monkeypatch.setenv("FAKE_COLAB_MOUNT_ERROR", error)
    monkeypatch.setenv("FAKE_COLAB_EXPECT_SLACK_S", "-119")  # a hang gives up after 1 s, not 150
    before = list(sys.path)
    with pytest.raises(DriveMountError) as info:
        colab_bootstrap.setup(
            "p", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
        )
    assert original in str(info.value)
    assert fix in str(info.value)
    assert sys.path == before
    assert list(fake_colab.content.iterdir()) == []


def test_real_mountpoint_checks_surface_as_drive_mount_error(fake_colab: FakeColab) -> None:
    """A mountpoint holding files (Colab's ValueError) becomes a DriveMountError; files kept."""
    fake_colab.mountpoint.mkdir()
    keep = fake_colab.mountpoint / "notes.txt"
    keep.write_text("mine")
    with pytest.raises(DriveMountError, match=r"holds local files \(notes.txt\).*Move them"):
        colab_bootstrap.setup(
            "p", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
        )
    assert keep.read_text() == "mine"


def test_mountpoint_with_space_is_refused(fake_colab: FakeColab) -> None:
    """Colab refuses spaces in the mountpoint; the error says to drop them."""
    with pytest.raises(DriveMountError, match=r"must not contain a space.*without spaces"):
        colab_bootstrap.setup(
            "p",
            mountpoint=fake_colab.content / "my drive",
            content_dir=fake_colab.content,
            gpu="ignore",
        )


def test_a_runtime_without_colabs_credentials_service_says_what_to_do(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """drive.mount's KeyError for $TBE_EPHEM_CREDS_ADDR: Colab's text kept, the fix added."""
    monkeypatch.delenv("TBE_EPHEM_CREDS_ADDR")
    with pytest.raises(DriveMountError) as info:
        colab_bootstrap.setup(
            "p", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
        )
    text = str(info.value)
    assert f"Mounting Google Drive at {fake_colab.mountpoint} failed after " in text
    assert "(KeyError: 'TBE_EPHEM_CREDS_ADDR')" in text
    assert "lacks Colab's credentials service" in text
    assert isinstance(info.value.__cause__, KeyError)
    assert list(fake_colab.content.iterdir()) == []


def test_colab_without_google_colab_says_how_to_point_at_drive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Colab tag set but google.colab not importable: the error says to pass drive_dir."""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-elsewhere")
    monkeypatch.setitem(sys.modules, "google.colab", None)
    before = list(sys.path)
    with pytest.raises(DriveMountError) as info:
        colab_bootstrap.setup("p", mountpoint=tmp_path / "drive", gpu="ignore")
    text = str(info.value)
    assert (
        f"Cannot mount Google Drive at {tmp_path / 'drive'}: google.colab is not importable" in text
    )
    assert "pass drive_dir='/path/to/My Drive' or set COLAB_BOOTSTRAP_DRIVE" in text
    assert sys.path == before


def test_missing_project_suggests_close_names(mydrive: Path) -> None:
    """ProjectNotFoundError names the full path and case-insensitive / fuzzy neighbours."""
    (mydrive / "FastAI_Course2").mkdir()
    (mydrive / "fastai_course1").mkdir()
    (mydrive / "unrelated").mkdir()
    with pytest.raises(ProjectNotFoundError) as info:
        colab_bootstrap.setup("fastai_course2", gpu="ignore")
    text = str(info.value)
    assert str(mydrive / "fastai_course2") in text
    assert "'FastAI_Course2'" in text
    assert "'fastai_course1'" in text
    assert "unrelated" not in text
    assert "create=True" in text


def test_missing_nested_project_suggests_in_the_right_folder(mydrive: Path) -> None:
    """For 'courses/fastai2' the suggestion is made inside 'courses'."""
    (mydrive / "courses" / "fastai_2").mkdir(parents=True)
    with pytest.raises(ProjectNotFoundError, match="'courses/fastai_2'"):
        colab_bootstrap.setup("courses/fastai2", gpu="ignore")


def test_a_project_name_that_is_a_file_says_so(mydrive: Path) -> None:
    """A project path naming a file (not a folder) is refused, the file left alone."""
    (mydrive / "notes.txt").write_text("mine")
    with pytest.raises(ProjectNotFoundError, match=r"notes\.txt is a file, not a folder"):
        colab_bootstrap.setup("notes.txt", gpu="ignore")
    assert (mydrive / "notes.txt").read_text() == "mine"


def test_a_folder_that_cannot_be_listed_gives_no_suggestions(mydrive: Path) -> None:
    """A folder that can be entered but not listed: the error names the path, no guesses."""
    (mydrive / "course" / "lesson_1").mkdir(parents=True)
    with denied(mydrive / "course", 0o311), pytest.raises(ProjectNotFoundError) as info:
        colab_bootstrap.setup("course/lesson1", gpu="ignore")
    text = str(info.value)
    assert f"'lesson1' is not in {mydrive / 'course'}" in text
    assert "Did you mean" not in text


def test_create_makes_the_folder(mydrive: Path) -> None:
    """create=True creates a missing project folder (and its parents)."""
    project = colab_bootstrap.setup("new/proj", create=True, gpu="ignore")
    assert (mydrive / "new" / "proj").is_dir()
    assert project.path == mydrive / "new" / "proj"


def test_create_uses_a_folder_that_is_already_there(mydrive: Path) -> None:
    """create=True on an existing folder (a later session) uses it, its files untouched."""
    (mydrive / "proj").mkdir()
    (mydrive / "proj" / "train.py").write_text("mine")
    project = colab_bootstrap.setup("proj", create=True, gpu="ignore")
    assert project.path == mydrive / "proj"
    assert (mydrive / "proj" / "train.py").read_text() == "mine"


def test_a_temporary_link_left_by_an_interrupted_setup_is_replaced(
    mydrive: Path, tmp_path: Path
) -> None:
    """Re-pointing a dangling link succeeds even where an interrupted try left its temp link."""
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    links.mkdir()
    (links / "p").symlink_to(tmp_path / "vanished")
    leftover = links / f".p.colab_bootstrap-{os.getpid()}"
    leftover.symlink_to(tmp_path / "elsewhere")
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="now points to"):
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert os.readlink(links / "p") == str(mydrive / "p")
    assert sorted(os.listdir(links)) == ["p"]


def test_off_colab_no_link_unless_content_dir_given(mydrive: Path, tmp_path: Path) -> None:
    """Off Colab the folder itself goes on sys.path; an explicit content_dir gets the link."""
    (mydrive / "p").mkdir()
    project = colab_bootstrap.setup("p", gpu="ignore")
    assert project.link is None
    assert str(mydrive / "p") in sys.path
    links = tmp_path / "links"
    project = colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert project.link == links / "p"
    assert (links / "p").resolve() == (mydrive / "p").resolve()


def test_a_dangling_link_is_replaced_with_a_warning(mydrive: Path, tmp_path: Path) -> None:
    """A symlink to a folder that no longer exists is re-pointed; the warning names it."""
    (mydrive / "p").mkdir()
    old = tmp_path / "old"
    links = tmp_path / "links"
    links.mkdir()
    (links / "p").symlink_to(old)
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match=f"{old}, which no longer"):
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert os.readlink(links / "p") == str(mydrive / "p")


def test_a_users_live_link_is_never_re_pointed(mydrive: Path, tmp_path: Path) -> None:
    """A link the user made to a folder that exists stays; the error names link_name."""
    (mydrive / "p").mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    links = tmp_path / "links"
    links.mkdir()
    (links / "p").symlink_to(mine)
    before = list(sys.path)
    with pytest.raises(LinkConflictError, match="by you or another tool") as raised:
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert "link_name='p_2'" in str(raised.value)
    assert os.readlink(links / "p") == str(mine)
    assert sys.path == before


def test_two_projects_with_the_same_folder_name_need_two_link_names(
    mydrive: Path, tmp_path: Path
) -> None:
    """setup("a/proj") then setup("b/proj"): the second is refused, not re-pointing the first."""
    for parent in ("a", "b"):
        (mydrive / parent / "proj").mkdir(parents=True)
        (mydrive / parent / "proj" / f"same_{parent}.py").write_text(f"WHO = {parent!r}\n")
    links = tmp_path / "links"
    colab_bootstrap.setup("a/proj", content_dir=links, gpu="ignore")
    with pytest.raises(LinkConflictError) as raised:
        colab_bootstrap.setup("b/proj", content_dir=links, gpu="ignore")
    message = str(raised.value)
    assert "the project 'a/proj', set up earlier in this session" in message
    assert "link_name='b_proj'" in message
    assert os.readlink(links / "proj") == str(mydrive / "a" / "proj")

    project = colab_bootstrap.setup("b/proj", content_dir=links, gpu="ignore", link_name="b_proj")
    assert project.link == links / "b_proj"
    import same_a  # type: ignore[import-not-found]
    import same_b  # type: ignore[import-not-found]

    assert (same_a.WHO, same_b.WHO) == ("a", "b")
    check = colab_bootstrap.doctor("b/proj", network=False)["Project"]
    assert check.status == "ok", check
    assert f"link: {links / 'b_proj'} -> {mydrive / 'b' / 'proj'}" in check.details
    snippet = "".join(colab_bootstrap.snippets()["cells"][1]["source"])
    assert 'link_name="b_proj"' in snippet
    assert (
        colab_bootstrap.setup("b/proj", content_dir=links, gpu="ignore", link_name="b_proj")
        is project
    )


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "x\0", " x", "tab\t"])
def test_a_bad_link_name_is_refused_before_anything_changes(
    name: str, mydrive: Path, tmp_path: Path
) -> None:
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    with pytest.raises(ValueError, match="link_name must be one plain file name"):
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore", link_name=name)
    assert not links.exists()


def test_correct_link_is_kept_silently(mydrive: Path, tmp_path: Path) -> None:
    """An existing correct link produces no warning and is not recreated."""
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    inode = os.lstat(links / "p").st_ino
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert os.lstat(links / "p").st_ino == inode


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_real_file_or_folder_at_link_path_is_never_touched(
    kind: str, mydrive: Path, tmp_path: Path
) -> None:
    """LinkConflictError naming what is there; the user's folder or file is left as it was."""
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    links.mkdir()
    taken = links / "p"
    if kind == "dir":
        taken.mkdir()
        (taken / "work.py").write_text("precious = True\n")
    else:
        taken.write_text("precious\n")
    before = list(sys.path)
    with pytest.raises(LinkConflictError) as raised:
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    what = "folder" if kind == "dir" else "file"  # the user knows what to move
    assert str(raised.value).startswith(
        f"Cannot link {taken} to {mydrive / 'p'}: a real {what} is already there, and it is "
        "left untouched."
    )
    if kind == "dir":
        assert (taken / "work.py").read_text() == "precious = True\n"
    else:
        assert taken.read_text() == "precious\n"
    assert sys.path == before


def test_two_projects_both_importable(mydrive: Path) -> None:
    """Two projects set up in one process stay importable, each on sys.path once."""
    for name, module in (("a", "mod_a"), ("b", "mod_b")):
        (mydrive / name).mkdir()
        (mydrive / name / f"{module}.py").write_text(f"NAME = {name!r}\n")
    colab_bootstrap.setup("a", gpu="ignore")
    colab_bootstrap.setup("b", gpu="ignore")
    colab_bootstrap.setup("a", gpu="ignore")
    import mod_a  # type: ignore[import-not-found]
    import mod_b  # type: ignore[import-not-found]

    assert (mod_a.NAME, mod_b.NAME) == ("a", "b")
    assert sys.path.count(str(mydrive / "a")) == 1
    assert sys.path.count(str(mydrive / "b")) == 1


def test_bytecode_goes_to_a_local_folder(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Project byte-code is cached outside Drive, and sys.pycache_prefix stays unset."""
    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    (mydrive / "p").mkdir()
    (mydrive / "p" / "bytecode_mod.py").write_text("V = 1\n")
    project = colab_bootstrap.setup("p", gpu="ignore")
    import bytecode_mod  # type: ignore[import-not-found]

    assert bytecode_mod.V == 1
    assert sys.pycache_prefix is None
    assert not (mydrive / "p" / "__pycache__").exists()
    cache = tmp_path / "cache" / "colab_bootstrap" / "pycache"
    assert project.bytecode_cache == str(cache)
    assert "(none written to Drive)" in str(project)
    tag = sys.implementation.cache_tag
    pyc = cache / str(mydrive / "p").lstrip("/") / f"bytecode_mod.{tag}.pyc"
    assert pyc.is_file()


def test_bytecode_folder_without_xdg_cache_home(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without $XDG_CACHE_HOME the byte-code goes to ~/.cache/colab_bootstrap/pycache."""
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (mydrive / "p").mkdir()
    project = colab_bootstrap.setup("p", gpu="ignore")
    expected = tmp_path / "home" / ".cache" / "colab_bootstrap" / "pycache"
    assert project.bytecode_cache == str(expected)


def test_other_packages_keep_their_bytecode(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After setup(), an installed package runs from the .pyc pip compiled, not from source.

    The package's source is changed behind its .pyc (same size, same mtime), which Python
    only notices when it compiles the source: the old value shows the .pyc was used.
    """
    import py_compile

    monkeypatch.setattr(sys, "pycache_prefix", None)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    site = tmp_path / "site-packages"
    source = site / "installed_pkg" / "__init__.py"
    source.parent.mkdir(parents=True)
    source.write_text("ORIGIN = 'pyc'\n")
    before = source.stat()
    py_compile.compile(
        str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP
    )
    source.write_text("ORIGIN = 'src'\n")  # same size
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    pycache = source.parent / "__pycache__"
    listing = sorted(p.name for p in pycache.iterdir())

    (mydrive / "p").mkdir()
    colab_bootstrap.setup("p", gpu="ignore")
    monkeypatch.syspath_prepend(str(site))
    import installed_pkg  # type: ignore[import-not-found]

    assert installed_pkg.ORIGIN == "pyc"
    assert sys.pycache_prefix is None
    assert sorted(p.name for p in pycache.iterdir()) == listing
    assert not (tmp_path / "cache" / "colab_bootstrap" / "pycache" / str(site).lstrip("/")).exists()


def test_users_own_pycache_prefix_is_kept(mydrive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pycache prefix the user set is not overridden."""
    monkeypatch.setattr(sys, "pycache_prefix", "/somewhere/mine")
    (mydrive / "p").mkdir()
    colab_bootstrap.setup("p", gpu="ignore")
    assert sys.pycache_prefix == "/somewhere/mine"


def test_outside_ipython_autoreload_says_so(mydrive: Path) -> None:
    """Outside IPython nothing is loaded, and the Project says why."""
    (mydrive / "p").mkdir()
    assert colab_bootstrap.setup("p", gpu="ignore").autoreload == (
        "does not apply (not running in IPython)"
    )
    assert "off" in colab_bootstrap.setup("p", gpu="ignore", autoreload=False).autoreload


def test_bad_gpu_policy_is_a_value_error(mydrive: Path) -> None:
    """A typo in gpu= is caught before anything happens."""
    with pytest.raises(ValueError, match="'warn', 'require' or 'ignore'"):
        colab_bootstrap.setup("p", gpu="yes")  # type: ignore[arg-type]


def test_project_shows_as_text_and_html(mydrive: Path) -> None:
    """str() is a short human summary; _repr_html_ is a table with the same facts, escaped."""
    (mydrive / "a<b").mkdir()
    project = colab_bootstrap.setup("a<b", gpu="ignore")
    text = str(project)
    assert "project 'a<b' is ready" in text
    assert str(mydrive / "a<b") in text
    html = project._repr_html_()
    assert html.startswith("<table")
    assert "a&lt;b" in html
    assert "a<b" not in html


def test_library_prints_nothing(mydrive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """setup() off Colab writes nothing to stdout or stderr."""
    (mydrive / "p").mkdir()
    colab_bootstrap.setup("p", gpu="ignore")
    assert capsys.readouterr() == ("", "")


def test_rerun_repairs_what_changed_since(fake_colab: FakeColab) -> None:
    """A re-run notices a removed link, a dropped sys.path entry and an unmounted Drive."""
    fake_colab.project("p")
    kwargs = {
        "mountpoint": fake_colab.mountpoint,
        "content_dir": fake_colab.content,
        "gpu": "ignore",
    }
    project = colab_bootstrap.setup("p", **kwargs)  # type: ignore[arg-type]
    assert project.link is not None
    project.link.unlink()
    sys.path.remove(project.sys_path_entry)
    colab_bootstrap.setup("p", **kwargs)  # type: ignore[arg-type]
    assert project.link.is_symlink()
    assert sys.path.count(project.sys_path_entry) == 1
    from google.colab import drive

    drive.flush_and_unmount()
    assert not (fake_colab.mountpoint / "MyDrive").exists()
    colab_bootstrap.setup("p", **kwargs)  # type: ignore[arg-type]
    assert (fake_colab.mountpoint / "MyDrive").is_dir()
    assert len(fake_colab.calls("mount")) == 2


def test_rerun_warns_again_without_gpu(mydrive: Path) -> None:
    """The cached GPU result still warns on every run with gpu='warn' (and raises on require)."""
    (mydrive / "p").mkdir()
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="No GPU"):
        colab_bootstrap.setup("p")
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="No GPU"):
        colab_bootstrap.setup("p")
    with pytest.raises(colab_bootstrap.GpuNotAvailableError, match="Change runtime type"):
        colab_bootstrap.setup("p", gpu="require")


def test_probes_started_by_a_failed_setup_are_collected_later(
    mydrive: Path, fake_nvidia_smi: object
) -> None:
    """setup() starts nvidia-smi first; if it then fails, the next GPU check uses that run."""
    fake = fake_nvidia_smi(listing="GPU 0: Tesla T4 (UUID: GPU-1)\n")  # type: ignore[operator]
    with pytest.raises(ProjectNotFoundError):
        colab_bootstrap.setup("missing")
    assert [g.name for g in colab_bootstrap.gpus(refresh=True)] == ["Tesla T4"]
    assert len([c for c in fake.calls() if "-L" in c]) == 1
