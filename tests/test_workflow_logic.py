"""dart.workflow, the logic behind rules/common.smk, without Snakemake.

The plan reader reads plan.json files that the tests write (a missing one raises, as
Snakemake's checkpoint does); ``needs_more`` is the real planner's over small real tables.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
import yaml

from dart.config import pool_recipes, validate
from dart.inputs import read_json_cached
from dart.pool.planner import needs_more
from dart.workflow import Workflow, canonical_json

ROOT = Path(__file__).resolve().parent.parent


class NotPlanned(Exception):
    """What the reader raises for a round without a plan (Snakemake: wait for it)."""


def _config(tmp_path: Path, **datasets) -> dict:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["data_dir"] = str(tmp_path / "data")
    cfg["results_dir"] = str(tmp_path / "results")
    if datasets:
        cfg["datasets"] = datasets
    return validate(cfg)


def _reader(wf_root: Path, reads: list | None = None):
    def read(synth: str, round_: int):
        path = wf_root / f"results/pool/{synth}/round{round_}/plan.json"
        if reads is not None:
            reads.append((synth, round_))
        if not path.exists():
            raise NotPlanned(path)
        return read_json_cached(path)

    return read


def _plan(tmp_path: Path, round_: int, trials: int, synth: str = "smollm2") -> None:
    path = tmp_path / f"results/pool/{synth}/round{round_}/plan.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"round": round_, "trials": trials}))


def _queries(tmp_path: Path, n: int = 3) -> list[str]:
    path = tmp_path / "data/queries/generated.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = [f"q{i}" for i in range(n)]
    pl.DataFrame(
        {"query_id": ids, "source": ["generated"] * n, "query": ids, "gold": ["1"] * n,
         "level": [1] * n}
    ).write_parquet(path)  # fmt: skip
    return ids


def _tally(tmp_path: Path, round_: int, ids: list[str], trials: int, correct: int) -> str:
    from dart.pool.tally import SCHEMA

    path = tmp_path / f"results/pool/smollm2/round{round_}/tally.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(ids)
    rows = {name: [None] * n for name in SCHEMA}
    rows.update(query_id=ids, trials=[trials] * n, correct=[correct] * n)
    rows["outcomes"] = ["1" * correct + "0" * (trials - correct)] * n
    frame = pl.DataFrame(rows, schema_overrides=dict(SCHEMA))
    frame.select(list(SCHEMA)).write_parquet(path)
    return str(path)


def test_targets_and_inputs_of_the_default(tmp_path):
    cfg = _config(tmp_path)
    wf = Workflow(cfg)
    res = cfg["results_dir"]
    targets = wf.all_targets()
    assert f"{res}/datasets/uniform.parquet" in targets and targets[-1] == f"{res}/summary.md"
    # base (few-shot and at the fine-tunes' template) + three fine-tunes, two benchmarks
    assert len(wf.eval_results()) == 5 * 2
    assert wf.model_folder("smollm2-135m") == f"{cfg['data_dir']}/models/smollm2-135m"
    assert wf.model_folder("smollm2-135m@alpaca") == wf.model_folder("smollm2-135m")
    assert wf.summary_models()["smollm2-135m@alpaca"] == {
        "base": "smollm2-135m", "template": "alpaca", "dataset": None, "seed": None,
        "base_source": "embedded:smollm2", "recipe": None,
    }  # fmt: skip
    assert wf.model_folder("smollm2-135m--vrt") == f"{res}/models/smollm2-135m--vrt"
    assert wf.train_spec("smollm2-135m--vrt")["hparams"]["global_batch"] == 4
    assert wf.contamination_files("smollm2") == [f"{cfg['data_dir']}/decontam/generated.parquet"]
    assert wf.summary_models()["smollm2-135m--uniform"]["recipe"] == "uniform"
    assert wf.query_source_inputs("generated") == {"earlier": []}


def test_the_base_model_at_the_fine_tunes_template_is_an_option(tmp_path):
    from dart.config import eval_models, eval_template, prompt_variants

    cfg = _config(tmp_path)
    assert prompt_variants(cfg) == {"smollm2-135m@alpaca": {"base": "smollm2-135m",
                                                            "template": "alpaca"}}  # fmt: skip
    assert eval_template(cfg, "smollm2-135m@alpaca") == "alpaca"
    assert eval_template(cfg, "smollm2-135m") == "base-few-shot"
    assert eval_models(cfg)[-1] == "smollm2-135m@alpaca"
    cfg["eval"]["base_at_finetune_template"] = False
    assert prompt_variants(cfg) == {} and "smollm2-135m@alpaca" not in eval_models(cfg)
    # a base model already evaluated at that template gets no second row
    cfg["eval"]["base_at_finetune_template"] = True
    cfg["eval"]["templates"] = {"smollm2-135m": "alpaca"}
    assert prompt_variants(cfg) == {}
    # the schema's default is off (the paper evaluates base models few-shot only)
    paper = validate(yaml.safe_load((ROOT / "config.paper.yaml").read_text()))
    assert paper["eval"]["base_at_finetune_template"] is False
    assert paper["eval"]["second_opinion"] == "math-verify"


def test_rounds_inputs_and_verified_shards(tmp_path):
    cfg = _config(tmp_path)
    reads: list = []
    wf = Workflow(cfg, _reader(tmp_path, reads), needs_more=lambda s, t: False)
    with pytest.raises(NotPlanned):  # round 0 not planned: wait for its checkpoint
        wf.pool_rounds("smollm2")
    _plan(tmp_path, 0, 40)
    with pytest.raises(NotPlanned):
        wf.pool_rounds("smollm2")
    _plan(tmp_path, 1, 12)
    _plan(tmp_path, 2, 0)
    assert wf.pool_rounds("smollm2") == [0, 1, 2]
    pool = f"{cfg['results_dir']}/pool/smollm2"
    assert wf.tally_inputs("smollm2", 0)["previous"] == []
    assert wf.tally_inputs("smollm2", 1) == {
        "previous": [f"{pool}/round0/tally.parquet"],
        "verified": [f"{pool}/round1/verified/shard0.parquet", f"{pool}/round1/verified/shard1.parquet"],
        "queries": [f"{cfg['data_dir']}/queries/generated.parquet"],
    }  # fmt: skip
    assert wf.tally_inputs("smollm2", 2)["verified"] == []  # an empty round reads no shards
    inputs = wf.pool_inputs("smollm2")
    assert inputs["plans"] == [f"{pool}/round{r}/plan.json" for r in range(3)]
    assert inputs["tally"] == f"{pool}/round1/tally.parquet"  # the last round with trials
    verified = wf.dataset_verified("uniform")
    assert verified == [
        f"{pool}/round{r}/verified/shard{s}.parquet" for r in (0, 1) for s in (0, 1)
    ]
    assert wf.dataset_inputs("vrt")["verified"] == verified
    assert wf.dataset_inputs("vrt")["pool"] == f"{pool}/pool.json"


def test_round_limit_stops_the_walk(tmp_path):
    """Plans exist beyond the limit and the recipes always need more: the walk still ends
    at round max_rounds and never reads a plan past it."""
    cfg = _config(tmp_path)
    limit = cfg["synth"]["smollm2"]["max_rounds"]
    for r in range(limit + 3):
        _plan(tmp_path, r, 5)
    reads: list = []
    wf = Workflow(cfg, _reader(tmp_path, reads), needs_more=lambda s, t: True)
    assert wf.pool_rounds("smollm2") == list(range(limit + 1))
    assert max(r for _, r in reads) == limit


def test_an_empty_round_is_passed_over_when_the_recipes_now_need_more(tmp_path):
    """A raised target: the round planned empty under the old recipes is followed by a
    new one (its plan is not there yet: wait for it); finished rounds stay as they are."""
    cfg = _config(tmp_path)
    _plan(tmp_path, 0, 40)
    _plan(tmp_path, 1, 0)
    asked = []

    def more(synth, tally):
        asked.append(tally)
        return True

    wf = Workflow(cfg, _reader(tmp_path), needs_more=more)
    with pytest.raises(NotPlanned, match="round2"):
        wf.pool_rounds("smollm2")
    assert asked == [f"{cfg['results_dir']}/pool/smollm2/round0/tally.parquet"]
    _plan(tmp_path, 2, 8)
    _plan(tmp_path, 3, 0)
    wf = Workflow(
        cfg, _reader(tmp_path), needs_more=lambda s, t: t.endswith("round0/tally.parquet")
    )
    assert wf.pool_rounds("smollm2") == [0, 1, 2, 3]
    assert wf.full_rounds("smollm2", [0, 1, 2, 3]) == [0, 2]


def test_reads_are_cached_and_reread_when_the_file_changes(tmp_path):
    cfg = _config(tmp_path)
    _plan(tmp_path, 0, 40)
    _plan(tmp_path, 1, 0)
    calls = []

    def more(synth, tally):
        calls.append(tally)
        return False

    wf = Workflow(cfg, _reader(tmp_path), needs_more=more)
    for _ in range(5):
        wf.pool_inputs("smollm2")
        wf.dataset_verified("vrt")
    assert len(calls) == 1  # one question per (pool, tally state)
    path = tmp_path / "results/pool/smollm2/round0/plan.json"
    first = read_json_cached(path)
    assert read_json_cached(path) is first  # cached: not parsed again
    stat = path.stat()
    path.write_text(json.dumps({"round": 0, "trials": 41}))  # same size, other content
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_json_cached(path)["trials"] == 41  # rewritten (a re-plan): read again


def test_needs_more_and_pool_must_grow_on_real_tables(tmp_path):
    cfg = _config(
        tmp_path,
        uniform={"synth": "smollm2", "recipe": "uniform", "k": 2},
        vrt={"synth": "smollm2", "recipe": "vrt", "trials": 4},
    )
    ids = _queries(tmp_path)
    tally = _tally(tmp_path, 0, ids, trials=4, correct=2)
    assert not needs_more(cfg, "smollm2", tally)
    assert needs_more(cfg, "smollm2", None)  # nothing sampled yet
    wf = Workflow(cfg, _reader(tmp_path), lambda s, t: needs_more(cfg, s, t))
    assert not wf.pool_must_grow("smollm2")  # no finished pool yet
    pool = tmp_path / "results/pool/smollm2/pool.json"
    pool.write_text(json.dumps({"rounds": [{"round": 0, "trials": 12}, {"round": 1, "trials": 0}]}))
    assert not wf.pool_must_grow("smollm2")
    raised = validate({**cfg, "datasets": {**cfg["datasets"], "uniform": {
        "synth": "smollm2", "recipe": "uniform", "k": 3}}})  # fmt: skip
    wf = Workflow(raised, _reader(tmp_path), lambda s, t: needs_more(raised, s, t))
    assert wf.pool_must_grow("smollm2")
    # the finished rounds from their files, the new round's plan a plain input
    _plan(tmp_path, 0, 12)
    _plan(tmp_path, 1, 0)
    pool_dir = f"{raised['results_dir']}/pool/smollm2"
    assert wf.dataset_inputs("uniform") == {
        "queries": [f"{raised['data_dir']}/queries/generated.parquet"],
        "pool": f"{pool_dir}/pool.json",
        "verified": [f"{pool_dir}/round0/verified/shard{s}.parquet" for s in range(2)],
    }
    assert wf.plan_files("smollm2") == [f"{pool_dir}/round2/plan.json"]
    _plan(tmp_path, 2, 6)  # planned: the next plan waits for round 2's tally
    assert wf.plan_files("smollm2") == [f"{pool_dir}/round3/plan.json"]
    _plan(tmp_path, 3, 0)  # every plan there: the checkpoints take over
    assert wf.plan_files("smollm2") == []
    # as built (k=2): nothing to grow
    wf = Workflow(cfg, _reader(tmp_path), lambda s, t: needs_more(cfg, s, t))
    assert wf.plan_files("smollm2") == []
    lowered = validate({**cfg, "datasets": {**cfg["datasets"], "uniform": {
        "synth": "smollm2", "recipe": "uniform", "k": 1}}})  # fmt: skip
    wf = Workflow(lowered, _reader(tmp_path), lambda s, t: needs_more(lowered, s, t))
    assert not wf.pool_must_grow("smollm2")
    # at the round limit the pool cannot grow: the datasets rebuild from it as it is
    limited = validate(
        {**raised, "synth": {"smollm2": {**raised["synth"]["smollm2"], "max_rounds": 1}}}
    )
    wf = Workflow(limited, _reader(tmp_path), lambda s, t: needs_more(limited, s, t))
    assert not wf.pool_must_grow("smollm2")


def test_pool_recipes_keep_each_recipes_own_keys(tmp_path):
    cfg = _config(tmp_path)
    recipes = pool_recipes(cfg, "smollm2")
    assert recipes["uniform"] == {"recipe": "uniform", "k": 2}
    assert recipes["prop2diff"] == {"recipe": "prop2diff", "k_p": 4, "n_probe": 4, "min": 1}
    assert canonical_json(recipes) == canonical_json(dict(reversed(list(recipes.items()))))


def test_job_shell_prefix_names_the_workflow_files(tmp_path, monkeypatch):
    import subprocess

    from dart.workflow import job_shell_prefix

    monkeypatch.chdir(tmp_path)
    prefix = job_shell_prefix("Snake file", [tmp_path / "config.yaml", "/elsewhere/c{1}.yaml"])
    shown = prefix.replace("{{", "{").replace("}}", "}")  # as Snakemake formats it
    out = subprocess.run(
        ["bash", "-c", shown + 'echo "$DART_SNAKEFILE|$DART_CONFIGFILES"'],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert out == f"{tmp_path}/Snake file|config.yaml{os.pathsep}/elsewhere/c{{1}}.yaml"
    assert shown.startswith("set -euo pipefail; ")
