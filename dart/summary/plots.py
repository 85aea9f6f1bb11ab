"""The summary chart: accuracy per benchmark, one bar group per model, Wilson intervals.

plot_summary(rows, cols, "results/summary.png")   # rows and cols of dart.summary.table
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dart.datasets.plots import pyplot, save_figure
from dart.evaluate.results import wilson


def plot_summary(
    rows: Sequence[Any], cols: Sequence[str], path: str | os.PathLike, *, atomic: bool = True
) -> Path:
    """Accuracy per benchmark, one bar group per model (rows of dart.summary.table).

    Error bars: the 95% Wilson interval over the items of all the model's seeds pooled;
    black marks: the published number of the matching paper row, where there is one.
    """
    plt = pyplot()
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
    return save_figure(fig, plt, path, atomic)


def plot_levels(
    rows: Sequence[Any], cols: Sequence[str], path: str | os.PathLike, *, atomic: bool = True
) -> Path:
    """Accuracy by difficulty level, one panel per benchmark with levels, one line per
    model, 95% Wilson intervals over the items of all seeds (the paper's per-level view)."""
    plt = pyplot()
    ours = [r for r in rows if r.kind == "ours"]
    benches = [b for b in cols if any(r.cells.get(b) and r.cells[b].levels for r in ours)]
    fig, axes = plt.subplots(
        1, max(len(benches), 1), figsize=(1.5 + 4.5 * max(len(benches), 1), 4.2), squeeze=False
    )
    for ax, bench in zip(axes[0], benches, strict=False):
        for row in ours:
            cell = row.cells.get(bench)
            if cell is None or not cell.levels:
                continue
            levels = sorted(cell.levels, key=lambda lv: (len(lv), lv))
            xs, ys, err = [], [], [[], []]
            for lv in levels:
                n, k = cell.levels[lv]
                if not n:
                    continue
                lo, hi = wilson(k, n)
                xs.append(int(lv) if lv.isdigit() else lv)
                ys.append(100 * k / n)
                err[0].append(max(ys[-1] - 100 * lo, 0.0))
                err[1].append(max(100 * hi - ys[-1], 0.0))
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=2, label=row.model, alpha=0.85)
        ax.set(title=bench, xlabel="level", ylabel="accuracy (%)", ylim=(0, 100))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    if not benches:
        axes[0][0].text(0.5, 0.5, "no benchmark with levels", ha="center", va="center")
        axes[0][0].set_axis_off()
    fig.suptitle("accuracy by level (95% Wilson intervals)")
    return save_figure(fig, plt, path, atomic)
