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
    for name in ("import colab_bootstrap", "first setup()", "second setup()", "doctor()"):
        assert name in proc.stdout
    assert "| ratio |" in proc.stdout
    assert out.read_text().startswith("[")
