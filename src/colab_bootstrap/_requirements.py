"""The project's requirements: read them, compare them with what is installed, install the rest.

A Colab runtime starts fresh every day, so the packages a project needs are missing again;
``doctor()`` says which, and ``setup(install=True)`` installs exactly those. The files are read
with pip's own rules (comments, continuations, ``${VAR}``, ``-r`` includes, markers, extras);
every line only pip can judge (URLs, paths, ``-e``, options) is reported as not checked, with the
reason, and never guessed at. ``pyproject.toml`` is read with ``tomllib`` (Python 3.11+; Colab
runs 3.12+): on 3.9 and 3.10 its dependencies are reported as not checked rather than read by a
home-made TOML reader that could misread them. packaging is imported inside the functions.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from . import _log
from ._errors import ColabBootstrapWarning, RequirementsError
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

# pip's own rules for requirements files: a comment starts at '#' at the start of the line or
# after whitespace; only ${UPPER_CASE} variables are expanded.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
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

#: How a requirement compares with what is installed.
Verdict = Literal["met", "missing", "mismatched"]


@dataclass(frozen=True)
class CheckedRequirement:
    """One requirement that was compared with what is installed.

    Attributes:
        line: as written, comment removed.
        source: where, e.g. ``"requirements.txt:3"``.
        name: the normalized distribution name.
        requirement: what pip is given: name, extras, specifier, no marker.
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
    """A line only pip can judge (URL, path, option, unparsable), with the reason."""

    line: str
    source: str
    reason: str


@dataclass(frozen=True)
class RequirementsReport(Rendered):
    """What the project's requirement files ask for, and how this environment measures up.

    Attributes:
        project_dir: the folder that was read.
        files: every file read, includes (``-r``) among them, in reading order.
        met: requirements the installed versions satisfy.
        missing: requirements not installed (or whose extras' dependencies are not).
        mismatched: requirements installed at a version outside the specifier.
        not_needed: requirements whose marker is false here.
        not_checked: lines only pip can judge, each with the reason; never installed here.
        pip_options: the files' index options (``--index-url``, ``--find-links``, ``--pre``...),
            passed on to pip.
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
    def ok(self) -> bool:
        """True when nothing checked is missing or mismatched (not-checked lines aside)."""
        return not self.unmet

    @property
    def pip_args(self) -> tuple[str, ...] | None:
        """``("install", ...)`` for the unmet requirements, or None when none is unmet."""
        if not self.unmet:
            return None
        wanted = dict.fromkeys(item.requirement for item in self.unmet)
        return ("install", *self.pip_options, *wanted)

    @property
    def pip_command(self) -> str | None:
        """The single ``pip install ...`` line that installs the unmet requirements, or None."""
        args = self.pip_args
        return None if args is None else "pip " + " ".join(shlex.quote(a) for a in args)

    def _title(self) -> str:
        where = ", ".join(_display(f, self.project_dir) for f in self.files)
        if not self.files:
            return f"colab_bootstrap: no {' or '.join(REQUIREMENTS_FILES)} in {self.project_dir}"
        checked = len(self.met) + len(self.unmet)
        if self.unmet:
            return f"colab_bootstrap: {len(self.unmet)} of {checked} requirements unmet ({where})"
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
            ("not checked", f"{item.line}  ({item.source}): {item.reason}")
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


@dataclass
class _Reading:
    """The state of one ``requirements_report`` run: what was found so far."""

    base: Path
    files: list[Path] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)
    requirements: list[tuple[Requirement, str, str]] = field(default_factory=list)
    not_needed: list[tuple[Requirement, str, str]] = field(default_factory=list)
    not_checked: list[UncheckedLine] = field(default_factory=list)
    pip_options: list[str] = field(default_factory=list)

    def skip(self, line: str, source: str, reason: str) -> None:
        self.not_checked.append(UncheckedLine(line, source, reason))


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    r"""Join ``\\`` continuations, drop comments, expand ``${VAR}``; yield (first line no, text)."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        if raw.endswith("\\") and not _COMMENT.match(raw):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        joined = "".join(pending)
        pending = []
        line = _expand(_COMMENT.sub("", joined)).strip()
        if line:
            yield start, line
    last = _expand(_COMMENT.sub("", "".join(pending))).strip()
    if last:
        yield start, last


def _expand(line: str) -> str:
    return _ENV_VAR.sub(lambda match: os.environ.get(match.group(1), match.group(0)), line)


