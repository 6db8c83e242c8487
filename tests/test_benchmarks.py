"""The benchmark script still runs (tiny sizes; no timing is asserted), and sums rounds honestly."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"

#: Every row of a full quick run, by the start of its name.
ROWS = (
    "import colab_bootstrap (fresh process)",
    "imports after setup()",
    "first setup() (",
    "second setup() in the same process",
    "doctor() on 100 files in 10 folders (network off; GPU probe cached by the warm-up call)",
    "first doctor() on 100 files",
    "reset() with 20 project modules",
    "stale() over 20 project modules",
)
CONTEXT = ("pre-fix behaviour, for context", "stale() over 20 project modules vs an mtime-only")


def _load_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up while decorating
    sys.path.insert(0, str(SCRIPT.parent))  # run.py imports colab_venv beside it, as a script
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["bench_run"]
        sys.path.remove(str(SCRIPT.parent))
    return module


bench = _load_script()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--here", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow  # 14 s: run once, by the e2e session, not by each interpreter's session
def test_benchmark_script_runs_in_quick_mode(tmp_path: Path) -> None:
    """`--quick` prints every row with median, spread and rounds, and writes every round's JSON."""
    out = tmp_path / "rows.json"
    proc = _run("--json", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "2 rounds of 2 samples per side (quick sizes)" in proc.stdout
    assert "| what | ours | baseline | ratio | spread | target | met |" in proc.stdout
    assert "| what | ours | baseline | ratio | spread |" in proc.stdout  # the context table
    for name in (*ROWS, *CONTEXT):
        assert name in proc.stdout
    assert "50 ms nvidia-smi" in proc.stdout
    assert "instant nvidia-smi" in proc.stdout
    rows = json.loads(out.read_text())
    names = [row["name"] for row in rows]
    for start in (*ROWS, *CONTEXT):
        assert any(name.startswith(start) for name in names), start
    assert sum(name.startswith("first setup() (") for name in names) == 2
    for row in rows:
        assert len(row["rounds"]) == 2
        assert row["rounds_run"] == 2
        assert row["samples_per_side"] == 2
        low, high = row["spread"]
        assert low <= row["ratio"] <= high
        ratios = sorted(r["ratio"] for r in row["rounds"])
        assert [low, high] == [ratios[0], ratios[-1]]
        assert row["met"] == (row["target"] is None or row["ratio"] <= row["target"])
        if row["met"]:
            assert row["why"] == ""
        else:  # said under the table, with the known cause
            assert f"- {row['name']}: " in proc.stdout


def test_benchmark_only_runs_the_rows_named() -> None:
    """`--only NAME` runs that bench alone (here the cheapest one)."""
    proc = _run("--only", "second-setup")
    assert proc.returncode == 0, proc.stderr
    assert "second setup()" in proc.stdout
    assert "doctor()" not in proc.stdout
    assert "imports after setup()" not in proc.stdout


def _row(ratio: float, target: float | None = 1.5, name: str = "row") -> object:
    return bench.Row(name, ratio, 1.0, "baseline", target, "the cause")


def test_a_row_is_met_by_the_median_of_its_rounds() -> None:
    """One slow round does not fail a row, one fast round does not pass it; spread is min to max."""
    rounds = [[_row(1.0)], [_row(2.0)], [_row(1.2)]]
    (result,) = bench.summarise(rounds)
    assert result.ratio == pytest.approx(1.2)
    assert result.spread == (1.0, 2.0)
    assert result.met
    (result,) = bench.summarise([[_row(1.6)], [_row(1.0)], [_row(1.7)]])
    assert not result.met
    text = bench.table([result])
    assert "| 1.60 | 1.00 to 1.70 | ≤ 1.5 | NO |" in text
    assert "- row: 1.60 > 1.5. the cause" in text


def test_rows_are_grouped_by_name_in_their_first_order() -> None:
    rounds = [
        [_row(1.0, name="a"), _row(3.0, None, "b")],
        [_row(2.0, name="a"), _row(5.0, None, "b")],
    ]
    first, second = bench.summarise(rounds)
    assert (first.last.name, first.ours_s, first.baseline_s) == ("a", 1.5, 1.0)
    assert (second.last.name, second.ratio, second.met) == ("b", 4.0, True)
    text = bench.table([first, second])
    assert "Context (not product rows, no target):" in text
    assert "| b | 4000.000 ms | 1000.000 ms (baseline) | 4.00 | 3.00 to 5.00 |" in text


def test_samples_alternate_between_the_sides_after_one_warm_up() -> None:
    """A B, B A, ...; the round number flips the start, so no side is always first."""
    calls: list[str] = []

    def side(name: str) -> object:
        def sample() -> float:
            calls.append(name)
            return float(len(calls))

        return sample

    with tempfile.TemporaryDirectory() as tmp, bench.contextlib.ExitStack() as stack:
        ctx = bench.Context(Path(tmp), 4, bench.QUICK, stack)
        ctx.alternate([side("A"), side("B")])
        assert "".join(calls) == "AB" + "AB" + "BA" + "AB" + "BA"
        calls.clear()
        ctx.round = 1
        ctx.alternate([side("A"), side("B"), side("C")], warm_up=False)
        assert "".join(calls) == "CBA" + "ABC" + "CBA" + "ABC"
        made: list[str] = []

        def make() -> str:
            made.append("x")
            return f"prepared {len(made)}"

        assert ctx.once("x", make) == "prepared 1"
        assert ctx.once("x", make) == "prepared 1"  # once, not per round
        assert made == ["x"]


def test_results_survive_the_json_between_interpreters(tmp_path: Path) -> None:
    """The Colab-like venv's run hands its rounds back as JSON: the same table comes out."""
    results = bench.summarise(
        [[_row(1.0), _row(3.0, None, "b")], [_row(2.0), _row(5.0, None, "b")]]
    )
    again = bench._from_json([r.to_dict() for r in results])
    assert bench.table(again) == bench.table(results)
    figures = [[(r.name, r.ours_s, r.baseline_s, r.target) for r in x.rounds] for x in results]
    assert [
        [(r.name, r.ours_s, r.baseline_s, r.target) for r in x.rounds] for x in again
    ] == figures


@pytest.mark.slow
def test_install_cell_rows_in_a_colab_like_venv(tmp_path: Path) -> None:
    """Without --here: the script builds the Colab-like venv, times the install cell, runs in it.

    The wheel folder is filled from the index (the only network use), so this runs in the e2e
    session. The install cell installs the committed HEAD.
    """
    if shutil.which("python3.13") is None:  # pragma: no cover - CI exposes 3.13
        pytest.skip("no python3.13 on PATH")
    out = tmp_path / "rows.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--only=install",
            "--only=import",
            f"--wheels={tmp_path / 'wheels'}",
            f"--venv={tmp_path / 'venv'}",
            f"--json={out}",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "in a Colab-like venv (Python 3.13" in proc.stdout
    names = [row["name"] for row in json.loads(out.read_text())]
    assert names[0].startswith("install cell, first run")
    assert names[1].startswith("install cell, re-run")
    assert names[2].startswith("import colab_bootstrap")
    installed = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-m", "pip", "show", "colab-bootstrap"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Name: colab-bootstrap" in installed
