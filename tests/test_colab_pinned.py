"""Issue 17 (mutation testing): the Colab seam's decisions a user would notice, pinned.

Which error class ``register_snippets`` raises (a refusing browser vs. no notebook kernel),
``kill_kernel`` killing its own process on Colab and nothing elsewhere, how many local names the
"not a Google Drive mount" message shows, and the option each ``drive.mount`` ValueError's fix
names. Everything runs on the fake Colab (real FUSE mounts, a real pexpect'd bash) or in a real
subprocess; the mutants each test kills are listed in docs/testing.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import colab_bootstrap
from colab_bootstrap import (
    ColabBootstrapError,
    DriveMountError,
    NotInNotebookError,
    NotOnColabError,
)
from colab_bootstrap._colab import (
    DriveMount,
    drive_mountpoints,
    find_mount,
    local_entries,
    mydrive_in,
    on_colab,
)
from colab_bootstrap._session import SESSION
from conftest import FakeColab, bounded, tree_digest

URL = "https://colab.research.google.com/drive/abc"
#: Where to paste the URL by hand: the fix both register_snippets errors name.
PASTE = "Tools > Settings > Site > Custom snippet notebook URL"

# ---------------------------------------------------------------------------------------------
# register_snippets: a refusing browser is not "no notebook"
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "refusal",
    [
        "Error: the request was refused",
        # The browser's text may well hold the word "kernel": still not "no notebook kernel".
        "Error: kernel is busy, request dropped",
    ],
)
def test_a_browser_refusing_snippets_is_a_plain_colab_bootstrap_error(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    """A MessageError from the browser: ColabBootstrapError itself, never NotInNotebookError."""
    monkeypatch.setenv("FAKE_COLAB_BROWSER_ERROR", refusal)
    with pytest.raises(ColabBootstrapError) as caught:
        colab_bootstrap.register_snippets(URL)
    assert type(caught.value) is ColabBootstrapError, repr(caught.value)
    assert type(caught.value.__cause__).__name__ == "MessageError"
    text = str(caught.value)
    assert f"(MessageError: {refusal})" in text
    assert PASTE in text
    assert [call["url"] for call in fake_colab.calls("snippets.register")] == [URL]


def test_registering_snippets_outside_a_notebook_kernel_is_not_in_notebook_error(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No kernel (a ``!python`` script): NotInNotebookError naming the cell to run instead."""
    monkeypatch.delenv("FAKE_COLAB_KERNEL_PID")  # this process is no notebook kernel any more
    with pytest.raises(NotInNotebookError) as caught:
        colab_bootstrap.register_snippets(URL)
    assert isinstance(caught.value.__cause__, AttributeError)
    assert "'kernel'" in str(caught.value.__cause__)
    text = str(caught.value)
    assert f"Run colab_bootstrap.register_snippets({URL!r}) in a cell" in text
    assert PASTE in text