def _split_option(line: str) -> tuple[str, str]:
    """``-r x``, ``-rx``, ``--requirement x``, ``--requirement=x`` -> (long name, value)."""
    if line.startswith("--"):
        match = re.match(r"(--[A-Za-z0-9-]+)\s*=?\s*(.*)$", line)
        return (match.group(1), match.group(2).strip()) if match else (line, "")
    short, value = line[:2], line[2:].strip()
    return _SHORT_OPTIONS.get(short, short), value.lstrip("=").strip()


def _read_requirements_txt(reading: _Reading, stack: tuple[Path, ...]) -> None:
    """Read one requirements file: ``stack[-1]``, included by the files before it."""
    path = stack[-1]
    source_name = _display(path, reading.base)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reading.skip(source_name, source_name, f"could not be read: {exc}")
        return
    reading.files.append(path)
    reading.seen.add(path.resolve())
    for number, line in _logical_lines(text):
        source = f"{source_name}:{number}"
        if line.startswith("-"):
            _option_line(line, source, reading, stack)
        else:
            _requirement_line(line, source, reading)


def _option_line(line: str, source: str, reading: _Reading, stack: tuple[Path, ...]) -> None:
    name, value = _split_option(line)
    path = stack[-1]
    if name == "--requirement" and value:
        _include(value, (line, source), reading, stack)
    elif name == "--constraint":
        reading.skip(line, source, "constraints file: it only limits the versions pip picks")
    elif name == "--editable":
        reading.skip(line, source, "editable install: only pip can tell whether it is current")
    elif name in _PASSED_WITH_VALUE and value:
        if name == "--find-links" and not _URL.match(value):
            beside = path.parent / value
            value = str(beside) if beside.exists() else value
        reading.pip_options.extend((name, value))
        reading.skip(line, source, "pip option: passed on to pip install")
    elif name in _PASSED_FLAGS and not value:
        reading.pip_options.append(name)
        reading.skip(line, source, "pip option: passed on to pip install")
    else:
        reading.skip(line, source, "pip option this check does not judge")


def _include(
    value: str, where: tuple[str, str], reading: _Reading, stack: tuple[Path, ...]
) -> None:
    """Read the file ``-r value`` names, unless it is a URL, missing, or already being read."""
    line, source = where
    if _URL.match(value):
        reading.skip(line, source, "include from a URL: not fetched by this check")
        return
    target = Path(os.path.normpath(stack[-1].parent / os.path.expanduser(value)))
    resolved = target.resolve()
    if resolved in {p.resolve() for p in stack}:
        chain = " -> ".join(p.name for p in (*stack, target))
        reading.skip(line, source, f"include cycle ({chain}): not read a second time")
        return
    if resolved in reading.seen:
        return  # included twice (not a cycle): its requirements are already counted
    if not target.is_file():
        reading.skip(line, source, f"included file not found: {target}")
        return
    _read_requirements_txt(reading, (*stack, target))


def _looks_like_location(line: str) -> bool:
    first = line.split(";", 1)[0].strip()
    return bool(
        _URL.match(first)
        or first.startswith((".", "/", "~"))
        or first.lower().endswith(_ARCHIVE)
        or "\\" in first
    )


def _requirement_line(line: str, source: str, reading: _Reading) -> None:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - heavy

    location = "a URL or local path: only pip can tell what it installs"
    if any(token.startswith("-") for token in line.split()[1:]):
        reading.skip(line, source, "per-requirement pip options (--hash, ...): left to pip")
        return
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        why = f"not a requirement packaging understands: {str(exc).splitlines()[0]}"
        reading.skip(line, source, location if _looks_like_location(line) else why)
        return
    if not requirement.url and _looks_like_location(line):
        reading.skip(line, source, location)  # "wheels/x.whl" parses as a name, but is a file
        return
    if requirement.marker is not None:
        try:
            applies = requirement.marker.evaluate({"extra": ""})
        except ValueError as exc:
            reading.skip(line, source, f"its marker cannot be evaluated here: {exc}")
            return
        if not applies:
            reading.not_needed.append((requirement, line, source))
            return
    if requirement.url:
        reading.skip(line, source, "a direct URL reference: only pip can tell what it installs")
        return
    reading.requirements.append((requirement, line, source))


