"""Autoreload in a real IPython shell, including Colab's IPython 7.34 on Python 3.12+."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import IPYTHON_PRELUDE

IPYTHON = pytest.importorskip("IPython")
OLD_IPYTHON_NEW_PYTHON = IPYTHON.version_info < (8,) and sys.version_info >= (3, 12)

SHELL_SCRIPT = (
    IPYTHON_PRELUDE
    + """
drive, module = sys.argv[1], sys.argv[2]
SETUP = f"colab_bootstrap.setup('proj', drive_dir={drive!r}, gpu='ignore')"
cell("import colab_bootstrap; p = " + SETUP)
print("STATE", cell("p.autoreload"))
cell("from preprocessing import *")
print("BEFORE", cell("greet()"))
with open(module, "w") as f:
    f.write("def greet():\\n    return 'new'\\n")
later = time.time() + 5
os.utime(module, (later, later))
print("AFTER", cell("greet()"))
print("AGAIN", cell(SETUP + ".autoreload"))
print("EXT", sorted(shell.extension_manager.loaded))
print("IMP", "imp" in sys.modules)
"""
)


def _run_script(tmp_path: Path, text: str, *args: str) -> dict[str, str]:
    """Run a shell script in a fresh interpreter; its "KEY value" lines as a dict."""
    script = tmp_path / "shell.py"
    script.write_text(text)
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)


def _run_shell(tmp_path: Path) -> dict[str, str]:
    project = tmp_path / "drive" / "proj"
    project.mkdir(parents=True)
    module = project / "preprocessing.py"
    module.write_text("def greet():\n    return 'old'\n")
    return _run_script(tmp_path, SHELL_SCRIPT, str(tmp_path / "drive"), str(module))


def test_edited_module_is_seen_by_the_next_cell(tmp_path: Path) -> None:
    """setup() turns on autoreload 2: after an edit, the next cell runs the new code."""
    seen = _run_shell(tmp_path)
    assert seen["STATE"].startswith("enabled")
    assert seen["BEFORE"] == "old"
    assert seen["AFTER"] == "new"
    assert seen["AGAIN"] == "already on"
    assert "autoreload'" in seen["EXT"]
    assert seen["IMP"] == "False"


@pytest.mark.skipif(
    not OLD_IPYTHON_NEW_PYTHON, reason="the imp breakage exists only on IPython 7.x + Python 3.12+"
)
def test_plain_load_ext_fails_where_we_repair_it(tmp_path: Path) -> None:
    """On Colab's pins the plain magic fails with No module named 'imp'; setup() still works."""
    code = textwrap.dedent(
        """
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "autoreload")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert "No module named 'imp'" in proc.stdout + proc.stderr
    seen = _run_shell(tmp_path)
    assert seen["STATE"] == "enabled (repaired IPython's missing 'imp')"
    assert seen["AFTER"] == "new"


STATES_SCRIPT = (
    IPYTHON_PRELUDE
    + """
drive = sys.argv[1]
SETUP = f"colab_bootstrap.setup('proj', drive_dir={drive!r}, gpu='ignore')"
cell("import colab_bootstrap")
sys.modules["autoreload"] = None  # the extension cannot be imported
print("BLOCKED", cell(SETUP + ".autoreload"))
del sys.modules["autoreload"]
print("UNBLOCKED", cell(SETUP + ".autoreload"))
shell.run_line_magic("autoreload", "0")
print("DOCTOR", cell("colab_bootstrap.doctor(network=False)['Autoreload'].summary"))
print("AGAIN", cell(SETUP + ".autoreload"))
print("NOW", cell("colab_bootstrap.doctor(network=False)['Autoreload'].summary"))
"""
)


def test_autoreload_that_cannot_load_or_was_turned_off_is_reported_and_repaired(
    tmp_path: Path,
) -> None:
    """An unimportable extension: setup() says so and works; `%autoreload 0`: setup() sets 2."""
    (tmp_path / "drive" / "proj").mkdir(parents=True)
    seen = _run_script(tmp_path, STATES_SCRIPT, str(tmp_path / "drive"))
    assert seen["BLOCKED"].startswith("failed: ")
    assert seen["BLOCKED"].endswith("call colab_bootstrap.reset() after an edit.")
    assert seen["UNBLOCKED"].startswith("enabled")
    assert seen["DOCTOR"] == "autoreload is mode 0: edited files are not reloaded"
    assert seen["AGAIN"] == "enabled"
    assert seen["NOW"] == "loaded, mode 2 (all modules)"