# ---------------------------------------------------------------------------------------------
# kill_kernel: SIGKILL of its own process on Colab, a refusal (and nothing killed) elsewhere
# ---------------------------------------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import colab_bootstrap
    from colab_bootstrap._colab import kill_kernel
    try:
        kill_kernel()
    except colab_bootstrap.ColabBootstrapError as exc:
        print(type(exc).__name__, exc, sep="\\n")
    else:
        print("returned")
    """
)


def _kill_kernel_in_child(tmp_path: Path, *, colab: bool) -> subprocess.CompletedProcess[str]:
    """Run kill_kernel() in a fresh interpreter, on Colab (release tag set) or not."""
    env = dict(os.environ)
    env.pop("COLAB_RELEASE_TAG", None)
    if colab:
        env["COLAB_RELEASE_TAG"] = "release-colab-fake"
    return subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def off_colab() -> None:
    """The machine running the tests is no Colab runtime (else "off Colab" cannot be tested)."""
    if on_colab():
        pytest.skip("these tests run on a Colab runtime: off-Colab behaviour cannot be seen")


@pytest.mark.usefixtures("off_colab")
def test_kill_kernel_on_colab_dies_by_sigkill(tmp_path: Path) -> None:
    """On Colab the kernel process ends by SIGKILL (Colab then starts a fresh one)."""
    done = _kill_kernel_in_child(tmp_path, colab=True)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""


@pytest.mark.usefixtures("off_colab")
def test_kill_kernel_off_colab_refuses_and_kills_nothing(tmp_path: Path) -> None:
    """Off Colab nothing would restart the kernel: NotOnColabError, and the process lives on."""
    done = _kill_kernel_in_child(tmp_path, colab=False)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    kind, message = done.stdout.split("\n", 1)
    assert kind == NotOnColabError.__name__
    assert "Restart the kernel from your notebook's menu instead." in message


def _setup_error(fake: FakeColab, point: Path) -> str:
    """The text of the DriveMountError that setup('proj', mountpoint=point) raises."""
    with pytest.raises(DriveMountError) as caught:
        colab_bootstrap.setup("proj", mountpoint=point, content_dir=fake.content, gpu="ignore")
    return str(caught.value)


# ---------------------------------------------------------------------------------------------
# Local files at the mountpoint: a few names shown, "..." only when there are more
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "more"), [(1, False), (3, False), (4, True), (6, True)])
def test_local_files_at_the_mountpoint_show_three_names_and_dots_only_beyond(
    fake_colab: FakeColab, count: int, more: bool
) -> None:
    """At most 3 names; ", ..." exactly when the mountpoint holds more than 3 entries."""
    fake_colab.project("proj")
    point = fake_colab.mountpoint
    point.mkdir()
    names = [f"{letter}.txt" for letter in "abcdef"[:count]]
    for name in names:
        (point / name).write_text("made before Drive was mounted\n")
    before = tree_digest(point)
    text = _setup_error(fake_colab, point)
    shown = text.split("holds local files (", 1)[1].split("): ", 1)[0].split(", ")
    assert (shown[-1] == "...") is more, text
    listed = shown[:-1] if more else shown
    assert len(listed) == min(count, 3)
    assert set(listed) <= set(names)
    assert f"!mv {point} {point}_local" in text
    assert fake_colab.calls("mount") == []  # Colab would refuse: never asked
    assert tree_digest(point) == before  # the user's files are left as they were


# ---------------------------------------------------------------------------------------------
# drive.mount's ValueErrors about the mountpoint: the fix names the option to pass instead
# ---------------------------------------------------------------------------------------------


def test_a_mountpoint_with_a_space_gets_the_default_mountpoint_as_the_example(
    fake_colab: FakeColab,
) -> None:
    """ValueError "Mountpoint must not contain a space": the fix shows the default mountpoint."""
    fake_colab.project("proj")
    point = fake_colab.content / "my drive"
    text = _setup_error(fake_colab, point)
    assert "(ValueError: Mountpoint must not contain a space.)" in text
    assert text.endswith(
        f"Pass a mountpoint without spaces, e.g. mountpoint={SESSION.defaults.mountpoint!r}."
    )


def _symlink(point: Path) -> None:
    (point.parent / "elsewhere").mkdir()
    point.symlink_to(point.parent / "elsewhere")


def _file(point: Path) -> None:
    point.write_text("not a folder\n")


@pytest.mark.parametrize(
    ("make", "below", "colab_says", "fix"),
    [
        (_symlink, "", "Mountpoint must not be a symlink", "{point} is a symlink. Remove it"),
        (
            _file,
            "",
            "Mountpoint must either be a directory or not exist",
            "{point} is a file. Move it away",
        ),
        (
            None,
            "missing/drive",
            "Mountpoint must be in a directory that exists",
            "The folder that should hold {point} does not exist. Create it",
        ),
    ],
)
def test_a_refused_mountpoint_names_another_mountpoint_as_the_way_out(
    fake_colab: FakeColab,
    make: Callable[[Path], None] | None,
    below: str,
    colab_says: str,
    fix: str,
) -> None:
    """Symlink, file, missing parent: the fix says what to do with it, or mountpoint= another."""
    fake_colab.project("proj")
    point = fake_colab.content / below if below else fake_colab.mountpoint
    if make is not None:
        make(point)
    text = _setup_error(fake_colab, point)
    assert f"(ValueError: {colab_says})" in text
    assert fix.format(point=point) in text
    assert text.endswith("(or pass another mountpoint=), then re-run the cell.")


# ---------------------------------------------------------------------------------------------
# More of drive.mount's failures: each its own fix; an unknown one only the fallback
# ---------------------------------------------------------------------------------------------

#: The fix of a failure Colab's texts do not explain.
FALLBACK = "if it keeps failing, Runtime > Disconnect and delete runtime, then run the notebook"


def _seconds(text: str, before: str) -> float:
    """The number of seconds written just after ``before`` in ``text``."""
    return float(text.split(before, 1)[1].split(" s", 1)[0])


@pytest.mark.parametrize(
    ("env", "fix"),
    [
        (
            {"FAKE_COLAB_MOUNT_ERROR": "not_colab"},
            "This is not a Colab VM, so Drive cannot be mounted from code. Pass drive_dir=",
        ),
        (
            {"FAKE_COLAB_MOUNT_ERROR": "enterprise"},
            "Colab Enterprise cannot mount Drive. Copy the project to the runtime",
        ),
        (
            {"TBE_EPHEM_CREDS_ADDR": None},
            "lacks Colab's credentials service (TBE_EPHEM_CREDS_ADDR is not set)",
        ),
        ({"FAKE_COLAB_KERNEL_PID": None}, "Mounting Drive needs a notebook cell"),
    ],
)
def test_each_kind_of_mount_failure_gets_its_own_fix(
    fake_colab: FakeColab,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str | None],
    fix: str,
) -> None:
    """Not a Colab VM, Colab Enterprise, no credentials service, no kernel: four fixes."""
    fake_colab.project("proj")
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    text = _setup_error(fake_colab, fake_colab.mountpoint)
    assert fix in text
    assert FALLBACK not in text
    assert 0 <= _seconds(text, "failed after ") < 30, text


@pytest.mark.parametrize(
    "failure",
    [
        "eof",  # pexpect's, whose buffer happens to mention the kernel
        KeyError("HOME"),  # a KeyError, not the credentials service's
        RuntimeError("TBE_EPHEM_CREDS_ADDR and Colab Enterprise, in passing"),
    ],
)
def test_an_unknown_mount_failure_is_not_mistaken_for_a_known_one(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch, failure: object
) -> None:
    """Only the type and Colab's own text decide: otherwise the fallback fix, alone."""
    import pexpect  # the real pexpect, as drive.mount uses it

    fake_colab.project("proj")
    from google.colab import drive  # the fake: its mount fails as told

    error = (
        pexpect.exceptions.EOF("End Of File (EOF). the kernel closed the pty")
        if failure == "eof"
        else failure
    )

    def failing(*args: object, **kwargs: object) -> None:
        raise error  # type: ignore[misc]

    monkeypatch.setattr(drive, "mount", failing)
    text = _setup_error(fake_colab, fake_colab.mountpoint)
    assert text.endswith(f"Re-run the cell; {FALLBACK} again.")
    known = ("needs a notebook cell", "credentials service", "Enterprise cannot", "not a Colab VM")
    assert [fix for fix in known if fix in text] == []


