"""doctor()'s speed-ups, each pinned to stay correct.

The GPU probes start before doctor()'s heavy imports, and are always collected by its GPU check;
installed metadata (colab_bootstrap's install origin, a package's version) is read once while its
files stay the same; the shadowed-name check reads only the top of the walk.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import colab_bootstrap
from colab_bootstrap import _doctor, _scan, _update
from colab_bootstrap._probe import DEFAULT_TIMEOUT
from colab_bootstrap._session import SESSION
from conftest import FakeNvidiaSmi, bounded, nvidia_data, write_dist, write_fake_nvidia_smi

T4 = nvidia_data("list-t4.txt")
T4_QUERY = nvidia_data("t4.csv")
HEAVY = ("typing", "dataclasses", "pathlib", "inspect", "importlib.metadata", "email")


def _project(mydrive: Path) -> Path:
    folder = mydrive / "proj"
    (folder / "pkg").mkdir(parents=True)
    (folder / "prep.py").write_text("X = 1\n")
    (folder / "pkg" / "__init__.py").write_text("")
    return folder


def _running(fake: FakeNvidiaSmi) -> list[int]:
    """The fake's processes (the script, its sleep) still running: neither gone nor a zombie."""
    alive = []
    for pid in fake.pids():
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # gone
        state = stat.rsplit(b")", 1)[1].split()[0]
        if state not in (b"Z", b"X") and (b"sleep" in command or b"nvidia-smi" in command):
            alive.append(pid)
    return alive


# --- the GPU probes: started first, always collected ----------------------------------------


