"""Paired comparisons of two models on the same benchmark items (numpy and the stdlib only).

Every evaluated model answers the same items, so two models are compared item by item:

- the difference in accuracy points (A - B) over the paired items;
- a 95% paired bootstrap interval of that difference: items are resampled with
  replacement (all seeds of an item travel together; over several benchmarks each
  benchmark is resampled within itself), a fixed seed makes it reproducible;
- McNemar's exact test: only the discordant items count (``b``: A right and B wrong,
  ``c``: the reverse); the two-sided binomial test of ``b`` against ``b + c`` at 0.5;
- Holm's step-down adjustment of a family of p-values, since many pairs are tested.

Two runs whose items differ (the benchmark file changed between them) are not paired:
:func:`pair_runs` raises a DartError naming both files.

    python -c "from dart.summary.stats import mcnemar_exact; print(mcnemar_exact(1, 8))"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dart.errors import DartError
from dart.inputs import read_jsonl

BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 20240717  # fixed: the same inputs give the same interval
_CHUNK = 250  # bootstrap replicates drawn at once (bounds memory on 5,000-item benchmarks)


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value of ``b`` and ``c`` discordant items.

    ``2 * P(X <= min(b, c))`` for X ~ Binomial(b + c, 1/2), capped at 1; 1.0 when no item
    is discordant. Exact in integers, then one division.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got b={b}, c={c}")
    n, k = b + c, min(b, c)
    if n == 0:
        return 1.0
    from math import comb

    tail = sum(comb(n, i) for i in range(k + 1))
    return min(1.0, 2 * tail / 2**n)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Stratum:
    """Paired outcomes of one benchmark: per item, the summed difference over seeds
    (``diff``: A right minus B right, in -m..m) and the number of paired runs (``runs``)."""

    diff: np.ndarray
    runs: np.ndarray


def paired_bootstrap(
    strata: Sequence[Stratum],
    *,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval (lo, hi) of the paired difference in accuracy (a share).

    Each replicate resamples the items of every stratum with replacement (the same
    number of items per stratum) and takes sum(diff) / sum(runs) over all of them.
    """
    strata = [s for s in strata if len(s.diff)]
    if not strata:
        raise ValueError("no paired items to resample")
    rng = np.random.default_rng(seed)
    stats = np.empty(reps)
    for start in range(0, reps, _CHUNK):
        size = min(_CHUNK, reps - start)
        num = np.zeros(size)
        den = np.zeros(size)
        for s in strata:
            idx = rng.integers(0, len(s.diff), size=(size, len(s.diff)))
            num += s.diff[idx].sum(axis=1)
            den += s.runs[idx].sum(axis=1)
        stats[start : start + size] = num / den
    tail = (1 - level) / 2
    lo, hi = np.quantile(stats, [tail, 1 - tail])
    return float(lo), float(hi)


@dataclass
class Run:
    """One model's scored items on one benchmark: item id -> correct (None: the items
    file is missing), and the items file's path."""

    marks: dict[str, bool] | None
    path: str
    benchmark_sha256: str | None = None


def read_marks(path: str | Path) -> dict[str, bool]:
    """item_id -> correct (verdict == "correct") of an items file (``*.items.jsonl``)."""
    marks: dict[str, bool] = {}
    for number, row in read_jsonl(path, "the items file"):
        try:
            key, verdict = str(row["item_id"]), row["verdict"]
        except KeyError as exc:
            raise DartError(f"{path}: line {number}: not an item row with item_id and "
                            f"verdict (no {exc})") from None  # fmt: skip
        if key in marks:
            raise DartError(f"{path}: line {number}: item {key!r} appears twice")
        marks[key] = verdict == "correct"
    return marks


def pair_runs(a: Run, b: Run) -> list[tuple[bool, bool]]:
    """(A correct, B correct) per item, in A's item order; DartError naming both files
    when they were scored on different benchmark files or hold different items."""
    if a.benchmark_sha256 and b.benchmark_sha256 and a.benchmark_sha256 != b.benchmark_sha256:
        raise DartError(f"{a.path} and {b.path}: scored on different benchmark files "
                        "(benchmark_sha256 differs); not compared")  # fmt: skip
    only_a, only_b = set(a.marks) - set(b.marks), set(b.marks) - set(a.marks)
    if only_a or only_b:
        example = sorted(only_a or only_b)[0]
        raise DartError(
            f"{a.path} and {b.path}: the items differ ({len(only_a)} only in the first, "
            f"{len(only_b)} only in the second, e.g. {example!r}); not compared"
        )
    return [(a.marks[k], b.marks[k]) for k in a.marks]


@dataclass
class Comparison:
    """A against B on one benchmark (or ``overall``): accuracy points and the tests."""

    a: str
    b: str
    benchmark: str
    n: int = 0  # paired item-runs (items times paired seeds)
    items: int = 0  # distinct items resampled
    acc_a: float | None = None  # accuracy %, over the paired item-runs
    acc_b: float | None = None
    diff: float | None = None  # points, A - B
    lo: float | None = None
    hi: float | None = None
    b_count: int = 0  # A right, B wrong
    c_count: int = 0  # A wrong, B right
    p: float | None = None
    p_holm: float | None = None
    refused: str | None = None

    @property
    def significant(self) -> bool:
        return self.p is not None and self.p < 0.05


