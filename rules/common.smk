"""Input functions and constraints: thin calls into dart.workflow, where the logic lives
(and is unit-tested). Parsing the workflow writes nothing and leaves the environment
alone: the merged config and each pool's recipes.json are written when a run starts.
"""

from dart.config import eval_template, pool_recipes, recipe_config, write_merged
from dart.config.paper import paper_differences
from dart.datasets.report import dataset_report_labels
from dart.inputs import read_json_cached
from dart.lineage import versions as code_versions
from dart.options import engine_env, engine_gpus
from dart.pool.planner import needs_more
from dart.pool.recipes_cli import sync_budget, sync_recipes
from dart.pool.report import estimate_report_labels, pool_report_labels
from dart.recipes import recipes_from_config as check_recipes
from dart.workflow import Workflow, canonical_json, column_args, job_shell_prefix
from dart.workflow import one_of, quoted

DATA = config["data_dir"]
RESULTS = config["results_dir"]
POOL = f"{RESULTS}/pool"


def read_plan(synth, round_):
    """Round r's plan summary; raises Snakemake's incomplete-checkpoint signal."""
    job = checkpoints.plan.get(synth=synth, round=round_)
    return read_json_cached(job.output.summary)


WF = Workflow(config, read_plan, lambda synth, tally: needs_more(config, synth, tally))
FINETUNED = WF.finetuned


wildcard_constraints:
    source=one_of(config["queries"]),
    model=one_of(config["models"]),
    synth=one_of(config["synth"]),
    dataset=one_of(config["datasets"]),
    round=r"\d+",
    shard=r"\d+",
    tuned=one_of(FINETUNED),
    emodel=one_of([*config["models"], *FINETUNED, *WF.variants]),
    benchmark=one_of(config["benchmarks"]),


def all_targets(wildcards):
    return WF.all_targets()


def synth_value(key):
    """A params function: this pool's config value `key`, canonical JSON for mappings."""
    return lambda w: canonical_json(config["synth"][w.synth][key])


def input_param(name):
    """A params function: the job's own input `name`, shell-quoted (a placeholder while a
    round's plan is pending). Taken from the job's input, not recomputed: a tally
    rewritten during the run (a re-grade) must not change it between DAG and shell."""

    def param(wildcards, input):
        files = getattr(input, name, None)
        if files is None:
            return "<pending: rounds still to be planned>"
        return quoted([files] if isinstance(files, str) else list(files))

    return param


# a recipe a dataset job would refuse is refused now, before any job runs
for _synth in config["synth"]:
    check_recipes(pool_recipes(config, _synth))


onstart:
    write_merged(config, RESULTS)
    # each pool's recipes and budget for its planner, rewritten when they changed (never
    # at parse time: not by a dry run, a cluster job, `dart audit` or --report)
    for synth in config["synth"]:
        if pool_recipes(config, synth):
            sync_recipes(pool_recipes(config, synth), WF.recipes_file(synth))
            sync_budget(config["synth"][synth]["budget"], WF.budget_file(synth))


# Every job's provenance record keeps the Snakefile and config files of its run, so that
# `dart audit` can ask this workflow (`snakemake --list-changes params`) about any record.
shell.prefix(job_shell_prefix(workflow.main_snakefile, workflow.overwrite_configfiles))


# The report (`snakemake --report report.html`): the workflow description, and labels
# that carry each dataset's and pool's headline figures into it.
report: "../report/workflow.rst"
