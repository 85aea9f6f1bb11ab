"""The code version of every piece that decides an output, in one place.

Rules pass these through ``params:`` (so that Snakemake reruns exactly what a version
bump affects), ``dart.lineage.records.write_record`` stores them in each record, and
``dart audit`` compares the recorded ones with the current ones. Versions are named by
flat keys:

========================  =============================================================
``grader``                ``dart.grade.version.GRADER_VERSION``: verification, scoring
``template:NAME``         ``dart.prompts`` template NAME's version: generation
``engine:transformers``   ``dart.engines.versions.DECODER_VERSION``: our decode loop
``engine:vllm``           the vllm pin of ``envs/vllm.yaml`` (else the installed vllm)
                          plus ``VLLM_MAPPING_VERSION``
``engine:openai``         ``OPENAI_CLIENT_VERSION``: our request mapping (the server's
                          model and version go into each record)
``engine:simulated``      ``SIMULATED_VERSION``: the simulated engine (rehearsals)
``assembly``              ``dart.datasets.version.ASSEMBLY_VERSION``: recipes and assembly
``train``                 ``dart.train.version.TRAIN_VERSION``
``evaluate``              ``dart.evaluate.version.EVAL_VERSION``: evaluation generation
``scoring``               ``dart.evaluate.version.SCORING_VERSION``: evaluation scoring
``queries``               ``dart.queries.version.QUERIES_VERSION``: query ingestion
``planner``               ``dart.pool.version.PLANNER_VERSION``: each round's plan
``tally``                 ``dart.pool.version.TALLY_VERSION``: per-query tallies
``estimate``              ``dart.pool.version.ESTIMATE_VERSION``: the cost forecast
``decontam``              ``dart.decontam.version.DECONTAM_VERSION``: decontamination
``benchmark``             ``dart.evaluate.version.BENCHMARK_VERSION``: benchmark tables
========================  =============================================================

Every constant sits in a leaf module of its stage (``version.py``, importing nothing), so
importing this module imports no stage, no model stack and no polars.

For tests only: the environment variable ``DART_VERSION_OVERRIDES`` (a JSON object of
key -> version, e.g. ``{"grader": "9.9.9"}``) replaces versions in every process that
reads it (Snakemake's own process included, which is why it is an environment variable);
records written under it say so (``version_overrides``).

    python -m dart.lineage.versions            # every current version, as JSON
    DART_VERSION_OVERRIDES='{"grader": "9"}' snakemake -n   # what a grader bump reruns
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dart.datasets.version import ASSEMBLY_VERSION
from dart.decontam.version import DECONTAM_VERSION
from dart.engines.versions import (
    DECODER_VERSION,
    OPENAI_CLIENT_VERSION,
    SIMULATED_VERSION,
    VLLM_MAPPING_VERSION,
)
from dart.errors import DartError
from dart.evaluate.version import BENCHMARK_VERSION, EVAL_VERSION, SCORING_VERSION
from dart.grade.version import GRADER_VERSION
from dart.pool.version import ESTIMATE_VERSION, PLANNER_VERSION, TALLY_VERSION
from dart.prompts import TEMPLATES, get_template
from dart.queries.version import QUERIES_VERSION
from dart.train.version import TRAIN_VERSION

OVERRIDES_ENV = "DART_VERSION_OVERRIDES"
ENGINES = ("transformers", "vllm", "openai", "simulated")


def overrides() -> dict[str, str]:
    """The test overrides from ``DART_VERSION_OVERRIDES`` ({} when unset)."""
    text = os.environ.get(OVERRIDES_ENV, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DartError(f"{OVERRIDES_ENV} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise DartError(f"{OVERRIDES_ENV} must be a JSON object of key -> version")
    return {str(k): str(v) for k, v in value.items()}


def _override(key: str, compute) -> str:
    found = overrides().get(key)
    return found if found is not None else compute()


# --------------------------------------------------------------------------- pieces


def grader() -> str:
    """The answer grader's version (verification and evaluation scoring)."""

    return _override("grader", lambda: GRADER_VERSION)


def template(name: str) -> str:
    """Prompt template ``name``'s version."""

    return _override(f"template:{name}", lambda: get_template(name).version)


