"""Mutation testing: mutmut over the modules that decide for the user, survivors re-checked.

    python mutation/score.py                # mutmut run, re-check, the score table
    python mutation/score.py --no-mutmut    # re-check and table from the last mutmut run
    python mutation/score.py --modules _colab _reset   # mutmut and the score for these only
    python mutation/score.py --only 'colab_bootstrap._dedupe.x__rename__*'   # mutants by name
    python mutation/score.py --json build/mutation.json

``nox -s mutation`` runs this with mutmut 3.8.1 (pinned: the script reads its result files).
The modules are pyproject's ``[tool.mutmut] only_mutate``: dedupe and Drive copies (the user's
files), the import hook, reset, setup, locate and the Colab seam.

Children run the mutant. Many of our tests reach the code in a child process (an IPython shell,
the CLI, a fake Drive daemon). mutmut switches a mutant on through ``MUTANT_UNDER_TEST``, which
children inherit; mutmut runs here with ``mutants/src`` and ``mutation/children`` (a
``sitecustomize`` that keeps children out of mutmut's call mapping) on ``PYTHONPATH``, so a
child imports the mutated code and runs the same mutant as the test that started it.

Why a re-check. mutmut runs each mutant only against the tests that reached the mutated
function in the test process itself. A test that reaches it only in a child is not among them,
so what such a test alone kills comes out "survived" or "no tests". Every such mutant is run
again in a fresh ``pytest`` (children mutated too) against the test files
``mutation/set_aside.toml`` lists for its module under ``[children]``: the files whose tests
reach the module in child processes.

The score of a module is killed / (mutants - set aside). Set aside are the mutants
``mutation/set_aside.toml`` names, each with its reason (equivalent: no test can tell; wording: a
message's text changed where no decision reads it), and wording survivors found by rule: the
mutant changes only string literals holding a space (prose), on a line that compares nothing.
The target is 90% per module; the exit status is 1 when a module misses it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the test group installs tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
SET_ASIDE = Path(__file__).with_name("set_aside.toml")
TARGET = 0.90
#: mutmut's exit codes (mutmut.stats.status_by_exit_code) folded into what the score needs.
KILLED_CODES = {1, 3, 36, 24, -24, 152, 255, 37}
ALIVE_CODES = {0, 5, 33}
#: A line that decides: a comparison, a membership test, a prefix or suffix check.
_DECIDES = re.compile(r"==|!=|\bin\b|\bnot in\b|startswith|endswith|\bmatch\b|\bsearch\b")
#: A whole debug-log call on one line: ``_log.info(__name__, "made %s", folder)``.
_LOG_CALL = re.compile(r"\s*(_log\.(?:debug|info|warning)\()[^\n]*\)\s*$")
_STRING = re.compile(r"""(?:[rbuRBU]{0,2})("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")


@dataclass
class Mutant:
    """One mutant: where it lives, what mutmut said, and the verdict after the re-check."""

    key: str
    path: str  # the source file, relative to the project root
    module: str
    function: str
    first: str  # mutmut's verdict: killed, survived, no tests, not checked, other
    verdict: str = ""  # killed, killed on re-check, timeout on re-check, survived
    set_aside: str = ""  # '', equivalent, wording, wording (rule)
    why: str = ""
    tests: tuple[str, ...] = ()  # the test files the re-check runs
    seconds: float = 0.0


def _mutmut_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config


def _load_mutants(config: dict[str, Any]) -> list[Mutant]:
    found = []
    for source in config["only_mutate"]:
        meta = MUTANTS / f"{source}.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for key, code in codes.items():
            module, _, name = key.rpartition(".")
            function = f"{module}.{name.rpartition('__mutmut_')[0]}"
            if code in KILLED_CODES:
                first = "killed"
            elif code in ALIVE_CODES:
                first = "survived" if code == 0 else "no tests"
            elif code is None:
                first = "not checked"
            else:
                first = f"other ({code})"
            found.append(Mutant(key, source, module.rpartition(".")[2], function, first))
    return found


def _diff(mutant: Mutant) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415

    cwd = Path.cwd()
    os.chdir(ROOT)  # mutmut resolves its files from the project root
    try:
        return str(get_diff_for_mutant(mutant.key, path=mutant.path))
    finally:
        os.chdir(cwd)


