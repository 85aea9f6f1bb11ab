"""The recipes a pool serves, kept in step with the config: ``results/pool/{synth}/recipes.json``
(and its budget, ``budget.json``, the same way: :func:`sync_budget`).

The planner reads this file (passed by name, not as a Snakemake input), so changing a
recipe's target never re-runs finished rounds: lowering it rebuilds only the dataset,
raising it grows the pool by new rounds (``dart.workflow.Workflow.plan_files``). No rule
makes the file: a run calls :func:`sync_recipes` when it starts (Snakemake's
``onstart``, in the main process only), which rewrites the file and its provenance record
only when the recipes changed. Parsing the workflow never writes it, so dry runs,
``--report`` and ``dart audit`` leave it alone.

    dart recipes '{"uniform": {"recipe": "uniform", "k": 40}}' -o results/pool/smollm2/recipes.json
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dart.errors import DartError
from dart.lineage.records import write_json_atomic, write_record
from dart.pool.planner import Budget
from dart.recipes import recipes_from_config


def sync_recipes(doc: Mapping[str, Any], path: str | os.PathLike) -> bool:
    """Validate ``doc`` ({dataset: recipe config}) and write it to ``path`` if it differs.

    Returns whether the file was (re)written. Raises DartError naming the dataset and key.
    """
    if not isinstance(doc, Mapping) or not doc:
        raise DartError("recipes: expected a non-empty mapping of dataset name -> recipe config")
    recipes = recipes_from_config(doc)
    doc = json.loads(json.dumps(doc, sort_keys=True))
    target = Path(path)
    if target.exists():
        try:
            if json.loads(target.read_text()) == doc:
                return False
        except (OSError, json.JSONDecodeError):
            pass  # unreadable or half-written by hand: rewrite it
    write_json_atomic(doc, target)
    write_record(target, step="recipes", params={r.name: r.describe() for r in recipes})
    return True


def sync_budget(doc: Mapping[str, Any] | None, path: str | os.PathLike) -> bool:
    """Validate a pool's ``budget`` block and write it to ``path`` (budget.json) if it
    differs; the planner reads it by name, like recipes.json, so that lowering a budget
    re-plans no finished round and raising it grows the pool by new rounds. Returns
    whether the file was (re)written."""
    budget = Budget.from_config(doc)
    doc = budget.as_dict()
    target = Path(path)
    if not budget.limited:  # no file: no limit (and no new file in a pool without a budget)
        existed = target.exists()
        for stale in (target, Path(f"{target}.prov.json")):
            stale.unlink(missing_ok=True)
        return existed
    if target.exists():
        try:
            if json.loads(target.read_text()) == doc:
                return False
        except (OSError, json.JSONDecodeError):
            pass
    write_json_atomic(doc, target)
    write_record(target, step="budget", params=doc)
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipes", help="JSON {dataset name: recipe config}")
    parser.add_argument("-o", "--output", required=True, help="recipes.json")


def run(args: argparse.Namespace) -> int:
    try:
        doc = json.loads(args.recipes)
    except json.JSONDecodeError as exc:
        raise DartError(f"recipes: invalid JSON ({exc})") from None
    sync_recipes(doc, args.output)
    return 0
