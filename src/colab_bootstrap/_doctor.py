"""``doctor()``: every known problem of the Colab + Drive workflow, each with its fix.

Two phases. First the facts are gathered, once: the environment, the GPU answer, where Drive and
the project are (by ``setup()``'s own rules, where the last ``setup()`` looked unless told
otherwise), one bounded walk of the project and what is read from it. Then each check, registered
once under its name in ``CHECKS``, is a pure function of those facts: no check can depend on
another having run first, so their order changes nothing but the order of the report. A fact
that could not be gathered, or a check that breaks, becomes a failed check saying so; the others
stand.

The doctor only reads: it never mounts, links, installs or edits.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union

from . import _colab, _gpu, _ipython, _locate, _scan
from ._accelerator import GpuCheck
from ._copies import CopyGroup, copy_groups
from ._dedupe import dedupe_command
from ._errors import DRIVE_LOST, ColabBootstrapError, first_line
from ._redact import Redactor, account_emails, credentials
from ._render import html_table
from ._requirements import RequirementsReport, requirements_report
from ._session import SESSION, Location
from ._stale import StaleModule, stale
from ._update import (
    InstallOrigin,
    UpdateStatus,
    check_update,
    install_origin,
    kept,
    restart_needed,
)
from ._version import __version__
from ._winpaths import PathLint, windows_paths

if TYPE_CHECKING:
    from ._ipython import AutoreloadState

__all__ = ["CHECKS", "Check", "Facts", "Report", "gather", "run", "run_checks"]

Status = Literal["ok", "warn", "fail", "skip"]

#: Items directly in My Drive from which mount timeouts become likely.
ROOT_CROWDED = 500
#: Items of My Drive's root counted at most.
ROOT_COUNT_LIMIT = 10_000

_MARKS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}
_COLOURS = {"ok": "#e6f4ea", "warn": "#fef7e0", "fail": "#fce8e6", "skip": "#f1f3f4"}


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, what was seen, and what to do."""

    name: str
    status: Status
    summary: str
    details: tuple[str, ...] = ()
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        data = asdict(self)
        data["details"] = list(self.details)
        return data


@dataclass(frozen=True)
class Report:
    """What ``doctor()`` found: the checks in order and the facts a bug report needs."""

    checks: tuple[Check, ...]
    project: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    redactions: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and skips do not count)."""
        return all(check.status != "fail" for check in self.checks)

    def __getitem__(self, name: str) -> Check:
        """The check called ``name``."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def _verdict(self) -> str:
        fails = sum(c.status == "fail" for c in self.checks)
        warns = sum(c.status == "warn" for c in self.checks)
        if not fails and not warns:
            return "No problems found."
        parts = []
        if fails:
            parts.append(f"{fails} problem{'s' if fails != 1 else ''}")
        if warns:
            parts.append(f"{warns} warning{'s' if warns != 1 else ''}")
        return f"Found {' and '.join(parts)}; each has its fix above."

    def __str__(self) -> str:
        title = "colab_bootstrap doctor" + (f" (project {self.project!r})" if self.project else "")
        lines = [title]
        for check in self.checks:
            lines.append(f"[{_MARKS[check.status]}] {check.name}: {check.summary}")
            lines.extend(f"    {detail}" for detail in check.details)
            if check.fix:
                fix_lines = check.fix.splitlines()
                lines.append(f"    fix: {fix_lines[0]}")
                lines.extend(f"         {line}" for line in fix_lines[1:])
        lines.append(self._verdict())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = [
            (
                f"{_MARKS[c.status]} {c.status}",
                c.name,
                "\n".join((c.summary, *c.details)),
                c.fix or "",
            )
            for c in self.checks
        ]
        styles = [f"background:{_COLOURS[c.status]}" for c in self.checks]
        title = "colab_bootstrap doctor" + (f": {self.project}" if self.project else "")
        table = html_table(
            title, rows, header=("status", "check", "found", "fix"), row_styles=styles
        )
        return f"{table}<p><b>{self._verdict()}</b></p>"

    def to_dict(self, *, redact: bool = False) -> dict[str, Any]:
        """A JSON-ready dict: ok, project, environment and every check.

        Args:
            redact: replace the home folder, the My Drive folder and the account e-mail as
                ``markdown()`` does, for a report pasted somewhere public.
        """
        data = {
            "ok": self.ok,
            "project": self.project,
            "environment": dict(self.environment),
            "seconds": round(self.seconds, 3),
            "checks": [c.to_dict() for c in self.checks],
        }
        return _redacted(data, Redactor(self.redactions)) if redact else data

    def to_json(self, *, indent: int | None = 2, redact: bool = False) -> str:
        """The report as JSON text (``redact``: as in ``to_dict()``)."""
        return json.dumps(self.to_dict(redact=redact), indent=indent, ensure_ascii=False)

    def markdown(self) -> str:
        """A block ready to paste into a bug report.

        The home folder, the My Drive folder and the Google account e-mail are replaced
        (``~``, ``<My Drive>``, ``<account>``) in every spelling the report uses: plain,
        shell-quoted, JSON- and ``repr()``-escaped, URL-quoted. URL credentials are masked in
        every output of the report, this one included.
        """
        redact = Redactor(self.redactions)

        def cell(text: str) -> str:
            return redact(text).replace("|", "\\|").replace("\n", "<br>")

        lines = ["### colab_bootstrap doctor", ""]
        lines += [f"- **{key}**: {redact(value)}" for key, value in self.environment.items()]
        lines += ["", "| | check | found | fix |", "|---|---|---|---|"]
        for check in self.checks:
            found = "<br>".join(cell(part) for part in (check.summary, *check.details))
            lines.append(
                f"| {_MARKS[check.status]} | {check.name} | {found} | {cell(check.fix or '')} |"
            )
        lines += ["", self._verdict()]
        return "\n".join(lines)


