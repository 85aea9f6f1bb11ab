"""Helpers shared by the rules: paths, input functions and the run's merged config.

Reads: the validated config. Writes: results/config.yaml (merged config of each run).
"""

from pathlib import Path

from dart.config import write_merged

DATA = config["data_dir"]
RESULTS = config["results_dir"]


wildcard_constraints:
    source="|".join(config["queries"]) or "NONE",
    model="|".join(config["models"]) or "NONE",


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
    return targets


onstart:
    write_merged(config, RESULTS)
