"""The pipeline config (layer 3): loading and validating it against its JSON schema
(``schema/config.schema.yaml``, draft 2020-12), and the names derived from it.

Defaults from the schema are filled in, and every error names the key at fault;
:mod:`dart.config.cli` is the ``dart config`` verb:

    dart config config.yaml                 # validate, print nothing, exit 0
    dart config config.yaml -o merged.yaml  # also write the merged config
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dart.errors import DartError
from dart.lineage.records import code_version, write_text_atomic
from dart.options import check_options
from dart.prompts import TEMPLATES
from dart.train.hyperparams import Hyperparams

SCHEMA_PATH = Path(__file__).parent / "schema" / "config.schema.yaml"
#: Each recipe's own keys in a ``datasets`` entry (the schema fills every recipe's
#: defaults into every entry; these say which belong to the entry's recipe).
RECIPE_KEYS = {
    "vrt": {"trials"},
    "uniform": {"k"},
    "prop2diff": {"k_p", "size", "n_probe", "min"},
    "custom": {"target"},
}
#: The keys every recipe has.
COMMON_RECIPE_KEYS = {"recipe", "levels", "sources"}


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        assert ref.startswith("#/$defs/"), ref
        return root["$defs"][ref.removeprefix("#/$defs/")]
    return node


def _fill_defaults(value: Any, node: dict[str, Any], root: dict[str, Any]) -> None:
    """Set missing keys from ``default`` in place, recursing into named maps."""
    node = _resolve(node, root)
    if not isinstance(value, dict) or node.get("type") not in ("object", None):
        return
    for key, sub in node.get("properties", {}).items():
        sub = _resolve(sub, root)
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _fill_defaults(value[key], sub, root)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        for key, item in value.items():
            if key not in node.get("properties", {}):
                _fill_defaults(item, extra, root)


def _key_path(error: Any) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(_resolve(error.schema, schema()).get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        where = _key_path(error)
        keys = ", ".join(f"{where}.{k}" if where != "<top level>" else k for k in unknown)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {keys}{hint}"
    return f"key {_key_path(error)}: {error.message}"


def _coerce(value: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    """Strings where the schema wants a number, integer or boolean, converted.

    ``snakemake --config 'grader={"memory_mb": 2048}'`` hands nested values over as
    strings; a string that reads as the schema's type becomes that type, anything else
    is left for the validator to name.
    """
    node = _resolve(node, root)
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = _coerce(item, sub, root)
        return value
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_coerce(v, node["items"], root) for v in value]
    types = node.get("type", [])
    types = [types] if isinstance(types, str) else types
    if not isinstance(value, str):
        return _canonical_number(value, types)
    text = value.strip()
    if "integer" in types:
        with contextlib.suppress(ValueError):
            return int(text)
        with contextlib.suppress(ValueError):
            return _canonical_number(float(text), types)
    if "number" in types:
        with contextlib.suppress(ValueError):
            return float(text)
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in types and text.lower() in ("null", "none", "~"):
        return None
    return value


def _refuse_non_finite(value: Any, source: str, path: tuple[str, ...] = ()) -> None:
    """NaN and infinities pass JSON-schema bounds (``nan > 0`` and ``nan <= 0`` are both
    false): refuse them by key (YAML ``.nan``/``.inf``, ``--config train={lr: .inf}``)."""
    if isinstance(value, float) and not math.isfinite(value):
        key = ".".join(path) or "<top level>"
        raise DartError(f"{source}: key {key}: must be a finite number, got {value}")
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        _refuse_non_finite(item, source, (*path, str(key)))


def _canonical_number(value: Any, types: list[str]) -> Any:
    """One spelling per number, so that params compare equal whatever the spelling.

    A number where the schema wants an integer becomes an int when whole (``2.0`` -> 2;
    a fraction is left for the validator to name); where it wants any number, a float
    (``5`` and ``5.0`` both 5.0). Booleans and other values are returned as they are.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if "integer" in types and (isinstance(value, int) or value.is_integer()):
        return int(value)
    if "number" in types and "integer" not in types:
        return float(value)
    return value


