"""The command line, ``colab-bootstrap`` and ``python -m colab_bootstrap``: the only printer.

It runs in a process of its own, not in the notebook: ``setup`` proves the notebook cell will
work (and links the folder), ``doctor`` looks at Drive and the project but cannot see a
notebook's ``sys.path``, autoreload or loaded modules. Messages speak the command line's
language (``--create``, "run the command again"): the session record is told so.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ._errors import ColabBootstrapError
from ._files import file_kind, write_atomic
from ._session import GPU_POLICIES, SESSION
from ._version import __version__

__all__ = ["main"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict

    class _Location(TypedDict):
        """The three location options of setup() and doctor()."""

        drive_dir: str | None
        mountpoint: str | None
        content_dir: str | None


def _add_location(command: argparse.ArgumentParser, *, content_help: str) -> None:
    """--drive, --mountpoint and --content-dir: where setup() and doctor() look."""
    command.add_argument("--drive", metavar="DIR", help="the My Drive folder")
    command.add_argument(
        "--mountpoint",
        metavar="DIR",
        help=f"Colab's Drive mountpoint (default {SESSION.defaults.mountpoint})",
    )
    command.add_argument("--content-dir", metavar="DIR", help=content_help)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colab-bootstrap",
        description="Mount Drive, check the GPU and wire a Drive dev folder into Colab.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    setup = commands.add_parser(
        "setup",
        help="check that a project folder can be set up (and link it with --content-dir)",
        description="Find My Drive and the project folder, check the GPU, and (with "
        "--content-dir, or on Colab) link the folder. sys.path and autoreload only matter "
        "inside a notebook, so this command mostly proves the notebook cell will work.",
    )
    setup.add_argument("project", help="folder relative to My Drive, e.g. fastai_course2")
    _add_location(setup, content_help="make the link in this folder")
    setup.add_argument(
        "--gpu", choices=GPU_POLICIES, default="warn", help="without a GPU: warn, fail, or skip"
    )
    setup.add_argument("--create", action="store_true", help="create the folder if missing")
    setup.add_argument(
        "--link-name",
        metavar="NAME",
        help="name of the link in the content folder (default: the project folder's name)",
    )
    setup.add_argument("--force-remount", action="store_true", help="remount Drive on Colab")
    setup.add_argument(
        "--mount-timeout",
        type=float,
        metavar="SECONDS",
        help="how long Colab's drive.mount may wait for Drive (default: 120, Colab's own)",
    )
    setup.add_argument(
        "--install",
        action="store_true",
        help="pip-install the unmet requirements of the project (requirements.txt, pyproject.toml)",
    )

    doctor = commands.add_parser(
        "doctor",
        help="diagnose the runtime, Drive and a project; exit 1 when a check fails",
        description="Check everything setup() relies on and print each finding with its fix. "
        "Changes nothing. Exit status: 0 no failure, 1 a check failed, 2 bad arguments.",
    )
    doctor.add_argument("project", nargs="?", help="folder relative to My Drive")
    _add_location(doctor, content_help="where setup() made the link")
    form = doctor.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the report as JSON")
    form.add_argument("--markdown", action="store_true", help="print a block for a bug report")
    doctor.add_argument("--offline", action="store_true", help="skip the update check (network)")

    dedupe = commands.add_parser(
        "dedupe",
        help="resolve Drive copies like 'name (1).py' (a dry run unless --apply)",
        description="Group each plain name with its Drive copies ('prep (1).py', ...), keep the "
        "newest version under the plain name and, with --apply, move every other version into "
        "PATH/.colab_bootstrap/trash/<UTC time>/ with a manifest. Nothing is deleted.",
    )
    dedupe.add_argument(
        "path", nargs="?", default=".", help="the project folder (default: the current folder)"
    )
    dedupe.add_argument("--apply", action="store_true", help="carry the plan out")

    snippet = commands.add_parser(
        "snippet",
        help="write a Colab snippet notebook for a project",
        description="Write a notebook of Colab snippets (set up PROJECT, doctor, reset, reset "
        "with remount, dedupe dry run). Put it on Drive, open it in Colab and register its URL "
        "under Tools > Settings > Site > Custom snippet notebook URL.",
    )
    snippet.add_argument("project", help="folder relative to My Drive, e.g. fastai_course2")
    snippet.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default="colab_bootstrap_snippets.ipynb",
        help="where to write it (default: %(default)s)",
    )
    snippet.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    snippet.add_argument("--install-url", metavar="URL", help="what the setup snippet pip-installs")
    return parser


_NOT_SEEN = (
    "note: this command runs in a process of its own, so it cannot see a notebook's state "
    "(sys.path, autoreload, loaded modules, the options its setup() used). For a bug report "
    "from a notebook, run print(colab_bootstrap.doctor().markdown()) in a cell of it."
)


def _location(args: argparse.Namespace) -> _Location:
    """--drive, --mountpoint and --content-dir as setup() and doctor() take them."""
    return {
        "drive_dir": args.drive,
        "mountpoint": args.mountpoint,
        "content_dir": args.content_dir,
    }


def _run_doctor(args: argparse.Namespace) -> int:
    from . import doctor  # noqa: PLC0415 - the public one starts the GPU probes first

    report = doctor(args.project, **_location(args), network=not args.offline)
    if args.json:
        print(report.to_json())
    elif args.markdown:
        print(report.markdown())
    else:
        print(report)
    print(_NOT_SEEN, file=sys.stderr)
    return 0 if report.ok else 1


def _run_setup(args: argparse.Namespace) -> int:
    from ._setup import setup  # noqa: PLC0415 - keep --version instant

    project = setup(
        args.project,
        **_location(args),
        gpu=args.gpu,
        force_remount=args.force_remount,
        create=args.create,
        install=args.install,
        link_name=args.link_name,
        mount_timeout=args.mount_timeout,
    )
    print(project)
    return 0


def _run_dedupe(args: argparse.Namespace) -> int:
    from ._dedupe import dedupe  # noqa: PLC0415 - keep --version instant

    plan = dedupe(args.path, apply=args.apply)
    print(plan)
    return 0 if plan.ok else 1


def _unwritable(path: Path, mode: int | None) -> str | None:
    """Why ``path`` must not be written (``mode``: its lstat mode, None when absent), or None."""
    if mode is not None and stat.S_ISDIR(mode):
        return f"{path} is a folder. Pass -o a file name, e.g. -o {path / 'snippets.ipynb'}."
    if mode is not None and not stat.S_ISREG(mode):
        return (
            f"{path} is {file_kind(mode)}, not a regular file, and was left as it is: only a "
            "regular file is ever replaced. Pass -o the path of a regular file."
        )
    if not path.parent.is_dir():
        return f"cannot write {path}: the folder {path.parent} does not exist. Create it first."
    return None


def _write_new(path: Path, text: str, *, force: bool) -> str | None:
    """Write ``text`` to ``path``; return an error message instead of clobbering anything.

    ``force`` replaces a regular file only (a new file beside it, renamed over it): a link, a
    FIFO or a device at ``path`` is refused, so ``-o /dev/full --force`` never turns a device
    node into a file, and a link never redirects the write.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}."
    problem = _unwritable(path, mode)
    if problem is not None:
        return problem
    try:
        if force and mode is not None:  # replaced in one step, keeping its permissions
            write_atomic(path, text, mode=stat.S_IMODE(mode))
            return None
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return f"{path} already exists and was left as it is. Pass --force to overwrite it."
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}."
    return None