def _read_pyproject(path: Path, reading: _Reading) -> None:
    source = _display(path, reading.base)
    if sys.version_info < (3, 11):  # pragma: no cover - measured on 3.11+; tested on 3.9/3.10
        reading.skip(
            "[project] dependencies",
            source,
            f"Python {sys.version_info[0]}.{sys.version_info[1]} has no tomllib (3.11+) to read "
            "pyproject.toml; list these requirements in requirements.txt to have them checked",
        )
        return
    import tomllib  # noqa: PLC0415 - only 3.11+ has it

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reading.skip(source, source, f"could not be read as TOML: {exc}")
        return
    project = data.get("project")
    if not isinstance(project, dict):
        return  # a pyproject.toml for tools only: no requirements in it
    reading.files.append(path)
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and "dependencies" in dynamic:
        reading.skip(
            "[project] dynamic = ['dependencies']",
            source,
            "the build backend computes the dependencies: only pip can tell",
        )
    dependencies = project.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        reading.skip("[project] dependencies", source, "not a list of strings, as PEP 621 asks for")
        return
    for index, dependency in enumerate(dependencies, start=1):
        _requirement_line(dependency.strip(), f"{source} dependencies[{index}]", reading)


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name  # noqa: PLC0415 - heavy import, keep it lazy

    return str(canonicalize_name(name))


def find_distributions(
    names: Iterable[str], path: Sequence[str] | None = None
) -> dict[str, importlib.metadata.Distribution]:
    """The installed distribution of each name (normalized), the first one on ``path``.

    Looks at ``*.dist-info`` and ``*.egg-info`` entries by their file names first and reads
    the metadata of only those that match; names it cannot find that way are looked for by
    reading the metadata of every distribution on ``path``. Names not installed are absent.
    """
    wanted = {_canonical(name) for name in names}
    entries = list(sys.path if path is None else path)
    found: dict[str, importlib.metadata.Distribution] = {}
    for entry in entries:
        try:
            with os.scandir(entry or ".") as listing:
                candidates = [item.name for item in listing]
        except OSError:
            continue  # a zip file, a missing folder
        for file_name in sorted(candidates):
            stem, _, suffix = file_name.rpartition(".")
            if suffix not in ("dist-info", "egg-info"):
                continue
            guess = _canonical(stem.split("-", 1)[0])
            if guess in wanted and guess not in found:
                candidate = importlib.metadata.Distribution.at(
                    os.path.join(entry or ".", file_name)
                )
                if _dist_name(candidate) == guess:
                    found[guess] = candidate
    if wanted - found.keys():
        for dist in importlib.metadata.distributions(path=entries):
            name = _dist_name(dist)
            if name in wanted and name not in found:
                found[name] = dist
    return found


def _dist_name(dist: importlib.metadata.Distribution) -> str | None:
    """The normalized name of a distribution, from the headers of its metadata only."""
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
    metadata = dist.metadata
    return metadata["Version"] if metadata and "Version" in metadata else None


