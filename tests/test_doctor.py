"""doctor(): each check for every status it can give, the report forms, and the CLI."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import types
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import colab_bootstrap
from colab_bootstrap import _doctor
from colab_bootstrap._cli import main
from colab_bootstrap._winpaths import LINT_MAX_FILES
from conftest import (
    FakeColab,
    TagServer,
    denied,
    fresh_session,
    install_from_github,
    tree_digest,
    write_dist,
)


def _project(mydrive: Path, name: str = "proj", files: dict[str, str] | None = None) -> Path:
    folder = mydrive / name
    folder.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {"prep.py": "X = 1\n"}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def test_doctor_changes_nothing(mydrive: Path, tmp_path: Path) -> None:
    """doctor() mounts, links, writes nothing; sys.path is unchanged."""
    _project(mydrive, files={"prep.py": "X = 1\n", "pkg/__init__.py": ""})
    before, path_before = tree_digest(tmp_path), list(sys.path)
    report = colab_bootstrap.doctor("proj", content_dir=tmp_path / "links", network=False)
    assert tree_digest(tmp_path) == before
    assert sys.path == path_before
    assert [c.name for c in report.checks] == [name for name, _ in _doctor.CHECKS]


def test_environment_reports_versions_and_colab_tag(fake_colab: FakeColab) -> None:
    """On Colab the release tag is shown, with Python and our version."""
    check = colab_bootstrap.doctor(network=False)["Environment"]
    assert check.status == "ok"
    assert "release-colab-fake" in check.summary
    assert colab_bootstrap.__version__ in check.summary


def test_accelerator_ok_with_gpu(mydrive: Path, fake_nvidia_smi: object) -> None:
    """A listed GPU makes the accelerator check pass with its name."""
    fake_nvidia_smi(  # type: ignore[operator]
        listing="GPU 0: Tesla T4 (UUID: GPU-1)\n",
        query="0, GPU-1, 0, 15109, 0, 15109, 460.32.03, Tesla T4, 1, Disabled, Enabled, 36\n",
    )
    check = colab_bootstrap.doctor(network=False)["Accelerator"]
    assert check.status == "ok"
    assert "Tesla T4" in check.summary


def test_accelerator_warns_without_gpu_and_says_how_to_switch(mydrive: Path) -> None:
    """No nvidia-smi: a warning whose fix is the Colab menu path."""
    report = colab_bootstrap.doctor(network=False)
    check = report["Accelerator"]
    assert check.status == "warn"
    assert check.fix is not None
    assert "Runtime > Change runtime type" in check.fix
    assert report["GPU tooling"].status == "skip"


def test_drive_not_mounted_on_colab_fails_with_the_mount_call(fake_colab: FakeColab) -> None:
    """On Colab without a mount: fail, and the fix is the exact call; nothing is mounted."""
    report = colab_bootstrap.doctor("proj", mountpoint=fake_colab.mountpoint, network=False)
    check = report["Drive"]
    assert check.status == "fail"
    assert check.fix is not None
    assert f'drive.mount("{fake_colab.mountpoint}")' in check.fix
    assert fake_colab.calls("mount") == []
    assert report["Project"].status == "skip"
    assert not report.ok


def test_drive_found_after_mount_on_colab(fake_colab: FakeColab) -> None:
    """Once mounted, Drive and the project are found through the mountpoint."""
    fake_colab.project("proj", {"m.py": ""})
    colab_bootstrap.setup(
        "proj", mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, gpu="ignore"
    )
    report = colab_bootstrap.doctor(
        mountpoint=fake_colab.mountpoint, content_dir=fake_colab.content, network=False
    )
    assert report.project == "proj"
    assert report["Drive"].status == "ok"
    assert "Colab mount" in report["Drive"].summary
    project = report["Project"]
    assert project.status == "ok"
    assert any("link:" in d for d in project.details)
    assert any(d.startswith("sys.path[") for d in project.details)


def test_drive_missing_off_colab_fails_listing_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Off Colab with no Drive folder: fail, the places looked at, and how to point at one."""
    monkeypatch.setenv("HOME", str(tmp_path))
    check = colab_bootstrap.doctor("proj", network=False)["Drive"]
    assert check.status == "fail"
    assert any("Google Drive" in d for d in check.details)
    assert check.fix is not None
    assert "COLAB_BOOTSTRAP_DRIVE" in check.fix


