"""Issue 17 (mutation testing): what setup() does that users notice, pinned on real files.

Creating the project folder (what is logged, what a refusal says) and the rule that only a
link to a vanished folder is re-pointed. The mutants each test kills are listed in
docs/testing.md.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import DriveConnectionLostError, LinkConflictError, ProjectNotFoundError
from colab_bootstrap._session import SESSION
from conftest import IPYTHON_PRELUDE, FakeColab, denied, fresh_session
from test_pinned import notebook_run


def test_create_logs_the_folder_it_made(mydrive: Path, caplog: pytest.LogCaptureFixture) -> None:
    """create=True logs 'created project folder <path>' on the module's logger, once."""
    caplog.set_level(logging.INFO, logger="colab_bootstrap")
    colab_bootstrap.setup("new/proj", create=True, gpu="ignore")
    made = [r for r in caplog.records if "created project folder" in r.getMessage()]
    assert [(r.name, r.levelno, r.getMessage()) for r in made] == [
        ("colab_bootstrap._setup", logging.INFO, f"created project folder {mydrive / 'new/proj'}")
    ]
    caplog.clear()
    colab_bootstrap.setup("new/proj", create=True, gpu="ignore", autoreload=False)
    assert not [r for r in caplog.records if "created project folder" in r.getMessage()]


def test_create_in_a_folder_that_cannot_be_written_names_the_folder_and_the_fix(
    mydrive: Path,
) -> None:
    """A refused mkdir: ProjectNotFoundError naming the folder, the system's reason and the fix."""
    (mydrive / "shared").mkdir()
    before = list(sys.path)
    with denied(mydrive / "shared", 0o555), pytest.raises(ProjectNotFoundError) as raised:
        colab_bootstrap.setup("shared/proj", create=True, gpu="ignore")
    text = str(raised.value)
    assert f"Could not create the project folder {mydrive / 'shared' / 'proj'}" in text
    assert os.strerror(13) in text  # EACCES: "Permission denied"
    assert "a folder this account can write to" in text
    assert not (mydrive / "shared" / "proj").exists()
    assert sys.path == before


def _locked_target(tmp_path: Path) -> Path:
    """A folder that exists, inside a folder this account cannot enter (mode 0 meanwhile)."""
    target = tmp_path / "locked" / "mine"
    target.mkdir(parents=True)
    return target


def _looping_target(tmp_path: Path) -> Path:
    """A path that is a loop of two symlinks: stat gives ELOOP, not 'no such file'."""
    (tmp_path / "loop_a").symlink_to(tmp_path / "loop_b")
    (tmp_path / "loop_b").symlink_to(tmp_path / "loop_a")
    return tmp_path / "loop_a"


@pytest.mark.parametrize("kind", ["denied", "loop"])
def test_a_link_whose_target_cannot_be_read_is_never_re_pointed(
    mydrive: Path, tmp_path: Path, kind: str
) -> None:
    """Only a link to a folder that is gone is re-pointed; one that cannot be read may be back.

    A Drive folder behind a dead mount, or one this account cannot enter, is not known to be
    gone: the user's link stays, and setup() says how to link elsewhere.
    """
    (mydrive / "p").mkdir()
    target = _locked_target(tmp_path) if kind == "denied" else _looping_target(tmp_path)
    links = tmp_path / "links"
    links.mkdir()
    (links / "p").symlink_to(target)
    before = list(sys.path)
    if kind == "denied":
        with denied(tmp_path / "locked"), pytest.raises(LinkConflictError) as raised:
            colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    else:
        with pytest.raises(LinkConflictError) as raised:
            colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert "link_name='p_2'" in str(raised.value)
    assert os.readlink(links / "p") == str(target)
    assert sorted(os.listdir(links)) == ["p"]
    assert sys.path == before


# --- options that reach Colab's mount and the byte-code folder ---------------------------------


@pytest.mark.parametrize(("given", "timeout_ms"), [(None, 120000), (45, 45000), (2.5, 2500)])
def test_mount_timeout_is_the_wait_given_to_drive_mount(
    fake_colab: FakeColab, given: float | None, timeout_ms: int
) -> None:
    """mount_timeout= seconds reach drive.mount as timeout_ms; None is Colab's own 120 s."""
    fake_colab.project("p")
    colab_bootstrap.setup(
        "p",
        mountpoint=fake_colab.mountpoint,
        content_dir=fake_colab.content,
        gpu="ignore",
        mount_timeout=given,
    )
    assert [c["timeout_ms"] for c in fake_colab.calls("mount")] == [timeout_ms]