def wording_by_rule(diff: str) -> bool:
    """The mutant changes only prose string literals, on lines that compare nothing.

    Or only the arguments of a one-line debug-log call (``_log.info(...)``): its text is shown
    only when the user turns logging on, and nothing reads it back.
    """
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and line[1:2] != "-"]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and line[1:2] != "+"]
    if not removed or len(removed) != len(added):
        return False
    for old, new in zip(removed, added):
        call = _LOG_CALL.match(old)
        if call and new.strip().startswith(call.group(1)) and new.rstrip().endswith(")"):
            continue
        code = _STRING.sub('""', old)
        if code != _STRING.sub('""', new) or _DECIDES.search(code):
            return False
        changed = set(_STRING.findall(old)) ^ set(_STRING.findall(new))
        if not changed or not all(" " in text.strip("\"'").strip("X") for text in changed):
            return False
    return True


def _tests_for(mutant: Mutant, children: dict[str, list[str]], extra: list[str]) -> tuple[str, ...]:
    files = {*children.get(mutant.module, ()), *extra}
    return tuple(sorted(file for file in files if (MUTANTS / file).exists()))


def _children_env() -> dict[str, str]:
    """The environment in which the processes a test starts run the active mutant too."""
    paths = [str(Path(__file__).with_name("children")), str(MUTANTS / "src")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _recheck(mutant: Mutant, pytest_args: list[str], timeout: float) -> None:
    env = {**_children_env(), "MUTANT_UNDER_TEST": mutant.key}
    command = [sys.executable, "-m", "pytest", "-x", *pytest_args, *mutant.tests]
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            cwd=MUTANTS,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        mutant.verdict = "timeout on re-check"
    else:
        # pytest's exit codes: 1 tests failed, 2 interrupted (a collection error), 3 internal
        # error: the mutant broke something. 4 (usage) and 5 (no tests) say nothing about it.
        killed = result.returncode in (1, 2, 3) or result.returncode < 0
        mutant.verdict = "killed on re-check" if killed else "survived"
        if result.returncode not in (0, 1):
            mutant.why = f"pytest exit status {result.returncode}"
    mutant.seconds = time.perf_counter() - started


def _score_table(mutants: list[Mutant]) -> tuple[list[str], bool]:
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in mutants:
        by_module[mutant.module].append(mutant)
    rows = [
        "| module | mutants | killed | on re-check | set aside | survived | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    met = True
    for module in sorted(by_module):
        group = by_module[module]
        count = Counter(m.verdict for m in group)
        aside = sum(1 for m in group if m.set_aside)
        killed = count["killed"] + count["killed on re-check"] + count["timeout on re-check"]
        counted = len(group) - aside
        score = killed / counted if counted else 1.0
        met &= score >= TARGET
        rows.append(
            f"| {module} | {len(group)} | {count['killed']} | "
            f"{count['killed on re-check'] + count['timeout on re-check']} | {aside} | "
            f"{count['survived'] - aside} | {score:.1%}{'' if score >= TARGET else ' (< 90%)'} |"
        )
    return rows, met


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--no-mutmut", action="store_true", help="use the last mutmut run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--extra", nargs="*", default=[], help="test files for every re-check")
    parser.add_argument("--json", type=Path, help="write every mutant's verdict here")
    parser.add_argument("--again", type=Path, help="a --json file: re-check its survivors only")
    parser.add_argument(
        "--modules", nargs="*", default=[], help="run mutmut on and score these only, e.g. _dedupe"
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=[],
        help="run mutmut on and score the mutants whose names match these patterns only",
    )
    return parser.parse_args(argv)


def mutmut_names(config: dict[str, Any], modules: list[str]) -> list[str]:
    """The name patterns that make mutmut run the mutants of ``modules`` (none: all)."""
    known = {Path(source).stem: source for source in config["only_mutate"]}
    unknown = sorted(set(modules) - set(known))
    if unknown:
        raise SystemExit(f"not among [tool.mutmut] only_mutate: {', '.join(unknown)}")
    names = []
    for module in modules:
        dotted = ".".join(Path(known[module]).with_suffix("").parts[1:])  # past "src"
        names.append(f"{dotted}.*")
    return names


def chosen(key: str, module: str, modules: list[str], only: list[str]) -> bool:
    """Whether a mutant is in the run: in one of ``modules`` or matching an ``only`` pattern.

    With neither given, every mutant is.
    """
    if not modules and not only:
        return True
    return module in modules or any(fnmatch.fnmatchcase(key, pattern) for pattern in only)


def _recheck_all(
    mutants: list[Mutant], stats: dict[str, Any], pytest_args: list[str], jobs: int
) -> None:
    durations: dict[str, float] = defaultdict(float)
    for test, seconds in stats["duration_by_test"].items():
        durations[test] = seconds
        durations[test.partition("::")[0]] += seconds  # a whole file
    print(f"{len(mutants)} mutants to re-check in fresh processes", flush=True)
    for mutant in mutants:  # quickest files first: a killed mutant stops at its first failure
        mutant.tests = tuple(sorted(mutant.tests, key=lambda file: (durations[file], file)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {
            pool.submit(_recheck, m, pytest_args, 60 + 4 * sum(durations[t] for t in m.tests)): m
            for m in mutants
        }
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            future.result()
            mutant = futures[future]
            print(f"[{done}/{len(mutants)}] {mutant.key}: {mutant.verdict}", flush=True)


def _set_aside(mutants: list[Mutant], reasons: dict[str, tuple[str, str]]) -> None:
    """Mark the alive mutants that set_aside.toml names, or that change only prose."""
    for mutant in mutants:
        if mutant.verdict:
            continue
        if mutant.key in reasons:
            mutant.set_aside, mutant.why = reasons[mutant.key]
        elif wording_by_rule(_diff(mutant)):
            mutant.set_aside, mutant.why = "wording (rule)", "prose only, nothing compares it"
        if mutant.set_aside:
            mutant.verdict = "survived"


def _first_verdicts(mutants: list[Mutant], previous: dict[str, str]) -> None:
    """Mark what mutmut killed, and what an earlier re-check (``--again``) decided."""
    for mutant in mutants:
        if mutant.first == "not checked":
            raise SystemExit(
                f"mutmut has not run {mutant.key}: run it first (or --modules, --only)"
            )
        if mutant.first == "killed":
            mutant.verdict = "killed"
        elif previous.get(mutant.key, "survived") != "survived":
            mutant.verdict = previous[mutant.key]


def main(argv: list[str] | None = None) -> int:
    """Run mutmut (unless told not to), re-check its survivors, print the scores."""
    args = _parse(argv)
    config = _mutmut_config()
    names = [*mutmut_names(config, args.modules), *args.only]
    if not args.no_mutmut:
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs), *names],
            cwd=ROOT,
            env=_children_env(),
            check=True,
        )
    # Tests changed since mutmut copied them (a survivor's new test) count in the re-check.
    shutil.copytree(ROOT / "tests", MUTANTS / "tests", dirs_exist_ok=True)
    stats = json.loads((MUTANTS / "mutmut-stats.json").read_text())
    aside = tomllib.loads(SET_ASIDE.read_text())
    kinds = ("equivalent", "wording")
    reasons = {key: (kind, why) for kind in kinds for key, why in aside[kind].items()}
    children: dict[str, list[str]] = aside.get("children", {})
    made = _load_mutants(config)
    for key in sorted(set(reasons) - {m.key for m in made}):
        print(f"set_aside.toml names a mutant mutmut did not make (stale): {key}")
    mutants = [m for m in made if chosen(m.key, m.module, args.modules, args.only)]
    previous = json.loads(args.again.read_text()) if args.again else []
    _first_verdicts(mutants, {m["key"]: m["verdict"] for m in previous})
    # What is set aside is not re-checked: it leaves the score whether a test kills it or not.
    _set_aside(mutants, reasons)
    pending = []
    for mutant in mutants:
        if not mutant.verdict:
            mutant.tests = _tests_for(mutant, children, args.extra)
            if mutant.tests:
                pending.append(mutant)
            else:
                mutant.verdict = "survived"  # no test reaches its module in a child
    _recheck_all(pending, stats, [*config["pytest_add_cli_args"], "-p", "no:randomly"], args.jobs)
    rows, met = _score_table(mutants)
    print("\n".join(["", *rows, ""]))
    for mutant in mutants:
        if mutant.verdict == "survived" and not mutant.set_aside:
            print(f"survived: {mutant.key}\n{_diff(mutant)}\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(m) for m in mutants], indent=1) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