def test_project_skip_without_name(mydrive: Path) -> None:
    """No project given and none set up: skip with the call to make."""
    check = colab_bootstrap.doctor(network=False)["Project"]
    assert check.status == "skip"
    assert check.fix is not None
    assert "doctor('fastai_course2')" in check.fix


def test_project_invalid_name_fails(mydrive: Path) -> None:
    """A bad name is a failed check, not an exception."""
    check = colab_bootstrap.doctor("../x", network=False)["Project"]
    assert check.status == "fail"
    assert check.fix is not None
    assert "'..'" in check.fix


def test_project_missing_suggests_close_names(mydrive: Path) -> None:
    """A missing folder fails with the close names setup() would suggest."""
    (mydrive / "FastAI_Course2").mkdir()
    check = colab_bootstrap.doctor("fastai_course2", network=False)["Project"]
    assert check.status == "fail"
    assert check.fix is not None
    assert "'FastAI_Course2'" in check.fix


def test_project_found_off_colab_outside_a_notebook_is_ok(mydrive: Path) -> None:
    """From a terminal, sys.path is not judged (it is the notebook's business)."""
    _project(mydrive)
    check = colab_bootstrap.doctor("proj", network=False)["Project"]
    assert check.status == "ok"
    assert any("not checked" in d for d in check.details)


def test_project_not_on_sys_path_warns_when_another_was_set_up(mydrive: Path) -> None:
    """In a process that set up a project, another project off sys.path is a warning."""
    _project(mydrive, "a")
    _project(mydrive, "b")
    colab_bootstrap.setup("a", gpu="ignore")
    check = colab_bootstrap.doctor("b", network=False)["Project"]
    assert check.status == "warn"
    assert "not on sys.path" in check.summary
    assert check.fix is not None
    assert "setup('b')" in check.fix


@pytest.mark.parametrize("kind", ["elsewhere", "real", "missing"])
def test_project_link_problems_warn(kind: str, mydrive: Path, tmp_path: Path) -> None:
    """A link to elsewhere, a real folder in its place, or no link: each is a warning."""
    _project(mydrive)
    links = tmp_path / "links"
    colab_bootstrap.setup("proj", content_dir=links, gpu="ignore")
    (links / "proj").unlink()
    if kind == "elsewhere":
        (links / "proj").symlink_to(tmp_path)
    elif kind == "real":
        (links / "proj").mkdir()
    check = colab_bootstrap.doctor("proj", content_dir=links, network=False)["Project"]
    assert check.status == "warn"
    expected = {"elsewhere": "points to", "real": "real file or folder", "missing": "no link"}
    assert expected[kind] in check.summary


def test_autoreload_skip_outside_ipython(mydrive: Path) -> None:
    """Outside IPython the autoreload check is skipped, not failed."""
    assert colab_bootstrap.doctor(network=False)["Autoreload"].status == "skip"


