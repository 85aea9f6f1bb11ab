"""What a code-version bump or a changed parameter reruns: real `snakemake -n` dry runs.

After one real run of the small DAG (tests/small_workflow.py), each change is made the
way a user makes it (a config edit) or, for code versions, through the test-only
DART_VERSION_OVERRIDES variable that dart.versions reads in Snakemake's own process:

- a grader bump plans verification, tallies, the pool summary and the datasets, but no
  generation and no plan (a plan reads the previous tally as `ancient`);
- a prompt template or decoder bump plans generation onwards (never queries or models);
- a changed recipe parameter plans only that dataset.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from small_workflow import (
    copy_run,
    edit_config,
    planned_jobs,
    shared_run,
    snakemake,
    with_overrides,
)

from dart import versions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory, repo_root, dart_env, boxing_model):
    return shared_run(tmp_path_factory, repo_root, dart_env, boxing_model)


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
    assert {"verify", "tally", "pool", "dataset"} <= rules, text[-3000:]
    assert not rules & {"generate", "plan", "queries", "model"}, text[-3000:]
    verified = sorted(w for r, w in jobs if r == "verify")
    assert len(verified) == 4 and any("round=1" in w for w in verified)  # both rounds
    assert "Params have changed" in text


@pytest.mark.parametrize("key", ["template:dart-synth", "engine:transformers"])
def test_template_or_decoder_bump_reruns_generation_onwards(key, run, repo_root, dart_env):
    jobs, text = _dry(repo_root, run, with_overrides(dart_env, {key: "bumped"}))
    rules = _rules(jobs)
    assert {"generate", "verify", "tally", "pool", "dataset"} <= rules, text[-3000:]
    assert not rules & {"queries", "model", "plan"}, text[-3000:]
    assert len([r for r, _ in jobs if r == "generate"]) == 4


def test_recipe_param_reruns_only_that_dataset(run, repo_root, dart_env, tmp_path):
    work = copy_run(run, tmp_path / "run")
    edit_config(work, lambda cfg: cfg["datasets"]["vrt"].update(trials=3))
    jobs, text = _dry(repo_root, work, dart_env)
    assert [(r, w) for r, w in jobs if r != "all"] == [("dataset", "dataset=vrt")], text[-3000:]


def test_list_changes_params_names_exactly_the_verified_shards(run, repo_root, dart_env):
    env = with_overrides(dart_env, {"grader": "bumped"})
    proc = snakemake(repo_root, run, env, "--list-changes", "params")
    assert proc.returncode == 0, proc.stderr[-3000:]
    listed = {line for line in proc.stdout.split() if line}
    assert listed and all("/verified/shard" in p for p in listed), listed


def test_versions_import_is_light_and_overridable(dart_env):
    code = (
        "import sys, json; import dart.versions as v; "
        "print(json.dumps([v.grader(), v.template('dart-synth'), v.engine('transformers'), "
        "sorted(m for m in ('torch', 'transformers', 'polars') if m in sys.modules)]))"
    )
    env = with_overrides(dart_env, {"grader": "7.7.7"})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    grader, template, engine, heavy = json.loads(out.stdout)
    assert grader == "7.7.7" and template == versions.template("dart-synth")
    assert engine == versions.engine("transformers") and heavy == []