def test_force_remount_and_mount_timeout_reach_drive_mount(fake_colab: FakeColab) -> None:
    """A live Drive, force_remount=True, mount_timeout=7.5: drive.mount(point, True, 7500 ms)."""
    fake_colab.project("proj")
    fake_colab.mount_at(fake_colab.mountpoint)
    before = fake_colab.daemons()
    project = colab_bootstrap.setup(
        "proj",
        mountpoint=fake_colab.mountpoint,
        content_dir=fake_colab.content,
        gpu="ignore",
        force_remount=True,
        mount_timeout=7.5,
    )
    calls = [
        {key: call[key] for key in ("mountpoint", "force_remount", "timeout_ms")}
        for call in fake_colab.calls("mount")
    ]
    assert calls == [
        {"mountpoint": str(fake_colab.mountpoint), "force_remount": True, "timeout_ms": 7500}
    ]
    assert fake_colab.calls("mounted")  # Colab really mounted anew ...
    assert set(fake_colab.daemons()).isdisjoint(before)  # ... with a new DriveFS daemon
    assert project.drive is not None
    assert project.drive.startswith(f"remounted at {fake_colab.mountpoint} in ")
    assert project.drive.endswith(" s (force_remount=True)")
    assert 0 <= _seconds(project.drive, " in ") < 30


def test_a_first_mount_and_a_dead_mount_get_the_mount_timeout_and_say_what_was_done(
    fake_colab: FakeColab,
) -> None:
    """Nothing mounted: mounted with mount_timeout; the daemon dies: remounted in place."""
    fake_colab.project("proj")
    point = fake_colab.mountpoint

    def setup() -> str:
        project = colab_bootstrap.setup(
            "proj",
            mountpoint=point,
            content_dir=fake_colab.content,
            gpu="ignore",
            mount_timeout=7.5,
        )
        assert project.drive is not None
        return project.drive

    first = setup()
    assert first.startswith(f"mounted at {point} in ")
    assert 0 <= _seconds(first, " in ") < 30
    fake_colab.kill_drivefs()
    assert fake_colab.is_dead(point)
    again = setup()
    assert again.startswith(f"remounted at {point} in ")
    assert "s (the connection was lost: OSError: [Errno 107]" in again
    calls = [(call["force_remount"], call["timeout_ms"]) for call in fake_colab.calls("mount")]
    assert calls == [(False, 7500), (True, 7500)]


