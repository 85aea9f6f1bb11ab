"""What a code-version bump or a changed parameter reruns: real `snakemake -n` dry runs.

After one real run of the small DAG (tests/small_workflow.py), each change is made the
way a user makes it (a config edit) or, for code versions, through the test-only
DART_VERSION_OVERRIDES variable that dart.lineage.versions reads in Snakemake's own process:

- a grader bump plans verification and tallies and re-plans the later rounds (their
  shards wait behind the plan checkpoints), but no generation; run for real, a re-plan
  that comes out the same leaves its shards alone (Snakemake compares the checksum);
- a prompt template or decoder bump plans generation onwards (never queries or models);
- a changed recipe parameter plans only that dataset;
- re-verifying a finished pool with a stricter grader (for real) re-plans the later
  rounds from the new verdicts: round 0 is kept, round 1 is regenerated for the queries
  that now need more (its earlier trials reproduce under the same ids and seeds).
"""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from small_workflow import edit_config, planned_jobs, snakemake, with_overrides

from dart.lineage import versions

pytestmark = pytest.mark.slow


@pytest.fixture()
def run(small_run):
    """This test's own copy of the built small run (tests/conftest.py)."""
    return small_run


def _dry(repo_root, workdir, env, *args):
    proc = snakemake(repo_root, workdir, env, "-n", *args)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-4000:]
    return planned_jobs(text), text


def _rules(jobs) -> set[str]:
    return {rule for rule, _ in jobs}


def test_up_to_date_run_plans_nothing(run, repo_root, dart_env):
    jobs, text = _dry(repo_root, run, dart_env)
    assert jobs == [], text[-3000:]


def test_grader_bump_reruns_verification_but_no_generation(run, repo_root, dart_env):
    env = with_overrides(dart_env, {"grader": versions.grader() + "-bumped"})
    jobs, text = _dry(repo_root, run, env)
    rules = _rules(jobs)
    # Round 0 is re-verified and re-tallied, the later rounds re-planned (checkpoints:
    # their shards wait for the new plans); nothing is generated.
    assert {"verify", "tally", "plan"} <= rules, text[-3000:]
    assert not rules & {"generate", "queries", "model"}, text[-3000:]
    assert {w for r, w in jobs if r == "verify"} == {
        "synth=tiny, round=0, shard=0",
        "synth=tiny, round=0, shard=1",
    }
    assert "Params have changed" in text and "DAG of jobs will be updated" in text


def test_grader_bump_real_run_regenerates_nothing(run, repo_root, dart_env):
    work = run
    gen = sorted(work.glob("results/pool/tiny/round*/gen/shard*.parquet"))
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in gen}
    env = with_overrides(dart_env, {"grader": versions.grader() + "-bumped"})
    proc = snakemake(repo_root, work, env)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-4000:]
    rules = [r for r, _ in planned_jobs(text)]
    # Same verdicts, so every re-plan came out the same and no shard was regenerated.
    assert "generate" not in rules, text[-3000:]
    assert rules.count("verify") == 4 and rules.count("plan") >= 1
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in gen} == before
    jobs, text = _dry(repo_root, work, env)
    assert jobs == [], text[-3000:]


@pytest.mark.parametrize("key", ["template:dart-synth", "engine:transformers"])
def test_template_or_decoder_bump_reruns_generation_onwards(key, run, repo_root, dart_env):
    jobs, text = _dry(repo_root, run, with_overrides(dart_env, {key: "bumped"}))
    rules = _rules(jobs)
    assert {"generate", "verify", "tally"} <= rules, text[-3000:]
    assert not rules & {"queries", "model"}, text[-3000:]
    # Round 0 regenerates now; later rounds after their (re-)plans.
    assert {w for r, w in jobs if r == "generate"} == {
        "synth=tiny, round=0, shard=0",
        "synth=tiny, round=0, shard=1",
    }


def test_recipe_param_reruns_only_that_dataset(run, repo_root, dart_env):
    work = run
    edit_config(work, lambda cfg: cfg["datasets"]["vrt"].update(trials=3))
    jobs, text = _dry(repo_root, work, dart_env)
    # and the pool's forecast, which gives each recipe's rows (no trial is sampled again)
    assert sorted((r, w) for r, w in jobs if r != "all") == [
        ("dataset", "dataset=vrt"),
        ("estimate", "synth=tiny"),
    ], text[-3000:]


