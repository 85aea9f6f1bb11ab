"""DART pipeline: queries -> sampling pool -> datasets -> models -> results.

Run the embedded default:  snakemake --profile profiles/local
On a Slurm cluster:        snakemake --profile profiles/slurm
"""

from snakemake.utils import min_version

from dart.config import validate

min_version("9.0")


# config.yaml is the default; another config given with --configfile replaces it (it is
# not merged over it: the paper's setup must not inherit the default's datasets).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


config.update(
    validate(config, source="config", command_line=workflow.config_settings.config)
)


include: "rules/common.smk"
include: "rules/queries.smk"
include: "rules/models.smk"
include: "rules/pool.smk"
include: "rules/datasets.smk"
include: "rules/decontam.smk"
include: "rules/train.smk"
include: "rules/eval.smk"
include: "rules/summary.smk"


rule all:
    """Every output of the configured pipeline."""
    input:
        all_targets,
