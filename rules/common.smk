"""Helpers shared by the rules: paths, input functions and the run's merged config.

Reads: the validated config. Writes: results/config.yaml (merged config of each run) and
results/pool/{synth}/recipes.json (each pool's recipes, rewritten only when they change).
"""

import json
from pathlib import Path

from snakemake.logging import logger

from dart.config import eval_benchmarks, eval_models, eval_template, finetuned_models
from dart.config import write_merged

DATA = config["data_dir"]
RESULTS = config["results_dir"]
POOL = f"{RESULTS}/pool"
#: fine-tuned model name -> {base, dataset, seed}; the models and benchmarks evaluated
FINETUNED = finetuned_models(config)
EVAL_MODELS = eval_models(config)
EVAL_BENCHMARKS = eval_benchmarks(config)


def _one_of(names):
    """A wildcard constraint matching exactly these names."""
    import re

    return "|".join(re.escape(n) for n in names) or "NONE"


wildcard_constraints:
    source="|".join(config["queries"]) or "NONE",
    model="|".join(config["models"]) or "NONE",
    synth="|".join(config["synth"]) or "NONE",
    dataset="|".join(config["datasets"]) or "NONE",
    round=r"\d+",
    shard=r"\d+",
    tuned=_one_of(FINETUNED),
    emodel=_one_of([*config["models"], *FINETUNED]),
    benchmark=_one_of(config["benchmarks"]),


def queries_file(source):
    return f"{DATA}/queries/{source}.parquet"


def query_source_inputs(wildcards):
    """A local source file (so that Snakemake sees it change) and the sources before it."""
    spec = config["queries"][wildcards.source]
    inputs = {"earlier": [queries_file(s) for s in sources_before(wildcards.source)]}
    if spec["format"] != "generated" and Path(spec["source"]).exists():
        inputs["raw"] = spec["source"]
    return inputs


def sources_before(source):
    names = list(config["queries"])
    return names[: names.index(source)]


def column_args(spec):
    cols = {k: v for k, v in spec["columns"].items() if v}
    return " ".join(f"{k}={v}" for k, v in cols.items())


def all_targets(wildcards):
    targets = [queries_file(s) for s in config["queries"]]
    targets += [f"{DATA}/models/{m}" for m in config["models"]]
    targets += [f"{RESULTS}/datasets/{d}.parquet" for d in config["datasets"]]
    targets += [f"{RESULTS}/models/{m}" for m in FINETUNED]
    targets += eval_results()
    if eval_results():
        targets.append(f"{RESULTS}/summary.md")
    return targets


# --------------------------------------------------------------------------- models


def model_folder(name):
    """A base model's materialised folder, or a fine-tuned model's output folder."""
    return f"{RESULTS}/models/{name}" if name in FINETUNED else f"{DATA}/models/{name}"


def train_spec(wildcards):
    """The fine-tune's base, dataset, seed and resolved hyperparameters."""
    spec = FINETUNED[wildcards.tuned]
    return {**spec, "hparams": config["train"]["models"][spec["base"]]}


# --------------------------------------------------------------------------- evaluation


def benchmark_file(name):
    return f"{DATA}/benchmarks/{name}.parquet"


def benchmark_source_inputs(wildcards):
    """A local benchmark file as an input, so that Snakemake sees it change."""
    spec = config["benchmarks"][wildcards.benchmark]
    local = spec["source"] and Path(spec["source"]).exists()
    return {"raw": spec["source"]} if local else {}


def eval_results():
    return [
        f"{RESULTS}/eval/{m}/{b}.json" for m in EVAL_MODELS for b in EVAL_BENCHMARKS
    ]


def eval_gpus(wildcards=None):
    """GPUs an evaluation generation job asks for: vllm's tensor-parallel size, else 0."""
    spec = config["eval"]
    if spec["engine"] != "vllm":
        return 0
    return int(spec["engine_options"].get("tensor_parallel_size", 1))


def summary_models():
    """What the summary needs of each evaluated model: base, its source, dataset, recipe, seed."""
    out = {}
    for name in EVAL_MODELS:
        spec = FINETUNED.get(name, {"base": name, "dataset": None, "seed": None})
        dataset = spec["dataset"]
        out[name] = {
            **spec,
            "base_source": config["models"][spec["base"]]["source"],
            "recipe": config["datasets"][dataset]["recipe"] if dataset else None,
        }
    return out


def decontam_benchmarks():
    chosen = config["decontamination"]["benchmarks"]
    return list(config["benchmarks"]) if chosen is None else chosen


def contamination_files(synth):
    """The decontamination tables of a pool's query sources (none without benchmarks)."""
    if not decontam_benchmarks():
        return []
    return [f"{DATA}/decontam/{s}.parquet" for s in config["synth"][synth]["queries"]]


# --------------------------------------------------------------------------- pool


def synth_queries(synth):
    return [queries_file(s) for s in config["synth"][synth]["queries"]]


