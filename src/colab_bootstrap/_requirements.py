"""The project's requirements: read them, compare them with what is installed, install the rest.

A Colab runtime starts fresh every day, so the packages a project needs are missing again;
``doctor()`` says which, and ``setup(install=True)`` installs exactly those. The files are read
with pip's own rules (comments, continuations, ``${VAR}``, ``-r`` includes, markers, extras);
every line only pip can judge (URLs, paths, ``-e``, options) is reported as not checked, with the
reason, and never guessed at. ``pyproject.toml`` is read with ``tomllib`` (Python 3.11+; Colab
runs 3.12+): on 3.9 and 3.10 its dependencies are reported as not checked rather than read by a
home-made TOML reader that could misread them. packaging is imported inside the functions.

The files live on Drive, where anything can sit under any name, so reading is bounded: only
regular files are opened (a FIFO or ``/dev/zero`` is refused without waiting), each file is read
up to 1 MiB, all of them up to 4 MiB and 10,000 lines in all, at most 50 files, includes at most
10 deep, and a file that is binary or has no line pip could use (``-r /etc/passwd``) is "not a
requirements file". Whatever was not read is reported as such (``UncheckedLine.unread``), and the
report is then not ``ok``. Parsing is linear in the size of the files: no pattern here can
backtrack over a long run of the same characters.

What is shown never carries a secret: a line is shown as written (``${TOKEN}`` stays
``${TOKEN}``), credentials written into a URL are shown as ``user:***@``, and pip's own output
quoted in an error is masked the same way. Only the pip process is given the expanded values.
"""

from __future__ import annotations

import codecs
import importlib
import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from . import _log
from ._errors import ColabBootstrapWarning, RequirementsError
from ._files import read_within
from ._redact import MASK, clip, credentials, url_secrets
from ._render import Rendered
from ._session import again

if TYPE_CHECKING:
    from packaging.requirements import Requirement

__all__ = [
    "REQUIREMENTS_FILES",
    "CheckedRequirement",
    "RequirementsReport",
    "UncheckedLine",
    "dist_version",
    "find_distributions",
    "install_missing",
    "requirements_report",
]

#: The files looked for in the project folder, in this order.
REQUIREMENTS_FILES = ("requirements.txt", "pyproject.toml")

_FILE_LIMIT = 1 << 20  # one file: a requirements file holds kilobytes
_TOTAL_LIMIT = 4 << 20  # every file of one report together
_LINE_LIMIT = 10_000  # logical lines (and pyproject dependencies) of one report
_FILE_COUNT_LIMIT = 50  # files read for one report, includes among them
_DEPTH_LIMIT = 10  # -r includes inside -r includes
_LISTED_LIMIT = 200  # not-checked entries listed; the rest are counted in one last entry
_SHOWN_LIMIT = 200  # characters of a line (or of a reason quoting one) shown in a report
_TOML_DOTS_LIMIT = 64  # tomllib takes quadratic time and memory in a dotted key's depth

# pip expands only ${UPPER_CASE} variables. Every pattern here is linear: a literal start, one
# character class that excludes what ends it, and nothing after a repeat that could backtrack.
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # only ever used with .match (anchored)
_TOML_MARK = re.compile(r"[\"'#.=\[\]{},\n]")  # one character: what _toml_too_deep looks at
_OPTION_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar")
_SHORT_OPTIONS = {
    "-r": "--requirement",
    "-c": "--constraint",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
}
# Options that say where pip finds packages: passed on to ``pip install`` with the requirements.
_PASSED_WITH_VALUE = {
    "--index-url",
    "--extra-index-url",
    "--find-links",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
}
_PASSED_FLAGS = {"--no-index", "--pre", "--prefer-binary"}
# pip's other requirement-file options: pip's to judge, but they make a file a requirements file.
_OTHER_PIP_OPTIONS = {"--require-hashes", "--use-feature", "--hash", "--config-settings"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF8, "utf-8"),
)

#: How a requirement compares with what is installed.
Verdict = Literal["met", "missing", "mismatched"]

T = TypeVar("T")


@dataclass(frozen=True)
class CheckedRequirement:
    """One requirement that was compared with what is installed.

    Every text field is as shown to a user: a ``${VAR}`` of the file stays as written, never
    its value, and credentials in a URL are ``user:***@``.

    Attributes:
        line: as written, comment removed, cut to 200 characters.
        source: where, e.g. ``"requirements.txt:3"``.
        name: the normalized distribution name.
        requirement: what pip is given (name, extras, specifier, no marker), with each
            ``${VAR}`` as written: ``install_missing`` gives pip the expanded value.
        installed: the installed version, or None.
        detail: one sentence for the user.
    """

    line: str
    source: str
    name: str
    requirement: str
    installed: str | None
    detail: str


@dataclass(frozen=True)
class UncheckedLine:
    """A line only pip can judge (URL, path, option, unparsable), or a file not read, and why.

    Attributes:
        line: as written (``${VAR}`` kept, URL credentials as ``***``), cut to 200
            characters; for a file not read, the ``-r`` line naming it, or its name.
        source: where, e.g. ``"requirements.txt:3"``.
        reason: why it was not checked, and what to do when something is to be done.
        unread: True when this stands for lines that were not read at all (a file too big,
            missing, not a requirements file, a limit reached): what they ask for is unknown.
    """

    line: str
    source: str
    reason: str
    unread: bool = False


