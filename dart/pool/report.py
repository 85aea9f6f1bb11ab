"""A pool's labels in the Snakemake report: rounds, trials, correct responses, yield and
how it ended, read from its ``pool.json``, and its cost forecast from ``estimate.json``,
both when the report is made.

    pool_report_labels(config, "smollm2")       # {"pool": "smollm2", "rounds": 3, ...}
    estimate_report_labels(config, "smollm2")   # {"pool": "smollm2", "trials": "480 (...)"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dart.inputs import read_json_cached


def pool_report_labels(cfg: Mapping[str, Any], synth: str) -> dict[str, Any]:
    """Report labels of a pool's pool.json: rounds, trials, correct and yield."""
    pool = read_json_cached(f"{cfg['results_dir']}/pool/{synth}/pool.json")
    trials, correct = pool.get("trials", 0), pool.get("correct", 0)
    return {
        "pool": synth + (" (SIMULATED)" if pool.get("simulated") else ""),  # a rehearsal
        "item": "pool summary",
        "rounds": len(pool.get("rounds", [])),
        "trials": trials,
        "correct": correct,
        "yield": f"{correct / trials:.3f}" if trials else "-",
        "queries": pool.get("queries", 0),
        "exhausted": len(pool.get("exhausted", [])),
        "status": pool.get("status", "-"),
        "forecast trials": _median(_estimate(cfg, synth).get("pool", {}).get("trials")),
    }


def _estimate(cfg: Mapping[str, Any], synth: str) -> dict[str, Any]:
    return read_json_cached(f"{cfg['results_dir']}/pool/{synth}/estimate.json")


def _median(value: Mapping[str, float] | None, digits: int = 0) -> str:
    """'1,234 (1,100-1,400)': a forecast's median and 80% interval."""
    if not value:
        return "-"
    f = f"{{:,.{digits}f}}"
    return f"{f.format(value['median'])} ({f.format(value['low'])}-{f.format(value['high'])})"


def estimate_report_labels(cfg: Mapping[str, Any], synth: str) -> dict[str, Any]:
    """Report labels of a pool's estimate.json: the forecast medians and 80% intervals."""
    pool = _estimate(cfg, synth).get("pool", {})
    return {
        "pool": synth,
        "item": "cost forecast",
        "rounds": _median(pool.get("rounds")),
        "trials": _median(pool.get("trials")),
        "correct": _median(pool.get("correct")),
        "tokens": _median(pool.get("tokens")),
        "engine hours": _median(pool.get("engine_hours"), 2),
        "GPU hours": _median(pool.get("gpu_hours"), 2),
    }
