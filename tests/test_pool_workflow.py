"""The sampling pool through real Snakemake runs, on a tiny random CPU model.

- the pool runs in rounds until no query needs more (or the round limit), and the three
  recipes come out of one shared pool;
- a run killed with SIGKILL in the middle of a generation shard and rerun gives
  byte-identical datasets;
- changing only a recipe's target re-runs only what must change (`snakemake -n`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import yaml

pytestmark = pytest.mark.slow

DIGIT_QUESTIONS = [
    {"question": f"Question {i}: what digit comes after {d - 1 if d else 9}?", "answer": str(d)}
    for i, d in enumerate([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 0])
]
DATASETS = ("vrt", "uniform", "prop2diff")


def _config(workdir: Path, model: Path, uniform_k: int = 2) -> dict:
    source = workdir / "digits.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in DIGIT_QUESTIONS))
    return {
        "seed": 3,
        "queries": {
            "digits": {
                "format": "table",
                "source": str(source),
                "columns": {"query": "question", "gold": "answer"},
            }
        },
        "models": {"tiny": {"source": str(model)}},
        "synth": {
            "tiny": {
                "model": "tiny",
                "queries": ["digits"],
                "engine": "transformers",
                "template": "dart-synth",
                "sampling": {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "max_new_tokens": 48},
                "cap": 24,
                "per_round_max": 8,
                "max_rounds": 8,
                "shards": 2,
                "chunk_size": 8,
                "engine_options": {"batch_size": 8},
            }
        },
        "datasets": {
            "vrt": {"synth": "tiny", "recipe": "vrt", "trials": 4},
            "uniform": {"synth": "tiny", "recipe": "uniform", "k": uniform_k},
            "prop2diff": {"synth": "tiny", "recipe": "prop2diff", "k_p": 2, "n_probe": 4},
        },
    }


def _write_config(workdir: Path, cfg: dict) -> None:
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))


def _cmd(repo_root: Path, workdir: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "snakemake",
        "-s", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"),
        "--profile", str(repo_root / "profiles" / "local"),
        *args,
    ]  # fmt: skip


def _snakemake(repo_root, workdir, env, *args):
    proc = subprocess.run(
        _cmd(repo_root, workdir, *args),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return proc


@pytest.fixture(scope="module")
def pool_run(repo_root, dart_env, boxing_model, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pool")
    _write_config(workdir, _config(workdir, boxing_model))
    proc = _snakemake(repo_root, workdir, dart_env)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    return workdir


def test_pool_rounds_and_recipes(pool_run, dart_env):
    pool = json.loads((pool_run / "results/pool/tiny/pool.json").read_text())
    assert pool["complete"] and len(pool["rounds"]) >= 2
    assert pool["trials"] <= 12 * 24  # never past the cap
    tally = pl.read_parquet(
        pool_run / f"results/pool/tiny/round{len(pool['rounds']) - 2}/tally.parquet"
    )
    assert (tally["trials"] <= 24).all()
    # Every query reached its targets or ran to the cap, and the latter are listed.
    short = set(tally.filter(pl.col("correct") < 2)["query_id"])
    assert short == {q for q in short if q in set(pool["exhausted"])}
    for name in DATASETS:
        data = pl.read_parquet(pool_run / f"results/datasets/{name}.parquet")
        assert {"query", "response", "query_id", "sample_id", "round", "shard", "seed"} <= set(
            data.columns
        )
        assert (pool_run / f"results/datasets/{name}/README.md").exists()
        audit = subprocess.run(
            [sys.executable, "-m", "dart.cli", "audit", f"results/datasets/{name}.parquet"],
            cwd=pool_run, env=dart_env, capture_output=True, text=True,
        )  # fmt: skip
        assert audit.returncode == 0, audit.stdout[-3000:]
        assert "data/queries/digits.parquet" in audit.stdout
    uniform = pl.read_parquet(pool_run / "results/datasets/uniform.parquet")
    assert uniform.group_by("query_id").len()["len"].max() <= 2


def test_sigkill_mid_shard_then_rerun_is_byte_identical(
    pool_run, repo_root, dart_env, boxing_model, tmp_path
):
    _write_config(tmp_path, _config(tmp_path, boxing_model))
    proc = subprocess.Popen(
        _cmd(repo_root, tmp_path), cwd=tmp_path, env=dart_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    parts = tmp_path / "results/pool/tiny/round0/gen"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if any(p.glob("part-*.parquet") for p in parts.glob("*.parts")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before a generation shard had a finished part"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # A killed Snakemake leaves its lock: the user (and this test) unlocks, then reruns.
    unlock = _snakemake(repo_root, tmp_path, dart_env, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    rerun = _snakemake(repo_root, tmp_path, dart_env)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    for name in DATASETS:
        ours = (tmp_path / f"results/datasets/{name}.parquet").read_bytes()
        assert ours == (pool_run / f"results/datasets/{name}.parquet").read_bytes(), name


def test_changing_a_target_reruns_only_what_must_change(
    pool_run, repo_root, dart_env, boxing_model
):
    # Lower uniform's k: the pool already holds enough, so only that dataset is rebuilt.
    _write_config(pool_run, _config(pool_run, boxing_model, uniform_k=1))
    dry = _snakemake(repo_root, pool_run, dart_env, "-n", "--quiet", "rules")
    assert dry.returncode == 0, dry.stderr[-3000:]
    text = dry.stdout + dry.stderr
    for rule in ("plan", "generate", "verify", "tally"):
        assert f"\n{rule} " not in text and f"{rule}  " not in text.split("Job stats")[-1], text
    assert "dataset" in text
    # Raise it: the finished rounds stay, and the pool grows by a new round. Snakemake
    # does not look past a checkpoint for jobs whose outputs exist, so the workflow says
    # to force the datasets, and with that the plan of the next round is scheduled.
    _write_config(pool_run, _config(pool_run, boxing_model, uniform_k=3))
    dry = _snakemake(repo_root, pool_run, dart_env, "-n", "--forcerun", "dataset")
    text = dry.stdout + dry.stderr
    assert dry.returncode == 0, text[-3000:]
    assert "--forcerun dataset" in text  # the warning that tells the user
    rounds = len(json.loads((pool_run / "results/pool/tiny/pool.json").read_text())["rounds"])
    assert f"round{rounds}/plan.json" in text, text[-3000:]
    for r in range(rounds - 1):
        assert f"round{r}/gen/" not in text, f"finished round {r} would be re-run"
