"""Benchmarks: what colab_bootstrap costs beyond the mount and one nvidia-smi call.

Run it with ``nox -s bench`` (or ``python benchmarks/run.py`` where colab_bootstrap is
installed). Every figure is a median over repeated runs, shown as a ratio against a baseline
measured in the same run on the same machine; absolute times only explain the ratios.

No network is used: Colab's ``google.colab`` is the test suite's fake (tests/fakes), and
``nvidia-smi`` is a fake script that answers after 50 ms, about what a real one takes.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FAKES = ROOT / "tests" / "fakes"
T4_QUERY = (
    "0, GPU-1b965d81, 0, 15109, 0, 15109, 460.32.03, Tesla T4, 1561120016390, Disabled, "
    "Enabled, 36\n"
)
T4_LIST = "GPU 0: Tesla T4 (UUID: GPU-1b965d81)\n"


@dataclass
class Row:
    """One line of the table."""

    name: str
    ours_s: float
    baseline_s: float
    baseline: str
    target: float | None  # None: a context figure (not a product row), printed apart
    spread: str = ""  # how the samples spread, where a row reports it (printed under the table)

    @property
    def ratio(self) -> float:
        """Ours over the baseline."""
        return self.ours_s / self.baseline_s if self.baseline_s else float("inf")

    @property
    def met(self) -> bool:
        """Whether the ratio is within the target (a context figure has none)."""
        return self.target is None or self.ratio <= self.target


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _quartiles(samples: list[float], scale: float = 1.0) -> str:
    """The first and third quartiles, as ``q1 to q3``."""
    if len(samples) < 2:
        return f"{samples[0] * scale:.2f}"
    q1, _, q3 = statistics.quantiles(samples, n=4)
    return f"{q1 * scale:.2f} to {q3 * scale:.2f}"


def _time_call(func: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Median seconds of one call of ``func`` (each sample averages ``number`` calls)."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            func()
        samples.append((time.perf_counter() - start) / number)
    return _median(samples)


def _time_process(argv: list[str], env: dict[str, str], before: Callable[[], None]) -> float:
    before()
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _child_env(env: dict[str, str]) -> dict[str, str]:
    """Children may write byte-code: an installed package has it (pip compiles on install)."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _interleaved(
    ours: list[str], base: list[str], env: dict[str, str], repeat: int, before: Callable[[], None]
) -> tuple[float, float]:
    """Run two commands alternately ``repeat`` times each, after one untimed warm-up each.

    The warm-up writes the byte-code caches, as a first import after `pip install` finds them.
    """
    env = _child_env(env)
    _time_process(ours, env, before)
    _time_process(base, env, before)
    a, b = [], []
    for _ in range(repeat):
        a.append(_time_process(ours, env, before))
        b.append(_time_process(base, env, before))
    return _median(a), _median(b)


def bench_import(repeat: int) -> Row:
    env = dict(os.environ)
    ours, base = _interleaved(
        [sys.executable, "-c", "import colab_bootstrap"],
        [sys.executable, "-c", "pass"],
        env,
        repeat,
        lambda: None,
    )
    return Row("import colab_bootstrap (fresh process)", ours, base, "python -c pass", 1.25)


#: What a notebook imports after setup(): big installed packages and stdlib packages. Those
#: absent from the venv (IPython in `nox -s bench`) are left out; the row names what it imported.
AFTER_SETUP_IMPORTS = (
    "IPython",
    "requests",
    "packaging.requirements",
    "email.mime.multipart",
    "xml.dom.minidom",
)

# One child process; argv: side ("plain", "setup" or "pre-fix"), the drive folder, the file
# listing the modules setup() loaded. Only the import statement is timed.
_AFTER_SETUP_CHILD = """\
import importlib, json, os, sys, time
side, drive, loaded = sys.argv[1:4]
if sys.pycache_prefix is not None:
    raise SystemExit(f"inherited sys.pycache_prefix {{sys.pycache_prefix!r}}")
import colab_bootstrap
if side != "plain":
    colab_bootstrap.setup("proj", drive_dir=drive, gpu="ignore")
if side == "pre-fix":  # what setup() did before commit 19795ee
    sys.pycache_prefix = os.path.join(os.environ["XDG_CACHE_HOME"], "colab_bootstrap", "pycache")
if not os.path.exists(loaded):
    with open(loaded, "w") as f:
        json.dump(sorted(sys.modules), f)
with open(loaded) as f:
    names = json.load(f)
for name in names:  # both sides start the timed import with the modules setup() loaded
    try:
        importlib.import_module(name)
    except Exception:
        pass
before = len(sys.modules)
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(json.dumps({{"s": elapsed, "before": before, "after": len(sys.modules)}}))
"""


