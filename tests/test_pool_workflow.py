"""The sampling pool through real Snakemake runs, on a tiny random CPU model.

- the pool runs in rounds until no query needs more (or the round limit), and the three
  recipes come out of one shared pool;
- a run killed with SIGKILL in the middle of a generation shard and rerun gives
  byte-identical datasets;
- changing a recipe's parameters, both ways, re-runs only what must change (`snakemake
  -n`): a target the pool already holds rebuilds that dataset from the pool as it is; one
  that needs more grows the pool by new rounds planned from the existing tally (finished
  rounds kept, no --forcerun) and rebuilds the pool's datasets.

Each test works on its own copy of the built run, so the order does not matter.
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

# The pool run (`pool_built`) and the SIGKILL test's run take about 100 s each on an idle
# 2-core machine of the slower kind, more beside the other steps of `make test` (437 s and
# over 600 s measured on a machine loaded 5 times over): 20 minutes, not the suite's 10,
# before a test is called hung.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

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


@pytest.fixture(scope="session")
def pool_built(repo_root, dart_env, boxing_model, tmp_path_factory):
    """The run, built once per test run (under xdist, by the first worker that needs it:
    the SIGKILL test can run beside the others)."""
    from build_once import build_once

    def build(workdir: Path) -> Path:
        _write_config(workdir, _config(workdir, boxing_model))
        proc = _snakemake(repo_root, workdir, dart_env)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
        return workdir

    return build_once(tmp_path_factory, "pool", build)


@pytest.fixture()
def pool_run(pool_built, tmp_path):
    """This test's own copy of the built run (mtimes and Snakemake metadata kept)."""
    from small_workflow import copy_run

    return copy_run(pool_built, tmp_path / "pool-run")


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


def _edit_recipe(workdir: Path, name: str, **values) -> None:
    """Change one dataset's recipe in the run's config.yaml (other paths kept as built)."""
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    cfg["datasets"][name].update(values)
    _write_config(workdir, cfg)


def _dry_jobs(repo_root, workdir, env) -> tuple[list[tuple[str, str]], str]:
    from small_workflow import planned_jobs

    dry = _snakemake(repo_root, workdir, env, "-n")
    text = dry.stdout + dry.stderr
    assert dry.returncode == 0, text[-3000:]
    return [(r, w) for r, w in planned_jobs(text) if r != "all"], text


def _rounds(workdir: Path) -> int:
    return len(json.loads((workdir / "results/pool/tiny/pool.json").read_text())["rounds"])


#: (recipe, parameter, value the finished pool already holds, value that needs more)
CHANGES = [
    ("vrt", "trials", 3, 12),
    ("uniform", "k", 1, 6),
    ("prop2diff", "k_p", 1, 8),
    ("prop2diff", "min", 0, 3),
]


@pytest.mark.parametrize(("name", "key", "fewer", "more"), CHANGES)
def test_a_recipe_that_needs_fewer_rebuilds_only_its_dataset(
    pool_run, repo_root, dart_env, name, key, fewer, more
):
    _edit_recipe(pool_run, name, **{key: fewer})
    jobs, text = _dry_jobs(repo_root, pool_run, dart_env)
    # and the pool's forecast, which gives each recipe's rows (no trial is sampled again)
    expected = [("dataset", f"dataset={name}"), ("estimate", "synth=tiny")]
    assert sorted(jobs) == expected, text[-3000:]


@pytest.mark.parametrize(("name", "key", "fewer", "more"), CHANGES)
def test_a_recipe_that_needs_more_grows_the_pool(
    pool_run, repo_root, dart_env, name, key, fewer, more
):
    rounds = _rounds(pool_run)
    _edit_recipe(pool_run, name, **{key: more})
    jobs, text = _dry_jobs(repo_root, pool_run, dart_env)
    rules = {r for r, _ in jobs}
    # a new round planned from the existing tally; nothing finished re-runs
    assert ("plan", f"synth=tiny, round={rounds}") in jobs, text[-3000:]
    assert "dataset" in rules and not rules & {"generate", "verify", "queries"}
    assert {w for r, w in jobs if r == "plan"} == {f"synth=tiny, round={rounds}"}
    assert {w for r, w in jobs if r == "dataset"} == {f"dataset={d}" for d in DATASETS}


@pytest.mark.slow
def test_raising_a_target_grows_the_pool_for_real(pool_run, repo_root, dart_env):
    """Run it: the finished rounds' files stay untouched, new rounds are sampled, the
    datasets are rebuilt, and the next dry run has nothing to do."""
    rounds = _rounds(pool_run)
    finished = sorted(pool_run.glob("results/pool/tiny/round*/gen/shard*.parquet"))
    before = {p: p.stat().st_mtime_ns for p in finished}
    _edit_recipe(pool_run, "uniform", k=4)
    proc = _snakemake(repo_root, pool_run, dart_env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert {p: p.stat().st_mtime_ns for p in finished} == before
    assert _rounds(pool_run) > rounds
    assert (pool_run / f"results/pool/tiny/round{rounds}/gen/shard0.parquet").exists()
    jobs, text = _dry_jobs(repo_root, pool_run, dart_env)
    assert jobs == [], text[-3000:]
