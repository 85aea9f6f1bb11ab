"""Plots of datasets by difficulty, one line per recipe (as in the DART-Math figures).

Reads assembly stats (``stats.json``) and draws, with matplotlib's Agg backend:
``correct_per_query.png`` (mean correct responses per query by level and by fail-rate
bin) and ``fail_rate_hist.png`` (kept responses per fail-rate bin, and the pool's
queries per bin, dashed). ``plot_summary`` draws the results chart of ``dart summarize``.

    python -m dart.datasets.plots results/datasets/*/stats.json -o results/reports/plots
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dart.lineage.records import atomic_output


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _centres(edges: list[float]) -> list[float]:
    return [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=False)]


def plot_correct_per_query(stats: Mapping[str, Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Mean correct responses per query, by level (left) and fail-rate bin (right)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    groups = sorted({g for s in stats.values() for g in s.get("per_level", {})})
    for name, s in stats.items():
        per = s.get("per_level", {})
        ys = [per.get(g, {}).get("mean_correct_per_query") or 0 for g in groups]
        left.plot(groups, ys, marker="o", label=name)
        fb = s["by_fail_rate"]
        right.plot(_centres(fb["edges"]), fb["mean_correct_per_query"], marker="o", label=name)
    left.set(xlabel="level", ylabel="correct responses per query", title="by level")
    right.set(xlabel="fail rate of the query in the pool", title="by difficulty")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    return _save(fig, plt, path)


def plot_fail_rate_hist(stats: Mapping[str, Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Kept responses per fail-rate bin (one line per recipe) and queries per bin (dashed)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    twin = ax.twinx()
    for name, s in stats.items():
        fb = s["by_fail_rate"]
        x = _centres(fb["edges"])
        ax.plot(x, fb["rows"], marker="o", label=f"{name} responses")
        twin.plot(x, fb["queries"], linestyle="--", alpha=0.5, label=f"{name} queries")
    ax.set(xlabel="fail rate", ylabel="responses kept", title="responses by difficulty")
    twin.set_ylabel("queries in the pool")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    twin.legend(loc="upper right")
    return _save(fig, plt, path)


def _save(fig, plt, path: str | os.PathLike, atomic: bool = True) -> Path:
    fig.tight_layout()
    try:
        if atomic:
            with atomic_output(path) as tmp:
                fig.savefig(tmp, format="png", dpi=110)
        else:  # the caller's own temporary (written with others, all or nothing)
            fig.savefig(path, format="png", dpi=110)
    finally:
        plt.close(fig)
    return Path(path)


def plot_summary(
    rows: Sequence[Any], cols: Sequence[str], path: str | os.PathLike, *, atomic: bool = True
) -> Path:
    """Accuracy per benchmark, one bar group per model (rows of dart.summary.table).

    Error bars: the 95% Wilson interval over the items of all the model's seeds pooled;
    black marks: the published number of the matching paper row, where there is one.
    """
    from dart.summary.table import wilson

    plt = _pyplot()
    ours = [r for r in rows if r.kind == "ours"]
    paper = {(r.base, r.recipe): r for r in rows if r.kind == "paper"}
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 + len(ours) * (0.5 + 0.35 * len(cols))), 4.5))
    width = 0.8 / max(len(cols), 1)
    for j, bench in enumerate(cols):
        xs, ys, err = [], [], [[], []]
        for i, row in enumerate(ours):
            cell = row.cells.get(bench)
            if cell is None:
                continue
            lo, hi = wilson(cell.n_correct, cell.n) if cell.n else (cell.mean / 100,) * 2
            xs.append(i + (j - (len(cols) - 1) / 2) * width)
            ys.append(cell.mean)
            err[0].append(max(cell.mean - 100 * lo, 0.0))
            err[1].append(max(100 * hi - cell.mean, 0.0))
            published = paper.get((row.base, row.recipe))
            if published is not None and bench in published.cells:
                ax.plot(xs[-1], published.cells[bench].mean, "k_", markersize=12, mew=2)
        ax.bar(xs, ys, width, yerr=err, capsize=2, label=bench)
    ax.set_xticks(range(len(ours)), [r.model for r in ours], rotation=20, ha="right")
    ax.set(ylabel="accuracy (%)", ylim=(0, 100), title="accuracy by benchmark (black: paper)")
    ax.grid(axis="y", alpha=0.3)
    if cols:
        ax.legend(fontsize="small", ncols=min(len(cols), 4))
    return _save(fig, plt, path, atomic)


def plot_all(stats: Mapping[str, Mapping[str, Any]], outdir: str | os.PathLike) -> list[Path]:
    out = Path(outdir)
    return [
        plot_correct_per_query(stats, out / "correct_per_query.png"),
        plot_fail_rate_hist(stats, out / "fail_rate_hist.png"),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="plot several datasets' stats, one line each")
    ap.add_argument("stats", nargs="+", help="stats.json files written by dart assemble")
    ap.add_argument("-o", "--outdir", required=True)
    args = ap.parse_args(argv)
    stats = {}
    for p in args.stats:
        s = json.loads(Path(p).read_text())
        stats[s.get("name", Path(p).stem)] = s
    plot_all(stats, args.outdir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