def test_doctor_starts_nvidia_smi_before_its_heavy_imports(tmp_path: Path, mydrive: Path) -> None:
    """In a fresh interpreter, nvidia-smi starts before typing, dataclasses, metadata... load."""
    _project(mydrive)
    fake = write_fake_nvidia_smi(tmp_path / "bin", listing=T4, query=T4_QUERY, delay=0.05)
    code = textwrap.dedent(
        f"""
        import sys
        before = set(sys.modules)
        seen = []

        def hook(event, args):
            if event == "subprocess.Popen" and not seen and "nvidia-smi" in str(args[0]):
                seen.append(sorted(set({HEAVY!r}) & (set(sys.modules) - before)))

        sys.addaudithook(hook)
        import colab_bootstrap
        report = colab_bootstrap.doctor("proj", drive_dir={str(mydrive)!r}, network=False)
        import json
        print(json.dumps({{"heavy": seen, "gpu": report["Accelerator"].summary}}))
        """
    )
    env = {**os.environ, "PATH": f"{fake.bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["heavy"] == [[]]
    assert "Tesla T4" in out["gpu"]
    assert fake.listings() == ["-L"]


def test_doctor_collects_the_probes_it_starts(mydrive: Path, fake_nvidia_smi: Any) -> None:
    """Nothing is left pending or running after doctor(); a second call gives the same answer."""
    _project(mydrive)
    fake = fake_nvidia_smi(listing=T4, query=T4_QUERY, delay=0.05)
    first = colab_bootstrap.doctor("proj", network=False)
    assert SESSION.probes is None
    assert SESSION.gpu is not None
    assert _running(fake) == []
    assert (first["Accelerator"].status, first["GPU tooling"].status) == ("ok", "ok")
    second = colab_bootstrap.doctor("proj", network=False)
    assert second["Accelerator"] == first["Accelerator"]
    assert second["GPU tooling"] == first["GPU tooling"]
    assert fake.listings() == ["-L"]  # the answer is kept for the process: asked once
    assert len(fake.queries()) == 1


def test_a_refused_doctor_call_starts_nothing(mydrive: Path, fake_nvidia_smi: Any) -> None:
    """Options are checked before the probes start: a ValueError leaves nothing running."""
    fake = fake_nvidia_smi(listing=T4, query=T4_QUERY)
    with pytest.raises(ValueError, match="NUL"):
        colab_bootstrap.doctor("proj", drive_dir="bad\0dir")
    assert SESSION.probes is None
    assert fake.calls() == []


def test_a_probe_setup_left_pending_is_collected_by_doctor(
    mydrive: Path, fake_nvidia_smi: Any
) -> None:
    """Probes another call started (a setup() that failed) are the doctor's answer: one run."""
    _project(mydrive)
    fake = fake_nvidia_smi(listing=T4, query=T4_QUERY)
    with pytest.raises(colab_bootstrap.ProjectNotFoundError):
        colab_bootstrap.setup("missing")
    left_pending = SESSION.probes is not None
    assert left_pending
    report = colab_bootstrap.doctor("proj", network=False)
    assert report["Accelerator"].status == "ok"
    assert SESSION.probes is None  # collected by the doctor
    assert fake.listings() == ["-L"]


def test_the_early_probe_keeps_its_deadline(mydrive: Path, fake_nvidia_smi: Any) -> None:
    """A hung driver: doctor() answers after the probe's own timeout, its nvidia-smi killed."""
    _project(mydrive)
    fake = fake_nvidia_smi(listing=T4, query=T4_QUERY, delay=60)
    started = time.monotonic()
    report = bounded(lambda: colab_bootstrap.doctor("proj", network=False), 30)
    took = time.monotonic() - started
    assert DEFAULT_TIMEOUT - 0.5 < took < DEFAULT_TIMEOUT + 5
    check = report["Accelerator"]
    assert check.status == "warn"
    assert f"did not answer within {DEFAULT_TIMEOUT:g}s" in " ".join(
        (check.summary, *check.details)
    )
    deadline = time.monotonic() + 5
    while _running(fake) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(fake) == []


# --- installed metadata: read once while it stays the same ----------------------------------

#: Seconds after which a file written now counts as settled (kept answers are then used).
SETTLE = _update._SETTLE_NS / 1e9 + 0.2


@pytest.fixture(scope="module")
def settled_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Folders for sys.path holding installs, written once and left to settle (one wait)."""
    root = tmp_path_factory.mktemp("sites")
    names = ("rewrite", "version", "reinstall", "shadow", "other", "package")
    sites = {name: root / name for name in names}
    git = {"url": "https://github.com/a/colab-bootstrap.git", "vcs_info": {"vcs": "git"}}
    for name in ("rewrite", "version", "reinstall", "other"):
        write_dist(sites[name], "colab-bootstrap", colab_bootstrap.__version__, direct_url=git)
    sites["shadow"].mkdir()  # empty for now: an install appears in it later
    write_dist(sites["package"], "ipython-stand-in", "1.0.0")
    time.sleep(SETTLE)
    return sites


def _installed_from(report: colab_bootstrap.Report) -> str:
    details = report["Environment"].details
    return next(d for d in details if d.startswith("colab_bootstrap installed from: "))


def _first_on_path(site: Path) -> None:
    sys.path.insert(0, str(site))  # the session fixture restores sys.path afterwards


def test_a_rewritten_direct_url_json_is_read_again(
    settled_sites: dict[str, Path], mydrive: Path
) -> None:
    """direct_url.json rewritten in place (same size) after the answer was kept: seen."""
    _first_on_path(settled_sites["rewrite"])
    assert "github.com/a/" in _installed_from(colab_bootstrap.doctor(network=False))
    assert "install origin" in SESSION.installed  # kept, so the next call could reuse it
    info = settled_sites["rewrite"] / f"colab_bootstrap-{colab_bootstrap.__version__}.dist-info"
    text = (info / "direct_url.json").read_text()
    (info / "direct_url.json").write_text(text.replace("/a/", "/b/"))
    assert "github.com/b/" in _installed_from(colab_bootstrap.doctor(network=False))


def test_a_rewritten_version_asks_for_a_restart(
    settled_sites: dict[str, Path], mydrive: Path
) -> None:
    """METADATA rewritten in place with another version: the restart warning appears."""
    _first_on_path(settled_sites["version"])
    assert colab_bootstrap.doctor(network=False)["Environment"].status == "ok"
    assert "install origin" in SESSION.installed
    info = settled_sites["version"] / f"colab_bootstrap-{colab_bootstrap.__version__}.dist-info"
    metadata = (info / "METADATA").read_text()
    (info / "METADATA").write_text(metadata.replace(colab_bootstrap.__version__, "99.0.0"))
    check = colab_bootstrap.doctor(network=False)["Environment"]
    assert check.status == "warn"
    assert check.fix is not None
    assert "99.0.0 is installed" in check.fix


def test_a_reinstall_is_read_again(settled_sites: dict[str, Path], mydrive: Path) -> None:
    """As pip --force-reinstall does: the metadata folder removed and written anew."""
    _first_on_path(settled_sites["reinstall"])
    assert "github.com/a/" in _installed_from(colab_bootstrap.doctor(network=False))
    assert "install origin" in SESSION.installed
    old = settled_sites["reinstall"] / f"colab_bootstrap-{colab_bootstrap.__version__}.dist-info"
    shutil.rmtree(old)
    write_dist(
        settled_sites["reinstall"],
        "colab-bootstrap",
        colab_bootstrap.__version__,
        direct_url={"url": "file:///src/colab-bootstrap", "dir_info": {}},
    )
    assert "folder file:///src/colab-bootstrap" in _installed_from(
        colab_bootstrap.doctor(network=False)
    )


def test_an_install_earlier_on_sys_path_is_read_again(
    settled_sites: dict[str, Path], mydrive: Path
) -> None:
    """A new install in a folder earlier on sys.path now comes first: seen."""
    _first_on_path(settled_sites["other"])
    _first_on_path(settled_sites["shadow"])
    assert "github.com/a/" in _installed_from(colab_bootstrap.doctor(network=False))
    assert "install origin" in SESSION.installed
    write_dist(
        settled_sites["shadow"],
        "colab-bootstrap",
        colab_bootstrap.__version__,
        direct_url={"url": "https://github.com/c/colab-bootstrap.git", "vcs_info": {}},
    )
    assert "github.com/c/" in _installed_from(colab_bootstrap.doctor(network=False))


def test_a_package_version_is_read_again_when_rewritten(settled_sites: dict[str, Path]) -> None:
    """The version the report shows for an unimported package follows its METADATA."""
    _first_on_path(settled_sites["package"])
    assert _doctor._package_version("ipython-stand-in") == "1.0.0"
    assert "version of ipython-stand-in" in SESSION.installed
    info = settled_sites["package"] / "ipython_stand_in-1.0.0.dist-info"
    (info / "METADATA").write_text((info / "METADATA").read_text().replace("1.0.0", "2.0.0"))
    assert _doctor._package_version("ipython-stand-in") == "2.0.0"
    assert _doctor._package_version("no-such-package-anywhere") is None


def test_a_fresh_install_is_not_kept_until_it_settles(tmp_path: Path, mydrive: Path) -> None:
    """Files written just now could change again within their time tick: nothing is kept."""
    write_dist(tmp_path / "site", "colab-bootstrap", "1.0.0")
    _first_on_path(tmp_path / "site")
    report = colab_bootstrap.doctor(network=False)
    assert "a package index (1.0.0)" in _installed_from(report)
    assert "install origin" not in SESSION.installed


def test_not_installed_is_never_kept(tmp_path: Path) -> None:
    """No install found means every distribution's metadata was read: too much to watch."""
    assert _update.install_origin(path=[str(tmp_path)]).kind == "not installed"
    assert "install origin" not in SESSION.installed


# --- the shadowed-name check reads the top of the walk only ---------------------------------

_NAMES = st.sampled_from(
    ["a", "b", "pkg", "x1", "1bad", "__init__", "data", ".hidden", "c-d", "__pycache__", ".git"]
)
_KINDS = st.sampled_from([".py", ".txt", "", "/", "/__init__.py", "/sub/__init__.py", "/m.py"])
_counter = itertools.count()


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=st.lists(st.tuples(_NAMES, _KINDS, _NAMES), max_size=12),
    limit=st.one_of(st.none(), st.integers(min_value=0, max_value=12)),
)
def test_top_level_modules_are_those_the_whole_walk_gives(
    tmp_path: Path, entries: list[tuple[str, str, str]], limit: int | None
) -> None:
    """Root ``.py`` files and root folders with an ``__init__.py``, as from every file walked."""
    root = Path(tempfile.mkdtemp(dir=tmp_path, prefix=f"t{next(_counter)}-"))
    for name, kind, inner in entries:
        if kind == "/":  # a file two folders down
            path = root / name / inner / "deep" / f"{inner}.py"
        elif kind.startswith("/"):
            path = root / name / kind[1:]
        else:
            path = root / f"{name}{kind}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.write_text("")
        except OSError:  # a file where a folder is wanted, or the other way round
            continue
    walked = _scan.scan(root) if limit is None else _scan.scan(root, limit=limit)
    files = set(walked.files)
    expected = {f[:-3] for f in files if "/" not in f and f.endswith(".py")}
    expected |= {d for d in walked.dirs if "/" not in d and f"{d}/__init__.py" in files}
    assert _doctor._top_level_modules(walked) == sorted(n for n in expected if n.isidentifier())