def recipe_config(dataset):
    """A dataset's recipe keys (the schema fills every recipe's defaults; keep its own)."""
    from dart.datasets.recipes import COMMON_KEYS, RECIPE_KEYS

    cfg = config["datasets"][dataset]
    keep = RECIPE_KEYS[cfg["recipe"]] | COMMON_KEYS
    return {k: v for k, v in cfg.items() if k in keep and v is not None}


def pool_recipes(synth):
    """The recipes of every dataset cut from this pool: the union the planner serves."""
    return {
        name: recipe_config(name)
        for name, cfg in config["datasets"].items()
        if cfg["synth"] == synth
    }


def sync_pool_recipes():
    """Keep each pool's recipes.json in step with the config (rewritten only on change)."""
    from dart.pool.recipes_cli import sync_recipes

    for synth in config["synth"]:
        recipes = pool_recipes(synth)
        if recipes:
            sync_recipes(recipes, f"{POOL}/{synth}/recipes.json")


def warn_if_reopened(synth):
    """Warn when a finished pool's recipes now need more trials than it holds.

    Snakemake does not look past a checkpoint for a job whose outputs exist, so the new
    rounds are planned only when the datasets are forced: say so, with the command.
    """
    summary = Path(f"{POOL}/{synth}/pool.json")
    if not summary.exists() or not pool_recipes(synth):
        return
    rounds = json.loads(summary.read_text())["rounds"]
    full = [r["round"] for r in rounds if r["trials"]]
    if rounds[-1]["round"] >= config["synth"][synth]["max_rounds"] or not full:
        return
    tally = f"{POOL}/{synth}/round{full[-1]}/tally.parquet"
    if not Path(tally).exists():
        return  # a deleted tally is rebuilt by the DAG; only the warning is skipped
    if pool_still_needed(synth, tally):
        logger.warning(
            f"pool {synth}: the datasets now ask for more trials than the finished pool "
            "holds. Grow it with `snakemake --forcerun dataset` (finished rounds are kept)."
        )


def synth_gpus(synth):
    """GPUs a generation shard asks for: the vllm engine's tensor-parallel size, else 0."""
    spec = config["synth"][synth]
    if spec["engine"] != "vllm":
        return 0
    return int(spec["engine_options"].get("tensor_parallel_size", 1))


def engine_env(synth):
    engine = config["synth"][synth]["engine"]
    return "../envs/vllm.yaml" if engine == "vllm" else "../envs/cpu.yaml"


def round_dir(wildcards, round_=None):
    r = wildcards.round if round_ is None else round_
    return f"{POOL}/{wildcards.synth}/round{r}"


def previous_tally(wildcards):
    r = int(wildcards.round)
    return [] if r == 0 else f"{POOL}/{wildcards.synth}/round{r - 1}/tally.parquet"


def plan_summary(synth, round_):
    """The summary of round r's plan; raises Snakemake's incomplete-checkpoint signal."""
    path = checkpoints.plan.get(synth=synth, round=round_).output.summary
    return json.loads(Path(path).read_text())


def tally_inputs(wildcards):
    summary = plan_summary(wildcards.synth, wildcards.round)
    shards = (
        range(config["synth"][wildcards.synth]["shards"]) if summary["trials"] else []
    )
    return {
        "previous": previous_tally(wildcards),
        "verified": [
            f"{round_dir(wildcards)}/verified/shard{s}.parquet" for s in shards
        ],
        "queries": synth_queries(wildcards.synth),
    }


def pool_still_needed(synth, tally_path):
    """Do the current recipes need more trials than the pool holds (e.g. a raised k)?"""
    import polars as pl

    from dart.pool.planner import still_needed
    from dart.datasets.recipes import recipes_from_config

    queries = pl.concat(
        [pl.read_parquet(p) for p in synth_queries(synth)], how="diagonal_relaxed"
    )
    tally = pl.read_parquet(tally_path) if tally_path else None
    recipes = recipes_from_config(pool_recipes(synth))
    return still_needed(queries, tally, recipes, config["synth"][synth]["cap"])


def pool_rounds(synth):
    """Walk the plan checkpoints: the rounds up to the one that said no query needs more.

    A round planned empty under earlier recipes is passed over when the current recipes
    need more (someone raised a target), so the pool grows by new rounds and no finished
    round is re-run.
    """
    spec = config["synth"][synth]
    rounds = []
    for r in range(spec["max_rounds"] + 1):
        rounds.append(r)
        if plan_summary(synth, r)["trials"] > 0:
            continue
        last_tally = f"{POOL}/{synth}/round{r - 1}/tally.parquet" if r else None
        if r < spec["max_rounds"] and pool_still_needed(synth, last_tally):
            continue
        break
    return rounds


def pool_inputs(wildcards):
    rounds = pool_rounds(wildcards.synth)
    base = f"{POOL}/{wildcards.synth}"
    last_full = [r for r in rounds if plan_summary(wildcards.synth, r)["trials"] > 0]
    last = last_full[-1] if last_full else rounds[-1]
    return {
        "plans": [f"{base}/round{r}/plan.json" for r in rounds],
        "tally": f"{base}/round{last}/tally.parquet",
        "contamination": contamination_files(wildcards.synth),
    }


