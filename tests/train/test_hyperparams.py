"""Hyperparameters: unknown keys, wrong types and impossible values name the key."""

from __future__ import annotations

import json

import pytest

from dart.errors import DartError
from dart.train.hyperparams import Hyperparams

CONTRACT = {
    "template": "alpaca", "epochs": 1, "learning_rate": 5e-5, "lr_scheduler": "cosine",
    "warmup_ratio": 0.03, "weight_decay": 0.0, "max_length": 4096, "global_batch": 64,
    "micro_batch": 1, "batch_unit": "packed_rows", "packing": True, "overlong": "truncate",
    "precision": "auto", "gpus": 0, "save_steps": 50, "logging_steps": 1,
    "ranks": 0, "deepspeed": "zero3", "attn_implementation": "auto",
}  # fmt: skip


def test_contract_keys_parse_and_resolve():
    """Every key of the paper's setup is read, none dropped (the reference's --n_epochs was
    silently ignored): each comes back as given, and an other value of each is kept too."""
    hp = Hyperparams.from_json(json.dumps(CONTRACT))
    assert {key: getattr(hp, key) for key in CONTRACT} == CONTRACT
    assert hp.epochs == 1.0 and isinstance(hp.epochs, float)
    assert hp.accumulation == 64
    changed = {"epochs": 2.5, "learning_rate": 2e-5, "max_length": 2048, "save_steps": 7,
               "warmup_ratio": 0.1, "logging_steps": 3, "template": "chat"}  # fmt: skip
    again = Hyperparams.from_dict(changed)
    assert {key: getattr(again, key) for key in changed} == changed


def test_the_config_schema_and_the_hyperparams_agree():
    """The schema's train_hparams block (what `dart config` checks and documents) and
    dart/train/hyperparams.py (what a fine-tune reads) hold the same keys and defaults."""
    from dart.config import schema

    block = schema()["$defs"]["train_hparams"]["properties"]
    assert {key: node["default"] for key, node in block.items()} == Hyperparams.defaults()
    assert all(node.get("description") for node in block.values())
    assert all(Hyperparams.descriptions().values())


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"n_epochs": 1}, "n_epochs"),
        ({"template": "vicuna"}, "template"),
        ({"epochs": "1"}, "epochs"),
        ({"packing": 1}, "packing"),
        ({"max_length": 4096.0}, "max_length"),
        ({"epochs": 0}, "epochs"),
        ({"batch_unit": "tokens"}, "batch_unit"),
        ({"warmup_ratio": 1.5}, "warmup_ratio"),
        ({"global_batch": 64, "micro_batch": 3}, "global_batch"),
        ({"global_batch": 12, "micro_batch": 2, "gpus": 8}, "global_batch"),
        ({"batch_unit": "packed_rows", "packing": False}, "packed_rows"),
        ({"precision": "fp16"}, "fp16"),
        ({"gpus": 1, "ranks": 2}, "ranks=2 with gpus=1"),
        ({"ranks": -1}, "ranks"),
        ({"ranks": 2, "deepspeed": "none", "global_batch": 2}, "deepspeed='zero3'"),
        ({"ranks": 2, "global_batch": 3}, "global_batch"),
    ],
)
def test_bad_values_name_the_key(values, key):
    with pytest.raises(DartError, match=key):
        Hyperparams.from_dict(values)


def test_not_json_is_an_error():
    with pytest.raises(DartError, match="hyperparams-json"):
        Hyperparams.from_json("{epochs: 1}")


def test_processes_and_accumulation():
    cpu = Hyperparams.from_dict({"ranks": 2, "global_batch": 4})
    assert (cpu.world_size, cpu.accumulation, cpu.distributed) == (2, 2, True)
    gpu = Hyperparams.from_dict({"gpus": 4, "global_batch": 8})
    assert (gpu.world_size, gpu.accumulation, gpu.distributed) == (4, 2, True)
    one = Hyperparams.from_dict({"ranks": 1, "global_batch": 4})
    assert (one.world_size, one.accumulation, one.distributed) == (1, 4, False)
