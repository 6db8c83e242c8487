r"""The Windows-path lint: literals like ``'..\\data'`` or ``'C:/Users/me'`` that break on Colab.

Notebooks written on Windows carry paths that only Windows reads: backslash separators, drive
letters, network shares. Colab runs Linux, where they name nothing (or the wrong thing). The lint
reads ``.py`` files and notebook code cells with ``tokenize``/``ast``, so comments, docstrings,
lone escapes (``'\n'``) and regular expressions passed to ``re`` are not mistaken for paths, and
offers a ``pathlib`` rewrite for each finding. ``doctor()`` runs it over the walk it already made;
it reads at most a fixed number of files, none over a size cap, and says when it stopped.
"""

from __future__ import annotations

import ast
import bisect
import io
import json
import os
import re
import time
import tokenize
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._files import read_within
from ._render import html_table
from ._scan import Scan

__all__ = ["LINT_MAX_BYTES", "LINT_MAX_FILES", "PathFinding", "PathLint", "windows_paths"]

#: What makes a literal Windows-only: a drive letter, a network share, backslash separators.
PathKind = Literal["drive", "unc", "backslash"]

#: The lint reads at most this many ``.py``/``.ipynb`` files ...
LINT_MAX_FILES = 200
#: ... and skips any file larger than this.
LINT_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class PathFinding:
    """A string literal that only works as a path on Windows."""

    file: str
    line: int
    literal: str
    rewrite: str
    problem: str
    cell: int | None = None

    @property
    def where(self) -> str:
        """``file:line``, or ``file cell N, line M`` for notebooks."""
        if self.cell is None:
            return f"{self.file}:{self.line}"
        return f"{self.file} cell {self.cell}, line {self.line}"


@dataclass(frozen=True)
class PathLint:
    """Windows-only path literals in a project's ``.py`` files and notebook code cells."""

    root: Path
    findings: tuple[PathFinding, ...]
    checked: int
    skipped: tuple[tuple[str, str], ...] = ()
    stopped: bool = False
    why_stopped: str = ""

    def _headline(self) -> str:
        text = f"{len(self.findings)} Windows-only path(s) in {self.checked} file(s) checked"
        if self.stopped:
            text += f" ({self.why_stopped}; the other files were not checked)"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        return f"colab_bootstrap path lint {self.root}: {text}"

    def __str__(self) -> str:
        lines = [self._headline()]
        for found in self.findings:
            lines.append(f"  {found.where}: {found.literal}")
            lines.append(f"      {found.problem}; use {found.rewrite}")
        lines.extend(f"  skipped {path}: {why}" for path, why in self.skipped)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [(f.where, f.literal, f.problem, f.rewrite) for f in self.findings]
        rows.extend((path, "", f"skipped: {why}", "") for path, why in self.skipped)
        return html_table(self._headline(), rows, header=("where", "literal", "problem", "use"))


# Chars that never appear in a Windows path (or mark regex / LaTeX / templates), and regex escapes.
_NOT_PATH = re.compile(
    r'[\x00-\x1f*?"\'<>|$^+\[\]]|(?<! )\(|\\[dDwWsSbBAZ-](?![A-Za-z])|\\[1-9](?!\w)'
)
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_SENTENCE = re.compile(r"[.,;!?] ")
_KEPT_ESCAPES = re.compile(
    r"\\(?:[\\'\"\n]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]*\}|[0-7]{1,3})"
)
_NAME = re.compile(r"[\w{}%~\x7f]|^\.\.?$")  # a folder or file name, a template field, '..'
# Cheap byte tests run before parsing: can this file hold a Windows path literal at all? Each
# pattern opens with a literal or a rare class so the regex engine skips ahead quickly.
_HINTS = (
    # an escaped backslash by a name ('a\\b', 'a\\'), or an escape Python keeps ('..\data')
    re.compile(rb"\\(?:\\(?:[\w.~%{ -]|(?<=[\w.]\\\\)['\"])|[^\\'\"abfnrtvxuUN0-7\r\n])"),
    re.compile(rb":(?<=['\"][A-Za-z]:)[\\/]"),  # a string opening with a drive letter
    re.compile(rb"\b[bBfF]?[rR][bBfF]?['\"][^'\"\r\n]*\\"),  # a raw string holding a backslash
)