def dataset_verified(wildcards):
    """Every verified shard of the dataset's pool, round by round."""
    synth = config["datasets"][wildcards.dataset]["synth"]
    shards = config["synth"][synth]["shards"]
    verified = []
    for r in pool_rounds(synth):
        if plan_summary(synth, r)["trials"]:
            verified += [
                f"{POOL}/{synth}/round{r}/verified/shard{s}.parquet"
                for s in range(shards)
            ]
    return verified


def dataset_inputs(wildcards):
    synth = config["datasets"][wildcards.dataset]["synth"]
    return {
        "queries": synth_queries(synth),
        "pool": f"{POOL}/{synth}/pool.json",
        "verified": dataset_verified(wildcards),
    }


def quoted(paths):
    """Paths as one shell-quoted string."""
    import shlex

    return " ".join(shlex.quote(p) for p in paths)


sync_pool_recipes()
for _synth in config["synth"]:
    warn_if_reopened(_synth)


onstart:
    write_merged(config, RESULTS)


# ---- versions and report
# (owned by the staleness/report work: the code versions each rule passes through
# `params:`, the workflow location its jobs record, and the report's helpers)

import os as _os

from dart.lineage import versions as code_versions

# Every job's provenance record keeps the Snakefile and config files of its run, so that
# `dart audit` can ask this workflow (`snakemake --list-changes params`) about any record.


def _root_relative(path):
    """A path relative to the workflow root when under it (a copied tree audits against
    its own config), else absolute."""
    full = _os.path.abspath(str(path))
    return _os.path.relpath(full) if full.startswith(_os.getcwd() + _os.sep) else full


# (set, not read, here: update() keeps `snakemake --lint` from taking them for inputs)
_os.environ.update(
    DART_SNAKEFILE=_os.path.abspath(workflow.main_snakefile),
    DART_CONFIGFILES=_os.pathsep.join(
        _root_relative(c) for c in workflow.overwrite_configfiles
    ),
)


def template_version(synth):
    """Version of the prompt template a pool's generation uses."""
    return code_versions.template(config["synth"][synth]["template"])


def engine_version(synth):
    """Code version of a pool's engine (our decoder; vllm's pin and our mapping)."""
    return code_versions.engine(config["synth"][synth]["engine"])


# The report (`snakemake --report report.html`): the workflow description, and labels
# that carry each dataset's and pool's headline figures into it.
report: "../report/workflow.rst"


def _json_or_empty(path):
    p = Path(path)
    return json.loads(p.read_text()) if p.is_file() else {}


def _yield_text(per):
    """'0: 3/48 · 1: 5/51' (kept rows / trials used) from a stats table by round or level."""
    return " · ".join(
        f"{key}: {row.get('rows', 0)}/{row.get('trials_used', 0)}"
        for key, row in per.items()
    )


def recipe_label(dataset):
    """A dataset's recipe and its own settings, e.g. 'uniform (k=40)'."""
    cfg = recipe_config(dataset)
    keys = ", ".join(
        f"{k}={v}" for k, v in sorted(cfg.items()) if k not in ("recipe", "synth")
    )
    return f"{cfg['recipe']} ({keys})" if keys else cfg["recipe"]


def dataset_report_labels(wildcards):
    """Report labels of a dataset's stats.json: its headline figures (read at report time)."""
    stats = _json_or_empty(f"{RESULTS}/datasets/{wildcards.dataset}/stats.json")
    return {
        "dataset": wildcards.dataset,
        "item": "stats",
        "pool": config["datasets"][wildcards.dataset]["synth"],
        "recipe": recipe_label(wildcards.dataset),
        "rows": stats.get("rows", 0),
        "queries with rows": stats.get("queries_with_rows", 0),
        "yield per round": _yield_text(stats.get("cost_per_round", {})),
        "yield per level": _yield_text(stats.get("cost_per_level", {})),
    }


def pool_report_labels(wildcards):
    """Report labels of a pool's pool.json: rounds, trials, correct and yield."""
    pool = _json_or_empty(f"{POOL}/{wildcards.synth}/pool.json")
    trials, correct = pool.get("trials", 0), pool.get("correct", 0)
    return {
        "pool": wildcards.synth,
        "item": "pool summary",
        "rounds": len(pool.get("rounds", [])),
        "trials": trials,
        "correct": correct,
        "yield": f"{correct / trials:.3f}" if trials else "-",
        "queries": pool.get("queries", 0),
        "exhausted": len(pool.get("exhausted", [])),
    }


def dataset_verified_param(wildcards, input):
    """The dataset job's own verified inputs, shell-quoted (a placeholder while a round's
    plan is pending). Taken from the job's input, not recomputed: a tally rewritten during
    the run (a re-grade) must not change the list between DAG building and the shell."""
    verified = getattr(input, "verified", None)
    if verified is None:
        return "<pending: rounds still to be planned>"
    return quoted(list(verified))
