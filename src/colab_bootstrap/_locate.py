"""Project-name rules, where My Drive is, where the project folder is, where its link goes.

Only finds; never creates, mounts or links: ``setup()`` acts on what this module finds, and
``doctor()`` uses the same rules to look without touching, so the two always agree.
"""

from __future__ import annotations

import glob
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from ._colab import DriveMount, find_mount, mydrive_in
from ._errors import (
    DRIVE_LOST,
    DriveConnectionLostError,
    DriveNotFoundError,
    InvalidProjectError,
    ProjectNotFoundError,
    connection_lost,
)
from ._files import file_kind
from ._session import NAME_MAX, SESSION, option, shown, too_long

__all__ = [
    "DriveLocation",
    "FoundBy",
    "close_names",
    "desktop_candidates",
    "desktop_drive",
    "find_drive",
    "given_drive",
    "link_path",
    "mounted_drive",
    "obstacle",
    "project_folder",
    "project_path",
    "same_text",
    "validate_link_name",
    "validate_project",
]

#: How My Drive was found: the drive_dir argument, the environment variable, Colab's mount, or
#: the Google Drive for desktop folder.
FoundBy = Literal["drive_dir", "env", "colab", "desktop"]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_EXAMPLE = "write it relative to My Drive with '/' separators, e.g. 'courses/fastai_course2'"
#: The names My Drive goes by in a path: Colab's mount (``MyDrive``), Drive for desktop's.
_MY_DRIVE = ("MyDrive", "My Drive")


def _relative_hint(absolute: str) -> str:
    r"""What an absolute path (Colab's, or Windows' ``G:\My Drive\x``) is, relative to My Drive."""
    parts = absolute.replace("\\", "/").split("/")
    last = max((i for i, part in enumerate(parts) if part in _MY_DRIVE), default=None)
    if last is None:
        return ""
    rest = "/".join(part for part in parts[last + 1 :] if part)
    return f" For this path that is {rest!r}." if rest else ""


def _check_text(project: str) -> None:
    """Refuse control characters and lone surrogates (which are not text, and no Drive name)."""
    if _CONTROL.search(project):
        raise InvalidProjectError(
            f"project {shown(project)} contains a NUL or control character (a stray newline or "
            f"tab?); {_EXAMPLE}."
        )
    try:
        project.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidProjectError(
            f"project {shown(project)} is not valid text: {project[exc.start]!r} is half of a "
            "character (a lone surrogate, left by bytes decoded as the wrong encoding). Type "
            "the folder's name as Google Drive shows it."
        ) from None


