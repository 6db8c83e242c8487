"""The steps of ``setup()`` that change things: mount when needed, link, ``sys.path``, byte-code.

``setup()`` (in ``_setup``, kept light so the GPU probes start before this is imported) calls
these in order; each leaves everything as it was when it refuses.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

from . import _colab, _live, _locate, _log
from ._errors import ColabBootstrapWarning, DriveMountError, LinkConflictError

__all__ = ["create", "locate_drive", "make_importable"]


def locate_drive(
    drive_dir: str | os.PathLike[str] | None,
    mountpoint: str | os.PathLike[str],
    *,
    colab: bool,
    force_remount: bool,
) -> _locate.DriveLocation:
    """My Drive, mounting it first on Colab when it is not there (or force_remount)."""
    found = _locate.find_drive(drive_dir, colab=colab, mountpoint=mountpoint)
    if found is not None and not (force_remount and found.how == "colab"):
        return found
    _colab.mount(mountpoint, force_remount=force_remount)
    mydrive = _colab.mydrive_in(mountpoint)
    if mydrive is None:
        raise DriveMountError(
            f"Google Drive was mounted at {mountpoint}, but it holds no 'MyDrive' folder. "
            "Run drive.flush_and_unmount(), then re-run this cell with force_remount=True."
        )
    return _locate.DriveLocation(mydrive, "colab")


def _link(content_dir: Path, target: Path) -> Path:
    """Make ``content_dir/<target name>`` a symlink to ``target``; never touch real files."""
    link = content_dir / target.name
    if link.is_symlink():
        current = os.readlink(link)
        if current == str(target) or os.path.realpath(link) == os.path.realpath(target):
            return link
        content_dir.mkdir(parents=True, exist_ok=True)
        temporary = content_dir / f".{target.name}.colab_bootstrap-{os.getpid()}"
        if temporary.is_symlink():
            temporary.unlink()
        os.symlink(target, temporary, target_is_directory=True)
        os.replace(temporary, link)
        warnings.warn(
            f"{link} pointed to {current}; it now points to {target}.",
            ColabBootstrapWarning,
            stacklevel=4,  # _link, make_importable, setup, the caller
        )
        return link
    if link.exists():
        kind = "folder" if link.is_dir() else "file"
        raise LinkConflictError(
            f"Cannot link {link} to {target}: a real {kind} is already there, and it is "
            "left untouched. Move or rename it (it may hold your work), or pass "
            "content_dir= another folder, then re-run."
        )
    content_dir.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link, target_is_directory=True)
    return link


def create(folder: Path) -> None:
    """Create the project folder (and its parents) when it is missing."""
    if not folder.is_dir():
        folder.mkdir(parents=True)
        _log.info(__name__, "created project folder %s", folder)


def make_importable(
    folder: Path, content_dir: str | os.PathLike[str], *, make_link: bool
) -> tuple[Path | None, str]:
    """Link (when asked), sys.path once, byte-code out of Drive, import hook."""
    link = _link(Path(content_dir), folder) if make_link else None
    entry = str(link if link is not None else folder)
    if entry not in sys.path:
        sys.path.append(entry)
    if sys.pycache_prefix is None:
        sys.pycache_prefix = str(_pycache_folder())
    _live.watch([Path(entry), folder.resolve()])
    return link, entry


def _pycache_folder() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "colab_bootstrap" / "pycache"