@pytest.mark.parametrize("xdg", ["", "relative/cache"])
def test_bytecode_folder_is_xdg_cache_home_made_absolute_or_the_home_cache(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: str
) -> None:
    """$XDG_CACHE_HOME relative to the working folder when set, ~/.cache when empty."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    monkeypatch.chdir(tmp_path)
    (mydrive / "p").mkdir()
    project = colab_bootstrap.setup("p", gpu="ignore")
    cache = tmp_path / xdg if xdg else tmp_path / "home" / ".cache"
    assert project.bytecode_cache == str(cache / "colab_bootstrap" / "pycache")


def test_a_content_dir_on_a_dead_drive_mount_is_a_lost_connection(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """content_dir inside a Drive whose connection is lost: DriveConnectionLostError.

    Not a link conflict: the fix is a remount, not another content_dir. Nothing is made.
    """
    drive = tmp_path / "drive"
    (drive / "proj").mkdir(parents=True)
    fake_colab.mount_at(tmp_path / "dead")
    fake_colab.kill_drivefs()
    before = list(sys.path)
    for create in (False, True):
        with pytest.raises(DriveConnectionLostError, match=r"Cannot read .*dead"):
            colab_bootstrap.setup(
                "proj" if not create else "new",
                drive_dir=drive,
                content_dir=tmp_path / "dead" / "MyDrive" / "links",
                gpu="ignore",
                create=create,
            )
    assert sorted(os.listdir(drive)) == ["proj"]
    assert sys.path == before


@pytest.mark.parametrize("value", [-1, 0, "60", True, float("nan"), 86400])
def test_a_bad_mount_timeout_names_the_option_and_a_value_to_pass(
    mydrive: Path, value: object
) -> None:
    """The ValueError starts with the option's name and ends with one that works."""
    with pytest.raises(ValueError, match=r"^mount_timeout must be .*; e\.g\. mount_timeout=300\.$"):
        colab_bootstrap.setup("p", gpu="ignore", mount_timeout=value)  # type: ignore[arg-type]


# --- warnings point at the notebook's line ---------------------------------------------------


@pytest.mark.skipif(
    "MUTANT_UNDER_TEST" in os.environ,
    reason="mutmut's trampolines add a frame to every call of a mutated function",
)
def test_setups_warnings_point_at_the_callers_line(mydrive: Path, tmp_path: Path) -> None:
    """No GPU (first run and the fast re-run) and a re-pointed link: the caller's file."""
    (mydrive / "p").mkdir()
    for _ in range(2):  # the full path, then the re-run's kept result
        with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="No GPU") as caught:
            colab_bootstrap.setup("p", autoreload=False)
        assert [w.filename for w in caught] == [__file__]
    links = tmp_path / "links"
    links.mkdir()
    (links / "p").symlink_to(tmp_path / "vanished")
    with pytest.warns(colab_bootstrap.ColabBootstrapWarning, match="now points to") as caught:
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert [w.filename for w in caught] == [__file__]


# --- the fast re-run: only the very same call, only while its result holds -------------------


