"""Names derived from a validated config: the fine-tunes a train block makes, the
recipes a pool serves, the models and benchmarks evaluated and their prompt templates.

    from dart.config.names import finetuned_models
    finetuned_models(cfg)   # {"smollm2-135m--uniform": {"base": ..., "dataset": ..., "seed": 42}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def prompt_variants(cfg: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{base}@{template}`` -> {base, template}: each fine-tuned base model evaluated again
    with its fine-tunes' training template, when ``eval.base_at_finetune_template`` is on
    (the paper evaluates base models few-shot and fine-tunes zero-shot; this row shows what
    fine-tuning gained at the same prompt). None where that template is the base's own."""
    evaluation = cfg.get("eval", {})
    if not evaluation.get("base_at_finetune_template"):
        return {}
    out = {}
    for base, hparams in cfg.get("train", {}).get("models", {}).items():
        template = hparams.get("template", "alpaca")
        own = evaluation.get("templates", {}).get(base, evaluation.get("base_template"))
        if template != own:
            out[f"{base}@{template}"] = {"base": base, "template": template}
    return out


def eval_models(cfg: Mapping[str, Any]) -> list[str]:
    """The models evaluated: eval.models, or every trained base model, every fine-tune and
    every base model at its fine-tunes' template (:func:`prompt_variants`)."""
    chosen = cfg.get("eval", {}).get("models")
    if chosen is not None:
        return list(chosen)
    return [*cfg.get("train", {}).get("models", {}), *finetuned_models(cfg), *prompt_variants(cfg)]


def eval_benchmarks(cfg: Mapping[str, Any]) -> list[str]:
    chosen = cfg.get("eval", {}).get("benchmarks")
    return list(cfg.get("benchmarks", {})) if chosen is None else list(chosen)


def eval_template(cfg: Mapping[str, Any], model: str) -> str:
    """The prompt template a model is evaluated with (base: few-shot; fine-tuned: its training template)."""
    evaluation = cfg["eval"]
    if model in evaluation["templates"]:
        return evaluation["templates"][model]
    variant = prompt_variants(cfg).get(model)
    if variant is not None:
        return variant["template"]
    tuned = finetuned_models(cfg).get(model)
    if tuned is None:
        return evaluation["base_template"]
    return cfg["train"]["models"][tuned["base"]]["template"]