def _pip_requirement(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def _extra_problems(
    requirement: Requirement,
    dist: importlib.metadata.Distribution,
    installed: dict[str, importlib.metadata.Distribution],
) -> list[str]:
    """What the requirement's extras need and is not installed (one level deep)."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - heavy

    provided = {_canonical(e) for e in (dist.metadata.get_all("Provides-Extra") or [])}
    problems: list[str] = []
    for extra in sorted(requirement.extras):
        if _canonical(extra) not in provided:
            problems.append(f"{requirement.name} has no extra [{extra}] (pip ignores it)")
            continue
        for text in dist.requires or []:
            try:
                needed = Requirement(text)
                if needed.marker is None or not any(
                    needed.marker.evaluate({"extra": e}) for e in {extra, _canonical(extra)}
                ):
                    continue
            except (InvalidRequirement, ValueError):
                continue  # a broken dependency line of someone else's package
            problem = _unmet(needed, installed.get(_canonical(needed.name)))
            if problem:
                problems.append(f"its extra [{extra}] needs {needed.name} ({problem})")
    return problems


def _unmet(requirement: Requirement, dist: importlib.metadata.Distribution | None) -> str:
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
    return "" if ok else f"{version} installed, {requirement.specifier} required"


def _wanted_names(reading: _Reading, path: Sequence[str] | None) -> set[str]:
    """Every name whose installed version matters, extras' dependencies included."""
    names = {_canonical(r.name) for r, _, _ in reading.requirements}
    with_extras = [r for r, _, _ in reading.requirements if r.extras]
    if with_extras:
        for dist in find_distributions({r.name for r in with_extras}, path).values():
            names.update(filter(None, map(_requirement_name, dist.requires or [])))
    return names


def _requirement_name(text: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - heavy

    try:
        return _canonical(Requirement(text).name)
    except InvalidRequirement:
        return None


def _checked(
    requirement: Requirement, line: str, source: str, installed: str | None, detail: str
) -> CheckedRequirement:
    return CheckedRequirement(
        line=line,
        source=source,
        name=_canonical(requirement.name),
        requirement=_pip_requirement(requirement),
        installed=installed,
        detail=detail,
    )


def _check(
    requirement: Requirement,
    line: str,
    source: str,
    installed: dict[str, importlib.metadata.Distribution],
) -> tuple[Verdict, CheckedRequirement]:
    """Sort one requirement into "met", "missing" or "mismatched", with the detail to show."""
    dist = installed.get(_canonical(requirement.name))
    if dist is None:
        return "missing", _checked(requirement, line, source, None, "not installed")
    version = dist_version(dist)
    problem = _unmet(requirement, dist)
    if problem:
        return "mismatched", _checked(requirement, line, source, version, problem)
    extras = _extra_problems(requirement, dist, installed)
    if any("pip ignores it" not in p for p in extras):
        return "missing", _checked(requirement, line, source, version, "; ".join(extras))
    detail = "; ".join([f"{version} installed", *extras])
    return "met", _checked(requirement, line, source, version, detail)


def requirements_report(
    project_dir: str | os.PathLike[str], *, path: Sequence[str] | None = None
) -> RequirementsReport:
    """Read the project's requirement files and compare them with what is installed.

    Args:
        project_dir: the project folder holding ``requirements.txt`` and/or ``pyproject.toml``.
        path: where installed distributions are looked for; default ``sys.path``.

    Returns:
        A ``RequirementsReport``; never raises for a bad line or file (those are reported as
        not checked, with the reason).
    """
    base = Path(project_dir)
    reading = _Reading(base)
    requirements_txt = base / REQUIREMENTS_FILES[0]
    if requirements_txt.is_file():
        _read_requirements_txt(reading, (requirements_txt,))
    pyproject = base / REQUIREMENTS_FILES[1]
    if pyproject.is_file():
        _read_pyproject(pyproject, reading)

    installed = find_distributions(_wanted_names(reading, path), path) if reading.files else {}
    sorted_out: dict[Verdict, list[CheckedRequirement]] = {
        "met": [],
        "missing": [],
        "mismatched": [],
    }
    for requirement, line, source in reading.requirements:
        kind, checked = _check(requirement, line, source, installed)
        sorted_out[kind].append(checked)
    return RequirementsReport(
        project_dir=base,
        files=tuple(reading.files),
        met=tuple(sorted_out["met"]),
        missing=tuple(sorted_out["missing"]),
        mismatched=tuple(sorted_out["mismatched"]),
        not_needed=tuple(
            _checked(r, line, source, None, "its marker is false for this Python")
            for r, line, source in reading.not_needed
        ),
        not_checked=tuple(reading.not_checked),
        pip_options=tuple(reading.pip_options),
    )


def _tail(text: str, lines: int = 20) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def install_missing(
    project_dir: str | os.PathLike[str], *, path: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Install the project's unmet requirements with this interpreter's pip.

    Starts no process when every checked requirement is met. Runs
    ``[sys.executable, "-m", "pip", "install", ...]`` (an argument list, never a shell).

    Returns:
        The requirements given to pip (``("numpy>=1.26", "rich")``), or ``()``.

    Warns:
        ColabBootstrapWarning: pip replaced a distribution whose modules this process had
            already imported (the old code stays loaded until the runtime restarts).

    Raises:
        RequirementsError: pip failed; the message keeps pip's own error text and the fix.
    """
    report = requirements_report(project_dir, path=path)
    args = report.pip_args
    if args is None:
        return ()
    wanted = tuple(dict.fromkeys(item.requirement for item in report.unmet))
    loaded = _loaded_modules(report.mismatched, path)
    command = [sys.executable, "-m", "pip", args[0], "--disable-pip-version-check", *args[1:]]
    _log.info(__name__, "installing %s", " ".join(wanted))
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        said = _tail(completed.stderr) or _tail(completed.stdout) or "(no output)"
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
    listed = dist.read_text("top_level.txt")
    if listed:
        return {name.strip() for name in listed.splitlines() if name.strip()}
    names: set[str] = set()
    for file in dist.files or []:
        top = file.parts[0]
        if len(file.parts) == 1 and top.endswith(".py"):
            names.add(top[: -len(".py")])
        elif len(file.parts) > 1 and top.isidentifier():
            names.add(top)  # a package folder (dist-info and .data folders are not identifiers)
    return names


def _loaded_modules(
    replaced: Iterable[CheckedRequirement], path: Sequence[str] | None
) -> list[str]:
    """Modules of distributions pip is about to replace that this process already imported."""
    dists = find_distributions([item.name for item in replaced], path)
    return sorted(
        name for dist in dists.values() for name in _top_level_modules(dist) if name in sys.modules
    )