AUTORELOAD_SCRIPT = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
import colab_bootstrap
before = colab_bootstrap.doctor(network=False)["Autoreload"]
print("BEFORE", before.status, "|", before.summary, "|", " ".join(before.details))
colab_bootstrap.setup("proj", drive_dir=sys.argv[1], gpu="ignore")
after = colab_bootstrap.doctor(network=False)["Autoreload"]
print("AFTER", after.status, "|", after.summary)
"""


def test_autoreload_warns_then_ok_in_a_real_ipython(mydrive: Path, tmp_path: Path) -> None:
    """In IPython: warn while off (explaining the imp failure on 7.x + 3.12), ok after setup."""
    pytest.importorskip("IPython")
    _project(mydrive)
    script = tmp_path / "s.py"
    script.write_text(AUTORELOAD_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(mydrive)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    before = next(line for line in proc.stdout.splitlines() if line.startswith("BEFORE"))
    after = next(line for line in proc.stdout.splitlines() if line.startswith("AFTER"))
    assert before.startswith("BEFORE warn | autoreload is off")
    import IPython

    if IPython.version_info < (8,) and sys.version_info >= (3, 12):
        assert "No module named 'imp'" in before
    assert after.startswith("AFTER ok")


def test_bytecode_ok_then_warn_listing_folders(mydrive: Path) -> None:
    """__pycache__ folders inside the project are listed with the advice; none is ok."""
    folder = _project(mydrive)
    assert colab_bootstrap.doctor("proj", network=False)["Byte-code on Drive"].status == "ok"
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "prep.cpython-312.pyc").write_bytes(b"\0")
    check = colab_bootstrap.doctor("proj", network=False)["Byte-code on Drive"]
    assert check.status == "warn"
    assert "__pycache__/" in check.details
    assert (folder / "__pycache__" / "prep.cpython-312.pyc").exists()


def test_scan_limit_is_reported(mydrive: Path, tmp_path: Path) -> None:
    """A project larger than the walk limit says the walk stopped early."""
    folder = _project(mydrive)
    for i in range(12):
        (folder / f"f{i}.txt").write_text("")
    fresh_session(tmp_path, scan_limit=5)
    check = colab_bootstrap.doctor("proj", network=False)["Byte-code on Drive"]
    assert any("stopped after 5 entries" in d for d in check.details)


def test_shadowed_names_stdlib_and_earlier_entries(mydrive: Path, tmp_path: Path) -> None:
    """A project json.py loses to the stdlib; a utils.py loses to an earlier sys.path entry."""
    _project(mydrive, files={"json.py": "", "utils.py": "", "mine_only.py": ""})
    site = tmp_path / "site"
    site.mkdir()
    (site / "utils.py").write_text("")
    sys.path.insert(0, str(site))
    colab_bootstrap.setup("proj", gpu="ignore")
    check = colab_bootstrap.doctor("proj", network=False)["Shadowed names"]
    assert check.status == "warn"
    text = "\n".join(check.details)
    assert "json: also a standard-library module" in text
    assert f"utils: `import utils` gives {site / 'utils.py'}" in text
    assert "mine_only" not in text
    assert check.fix is not None
    assert "Rename" in check.fix


def test_shadowed_names_ok_for_unique_names(mydrive: Path) -> None:
    """Unique module and package names give no finding."""
    _project(mydrive, files={"prep_xyz.py": "", "pkg_xyz/__init__.py": ""})
    assert colab_bootstrap.doctor("proj", network=False)["Shadowed names"].status == "ok"


def test_root_crowding_ok_then_warn(mydrive: Path) -> None:
    """Hundreds of items directly in My Drive warn about mount timeouts."""
    _project(mydrive)
    assert colab_bootstrap.doctor("proj", network=False)["My Drive root"].status == "ok"
    for i in range(_doctor.ROOT_CROWDED):
        (mydrive / f"scan{i}.jpg").write_bytes(b"")
    check = colab_bootstrap.doctor("proj", network=False)["My Drive root"]
    assert check.status == "warn"
    assert "501 items" in check.summary
    assert check.fix is not None
    assert "folders" in check.fix


def test_a_crashing_check_is_a_failed_check(mydrive: Path) -> None:
    """A bug inside one check becomes a 'fail' entry; the other checks still run."""

    def boom(facts: _doctor.Facts) -> Any:
        raise RuntimeError("kaboom")

    facts = _doctor.gather(network=False)
    checks = _doctor.run_checks(facts, (*_doctor.CHECKS, ("Broken", boom)))
    broken = {c.name: c for c in checks}["Broken"]
    assert broken.status == "fail"
    assert "the check itself failed: RuntimeError: kaboom" in broken.summary
    assert {c.name: c for c in checks}["Drive"].status == "ok"


def test_a_fact_that_could_not_be_gathered_fails_only_its_checks(mydrive: Path) -> None:
    """A fact whose gathering raised fails the checks that read it, and no other."""
    facts = replace(_doctor.gather(network=False), gpu=_doctor.Failed("OSError: kaboom"))
    checks = {c.name: c for c in _doctor.run_checks(facts)}
    for name in ("Accelerator", "GPU tooling"):
        assert checks[name].status == "fail"
        assert "could not look: OSError: kaboom" in checks[name].summary
    assert checks["Drive"].status == "ok"
    assert checks["Environment"].status == "ok"


def test_checks_are_pure_functions_of_the_facts(mydrive: Path, tmp_path: Path) -> None:
    """Each check is registered once, and any order of the checks gives the same findings."""
    folder = _project(mydrive, files={"prep.py": "X = 1\n", "prep (1).py": "X = 2\n"})
    (folder / "__pycache__").mkdir()
    colab_bootstrap.setup("proj", content_dir=tmp_path / "links", gpu="ignore")
    names = [name for name, _ in _doctor.CHECKS]
    assert len(names) == len(set(names))
    facts = _doctor.gather(network=False)
    in_order = {c.name: c for c in _doctor.run_checks(facts)}
    for seed in range(3):
        shuffled = list(_doctor.CHECKS)
        random.Random(seed).shuffle(shuffled)  # noqa: S311 - an order, not a secret
        assert {c.name: c for c in _doctor.run_checks(facts, shuffled)} == in_order
    assert in_order["Copies and Windows paths"].status == "warn"


def test_report_forms(mydrive: Path) -> None:
    """Text: marks + verdict; HTML: colours + fixes; JSON round-trips; markdown hides paths."""
    _project(mydrive, files={"__pycache__/x.pyc": ""})
    report = colab_bootstrap.doctor("proj", network=False)
    text = str(report)
    assert text.splitlines()[0] == "colab_bootstrap doctor (project 'proj')"
    assert "[✓] Drive:" in text
    assert "[!] Byte-code on Drive:" in text
    assert "    fix: " in text
    assert text.splitlines()[-1].startswith("Found ")
    html = report._repr_html_()
    assert "#fef7e0" in html
    assert "Runtime &gt; Change runtime type" in html
    data = json.loads(report.to_json())
    assert data["ok"] is True
    assert data["checks"][0]["name"] == "Environment"
    assert {c["status"] for c in data["checks"]} <= {"ok", "warn", "fail", "skip"}
    markdown = report.markdown()
    assert str(mydrive) not in markdown
    assert "<My Drive>" in markdown
    assert "| ✓ | Drive |" in markdown


def test_cli_exit_codes_and_forms(
    mydrive: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`doctor` exits 0 when ok, 1 when a check fails, 2 on bad arguments."""
    _project(mydrive)
    assert main(["doctor", "proj", "--offline"]) == 0
    assert "[✓] Drive" in capsys.readouterr().out
    assert main(["doctor", "proj", "--offline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["project"] == "proj"
    assert main(["doctor", "proj", "--offline", "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("### colab_bootstrap doctor")
    assert main(["doctor", "missing", "--offline"]) == 1
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--json", "--markdown"])
    assert info.value.code == 2


def test_cli_doctor_as_a_real_subprocess(mydrive: Path) -> None:
    """`python -m colab_bootstrap doctor` prints the report and exits 0."""
    _project(mydrive)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "colab_bootstrap",
            "doctor",
            "proj",
            "--drive",
            str(mydrive),
            "--offline",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "colab_bootstrap doctor (project 'proj')" in proc.stdout


def test_requirements_missing_fail_with_one_pip_command(mydrive: Path) -> None:
    """A missing requirement fails check 12 and the fix is the single pip line."""
    _project(mydrive, files={"requirements.txt": "surely-not-installed-pkg>=1\n# comment\n"})
    check = colab_bootstrap.doctor("proj", network=False)["Requirements and updates"]
    assert check.status == "fail"
    assert "1 missing" in check.summary
    assert "update check: off" in check.summary
    assert check.fix is not None
    assert "pip install 'surely-not-installed-pkg>=1'" in check.fix


def test_requirements_mismatch_warns_and_met_is_ok(mydrive: Path) -> None:
    """An installed package at the wrong version warns; met requirements are ok."""
    folder = _project(mydrive, files={"requirements.txt": "pytest<1\n"})
    check = colab_bootstrap.doctor("proj", network=False)["Requirements and updates"]
    assert check.status == "warn"
    assert any(d.startswith("mismatched: pytest<1") for d in check.details)
    (folder / "requirements.txt").write_text("pytest>=1\n")
    check = colab_bootstrap.doctor("proj", network=False)["Requirements and updates"]
    assert check.status == "ok"
    assert "1 met" in check.summary


def _git_install(tmp_path: Path) -> None:
    """Make this process look installed from GitHub by git, at the version it runs."""
    install_from_github(tmp_path, colab_bootstrap.__version__)


def test_update_available_is_a_warning_with_the_install_cell(
    mydrive: Path, tmp_path: Path, tag_server: TagServer
) -> None:
    """A git install older than the newest tag warns with the --force-reinstall cell."""
    _git_install(tmp_path)
    tag_server.tags("v99.0.0", "v0.0.1")
    report = colab_bootstrap.doctor()
    check = report["Requirements and updates"]
    assert check.status == "warn"
    assert "99.0.0" in check.summary
    assert check.fix is not None
    assert "--force-reinstall" in check.fix
    assert "git+https://github.com/colab-bootstrap/colab-bootstrap" in check.fix
    assert "installed from: git" in "\n".join(report["Environment"].details)


def test_installed_version_differs_from_running_says_restart(mydrive: Path, tmp_path: Path) -> None:
    """After an upgrade in a running kernel, the environment check says to restart."""
    site = tmp_path / "site"
    write_dist(
        site, "colab-bootstrap", "99.0.0", direct_url={"url": "https://x/y", "archive_info": {}}
    )
    sys.path.insert(0, str(site))
    check = colab_bootstrap.doctor(network=False)["Environment"]
    assert check.status == "warn"
    assert check.fix is not None
    assert "99.0.0" in check.fix


def test_stale_skip_ok_and_warn(mydrive: Path) -> None:
    """No setup: skip; fresh modules: ok; an edited module (older mtime too): warn with reset()."""
    folder = _project(mydrive, files={"fresh_mod.py": "V = 1\n"})
    assert colab_bootstrap.doctor("proj", network=False)["Stale modules"].status == "skip"
    colab_bootstrap.setup("proj", gpu="ignore")
    import fresh_mod  # type: ignore[import-not-found]

    assert fresh_mod.V == 1
    assert colab_bootstrap.doctor(network=False)["Stale modules"].status == "ok"
    module = folder / "fresh_mod.py"
    old = module.stat().st_mtime
    module.write_text("V = 2\n")
    os.utime(module, (old - 100, old - 100))
    check = colab_bootstrap.doctor(network=False)["Stale modules"]
    assert check.status == "warn"
    assert any("fresh_mod" in d and "changed" in d for d in check.details)
    assert check.fix is not None
    assert "reset()" in check.fix


def test_copies_and_windows_paths_ok_then_warn(mydrive: Path) -> None:
    """A '(1)' copy and a backslash path warn with the dedupe call and the pathlib advice."""
    folder = _project(mydrive, files={"prep.py": "X = 1\n"})
    assert colab_bootstrap.doctor("proj", network=False)["Copies and Windows paths"].status == "ok"
    (folder / "prep (1).py").write_text("X = 2\n")
    (folder / "train.py").write_text("DATA = '..\\\\..\\\\data'\n")
    check = colab_bootstrap.doctor("proj", network=False)["Copies and Windows paths"]
    assert check.status == "warn"
    text = "\n".join(check.details)
    assert "copy: prep.py: prep (1).py" in text
    assert "Windows path: train.py:1" in text
    assert check.fix is not None
    assert f"dedupe({str(folder)!r}, apply=True)" in check.fix
    assert "pathlib" in check.fix
    assert (folder / "prep (1).py").exists()


T4_QUERY = "0, GPU-1, 0, 15109, 0, 15109, 460.32.03, Tesla T4, 1, Disabled, Enabled, 36\n"
T4_LIST = "GPU 0: Tesla T4 (UUID: GPU-1)\n"


def test_gpu_tooling_ok_when_gputil_answers(mydrive: Path, fake_nvidia_smi: object) -> None:
    """With a GPU, GPUtil answers (with or without setuptools) and the tooling check is ok."""
    fake_nvidia_smi(listing=T4_LIST, query=T4_QUERY)  # type: ignore[operator]
    check = colab_bootstrap.doctor(network=False)["GPU tooling"]
    assert check.status == "ok", check
    assert "GPUtil and nvidia-smi answer" in check.summary
    assert any(d.startswith("nvidia-smi: ") for d in check.details)


def test_gpu_tooling_warns_when_gputil_is_blocked(
    mydrive: Path, fake_nvidia_smi: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GPUtil unimportable (blocked here): a warning that nvidia-smi -L carried the check."""
    fake_nvidia_smi(listing=T4_LIST, query=T4_QUERY)  # type: ignore[operator]
    monkeypatch.setitem(sys.modules, "GPUtil", None)  # as if GPUtil were not installed
    report = colab_bootstrap.doctor(network=False)
    assert report["Accelerator"].status == "ok"
    check = report["GPU tooling"]
    assert check.status == "warn"
    assert "nvidia-smi -L was used instead" in check.summary
    assert any("GPUtil could not be imported" in d for d in check.details)
    assert check.fix is not None
    assert "nvidia-smi -L listed the GPUs" in check.fix


def test_tpu_runtime_is_named_not_just_no_gpu(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A TPU VM (an /dev/accel* device) is reported as a TPU runtime with the switch advice."""
    device = tmp_path / "dev" / "accel0"
    device.parent.mkdir()
    device.write_text("")
    check = colab_bootstrap.doctor(network=False)["Accelerator"]
    assert check.status == "warn"
    assert "TPU runtime, not GPU" in check.summary
    assert check.fix is not None
    assert "Change runtime type" in check.fix


def test_verdict_says_no_problems_or_counts_only_problems(
    mydrive: Path, fake_nvidia_smi: object
) -> None:
    """All passing: 'No problems found.'; failures alone are counted without warnings."""
    fake_nvidia_smi(listing=T4_LIST, query=T4_QUERY)  # type: ignore[operator]
    _project(mydrive, files={"prep_xyz.py": "X = 1\n"})
    report = colab_bootstrap.doctor("proj", network=False)
    assert {check.status for check in report.checks} <= {"ok", "skip"}, str(report)
    assert str(report).splitlines()[-1] == "No problems found."
    missing = colab_bootstrap.doctor("nope", network=False)
    assert [(c.name, c.status) for c in missing.checks if c.status in ("fail", "warn")] == [
        ("Project", "fail")
    ]
    assert str(missing).splitlines()[-1] == "Found 1 problem; each has its fix above."
    with pytest.raises(KeyError):
        missing["No such check"]


def test_a_gatherer_that_raises_fails_only_its_checks(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With '' on sys.path and the working folder deleted, only the shadowing check fails."""
    _project(mydrive, files={"prep_xyz.py": "X = 1\n"})
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    sys.path.insert(0, "")
    report = colab_bootstrap.doctor("proj", network=False)
    check = report["Shadowed names"]
    assert check.status == "fail"
    assert check.summary.startswith("could not look: FileNotFoundError")
    assert [c.name for c in report.checks if c.status == "fail"] == ["Shadowed names"]


def test_without_ipython_installed_the_environment_says_so(
    mydrive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IPython is no dependency: where it is not installed the report says 'not installed'."""
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "-packages" not in p])
    report = colab_bootstrap.doctor(network=False)
    assert report.environment["ipython"] == "not installed"
    assert "IPython not installed" in report["Environment"].details[0]


def test_shadowing_names_imported_and_namespace_modules(
    mydrive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Imported modules (a file, a namespace, one made at run time) and an earlier namespace."""
    names = ("cbt_loaded", "cbt_ns", "cbt_ns_loaded", "cbt_made")
    _project(mydrive, files={f"{name}.py": "" for name in names})
    monkeypatch.setitem(sys.modules, "cbt_made", types.ModuleType("cbt_made"))
    other, earlier = tmp_path / "other", tmp_path / "earlier"
    (other / "cbt_loaded.py").parent.mkdir()
    (other / "cbt_loaded.py").write_text("")
    (other / "cbt_ns_loaded").mkdir()
    (earlier / "cbt_ns").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(other))
    import cbt_loaded  # type: ignore[import-not-found]
    import cbt_ns_loaded  # type: ignore[import-not-found]

    sys.path.remove(str(other))
    sys.path.insert(0, str(earlier))
    check = colab_bootstrap.doctor("proj", network=False)["Shadowed names"]
    assert check.status == "warn"
    assert set(check.details) == {
        f"cbt_loaded: `import cbt_loaded` gives {cbt_loaded.__file__}, not the project's",
        f"cbt_ns: `import cbt_ns` gives {earlier / 'cbt_ns'}, not the project's",
        f"cbt_ns_loaded: `import cbt_ns_loaded` gives {other / 'cbt_ns_loaded'}, not the project's",
        "cbt_made: `import cbt_made` gives a module made at run time (it has no file), not the "
        "project's",
    }
    assert cbt_ns_loaded.__file__ is None


def test_a_huge_my_drive_root_is_counted_only_up_to_the_limit(mydrive: Path) -> None:
    """Past ROOT_COUNT_LIMIT items the count stops (each listing is a Drive round trip)."""
    _project(mydrive)
    for i in range(_doctor.ROOT_COUNT_LIMIT + 1):
        os.close(os.open(mydrive / f"scan{i}.jpg", os.O_CREAT | os.O_WRONLY))
    check = colab_bootstrap.doctor("proj", network=False)["My Drive root"]
    assert check.status == "warn"
    assert check.summary.startswith(f"{_doctor.ROOT_COUNT_LIMIT}+ items directly in My Drive")


def test_a_my_drive_that_cannot_be_listed_is_a_warning(mydrive: Path) -> None:
    """My Drive found but not listable: the root check warns with the error, the rest goes on."""
    with denied(mydrive, 0o311):
        report = colab_bootstrap.doctor(network=False)
    check = report["My Drive root"]
    assert check.status == "warn"
    assert check.summary.startswith("cannot list My Drive: [Errno 13] Permission denied")
    assert report["Drive"].status == "ok"


def test_a_path_check_stopped_at_its_file_limit_says_so(mydrive: Path) -> None:
    """More .py files than the lint reads: the hygiene check says where it stopped."""
    folder = _project(mydrive)
    for i in range(LINT_MAX_FILES + 1):
        (folder / f"m{i:03}.py").write_text("")
    check = colab_bootstrap.doctor("proj", network=False)["Copies and Windows paths"]
    assert (
        f"path check stopped early: stopped after {LINT_MAX_FILES} files (max_files)"
        in check.details
    )


def test_an_up_to_date_git_install_is_ok(
    mydrive: Path, tmp_path: Path, tag_server: TagServer
) -> None:
    """A git install at the newest tag: the update half of the check is ok, 'up to date'."""
    _git_install(tmp_path)
    tag_server.tags(f"v{colab_bootstrap.__version__}")
    check = colab_bootstrap.doctor()["Requirements and updates"]
    assert check.status == "ok"
    assert f"up to date: {colab_bootstrap.__version__}" in check.summary
