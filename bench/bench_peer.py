"""An outside check: ``dart grade`` and math-verify on another project's labelled cases.

The cases are read, as data, from the parametrised pytest files of a peer grader's test
suite (math-verify's own ``tests/test_*.py``, fetched separately; nothing of it is kept in
this repository): every ``@pytest.mark.parametrize`` whose names include ``gold``, ``pred``
and ``expected``/``result`` and whose values are literals gives (gold, prediction, label),
label 1 meaning "equivalent". Parsing is ``ast.literal_eval`` only: the files are never run.

    .venv/bin/python bench/bench_peer.py /path/to/Math-Verify/tests --misses

Prints, for each grader, the agreement with the peer's labels (ours: ``correct`` iff label
1; math-verify as its README calls it, ``verify(parse(gold), parse(pred))``, and as the
peer's tests call it, with their extraction targets and options), per test function, and
items/s of both in the same run; ``--misses`` lists every case where we differ.
"""

from __future__ import annotations

import argparse
import ast
import collections
import sys
import time
from pathlib import Path

from dart.grade import grade_rows
from dart.grade.grader import GradeTimeout, time_bound

_LABEL_NAMES = ("expected", "result")


def _names(node: ast.expr) -> list[str] | None:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    if isinstance(value, str):
        return [n.strip() for n in value.split(",")]
    return [str(n).strip() for n in value]


def cases_of(path: Path) -> list[dict]:
    """The (gold, pred, label, options) cases of one test file; non-literal lists skipped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    cases = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for decorator in function.decorator_list:
            if not (
                isinstance(decorator, ast.Call)
                and getattr(decorator.func, "attr", "") == "parametrize"
            ):
                continue
            names = _names(decorator.args[0])
            if not names or not {"gold", "pred"} <= set(names):
                continue
            label_name = next((n for n in _LABEL_NAMES if n in names), None)
            try:
                values = ast.literal_eval(decorator.args[1])
            except ValueError:
                continue
            if label_name is None:
                continue
            for value in values:
                row = dict(zip(names, value, strict=True))
                cases.append(
                    {
                        "test": f"{path.stem}::{function.name}",
                        "gold": str(row.pop("gold")),
                        "pred": str(row.pop("pred")),
                        "label": int(row.pop(label_name)),
                        "options": row,
                        "match_types": _match_types(function),
                    }
                )
    return cases


def _match_types(function: ast.FunctionDef) -> list[str] | None:
    """The ``match_types=[...]`` a test passes to its compare helper, if any."""
    for node in ast.walk(function):
        if isinstance(node, ast.keyword) and node.arg == "match_types":
            try:
                return list(ast.literal_eval(node.value))
            except ValueError:
                return None
    return None


def read_cases(paths: list[str]) -> list[dict]:
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        files += sorted(path.glob("test_*.py")) if path.is_dir() else [path]
    cases = [case for file in files for case in cases_of(file)]
    if not cases:
        sys.exit(f"bench_peer: no parametrised (gold, pred, expected) cases in {paths}")
    return cases


def _math_verify(case: dict, as_tests: bool) -> bool | None:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    if not as_tests:
        return bool(verify(parse(case["gold"]), parse(case["pred"])))
    targets = []
    for kind in case["match_types"] or ["latex", "expr"]:
        targets.append(
            LatexExtractionConfig(boxed_match_priority=0)
            if kind == "latex"
            else ExprExtractionConfig()
        )
    options = {
        k: v for k, v in case["options"].items() if k in ("strict", "allow_set_relation_comp")
    }
    if "precision" in case["options"]:
        options["float_rounding"] = case["options"]["precision"]
    return bool(verify(parse(case["gold"], targets), parse(case["pred"], targets), **options))


def run_math_verify(cases: list[dict], as_tests: bool) -> tuple[float, list[bool]]:
    start, verdicts = time.perf_counter(), []
    for case in cases:
        try:
            with time_bound(10):
                verdicts.append(_math_verify(case, as_tests))
        except (GradeTimeout, Exception):  # its crash or hang is a "not equivalent"
            verdicts.append(False)
    return len(cases) / (time.perf_counter() - start), verdicts


def run_ours(cases: list[dict], workers: int) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    rows = ({"response": c["pred"], "gold": c["gold"]} for c in cases)
    graded = list(grade_rows(rows, workers=workers, timeout=5))
    return len(cases) / (time.perf_counter() - start), graded


def _agree(cases: list[dict], said: list[bool]) -> int:
    return sum(bool(c["label"]) == s for c, s in zip(cases, said, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="peer test files or a folder of test_*.py")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--misses", action="store_true", help="list every case we miss")
    args = parser.parse_args()
    cases = read_cases(args.paths)
    ours_rate, graded = run_ours(cases, args.workers)
    ours = [g["verdict"] == "correct" for g in graded]
    mv_rate, mv = run_math_verify(cases, as_tests=False)
    _, mv_tests = run_math_verify(cases, as_tests=True)
    n = len(cases)
    print(f"peer cases: {n} from {len({c['test'] for c in cases})} test functions")
    print(
        f"  dart grade_rows, {args.workers} workers: {ours_rate:7.0f} items/s, "
        f"agreement {_agree(cases, ours)}/{n} ({_agree(cases, ours) / n:.1%})"
    )
    print(
        f"  math-verify parse+verify (README call), 1 process: {mv_rate:7.0f} items/s, "
        f"agreement {_agree(cases, mv)}/{n} ({_agree(cases, mv) / n:.1%})"
    )
    print(f"  math-verify as its tests call it: agreement {_agree(cases, mv_tests)}/{n}")
    print(f"  speed-up: {ours_rate / mv_rate:.1f}x")
    by_test: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for case, mine, theirs in zip(cases, ours, mv, strict=True):
        tally = by_test[case["test"]]
        tally[0] += 1
        tally[1] += bool(case["label"]) == mine
        tally[2] += bool(case["label"]) == theirs
    for test, (total, mine, theirs) in by_test.items():
        print(f"  {test}: {total} cases, dart {mine}, math-verify {theirs}")
    if args.misses:
        for case, row in zip(cases, graded, strict=True):
            if bool(case["label"]) != (row["verdict"] == "correct"):
                print(
                    f"MISS {case['test']} label={case['label']} dart={row['verdict']} "
                    f"({row['reason']}) extracted={row['extracted']!r}\n"
                    f"     gold={case['gold'][-100:]!r}\n     pred={case['pred'][-160:]!r}"
                )


if __name__ == "__main__":
    main()