def test_a_re_run_with_any_option_changed_is_set_up_anew(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each option (and $COLAB_BOOTSTRAP_DRIVE) is part of what makes a call 'the same'."""
    (mydrive / "p").mkdir()
    other = tmp_path / "other"
    (other / "p").mkdir(parents=True)
    base: dict[str, object] = {"gpu": "ignore", "autoreload": False}
    first = colab_bootstrap.setup("p", **base)  # type: ignore[arg-type]
    assert colab_bootstrap.setup("p", **base) is first  # type: ignore[arg-type]
    changes: list[dict[str, object]] = [
        {"drive_dir": other},
        {"content_dir": tmp_path / "links"},
        {"content_dir": tmp_path / "links", "link_name": "p_b"},
        {"create": True},
        {"autoreload": True},
        {"gpu": "warn"},
    ]
    seen = [first]
    for change in changes:  # each differs from one before it in that option only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", colab_bootstrap.ColabBootstrapWarning)
            again = colab_bootstrap.setup("p", **{**base, **change})  # type: ignore[arg-type]
        assert all(again is not earlier for earlier in seen), change
        seen.append(again)
    monkeypatch.setenv("COLAB_BOOTSTRAP_DRIVE", str(other))
    assert colab_bootstrap.setup("p", **base).path == other / "p"  # type: ignore[arg-type]


def test_a_re_run_after_the_user_re_pointed_the_link_is_refused(
    mydrive: Path, tmp_path: Path
) -> None:
    """The link now leads to the user's own folder: the re-run notices, and leaves it."""
    (mydrive / "p").mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    links = tmp_path / "links"
    colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    (links / "p").unlink()
    (links / "p").symlink_to(mine)
    with pytest.raises(LinkConflictError, match="by you or another tool"):
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert os.readlink(links / "p") == str(mine)


def test_a_re_run_after_the_folder_became_a_file_is_refused(mydrive: Path) -> None:
    """The project folder replaced by a file of the same name: the re-run says so."""
    (mydrive / "p").mkdir()
    colab_bootstrap.setup("p", gpu="ignore")
    (mydrive / "p").rmdir()
    (mydrive / "p").write_text("mine\n")
    with pytest.raises(ProjectNotFoundError, match="is a file, not a folder"):
        colab_bootstrap.setup("p", gpu="ignore")
    assert (mydrive / "p").read_text() == "mine\n"


def test_a_re_run_makes_its_project_the_latest_again(mydrive: Path, tmp_path: Path) -> None:
    """setup(a), setup(b), setup(a): the fast re-run, and later calls look where a looked."""
    for name in ("a", "b"):
        (mydrive / name).mkdir()
    links = tmp_path / "links"
    first = colab_bootstrap.setup("a", content_dir=links, gpu="ignore")
    colab_bootstrap.setup("b", gpu="ignore")
    assert colab_bootstrap.setup("a", content_dir=links, gpu="ignore") is first
    current = SESSION.current()
    assert current is not None
    assert current.project is first
    assert current.location.content_dir == str(links)


#: A notebook in a fresh interpreter: setup() turns autoreload on, the user turns it off, the
#: fast re-run turns it on again; a third run finds it on. Prints what each run returned.
REPEAT_AUTORELOAD = (
    IPYTHON_PRELUDE
    + """
drive = sys.argv[1]
call = f"colab_bootstrap.setup('proj', drive_dir={drive!r}, gpu='ignore')"
cell("import colab_bootstrap")
first = cell(call)
cell("%autoreload 0")
second = cell(call)
mode = cell("colab_bootstrap.doctor(network=False)['Autoreload'].summary")
third = cell(call)
print(json.dumps([first.autoreload, second.autoreload, mode, third.autoreload]))
"""
)


def test_the_fast_re_run_turns_autoreload_on_again_and_says_so(tmp_path: Path) -> None:
    """In IPython, a re-run after '%autoreload 0' sets mode 2 again; its Project tells."""
    first, second, mode, third = notebook_run(tmp_path, REPEAT_AUTORELOAD)
    assert first.startswith("enabled")
    assert second.startswith("enabled")
    assert mode == "loaded, mode 2 (all modules)"
    assert third == "already on"


# --- the link: too long, refused by the file system, its folders, what is in its place ---------


@pytest.mark.parametrize("create", [False, True])
def test_a_link_path_too_long_is_a_value_error_naming_both_fixes(
    mydrive: Path, tmp_path: Path, create: bool
) -> None:
    """content_dir fits a path, content_dir/name does not: a ValueError, nothing made.

    Not the file system's ENAMETOOLONG as a link conflict: the message names the link's
    length and the two options that shorten it.
    """
    (mydrive / "proj").mkdir()
    content = tmp_path / "c"
    while len(os.fsencode(content)) < 4093 - 200:
        content /= "d" * 200
    content /= "e" * (4093 - len(os.fsencode(content)) - 1)
    assert len(os.fsencode(content)) == 4093
    link = content / "proj"
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ValueError, match="would be too long") as raised:
        colab_bootstrap.setup("proj", content_dir=content, gpu="ignore", create=create)
    assert re.fullmatch(
        r"The link '/.*\.\.\.' would be too long: it has 4098 bytes, over the 4095 bytes a "
        r"path may have\. Pass a shorter content_dir= or link_name=\.",
        str(raised.value),
    )
    assert not os.path.lexists(link)
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("mode", [0o000, 0o555], ids=["unreadable", "read-only"])
def test_a_link_the_file_system_refuses_names_the_link_the_folder_and_the_fix(
    mydrive: Path, tmp_path: Path, mode: int
) -> None:
    """A folder for links that cannot be read (mode 0) or written (0o555): LinkConflictError.

    The message says which link to which folder, the system's reason, and the option to pass;
    sys.path is left as it was.
    """
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    links.mkdir()
    before = list(sys.path)
    with denied(links, mode), pytest.raises(LinkConflictError) as raised:
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert str(raised.value).startswith(
        f"Cannot make the link {links / 'p'} to {mydrive / 'p'}: {os.strerror(13)}. Pass "
        "content_dir= a folder this account can write to, then "
    )
    assert os.listdir(links) == []
    assert sys.path == before


def test_the_folders_for_the_link_are_made_as_needed(mydrive: Path, tmp_path: Path) -> None:
    """content_dir and its missing parents are made: the link lands where it was asked."""
    (mydrive / "p").mkdir()
    links = tmp_path / "a" / "b" / "links"
    project = colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert project.link == links / "p"
    assert os.readlink(links / "p") == str(mydrive / "p")