def validate(config: Mapping[str, Any], *, source: str = "config") -> dict[str, Any]:
    """Return a validated copy of ``config`` with defaults filled in.

    Raises DartError naming ``source`` and the offending key, also when one section
    names something another section does not define (a synth's model, a dataset's
    pool, a fine-tune's base model, an evaluated model or benchmark).
    """
    from jsonschema import Draft202012Validator

    root = schema()
    merged = _coerce(copy.deepcopy(dict(config)), root, root)
    _refuse_non_finite(merged, source)
    validator = Draft202012Validator(root)
    errors = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
    if errors:
        raise DartError(f"{source}: {_message(errors[0])}")
    _fill_defaults(merged, root, root)
    merged = _coerce(merged, root, root)  # the defaults' numbers in their one spelling too
    errors = list(validator.iter_errors(merged))
    if errors:  # a default that does not fit its own schema is our bug, but say where
        raise DartError(f"{source}: {_message(errors[0])}")
    check_references(merged, source=source)
    check_engine_options(merged, source=source)
    return merged


def check_engine_options(cfg: Mapping[str, Any], *, source: str = "config") -> None:
    """Every ``engine_options`` key is an option of its section's engine
    (``dart.options``): an unknown one is refused here, before any job starts."""
    sections = [(f"synth.{n}", s) for n, s in cfg.get("synth", {}).items()]
    if "eval" in cfg:
        sections.append(("eval", cfg["eval"]))
    for key, spec in sections:
        if "engine" in spec:
            where = f"{source}: key {key}.engine_options"
            check_options(spec["engine"], spec.get("engine_options", {}), where)


# --------------------------------------------------------------------------- cross-references


def _missing(names: Any, known: Mapping[str, Any], key: str, what: str, source: str) -> None:
    for name in [names] if isinstance(names, str) else names or []:
        if name not in known:
            have = ", ".join(sorted(known)) or "none"
            raise DartError(f"{source}: key {key}: {what} {name!r} is not defined (have: {have})")


def check_references(cfg: Mapping[str, Any], *, source: str = "config") -> None:
    """Every name one section uses must be defined in the section it refers to."""
    for name, spec in cfg.get("synth", {}).items():
        _missing(spec["model"], cfg["models"], f"synth.{name}.model", "model", source)
        _missing(spec["queries"], cfg["queries"], f"synth.{name}.queries", "query source", source)
    for name, spec in cfg.get("datasets", {}).items():
        _missing(spec["synth"], cfg["synth"], f"datasets.{name}.synth", "synth (pool)", source)
        _missing(
            spec.get("sources"), cfg["queries"], f"datasets.{name}.sources", "query source", source
        )
    train = cfg.get("train", {})
    _missing(list(train.get("models", {})), cfg["models"], "train.models", "base model", source)
    _missing(train.get("datasets"), cfg["datasets"], "train.datasets", "dataset", source)
    for pair in train.get("pairs") or []:
        base, _, dataset = pair.partition("--")
        _missing(
            base, train.get("models", {}), "train.pairs", "base model (of train.models)", source
        )
        _missing(dataset, cfg["datasets"], "train.pairs", "dataset", source)
    benchmarks = cfg.get("benchmarks", {})
    evaluation = cfg.get("eval", {})
    _missing(evaluation.get("benchmarks"), benchmarks, "eval.benchmarks", "benchmark", source)
    _missing(
        cfg.get("decontamination", {}).get("benchmarks"),
        benchmarks,
        "decontamination.benchmarks",
        "benchmark",
        source,
    )
    known = {**dict.fromkeys(cfg["models"]), **finetuned_models(cfg)}
    for name in evaluation.get("models") or []:
        if name not in known:
            hint = " (a fine-tuned name the train block does not produce)" if "--" in name else ""
            raise DartError(
                f"{source}: key eval.models: model {name!r} is not defined{hint}; "
                f"have: {', '.join(sorted(known)) or 'none'}"
            )
    _missing(list(evaluation.get("templates", {})), known, "eval.templates", "model", source)
    _check_templates(cfg, source)
    _check_train(cfg, source)


def _check_train(cfg: Mapping[str, Any], source: str) -> None:
    """Each base model's hyperparameters pass the checks a fine-tune would make
    (e.g. ``global_batch`` divisible by ``micro_batch``), before any job runs."""
    for name, hparams in cfg.get("train", {}).get("models", {}).items():
        try:
            Hyperparams.from_dict(dict(hparams))
        except DartError as exc:
            detail = str(exc).removeprefix("train hyperparams: ")
            raise DartError(f"{source}: key train.models.{name}: {detail}") from None