@dataclass(frozen=True)
class RequirementsReport(Rendered):
    """What the project's requirement files ask for, and how this environment measures up.

    Nothing in it carries a secret: ``${VAR}`` is shown as written, URL credentials as ``***``.

    Attributes:
        project_dir: the folder that was read.
        files: every file read, includes (``-r``) among them, in reading order.
        met: requirements the installed versions satisfy.
        missing: requirements not installed (or whose extras' dependencies are not).
        mismatched: requirements installed at a version outside the specifier.
        not_needed: requirements whose marker is false here.
        not_checked: lines only pip can judge, each with the reason; never installed here.
            Files (or their rest) that were not read are among them, with ``unread`` set
            (see ``not_read``); at most 200 entries are listed, a last one counts the rest.
        pip_options: the files' index options (``--index-url``, ``--find-links``, ``--pre``...),
            passed on to pip; shown as written (``install_missing`` gives pip the values).
    """

    project_dir: Path
    files: tuple[Path, ...] = ()
    met: tuple[CheckedRequirement, ...] = ()
    missing: tuple[CheckedRequirement, ...] = ()
    mismatched: tuple[CheckedRequirement, ...] = ()
    not_needed: tuple[CheckedRequirement, ...] = ()
    not_checked: tuple[UncheckedLine, ...] = ()
    pip_options: tuple[str, ...] = field(default=())

    @property
    def unmet(self) -> tuple[CheckedRequirement, ...]:
        """The requirements pip has to install: missing ones, then mismatched ones."""
        return self.missing + self.mismatched

    @property
    def not_read(self) -> tuple[UncheckedLine, ...]:
        """The entries of ``not_checked`` that stand for files (or lines) not read at all."""
        return tuple(item for item in self.not_checked if item.unread)

    @property
    def complete(self) -> bool:
        """True when every file the requirements name was read (nothing in ``not_read``)."""
        return not self.not_read

    @property
    def ok(self) -> bool:
        """True when nothing checked is unmet and every file was read.

        Lines only pip can judge (URLs, ``-e``...) do not count; a file that was not read
        does: what it asks for is unknown, so the report cannot say all is well.
        """
        return not self.unmet and self.complete

    @property
    def pip_args(self) -> tuple[str, ...] | None:
        """``("install", ...)`` for the unmet requirements, or None when none is unmet.

        As shown: ``${VAR}`` as written and URL credentials as ``***`` (pip is given the
        expanded values by ``install_missing``, never through this).
        """
        if not self.unmet:
            return None
        wanted = dict.fromkeys(item.requirement for item in self.unmet)
        return ("install", *self.pip_options, *wanted)

    @property
    def pip_command(self) -> str | None:
        """The single ``pip install ...`` line that installs the unmet requirements, or None.

        Quoted for a shell; an argument holding ``${VAR}`` is double-quoted so that the shell
        expands it (from the notebook's environment) and nothing else. A password written into
        the file itself shows as ``***``: put it in a variable (``${TOKEN}``) to have a line
        that runs as shown.
        """
        args = self.pip_args
        return None if args is None else "pip " + " ".join(_shell_word(a) for a in args)

    def _title(self) -> str:
        if not self.files and not self.not_read:
            return f"colab_bootstrap: no {' or '.join(REQUIREMENTS_FILES)} in {self.project_dir}"
        where = ", ".join(_display(f, self.project_dir) for f in self.files) or "nothing read"
        checked = len(self.met) + len(self.unmet)
        unread = len(self.not_read)
        incomplete = f"; incomplete: {unread} not read" if unread else ""
        if self.unmet:
            return (
                f"colab_bootstrap: {len(self.unmet)} of {checked} requirements unmet "
                f"({where}){incomplete}"
            )
        if unread:
            return f"colab_bootstrap: {checked} requirements met ({where}){incomplete}"
        return f"colab_bootstrap: all {checked} requirements met ({where})"

    def _rows(self) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        for label, items in (
            ("missing", self.missing),
            ("mismatched", self.mismatched),
            ("met", self.met),
            ("not needed", self.not_needed),
        ):
            rows.extend((label, f"{item.line}  ({item.source}): {item.detail}") for item in items)
        rows.extend(
            (
                "not read" if item.unread else "not checked",
                f"{item.line}  ({item.source}): {item.reason}",
            )
            for item in self.not_checked
        )
        if self.pip_command:
            rows.append(("fix", f"!{self.pip_command}"))
        return rows


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


# --- what is shown: secrets masked, lines cut ---------------------------------------------------


def _conceal(text: str, hidden: Sequence[tuple[str, str]]) -> str:
    """``text`` with each hidden value (longest first) replaced by what is shown instead.

    Split and joined rather than replaced one after the other, so that a shorter value is never
    looked for inside what a longer one became (``${NAME}``).
    """
    if not hidden or not text:
        return text
    (value, shown), rest = hidden[0], hidden[1:]
    return shown.join(_conceal(part, rest) for part in text.split(value))


def _shell_word(arg: str) -> str:
    """``arg`` quoted for a POSIX shell; its ``${VAR}`` references left for the shell to expand."""
    if not _ENV_VAR.search(arg):
        return shlex.quote(arg)
    parts: list[str] = []
    done = 0
    for match in _ENV_VAR.finditer(arg):
        parts += [_double_quoted(arg[done : match.start()]), match.group(0)]
        done = match.end()
    parts.append(_double_quoted(arg[done:]))
    return '"' + "".join(parts) + '"'


def _double_quoted(text: str) -> str:
    return "".join("\\" + char if char in '\\"$`' else char for char in text)


@dataclass(frozen=True)
class _Line:
    """One logical line: what pip reads (expanded) and how a report shows it."""

    text: str  # ${VAR} expanded: what pip reads, never shown
    shown: str  # as written, URL credentials masked, cut to _SHOWN_LIMIT
    source: str
    # (value, what shows instead) longest first: a ${VAR}'s value and its ${VAR}, a URL's secret
    # and ***; for texts made from ``text`` (a path, an error message)
    hidden: tuple[tuple[str, str], ...] = ()

    def conceal(self, text: str) -> str:
        """A text made from ``self.text`` as it may be shown: values back to ``${VAR}``."""
        return credentials(_conceal(text, self.hidden))

    def reason(self, text: str) -> str:
        """A reason quoting this line (an error message, say), safe and short to show."""
        return clip(self.conceal(text), 2 * _SHOWN_LIMIT)


