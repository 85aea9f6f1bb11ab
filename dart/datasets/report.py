"""A dataset's labels in the Snakemake report: its recipe and headline figures, read
from its ``stats.json`` when the report is made (``snakemake --report report.html``).

    dataset_report_labels(config, "uniform")   # {"dataset": "uniform", "rows": 60, ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dart.config import recipe_config
from dart.inputs import read_json_cached


def recipe_label(cfg: Mapping[str, Any], dataset: str) -> str:
    """A dataset's recipe and its own settings, e.g. 'uniform (k=40)'."""
    spec = recipe_config(cfg, dataset)
    keys = ", ".join(f"{k}={v}" for k, v in sorted(spec.items()) if k not in ("recipe", "synth"))
    return f"{spec['recipe']} ({keys})" if keys else spec["recipe"]


# --------------------------------------------------------------------------- report labels


def yield_text(per: Mapping[str, Mapping[str, Any]]) -> str:
    """'0: 3/48 · 1: 5/51' (kept rows / trials used) from a stats table by round or level."""
    return " · ".join(
        f"{key}: {row.get('rows', 0)}/{row.get('trials_used', 0)}" for key, row in per.items()
    )


def dataset_report_labels(cfg: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """Report labels of a dataset's stats.json: its headline figures (read at report time)."""
    stats = read_json_cached(f"{cfg['results_dir']}/datasets/{dataset}/stats.json")
    simulated = " (SIMULATED)" if stats.get("simulated") else ""  # a rehearsal, never data
    return {
        "dataset": dataset,
        "item": "stats",
        "pool": cfg["datasets"][dataset]["synth"] + simulated,
        "recipe": recipe_label(cfg, dataset),
        "rows": stats.get("rows", 0),
        "queries with rows": stats.get("queries_with_rows", 0),
        "yield per round": yield_text(stats.get("cost_per_round", {})),
        "yield per level": yield_text(stats.get("cost_per_level", {})),
    }