def _redacted(value: Any, redact: Redactor) -> Any:
    """``value`` (JSON-ready: dicts, lists, strings, numbers) with every string redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, redact) for item in value]
    return value


# ---------------------------------------------------------------------------------------------
# Facts: everything the checks look at, gathered once
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failed:
    """A fact that could not be gathered: the exception, as ``Type: message``."""

    error: str


T = TypeVar("T")
#: A fact, or why it could not be gathered.
Fact = Union[T, Failed]


#: The fix of a check that could not run: the report is the bug report.
_REPORT_IT = "Please report this with the markdown() output of this report."
#: An error is shown as its first line, cut to this many characters.
_ERROR_CHARS = 300


class _Unknown(Exception):  # noqa: N818 - raised to the runner, never further
    """A check needed a fact that could not be gathered."""


def _need(value: Fact[T]) -> T:
    """The fact, or (to the check runner) the reason it is missing."""
    if isinstance(value, Failed):
        raise _Unknown(value.error)
    return value


def _attempt(gather_one: Callable[[], T]) -> Fact[T]:
    try:
        return gather_one()
    except Exception as exc:  # noqa: BLE001 - becomes a failed check naming the error
        return Failed(first_line(exc, _ERROR_CHARS))


LinkState = Literal["ours", "elsewhere", "real", "missing", "none"]


@dataclass(frozen=True)
class Facts:
    """What ``gather()`` saw; the checks read only this."""

    colab: bool
    environment: dict[str, str]
    origin: Fact[InstallOrigin]
    restart: Fact[str | None]
    gpu: Fact[GpuCheck]
    location: Location
    drive: _locate.DriveLocation | None = None
    drive_error: str | None = None
    mount: _colab.DriveMount | None = None  # on Colab, without drive_dir: the Drive mount seen
    local_files: tuple[str, ...] = ()  # what sits at a mountpoint where no Drive is mounted
    project: str | None = None
    project_error: str | None = None
    folder: Path | None = None
    folder_error: str | None = None
    link: Path | None = None
    link_state: LinkState = "none"
    link_target: str = ""
    sys_path_index: int | None = None
    sys_path_entry: str = ""
    sys_path_length: int = 0
    notebook: bool = False
    in_ipython: bool = False
    autoreload: AutoreloadState = "no IPython"
    old_ipython: bool = False
    python: tuple[int, int] = (3, 12)
    watching: bool = False
    stale: Fact[tuple[StaleModule, ...]] = ()
    scan: _scan.Scan | None = None  # the walk skips what it cannot list: it never fails
    bytecode_dir: str | None = None
    shadowed: Fact[tuple[str, ...]] = ()
    root_count: Fact[int | str | None] = None
    copies: Fact[tuple[CopyGroup, ...]] = ()
    lint: Fact[PathLint | None] = None
    requirements: Fact[RequirementsReport | None] = None
    update: Fact[UpdateStatus | None] = None


def _package_version(name: str) -> str | None:
    """``importlib.metadata.version(name)``, its metadata parsed once while it stays the same."""
    from importlib import metadata  # noqa: PLC0415 - only the doctor needs it

    try:
        dist = metadata.distribution(name)  # the search itself is cheap: importlib caches it
    except metadata.PackageNotFoundError:
        return None
    folder = getattr(dist, "_path", None)  # a PathDistribution's metadata folder
    if not isinstance(folder, os.PathLike):
        return dist.version

    def read(paths: list[str | None]) -> str:
        where = os.fspath(folder)
        paths += [where, os.path.join(where, "METADATA"), os.path.join(where, "PKG-INFO")]
        return dist.version

    return kept(f"version of {name}", os.fspath(folder), read)


def _environment(colab: bool, in_ipython: bool) -> dict[str, str]:
    ipython = sys.modules.get("IPython")
    ipython_version = getattr(ipython, "__version__", None) or _package_version("ipython")
    return {
        "runtime": f"Colab ({_colab.release_tag() or 'release tag unknown'})"
        if colab
        else f"not Colab ({platform.system() or sys.platform})",
        "python": platform.python_version(),
        "ipython": ipython_version or "not installed",
        "in IPython": "yes" if in_ipython else "no",
        "colab_bootstrap": __version__,
    }


def _link_state(link: Path, folder: Path) -> tuple[LinkState, str]:
    if link.is_symlink():
        target = os.readlink(link)
        if _locate.same_folder(link, folder):
            return "ours", target
        return "elsewhere", target
    return ("real", "") if link.exists() else ("missing", "")


def _top_level_modules(scan: _scan.Scan) -> list[str]:
    """What ``import`` finds in the project folder: its ``.py`` files and package folders.

    The walk is breadth-first, so the files directly in the folder and those one level down
    (a package's ``__init__.py``) come first: the rest of the walk is not looked at.
    """
    names: set[str] = set()
    for file in scan.files:
        folder, slash, rest = file.partition("/")
        if not slash:
            if file.endswith(".py"):
                names.add(file[:-3])
        elif "/" in rest:
            break  # two levels down: no file further on is nearer the top
        elif rest == "__init__.py":
            names.add(folder)  # only a folder is listed, so ``folder`` is one
    return sorted(n for n in names if n.isidentifier())


def _stdlib_names() -> frozenset[str]:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    # Python 3.9: builtins plus what sits directly in the standard library folder.
    import sysconfig  # noqa: PLC0415

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = set(sys.builtin_module_names)
    for entry in stdlib.iterdir():
        if entry.suffix == ".py":
            found.add(entry.stem)
        elif (entry / "__init__.py").exists():
            found.add(entry.name)
    return frozenset(found)


def _origin_of(spec: Any) -> str:
    """Where a module PathFinder found lives: its file, or a namespace package's folder."""
    return str(spec.origin or next(iter(spec.submodule_search_locations)))


def _shadow_of(name: str, entries: list[str]) -> str | None:
    """Where ``import name`` goes instead: the module imported already, or the first found."""
    loaded = sys.modules.get(name)
    if loaded is not None:  # a namespace package has no file, only its folders
        where = getattr(loaded, "__file__", None) or next(iter(getattr(loaded, "__path__", ())), "")
        return str(where) if where else "a module made at run time (it has no file)"
    for entry in entries:
        spec = importlib.machinery.PathFinder.find_spec(name, [entry])
        if spec is not None:
            return _origin_of(spec)
    return None


def _shadowed(scan: _scan.Scan, folder: Path, link: Path | None) -> tuple[str, ...]:
    """Project module names that ``import`` would find elsewhere first.

    ``link``: the symlink at the link path, if there is one (whatever it points to).
    """
    real = os.path.realpath(folder)
    ours = {real} if link is None else {real, str(link)}
    index = next(
        (i for i, p in enumerate(sys.path) if p in ours or os.path.realpath(p or ".") in ours),
        len(sys.path),
    )
    earlier = [p or os.getcwd() for p in sys.path[:index]]
    earlier = [p for p in earlier if os.path.isdir(p)]
    stdlib = _stdlib_names()
    inside = real + os.sep
    findings: list[str] = []
    for name in _top_level_modules(scan):
        if name in stdlib:
            findings.append(
                f"{name}: also a standard-library module; Python imports the stdlib one"
            )
            continue
        loaded = sys.modules.get(name)
        file = getattr(loaded, "__file__", None) or "" if loaded is not None else ""
        if file and os.path.realpath(file).startswith(inside):
            continue
        other = _shadow_of(name, earlier)
        if other is not None:
            findings.append(f"{name}: `import {name}` gives {other}, not the project's")
    return tuple(findings)


def _root_count(drive: Path) -> int | str:
    """Items directly in My Drive (at most ROOT_COUNT_LIMIT), or why they cannot be counted."""
    count = 0
    try:
        with os.scandir(drive) as entries:
            for _ in entries:
                count += 1
                if count >= ROOT_COUNT_LIMIT:
                    break
    except OSError as exc:
        return f"cannot list My Drive: {exc}"
    return count


def _where_project(facts: dict[str, Any], name: str | None) -> None:
    """Validate the name and find the folder and its link (into ``facts``)."""
    facts["project"] = name
    drive: _locate.DriveLocation | None = facts.get("drive")
    if name is None:
        return
    try:
        relative: PurePosixPath = _locate.validate_project(name)
    except ColabBootstrapError as exc:
        facts["project_error"] = str(exc)
        return
    if drive is None:
        return
    try:
        folder = facts["folder"] = _locate.project_path(drive.path, relative)
    except ColabBootstrapError as exc:
        facts["folder_error"] = str(exc)
        return
    made = SESSION.projects.get(str(folder))  # the link setup() made, whatever its name
    link = facts["link"] = (
        made.project.link
        if made is not None and made.location == facts["location"]
        else _locate.link_path(facts["location"].content_dir, folder, colab=facts["colab"])
    )
    if link is not None:
        facts["link_state"], facts["link_target"] = _link_state(link, folder)
    entries = [str(link), str(folder), os.path.realpath(folder)]
    position = next(((i, p) for i, p in enumerate(sys.path) if p in entries), None)
    if position is not None:
        facts["sys_path_index"], facts["sys_path_entry"] = position
    facts["sys_path_length"] = len(sys.path)


def _read_project(facts: dict[str, Any], network: bool) -> None:
    """The walk of the project folder and everything read from it (into ``facts``)."""
    folder: Path | None = facts.get("folder")
    if facts.get("drive") is not None:
        facts["root_count"] = _attempt(lambda: _root_count(facts["drive"].path))
    if folder is not None:
        scan = facts["scan"] = _scan.scan(folder, limit=SESSION.defaults.scan_limit)
        symlink = facts.get("link") if facts.get("link_state") in ("ours", "elsewhere") else None
        facts["shadowed"] = _attempt(lambda: _shadowed(scan, folder, symlink))
        facts["copies"] = _attempt(lambda: tuple(copy_groups(scan)))
        facts["lint"] = _attempt(lambda: windows_paths(scan))
        facts["requirements"] = _attempt(lambda: requirements_report(folder))
    if network:
        origin = facts["origin"]
        facts["update"] = _attempt(
            lambda: check_update(None if isinstance(origin, Failed) else origin)
        )


def gather(
    project: str | None = None, *, location: Location | None = None, network: bool = True
) -> Facts:
    """Look at everything once (reading only) and return what was seen.

    Args:
        project: folder relative to My Drive; default the project set up last in this process.
        location: where to look; default where the last ``setup()`` looked.
        network: allow the update check (one short HTTP request).
    """
    colab = _colab.on_colab()
    shell = _ipython.get_shell()
    ipython = sys.modules.get("IPython")
    current = SESSION.current()
    origin = _attempt(install_origin)
    facts: dict[str, Any] = {
        "colab": colab,
        "environment": _environment(colab, shell is not None),
        "origin": origin,
        "restart": _attempt(
            lambda: None if isinstance(origin, Failed) else restart_needed(origin=origin)
        ),
        "location": location or SESSION.location(),
        "notebook": bool(SESSION.projects) or shell is not None,
        "in_ipython": shell is not None,
        "autoreload": _ipython.autoreload_state(shell),
        "old_ipython": getattr(ipython, "version_info", (8,)) < (8,),
        "python": sys.version_info[:2],
        "watching": bool(SESSION.roots.paths),
        "bytecode_dir": SESSION.bytecode_dir,
    }
    if facts["watching"]:
        facts["stale"] = _attempt(lambda: tuple(stale()))
    named = facts["location"].drive_dir or os.environ.get(SESSION.defaults.drive_env)
    if colab and not named:  # Colab's mount: keep what was seen, to say why it is not usable
        mount = facts["mount"] = _colab.find_mount(facts["location"].mountpoint)
        facts["drive"] = _locate.mounted_drive(mount)
        if mount.state == "absent":
            facts["local_files"] = tuple(_colab.local_entries(mount.point))
    else:
        try:
            facts["drive"] = _locate.find_drive(
                facts["location"].drive_dir, colab=colab, mountpoint=facts["location"].mountpoint
            )
        except ColabBootstrapError as exc:
            facts["drive_error"] = str(exc)
    if project is None and current is not None:
        project = current.project.name
    _where_project(facts, project)
    _read_project(facts, network)
    # Last: probes that doctor() started before its imports answer while the project is read.
    facts["gpu"] = _attempt(_gpu.check)
    return Facts(**facts)


# ---------------------------------------------------------------------------------------------
# Checks: pure functions of the facts, each registered once in CHECKS
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Finding:
    """What a check says; the runner adds the check's registered name."""

    status: Status
    summary: str
    details: tuple[str, ...] = ()
    fix: str | None = None


def _environment_check(facts: Facts) -> _Finding:
    env = facts.environment
    summary = f"{env['runtime']}, Python {env['python']}, colab_bootstrap {__version__}"
    details = (
        f"IPython {env['ipython']} (running inside IPython: {env['in IPython']})",
        f"colab_bootstrap installed from: {_need(facts.origin)}",
    )
    restart = _need(facts.restart)
    if restart:
        return _Finding("warn", summary, details, restart)
    return _Finding("ok", summary, details)


def _accelerator_check(facts: Facts) -> _Finding:
    result = _need(facts.gpu)
    if result.gpus:
        return _Finding("ok", result.summary, result.notes)
    return _Finding("warn", result.summary, result.notes, _gpu.switch_on_advice(result))


def _gpu_tooling_check(facts: Facts) -> _Finding:
    result = _need(facts.gpu)
    details = [f"nvidia-smi: {result.nvidia_smi or 'not on PATH'}"]
    if result.gputil_error:
        details.append(f"GPUtil: {result.gputil_error}")
    if result.accelerator != "gpu" and result.nvidia_smi is None:
        return _Finding(
            "skip",
            "no NVIDIA tools on this runtime (nothing to check without a GPU)",
            tuple(details),
        )
    if result.gputil_error:
        fix = (
            "Nothing is needed for setup(): nvidia-smi -L listed the GPUs. For GPUtil's memory "
            "figures, see the GPUtil line above (a hung driver: Runtime > Disconnect and delete "
            "runtime)."
        )
        return _Finding(
            "warn", "GPUtil did not answer; nvidia-smi -L was used instead", tuple(details), fix
        )
    return _Finding("ok", "GPUtil and nvidia-smi answer", tuple(details))


def _drive_check(facts: Facts) -> _Finding:
    if facts.drive_error is not None:
        lines = facts.drive_error.splitlines()
        return _Finding("fail", lines[0], tuple(lines[1:-1]), lines[-1])
    mountpoint = facts.location.mountpoint
    mount = facts.mount
    if facts.drive is None and mount is not None and mount.state == "dead":
        return _Finding(
            "fail",
            f"Google Drive's connection was lost: the mount at {mount.point} is dead",
            (f"every access fails: {mount.error}",),
            f"{DRIVE_LOST}",
        )
    if facts.drive is None and facts.local_files:
        shown = ", ".join(facts.local_files)
        return _Finding(
            "fail",
            f"{mountpoint} is not a Google Drive mount, but holds local files ({shown})",
            (
                "they are on this runtime's disk (lost with it), and Colab refuses to mount "
                "Drive over them",
            ),
            f"Move them aside (!mv {mountpoint} {mountpoint}_local), then run the setup cell.",
        )
    if facts.drive is None:
        return _Finding(
            "fail",
            f"Google Drive is not mounted at {mountpoint}",
            (),
            "Run the setup cell (colab_bootstrap.setup(...)), or mount by hand: "
            f"from google.colab import drive; drive.mount({json.dumps(mountpoint)})",
        )
    how = {
        "drive_dir": "from drive_dir",
        "env": f"from ${SESSION.defaults.drive_env}",
        "colab": "Colab mount",
        "desktop": "Google Drive for desktop",
    }[facts.drive.how]
    if mount is not None and mount.point != mountpoint:
        how += f" at {mount.point}, not {mountpoint}: setup() uses the mount that is there"
    return _Finding("ok", f"My Drive at {facts.drive.path} ({how})")


_LINK_PROBLEMS = {
    "elsewhere": "{0} points to {1}, not to the project",
    "real": "{0} is a real file or folder, so the link cannot be made",
    "missing": "no link at {0}",
}


def _project_check(facts: Facts) -> _Finding:
    name = facts.project
    if name is None:
        return _Finding(
            "skip",
            "no project given and none set up in this process",
            (),
            "Pass the folder: colab_bootstrap.doctor('fastai_course2').",
        )
    if facts.project_error is not None:
        return _Finding("fail", f"{name!r} is not a valid project name", (), facts.project_error)
    if facts.drive is None:
        return _Finding("skip", f"{name}: cannot look without Drive (see Drive)")
    if facts.folder is None:
        return _Finding("fail", f"folder {name!r} not found", (), facts.folder_error)
    details: list[str] = [f"folder: {facts.folder}"]
    problems: list[str] = []
    if facts.link_state == "ours":
        details.append(f"link: {facts.link} -> {facts.link_target}")
    elif facts.link_state != "none":
        problems.append(_LINK_PROBLEMS[facts.link_state].format(facts.link, facts.link_target))
    if facts.sys_path_index is not None:
        details.append(
            f"sys.path[{facts.sys_path_index}] of {facts.sys_path_length}: {facts.sys_path_entry}"
        )
    elif facts.notebook:
        problems.append("not on sys.path, so `import` cannot find its modules")
    else:
        details.append("sys.path: not checked (no notebook here; setup() adds it in the notebook)")
    if problems:
        return _Finding(
            "warn",
            f"{name}: " + "; ".join(problems),
            tuple(details),
            f"Run colab_bootstrap.setup({name!r}) (if a real folder holds the link path, move "
            "it first: setup() never touches it).",
        )
    return _Finding("ok", f"{name} is importable", tuple(details))


def _autoreload_check(facts: Facts) -> _Finding:
    if not facts.in_ipython:
        return _Finding("skip", "not running inside IPython")
    if facts.autoreload == "mode 2":
        return _Finding("ok", "loaded, mode 2 (all modules)")
    details: tuple[str, ...] = ()
    if facts.autoreload == "off" and facts.old_ipython and facts.python >= (3, 12):
        details = (
            "IPython 7.x's autoreload does `from imp import reload`; `imp` was removed in "
            "Python 3.12, so `%load_ext autoreload` fails with No module named 'imp' "
            "(Colab pins IPython 7.34).",
        )
    return _Finding(
        "warn",
        f"autoreload is {facts.autoreload}: edited files are not reloaded",
        details,
        "Run colab_bootstrap.setup(...) (it repairs the imp failure and sets mode 2), or "
        "%load_ext autoreload then %autoreload 2.",
    )


_STALE_FIXES = {
    "changed": "colab_bootstrap.reset() re-imports them and rebinds the notebook's names.",
    "deleted": "Restore the file, or drop the import; reset() reports what cannot re-import.",
    "newer copy": "Drive sync made a newer '(N)' copy: colab_bootstrap.dedupe(apply=True) keeps "
    "the newest under the plain name (the others go to the trash folder), then reset().",
    "unreadable": "Drive is not answering: colab_bootstrap.reset(remount=True).",
}


def _stale_check(facts: Facts) -> _Finding:
    if not facts.watching:
        return _Finding("skip", "no project set up in this process, so no module to compare")
    found = _need(facts.stale)
    if not found:
        return _Finding("ok", "every loaded project module matches its file")
    reasons = sorted({module.reason for module in found})
    return _Finding(
        "warn",
        f"{len(found)} loaded project module(s) no longer match their files",
        tuple(str(module) for module in found),
        "\n".join(_STALE_FIXES[reason] for reason in reasons),
    )


def _incomplete(scan: _scan.Scan) -> str:
    """Why the walk did not see the whole project ("" when it did)."""
    if scan.lost:
        return f"the walk stopped: Google Drive's connection was lost ({scan.lost})"
    if scan.truncated:
        return f"the walk stopped after {scan.entries} entries (limit {scan.limit})"
    return ""


_INCOMPLETE_FIX = (
    "The doctor looked at part of the project only. Keep datasets and other bulk files out of "
    "the project folder (e.g. in a sibling data folder), or check a smaller folder: "
    "doctor('<project>/<sub-folder>')."
)


def _walked(finding: _Finding, scan: _scan.Scan) -> _Finding:
    """``finding`` told the truth about a walk that stopped early: never "ok", and says why."""
    why = _incomplete(scan)
    if not why:
        return finding
    fix = DRIVE_LOST if scan.lost else _INCOMPLETE_FIX
    return _Finding(
        "warn" if finding.status == "ok" else finding.status,
        f"{finding.summary} (incomplete: {why.partition(' (')[0]})",
        (*finding.details, f"incomplete: {why}; the rest was not read"),
        "\n".join(part for part in (finding.fix, fix) if part),
    )


def _bytecode_check(facts: Facts) -> _Finding:
    scan = facts.scan
    if scan is None:
        return _Finding("skip", "no project folder to look in")
    folder = facts.bytecode_dir
    details = [
        f"project byte-code: cached in {folder}"
        if folder
        else "project byte-code: no setup() in this process (Python writes __pycache__ next "
        "to the files)"
    ]
    if not scan.pycache_dirs:
        return _walked(
            _Finding("ok", "no __pycache__ folders in the project", tuple(details)), scan
        )
    shown = [f"{d}/" for d in scan.pycache_dirs[:10]]
    more = len(scan.pycache_dirs) - len(shown)
    if more:
        shown.append(f"... and {more} more")
    finding = _Finding(
        "warn",
        f"{len(scan.pycache_dirs)} __pycache__ folder(s) inside the project add Drive sync churn",
        (*details, *shown),
        "setup() sends the project's byte-code to a local cache. The folders listed hold only "
        "generated .pyc files and can be deleted safely (in Drive or on your laptop).",
    )
    return _walked(finding, scan)


def _shadowed_check(facts: Facts) -> _Finding:
    if facts.scan is None:
        return _Finding("skip", "no project folder to look in")
    findings = _need(facts.shadowed)
    if not findings:
        found = _Finding("ok", "no project module is hidden by another of the same name")
        return _walked(found, facts.scan)
    found = _Finding(
        "warn",
        f"{len(findings)} project module name(s) are taken by other modules",
        findings,
        "Rename the project module (e.g. utils.py -> myproj_utils.py) and its imports; "
        "putting the project first on sys.path would hide the other module instead.",
    )
    return _walked(found, facts.scan)


def _root_crowding_check(facts: Facts) -> _Finding:
    count = _need(facts.root_count)
    if count is None:
        return _Finding("skip", "Drive not found")
    if isinstance(count, str):
        return _Finding("warn", count)
    shown = f"{count}+" if count >= ROOT_COUNT_LIMIT else str(count)
    if count < ROOT_CROWDED:
        noun = "item" if count == 1 else "items"
        return _Finding("ok", f"{shown} {noun} directly in My Drive")
    return _Finding(
        "warn",
        f"{shown} items directly in My Drive: mounting can time out",
        (
            "drive.mount lists the root first; with thousands of items it fails with "
            "'timeout during initial read of root folder'.",
        ),
        "Move loose files in My Drive into a few folders (in drive.google.com), then remount.",
    )


#: How many files the path check skipped are named in the report (the rest are counted).
_SHOWN_SKIPPED = 10


def _hygiene_check(facts: Facts) -> _Finding:
    scan, lint = facts.scan, _need(facts.lint)
    if scan is None or lint is None or facts.folder is None:
        return _Finding("skip", "no project folder to look in")
    groups = _need(facts.copies)
    details = [f"copy: {group}" for group in groups]
    details += [
        f"Windows path: {f.where}: {f.literal} -> {f.rewrite} ({f.problem})" for f in lint.findings
    ]
    if lint.stopped:
        details.append(f"path check stopped early: {lint.why_stopped}")
    details += [f"not checked: {file}: {why}" for file, why in lint.skipped[:_SHOWN_SKIPPED]]
    if len(lint.skipped) > _SHOWN_SKIPPED:
        details.append(f"... and {len(lint.skipped) - _SHOWN_SKIPPED} more not checked")
    movable = sum(group.movable for group in groups)
    listed = len(groups) - movable
    summary = f"{movable} group(s) of Drive sync copies"
    if listed:
        summary += f" (and {listed} numbered name group(s) only listed)"
    summary += f", {len(lint.findings)} Windows-only path(s) in {lint.checked} file(s) checked"
    fixes = []
    if movable:
        fixes.append(
            "Keep the newest of each group of Drive copies under the plain name, the rest moved "
            "to a trash folder, nothing deleted: "
            f"colab_bootstrap.dedupe({str(facts.folder)!r}, apply=True) "
            f"(or: {dedupe_command(facts.folder)}); look first with dedupe() alone."
        )
    if listed:
        fixes.append(
            "Numbered names Drive did not make (no plain name beside them, numbers like (2023), "
            "folder copies, one name in two Unicode forms) are only listed: dedupe() never moves "
            "them. Rename or merge them by hand if they are copies."
        )
    if lint.findings:
        fixes.append(
            "Colab runs Linux: build paths with pathlib (the rewrites above) or '/' separators."
        )
    if lint.stopped:
        fixes.append(
            "The path check stopped early: the files after it were not checked. Check a "
            "smaller folder: doctor('<project>/<sub-folder>')."
        )
    status: Status = "warn" if fixes else "ok"
    return _walked(_Finding(status, summary, tuple(details), "\n".join(fixes) or None), scan)


def _requirement_findings(facts: Facts) -> tuple[Status, str, list[str], str | None]:
    if isinstance(facts.requirements, Failed):
        error = facts.requirements.error
        return "fail", f"requirements: could not be read: {error}", [], _REPORT_IT
    report = facts.requirements
    if report is None:
        return "skip", "requirements: no project folder", [], None
    if not report.files and not report.not_checked:
        return "ok", "no requirements.txt or pyproject.toml", [], None
    details = [f"missing: {r.requirement} ({r.source})" for r in report.missing]
    details += [
        f"mismatched: {r.requirement} wanted, {r.installed} installed ({r.source})"
        for r in report.mismatched
    ]
    details += [
        f"{'not read' if u.unread else 'not checked'}: {u.line} ({u.source}: {u.reason})"
        for u in report.not_checked
    ]
    counts = f"{len(report.met)} met, {len(report.missing)} missing, "
    counts += f"{len(report.mismatched)} mismatched"
    if report.not_read:
        counts += f", {len(report.not_read)} not read (incomplete)"
    status: Status = (
        "fail" if report.missing else "warn" if report.mismatched or not report.complete else "ok"
    )
    fixes = []
    if report.pip_command:
        fixes.append(f"!{report.pip_command}  (or colab_bootstrap.setup(..., install=True))")
    if report.not_read:
        fixes.append(
            "Some requirement files were not read (listed as 'not read', each with the reason): "
            "fix or remove them, so every requirement can be checked."
        )
    return status, f"requirements: {counts}", details, "\n".join(fixes) or None


def _update_findings(facts: Facts) -> tuple[Status, str, str | None]:
    if isinstance(facts.update, Failed):  # never hides the requirement findings
        return "skip", f"update check skipped: it failed ({facts.update.error})", None
    update = facts.update
    if update is None:
        return "skip", "update check: off (network=False)", None
    if update.status == "update":
        return "warn", update.message, update.fix
    if update.status == "current":
        return "ok", update.message, None
    return "skip", f"update check skipped: {update.message}", None


def _requirements_check(facts: Facts) -> _Finding:
    req_status, req_summary, details, req_fix = _requirement_findings(facts)
    upd_status, upd_summary, upd_fix = _update_findings(facts)
    order: tuple[Status, ...] = ("fail", "warn", "ok", "skip")
    status = min(req_status, upd_status, key=order.index)
    fixes = "\n".join(f for f in (req_fix, upd_fix) if f) or None
    return _Finding(status, f"{req_summary}; {upd_summary}", tuple(details), fixes)


#: Every check, once, by the name it reports under, in the order the report shows them.
CHECKS: tuple[tuple[str, Callable[[Facts], _Finding]], ...] = (
    ("Environment", _environment_check),
    ("Accelerator", _accelerator_check),
    ("GPU tooling", _gpu_tooling_check),
    ("Drive", _drive_check),
    ("Project", _project_check),
    ("Autoreload", _autoreload_check),
    ("Stale modules", _stale_check),
    ("Byte-code on Drive", _bytecode_check),
    ("Shadowed names", _shadowed_check),
    ("My Drive root", _root_crowding_check),
    ("Copies and Windows paths", _hygiene_check),
    ("Requirements and updates", _requirements_check),
)


def run_checks(
    facts: Facts, checks: Sequence[tuple[str, Callable[[Facts], _Finding]]] = CHECKS
) -> tuple[Check, ...]:
    """Run ``checks`` on ``facts``; a missing fact or a broken check is a failed check."""
    results = []
    for name, run in checks:
        try:
            finding = run(facts)
        except _Unknown as missing:
            finding = _Finding(
                "fail",
                f"could not look: {missing}",
                (),
                _REPORT_IT,
            )
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            finding = _Finding(
                "fail",
                f"the check itself failed: {first_line(exc, _ERROR_CHARS)}",
                (),
                _REPORT_IT,
            )
        results.append(
            Check(  # no output of the report shows a URL's credentials
                name,
                finding.status,
                credentials(finding.summary),
                tuple(credentials(detail) for detail in finding.details),
                credentials(finding.fix) if finding.fix else finding.fix,
            )
        )
    return tuple(results)


def _redactions(facts: Facts) -> tuple[tuple[str, str], ...]:
    """Personal values and what a pasted report shows instead (longest first).

    The My Drive folder (as named and as resolved), the home folder, and the Google account
    e-mail that Drive for desktop puts in its folder name (``GoogleDrive-<e-mail>``).
    """
    pairs: list[tuple[str, str]] = []
    drives: list[str] = []
    if facts.drive is not None:
        drives = [str(facts.drive.path), os.path.realpath(facts.drive.path)]
        pairs += [(drive, "<My Drive>") for drive in drives]
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        pairs.append((home, "~"))
    folder = [str(facts.folder)] if facts.folder is not None else []
    pairs += [(email, "<account>") for email in account_emails([*drives, *folder])]
    return tuple(sorted(set(pairs), key=lambda pair: (-len(pair[0]), pair)))


def run(project: str | None, *, location: Location, network: bool, started: float) -> Report:
    """The work of ``colab_bootstrap.doctor()``, whose docstring tells all.

    That function checked the options, started the GPU probes (the GPU check collects them) and
    noted when it ``started`` (``time.perf_counter()``). Raises nothing: every problem found is
    a check in the report.
    """
    facts = gather(project, location=location, network=network)
    return Report(
        run_checks(facts),
        project=facts.project,
        environment=facts.environment,
        seconds=time.perf_counter() - started,
        redactions=_redactions(facts),
    )