# --- reading the files ------------------------------------------------------------------------


@dataclass
class _Reading:
    """The state of one ``requirements_report`` run: what was found so far."""

    base: Path
    files: list[Path] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    requirements: list[tuple[Requirement, _Line]] = field(default_factory=list)
    not_needed: list[tuple[Requirement, _Line]] = field(default_factory=list)
    not_checked: list[UncheckedLine] = field(default_factory=list)
    unlisted: int = 0
    unlisted_unread: bool = False
    pip_options: list[str] = field(default_factory=list)  # as shown
    pip_arguments: list[str] = field(default_factory=list)  # expanded: pip's argv only
    secrets: dict[str, str] = field(default_factory=dict)  # text in pip's output -> shown
    bytes_read: int = 0
    lines_read: int = 0
    stopped: bool = False  # the line limit was reached: nothing more is read

    def note(self, entry: UncheckedLine) -> None:
        """List ``entry`` among the not-checked lines, or count it once the list is full."""
        if len(self.not_checked) < _LISTED_LIMIT:
            self.not_checked.append(entry)
        else:
            self.unlisted += 1
            self.unlisted_unread = self.unlisted_unread or entry.unread

    def unlisted_entry(self) -> list[UncheckedLine]:
        if not self.unlisted:
            return []
        what = "lines not checked" + (", files not read among them" if self.unlisted_unread else "")
        return [
            UncheckedLine(
                f"... and {self.unlisted} more",
                "requirement files",
                f"{self.unlisted} more {what}: not listed here (only {_LISTED_LIMIT} are)",
                unread=self.unlisted_unread,
            )
        ]

    def take_line(self, where: str, shown: str) -> bool:
        """Count one more line; False (and reported once) when the line limit is reached."""
        if self.stopped:
            return False
        self.lines_read += 1
        if self.lines_read <= _LINE_LIMIT:
            return True
        self.stopped = True
        self.note(
            UncheckedLine(
                shown,
                where,
                f"not read from here on: the requirement files hold more than {_LINE_LIMIT} "
                "lines in all (a project's hold tens); split off what is not a requirement",
                unread=True,
            )
        )
        return False