def compare(
    a: str,
    b: str,
    benchmark: str,
    paired: Sequence[Sequence[tuple[bool, bool]]],
    *,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
) -> Comparison:
    """The comparison of ``a`` and ``b`` from paired outcomes, one list per stratum
    (a benchmark), each list holding per item a list of (A, B) outcomes, one per seed."""
    strata, n, right_a, right_b, disc_b, disc_c, items = [], 0, 0, 0, 0, 0, 0
    for stratum in paired:
        diff, runs = [], []
        for outcomes in stratum:
            diff.append(sum(int(x) - int(y) for x, y in outcomes))
            runs.append(len(outcomes))
            right_a += sum(x for x, _ in outcomes)
            right_b += sum(y for _, y in outcomes)
            disc_b += sum(x and not y for x, y in outcomes)
            disc_c += sum(y and not x for x, y in outcomes)
        n += sum(runs)
        items += len(runs)
        strata.append(Stratum(np.array(diff, dtype=float), np.array(runs, dtype=float)))
    if n == 0:
        return Comparison(a, b, benchmark, refused="no paired items")
    lo, hi = paired_bootstrap(strata, reps=reps, seed=seed)
    return Comparison(
        a, b, benchmark, n=n, items=items, acc_a=100 * right_a / n, acc_b=100 * right_b / n,
        diff=100 * (right_a - right_b) / n, lo=100 * lo, hi=100 * hi, b_count=disc_b,
        c_count=disc_c, p=mcnemar_exact(disc_b, disc_c),
    )  # fmt: skip


def adjust(comparisons: Sequence[Comparison]) -> None:
    """Fill ``p_holm`` over every comparison that has a p-value (one family), in place."""
    tested = [c for c in comparisons if c.p is not None]
    for c, adjusted in zip(tested, holm([c.p for c in tested]), strict=True):
        c.p_holm = adjusted


def _outcomes(a_runs: dict, b_runs: dict, base: bool) -> dict[str, list[tuple[bool, bool]]]:
    """item id -> (A, B) per paired seed: every seed of A against B's single run when B
    is a base model with one run, else seed against the same seed."""
    if base and len(b_runs) == 1:
        b_only = next(iter(b_runs.values()))
        pairs = [(run, b_only) for run in a_runs.values()]
    else:
        common = [s for s in a_runs if s in b_runs]
        if not common:
            raise DartError("no seed in common; not compared")
        pairs = [(a_runs[s], b_runs[s]) for s in common]
    out: dict[str, list[tuple[bool, bool]]] = {}
    for run_a, run_b in pairs:
        for run in (run_a, run_b):
            if run.marks is None:
                raise DartError(f"{run.path}: no such items file; not compared")
        for key, pair in zip(run_a.marks, pair_runs(run_a, run_b), strict=True):
            out.setdefault(key, []).append(pair)
    return out


def row_pairs(rows: Sequence) -> list[tuple]:
    """(A, B, B is a base model) for each pair the summary compares: every fine-tune
    against each row of its base model (rows without a dataset), and the fine-tunes of
    one base model against each other (A before B in row order)."""
    ours = [r for r in rows if r.kind == "ours"]
    out = []
    for row in ours:
        if row.dataset:
            out += [(row, b, True) for b in ours if b.dataset is None and b.base == row.base]
    for i, row in enumerate(ours):
        if row.dataset:
            out += [(row, b, False) for b in ours[i + 1 :] if b.dataset and b.base == row.base]
    return out


def compare_rows(
    rows: Sequence, cols: Sequence[str], *, reps: int = BOOTSTRAP_REPS, seed: int = BOOTSTRAP_SEED
) -> list[Comparison]:
    """Each pair of :func:`row_pairs` on each benchmark both rows have, then ``overall``
    (every item of those benchmarks, each resampled within its benchmark); p-values
    Holm-adjusted over all per-benchmark comparisons together."""
    out: list[Comparison] = []
    for a, b, base in row_pairs(rows):
        shared = [c for c in cols if c in a.cells and c in b.cells]
        strata, refused = [], []
        for bench in shared:
            try:
                outcomes = _outcomes(a.cells[bench].runs, b.cells[bench].runs, base)
            except DartError as exc:
                out.append(Comparison(a.model, b.model, bench, refused=str(exc)))
                refused.append(bench)
                continue
            strata.append(list(outcomes.values()))
            out.append(compare(a.model, b.model, bench, [strata[-1]], reps=reps, seed=seed))
        if refused and len(shared) > 1:
            why = f"benchmark(s) {', '.join(refused)} not compared"
            out.append(Comparison(a.model, b.model, "overall", refused=why))
        elif len(strata) > 1:
            out.append(compare(a.model, b.model, "overall", strata, reps=reps, seed=seed))
    adjust([c for c in out if c.benchmark != "overall"])
    return out