@pytest.mark.parametrize(
    ("case", "what"),
    [
        ("nothing", "no Drive mount is there"),
        ("dies", "it does not answer (OSError: [Errno 107]"),
    ],
)
def test_a_mount_that_returns_without_a_working_drive_is_an_error_saying_so(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch, case: str, what: str
) -> None:
    """drive.mount returned, but no Drive is mounted there, or a dead one: an error."""
    fake_colab.project("proj")
    from google.colab import drive  # the fake

    real = drive.mount

    def mount(*args: object, **kwargs: object) -> None:
        if case == "nothing":
            return  # returns as when done, having mounted nothing
        real(*args, **kwargs)
        if case == "dies":
            fake_colab.kill_drivefs()

    monkeypatch.setattr(drive, "mount", mount)
    text = _setup_error(fake_colab, fake_colab.mountpoint)
    assert text.startswith(
        f"Colab reported Google Drive mounted at {fake_colab.mountpoint}, but {what}"
    )
    assert "drive.flush_and_unmount(), then re-run the cell with force_remount=True." in text


def test_reset_remount_remounts_with_the_default_mount_timeout(fake_colab: FakeColab) -> None:
    """reset(remount=True) passes no timeout: drive.mount gets the default, in milliseconds."""
    fake_colab.project("proj")
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    colab_bootstrap.reset(remount=True)
    last = fake_colab.calls("mount")[-1]
    assert (last["mountpoint"], last["force_remount"], last["timeout_ms"]) == (
        str(fake_colab.mountpoint),
        True,
        round(SESSION.defaults.mount_timeout * 1000),
    )


def test_without_google_colab_the_mount_error_says_to_pass_drive_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a Colab-like machine where google.colab cannot be imported: pass drive_dir= instead."""
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-fake")
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails: ModuleNotFoundError
    point = tmp_path / "drive"
    with pytest.raises(DriveMountError) as caught:
        colab_bootstrap.setup("proj", mountpoint=point, content_dir=tmp_path, gpu="ignore")
    text = str(caught.value)
    assert text.startswith(f"Cannot mount Google Drive at {point}: google.colab is not importable")
    assert text.endswith(
        "Off Colab, pass drive_dir='/path/to/My Drive' or set COLAB_BOOTSTRAP_DRIVE."
    )
    assert not point.exists()


def test_a_live_drive_is_used_where_it_is_without_mounting(fake_colab: FakeColab) -> None:
    """Mounted at the mountpoint: "already mounted"; elsewhere: that one, named, not remounted."""
    fake_colab.project("proj")
    fake_colab.mount_at(fake_colab.mountpoint)
    project = colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    assert project.drive == f"already mounted at {fake_colab.mountpoint}"
    other = fake_colab.content / "gdrive"
    project = colab_bootstrap.setup(
        "proj", mountpoint=other, content_dir=fake_colab.content, gpu="ignore"
    )
    assert project.drive is not None
    assert project.drive.startswith(f"using the Drive already mounted at {fake_colab.mountpoint}")
    assert project.path == fake_colab.mountpoint / "MyDrive" / "proj"
    assert fake_colab.calls("mount") == []


# ---------------------------------------------------------------------------------------------
# The mount table, the MyDrive folder, the local names: read as the kernel and Colab write them
# ---------------------------------------------------------------------------------------------


def _table(tmp_path: Path, *points: bytes) -> str:
    table = tmp_path / "mounts"
    lines = [b"proc /proc proc rw 0 0"]
    lines += [b"drive " + point + b" fuse.drive rw,nosuid,user_id=0 0 0" for point in points]
    table.write_bytes(b"\n".join(lines) + b"\n")
    return str(table)


def test_mountpoints_are_unescaped_exactly_as_the_kernel_escapes_them(tmp_path: Path) -> None:
    r"""Space, tab, newline, backslash come as \040 \011 \012 \134; nothing else is touched."""
    table = _table(
        tmp_path,
        b"/content/my\\040drive2024",  # digits after a letter are no escape
        b"/content/a\\011b\\012c\\134d",
        b"/content/caf\xe9",  # not UTF-8: kept as the same bytes
        "/content/my\u00a0drive".encode(),  # a no-break space is no field separator
        b"/content/drive",
        b"/content/drive",  # listed twice, named once
    )
    assert bounded(lambda: drive_mountpoints(table), 10) == [
        "/content/my drive2024",
        "/content/a\tb\nc\\d",
        os.fsdecode(b"/content/caf\xe9"),
        "/content/my\u00a0drive",
        "/content/drive",
    ]


def test_at_most_4_mib_of_the_mount_table_is_read(tmp_path: Path) -> None:
    """A runaway mount table costs 4 MiB at most: a Drive listed past that is not seen."""
    table = tmp_path / "mounts"
    filler = b"tmpfs /tmp/x tmpfs rw 0 0\n"
    with table.open("wb") as handle:
        handle.write(filler * ((4 << 20) // len(filler) + 1))
        handle.write(b"drive /content/drive fuse.drive rw 0 0\n")
    assert bounded(lambda: drive_mountpoints(str(table)), 10) == []


def test_find_mount_prefers_the_mountpoint_then_a_live_drive_then_a_dead_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Drive at the mountpoint, whatever its state; else a live one elsewhere; else dead."""
    gone = tmp_path / "gone"  # in the table, but stat fails: dead
    live = tmp_path / "gdrive"
    live.mkdir()
    asked = tmp_path / "drive"
    both = _table(tmp_path, os.fsencode(gone), os.fsencode(live))
    assert find_mount(asked, both) == DriveMount(str(live), "live")
    dead = find_mount(asked, _table(tmp_path, os.fsencode(gone)))
    assert (dead.point, dead.state) == (str(gone), "dead")
    assert dead.error.startswith("FileNotFoundError: ")
    here = find_mount(asked, _table(tmp_path, os.fsencode(live), os.fsencode(asked)))
    assert (here.point, here.state) == (str(asked), "dead")
    monkeypatch.chdir(tmp_path)
    assert find_mount("drive", _table(tmp_path)) == DriveMount(str(asked), "absent")


