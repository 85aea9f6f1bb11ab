"""``dart recipes``: validate the recipes a pool serves and write them for the planner.

The planner reads this file as an `ancient` input, so changing a recipe's target never
re-runs finished rounds; the pool grows by new rounds when the new targets need more.

    dart recipes '{"uniform": {"recipe": "uniform", "k": 40}}' -o results/pool/smollm2/recipes.json
"""

from __future__ import annotations

import argparse
import json

from dart.errors import DartError
from dart.provenance import write_json_atomic, write_record
from dart.recipes import recipes_from_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipes", help="JSON {dataset name: recipe config}")
    parser.add_argument("-o", "--output", required=True, help="recipes.json")


def run(args: argparse.Namespace) -> int:
    try:
        doc = json.loads(args.recipes)
    except json.JSONDecodeError as exc:
        raise DartError(f"recipes: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or not doc:
        raise DartError("recipes: expected a non-empty mapping of dataset name -> recipe config")
    recipes = recipes_from_config(doc)  # raises DartError naming the dataset and key
    write_json_atomic(doc, args.output)
    write_record(args.output, step="recipes", params={r.name: r.describe() for r in recipes})
    return 0
