"""Training hyperparameters: the one authoritative list of keys, defaults and meanings.

``dart train --hyperparams-json '{...}'`` is parsed here. Unknown keys, wrong types and
impossible values are errors that name the key; nothing is silently ignored (the
reference's ``--n_epochs`` flag was dropped without a word and 3 epochs ran).

    from dart.train.hyperparams import Hyperparams
    hp = Hyperparams.from_json('{"epochs": 2, "max_length": 512}')
    hp.to_dict()["epochs"]  # 2.0
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from dart.errors import DartError
from dart.prompts import TEMPLATES

#: The transformers schedules a fine-tune can use with the warm-up and step count alone
#: (``reduce_lr_on_plateau``, ``cosine_with_min_lr`` and ``warmup_stable_decay`` need
#: arguments of their own that no key here gives, so they are not offered).
SCHEDULERS = (
    "linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
    "constant_with_warmup", "inverse_sqrt",
)  # fmt: skip
CHOICES: dict[str, tuple[str, ...]] = {
    "lr_scheduler": SCHEDULERS,
    "batch_unit": ("samples", "packed_rows"),
    "overlong": ("truncate", "drop"),
    "precision": ("auto", "fp32", "bf16", "fp16"),
    "deepspeed": ("zero3", "none"),
    "attn_implementation": ("auto", "sdpa", "eager", "flash_attention_2"),
}


def _key(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class Hyperparams:
    """Fine-tuning settings; each field's metadata holds the description the schema repeats."""

    template: str = _key("alpaca", "prompt template of dart/prompts.py wrapped around each query")
    epochs: float = _key(1.0, "passes over the dataset (may be fractional); exactly what runs")
    learning_rate: float = _key(5e-5, "peak learning rate (paper: 5e-5 for 7-8B, 2e-5 for 70B)")
    lr_scheduler: str = _key("cosine", "learning-rate schedule after warm-up (transformers name)")
    warmup_ratio: float = _key(
        0.03,
        "share of the optimizer steps spent warming up (rounded down, so a run shorter than "
        "1/warmup_ratio steps has none and its first step counts)",
    )
    weight_decay: float = _key(0.0, "AdamW weight decay")
    max_grad_norm: float = _key(1.0, "gradient clipping norm (0 switches clipping off)")
    max_length: int = _key(4096, "tokens per sample and per packed row (prompt + response + EOS)")
    global_batch: int = _key(
        64, "units (see batch_unit) per optimizer step, over all GPUs and accumulation steps"
    )
    micro_batch: int = _key(1, "units per forward pass on one device")
    batch_unit: str = _key(
        "packed_rows",
        "'samples': one unit is one sample; 'packed_rows': one unit is a row of samples packed "
        "best-fit-decreasing into at most max_length tokens (the reference's unit)",
    )
    packing: bool = _key(
        True,
        "concatenate a micro-batch into one row with position ids restarting per sample (no "
        "padding, no cross-sample attention); false pads each micro-batch to its longest sample",
    )
    overlong: str = _key("truncate", "a sample over max_length: 'truncate' its end or 'drop' it")
    precision: str = _key("auto", "'auto' (bf16 on a GPU that has it, else fp32), fp32, bf16, fp16")
    gpus: int = _key(0, "GPUs to train on; 0 trains on CPU, N >= 1 runs torchrun over N GPUs")
    ranks: int = _key(
        0,
        "training processes: 0 means one per GPU (gpus >= 1) or a single process (gpus: 0); "
        "N >= 2 with gpus: 0 runs torchrun over N CPU processes (gloo) with DeepSpeed ZeRO-3, "
        "the GPU code path on a machine without GPUs",
    )
    deepspeed: str = _key(
        "zero3", "with gpus >= 1 or ranks >= 2: 'zero3' (dart/train/zero3.json) or 'none'"
    )
    attn_implementation: str = _key(
        "auto", "'auto': flash_attention_2 on GPUs where importable, else sdpa; or force one"
    )
    gradient_checkpointing: bool = _key(False, "recompute activations in backward to save memory")
    save_steps: int = _key(50, "optimizer steps between resumable checkpoints")
    logging_steps: int = _key(1, "optimizer steps between loss log lines")
    allow_simulated: bool = _key(
        False, "train on a dataset cut from a simulated pool (engine simulated, a rehearsal)"
    )

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in fields(cls) if f.default is not MISSING}

    @classmethod
    def descriptions(cls) -> dict[str, str]:
        return {f.name: f.metadata["description"] for f in fields(cls)}

    @classmethod
    def from_json(cls, text: str) -> Hyperparams:
        try:
            values = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise DartError(f"--hyperparams-json: not valid JSON: {exc}") from None
        if not isinstance(values, dict):
            raise DartError("--hyperparams-json: expected a JSON object of key: value")
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Hyperparams:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise DartError(f"train hyperparams: unknown key(s) {unknown}; known: {sorted(known)}")
        typed = {k: _coerce(k, v, type(known[k].default)) for k, v in values.items()}
        hp = cls(**typed)
        hp.check()
        return hp

    def check(self) -> None:
        """Raise a DartError naming the first impossible value."""
        if self.template not in TEMPLATES:
            raise DartError(
                f"train hyperparams: template={self.template!r}; one of {sorted(TEMPLATES)}"
            )
        for key, allowed in CHOICES.items():
            if getattr(self, key) not in allowed:
                raise DartError(
                    f"train hyperparams: {key}={getattr(self, key)!r}; one of {allowed}"
                )
        positive = ("epochs", "learning_rate", "max_length", "global_batch", "micro_batch")
        for key in (*positive, "save_steps", "logging_steps"):
            if getattr(self, key) <= 0:
                raise DartError(f"train hyperparams: {key} must be > 0, got {getattr(self, key)}")
        for key in ("weight_decay", "max_grad_norm", "gpus", "ranks"):
            if getattr(self, key) < 0:
                raise DartError(f"train hyperparams: {key} must be >= 0, got {getattr(self, key)}")
        if not 0 <= self.warmup_ratio < 1:
            raise DartError(
                f"train hyperparams: warmup_ratio must be in [0, 1), got {self.warmup_ratio}"
            )
        if self.gpus >= 1 and self.ranks not in (0, self.gpus):
            raise DartError(
                f"train hyperparams: ranks={self.ranks} with gpus={self.gpus}; a GPU run has one "
                "process per GPU (leave ranks at 0)"
            )
        if self.gpus == 0 and self.ranks >= 2 and self.deepspeed != "zero3":
            raise DartError(
                "train hyperparams: ranks >= 2 on CPU runs the DeepSpeed ZeRO-3 path; "
                "it needs deepspeed='zero3'"
            )
        per_step = self.micro_batch * self.world_size
        if self.global_batch % per_step:
            raise DartError(
                f"train hyperparams: global_batch={self.global_batch} is not divisible by "
                f"micro_batch * processes ({self.micro_batch} * {self.world_size} = {per_step})"
            )
        if self.batch_unit == "packed_rows" and not self.packing:
            raise DartError("train hyperparams: batch_unit='packed_rows' needs packing=true")
        if self.gpus == 0 and self.precision == "fp16":
            raise DartError("train hyperparams: precision='fp16' needs gpus >= 1")
        if self.gpus == 0 and self.attn_implementation == "flash_attention_2":
            raise DartError(
                "train hyperparams: attn_implementation='flash_attention_2' needs gpus >= 1"
            )

    @property
    def world_size(self) -> int:
        """Training processes: one per GPU, else ``ranks`` CPU processes (at least one)."""
        return self.gpus if self.gpus >= 1 else max(self.ranks, 1)

    @property
    def distributed(self) -> bool:
        """True when the run goes through torchrun (GPUs, or several CPU ranks)."""
        return self.gpus >= 1 or self.ranks >= 2

    @property
    def accumulation(self) -> int:
        """Gradient accumulation steps per optimizer step."""
        return self.global_batch // (self.micro_batch * self.world_size)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(key: str, value: Any, kind: type) -> Any:
    """``value`` as ``kind`` (int for float is fine; bool is never a number)."""
    ok = (
        isinstance(value, bool)
        if kind is bool
        else isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is float
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, kind)
    )
    if not ok:
        raise DartError(
            f"train hyperparams: {key} must be {kind.__name__}, got {type(value).__name__} {value!r}"
        )
    if kind is float and not math.isfinite(value):  # JSON NaN / Infinity
        raise DartError(f"train hyperparams: {key} must be a finite number, got {value!r}")
    return float(value) if kind is float else value
