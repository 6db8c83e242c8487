"""``Project``: what ``setup()`` made importable, as text for ``print()`` and a notebook table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._render import Rendered

if TYPE_CHECKING:
    from ._accelerator import Gpu

__all__ = ["Project"]


def _bytecode_row(folder: str | None) -> str:
    if folder is None:
        return "not cached"
    return f"project modules cached in {folder} (none written to Drive)"


@dataclass(frozen=True)
class Project(Rendered):
    """A project folder that ``setup()`` made importable."""

    name: str
    path: Path
    link: Path | None
    drive_dir: Path
    on_colab: bool
    gpus: tuple[Gpu, ...]
    autoreload: str
    sys_path_entry: str = ""
    accelerator: str = ""
    bytecode_cache: str | None = None  # where the import hook caches the project's .pyc files
    mountpoint: str | None = None  # where the Drive setup() used is mounted; None off Colab
    installed: tuple[str, ...] | None = None
    drive: str | None = None  # on Colab: what setup() found or did ("remounted at ...")

    def _title(self) -> str:
        return f"colab_bootstrap: project {self.name!r} is ready"

    def _rows(self) -> list[tuple[str, str]]:
        rows = [
            ("folder", str(self.path)),
            *([("Google Drive", self.drive)] if self.drive else []),
            ("link", str(self.link) if self.link else "none (off Colab)"),
            ("on sys.path", self.sys_path_entry),
            ("runtime", "Colab" if self.on_colab else "not Colab"),
            ("accelerator", self.accelerator or "not checked"),
            ("autoreload", self.autoreload),
            ("byte-code", _bytecode_row(self.bytecode_cache)),
        ]
        if self.installed is not None:
            installed = ", ".join(self.installed) or "nothing (requirements already met)"
            rows.append(("installed", installed))
        return rows
