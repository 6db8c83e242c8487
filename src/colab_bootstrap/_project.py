"""``Project``: what ``setup()`` made importable, shown as text and as a notebook table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._render import html_table, text_block

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._gpu import Gpu

__all__ = ["Project"]


@dataclass(frozen=True)
class Project:
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
    pycache_prefix: str | None = None
    mountpoint: str | None = None  # Colab's Drive mountpoint setup() used; None off Colab
    notes: tuple[str, ...] = field(default=())
    installed: tuple[str, ...] | None = None

    def _rows(self) -> list[tuple[str, str]]:
        return [
            ("folder", str(self.path)),
            ("link", str(self.link) if self.link else "none (off Colab)"),
            ("on sys.path", self.sys_path_entry),
            ("runtime", "Colab" if self.on_colab else "not Colab"),
            ("accelerator", self.accelerator or "not checked"),
            ("autoreload", self.autoreload),
            ("byte-code", self.pycache_prefix or "Python's default (__pycache__ next to files)"),
            *self._installed_rows(),
            *(("note", note) for note in self.notes),
        ]

    def _installed_rows(self) -> list[tuple[str, str]]:
        if self.installed is None:
            return []
        return [("installed", ", ".join(self.installed) or "nothing (requirements already met)")]

    def __str__(self) -> str:
        return text_block(f"colab_bootstrap: project {self.name!r} is ready", self._rows())

    def _repr_html_(self) -> str:
        return html_table(f"colab_bootstrap: project {self.name!r} is ready", self._rows())