def test_a_live_link_in_the_way_is_named_with_where_it_points(
    mydrive: Path, tmp_path: Path
) -> None:
    """The refusal says which folder the user's link leads to, as the link spells it."""
    (mydrive / "p").mkdir()
    mine = tmp_path / "mine"
    mine.mkdir()
    links = tmp_path / "links"
    links.mkdir()
    (links / "p").symlink_to(mine)
    with pytest.raises(LinkConflictError) as raised:
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert str(raised.value).startswith(
        f"Cannot link {links / 'p'} to {mydrive / 'p'}: it already links to {mine} (a folder "
        "linked by you or another tool), "
    )


@pytest.mark.parametrize("text", ["None", "mine"])
def test_a_relative_link_in_the_way_is_judged_by_where_it_leads(
    mydrive: Path, tmp_path: Path, text: str
) -> None:
    """A relative link to a sibling folder that exists (whatever its text) is another's link."""
    (mydrive / "p").mkdir()
    links = tmp_path / "links"
    (links / text).mkdir(parents=True)
    (links / "p").symlink_to(text)
    with pytest.raises(LinkConflictError, match=f"it already links to {text} "):
        colab_bootstrap.setup("p", content_dir=links, gpu="ignore")
    assert os.readlink(links / "p") == text


# --- options: flags, the runtime, create's early link check, what Project says -----------------


@pytest.mark.parametrize("name", ["force_remount", "create", "autoreload", "install"])
def test_a_flag_that_is_not_a_bool_is_named_in_the_error(mydrive: Path, name: str) -> None:
    """setup(flag='yes'): the ValueError starts with that flag's own name; nothing happens."""
    (mydrive / "p").mkdir()
    before = list(sys.path)
    with pytest.raises(ValueError, match=rf"^{name} must be True or False"):
        colab_bootstrap.setup("p", gpu="ignore", **{name: "yes"})  # type: ignore[arg-type]
    assert sys.path == before


def test_the_same_call_in_a_colab_runtime_is_set_up_anew(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$COLAB_RELEASE_TAG appearing (another runtime) is no re-run: Project.on_colab follows."""
    (mydrive / "p").mkdir()
    call: dict[str, object] = {"content_dir": tmp_path / "links", "gpu": "ignore"}
    first = colab_bootstrap.setup("p", **call)  # type: ignore[arg-type]
    assert first.on_colab is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    second = colab_bootstrap.setup("p", **call)  # type: ignore[arg-type]
    assert second is not first
    assert second.on_colab is True


def test_project_drive_dir_is_the_my_drive_folder_used(mydrive: Path) -> None:
    """Project.drive_dir: the My Drive folder the project was found in."""
    (mydrive / "p").mkdir()
    assert colab_bootstrap.setup("p", gpu="ignore").drive_dir == mydrive


@pytest.mark.parametrize(
    ("project", "link_name", "blocker"),
    [("new", None, "live link"), ("a/new", None, "live link"), ("new", "other", "file")],
)
def test_create_checks_the_link_before_making_the_folder(
    mydrive: Path, tmp_path: Path, project: str, link_name: str | None, blocker: str
) -> None:
    """create=True with the link's place taken: refused, and no project folder is left behind.

    The link checked is the one setup() would make (link_name= counts), and the message
    proposes a link name built from the project's path.
    """
    links = tmp_path / "links"
    links.mkdir()
    taken = links / (link_name or "new")
    if blocker == "file":
        taken.write_text("mine\n")
    else:
        (tmp_path / "mine").mkdir()
        taken.symlink_to(tmp_path / "mine")
    with pytest.raises(LinkConflictError) as raised:
        colab_bootstrap.setup(
            project, content_dir=links, gpu="ignore", create=True, link_name=link_name
        )
    if blocker == "live link":
        other = project.replace("/", "_") if "/" in project else f"{project}_2"
        assert f"link_name={other!r}" in str(raised.value)
    assert os.listdir(mydrive) == []


def test_on_colab_the_link_is_made_in_the_default_content_folder(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """On Colab with no content_dir: the link goes in the default folder (/content on Colab)."""
    fresh_session(
        tmp_path, content_dir=str(fake_colab.content), mountpoint=str(fake_colab.mountpoint)
    )
    fake_colab.project("p")
    project = colab_bootstrap.setup("p", gpu="ignore")
    assert project.link == fake_colab.content / "p"
    assert project.sys_path_entry == str(fake_colab.content / "p")


def test_on_colab_create_checks_the_default_link_before_making_the_folder(
    fake_colab: FakeColab, tmp_path: Path
) -> None:
    """On Colab, create=True with a file where the default link goes: no folder is made."""
    fresh_session(
        tmp_path, content_dir=str(fake_colab.content), mountpoint=str(fake_colab.mountpoint)
    )
    (fake_colab.content / "new").write_text("mine\n")
    with pytest.raises(LinkConflictError, match="a real file is already there"):
        colab_bootstrap.setup("new", gpu="ignore", create=True)
    assert not (fake_colab.mydrive / "new").exists()