def test_mydrive_is_found_under_its_old_spelling_too(tmp_path: Path) -> None:
    """``MyDrive``, else the old ``My Drive``, else nothing."""
    assert mydrive_in(tmp_path) is None
    (tmp_path / "My Drive").mkdir()
    assert mydrive_in(tmp_path) == tmp_path / "My Drive"
    (tmp_path / "MyDrive").mkdir()
    assert mydrive_in(tmp_path) == tmp_path / "MyDrive"


def test_local_entries_mark_folders_but_not_files_or_links(tmp_path: Path) -> None:
    """A folder shows as ``name/``; a file and a link to a folder show as their names."""
    (tmp_path / "data").mkdir()
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "data")
    assert local_entries(str(tmp_path)) == ["a.txt", "data/", "link"]
    assert local_entries(str(tmp_path / "missing")) == []


# ------------------------------------------------------------------- a live Drive without MyDrive


@pytest.mark.parametrize("mounted_before", [False, True])
def test_a_live_drive_without_mydrive_is_remounted_once_then_refused_with_the_fix(
    fake_colab: FakeColab, monkeypatch: pytest.MonkeyPatch, mounted_before: bool
) -> None:
    """A Drive that answers without a MyDrive folder (Shared drives only) is refused, with the fix.

    setup() does not link a project that is not there. A mount found that way is remounted
    once; when MyDrive is still missing, the error says so and how to start clean.
    """
    monkeypatch.setenv("FAKE_COLAB_DRIVE_QUIRKS", "no-mydrive")
    fake_colab.project("proj", {"train.py": "VALUE = 1\n"})
    point = fake_colab.mountpoint
    if mounted_before:
        fake_colab.mount_at(point)
        assert sorted(os.listdir(point)) == ["Shareddrives"]  # the quirk is real
    with pytest.raises(DriveMountError) as caught:
        colab_bootstrap.setup(
            "proj", mountpoint=point, content_dir=fake_colab.content, gpu="ignore"
        )
    assert str(caught.value).startswith(
        f"Colab reported Google Drive mounted at {point}, but it shows no MyDrive folder. In a "
        "cell run from google.colab import drive; drive.flush_and_unmount(), then "
    )
    assert "force_remount=True" in str(caught.value)
    (mount,) = fake_colab.calls("mount")  # once: no loop of remounts
    assert mount["force_remount"] is mounted_before
    assert not os.path.lexists(fake_colab.content / "proj")