def _check_templates(cfg: Mapping[str, Any], source: str) -> None:
    """Every template a section names is registered in dart.prompts."""
    named = [(f"synth.{n}.template", s["template"]) for n, s in cfg.get("synth", {}).items()]
    named += [
        (f"train.models.{n}.template", h["template"])
        for n, h in cfg.get("train", {}).get("models", {}).items()
    ]
    evaluation = cfg.get("eval", {})
    if "base_template" in evaluation:
        named.append(("eval.base_template", evaluation["base_template"]))
    named += [(f"eval.templates.{n}", t) for n, t in evaluation.get("templates", {}).items()]
    for key, name in named:
        _missing(name, TEMPLATES, key, "prompt template", source)


# --------------------------------------------------------------------------- derived names


def finetuned_models(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Fine-tuned model name -> {base, dataset, seed}, in config order.

    Names are ``{base}--{dataset}``, with ``--s{seed}`` when several seeds are configured.
    """
    train = cfg.get("train", {})
    datasets = train.get("datasets")
    datasets = list(cfg.get("datasets", {})) if datasets is None else datasets
    pairs = train.get("pairs")
    seeds = train.get("seeds", [42])
    out: dict[str, dict[str, Any]] = {}
    for base in train.get("models", {}):
        for dataset in datasets:
            pair = f"{base}--{dataset}"
            if pairs is not None and pair not in pairs:
                continue
            for seed in seeds:
                name = pair if len(seeds) == 1 else f"{pair}--s{seed}"
                out[name] = {"base": base, "dataset": dataset, "seed": seed}
    return out


def recipe_config(cfg: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """A dataset's recipe keys (the schema fills every recipe's defaults; keep its own)."""
    spec = cfg["datasets"][dataset]
    keep = RECIPE_KEYS[spec["recipe"]] | COMMON_RECIPE_KEYS
    return {k: v for k, v in spec.items() if k in keep and v is not None}


def pool_recipes(cfg: Mapping[str, Any], synth: str) -> dict[str, dict[str, Any]]:
    """The recipes of every dataset cut from this pool: the union the planner serves."""
    return {
        name: recipe_config(cfg, name)
        for name, spec in cfg["datasets"].items()
        if spec["synth"] == synth
    }


def eval_models(cfg: Mapping[str, Any]) -> list[str]:
    """The models evaluated: eval.models, or every trained base model and every fine-tune."""
    chosen = cfg.get("eval", {}).get("models")
    if chosen is not None:
        return list(chosen)
    return [*cfg.get("train", {}).get("models", {}), *finetuned_models(cfg)]


def eval_benchmarks(cfg: Mapping[str, Any]) -> list[str]:
    chosen = cfg.get("eval", {}).get("benchmarks")
    return list(cfg.get("benchmarks", {})) if chosen is None else list(chosen)


def eval_template(cfg: Mapping[str, Any], model: str) -> str:
    """The prompt template a model is evaluated with (base: few-shot; fine-tuned: its training template)."""
    evaluation = cfg["eval"]
    if model in evaluation["templates"]:
        return evaluation["templates"][model]
    tuned = finetuned_models(cfg).get(model)
    if tuned is None:
        return evaluation["base_template"]
    return cfg["train"]["models"][tuned["base"]]["template"]


def load(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise DartError(f"{p}: cannot read the config: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DartError(f"{p}: not valid YAML: {problem}{where}") from None
    if not isinstance(raw, dict):
        raise DartError(f"{p}: the config must be a mapping of keys")
    return validate(raw, source=str(p))


def write_merged(config: Mapping[str, Any], results_dir: str | os.PathLike) -> Path:
    """Write the merged config of this run to results/config.yaml and results/runs/<time>.yaml."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    header = f"# merged config of the run at {stamp}; code {code_version()}\n"
    text = header + yaml.safe_dump(dict(config), sort_keys=False)
    results = Path(results_dir)
    write_text_atomic(text, results / "runs" / f"{stamp}-config.yaml")
    write_text_atomic(text, results / "config.yaml")
    return results / "config.yaml"
