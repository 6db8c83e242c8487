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
from ._session import SESSION, option

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
    "project_path",
    "validate_project",
]

#: How My Drive was found: the drive_dir argument, the environment variable, Colab's mount, or
#: the Google Drive for desktop folder.
FoundBy = Literal["drive_dir", "env", "colab", "desktop"]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_EXAMPLE = "write it relative to My Drive with '/' separators, e.g. 'courses/fastai_course2'"


def _relative_hint(absolute: str) -> str:
    for marker in ("/MyDrive/", "/My Drive/"):
        if marker in absolute:
            return f" For this path that is {absolute.split(marker, 1)[1].strip('/')!r}."
    return ""


def validate_project(project: object) -> PurePosixPath:
    """Check a project name and return it as a relative POSIX path.

    Raises:
        InvalidProjectError: empty, absolute, ``..``, backslashes, NUL or control characters.
    """
    if not isinstance(project, str):
        raise InvalidProjectError(
            f"project must be a string folder name, got {type(project).__name__} "
            f"{project!r}; {_EXAMPLE}."
        )
    if not project.strip():
        raise InvalidProjectError(f"project is empty; {_EXAMPLE}.")
    if _CONTROL.search(project):
        raise InvalidProjectError(
            f"project {project!r} contains a NUL or control character (a stray newline or tab?); "
            f"{_EXAMPLE}."
        )
    if "\\" in project:
        suggestion = project.replace("\\", "/").strip("/")
        raise InvalidProjectError(
            f"project {project!r} uses backslashes, which only Windows reads as separators; "
            f"Colab runs Linux. Use '/' instead: {suggestion!r}."
        )
    if project.startswith(("/", "~")) or _WINDOWS_DRIVE.match(project):
        raise InvalidProjectError(
            f"project {project!r} is an absolute path; {_EXAMPLE}.{_relative_hint(project)} "
            "To use a folder outside My Drive, pass drive_dir= the folder that holds it."
        )
    parts = [part for part in project.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise InvalidProjectError(
            f"project {project!r} contains '..'; it must stay inside My Drive: {_EXAMPLE}."
        )
    if not parts:
        raise InvalidProjectError(f"project {project!r} names no folder; {_EXAMPLE}.")
    if any(part != part.strip() for part in parts):
        raise InvalidProjectError(
            f"project {project!r} has a part that starts or ends with a space; Drive folder "
            f"names rarely do. Check the spelling: {'/'.join(p.strip() for p in parts)!r}."
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
            what = "is not a folder" if kind == "other" else "does not exist"
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


def close_names(parent: Path, name: str, limit: int = 3) -> list[str]:
    """Return up to ``limit`` folder names in ``parent`` that look like ``name``."""
    try:
        with os.scandir(parent) as entries:
            names = [e.name for e in entries if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []
    lowered = {n.lower(): n for n in names}
    exact = [n for n in names if n.lower() == name.lower() and n != name]
    import difflib  # noqa: PLC0415 - only a missing folder needs it

    fuzzy = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.6)
    result = exact + [lowered[f] for f in fuzzy if lowered[f] not in exact]
    return result[:limit]


def _kind(path: Path) -> str:
    """Whether ``path`` is a folder ("dir"), something else ("other") or nothing ("missing").

    Raises:
        DriveConnectionLostError: Drive's connection was lost (ENOTCONN) on the way.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if connection_lost(exc):
            raise DriveConnectionLostError(f"Cannot read {path}. {DRIVE_LOST}") from exc
        return "missing"
    return "dir" if stat.S_ISDIR(mode) else "other"


def project_path(drive: Path, project: PurePosixPath) -> Path:
    """Return the project folder in ``drive``.

    Raises:
        ProjectNotFoundError: naming the full path and up to three close names.
        DriveConnectionLostError: Drive's connection was lost (a dead mount).
    """
    path = drive.joinpath(*project.parts)
    kind = _kind(path)
    if kind == "dir":
        return path
    if kind == "other":
        raise ProjectNotFoundError(
            f"{path} is a file, not a folder. Pass the folder that holds your modules."
        )
    parent = drive
    missing = project.parts[0]
    for part in project.parts:
        if _kind(parent / part) != "dir":
            missing = part
            break
        parent = parent / part
    suggestions = close_names(parent, missing)
    hint = ""
    if suggestions:
        relative = PurePosixPath(*parent.relative_to(drive).parts)
        spelled = [str(relative / s) if relative.parts else s for s in suggestions]
        hint = " Did you mean " + " or ".join(repr(s) for s in spelled) + "?"
    raise ProjectNotFoundError(
        f"Project folder {path} does not exist ({missing!r} is not in {parent}).{hint} "
        "Check the name (Drive names are case-sensitive here), wait for Drive to finish "
        f"syncing, or pass {option('create')} to make an empty folder."
    )


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
    """``setup(link_name=...)``: one plain file name, or ValueError naming the rule."""
    if (
        not isinstance(name, str)
        or name in ("", ".", "..")
        or any(c in name for c in "/\\\0")
        or not name.isprintable()
        or name != name.strip()
    ):
        raise ValueError(
            f"link_name must be one plain file name (no '/' or '\\', not '.' or '..', no "
            f"control characters or surrounding spaces), not {name!r}; e.g. link_name='proj_b'."
        )
    return name