def _after_setup_env() -> dict[str, str]:
    """No inherited byte-code redirection: the children find the .pyc files pip would write."""
    env = _child_env(dict(os.environ))
    env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def _run_child(argv: list[str], env: dict[str, str], cache: Path) -> dict[str, float]:
    """One fresh process with its own empty XDG_CACHE_HOME (a fresh runtime's ``~/.cache``)."""
    cache.mkdir(parents=True)
    proc = subprocess.run(
        argv, env={**env, "XDG_CACHE_HOME": str(cache)}, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[3]} child failed:\n{proc.stderr}")
    result: dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return result


def bench_imports_after_setup(root: Path, repeat: int) -> list[Row]:
    """Importing installed packages right after setup() vs without it, in fresh processes.

    Guards against a process-wide byte-code setting (``sys.pycache_prefix`` before 19795ee):
    every later import then compiled from source. Each child gets an empty cache folder, as a
    fresh Colab runtime has, so such a setting shows up on every sample, not only the first.
    A third side sets ``sys.pycache_prefix`` by hand after setup() as the old code did: the
    pre-fix behaviour, printed as context, never a product row.
    """
    names = [n for n in AFTER_SETUP_IMPORTS if importlib.util.find_spec(n.partition(".")[0])]
    statement = f"import {', '.join(names)}"
    drive = root / "drive"
    (drive / "proj").mkdir(parents=True)
    loaded = root / "loaded.json"
    code = _AFTER_SETUP_CHILD.format(statement=statement)
    env = _after_setup_env()
    caches = (root / "cache" / str(i) for i in itertools.count())

    def run(side: str) -> dict[str, float]:
        argv = [sys.executable, "-c", code, side, str(drive), str(loaded)]
        return _run_child(argv, env, next(caches))

    run("setup")  # untimed: lists what setup() loaded, writes the .pyc files pip would have
    run("plain")
    samples: dict[str, list[float]] = {"setup": [], "plain": [], "pre-fix": []}
    starts: dict[str, set[float]] = {side: set() for side in samples}
    for i in range(repeat):
        for side in ("pre-fix", *(("setup", "plain") if i % 2 == 0 else ("plain", "setup"))):
            result = run(side)
            samples[side].append(result["s"])
            starts[side].add(result["before"])
    if starts["setup"] != starts["plain"]:
        print(f"note: modules loaded before the timed import differ: {starts}", file=sys.stderr)
    ours, base, old = (_median(samples[side]) for side in ("setup", "plain", "pre-fix"))
    shown = ", ".join(names)
    pairs = [a / b for a, b in zip(samples["setup"], samples["plain"])]
    spread = (
        f"quartiles: ours {_quartiles(samples['setup'], 1e3)} ms, baseline "
        f"{_quartiles(samples['plain'], 1e3)} ms, ratio per round {_quartiles(pairs)}"
    )
    return [
        Row(
            f"imports after setup() (`import {shown}`, fresh process)",
            ours,
            base,
            "the same imports without setup()",
            1.05,
            spread,
        ),
        Row(
            "pre-fix behaviour, for context: the same imports with sys.pycache_prefix set "
            "after setup() as before 19795ee (empty cache)",
            old,
            base,
            "the same imports without setup()",
            None,
        ),
    ]


def _fake_nvidia_smi(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "query").write_text(T4_QUERY)
    (folder / "list").write_text(T4_LIST)
    script = folder / "nvidia-smi"
    script.write_text(
        textwrap.dedent(
            f"""\
            #!/bin/sh
            sleep 0.05
            case "$*" in
              *--query-gpu*) cat '{folder / "query"}' ;;
              *-L*) cat '{folder / "list"}' ;;
              *) echo "NVIDIA-SMI fake" ;;
            esac
            """
        )
    )
    script.chmod(0o755)


def _drivefs() -> Any:
    """The fake DriveFS's helpers (tests/fakes/drivefs.py)."""
    spec = importlib.util.spec_from_file_location("drivefs", FAKES / "drivefs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Each child stands in for a notebook kernel, which the fake drive.mount needs.
_AS_KERNEL = 'import os; os.environ["FAKE_COLAB_KERNEL_PID"] = str(os.getpid())\n'


def _colab_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FAKE_COLAB_ROOT"] = str(root / "colab")
    env["COLAB_RELEASE_TAG"] = "release-colab-benchmark"
    env["TBE_EPHEM_CREDS_ADDR"] = "127.0.0.1:8009"
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), env.get("PYTHONPATH")]))
    env["XDG_CACHE_HOME"] = str(root / "cache")
    return env


