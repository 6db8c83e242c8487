"""``doctor()``: every known problem of the Colab + Drive workflow, each with its fix.

The doctor only reads: it never mounts, links, installs or edits. It locates Drive and the
project with the same code as ``setup()`` (``_locate``), walks the project once (``_scan``) and
shares that walk between the checks, and bounds every subprocess, network call and listing.
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from . import _colab, _gpu, _ipython, _locate, _scan, _setup
from ._errors import ColabBootstrapError
from ._render import html_table
from ._version import __version__

__all__ = ["Check", "Report", "doctor"]

Status = Literal["ok", "warn", "fail", "skip"]

#: Entries of the project walked at most (a Drive listing is a network round trip).
SCAN_LIMIT = 20_000
#: Items directly in My Drive from which mount timeouts become likely.
ROOT_CROWDED = 500
#: Items of My Drive's root counted at most.
ROOT_COUNT_LIMIT = 10_000

_MARKS = {"ok": "✓", "warn": "!", "fail": "✗", "skip": "-"}
_COLOURS = {"ok": "#e6f4ea", "warn": "#fef7e0", "fail": "#fce8e6", "skip": "#f1f3f4"}
_MOUNT_CALL = 'from google.colab import drive; drive.mount("/content/drive")'


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ok, project, environment and every check."""
        return {
            "ok": self.ok,
            "project": self.project,
            "environment": dict(self.environment),
            "seconds": round(self.seconds, 3),
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def markdown(self) -> str:
        """A block ready to paste into a bug report; personal paths are replaced."""
        lines = ["### colab_bootstrap doctor", ""]
        lines += [f"- **{key}**: {value}" for key, value in self.environment.items()]
        lines += ["", "| | check | found | fix |", "|---|---|---|---|"]
        for check in self.checks:
            found = "<br>".join((check.summary, *check.details)).replace("|", "\\|")
            fix = (check.fix or "").replace("|", "\\|").replace("\n", "<br>")
            lines.append(f"| {_MARKS[check.status]} | {check.name} | {found} | {fix} |")
        lines += ["", self._verdict()]
        text = "\n".join(lines)
        for path, replacement in self.redactions:
            text = text.replace(path, replacement)
        return text


def _redactions(ctx: _Context) -> tuple[tuple[str, str], ...]:
    """Personal paths and what a pasted report shows instead (longest first)."""
    pairs: list[tuple[str, str]] = []
    if ctx.drive is not None:
        pairs += [(str(ctx.drive.path), "<My Drive>")]
        pairs += [(os.path.realpath(ctx.drive.path), "<My Drive>")]
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        pairs.append((home, "~"))
    return tuple(sorted(set(pairs), key=lambda pair: -len(pair[0])))


@dataclass
class _Context:
    """What the checks share: located once, read by many."""

    project_name: str | None
    drive_dir: str | os.PathLike[str] | None
    mountpoint: str | os.PathLike[str]
    content_dir: str | os.PathLike[str]
    network: bool
    colab: bool
    relative: PurePosixPath | None = None
    drive: _locate.DriveLocation | None = None
    drive_error: str | None = None
    folder: Path | None = None
    folder_error: str | None = None
    scan: _scan.Scan | None = None
    gpu: _gpu.GpuCheck | None = None
    origin: Any = None
    environment: dict[str, str] = field(default_factory=dict)


def _package_version(name: str) -> str | None:
    from importlib import metadata  # noqa: PLC0415 - only the doctor needs it

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _environment(ctx: _Context) -> dict[str, str]:
    ipython = sys.modules.get("IPython")
    ipython_version = getattr(ipython, "__version__", None) or _package_version("ipython")
    return {
        "runtime": f"Colab ({_colab.release_tag() or 'release tag unknown'})"
        if ctx.colab
        else f"not Colab ({platform.system() or sys.platform})",
        "python": platform.python_version(),
        "ipython": ipython_version or "not installed",
        "in IPython": "yes" if _ipython.get_shell() is not None else "no",
        "colab_bootstrap": __version__,
    }


def _check_environment(ctx: _Context) -> Check:
    from ._update import install_origin, restart_needed  # noqa: PLC0415

    env = ctx.environment
    summary = f"{env['runtime']}, Python {env['python']}, colab_bootstrap {__version__}"
    ctx.origin = install_origin()
    details = (
        f"IPython {env['ipython']} (running inside IPython: {env['in IPython']})",
        f"colab_bootstrap installed from: {ctx.origin}",
    )
    restart = restart_needed(origin=ctx.origin)
    if restart:
        return Check("Environment", "warn", summary, details, restart)
    return Check("Environment", "ok", summary, details)


def _check_accelerator(ctx: _Context) -> Check:
    result = ctx.gpu = _gpu.check()
    if result.gpus:
        return Check("Accelerator", "ok", result.summary, result.notes)
    return Check("Accelerator", "warn", result.summary, result.notes, _gpu.switch_on_advice(result))


def _check_gpu_tooling(ctx: _Context) -> Check:
    result = ctx.gpu or _gpu.check()
    details = [f"nvidia-smi: {result.nvidia_smi or 'not on PATH'}"]
    if result.gputil_error:
        details.append(f"GPUtil: {result.gputil_error}")
    if result.accelerator != "gpu" and result.nvidia_smi is None:
        return Check(
            "GPU tooling",
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
        return Check(
            "GPU tooling",
            "warn",
            "GPUtil did not answer; nvidia-smi -L was used instead",
            tuple(details),
            fix,
        )
    return Check("GPU tooling", "ok", "GPUtil and nvidia-smi answer", tuple(details))


def _check_drive(ctx: _Context) -> Check:
    try:
        ctx.drive = _locate.find_drive(ctx.drive_dir, colab=ctx.colab, mountpoint=ctx.mountpoint)
    except ColabBootstrapError as exc:
        ctx.drive_error = str(exc)
        lines = str(exc).splitlines()
        return Check("Drive", "fail", lines[0], tuple(lines[1:-1]), lines[-1])
    if ctx.drive is None:
        ctx.drive_error = "not mounted"
        return Check(
            "Drive",
            "fail",
            f"Google Drive is not mounted at {ctx.mountpoint}",
            (),
            f"Run the setup cell (colab_bootstrap.setup(...)), or mount by hand: {_MOUNT_CALL}",
        )
    how = {
        "drive_dir": "from drive_dir",
        "env": f"from ${_locate.DRIVE_ENV}",
        "colab": "Colab mount",
        "desktop": "Google Drive for desktop",
    }[ctx.drive.how]
    return Check("Drive", "ok", f"My Drive at {ctx.drive.path} ({how})")


def _project_name(ctx: _Context) -> str | None:
    if ctx.project_name is not None:
        return ctx.project_name
    current = _setup.current_project()
    return current.name if current else None


def _inspect_link(link: Path, folder: Path, details: list[str], problems: list[str]) -> None:
    if link.is_symlink() and os.path.realpath(link) == os.path.realpath(folder):
        details.append(f"link: {link} -> {os.readlink(link)}")
    elif link.is_symlink():
        problems.append(f"{link} points to {os.readlink(link)}, not to the project")
    elif link.exists():
        problems.append(f"{link} is a real file or folder, so the link cannot be made")
    else:
        problems.append(f"no link at {link}")


def _check_project(ctx: _Context) -> Check:
    name = _project_name(ctx)
    if name is None:
        return Check(
            "Project",
            "skip",
            "no project given and none set up in this process",
            (),
            "Pass the folder: colab_bootstrap.doctor('fastai_course2').",
        )
    try:
        ctx.relative = _locate.validate_project(name)
    except ColabBootstrapError as exc:
        return Check("Project", "fail", f"{name!r} is not a valid project name", (), str(exc))
    if ctx.drive is None:
        return Check("Project", "skip", f"{name}: cannot look without Drive (see Drive)")
    try:
        ctx.folder = _locate.project_path(ctx.drive.path, ctx.relative)
    except ColabBootstrapError as exc:
        ctx.folder_error = str(exc)
        return Check("Project", "fail", f"folder {name!r} not found", (), str(exc))
    details: list[str] = [f"folder: {ctx.folder}"]
    problems: list[str] = []
    link = Path(ctx.content_dir) / ctx.folder.name
    if ctx.colab or os.fspath(ctx.content_dir) != _setup.DEFAULT_CONTENT_DIR:
        _inspect_link(link, ctx.folder, details, problems)
    entries = [str(link), str(ctx.folder), os.path.realpath(ctx.folder)]
    positions = [(i, p) for i, p in enumerate(sys.path) if p in entries]
    if positions:
        index, entry = positions[0]
        details.append(f"sys.path[{index}] of {len(sys.path)}: {entry}")
    elif _setup.projects() or _ipython.get_shell() is not None:
        problems.append("not on sys.path, so `import` cannot find its modules")
    else:
        details.append("sys.path: not checked (no notebook here; setup() adds it in the notebook)")
    if problems:
        return Check(
            "Project",
            "warn",
            f"{name}: " + "; ".join(problems),
            tuple(details),
            f"Run colab_bootstrap.setup({name!r}) (if a real folder holds the link path, move "
            "it first: setup() never touches it).",
        )
    return Check("Project", "ok", f"{name} is importable", tuple(details))


def _check_autoreload(_ctx: _Context) -> Check:
    shell = _ipython.get_shell()
    if shell is None:
        return Check("Autoreload", "skip", "not running inside IPython")
    state = _ipython.autoreload_state(shell)
    if state == "mode 2":
        return Check("Autoreload", "ok", "loaded, mode 2 (all modules)")
    ipython = sys.modules.get("IPython")
    old = getattr(ipython, "version_info", (8,)) < (8,)
    details: tuple[str, ...] = ()
    if state == "off" and old and sys.version_info >= (3, 12):
        details = (
            "IPython 7.x's autoreload does `from imp import reload`; `imp` was removed in "
            "Python 3.12, so `%load_ext autoreload` fails with No module named 'imp' "
            "(Colab pins IPython 7.34).",
        )
    return Check(
        "Autoreload",
        "warn",
        f"autoreload is {state}: edited files are not reloaded",
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


def _check_stale(_ctx: _Context) -> Check:
    from . import _live  # noqa: PLC0415

    if not _live.watched_roots():
        return Check(
            "Stale modules", "skip", "no project set up in this process, so no module to compare"
        )
    found = _live.stale()
    if not found:
        return Check("Stale modules", "ok", "every loaded project module matches its file")
    reasons = sorted({module.reason for module in found})
    return Check(
        "Stale modules",
        "warn",
        f"{len(found)} loaded project module(s) no longer match their files",
        tuple(str(module) for module in found),
        "\n".join(_STALE_FIXES[reason] for reason in reasons),
    )


def _project_scan(ctx: _Context) -> _scan.Scan | None:
    if ctx.scan is None and ctx.folder is not None:
        ctx.scan = _scan.scan(ctx.folder, limit=SCAN_LIMIT)
    return ctx.scan


def _truncation(scan: _scan.Scan) -> tuple[str, ...]:
    if not scan.truncated:
        return ()
    return (f"stopped after {scan.entries} entries (limit {scan.limit}); the rest was not read",)


def _check_bytecode(ctx: _Context) -> Check:
    scan = _project_scan(ctx)
    if scan is None:
        return Check("Byte-code on Drive", "skip", "no project folder to look in")
    prefix = sys.pycache_prefix
    details = [f"sys.pycache_prefix: {prefix or 'not set (byte-code goes next to the files)'}"]
    if not scan.pycache_dirs:
        return Check(
            "Byte-code on Drive",
            "ok",
            "no __pycache__ folders in the project",
            (*details, *_truncation(scan)),
        )
    shown = [f"{d}/" for d in scan.pycache_dirs[:10]]
    more = len(scan.pycache_dirs) - len(shown)
    if more:
        shown.append(f"... and {more} more")
    return Check(
        "Byte-code on Drive",
        "warn",
        f"{len(scan.pycache_dirs)} __pycache__ folder(s) inside the project add Drive sync churn",
        (*details, *shown, *_truncation(scan)),
        "setup() sends new byte-code to a local cache. The folders listed hold only "
        "generated .pyc files and can be deleted safely (in Drive or on your laptop).",
    )


def _top_level_modules(scan: _scan.Scan) -> list[str]:
    files = set(scan.files)
    names = {f[:-3] for f in files if "/" not in f and f.endswith(".py")}
    names |= {d for d in scan.dirs if "/" not in d and f"{d}/__init__.py" in files}
    return sorted(n for n in names if n.isidentifier())


def _stdlib_names() -> frozenset[str]:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return frozenset(names)
    # Python 3.9: builtins plus what sits directly in the standard library folder.
    import sysconfig  # noqa: PLC0415

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found = set(sys.builtin_module_names)
    try:
        for entry in stdlib.iterdir():
            if entry.suffix == ".py":
                found.add(entry.stem)
            elif (entry / "__init__.py").exists():
                found.add(entry.name)
    except OSError:  # pragma: no cover - unreadable stdlib
        pass
    return frozenset(found)


def _origin(spec: Any) -> str:
    if spec is None:
        return "?"
    if spec.origin and spec.origin not in ("built-in", "frozen"):
        return str(spec.origin)
    if spec.submodule_search_locations:
        return str(next(iter(spec.submodule_search_locations)))
    return str(spec.origin or "built-in")


def _shadow_of(name: str, entries: list[str]) -> str | None:
    loaded = sys.modules.get(name)
    if loaded is not None:
        file = getattr(loaded, "__file__", None)
        return str(file) if file else "a built-in module"
    for entry in entries:
        spec = importlib.machinery.PathFinder.find_spec(name, [entry])
        if spec is not None:
            return _origin(spec)
    return None


def _check_shadowed(ctx: _Context) -> Check:
    scan = _project_scan(ctx)
    if scan is None or ctx.folder is None:
        return Check("Shadowed names", "skip", "no project folder to look in")
    ours = {os.path.realpath(ctx.folder)}
    link = Path(ctx.content_dir) / ctx.folder.name
    if link.is_symlink():
        ours.add(str(link))
    index = next(
        (i for i, p in enumerate(sys.path) if p in ours or os.path.realpath(p or ".") in ours),
        len(sys.path),
    )
    earlier = [p or os.getcwd() for p in sys.path[:index]]
    earlier = [p for p in earlier if os.path.isdir(p)]
    stdlib = _stdlib_names()
    findings: list[str] = []
    for name in _top_level_modules(scan):
        if name in stdlib:
            findings.append(
                f"{name}: also a standard-library module; Python imports the stdlib one"
            )
            continue
        loaded = sys.modules.get(name)
        if loaded is not None:
            file = getattr(loaded, "__file__", None) or ""
            if file and os.path.realpath(file).startswith(os.path.realpath(ctx.folder) + os.sep):
                continue
        other = _shadow_of(name, earlier)
        if other is not None:
            findings.append(f"{name}: `import {name}` gives {other}, not the project's")
    if not findings:
        return Check(
            "Shadowed names", "ok", "no project module is hidden by another of the same name"
        )
    return Check(
        "Shadowed names",
        "warn",
        f"{len(findings)} project module name(s) are taken by other modules",
        tuple(findings),
        "Rename the project module (e.g. utils.py -> myproj_utils.py) and its imports; "
        "putting the project first on sys.path would hide the other module instead.",
    )


def _check_root_crowding(ctx: _Context) -> Check:
    if ctx.drive is None:
        return Check("My Drive root", "skip", "Drive not found")
    count = 0
    try:
        with os.scandir(ctx.drive.path) as entries:
            for _ in entries:
                count += 1
                if count >= ROOT_COUNT_LIMIT:
                    break
    except OSError as exc:
        return Check("My Drive root", "warn", f"cannot list My Drive: {exc}")
    shown = f"{count}+" if count >= ROOT_COUNT_LIMIT else str(count)
    if count < ROOT_CROWDED:
        noun = "item" if count == 1 else "items"
        return Check("My Drive root", "ok", f"{shown} {noun} directly in My Drive")
    return Check(
        "My Drive root",
        "warn",
        f"{shown} items directly in My Drive: mounting can time out",
        (
            "drive.mount lists the root first; with thousands of items it fails with "
            "'timeout during initial read of root folder'.",
        ),
        "Move loose files in My Drive into a few folders (in drive.google.com), then remount.",
    )


def _check_hygiene(ctx: _Context) -> Check:
    scan = _project_scan(ctx)
    if scan is None or ctx.folder is None:
        return Check("Copies and Windows paths", "skip", "no project folder to look in")
    from ._hygiene import copy_groups, dedupe_command, windows_paths  # noqa: PLC0415

    groups = copy_groups(scan)
    lint = windows_paths(scan)
    details = [f"copy: {group}" for group in groups]
    details += [
        f"Windows path: {f.where}: {f.literal} -> {f.rewrite} ({f.problem})" for f in lint.findings
    ]
    if lint.stopped:
        details.append(f"path check stopped early: {lint.why_stopped}")
    details += _truncation(scan)
    summary = (
        f"{len(groups)} group(s) of Drive sync copies, {len(lint.findings)} Windows-only "
        f"path(s) in {lint.checked} file(s) checked"
    )
    fixes = []
    if groups:
        fixes.append(
            "Keep the newest of each group under the plain name, the rest moved to a trash "
            f"folder, nothing deleted: colab_bootstrap.dedupe({str(ctx.folder)!r}, apply=True) "
            f"(or: {dedupe_command(ctx.folder)}); look first with dedupe() alone."
        )
    if lint.findings:
        fixes.append(
            "Colab runs Linux: build paths with pathlib (the rewrites above) or '/' separators."
        )
    status: Status = "warn" if fixes else "ok"
    return Check(
        "Copies and Windows paths", status, summary, tuple(details), "\n".join(fixes) or None
    )


def _requirement_findings(ctx: _Context) -> tuple[Status, str, list[str], str | None]:
    if ctx.folder is None:
        return "skip", "requirements: no project folder", [], None
    from ._requirements import requirements_report  # noqa: PLC0415

    report = requirements_report(ctx.folder)
    if not report.files:
        return "ok", "no requirements.txt or pyproject.toml", [], None
    details = [f"missing: {r.requirement} ({r.source})" for r in report.missing]
    details += [
        f"mismatched: {r.requirement} wanted, {r.installed} installed ({r.source})"
        for r in report.mismatched
    ]
    details += [f"not checked: {u.line} ({u.source}: {u.reason})" for u in report.not_checked]
    counts = f"{len(report.met)} met, {len(report.missing)} missing, "
    counts += f"{len(report.mismatched)} mismatched"
    status: Status = "fail" if report.missing else "warn" if report.mismatched else "ok"
    fix = None
    if report.pip_command:
        fix = f"!{report.pip_command}  (or colab_bootstrap.setup(..., install=True))"
    return status, f"requirements: {counts}", details, fix


def _update_findings(ctx: _Context) -> tuple[Status, str, str | None]:
    if not ctx.network:
        return "skip", "update check: off (network=False)", None
    from ._update import check_update  # noqa: PLC0415

    update = check_update(ctx.origin)
    if update.status == "update":
        return "warn", update.message, update.fix
    if update.status == "current":
        return "ok", update.message, None
    return "skip", f"update check skipped: {update.message}", None


def _check_requirements(ctx: _Context) -> Check:
    req_status, req_summary, details, req_fix = _requirement_findings(ctx)
    upd_status, upd_summary, upd_fix = _update_findings(ctx)
    order: tuple[Status, ...] = ("fail", "warn", "ok", "skip")
    status = min(req_status, upd_status, key=order.index)
    fixes = "\n".join(f for f in (req_fix, upd_fix) if f) or None
    return Check(
        "Requirements and updates",
        status,
        f"{req_summary}; {upd_summary}",
        tuple(details),
        fixes,
    )


_CHECKS: tuple[tuple[str, Callable[[_Context], Check]], ...] = (
    ("Environment", _check_environment),
    ("Accelerator", _check_accelerator),
    ("GPU tooling", _check_gpu_tooling),
    ("Drive", _check_drive),
    ("Project", _check_project),
    ("Autoreload", _check_autoreload),
    ("Stale modules", _check_stale),
    ("Byte-code on Drive", _check_bytecode),
    ("Shadowed names", _check_shadowed),
    ("My Drive root", _check_root_crowding),
    ("Copies and Windows paths", _check_hygiene),
    ("Requirements and updates", _check_requirements),
)


def _run_check(name: str, run: Callable[[_Context], Check], ctx: _Context) -> Check:
    try:
        return run(ctx)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
        return Check(
            name,
            "fail",
            f"the check itself failed: {type(exc).__name__}: {exc}",
            (),
            "Please report this with the markdown() output of this report.",
        )


def doctor(
    project: str | None = None,
    *,
    drive_dir: str | os.PathLike[str] | None = None,
    mountpoint: str | os.PathLike[str] = _setup.DEFAULT_MOUNTPOINT,
    content_dir: str | os.PathLike[str] = _setup.DEFAULT_CONTENT_DIR,
    network: bool = True,
) -> Report:
    """Diagnose the runtime, Drive and the project; change nothing; never raise for a finding.

    Args:
        project: folder relative to My Drive; default the project set up in this process.
        drive_dir: the My Drive folder (found as ``setup()`` finds it when omitted).
        mountpoint: where Colab mounts Drive.
        content_dir: where ``setup()`` makes the link.
        network: allow the update check (a short HTTP request); False skips it.

    Returns:
        A ``Report``: ``print(report)``, or let the notebook show it as a table.
    """
    started = time.perf_counter()
    ctx = _Context(project, drive_dir, mountpoint, content_dir, network, _colab.on_colab())
    ctx.environment = _environment(ctx)  # read once: the environment check and the report
    checks = [_run_check(name, run, ctx) for name, run in _CHECKS]
    return Report(
        tuple(checks),
        project=_project_name(ctx),
        environment=ctx.environment,
        seconds=time.perf_counter() - started,
        redactions=_redactions(ctx),
    )