_LINE_END = re.compile(r"\r\n|\r|\n")
_REGEX_MODULES = frozenset({"re", "regex"})
_REGEX_FUNCTIONS = frozenset(
    {"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
)
_PLACEHOLDER = "\x7f"
# An escape that turns a would-be separator into a control character: 'C:\data\new'.
_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*(\\[abfnrtv])")


def _classify(view: str) -> PathKind | None:
    """'drive', 'unc' or 'backslash' when ``view`` reads as a Windows path, else None."""
    drive = bool(_DRIVE.match(view))
    rest = view[2:] if drive else view
    parts = [part for part in rest.split("\\") if part]
    if (
        ("\\" not in view and not drive)
        or _NOT_PATH.search(view.replace(_PLACEHOLDER, "x"))
        or ":" in rest
    ):
        return None
    if drive:
        return "drive"
    if view.startswith("\\\\") and len(parts) >= 2:
        return "unc"
    looks_like_path = (
        len(parts) >= 2
        and any(len(part) >= 2 for part in parts)
        and all(_is_name(part) for part in parts)
    )
    return "backslash" if looks_like_path else None


def _is_name(part: str) -> bool:
    """A file or folder name, or a template of one: not prose, not an RTF or LaTeX command."""
    return (
        part == part.strip()
        and bool(_NAME.search(part))
        and not _SENTENCE.search(part)
        and not re.search(r"[{}]", re.sub(r"\{[^{}]*\}", "", part))
    )


def _literal_view(token: str) -> tuple[str, bool]:
    """The literal as its author meant the path: every backslash a separator; (view, is_bytes)."""
    prefix_length = len(token) - len(token.lstrip("rRbBuUfF"))
    prefix = token[:prefix_length].lower()
    quote = token[prefix_length : prefix_length + 3]
    quote = quote if quote in ('"""', "'''") else quote[0]
    body = token[prefix_length + len(quote) : len(token) - len(quote)]
    is_bytes = "b" in prefix
    if "r" in prefix:
        return body, is_bytes

    def unescape(match: re.Match[str]) -> str:
        text = match.group(0)
        kind = text[1]
        if kind == "\n":
            return ""
        if kind in "\\'\"":
            return kind
        if is_bytes and kind in "uUN":
            return text  # not escapes in bytes: the backslash stays
        try:
            if kind == "N":
                return unicodedata.lookup(text[3:-1])
            digits, base = (text[2:], 16) if kind in "xuU" else (text[1:], 8)
            return chr(int(digits, base))
        except (KeyError, ValueError):
            return text

    # Numeric and named escapes are characters the author meant; '\t' in 'C:\data\test' is
    # a separator the author meant, so one-letter escapes stay as backslash + letter.
    return _KEPT_ESCAPES.sub(unescape, body), is_bytes


def _source_view(segment: str) -> tuple[str, bool, str] | None:
    """(path view, is bytes, the literals as written) of the strings in ``segment``."""
    parts: list[str] = []
    written: list[str] = []
    is_bytes = False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(f"({segment})").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    for token in tokens:
        if token.type == tokenize.STRING:
            view, is_bytes = _literal_view(token.string)
            parts.append(view)
            written.append(token.string)
    return "".join(parts), is_bytes, " ".join(written)


def _rewrite(view: str, kind: PathKind, is_bytes: bool, fstring: bool) -> tuple[str, str]:
    """(pathlib rewrite, what is wrong) for a flagged literal."""
    parts = [p for p in re.split(r"[\\/]", view) if p]
    if kind == "unc":
        return (
            'Path("/content/drive/MyDrive/<folder>")',
            "a Windows network share: Colab cannot reach it; copy the data into Drive",
        )
    if kind == "drive":
        lowered = [p.lower() for p in parts]
        if "my drive" in lowered or "mydrive" in lowered:
            index = max(lowered.index(n) for n in ("my drive", "mydrive") if n in lowered)
            path = "/".join(["/content/drive/MyDrive", *parts[index + 1 :]])
        else:
            path = "/".join(["/content/drive/MyDrive/<folder>", *parts[-1:]])
        problem = f"drive letter {view[:2]} exists only on Windows"
    else:
        leading = "/" if view.startswith("\\") else ""
        path = leading + "/".join(parts)
        problem = "backslashes separate folders only on Windows"
    path = path.replace(_PLACEHOLDER, "{...}")
    if is_bytes:
        return f"b{json.dumps(path)} (forward slashes)", problem
    return f"Path({'f' if fstring else ''}{json.dumps(path, ensure_ascii=False)})", problem


class _Lines:
    """Slices of the source by ast positions (columns are UTF-8 byte offsets)."""

    def __init__(self, source: str) -> None:
        self.lines = [line.encode("utf-8") for line in _LINE_END.split(source)]

    def segment(self, node: ast.expr) -> str:
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        end = node.end_col_offset if node.end_col_offset is not None else None
        if first == last:
            return self.lines[first][node.col_offset : end].decode("utf-8", "replace")
        chunks = [self.lines[first][node.col_offset :]]
        chunks.extend(self.lines[first + 1 : last])
        chunks.append(self.lines[last][:end])
        return b"\n".join(chunks).decode("utf-8", "replace")


@dataclass
class _RegexNames:
    modules: set[str]
    functions: set[str]

    def called_by(self, call: ast.Call) -> bool:
        """True for re.compile(...), rx.sub(...), sub(...) after ``from re import sub``, p.sub()."""
        func = call.func
        if isinstance(func, ast.Name):
            return func.id in self.functions
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr in ("sub", "subn"):  # compiled patterns: the replacement holds \1 etc.
            return True
        return (
            isinstance(func.value, ast.Name)
            and func.value.id in self.modules
            and func.attr in _REGEX_FUNCTIONS
        )


def _note_regex_names(node: ast.Import | ast.ImportFrom, names: _RegexNames) -> None:
    """Record names bound to re/regex, or to their functions (``from re import sub``)."""
    if isinstance(node, ast.Import):
        names.modules.update(
            alias.asname or alias.name for alias in node.names if alias.name in _REGEX_MODULES
        )
    elif node.module in _REGEX_MODULES:
        names.functions.update(
            alias.asname or alias.name for alias in node.names if alias.name in _REGEX_FUNCTIONS
        )


def _ignore_children(node: ast.AST, ignored: set[int], names: _RegexNames) -> None:
    """Mark strings under ``node`` that are not paths: bare strings, f-string parts, regexes."""
    if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
        ignored.add(id(node.value))  # docstrings and other bare strings do nothing
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.Constant):
                ignored.add(id(part))  # judged with the whole f-string
            elif isinstance(part, ast.FormattedValue) and part.format_spec is not None:
                ignored.update(id(sub) for sub in ast.walk(part.format_spec))
    elif isinstance(node, ast.Call) and names.called_by(node):
        ignored.update(id(arg) for arg in node.args[:2])
        ignored.update(id(kw.value) for kw in node.keywords if kw.arg in ("pattern", "repl"))


