"""The benchmark script still runs (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_benchmark_script_runs_in_quick_mode(tmp_path: Path) -> None:
    """`benchmarks/run.py --quick` prints every row with a ratio and writes the JSON."""
    out = tmp_path / "rows.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    names = ("import colab_bootstrap", "imports after setup()", "first setup()", "second setup()")
    for name in (*names, "doctor()", "pre-fix behaviour, for context"):
        assert name in proc.stdout
    assert "| ratio |" in proc.stdout
    assert out.read_text().startswith("[")


def test_benchmark_only_runs_the_rows_named() -> None:
    """`--only NAME` runs that row alone (here the cheapest one)."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--only", "second-setup"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "second setup()" in proc.stdout
    assert "doctor()" not in proc.stdout
    assert "imports after setup()" not in proc.stdout