def _run_snippet(args: argparse.Namespace) -> int:
    from ._snippets import snippets  # noqa: PLC0415 - keep --version instant

    options = {"install_url": args.install_url} if args.install_url else {}
    notebook = snippets(args.project, **options)
    text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
    path = Path(args.output)
    problem = _write_new(path, text, force=args.force)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    count = sum(1 for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    print(f"wrote {path}: {count} snippets for {args.project!r}")
    print(
        "next: 1. put it on Google Drive; 2. open it in Colab and copy its URL; 3. paste the "
        "URL under Tools > Settings > Site > Custom snippet notebook URL (or run "
        "colab_bootstrap.register_snippets(URL) in Colab). Then search 'colab_bootstrap' in "
        "Insert > Code snippets."
    )
    return 0


@contextmanager
def _speaking_as_the_command_line() -> Iterator[None]:
    """Messages name flags (``--create``), not keywords (``create=True``), while this runs."""
    before = SESSION.surface
    SESSION.surface = "cli"
    try:
        yield
    finally:
        SESSION.surface = before


def _quiet_stdout() -> None:
    """The reader of our output went away (``| head``): drop the rest, without a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {
        "dedupe": _run_dedupe,
        "doctor": _run_doctor,
        "setup": _run_setup,
        "snippet": _run_snippet,
    }
    with warnings.catch_warnings(record=True) as caught, _speaking_as_the_command_line():
        warnings.simplefilter("always")
        try:
            status = handlers[args.command](args)
        except (ColabBootstrapError, ValueError) as exc:
            # A bad value on the command line (project name, link name, timeout) is a bad
            # argument: exit 2. Every error the commands document is one line, no traceback.
            status = 2 if isinstance(exc, ValueError) else 1
            print(f"error: {exc}", file=sys.stderr)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 failure, 2 bad arguments)."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a reader that went away shows here, not at exit
    except BrokenPipeError:
        _quiet_stdout()
        return 1
