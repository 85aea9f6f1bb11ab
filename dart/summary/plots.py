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