def validate_project(project: object) -> PurePosixPath:
    """Check a project name and return it as a relative POSIX path.

    Raises:
        InvalidProjectError: empty, absolute, ``..``, backslashes, NUL or control characters, a
            lone surrogate (not text), a part over 255 bytes (UTF-8) or a whole name over 4095.
    """
    if not isinstance(project, str):
        raise InvalidProjectError(
            f"project must be a string folder name, got {type(project).__name__} "
            f"{shown(project)}; {_EXAMPLE}."
        )
    if not project.strip():
        raise InvalidProjectError(f"project is empty; {_EXAMPLE}.")
    _check_text(project)
    if project.startswith(("/", "~", "\\")) or _WINDOWS_DRIVE.match(project):
        raise InvalidProjectError(
            f"project {shown(project)} is an absolute path; {_EXAMPLE}."
            f"{_relative_hint(project)} To use a folder outside My Drive, pass drive_dir= the "
            "folder that holds it."
        )
    if "\\" in project:
        suggestion = project.replace("\\", "/").strip("/")
        raise InvalidProjectError(
            f"project {shown(project)} uses backslashes, which only Windows reads as separators; "
            f"Colab runs Linux. Use '/' instead: {shown(suggestion)}."
        )
    parts = [part for part in project.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidProjectError(
            f"project {shown(project)} contains '..'; it must stay inside My Drive: {_EXAMPLE}."
        )
    if not parts:
        raise InvalidProjectError(f"project {shown(project)} names no folder; {_EXAMPLE}.")
    if any(part != part.strip() for part in parts):
        raise InvalidProjectError(
            f"project {shown(project)} has a part that starts or ends with a space; Drive folder "
            f"names rarely do. Check the spelling: {shown('/'.join(p.strip() for p in parts))}."
        )
    long = too_long("/".join(parts))
    if long:
        raise InvalidProjectError(
            f"project {shown(project)} is too long: {long}. No folder can have that name; "
            "check what was pasted, and pass the folder's path relative to My Drive."
        )
    return PurePosixPath(*parts)


@dataclass(frozen=True)
class DriveLocation:
    """Where My Drive is and how it was found."""

    path: Path
    how: FoundBy


def desktop_candidates(home: Path | None = None, platform: str = sys.platform) -> list[Path]:
    """Return where Google Drive for desktop (and older clients) put My Drive, in order."""
    home = Path.home() if home is None else home
    found: list[Path] = []
    pattern = str(home / "Library" / "CloudStorage" / "GoogleDrive-*")  # macOS
    for account in sorted(glob.glob(glob.escape(str(home)) + pattern[len(str(home)) :])):
        found += [Path(account) / "My Drive", Path(account) / "MyDrive"]
    if platform == "win32":  # pragma: no cover - drive letters exist only on Windows
        found += [Path(f"{letter}:\\My Drive") for letter in "GHIJKLMNOPQRSTUVWXYZDEF"]
    found += [
        home / "Google Drive" / "My Drive",  # Drive File Stream / Drive for desktop (mirror)
        home / "My Drive",
        home / "GoogleDrive" / "My Drive",  # google-drive-ocamlfuse, rclone setups
        home / "Google Drive",  # Backup and Sync, the seed article's client
        home / "GoogleDrive",
    ]
    return found


def given_drive(drive_dir: str | os.PathLike[str] | None) -> DriveLocation | None:
    """My Drive as named: ``drive_dir``, else ``$COLAB_BOOTSTRAP_DRIVE``; None when neither is.

    Raises:
        DriveNotFoundError: the folder named does not exist or is not a folder.
        DriveConnectionLostError: it is on a dead Drive mount.
    """
    env = SESSION.defaults.drive_env
    given: tuple[tuple[str | os.PathLike[str] | None, FoundBy, str], ...] = (
        (drive_dir, "drive_dir", option("drive_dir", None).rstrip("=")),
        (os.environ.get(env) or None, "env", f"${env}"),
    )
    for value, how, name in given:
        if value is None:
            continue
        path = Path(os.path.expanduser(os.fspath(value)))
        kind = _kind(path)
        if kind != "dir":
            what = {
                "other": "is not a folder",
                "denied": "cannot be reached from this account (permission denied)",
            }.get(kind, "does not exist")
            raise DriveNotFoundError(
                f"{name} {str(path)!r} {what}. Point it at the folder that holds your "
                "projects (your 'My Drive' folder)."
            )
        return DriveLocation(path.absolute(), how)
    return None


def desktop_drive(home: Path | None = None) -> DriveLocation:
    """My Drive of the Google Drive for desktop client (or an older one), first found.

    Raises:
        DriveNotFoundError: none of the client folders exists.
    """
    candidates = desktop_candidates(home)
    for candidate in candidates:
        if os.path.isdir(candidate):
            return DriveLocation(candidate, "desktop")
    looked = "\n".join(f"  - {c}" for c in candidates)
    env = SESSION.defaults.drive_env
    raise DriveNotFoundError(
        "Could not find Google Drive on this machine (not a Colab runtime). Looked in:\n"
        f"{looked}\nInstall Google Drive for desktop, or point at the folder that holds your "
        f"projects: {option('drive_dir', '/path/to/My Drive')} or set {env}=/path/to/My Drive."
    )


def find_drive(
    drive_dir: str | os.PathLike[str] | None,
    *,
    colab: bool,
    mountpoint: str | os.PathLike[str],
    home: Path | None = None,
) -> DriveLocation | None:
    """Find My Drive without mounting anything; first match wins.

    Order: ``drive_dir``; ``$COLAB_BOOTSTRAP_DRIVE``; on Colab the ``MyDrive`` folder of the
    live Drive mount (at ``mountpoint``, else wherever Drive is mounted), None when there is none
    (not mounted, or a dead mount: see ``_colab.find_mount``); off Colab the desktop client
    folders.

    Raises:
        DriveNotFoundError: an explicit folder that does not exist, or nothing found off Colab.
    """
    given = given_drive(drive_dir)
    if given is not None:
        return given
    if colab:
        return mounted_drive(find_mount(mountpoint))
    return desktop_drive(home)


def mounted_drive(found: DriveMount) -> DriveLocation | None:
    """My Drive in a Colab Drive mount: its ``MyDrive`` folder when the mount is live."""
    mydrive = mydrive_in(found.point) if found.state == "live" else None
    return None if mydrive is None else DriveLocation(mydrive, "colab")


def _folder_names(parent: Path) -> list[str]:
    """The names of the folders in ``parent`` (hidden ones left out); [] when it cannot be read."""
    try:
        with os.scandir(parent) as entries:
            return [e.name for e in entries if _entry_is_dir(e) and not e.name.startswith(".")]
    except OSError:
        return []


def _entry_is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def same_text(parent: Path, name: str) -> list[str]:
    """Entries of ``parent`` spelled differently from ``name`` that are the same text in NFC.

    The same name can be two strings: 'café' typed as one character 'é' (NFC, what Windows, Linux
    and browsers send) or as 'e' and a combining accent (NFD, what macOS writes). Linux compares
    file names byte by byte, so the folder is not found under the other form.
    """
    from ._copies import other_spellings  # noqa: PLC0415 - only a missing folder needs it

    try:
        return sorted(other_spellings(name, os.listdir(parent)))
    except OSError:
        return []


def close_names(parent: Path, name: str, limit: int = 3) -> list[str]:
    """Return up to ``limit`` folder names in ``parent`` that look like ``name``.

    Compared in Unicode NFC and without case; a name that is ``name`` in another Unicode form is
    never suggested (it would look identical: :func:`same_text` finds those).
    """
    import difflib  # noqa: PLC0415 - only a missing folder needs it

    from ._copies import name_key  # noqa: PLC0415

    wanted = name_key(name)
    target = wanted.lower()
    names = [n for n in _folder_names(parent) if name_key(n) != wanted]
    folded: dict[str, str] = {}
    for candidate in names:
        folded.setdefault(name_key(candidate).lower(), candidate)
    exact = [n for n in names if name_key(n).lower() == target]

    fuzzy = difflib.get_close_matches(target, list(folded), n=limit, cutoff=0.6)
    result = exact + [folded[f] for f in fuzzy if folded[f] not in exact]
    return result[:limit]


def _kind(path: Path) -> str:
    """What ``path`` is: "dir", "other", "denied" or "missing".

    A folder ("dir"), something else ("other"), out of reach ("denied": a folder on the way
    cannot be entered), or nothing ("missing").

    Raises:
        DriveConnectionLostError: Drive's connection was lost (ENOTCONN) on the way.
    """
    try:
        mode = os.stat(path).st_mode
    except PermissionError:
        return "denied"
    except OSError as exc:
        if connection_lost(exc):
            raise DriveConnectionLostError(f"Cannot read {path}. {DRIVE_LOST}") from exc
        return "missing"
    return "dir" if stat.S_ISDIR(mode) else "other"


def obstacle(path: Path) -> tuple[Path, str] | None:
    """What keeps ``path`` from being a folder, or from being made one; None when nothing does.

    Looks from ``path`` up to the first part that exists: a folder there (``path`` itself, or
    the folder it would be made in) is no obstacle. Otherwise returns that part and what it is
    in words: "a file", "a FIFO (named pipe)", "a symbolic link to '...', which does not exist",
    or "a folder this account cannot enter (permission denied)". Reads only (``stat``).

    Raises:
        DriveConnectionLostError: Drive's connection was lost (ENOTCONN) on the way.
    """
    current = path
    denied = False
    while True:
        try:
            mode = os.stat(current).st_mode
        except OSError as exc:
            if connection_lost(exc):
                raise DriveConnectionLostError(f"Cannot read {current}. {DRIVE_LOST}") from exc
            denied = denied or isinstance(exc, PermissionError)
            if not denied and isinstance(exc, FileNotFoundError):
                try:
                    target = os.readlink(current)
                except OSError:
                    target = None
                if target is not None:
                    return current, f"a symbolic link to {target!r}, which does not exist"
            if current.parent == current:
                return None
            current = current.parent
            continue
        if denied:  # the nearest part that answers is the folder that cannot be entered
            return current, "a folder this account cannot enter (permission denied)"
        return None if stat.S_ISDIR(mode) else (current, file_kind(mode))


def _unicode_twins(path: Path, missing: str, twins: list[str]) -> ProjectNotFoundError:
    listed = ", ".join(ascii(t) for t in twins)
    return ProjectNotFoundError(
        f"Project folder {path} is ambiguous: {path.parent} holds {len(twins)} folders whose "
        f"names are {missing!r} in different Unicode forms ({listed}; they look the same but "
        "are different names). Rename all but one in Google Drive, then try again."
    )


def project_folder(drive: Path, project: PurePosixPath) -> Path:
    """The project folder's path in ``drive``, spelled as on disk, whether or not it exists.

    A part missing as given, where exactly one entry of its folder is the same text in another
    Unicode form ('café' typed, 'cafe' + U+0301 on disk: see :func:`same_text`), is spelled as that
    entry: setup() finds the folder the user sees, and create=True never makes a look-alike
    twin. Costs one ``stat`` when the folder exists.

    Raises:
        InvalidProjectError: the whole path is longer than a path may be (4095 bytes).
        ProjectNotFoundError: two or more entries are the missing part in other Unicode forms
            (which one is meant cannot be told; they are shown escaped).
        DriveConnectionLostError: Drive's connection was lost (a dead mount).
    """
    path = drive.joinpath(*project.parts)
    long = too_long(str(path))
    if long:
        raise InvalidProjectError(
            f"The project folder's path {shown(str(path))} is too long: {long}. Pass a "
            "shorter project path, or drive_dir= a folder nearer to it."
        )
    if _kind(path) != "missing":
        return path
    parent = drive
    for index, part in enumerate(project.parts):
        if _kind(parent / part) == "missing" and not os.path.islink(parent / part):
            twins = same_text(parent, part)
            if len(twins) > 1:
                raise _unicode_twins(parent / part, part, twins)
            if not twins:
                return parent.joinpath(*project.parts[index:])
            part = twins[0]  # noqa: PLW2901 - the on-disk spelling of the same name
        parent = parent / part
    return parent


def _not_found_hint(drive: Path, project: PurePosixPath) -> str:
    """For a project written with My Drive's own name in it: the path relative to My Drive."""
    parts = project.parts
    last = max((i for i, part in enumerate(parts) if part in _MY_DRIVE), default=None)
    if last is None:
        return ""
    rest = PurePosixPath(*parts[last + 1 :]) if parts[last + 1 :] else None
    if rest is None:
        return (
            f" The project is a folder inside My Drive ({drive}): pass its path from there, "
            "e.g. 'courses/fastai_course2'."
        )
    exists = " (that folder exists)" if _kind(drive.joinpath(*rest.parts)) == "dir" else ""
    return (
        f" The project is relative to My Drive ({drive}): drop "
        f"{'/'.join(parts[: last + 1]) + '/'!r} and pass {str(rest)!r}{exists}."
    )


def project_path(drive: Path, project: PurePosixPath) -> Path:
    """Return the project folder in ``drive``, spelled as on disk (see :func:`project_folder`).

    Raises:
        ProjectNotFoundError: naming the full path and up to three close names (compared in
            Unicode NFC: a suggestion never looks like the name given); or it is not a folder,
            cannot be reached (permission denied) or is a link to nothing.
        InvalidProjectError: the whole path is longer than a path may be.
        DriveConnectionLostError: Drive's connection was lost (a dead mount).
    """
    path = project_folder(drive, project)
    kind = _kind(path)
    if kind == "dir":
        if os.access(path, os.R_OK | os.X_OK):
            return path
        kind = "denied"
    if kind == "other":
        try:
            what = file_kind(os.stat(path).st_mode)
        except OSError:  # gone meanwhile
            what = "not a folder"
        raise ProjectNotFoundError(
            f"{path} is {what}, not a folder. Pass the folder that holds your modules."
        )
    blocked = obstacle(path)
    if blocked is None and kind == "denied":
        blocked = (path, "a folder this account cannot read (permission denied)")
    if blocked is not None:
        where, what = blocked
        fix = (
            "Give this account access to it (e.g. chmod u+rwx), or pass another folder."
            if "permission denied" in what
            else "It is left as it is: move it away, or pass a project path that names a folder."
        )
        raise ProjectNotFoundError(
            f"Cannot reach the project folder {path}: {where} is {what}. {fix}"
        )
    parent = drive
    relative = PurePosixPath(*path.relative_to(drive).parts)
    missing = relative.parts[0]
    for part in relative.parts:
        if _kind(parent / part) != "dir":
            missing = part
            break
        parent = parent / part
    suggestions = close_names(parent, missing)
    hint = ""
    if suggestions:
        inside = PurePosixPath(*parent.relative_to(drive).parts)
        spelled = [str(inside / s) if inside.parts else s for s in suggestions]
        hint = " Did you mean " + " or ".join(repr(s) for s in spelled) + "?"
    raise ProjectNotFoundError(
        f"Project folder {path} does not exist ({missing!r} is not in {parent}).{hint}"
        f"{_not_found_hint(drive, relative)} Check the name (Drive names are case-sensitive "
        "here), wait for Drive to finish syncing, or pass "
        f"{option('create')} to make an empty folder."
    )


def same_folder(path: Path, other: Path) -> bool:
    """``path`` and ``other`` are one folder: the same real path, or the same file on disk.

    On a Drive mount, ``My Drive`` is another name for ``MyDrive`` (the old spelling), not a
    symlink: ``realpath`` keeps the two spellings apart, the device and inode do not. Beyond
    equal real paths, a folder that cannot be looked at (missing, or on a dead mount: ENOTCONN)
    matches nothing.
    """
    if os.path.realpath(path) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def link_path(
    content_dir: str | None, folder: Path, *, colab: bool, name: str | None = None
) -> Path | None:
    """Where ``setup()`` links ``folder``: ``<content_dir>/<name>``, or None for no link.

    ``name`` defaults to the folder's own name. On Colab the link is always made (in
    ``/content`` unless ``content_dir`` says otherwise), so notebooks import from a short local
    path; off Colab only when ``content_dir`` is given.
    """
    if content_dir is None and not colab:
        return None
    return Path(content_dir or SESSION.defaults.content_dir) / (name or folder.name)


def validate_link_name(name: object) -> str:
    """``setup(link_name=...)``: one plain file name, or ValueError naming the rule.

    Also refused: a name over 255 bytes (UTF-8), which no file system takes, and lone surrogates
    (``isprintable`` is False for them).
    """
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or any(c in name for c in "/\\\0")
        or not name.isprintable()
        or name != name.strip()
    ):
        raise ValueError(
            f"link_name must be one plain file name (no '/' or '\\', not '.' or '..', no "
            f"control characters or surrounding spaces), not {shown(name)}; "
            "e.g. link_name='proj_b'."
        )
    long = too_long(name)
    if long:
        raise ValueError(
            f"link_name must be one plain file name of at most {NAME_MAX} bytes, not "
            f"{shown(name)} ({long}); e.g. link_name='proj_b'."
        )
    return name
