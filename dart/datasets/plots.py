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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dart.lineage.records import atomic_output


def pyplot():
    """matplotlib's pyplot on the Agg backend (imported here, when a figure is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _centres(edges: list[float]) -> list[float]:
    return [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=False)]


def plot_correct_per_query(stats: Mapping[str, Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Mean correct responses per query, by level (left) and fail-rate bin (right)."""
    plt = pyplot()
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
    return save_figure(fig, plt, path)


def plot_fail_rate_hist(stats: Mapping[str, Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Kept responses per fail-rate bin (one line per recipe) and queries per bin (dashed)."""
    plt = pyplot()
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
    return save_figure(fig, plt, path)


def save_figure(fig, plt, path: str | os.PathLike, atomic: bool = True) -> Path:
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
