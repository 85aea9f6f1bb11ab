"""The workflow's logic, behind the thin input functions of ``rules/common.smk``.

Pure functions of the validated config: paths, the targets of a run, the rounds a pool
needs, the inputs of each round's tally, of a pool and of a dataset. Two things come from
outside and are passed in, so that pytest reaches every branch without Snakemake:

- ``read_plan(synth, round)``: round ``round``'s plan summary (``plan.json``). Under
  Snakemake it asks the ``plan`` checkpoint (and raises Snakemake's incomplete-checkpoint
  signal for a round not planned yet); in tests it reads files.
- ``needs_more(synth, tally_path)``: whether the current recipes need more trials than
  the tally holds (``dart.pool.planner.needs_more`` reads the tables). A raised target
  grows a finished pool by new rounds (:meth:`Workflow.plan_files`).

Nothing here writes a file. Reads are cached by the file's (path, mtime, size), so the
many input functions that ask the same question during one DAG build read each plan
and tally once, and a file rewritten during the run (a re-plan) is read again.

    from dart.inputs import read_json_cached
    from dart.workflow import Workflow
    wf = Workflow(config, read_plan=lambda s, r: read_json_cached(f".../round{r}/plan.json"),
                  needs_more=lambda s, tally: False)
    wf.pool_rounds("smollm2")     # [0, 1, 2]
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from dart.config import (
    eval_benchmarks,
    eval_models,
    finetuned_models,
    pool_recipes,
    prompt_variants,
)
from dart.inputs import file_key, read_json_cached

PlanReader = Callable[[str, int], Mapping[str, Any]]
NeedsMore = Callable[[str, "str | None"], bool]


# --------------------------------------------------------------------------- names


def one_of(names: Iterable[str]) -> str:
    """A wildcard constraint matching exactly these names."""
    return "|".join(re.escape(n) for n in names) or "NONE"


def quoted(words: Iterable[str]) -> str:
    """Words (paths, ``KEY=COLUMN`` items) as one shell-quoted string: each stays one
    word whatever it holds (spaces, ``$(...)``, backticks, quotes, ``;``). A rule puts
    a list through this and every single value through Snakemake's ``:q``; a plain word
    is left as it is, so the params Snakemake compares do not change for one."""
    return " ".join(shlex.quote(str(w)) for w in words)


def canonical_json(value: Any) -> str:
    """The one spelling of a params value: sorted keys, no spaces that vary."""
    return json.dumps(value, sort_keys=True)


def column_args(spec: Mapping[str, Any]) -> str:
    """A queries source's ``--columns`` words, shell-quoted (a column name may hold a
    space or shell syntax)."""
    cols = {k: v for k, v in spec["columns"].items() if v}
    return quoted(f"{k}={v}" for k, v in cols.items())


def sources_before(cfg: Mapping[str, Any], source: str) -> list[str]:
    names = list(cfg["queries"])
    return names[: names.index(source)]


class Workflow:
    """Every path, target and input of the configured workflow.

    ``read_plan`` and ``needs_more`` (module docstring) are needed only by the pool's
    and datasets' input functions; everything else is a function of the config.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        read_plan: PlanReader | None = None,
        needs_more: NeedsMore | None = None,
    ) -> None:
        self.cfg = config
        self.data = config["data_dir"]
        self.results = config["results_dir"]
        self.pool = f"{self.results}/pool"
        self.finetuned = finetuned_models(config)
        self.variants = prompt_variants(config)
        self.eval_models = eval_models(config)
        self.eval_benchmarks = eval_benchmarks(config)
        self._read_plan = read_plan
        self._needs_more = needs_more
        self._needs_more_cache: dict[tuple, bool] = {}

    # ----------------------------------------------------------------------- files

    def queries_file(self, source: str) -> str:
        return f"{self.data}/queries/{source}.parquet"

    def benchmark_file(self, name: str) -> str:
        return f"{self.data}/benchmarks/{name}.parquet"

    def model_folder(self, name: str) -> str:
        """A base model's materialised folder (also for ``{base}@{template}``), or a
        fine-tuned model's output folder."""
        if name in self.variants:
            name = self.variants[name]["base"]
        return (
            f"{self.results}/models/{name}"
            if name in self.finetuned
            else f"{self.data}/models/{name}"
        )

    def synth_model_inputs(self, synth: str) -> list[str]:
        """The pool's model folder as a generation input; none for the simulated engine,
        which needs no model (and so no download)."""
        spec = self.cfg["synth"][synth]
        return [] if spec["engine"] == "simulated" else [self.model_folder(spec["model"])]

    def synth_queries(self, synth: str) -> list[str]:
        return [self.queries_file(s) for s in self.cfg["synth"][synth]["queries"]]

    def round_dir(self, synth: str, round_: int | str) -> str:
        return f"{self.pool}/{synth}/round{round_}"

    def tally_file(self, synth: str, round_: int | str) -> str:
        return f"{self.round_dir(synth, round_)}/tally.parquet"

    def recipes_file(self, synth: str) -> str:
        return f"{self.pool}/{synth}/recipes.json"

    def budget_file(self, synth: str) -> str:
        """The pool's budget for its planner (written when a run starts; absent: none)."""
        return f"{self.pool}/{synth}/budget.json"

    def estimate_file(self, synth: str) -> str:
        """The pool's cost forecast, made once round 0's tally exists."""
        return f"{self.pool}/{synth}/estimate.json"

    def previous_tally(self, synth: str, round_: int | str) -> str | None:
        r = int(round_)
        return None if r == 0 else self.tally_file(synth, r - 1)

    def previous_tally_option(self, synth: str, round_: int | str, flag: str) -> str:
        """``flag`` and the previous round's tally, shell-quoted; "" for round 0."""
        previous = self.previous_tally(synth, round_)
        return f"{flag} {shlex.quote(previous)}" if previous else ""

    def verified_shards(
        self, synth: str, round_: int, plan: Mapping[str, Any] | None = None
    ) -> list[str]:
        """The round's verified shards: as many as its plan used (``shards_used``, fewer
        than ``shards`` in a small round; plans made before it: ``shards``)."""
        shards = self.cfg["synth"][synth]["shards"]
        if plan is not None:
            shards = int(plan.get("shards_used", shards))
        return [f"{self.round_dir(synth, round_)}/verified/shard{s}.parquet" for s in range(shards)]

    # ----------------------------------------------------------------------- targets

    def eval_results(self) -> list[str]:
        return [
            f"{self.results}/eval/{m}/{b}.json"
            for m in self.eval_models
            for b in self.eval_benchmarks
        ]

    def all_targets(self) -> list[str]:
        cfg = self.cfg
        targets = [self.queries_file(s) for s in cfg["queries"]]
        targets += [f"{self.data}/models/{m}" for m in cfg["models"]]
        targets += [f"{self.results}/datasets/{d}.parquet" for d in cfg["datasets"]]
        targets += [self.estimate_file(s) for s in cfg["synth"] if pool_recipes(cfg, s)]
        targets += [f"{self.results}/models/{m}" for m in self.finetuned]
        results = self.eval_results()
        targets += results
        if results:
            targets.append(f"{self.results}/summary.md")
        return targets

    # ----------------------------------------------------------------------- other stages

    def query_source_inputs(self, source: str) -> dict[str, Any]:
        """A local source file (so that Snakemake sees it change) and the sources before it."""
        spec = self.cfg["queries"][source]
        inputs: dict[str, Any] = {
            "earlier": [self.queries_file(s) for s in sources_before(self.cfg, source)]
        }
        if spec["format"] != "generated" and Path(spec["source"]).exists():
            inputs["raw"] = spec["source"]
        return inputs

    def benchmark_source_inputs(self, name: str) -> dict[str, str]:
        """A local benchmark file as an input, so that Snakemake sees it change."""
        spec = self.cfg["benchmarks"][name]
        local = spec["source"] and Path(spec["source"]).exists()
        return {"raw": spec["source"]} if local else {}

    def decontam_benchmarks(self) -> list[str]:
        chosen = self.cfg["decontamination"]["benchmarks"]
        return list(self.cfg["benchmarks"]) if chosen is None else list(chosen)

    def contamination_files(self, synth: str) -> list[str]:
        """The decontamination tables of a pool's query sources (none without benchmarks)."""
        if not self.decontam_benchmarks():
            return []
        return [f"{self.data}/decontam/{s}.parquet" for s in self.cfg["synth"][synth]["queries"]]

    def train_spec(self, tuned: str) -> dict[str, Any]:
        """The fine-tune's base, dataset, seed and resolved hyperparameters."""
        spec = self.finetuned[tuned]
        return {**spec, "hparams": self.cfg["train"]["models"][spec["base"]]}

    def summary_models(self) -> dict[str, dict[str, Any]]:
        """What the summary needs of each evaluated model: base, its source, dataset, recipe,
        seed, and for a base model at its fine-tunes' template, that template."""
        out = {}
        for name in self.eval_models:
            spec = self.finetuned.get(name, {"base": name, "dataset": None, "seed": None})
            if name in self.variants:
                spec = {**self.variants[name], "dataset": None, "seed": None}
            dataset = spec["dataset"]
            out[name] = {
                **spec,
                "base_source": self.cfg["models"][spec["base"]]["source"],
                "recipe": self.cfg["datasets"][dataset]["recipe"] if dataset else None,
            }
        return out

    # ----------------------------------------------------------------------- pool

    def plan(self, synth: str, round_: int) -> Mapping[str, Any]:
        if self._read_plan is None:
            raise RuntimeError("this Workflow was made without a plan reader")
        return self._read_plan(synth, round_)

    def needs_more(self, synth: str, tally: str | None) -> bool:
        """``needs_more`` of the current recipes, once per (pool, tally file state)."""
        if self._needs_more is None:
            raise RuntimeError("this Workflow was made without needs_more")
        key = (synth, tally, file_key(tally) if tally else None)
        if key not in self._needs_more_cache:
            self._needs_more_cache[key] = bool(self._needs_more(synth, tally))
        return self._needs_more_cache[key]

    def pool_rounds(self, synth: str) -> list[int]:
        """Walk the plans: the rounds up to the one that said no query needs more.

        A round planned empty under earlier recipes is passed over when the current
        recipes need more (someone raised a target), so the pool grows by new rounds and
        no finished round is re-run. Raises whatever ``read_plan`` raises for a round not
        planned yet (under Snakemake: wait for that checkpoint).
        """
        max_rounds = self.cfg["synth"][synth]["max_rounds"]
        rounds = []
        for r in range(max_rounds + 1):
            rounds.append(r)
            if self.plan(synth, r)["trials"] > 0:
                continue
            # only if the next round may sample (the one at max_rounds never does)
            if r + 1 < max_rounds and self.needs_more(synth, self.previous_tally(synth, r)):
                continue
            break
        return rounds

    def full_rounds(self, synth: str, rounds: Iterable[int]) -> list[int]:
        """The rounds whose plan asked for trials."""
        return [r for r in rounds if self.plan(synth, r)["trials"] > 0]

    def tally_inputs(self, synth: str, round_: int | str) -> dict[str, Any]:
        r = int(round_)
        plan = self.plan(synth, r)
        previous = self.previous_tally(synth, r)
        return {
            "previous": [previous] if previous else [],
            "verified": self.verified_shards(synth, r, plan) if plan["trials"] > 0 else [],
            "queries": self.synth_queries(synth),
        }

    def estimate_inputs(self, synth: str) -> dict[str, Any]:
        """The pool's queries and round 0's tally, asked for through round 0's plan (so
        that, under Snakemake, the forecast waits behind that checkpoint like the pool)."""
        self.plan(synth, 0)
        return {"queries": self.synth_queries(synth), "tally": self.tally_file(synth, 0)}

    def pool_inputs(self, synth: str) -> dict[str, Any]:
        rounds = self.pool_rounds(synth)
        full = self.full_rounds(synth, rounds)
        last = full[-1] if full else rounds[-1]
        return {
            "plans": [f"{self.round_dir(synth, r)}/plan.json" for r in rounds],
            "tally": self.tally_file(synth, last),
            "contamination": self.contamination_files(synth),
        }

    def dataset_verified(self, dataset: str) -> list[str]:
        """Every verified shard of the dataset's pool, round by round."""
        synth = self.cfg["datasets"][dataset]["synth"]
        shards: list[str] = []
        for r in self.full_rounds(synth, self.pool_rounds(synth)):
            shards += self.verified_shards(synth, r, self.plan(synth, r))
        return shards

    def dataset_inputs(self, dataset: str) -> dict[str, Any]:
        """A dataset's queries, its pool's summary and every verified shard of the pool.

        While the pool grows for raised targets (:meth:`pool_must_grow`), the shards of
        the rounds planned so far, read from the plan files (see :meth:`plan_files`).
        """
        synth = self.cfg["datasets"][dataset]["synth"]
        inputs = {"queries": self.synth_queries(synth), "pool": f"{self.pool}/{synth}/pool.json"}
        if self.pool_must_grow(synth):
            _, verified = self._disk_walk(synth)
            return {**inputs, "verified": verified}
        return {**inputs, "verified": self.dataset_verified(dataset)}

    def plan_files(self, synth: str) -> list[str]:
        """While the pool grows for raised targets: the plan.json of its next round not
        planned yet, as a plain (non-checkpoint) input of its datasets; else nothing.

        A job whose inputs wait behind a checkpoint is never checked for changed params
        or inputs, so a finished dataset whose pool must grow would wait for the new
        round's plan checkpoint and never be scheduled ("Nothing to be done"). With the
        plan as a plain input, the dataset (whose recipe or inputs changed) is scheduled,
        and with it that plan and the rounds after it. Only that one plan: the finished
        rounds' plans stay behind their checkpoints, which Snakemake resolves one round
        at a time, so a round whose plan is re-made (a re-grade) is never read stale.
        """
        if not self.pool_must_grow(synth):
            return []
        plans, _ = self._disk_walk(synth)
        return plans[-1:] if not Path(plans[-1]).exists() else []

    def _disk_walk(self, synth: str) -> tuple[list[str], list[str]]:
        """(plan files, verified shards) of the rounds read from the plan files on disk,
        as :meth:`pool_rounds` walks them, up to the first plan not there yet."""
        max_rounds = self.cfg["synth"][synth]["max_rounds"]
        plans: list[str] = []
        verified: list[str] = []
        for r in range(max_rounds + 1):
            path = f"{self.round_dir(synth, r)}/plan.json"
            plans.append(path)
            if not Path(path).exists():
                break
            if read_json_cached(path).get("trials", 0) > 0:
                verified += self.verified_shards(synth, r, read_json_cached(path))
                continue
            previous = self.previous_tally(synth, r)
            reopened = r + 1 < max_rounds and previous and Path(previous).exists()
            if reopened and self.needs_more(synth, previous):
                continue
            break
        return plans, verified

    def pool_must_grow(self, synth: str) -> bool:
        """Do the current recipes need more trials than this finished pool holds?

        Read from the files of the last finished run (its ``pool.json`` and the tally of
        its last full round); False while no pool is finished, or when the next round is
        the one at ``max_rounds`` (which never samples): the datasets then rebuild from
        the pool as it is.
        """
        summary = read_json_cached(f"{self.pool}/{synth}/pool.json")
        rounds = summary.get("rounds") or []
        full = [r["round"] for r in rounds if r.get("trials")]
        if not full or not pool_recipes(self.cfg, synth):
            return False
        if rounds[-1]["round"] + 1 >= self.cfg["synth"][synth]["max_rounds"]:
            return False  # the next round would be the last, which never samples
        tally = self.tally_file(synth, full[-1])
        if not Path(tally).exists():
            return False  # a deleted tally is rebuilt by the DAG
        return self.needs_more(synth, tally)


def job_shell_prefix(snakefile: str | os.PathLike, configfiles: Iterable[str | os.PathLike]) -> str:
    """Snakemake's shell prefix for every job: bash strict mode, and the workflow's
    Snakefile and config files for the jobs' provenance records (``DART_SNAKEFILE``,
    ``DART_CONFIGFILES``; Snakemake's own process environment is left alone). Braces are
    doubled: Snakemake formats the prefix."""
    files = os.pathsep.join(root_relative(c, os.getcwd()) for c in configfiles)
    text = (
        f"set -euo pipefail; export DART_SNAKEFILE={shlex.quote(os.path.abspath(snakefile))}; "
        f"export DART_CONFIGFILES={shlex.quote(files)}; "
    )
    return text.replace("{", "{{").replace("}", "}}")


def root_relative(path: str | os.PathLike, root: str | os.PathLike) -> str:
    """A path relative to the workflow root when under it (a copied tree audits against
    its own config), else absolute."""
    full = os.path.abspath(os.fspath(path))
    root = os.path.abspath(os.fspath(root))
    return os.path.relpath(full, root) if full.startswith(root + os.sep) else full
