"""A config's fine-tuning and evaluation settings beside the paper's (``dart config
--paper-diff``; the summary's notes under each ``paper:`` row).

For each base model the config fine-tunes, its resolved settings (hyperparameter defaults
filled in, precision ``auto`` resolved as a GPU run resolves it, the evaluation template's
stop strings) are held against the published model of the same hub id, or against
:data:`dart.paper.DEFAULT_MODEL` for a base model the paper did not train.

    dart config config.paper.yaml --paper-diff   # "... equals the paper's setup" per model
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dart import paper
from dart.config.names import eval_template, finetuned_models
from dart.prompts import get_template
from dart.train.hyperparams import Hyperparams


def run_settings(cfg: Mapping[str, Any], base: str) -> dict[str, Any]:
    """The settings of :data:`dart.paper.LABELS` that the config gives fine-tunes of
    ``base``; the evaluation template and its stop strings per fine-tune (name -> value)."""
    hp = Hyperparams.from_dict(dict(cfg["train"]["models"][base]))
    precision = hp.precision
    if precision == "auto":  # bf16 on a GPU that has it (every GPU the paper used), else fp32
        precision = "bf16" if hp.gpus >= 1 else "fp32"
    tuned = [name for name, spec in finetuned_models(cfg).items() if spec["base"] == base]
    templates = {name: eval_template(cfg, name) for name in tuned}
    return {
        "learning_rate": hp.learning_rate,
        "global_batch": (hp.global_batch, hp.batch_unit),
        "epochs": hp.epochs,
        "max_length": hp.max_length,
        "packing": hp.packing,
        "lr_scheduler": hp.lr_scheduler,
        "warmup_ratio": hp.warmup_ratio,
        "weight_decay": hp.weight_decay,
        "precision": precision,
        "template": hp.template,
        "eval_template": templates,
        "base_eval_template": eval_template(cfg, base),
        "decoding": "greedy",  # dart evaluate generate decodes greedily, always
        "max_new_tokens": cfg["eval"]["max_new_tokens"],
        "stop": {name: tuple(get_template(t).stop) for name, t in templates.items()},
        "checkpoint": "final",  # the model folder training leaves: its last step
    }


def paper_differences(cfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Base model -> {paper_model, published (bool), differences (list of lines)}, for
    every base model the config fine-tunes."""
    out = {}
    for base in cfg.get("train", {}).get("models", {}):
        source = cfg["models"][base]["source"]
        model = paper.published_model(source)
        label = model or paper.DEFAULT_MODEL
        out[base] = {
            "paper_model": label,
            "published": model is not None,
            "differences": paper.differences(run_settings(cfg, base), label),
        }
    return out


def paper_diff_text(cfg: Mapping[str, Any], source: str) -> str:
    """The listing ``dart config --paper-diff`` prints."""
    found = paper_differences(cfg)
    if not found:
        return f"{source}: fine-tunes no base model; nothing to compare with the paper\n"
    lines = []
    for base, entry in found.items():
        against = entry["paper_model"] + ("" if entry["published"] else "'s setup; the paper "
                                          "did not train this model")  # fmt: skip
        if not entry["differences"]:
            lines.append(f"{base} ({against}): equals the paper's setup")
            continue
        lines.append(f"{base} ({against}): {len(entry['differences'])} setting(s) differ")
        lines += [f"  {d}" for d in entry["differences"]]
    return "\n".join(lines) + "\n"
