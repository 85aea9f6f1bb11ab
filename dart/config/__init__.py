"""The pipeline config (layer 3): loading and validating it against its JSON schema
(``schema/config.schema.yaml``, draft 2020-12), and the names derived from it.

Defaults from the schema are filled in, and every error names the key at fault.
:mod:`dart.config.validation` holds the schema checks, :mod:`dart.config.references`
the checks across sections, :mod:`dart.config.names` the names derived from a config,
:mod:`dart.config.load` loading and writing; :mod:`dart.config.cli` is the ``dart
config`` verb:

    dart config config.yaml                 # validate, print nothing, exit 0
    dart config config.yaml -o merged.yaml  # also write the merged config
"""

from dart.config.load import load, validate, write_merged
from dart.config.names import (
    COMMON_RECIPE_KEYS,
    RECIPE_KEYS,
    eval_benchmarks,
    eval_models,
    eval_template,
    finetuned_models,
    pool_recipes,
    prompt_variants,
    recipe_config,
)
from dart.config.references import check_engine_options, check_references
from dart.config.validation import SCHEMA_PATH, schema

__all__ = [
    "COMMON_RECIPE_KEYS",
    "RECIPE_KEYS",
    "SCHEMA_PATH",
    "check_engine_options",
    "check_references",
    "eval_benchmarks",
    "eval_models",
    "eval_template",
    "finetuned_models",
    "load",
    "pool_recipes",
    "prompt_variants",
    "recipe_config",
    "schema",
    "validate",
    "write_merged",
]
