"""How result objects show themselves: aligned text for ``print()``, a table for notebooks.

Every result (``Project``, ``GpuCheck``, ``ResetReport``...) is a title and (label, value) rows;
subclassing :class:`Rendered` gives it both forms from those two methods, escaped the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["Rendered", "escape", "html_table", "text_block"]

# The html module pulls in html.entities (a big table) for unescape; escaping needs five rules.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})


def escape(text: str) -> str:
    """Escape ``text`` for HTML content and attribute values (as ``html.escape`` does)."""
    return text.translate(_ESCAPES)


_TABLE_STYLE = "border-collapse:collapse;text-align:left;font-family:monospace"
_CELL_STYLE = "padding:2px 8px;border-bottom:1px solid #ddd;vertical-align:top"


def text_block(title: str, rows: Iterable[tuple[str, str]]) -> str:
    """Render ``rows`` of (label, value) under ``title`` as aligned plain text."""
    pairs = list(rows)
    width = max((len(label) for label, _ in pairs), default=0)
    lines = [title]
    for label, value in pairs:
        pad = " " * (width + 4)
        body = str(value).replace("\n", "\n" + pad)
        lines.append(f"  {label.ljust(width)}  {body}")
    return "\n".join(lines)


def html_table(
    title: str,
    rows: Iterable[Sequence[str]],
    *,
    header: Sequence[str] | None = None,
    row_styles: Sequence[str] | None = None,
) -> str:
    """Render ``rows`` as a small HTML table; every cell is escaped, newlines kept."""
    parts = [f'<table style="{_TABLE_STYLE}">']
    parts.append(f'<caption style="text-align:left"><b>{escape(title)}</b></caption>')
    if header:
        cells = "".join(f'<th style="{_CELL_STYLE}">{escape(h)}</th>' for h in header)
        parts.append(f"<tr>{cells}</tr>")
    for index, row in enumerate(rows):
        style = row_styles[index] if row_styles and index < len(row_styles) else ""
        cells = "".join(
            f'<td style="{_CELL_STYLE}">{escape(str(cell)).replace(chr(10), "<br>")}</td>'
            for cell in row
        )
        parts.append(f'<tr style="{style}">{cells}</tr>' if style else f"<tr>{cells}</tr>")
    parts.append("</table>")
    return "".join(parts)


class Rendered:
    """A result with a title and (label, value) rows: ``str()`` and a notebook table from them."""

    def _title(self) -> str:
        raise NotImplementedError

    def _rows(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _row_style(self, label: str) -> str:
        """A CSS style for the HTML row labelled ``label`` ('' for none)."""
        del label
        return ""

    def __str__(self) -> str:
        return text_block(self._title(), self._rows())

    def _repr_html_(self) -> str:
        rows = self._rows()
        styles = [self._row_style(label) for label, _ in rows]
        return html_table(self._title(), rows, row_styles=styles if any(styles) else None)
