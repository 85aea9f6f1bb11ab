"""The forecast and the budget through real Snakemake runs (the tiny boxing model).

- ``snakemake results/pool/tiny/estimate.json`` runs the pilot round alone, then stops.
- A budget stops the pool ("budget reached", cards list the queries short); lowering it
  rebuilds no pool or dataset file (the forecast alone is redone under it); raising it
  grows the pool by new rounds, finished rounds kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from test_pool_workflow import _config, _dry_jobs, _snakemake, _write_config

pytestmark = pytest.mark.slow

POOL = "results/pool/tiny"


def test_estimate_target_runs_the_pilot_round_only(repo_root, dart_env, boxing_model, tmp_path):
    _write_config(tmp_path, _config(tmp_path, boxing_model))
    proc = _snakemake(repo_root, tmp_path, dart_env, f"{POOL}/estimate.json")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert (tmp_path / f"{POOL}/round0/tally.parquet").exists()
    assert not (tmp_path / f"{POOL}/round1").exists()
    assert not (tmp_path / f"{POOL}/pool.json").exists()
    assert not (tmp_path / "results/datasets").exists()
    doc = json.loads((tmp_path / f"{POOL}/estimate.json").read_text())
    for key in ("trials", "correct", "tokens", "rounds", "engine_hours"):
        f = doc["pool"][key]
        assert f["low"] <= f["median"] <= f["high"], key
    assert "gpu_hours" not in doc["pool"]  # transformers on the CPU takes no GPU
    tally = pl.read_parquet(tmp_path / f"{POOL}/round0/tally.parquet")
    assert doc["pilot"]["trials"] == tally["trials"].sum()
    assert doc["pool"]["trials"]["low"] >= tally["trials"].sum()
    assert doc["pool"]["trials"]["high"] <= 24 * tally.height  # never past the cap
    assert set(doc["datasets"]) == {"vrt", "uniform", "prop2diff"}
    assert "Cost forecast of pool tiny" in (tmp_path / f"{POOL}/estimate.md").read_text()


def _set_budget(workdir: Path, **budget) -> None:
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    cfg["synth"]["tiny"]["budget"] = budget
    _write_config(workdir, cfg)


def test_budget_stops_lowered_rebuilds_nothing_raised_grows(
    repo_root, dart_env, boxing_model, tmp_path
):
    cfg = _config(tmp_path, boxing_model, uniform_k=4)
    cfg["synth"]["tiny"]["budget"] = {"max_trials": 80}
    _write_config(tmp_path, cfg)
    proc = _snakemake(repo_root, tmp_path, dart_env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    pool = json.loads((tmp_path / f"{POOL}/pool.json").read_text())
    assert pool["status"] == "budget reached" and pool["budget_reached"]
    assert 64 <= pool["trials"] <= 80  # round 0 gives 12 queries x 8 probe... within budget
    stats = json.loads((tmp_path / "results/datasets/uniform/stats.json").read_text())
    assert stats["budget"]["queries_short"] > 0
    card = (tmp_path / "results/datasets/uniform/README.md").read_text()
    assert "## Budget" in card and "budget reached" in card
    rounds = len(pool["rounds"])
    first_shard = tmp_path / f"{POOL}/round0/gen/shard0.parquet"
    mtime = first_shard.stat().st_mtime_ns

    # lowered: no pool or dataset file is redone (the budget reaches the planner as a
    # file, not a parameter); only the forecast, which is made under the budget
    _set_budget(tmp_path, max_trials=40)
    jobs, text = _dry_jobs(repo_root, tmp_path, dart_env)
    assert [rule for rule, _ in jobs] == ["estimate"], text[-3000:]

    # raised: new rounds only, finished rounds kept
    _set_budget(tmp_path, max_trials=200)
    proc = _snakemake(repo_root, tmp_path, dart_env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    grown = json.loads((tmp_path / f"{POOL}/pool.json").read_text())
    assert len(grown["rounds"]) > rounds and grown["trials"] > pool["trials"]
    assert grown["trials"] <= 200
    assert first_shard.stat().st_mtime_ns == mtime