def bench_first_setup(root: Path, repeat: int) -> Row:
    # The fake Drive is a real FUSE mount: it needs root and a mount namespace of this run's
    # own (the test suite's, when it runs this script).
    drivefs = _drivefs()
    if not drivefs.in_private_namespace():
        problem = drivefs.private_mount_namespace()
        if problem:
            raise SystemExit(f"first-setup mounts the fake Drive, and {problem}")
    colab = root / "colab"
    (colab / "var" / "colab").mkdir(parents=True)
    (colab / "var" / "colab" / "hostname").write_text("bench\n")
    (colab / "drivefs" / "MyDrive" / "proj").mkdir(parents=True)
    (colab / "drivefs" / "MyDrive" / "proj" / "prep.py").write_text("X = 1\n")
    (colab / "drivefs" / "Shareddrives").mkdir()
    _fake_nvidia_smi(root / "bin")
    content = root / "content"
    content.mkdir()
    mountpoint = content / "drive"

    def fresh_runtime() -> None:
        drivefs.stop([str(colab)], under=content)  # the last run's daemon and mount
        if str(mountpoint) in [point for point, _ in drivefs.mounts()]:
            raise RuntimeError(f"{mountpoint} is still mounted")
        shutil.rmtree(mountpoint, ignore_errors=True)
        link = content / "proj"
        if link.is_symlink():
            link.unlink()

    ours = _AS_KERNEL + textwrap.dedent(
        f"""
        import colab_bootstrap
        colab_bootstrap.setup("proj", mountpoint={str(mountpoint)!r}, content_dir={str(content)!r})
        """
    )
    seed = _AS_KERNEL + textwrap.dedent(
        f"""
        import subprocess, sys
        from google.colab import drive
        drive.mount({str(mountpoint)!r}, force_remount=True)
        sys.path.append({str(mountpoint / "MyDrive" / "proj")!r})
        subprocess.run(["nvidia-smi"], capture_output=True)
        """
    )
    try:
        mine, base = _interleaved(
            [sys.executable, "-W", "ignore", "-c", ours],
            [sys.executable, "-c", seed],
            _colab_env(root),
            repeat,
            fresh_runtime,
        )
    finally:
        drivefs.stop([str(colab)], under=content)
    return Row(
        "first setup() in a fresh process (fake FUSE mount, 50 ms nvidia-smi)",
        mine,
        base,
        "seed snippet: mount + sys.path.append + one nvidia-smi",
        1.3,
    )


def bench_second_setup(root: Path, repeat: int) -> Row:
    import colab_bootstrap  # noqa: PLC0415

    drive = root / "drive2"
    (drive / "proj").mkdir(parents=True)
    links = root / "links2"
    kwargs = {"drive_dir": str(drive), "content_dir": str(links), "gpu": "ignore"}
    colab_bootstrap.setup("proj", **kwargs)  # type: ignore[arg-type]
    number = 2000
    ours = _time_call(lambda: colab_bootstrap.setup("proj", **kwargs), repeat, number)  # type: ignore[arg-type]
    folder = str(drive / "proj")
    base = _time_call(lambda: os.stat(folder), repeat, number)
    return Row("second setup() in the same process", ours, base, "one os.stat of the folder", 20)


def make_tree(root: Path, folders: int, files_per_folder: int) -> Path:
    """A project of ``folders`` folders (10 per level) with mixed code and data files."""
    project = root / "MyDrive" / "bigproj"
    kinds = (".py", ".csv", ".txt", ".png", ".json")
    for i in range(folders):
        folder = project / f"part{i // 10:03d}" / f"sub{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(files_per_folder):
            ext = kinds[j % len(kinds)]
            body = f"def f{j}():\n    return {j}\n" if ext == ".py" else f"{i},{j}\n"
            (folder / f"file{j}{ext}").write_text(body)
    (project / "prep.py").write_text("X = 1\n")
    return project


def bench_doctor(root: Path, repeat: int, folders: int, files_per_folder: int) -> Row:
    import colab_bootstrap  # noqa: PLC0415

    project = make_tree(root / "tree", folders, files_per_folder)
    drive = project.parent
    colab_bootstrap.doctor("bigproj", drive_dir=drive, network=False)  # warm caches (GPU check)

    def walk() -> None:
        for _ in os.walk(project):
            pass

    ours = _time_call(
        lambda: colab_bootstrap.doctor("bigproj", drive_dir=drive, network=False), repeat
    )
    base = _time_call(walk, repeat)
    total = folders * files_per_folder
    return Row(
        f"doctor() on {total:,} files in {folders:,} folders (network off)",
        ours,
        base,
        "os.walk over the same tree",
        2.0,
    )