class _FileLines:
    """The not-checked lines of one file, held back until the file shows it is a requirements file.

    A file none of whose lines pip could use (``/etc/passwd``, a notebook, a log) is reported as
    one entry, "not a requirements file", rather than line by line.
    """

    def __init__(self, reading: _Reading) -> None:
        self.reading = reading
        self.pending: list[UncheckedLine] | None = []  # None once the file is known to be one

    def skip(self, line: _Line, reason: str, *, understood: bool = True) -> None:
        """Report ``line`` as not checked; ``understood``: pip could use it (an option, a URL)."""
        if understood:
            self.understood()
        entry = UncheckedLine(line.shown, line.source, reason)
        if self.pending is None:
            self.reading.note(entry)
        else:
            self.pending.append(entry)

    def understood(self) -> None:
        """A line pip can use was seen: this is a requirements file; list what was held back."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            for entry in pending:
                self.reading.note(entry)

    def close(self, line: str, source: str) -> bool:
        """The file is read: list the held-back lines, or report it as no requirements file.

        Returns:
            True when it is a requirements file, False when it was reported as none.
        """
        pending = self.pending or []
        if len(pending) > 1:
            self.reading.note(
                UncheckedLine(
                    line,
                    source,
                    f"not a requirements file: none of its {len(pending)} lines is a requirement "
                    "or a pip option; not read (name the right file)",
                    unread=True,
                )
            )
            return False
        self.understood()
        return True


def _strip_comment(line: str) -> str:
    r"""``line`` without its comment: from a '#' at the start or after whitespace (pip's rule).

    pip's own pattern, ``(^|\s+)#.*$``, backtracks over every run of spaces before a character
    that is not '#' (quadratic); this looks at each '#' once.
    """
    index = line.find("#")
    while index > 0 and not line[index - 1].isspace():
        index = line.find("#", index + 1)
    return line if index < 0 else line[:index]


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    r"""Join ``\\`` continuations and drop comments; yield (first line number, line as written)."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        comment = raw.lstrip().startswith("#")
        if raw.endswith("\\") and not comment:
            pending.append(raw.strip("\\"))  # pip strips every backslash at either end
            continue
        pending.append(" " + raw if comment else raw)  # a comment stays one when joined
        line = _strip_comment("".join(pending)).strip()
        pending = []
        if line:
            yield start, line
    last = _strip_comment("".join(pending)).strip()
    if last:
        yield start, last


def _expand(written: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Expand ``${VAR}`` as pip does; with (value, ``${VAR}``) for each value used, longest first.

    Only set variables are expanded; pip leaves an unset one as written.
    """
    used: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            return match.group(0)
        if found:
            used[found] = match.group(0)
        return found

    expanded = _ENV_VAR.sub(value, written) if "${" in written else written
    return expanded, tuple(sorted(used.items(), key=lambda pair: -len(pair[0])))


def _line(written: str, source: str, reading: _Reading, *, expand: bool = True) -> _Line:
    """The logical line ``written`` at ``source``; its secrets noted to mask in pip's output."""
    text, values = _expand(written) if expand else (written, ())
    # a text made from the line (a path, an error) may quote a secret outside any URL
    hidden = dict(values)
    for secret in url_secrets([text]):
        hidden.setdefault(secret, MASK)  # a ${VAR}'s value stays shown as ${VAR}
    for secret, shown in hidden.items():
        if len(secret) >= 4:  # shorter ones are no secrets, and would garble pip's output
            reading.secrets[secret] = shown
    pairs = tuple(sorted(hidden.items(), key=lambda pair: -len(pair[0])))
    return _Line(text, clip(written, _SHOWN_LIMIT), source, pairs)


def _split_option(line: str) -> tuple[str, str]:
    """``-r x``, ``-rx``, ``--requirement x``, ``--requirement=x`` -> (long name, value)."""
    if line.startswith("--"):
        rest = line[2:].lstrip(_OPTION_NAME_CHARS)
        name = line[: len(line) - len(rest)]
        if name == "--":
            return line, ""
        value = rest.strip()
        return name, (value[1:].strip() if value.startswith("=") else value)
    short, value = line[:2], line[2:].strip()
    return _SHORT_OPTIONS.get(short, short), value.lstrip("=").strip()


def _decode(data: bytes) -> str:
    """The text of a requirements file: UTF-8 (a BOM allowed), or UTF-16/32 with a BOM, as pip.

    Raises:
        UnicodeDecodeError: it is not text in one of those.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    return data.decode("utf-8")


def _mib(size: int) -> str:
    return f"{size / (1 << 20):g} MiB"


def _load(path: Path, reading: _Reading) -> tuple[str | None, str]:
    """The text of the file at ``path`` (None and why not when it cannot or must not be read).

    The reason is "not found" when nothing is there.
    """
    if len(reading.files) >= _FILE_COUNT_LIMIT:
        if not os.path.lexists(path):
            return None, "not found"
        return None, (
            f"not read: the requirements already span {_FILE_COUNT_LIMIT} files (the limit); "
            "merge the includes"
        )
    budget = min(_FILE_LIMIT, _TOTAL_LIMIT - reading.bytes_read)
    data, problem = _read_capped(path, budget)
    if data is None:
        return None, problem
    reading.bytes_read += len(data)
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        return None, (
            f"could not be read: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save it as UTF-8"
        )
    if "\x00" in text:
        return None, "not a requirements file: it holds NUL bytes (a binary file?); not read"
    return text, ""


def _read_capped(path: Path, budget: int) -> tuple[bytes | None, str]:
    """The bytes of the regular file at ``path`` when it has at most ``budget``, else why not."""
    try:
        data = read_within(path, budget)
    except (FileNotFoundError, NotADirectoryError):
        return None, "not found"
    except IsADirectoryError:
        return None, "could not be read: it is a folder, not a file"
    except OSError as exc:  # a FIFO or a device is refused here, without waiting
        return None, f"could not be read: {exc.strerror or exc}"
    except ValueError as exc:  # a NUL character in the path, or one the file system cannot encode
        return None, f"could not be read: its path cannot be opened ({exc})"
    if data is not None:
        return data, ""
    full = (
        f"the requirement files read before it fill {_mib(_TOTAL_LIMIT)} (the limit); a "
        "requirements file holds kilobytes: check what the -r lines name"
        if budget < _FILE_LIMIT
        else f"it is larger than {_mib(_FILE_LIMIT)} (the limit); a requirements file holds "
        "kilobytes: check that it is the file you meant"
    )
    return None, f"not read: {full}"


def _real(path: Path) -> str:
    """A key for "the same file" (symbolic links followed as far as they go; never raises)."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return os.path.normpath(path)


def _read_requirements_txt(
    reading: _Reading, stack: tuple[Path, ...], include: _Line | None = None
) -> None:
    """Read one requirements file: ``stack[-1]``, named by the ``include`` line of the rest."""
    path = stack[-1]
    source_name = _display(path, reading.base)
    line, source = (include.shown, include.source) if include else (source_name, source_name)
    text, problem = _load(path, reading)
    if text is None:
        if problem == "not found":
            if include is None:
                return  # no requirements.txt: nothing to read
            problem = f"included file not found: {path}"
        why = include.reason(problem) if include else clip(problem, 2 * _SHOWN_LIMIT)
        reading.note(UncheckedLine(line, source, why, unread=True))
        return
    reading.files.append(path)
    reading.seen.add(_real(path))
    lines = _FileLines(reading)
    for number, written in _logical_lines(text):
        where = f"{source_name}:{number}"
        if not reading.take_line(where, clip(written, _SHOWN_LIMIT)):
            break
        logical = _line(written, where, reading)
        if logical.text.startswith("-"):
            _option_line(logical, reading, stack, lines)
        else:
            _requirement_line(logical, reading, lines)
    if not lines.close(line, source):
        reading.files.remove(path)  # none of it was used: not among the files read


def _option_line(
    line: _Line, reading: _Reading, stack: tuple[Path, ...], lines: _FileLines
) -> None:
    name, value = _split_option(line.text)
    if name == "--requirement" and value:
        lines.understood()
        _include(value, line, reading, stack)
    elif name == "--constraint":
        lines.skip(line, "constraints file: it only limits the versions pip picks")
    elif name == "--editable":
        lines.skip(line, "editable install: only pip can tell whether it is current")
    elif name in _PASSED_WITH_VALUE and value:
        argument = value
        if name == "--find-links" and not _URL.match(value):
            beside = os.path.join(stack[-1].parent, value)
            if os.path.exists(beside):
                argument = beside
        reading.pip_arguments.extend((name, argument))
        reading.pip_options.extend((name, line.conceal(argument)))
        lines.skip(line, "pip option: passed on to pip install")
    elif name in _PASSED_FLAGS and not value:
        reading.pip_arguments.append(name)
        reading.pip_options.append(name)
        lines.skip(line, "pip option: passed on to pip install")
    else:
        known = name in _OTHER_PIP_OPTIONS or name in _PASSED_WITH_VALUE or name in _PASSED_FLAGS
        lines.skip(line, "pip option this check does not judge", understood=known)


def _include(value: str, line: _Line, reading: _Reading, stack: tuple[Path, ...]) -> None:
    """Read the file ``-r value`` names, unless it is a URL, or already being read."""
    if _URL.match(value):
        why = "include from a URL: not fetched by this check, so its requirements are unknown"
        reading.note(UncheckedLine(line.shown, line.source, why, unread=True))
        return
    target = Path(os.path.normpath(stack[-1].parent / os.path.expanduser(value)))
    real = _real(target)
    if real in {_real(p) for p in stack}:
        chain = " -> ".join(p.name for p in (*stack, target))
        why = line.reason(f"include cycle ({chain}): not read a second time")
        reading.note(UncheckedLine(line.shown, line.source, why))
        return
    if real in reading.seen:
        return  # included twice (not a cycle): its requirements are already counted
    if len(stack) > _DEPTH_LIMIT:
        why = (
            f"not read: included more than {_DEPTH_LIMIT} levels deep (the limit); "
            "include the files from fewer levels"
        )
        reading.note(UncheckedLine(line.shown, line.source, why, unread=True))
        return
    _read_requirements_txt(reading, (*stack, target), line)


def _looks_like_location(line: str) -> bool:
    first = line.split(";", 1)[0].strip()
    return bool(
        _URL.match(first)
        or first.startswith((".", "/", "~"))
        or first.lower().endswith(_ARCHIVE)
        or "\\" in first
    )


def _parse(text: str) -> Requirement | str:
    """The requirement ``text`` states, or why packaging cannot read it."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - heavy

    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        return (str(exc).strip().splitlines() or ["invalid"])[0]
    except RecursionError:  # older packaging parses nested markers recursively
        return "its marker is nested too deeply"


def _requirement_line(line: _Line, reading: _Reading, lines: _FileLines) -> None:
    location = "a URL or local path: only pip can tell what it installs"
    text = line.text
    tokens = text.split()
    options = [index for index, token in enumerate(tokens) if index and token.startswith("-")]
    if options:
        head = " ".join(tokens[: options[0]])
        usable = _looks_like_location(head) or not isinstance(_parse(head), str)
        lines.skip(
            line, "per-requirement pip options (--hash, ...): left to pip", understood=usable
        )
        return
    requirement = _parse(text)
    if isinstance(requirement, str):
        if _looks_like_location(text):
            lines.skip(line, location)
        else:
            why = f"not a requirement packaging understands: {requirement}"
            lines.skip(line, line.reason(why), understood=False)
        return
    lines.understood()
    if not requirement.url and _looks_like_location(text):
        lines.skip(line, location)  # "wheels/x.whl" parses as a name, but is a file
        return
    if requirement.marker is not None:
        try:
            applies = requirement.marker.evaluate({"extra": ""})
        except (ValueError, RecursionError) as exc:
            lines.skip(line, line.reason(f"its marker cannot be evaluated here: {exc}"))
            return
        if not applies:
            reading.not_needed.append((requirement, line))
            return
    if requirement.url:
        lines.skip(line, "a direct URL reference: only pip can tell what it installs")
        return
    reading.requirements.append((requirement, line))


def _toml_too_deep(text: str) -> bool:
    """Whether a dotted key of ``text`` has more than ``_TOML_DOTS_LIMIT`` parts.

    tomllib spends time and memory quadratic in that depth (``a.a.a...`` over 16 kB takes
    hundreds of MB), so such a file is not given to it. Dots are counted outside strings and
    comments, between the characters that end a key or a value; a float or a time has one or two.
    """
    if text.count(".") <= _TOML_DOTS_LIMIT:
        return False
    dots = 0
    index = 0
    while True:
        mark = _TOML_MARK.search(text, index)
        if mark is None:
            return False
        char, index = mark.group(), mark.end()
        if char in "\"'":
            index = _toml_string_end(text, mark.start())
        elif char == "#":
            newline = text.find("\n", index)
            if newline < 0:
                return False
            index = newline  # the comment ends there; the newline ends the key too
        elif char != ".":
            dots = 0
        elif (dots := dots + 1) > _TOML_DOTS_LIMIT:
            return True


def _toml_string_end(text: str, start: int) -> int:
    """Where the TOML string opening at ``start`` ends (the line's end if it does not)."""
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    index = start + len(delimiter)
    while True:
        end = text.find(delimiter, index)
        if len(delimiter) == 1:
            newline = text.find("\n", index, len(text) if end < 0 else end)
            if newline >= 0:
                return newline  # a one-line string left open: tomllib will say so
        if end < 0:
            return len(text)
        escapes = end - index - len(text[index:end].rstrip("\\"))
        if quote == "'" or escapes % 2 == 0:
            return end + len(delimiter)
        index = end + 1  # an escaped quote


def _pyproject_table(path: Path, reading: _Reading) -> dict[str, object] | None:
    """The ``[project]`` table of the pyproject.toml at ``path`` (None, reported, if unread)."""
    import tomllib  # noqa: PLC0415 - only 3.11+ has it (the caller checks)

    source = _display(path, reading.base)
    text, problem = _load(path, reading)
    if text is None:
        if problem != "not found":
            reading.note(UncheckedLine(source, source, problem, unread=True))
        return None
    if _toml_too_deep(text):
        why = (
            f"a dotted key of more than {_TOML_DOTS_LIMIT} parts (no project's metadata has "
            "one); not read"
        )
    else:
        try:
            project = tomllib.loads(text).get("project")
        except tomllib.TOMLDecodeError as exc:
            why = str(exc)
        except RecursionError:
            why = "arrays or tables nested too deeply; not read"
        else:
            return project if isinstance(project, dict) else None  # None: for tools only
    why = clip(f"could not be read as TOML: {why}", 2 * _SHOWN_LIMIT)
    reading.note(UncheckedLine(source, source, why, unread=True))
    return None


def _read_pyproject(path: Path, reading: _Reading) -> None:
    source = _display(path, reading.base)
    if sys.version_info < (3, 11):  # pragma: no cover - measured on 3.11+; tested on 3.9/3.10
        if os.path.lexists(path):
            reading.note(
                UncheckedLine(
                    "[project] dependencies",
                    source,
                    f"Python {sys.version_info[0]}.{sys.version_info[1]} has no tomllib (3.11+) "
                    "to read pyproject.toml; list these requirements in requirements.txt to have "
                    "them checked",
                )
            )
        return
    if reading.stopped:
        why = "not read: the requirement files already hold too many lines"
        if os.path.lexists(path):
            reading.note(UncheckedLine(source, source, why, unread=True))
        return
    project = _pyproject_table(path, reading)
    if project is None:
        return
    reading.files.append(path)
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and "dependencies" in dynamic:
        why = "the build backend computes the dependencies: only pip can tell"
        reading.note(UncheckedLine("[project] dynamic = ['dependencies']", source, why))
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        why = "not a list of strings, as PEP 621 asks for"
        reading.note(UncheckedLine("[project] dependencies", source, why))
        return
    lines = _FileLines(reading)
    lines.understood()  # valid TOML with a [project] table: its entries are listed one by one
    for index, dependency in enumerate(dependencies, start=1):
        where = f"{source} dependencies[{index}]"
        if not reading.take_line(where, clip(dependency.strip(), _SHOWN_LIMIT)):
            return
        # pip expands no ${VAR} in pyproject.toml: the text is what pip reads
        _requirement_line(_line(dependency.strip(), where, reading, expand=False), reading, lines)


# --- what is installed --------------------------------------------------------------------------


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name  # noqa: PLC0415 - heavy import, keep it lazy

    return str(canonicalize_name(name))


def _quietly(read: Callable[[], T], default: T) -> T:
    """``read()``, or ``default`` when installed metadata cannot be read (broken, not UTF-8...)."""
    try:
        return read()
    except (OSError, ValueError):
        return default


def find_distributions(
    names: Iterable[str],
    path: Sequence[str] | None = None,
    *,
    read: list[str | None] | None = None,
) -> dict[str, importlib.metadata.Distribution]:
    """The installed distribution of each name (normalized), the first one on ``path``.

    Looks at ``*.dist-info`` and ``*.egg-info`` entries by their file names first and reads
    the metadata of only those that match; names it cannot find that way are looked for by
    reading the metadata of every distribution on ``path``. Names not installed are absent, and
    so are distributions whose metadata cannot be read; entries of ``path`` that are no folder
    (or no text) are passed over, as imports pass them over.

    Args:
        names: the distribution names, in any spelling pip accepts.
        path: the folders to look in; default ``sys.path``.
        read: given, every path the answer depends on is appended to it: each entry of
            ``path`` (its listing), each metadata folder looked at and the files in it that are
            read (``_METADATA_FILES``). A None appended: the metadata of every distribution on
            ``path`` was read, too much to list.
    """
    wanted = {_canonical(name) for name in names}
    given: list[object] = list(sys.path if path is None else path)
    entries = [entry for entry in given if isinstance(entry, str)]  # imports skip the others
    found: dict[str, importlib.metadata.Distribution] = {}
    looked_at: list[str | None] = [] if read is None else read
    for entry in entries:
        _find_by_file_name(entry or ".", wanted, found, looked_at)
    if wanted - found.keys():
        looked_at.append(None)
        readable = [entry for entry in entries if "\x00" not in entry]
        unreadable: list[importlib.metadata.Distribution] = []
        everything = _quietly(
            lambda: list(importlib.metadata.distributions(path=readable)), unreadable
        )
        for dist in everything:
            name = _dist_name(dist)
            if name in wanted and name not in found:
                found[name] = dist
    return found


def _find_by_file_name(
    folder: str,
    wanted: set[str],
    found: dict[str, importlib.metadata.Distribution],
    read: list[str | None],
) -> None:
    """Add to ``found`` the wanted distributions in ``folder`` named so by their metadata."""
    read.append(folder)
    try:
        with os.scandir(folder) as listing:
            candidates = [item.name for item in listing]
    except (OSError, ValueError):
        return  # a zip file, a missing folder, a NUL in the name
    for file_name in sorted(candidates):
        stem, _, suffix = file_name.rpartition(".")
        if suffix not in ("dist-info", "egg-info"):
            continue
        guess = _canonical(stem.split("-", 1)[0])
        if guess in wanted and guess not in found:
            where = os.path.join(folder, file_name)
            read += [where, *(os.path.join(where, name) for name in _METADATA_FILES)]
            candidate = importlib.metadata.Distribution.at(where)
            if _dist_name(candidate) == guess:
                found[guess] = candidate


#: The files of a metadata folder read for a name, a version or an install origin: the metadata
#: (``METADATA`` in a ``.dist-info``, ``PKG-INFO`` in an ``.egg-info``) and pip's record of
#: where it installed from (``direct_url.json``, PEP 610).
_METADATA_FILES = ("METADATA", "PKG-INFO", "direct_url.json")


def _dist_name(dist: importlib.metadata.Distribution) -> str | None:
    """The normalized name of a distribution, from the headers of its metadata only."""
    return _quietly(lambda: _read_dist_name(dist), None)


def _read_dist_name(dist: importlib.metadata.Distribution) -> str | None:
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    if text is not None:  # reading the headers is much cheaper than parsing the whole message
        for header in text.splitlines():
            if not header.strip():
                break  # the headers end at the first empty line; the description follows
            key, colon, value = header.partition(":")
            if colon and key.strip().lower() == "name" and value.strip():
                return _canonical(value.strip())
    metadata = dist.metadata  # an .egg-info file rather than a folder, say
    if not metadata or "Name" not in metadata:  # a broken install: no METADATA, no Name in it
        return None
    return _canonical(metadata["Name"])


def dist_version(dist: importlib.metadata.Distribution) -> str | None:
    """The version in a distribution's metadata, or None when its metadata has none."""

    def read() -> str | None:
        metadata = dist.metadata
        return metadata["Version"] if metadata and "Version" in metadata else None

    return _quietly(read, None)


def _pip_requirement(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def _extra_problems(
    requirement: Requirement,
    dist: importlib.metadata.Distribution,
    installed: dict[str, importlib.metadata.Distribution],
    show: Callable[[str], str],
) -> list[str]:
    """What the requirement's extras need and is not installed (one level deep)."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - heavy

    provided = {
        _canonical(e) for e in _quietly(lambda: dist.metadata.get_all("Provides-Extra"), None) or []
    }
    requires = _quietly(lambda: dist.requires, None) or []
    problems: list[str] = []
    for extra in sorted(requirement.extras):
        if _canonical(extra) not in provided:
            problems.append(
                f"{show(requirement.name)} has no extra [{show(extra)}] (pip ignores it)"
            )
            continue
        for text in requires:
            try:
                needed = Requirement(text)
                if needed.marker is None or not any(
                    needed.marker.evaluate({"extra": e}) for e in {extra, _canonical(extra)}
                ):
                    continue
            except (InvalidRequirement, ValueError, RecursionError):
                continue  # a broken dependency line of someone else's package
            problem = _unmet(needed, installed.get(_canonical(needed.name)))
            if problem:
                problems.append(f"its extra [{show(extra)}] needs {needed.name} ({problem})")
    return problems


def _unmet(
    requirement: Requirement,
    dist: importlib.metadata.Distribution | None,
    show: Callable[[str], str] = str,
) -> str:
    """'' when the installed distribution satisfies the requirement, else what is wrong."""
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415 - heavy import

    if dist is None:
        return "not installed"
    if not requirement.specifier:
        return ""  # any version will do, even one that is not PEP 440
    version = dist_version(dist)
    try:
        ok = requirement.specifier.contains(Version(version or ""), prereleases=True)
    except InvalidVersion:
        return f"installed version {version!r} is not a PEP 440 version"
    return "" if ok else f"{version} installed, {show(str(requirement.specifier))} required"


def _wanted_names(reading: _Reading, path: Sequence[str] | None) -> set[str]:
    """Every name whose installed version matters, extras' dependencies included."""
    names = {_canonical(r.name) for r, _ in reading.requirements}
    with_extras = [r for r, _ in reading.requirements if r.extras]
    if with_extras:
        for dist in find_distributions({r.name for r in with_extras}, path).values():
            requires = _quietly(lambda dist=dist: dist.requires, None) or []  # type: ignore[misc]
            names.update(filter(None, map(_requirement_name, requires)))
    return names


def _requirement_name(text: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - heavy

    try:
        return _canonical(Requirement(text).name)
    except (InvalidRequirement, RecursionError):
        return None


def _checked(
    requirement: Requirement, line: _Line, installed: str | None, detail: str
) -> CheckedRequirement:
    return CheckedRequirement(
        line=line.shown,
        source=line.source,
        name=line.conceal(_canonical(requirement.name)),
        requirement=line.conceal(_pip_requirement(requirement)),
        installed=installed,
        detail=clip(detail, 2 * _SHOWN_LIMIT),
    )


def _check(
    requirement: Requirement,
    line: _Line,
    installed: dict[str, importlib.metadata.Distribution],
) -> tuple[Verdict, CheckedRequirement]:
    """Sort one requirement into "met", "missing" or "mismatched", with the detail to show."""
    dist = installed.get(_canonical(requirement.name))
    if dist is None:
        return "missing", _checked(requirement, line, None, "not installed")
    version = dist_version(dist)
    problem = _unmet(requirement, dist, line.conceal)
    if problem:
        return "mismatched", _checked(requirement, line, version, problem)
    extras = _extra_problems(requirement, dist, installed, line.conceal)
    if any("pip ignores it" not in p for p in extras):
        return "missing", _checked(requirement, line, version, "; ".join(extras))
    detail = "; ".join([f"{version} installed", *extras])
    return "met", _checked(requirement, line, version, detail)


@dataclass(frozen=True)
class _Plan:
    """What ``install_missing`` gives pip: the expanded values no report shows."""

    arguments: tuple[str, ...] = ()  # after "install": index options, then unmet requirements
    replaced: tuple[str, ...] = ()  # the normalized names of the mismatched distributions
    secrets: tuple[tuple[str, str], ...] = ()  # (text in pip's output, what to show), longest first


def _assess(
    project_dir: str | os.PathLike[str], path: Sequence[str] | None
) -> tuple[RequirementsReport, _Plan]:
    """The report, and the plan that gives pip the real values of what the report shows."""
    base = Path(project_dir)
    reading = _Reading(base)
    _read_requirements_txt(reading, (base / REQUIREMENTS_FILES[0],))
    _read_pyproject(base / REQUIREMENTS_FILES[1], reading)

    installed = find_distributions(_wanted_names(reading, path), path) if reading.files else {}
    sorted_out: dict[Verdict, list[tuple[CheckedRequirement, Requirement]]] = {
        "met": [],
        "missing": [],
        "mismatched": [],
    }
    for requirement, line in reading.requirements:
        kind, checked = _check(requirement, line, installed)
        sorted_out[kind].append((checked, requirement))
    unmet = sorted_out["missing"] + sorted_out["mismatched"]
    report = RequirementsReport(
        project_dir=base,
        files=tuple(reading.files),
        met=tuple(checked for checked, _ in sorted_out["met"]),
        missing=tuple(checked for checked, _ in sorted_out["missing"]),
        mismatched=tuple(checked for checked, _ in sorted_out["mismatched"]),
        not_needed=tuple(
            _checked(r, line, None, "its marker is false for this Python")
            for r, line in reading.not_needed
        ),
        not_checked=(*reading.not_checked, *reading.unlisted_entry()),
        pip_options=tuple(reading.pip_options),
    )
    plan = _Plan(
        arguments=(
            *reading.pip_arguments,
            *dict.fromkeys(_pip_requirement(requirement) for _, requirement in unmet),
        ),
        replaced=tuple(_canonical(r.name) for _, r in sorted_out["mismatched"]),
        secrets=tuple(sorted(reading.secrets.items(), key=lambda pair: -len(pair[0]))),
    )
    return report, plan


def requirements_report(
    project_dir: str | os.PathLike[str], *, path: Sequence[str] | None = None
) -> RequirementsReport:
    """Read the project's requirement files and compare them with what is installed.

    Args:
        project_dir: the project folder holding ``requirements.txt`` and/or ``pyproject.toml``.
        path: where installed distributions are looked for; default ``sys.path``.

    Returns:
        A ``RequirementsReport``; never raises for a bad line or file (those are reported as
        not checked, with the reason), nor for a file that must not or cannot be read (too big,
        a FIFO, binary, missing: reported as not read, and the report is then not ``ok``).
    """
    return _assess(project_dir, path)[0]


def _tail(text: str, lines: int = 20) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _said(text: str, plan: _Plan) -> str:
    """The text of pip's output a message quotes: secrets the files hold masked, lines cut."""
    shown = credentials(_conceal(_tail(text), plan.secrets))
    return "\n".join(clip(line, 2 * _SHOWN_LIMIT) for line in shown.splitlines())


def install_missing(
    project_dir: str | os.PathLike[str], *, path: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Install the project's unmet requirements with this interpreter's pip.

    Starts no process when every checked requirement is met. Runs
    ``[sys.executable, "-m", "pip", "install", ...]`` (an argument list, never a shell); only
    that process is given the values of the files' ``${VAR}`` and the credentials they hold.

    Returns:
        The requirements given to pip as shown (``("numpy>=1.26", "rich")``), or ``()``.

    Warns:
        ColabBootstrapWarning: pip replaced a distribution whose modules this process had
            already imported (the old code stays loaded until the runtime restarts); or a file
            the requirements name was not read (its requirements were neither checked nor
            installed).

    Raises:
        RequirementsError: pip failed, or could not be started; the message keeps pip's own
            error text (credentials masked) and the fix.
    """
    report, plan = _assess(project_dir, path)
    if not report.complete:
        first = report.not_read[0]
        warnings.warn(
            f"{len(report.not_read)} of the requirement files of {report.project_dir} "
            f"{'was' if len(report.not_read) == 1 else 'were'} not read, so what they ask for "
            f"was neither checked nor installed: {first.line} ({first.source}): {first.reason}",
            ColabBootstrapWarning,
            stacklevel=3,
        )
    args = report.pip_args
    if args is None:
        return ()
    wanted = tuple(dict.fromkeys(item.requirement for item in report.unmet))
    loaded = _loaded_modules(plan.replaced, path)
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    command += plan.arguments
    _log.info(__name__, "installing %s", " ".join(wanted))
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except (OSError, ValueError) as exc:
        raise RequirementsError(
            f"pip could not be started to install the requirements of {report.project_dir} "
            f"({', '.join(wanted)}): {type(exc).__name__}: {_said(str(exc), plan)}. Check that "
            f"this Python ({sys.executable}) runs, then {again()}."
        ) from None
    if completed.returncode != 0:
        said = _tail(completed.stderr) or _tail(completed.stdout)
        said = _said(said, plan) if said else "(no output)"
        files = ", ".join(_display(f, report.project_dir) for f in report.files)
        fix = (
            f"Fix the requirement in {files} (its name, its version, or the index it needs), "
            f"then {again()}."
        )
        if "No module named pip" in said:
            fix = (
                f"This Python ({sys.executable}) has no pip: run "
                f"!{shlex.quote(sys.executable)} -m ensurepip --upgrade, then {again()}."
            )
        raise RequirementsError(
            f"pip could not install the requirements of {report.project_dir} "
            f"({', '.join(wanted)}; exit status {completed.returncode}). pip said:\n"
            f"{said}\n{fix} To see pip's whole output, run: !{report.pip_command}"
        )
    importlib.invalidate_caches()
    if loaded:
        warnings.warn(
            f"{', '.join(loaded)} {'was' if len(loaded) == 1 else 'were'} imported before pip "
            "replaced it; this process keeps running the old version: restart the runtime "
            "(Runtime > Restart session), then re-run the notebook.",
            ColabBootstrapWarning,
            stacklevel=3,
        )
    return wanted


def _top_level_modules(dist: importlib.metadata.Distribution) -> set[str]:
    """The importable top-level names a distribution installed (top_level.txt, else RECORD)."""
    listed = _quietly(lambda: dist.read_text("top_level.txt"), None)
    if listed:
        return {name.strip() for name in listed.splitlines() if name.strip()}
    names: set[str] = set()
    for file in _quietly(lambda: dist.files, None) or []:
        top = file.parts[0]
        if len(file.parts) == 1 and top.endswith(".py"):
            names.add(top[: -len(".py")])
        elif len(file.parts) > 1 and top.isidentifier():
            names.add(top)  # a package folder (dist-info and .data folders are not identifiers)
    return names


def _loaded_modules(replaced: Iterable[str], path: Sequence[str] | None) -> list[str]:
    """Modules of distributions pip is about to replace that this process already imported."""
    dists = find_distributions(replaced, path)
    return sorted(
        name for dist in dists.values() for name in _top_level_modules(dist) if name in sys.modules
    )
