"""The DART-Math paper's setup in one place (a leaf: imports nothing of dart).

What the paper published per base model: its fine-tuning and evaluation settings
(:data:`SETTINGS`, arXiv 2407.13690 and its official code: HF Trainer + DeepSpeed ZeRO-3,
bf16, 1 epoch, cosine with 3% warm-up, no weight decay, max length 4,096, 64 packed rows of
4,096 tokens per optimizer step, Alpaca prompt; greedy evaluation of the final checkpoint,
2,048 new tokens, stop strings ``### Instruction:``/``### Response:``, base models few-shot)
and its accuracies (:data:`ACCURACY`, from the released model cards).

:func:`differences` words how a run's resolved settings differ from a published model's
(``dart config --paper-diff`` and the summary's notes under each ``paper:`` row;
``dart.config.paper`` resolves a config's settings).

    python -c "from dart.paper import SETTINGS; print(SETTINGS['Llama3-70B']['learning_rate'])"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: benchmark types of the paper's six columns, in its order
TYPES = ("math", "gsm8k", "collegemath", "deepmind-mathematics", "olympiadbench", "theoremqa")
#: base model hub id (lowercase) -> the model's name in the DART-Math tables
MODELS = {
    "mistralai/mistral-7b-v0.1": "Mistral-7B",
    "meta-llama/meta-llama-3-8b": "Llama3-8B",
    "deepseek-ai/deepseek-math-7b-base": "DSMath-7B",
    "meta-llama/meta-llama-3-70b": "Llama3-70B",
}
#: (model, recipe) -> accuracy % on TYPES, from the released model cards
ACCURACY = {
    ("Mistral-7B", "uniform"): (43.5, 82.6, 26.9, 42.0, 13.2, 16.4),
    ("Mistral-7B", "prop2diff"): (45.5, 81.1, 29.4, 45.1, 14.7, 17.0),
    ("Llama3-8B", "uniform"): (45.3, 82.5, 27.1, 48.2, 13.6, 15.4),
    ("Llama3-8B", "prop2diff"): (46.6, 81.1, 28.8, 48.0, 14.5, 19.4),
    ("DSMath-7B", "uniform"): (52.9, 88.2, 40.1, 60.2, 21.3, 32.5),
    ("DSMath-7B", "prop2diff"): (53.6, 86.8, 40.7, 61.6, 21.7, 32.2),
    ("Llama3-70B", "uniform"): (54.9, 90.4, 38.5, 64.1, 19.1, 27.4),
    ("Llama3-70B", "prop2diff"): (56.1, 89.6, 37.9, 64.1, 20.0, 28.2),
}
RECIPE_LABEL = {"uniform": "Uniform", "prop2diff": "Prop2Diff"}

#: The settings every published model shares (learning rates below differ by size).
_COMMON: dict[str, Any] = {
    "epochs": 1.0,
    "global_batch": (64, "packed_rows"),
    "max_length": 4096,
    "packing": True,
    "lr_scheduler": "cosine",
    "warmup_ratio": 0.03,
    "weight_decay": 0.0,
    "precision": "bf16",
    "template": "alpaca",
    "eval_template": "alpaca",
    "base_eval_template": "base-few-shot",
    "decoding": "greedy",
    "max_new_tokens": 2048,
    "stop": ("### Instruction:", "### Response:"),
    "checkpoint": "final",
}
#: published model -> its settings (keys as :data:`LABELS`)
SETTINGS: dict[str, dict[str, Any]] = {
    "Mistral-7B": {**_COMMON, "learning_rate": 5e-5},
    "Llama3-8B": {**_COMMON, "learning_rate": 5e-5},
    "DSMath-7B": {**_COMMON, "learning_rate": 5e-5},
    "Llama3-70B": {**_COMMON, "learning_rate": 2e-5},
}
#: the published model a base model outside the paper is held against
DEFAULT_MODEL = "Llama3-8B"
#: setting -> how it is named in the listings, in the order they are listed
LABELS = {
    "learning_rate": "learning rate",
    "global_batch": "global batch",
    "epochs": "epochs",
    "max_length": "max length",
    "packing": "packing",
    "lr_scheduler": "scheduler",
    "warmup_ratio": "warm-up ratio",
    "weight_decay": "weight decay",
    "precision": "precision",
    "template": "training template",
    "eval_template": "fine-tunes' evaluation template",
    "base_eval_template": "base models' evaluation template",
    "decoding": "decoding",
    "max_new_tokens": "max new tokens",
    "stop": "stop strings",
    "checkpoint": "checkpoint evaluated",
}
_UNITS = {"packed_rows": "packed rows", "samples": "samples"}


def published_model(source: str | None) -> str | None:
    """The paper's name of a base model hub id (``meta-llama/Meta-Llama-3-8B@rev``)."""
    return MODELS.get(str(source or "").lower().split("@")[0])


def show(key: str, value: Any) -> str:
    """One setting's value as the listings word it."""
    if key == "global_batch":
        size, unit = value
        return f"{size} {_UNITS.get(unit, unit)}"
    if key == "stop":
        return ", ".join(repr(s) for s in value) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def differences(ours: Mapping[str, Any], model: str) -> list[str]:
    """``"global batch 32 samples (paper 64 packed rows)"`` for each setting of ``ours``
    that differs from the published ``model``'s; [] when the run matches the paper.

    A setting given per fine-tune (a mapping of name -> value, such as the evaluation
    template) gets one line per fine-tune that differs: ``"... chat for m--p (paper ...)"``.
    """
    paper = SETTINGS[model]
    out = []
    for key, label in LABELS.items():
        mine = ours.get(key)
        each = mine.items() if isinstance(mine, Mapping) else [(None, mine)]
        for name, value in each:
            if _same(key, value, paper[key]):
                continue
            where = f" for {name}" if name is not None else ""
            out.append(f"{label} {show(key, value)}{where} (paper {show(key, paper[key])})")
    return out


def _same(key: str, mine: Any, theirs: Any) -> bool:
    if key == "stop":
        return mine is not None and tuple(mine) == tuple(theirs)
    if key == "global_batch":
        return mine is not None and tuple(mine) == tuple(theirs)
    if isinstance(theirs, float) and isinstance(mine, (int, float)):
        return abs(float(mine) - theirs) <= 1e-12 * max(abs(theirs), 1.0)
    return mine == theirs