def _module_tree(root: Path, count: int) -> tuple[Path, list[str]]:
    project = root / "MyDrive" / "mods"
    project.mkdir(parents=True)
    names = [f"bench_mod_{i:04d}" for i in range(count)]
    for i, name in enumerate(names):
        (project / f"{name}.py").write_text(f"VALUE = {i}\n\ndef f():\n    return VALUE\n")
    return project, names


def _import_all(names: list[str], namespace: dict[str, object]) -> None:
    for name in names:
        namespace[name] = importlib.import_module(name)


def _drop(names: list[str]) -> None:
    for name in names:
        sys.modules.pop(name, None)


def bench_live(root: Path, repeat: int, count: int) -> list[Row]:
    import colab_bootstrap as package  # noqa: PLC0415

    colab_bootstrap: Any = package  # stale/reset arrive with the live-code issue
    if not hasattr(colab_bootstrap, "reset"):
        return []
    project, names = _module_tree(root / "live", count)
    colab_bootstrap.setup("mods", drive_dir=project.parent, gpu="ignore", autoreload=False)
    main = sys.modules["__main__"].__dict__
    _import_all(names, main)
    files = [project / f"{name}.py" for name in names]

    def hash_all() -> None:
        for file in files:
            hashlib.sha256(file.read_bytes()).digest()

    stale = _time_call(colab_bootstrap.stale, repeat)
    hashing = _time_call(hash_all, repeat)

    def by_hand() -> None:
        _drop(names)
        importlib.invalidate_caches()
        _import_all(names, main)

    reset = _time_call(colab_bootstrap.reset, repeat)
    manual = _time_call(by_hand, repeat)
    return [
        Row(
            f"reset() with {count} project modules",
            reset,
            manual,
            "drop + re-import the same modules by hand",
            1.5,
        ),
        Row(
            f"stale() over {count} project modules",
            stale,
            hashing,
            "hashing the same files once",
            1.5,
        ),
    ]


def _table(rows: list[Row]) -> str:
    head = "| what | ours | baseline | ratio | target | met |\n|---|---:|---:|---:|---:|---|"
    lines = [head]
    lines += [
        f"| {row.name} | {row.ours_s * 1e3:.3f} ms | {row.baseline_s * 1e3:.3f} ms "
        f"({row.baseline}) | {row.ratio:.2f} | ≤ {row.target:g} | {'yes' if row.met else 'NO'} |"
        for row in rows
        if row.target is not None
    ]
    context = [row for row in rows if row.target is None]
    if context:
        lines += ["", "Context (not product rows, no target):", ""]
        lines += ["| what | ours | baseline | ratio |\n|---|---:|---:|---:|"]
        lines += [
            f"| {row.name} | {row.ours_s * 1e3:.3f} ms | {row.baseline_s * 1e3:.3f} ms "
            f"({row.baseline}) | {row.ratio:.2f} |"
            for row in context
        ]
    lines += [f"\n{row.name}: {row.spread}" for row in rows if row.spread]
    return "\n".join(lines)


#: The rows --only can pick, in the table's order.
BENCHES = ("import", "imports-after-setup", "first-setup", "second-setup", "doctor", "live")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="samples per figure")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: proves the script runs")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHES,
        metavar="NAME",
        help=f"run only this row (repeatable): {', '.join(BENCHES)}",
    )
    args = parser.parse_args(argv)
    repeat = 2 if args.quick else args.repeat
    folders, per_folder, modules = (10, 10, 20) if args.quick else (1000, 10, 500)
    with tempfile.TemporaryDirectory(prefix="colab_bootstrap-bench-") as tmp:
        root = Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")
        benches: dict[str, Callable[[], list[Row]]] = {
            "import": lambda: [bench_import(repeat)],
            "imports-after-setup": lambda: bench_imports_after_setup(root / "after", repeat),
            "first-setup": lambda: [bench_first_setup(root / "first", repeat)],
            "second-setup": lambda: [bench_second_setup(root, repeat)],
            "doctor": lambda: [bench_doctor(root, repeat, folders, per_folder)],
            "live": lambda: bench_live(root, repeat, modules),
        }
        selected = args.only or BENCHES
        rows = [row for name in BENCHES if name in selected for row in benches[name]()]
    import colab_bootstrap  # noqa: PLC0415

    print(
        f"colab_bootstrap {colab_bootstrap.__version__} on Python {platform.python_version()}, "
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, "
        f"median of {repeat} runs{' (quick sizes)' if args.quick else ''}"
    )
    print(_table(rows))
    if args.json:
        data = [{**row.__dict__, "ratio": row.ratio, "met": row.met} for row in rows]
        Path(args.json).write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
