"""Checks across sections of a config that the schema cannot express: every name one
section uses is defined where it refers to (a synth's model, a dataset's pool, a
fine-tune's base, an evaluated model or benchmark, a template), each engine's options
are its own, and each base model's training hyperparameters pass a fine-tune's checks.

    from dart.config.references import check_references
    check_references(cfg, source="config.yaml")   # DartError naming the key at fault
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dart.config.names import finetuned_models, prompt_variants
from dart.errors import DartError
from dart.options import check_options
from dart.prompts import TEMPLATES
from dart.train.hyperparams import Hyperparams


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
    known = {**dict.fromkeys(cfg["models"]), **finetuned_models(cfg), **prompt_variants(cfg)}
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