def engine(name: str) -> str:
    """The engine's code version: our decoder for transformers; vllm's pin + our mapping."""

    def compute() -> str:
        if name == "transformers":
            return DECODER_VERSION
        if name == "openai":
            return f"openai client {OPENAI_CLIENT_VERSION}"
        if name == "vllm":
            return f"vllm {vllm_version()}; mapping {VLLM_MAPPING_VERSION}"
        if name == "simulated":
            return f"simulated {SIMULATED_VERSION}"
        raise DartError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")

    return _override(f"engine:{name}", compute)


def assembly() -> str:
    """The dataset assembly version (recipes' selection and the assembly itself)."""

    return _override("assembly", lambda: ASSEMBLY_VERSION)


def train() -> str:
    """The training code's version."""
    return _override("train", lambda: TRAIN_VERSION)


def evaluate() -> str:
    """The evaluation code's version."""
    return _override("evaluate", lambda: EVAL_VERSION)


def scoring() -> str:
    """The evaluation scoring version."""
    return _override("scoring", lambda: SCORING_VERSION)


def queries() -> str:
    """The query ingestion version."""
    return _override("queries", lambda: QUERIES_VERSION)


def planner() -> str:
    """The round planner's version."""
    return _override("planner", lambda: PLANNER_VERSION)


def tally() -> str:
    """The per-query tally's version."""
    return _override("tally", lambda: TALLY_VERSION)


def estimate() -> str:
    """The cost forecast's version."""
    return _override("estimate", lambda: ESTIMATE_VERSION)


def decontam() -> str:
    """The decontamination version."""
    return _override("decontam", lambda: DECONTAM_VERSION)


def benchmark() -> str:
    """The benchmark reader's version."""
    return _override("benchmark", lambda: BENCHMARK_VERSION)


SIMPLE = {
    "grader": grader,
    "assembly": assembly,
    "train": train,
    "evaluate": evaluate,
    "scoring": scoring,
    "queries": queries,
    "planner": planner,
    "tally": tally,
    "estimate": estimate,
    "decontam": decontam,
    "benchmark": benchmark,
}


def lookup(key: str) -> str:
    """The current version of a flat key (``grader``, ``template:NAME``, ...)."""
    kind, _, name = key.partition(":")
    if kind in SIMPLE and not name:
        return SIMPLE[kind]()
    if kind == "template" and name:
        return template(name)
    if kind == "engine" and name:
        return engine(name)
    raise DartError(f"unknown version key {key!r}")


def pick(*keys: str) -> dict[str, str]:
    """``{key: current version}`` for the given keys (what a record stores)."""
    return {key: lookup(key) for key in keys}


def current() -> dict[str, str]:
    """Every current version (all templates, both engines)."""
    keys = ["grader", *(f"template:{t}" for t in TEMPLATES), *(f"engine:{e}" for e in ENGINES)]
    return pick(*keys, *(k for k in SIMPLE if k != "grader"))


# --------------------------------------------------------------------------- records


def keys_for_step(step: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """The version keys that decide the output of a record's ``step``.

    The same keys the step's rule passes through ``params:``; a step not listed here
    passes its keys to ``write_record(..., versions=pick(...))`` itself.
    """
    params = params or {}
    if step == "generate":
        tpl = params.get("template")
        name = tpl.get("name") if isinstance(tpl, Mapping) else tpl
        keys = [f"template:{name}"] if name else []
        return keys + ([f"engine:{params['engine']}"] if params.get("engine") else [])
    return {
        "verify": ["grader"],
        "assemble": ["assembly"],
        "train": ["train"],
        "queries": ["queries"],
        "plan": ["planner"],
        "tally": ["tally"],
        "estimate": ["planner", "tally", "estimate"],
        "decontam": ["decontam"],
        "benchmark": ["benchmark"],
    }.get(step, [])


def compare(recorded: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(key, recorded, current)`` for each recorded version that no longer holds."""
    changed = []
    for key, old in sorted(recorded.items()):
        try:
            new = lookup(key)
        except DartError:
            new = "unknown"
        if str(old) != str(new):
            changed.append((key, str(old), new))
    return changed


# --------------------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=1)
def vllm_version() -> str:
    """The vllm that GPU rules run: the pin in envs/vllm.yaml, else the installed one."""
    env_file = Path(__file__).resolve().parents[2] / "envs" / "vllm.yaml"
    if env_file.is_file():
        pin = re.search(r"vllm\s*==\s*([\w.+-]+)", env_file.read_text())
        if pin:
            return pin.group(1)
    from importlib import metadata

    try:
        return metadata.version("vllm")
    except metadata.PackageNotFoundError:
        return "not-installed"


def main() -> int:
    sys.stdout.write(json.dumps(current(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
