"""A pool's labels in the Snakemake report: rounds, trials, correct responses and yield,
read from its ``pool.json`` when the report is made.

    pool_report_labels(config, "smollm2")   # {"pool": "smollm2", "rounds": 3, ...}
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
    }