def _hint_lines(data: bytes) -> list[int] | None:
    """Sorted line numbers where a hint matched, or None when lines cannot be counted by LF."""
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    starts = sorted({match.start() for hint in _HINTS for match in hint.finditer(data)})
    lines: list[int] = []
    line, previous = 1, 0
    for start in starts:
        line += data.count(b"\n", previous, start)
        previous = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _walk(tree: ast.AST, lines: list[int] | None) -> Iterator[ast.AST]:
    """Nodes of ``tree``, parents first, skipping subtrees (not imports) without ``lines``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        children = list(ast.iter_child_nodes(node))
        for child in reversed(children):
            start = getattr(child, "lineno", None)
            keep = isinstance(child, (ast.Import, ast.ImportFrom))  # aliases of re matter
            if lines is not None and start is not None and not keep:
                end = getattr(child, "end_lineno", None) or start
                index = bisect.bisect_left(lines, start)
                if index == len(lines) or lines[index] > end:
                    continue
            stack.append(child)


def _fstring_view(node: ast.JoinedStr) -> str:
    parts = []
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            parts.append(part.value)
        else:
            parts.append(_PLACEHOLDER)
    return "".join(parts)


def _text_of(node: ast.Constant | ast.JoinedStr) -> str | None:
    """What the literal holds (bytes as latin-1, f-string fields as a placeholder)."""
    if isinstance(node, ast.JoinedStr):
        return _fstring_view(node)
    if isinstance(node.value, bytes):
        return node.value.decode("latin-1")
    return node.value if isinstance(node.value, str) else None


def _finding(
    node: ast.Constant | ast.JoinedStr, lines: _Lines, file: str, cell: int | None
) -> PathFinding | None:
    literal = lines.segment(node)
    if isinstance(node, ast.JoinedStr):
        view, is_bytes, fstring = _fstring_view(node), False, True
        shown = " ".join(literal.split())
    else:
        parsed = _source_view(literal)
        if parsed is None:
            return None
        (view, is_bytes, shown), fstring = parsed, False
    kind = _classify(view)
    text = _text_of(node) or ""
    if kind is None or (kind != "drive" and re.search("[\n\r]", text)):
        return None  # text with line breaks is prose, not a path
    rewrite, problem = _rewrite(view, kind, is_bytes, fstring)
    escape = _ESCAPE.search(literal)
    if escape and not fstring and re.search("[\a\b\t\n\v\f\r]", text):
        problem += f"; {escape.group(1)} in it is a control character, not a separator"
    shown = shown if len(shown) <= 100 else shown[:97] + "..."
    return PathFinding(file, node.lineno, shown, rewrite, problem, cell)


def _lint_tree(
    tree: ast.Module, source: str, file: str, cell: int | None, hints: list[int] | None
) -> list[PathFinding]:
    names = _RegexNames(set(_REGEX_MODULES), set())
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            _note_regex_names(statement, names)
    ignored: set[int] = set()
    found: list[PathFinding] = []
    lines: _Lines | None = None
    for node in _walk(tree, hints):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _note_regex_names(node, names)
            continue
        _ignore_children(node, ignored, names)
        if not isinstance(node, (ast.Constant, ast.JoinedStr)) or id(node) in ignored:
            continue
        text = _text_of(node)
        if text is None or ("\\" not in text and not _DRIVE.match(text)):
            continue
        lines = lines or _Lines(source)
        finding = _finding(node, lines, file, cell)
        if finding is not None:
            found.append(finding)
    found.sort(key=lambda f: f.line)
    return found


def _parse(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes like '\d' warn; they are what we find
        return ast.parse(source)


def _lint_python(file: str, data: bytes, hints: list[int] | None) -> tuple[list[PathFinding], str]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        source = data.decode(encoding)
        tree = _parse(source)
    except (SyntaxError, ValueError, LookupError, RecursionError, MemoryError) as exc:
        return [], f"not valid Python ({type(exc).__name__})"
    return _lint_tree(tree, source, file, None, hints), ""


_CELL_MAGICS_THAT_RUN_PYTHON = frozenset({"%%time", "%%timeit", "%%capture"})


def _lint_notebook(file: str, data: bytes) -> tuple[list[PathFinding], str]:
    try:
        cells = json.loads(data.decode("utf-8")).get("cells", [])
    except (ValueError, AttributeError):
        return [], "not a readable notebook (JSON)"
    found: list[PathFinding] = []
    for number, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        source = "".join(raw) if isinstance(raw, list) else str(raw)
        lines = source.split("\n")
        first = lines[0].strip()
        if first.startswith("%%"):
            if first.split()[0] not in _CELL_MAGICS_THAT_RUN_PYTHON:
                continue
            lines[0] = ""
        # IPython lines (magics, shell escapes, help) become blank, so line numbers stay.
        lines = ["" if line.lstrip().startswith(("%", "!", "?")) else line for line in lines]
        code = "\n".join(lines)
        hints = _hint_lines(code.encode("utf-8", "replace"))
        if hints == []:
            continue
        try:
            tree = _parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        found.extend(_lint_tree(tree, code, file, number, hints))
    return found, ""


def _lint_file(file: str, data: bytes) -> tuple[list[PathFinding], str]:
    """The findings in one file, or why it was skipped; never raises for what the file holds.

    A file nested deeper than the parser or the JSON decoder can follow (a notebook of
    100,000 nested lists) is one skipped file with the reason: the other files still count.
    """
    try:
        if file.endswith(".ipynb"):
            return _lint_notebook(file, data)
        hints = _hint_lines(data)
        if hints == []:
            return [], ""
        return _lint_python(file, data, hints)
    except (RecursionError, MemoryError) as exc:
        return [], f"nested too deeply to read ({type(exc).__name__})"


def windows_paths(
    scan: Scan,
    *,
    max_files: int = LINT_MAX_FILES,
    max_bytes: int = LINT_MAX_BYTES,
    max_seconds: float | None = None,
) -> PathLint:
    r"""Find string literals that are Windows-only paths in the walk's ``.py``/``.ipynb`` files.

    Flags backslash-separated paths (``'..\\..\\data'``, ``r'data\train.csv'``) and drive letters
    (``'C:/Users/me'``), with a pathlib rewrite. Ignores comments, docstrings, lone escapes
    (``'\n'``) and regular expressions passed to ``re``. Reads at most ``max_files`` files, skips
    those over ``max_bytes``, and starts no new file after ``max_seconds`` (None: no time
    limit); ``PathLint.stopped`` and ``.why_stopped`` say when a limit cut the list short.
    """
    findings: list[PathFinding] = []
    skipped: list[tuple[str, str]] = []
    checked = 0
    why_stopped = ""
    started = time.monotonic()
    root = os.fspath(scan.root)
    for file in scan.files:
        if not file.endswith((".py", ".ipynb")):
            continue
        if checked >= max_files:
            why_stopped = f"stopped after {max_files} files (max_files)"
            break
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            why_stopped = f"stopped after {max_seconds:g} s (max_seconds)"
            break
        checked += 1
        try:
            data = read_within(os.path.join(root, file), max_bytes)
        except OSError as exc:
            skipped.append((file, f"unreadable ({exc.strerror or exc})"))
            continue
        if data is None:
            skipped.append((file, f"larger than {max_bytes} bytes"))
            continue
        found, why = _lint_file(file, data)
        findings.extend(found)
        if why:
            skipped.append((file, why))
    return PathLint(
        scan.root, tuple(findings), checked, tuple(skipped), bool(why_stopped), why_stopped
    )