def test_stricter_regrade_of_a_finished_pool(run, repo_root, dart_env):
    work = run
    gen0 = sorted(work.glob("results/pool/tiny/round0/gen/shard*.parquet"))
    before = {p: p.stat().st_mtime_ns for p in gen0}
    old_plan = pl.read_parquet(work / "results/pool/tiny/round1/plan.parquet")
    # A grader that fails every answer: no time is short enough to grade in.
    edit_config(work, lambda cfg: cfg.setdefault("grader", {}).update(timeout=1e-6))
    proc = snakemake(repo_root, work, dart_env)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-4000:]
    verified = pl.read_parquet(list(work.glob("results/pool/tiny/round*/verified/*.parquet")))
    assert set(verified["verdict"]) == {"timeout"}
    # Round 0 kept; round 1 re-planned from the new verdicts (every query now needs a
    # correct response) and regenerated: its old trials reproduce under the same ids.
    assert {p: p.stat().st_mtime_ns for p in gen0} == before
    new_plan = pl.read_parquet(work / "results/pool/tiny/round1/plan.parquet")
    assert new_plan.height > old_plan.height
    assert set(old_plan["sample_id"]) <= set(new_plan["sample_id"])
    jobs = planned_jobs(text)
    assert {w for r, w in jobs if r == "generate"} == {
        "synth=tiny, round=1, shard=0",
        "synth=tiny, round=1, shard=1",
    }
    assert pl.read_parquet(work / "results/datasets/uniform.parquet").height == 0
    pool = json.loads((work / "results/pool/tiny/pool.json").read_text())
    assert pool["complete"] and pool["correct"] == 0
    jobs, text = _dry(repo_root, work, dart_env)
    assert jobs == [], text[-3000:]


def _list_changes(repo_root, workdir, env) -> set[str]:
    """`snakemake --list-changes params`, through dart.lineage.staleness (Snakemake 9.27's own
    lists one output of every job, changed or not)."""
    cmd = [sys.executable, "-m", "dart.lineage.staleness", "-s", str(repo_root / "Snakefile"),
           "--directory", str(workdir), "--cores", "1", "--configfile", "config.yaml",
           "--list-changes", "params"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(proc.stdout.split())


def test_list_changes_params_names_the_verified_shards(run, repo_root, dart_env):
    assert _list_changes(repo_root, run, dart_env) == set()
    env = with_overrides(dart_env, {"grader": "bumped"})
    # Round 0's shards; the later rounds' jobs wait behind their re-planned checkpoints.
    # each shard with its provenance record (a declared output of the same job)
    shards = {f"results/pool/tiny/round0/verified/shard{s}.parquet" for s in (0, 1)}
    assert _list_changes(repo_root, run, env) == shards | {f"{p}.prov.json" for p in shards}


def test_versions_import_is_light_and_overridable(dart_env):
    code = (
        "import sys, json; import dart.lineage.versions as v; "
        "print(json.dumps([v.grader(), v.template('dart-synth'), v.engine('transformers'), "
        "sorted(m for m in ('torch', 'transformers', 'polars') if m in sys.modules)]))"
    )
    env = with_overrides(dart_env, {"grader": "7.7.7"})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    grader, template, engine, heavy = json.loads(out.stdout)
    assert grader == "7.7.7" and template == versions.template("dart-synth")
    assert engine == versions.engine("transformers") and heavy == []


def test_snakemake_pin_matches_the_fixed_minor_and_the_upstream_behaviour_holds(repo_root):
    """The ParamsChange fix targets one Snakemake minor: pyproject pins it, the installed
    Snakemake is it, and the upstream behaviour it fixes is still there (when this fails
    after an upgrade, check whether the fix is still needed)."""
    import re

    import snakemake
    from snakemake.persistence import ParamsChange

    from dart.lineage.staleness import SNAKEMAKE_MINOR

    minor = ".".join(map(str, SNAKEMAKE_MINOR))
    pin = re.search(r'"snakemake>=([\d.]+),<([\d.]+)"', (repo_root / "pyproject.toml").read_text())
    assert pin and pin.group(1) == minor, pin
    assert snakemake.__version__.startswith(minor + ".")
    empty = ParamsChange(files={"out.txt"})
    assert not empty and list(empty) == ["out.txt"]  # upstream: listed though unchanged
    changed = ParamsChange(only_new={"x"}, files={"out.txt"})
    assert changed and list(changed) == ["out.txt"]


def test_restating_values_with_another_spelling_reruns_nothing(run, repo_root, dart_env):
    """`--config` hands nested values over as strings, and 5 and 5.0 are one value: the
    params stay the same, so nothing is planned."""
    import yaml

    cfg = yaml.safe_load((run / "config.yaml").read_text())
    sampling = {k: (float(v) if isinstance(v, int) else v)
                for k, v in cfg["synth"]["tiny"]["sampling"].items()}  # fmt: skip
    restated = (
        'grader={"timeout": 5, "memory_mb": 2048.0}',
        f"seed={float(cfg['seed'])}",
    )
    jobs, text = _dry(repo_root, run, dart_env, "--config", *restated)
    assert jobs == [], text[-3000:]
    edit_config(run, lambda c: c["synth"]["tiny"].update(sampling=sampling, cap=8.0))
    jobs, text = _dry(repo_root, run, dart_env)
    assert jobs == [], text[-3000:]
