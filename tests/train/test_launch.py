"""The torchrun command that `dart train` re-runs itself under for gpus >= 1."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dart.train.launch import is_launched, torchrun_argv


def _args(**over):
    base = dict(dataset="d.parquet", base="m", hyperparams_json='{"gpus": 8}', seed=3,
                threads=2, name="m--d", output="out/m--d", report_to=[])  # fmt: skip
    return SimpleNamespace(**{**base, **over})


@pytest.mark.parametrize("gpus", [1, 8])
def test_torchrun_argv(gpus):
    argv = torchrun_argv(
        _args(), processes=gpus, rule="train", wildcards={"model": "m--d"}, python="py"
    )
    assert argv[:6] == [
        "py",
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        str(gpus),
    ]
    rest = argv[6:]
    assert rest[:6] == ["-m", "dart.cli", "--rule", "train", "--wildcards", "model=m--d"]
    assert rest[6] == "train"
    assert rest[7:] == ["--dataset", "d.parquet", "--base", "m", "--hyperparams-json",
                     '{"gpus": 8}', "--seed", "3", "--threads", "2", "--name", "m--d",
                     "-o", "out/m--d"]  # fmt: skip


def test_every_rank_gets_report_to():
    argv = torchrun_argv(_args(report_to=["tensorboard", "wandb"]), processes=2, rule=None,
                         wildcards={}, python="py")  # fmt: skip
    at = argv.index("--report-to")
    assert argv[at : at + 4] == ["--report-to", "tensorboard", "wandb", "--name"]


def test_torchrun_argv_rejects_cpu_and_detects_workers():
    with pytest.raises(ValueError):
        torchrun_argv(_args(), processes=0, rule=None, wildcards={}, python="py")
    assert is_launched({"LOCAL_RANK": "0"}) and not is_launched({})


def test_zero3_config_is_the_reference_one():
    import json

    from dart.train.finetune import ZERO3

    config = json.loads(ZERO3.read_text())
    zero = config["zero_optimization"]
    assert zero["stage"] == 3 and zero["stage3_gather_16bit_weights_on_model_save"] is True
    assert config["bf16"]["enabled"] == "auto"
    for key in (
        "train_batch_size",
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
    ):
        assert config[key] == "auto"


def test_gpus_without_cuda_is_an_error_naming_the_key():
    import torch

    from dart.errors import DartError
    from dart.train.finetune import resolve_runtime
    from dart.train.hyperparams import Hyperparams

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible; this checks the CPU-only message")
    with pytest.raises(DartError, match="gpus=1"):
        resolve_runtime(Hyperparams.from_dict({"gpus": 1}))
    cpu = resolve_runtime(Hyperparams())
    assert cpu == {"device": "cpu", "precision": "fp32", "attn_implementation": "sdpa",
                   "deepspeed_config": None, "world_size": 1}  # fmt: skip


def test_cpu_ranks_without_deepspeed_fail_before_launching(tmp_path):
    import argparse
    import importlib.util

    from dart.errors import DartError
    from dart.train import cli as train_cli

    if importlib.util.find_spec("deepspeed") is not None:
        pytest.skip("DeepSpeed is installed here; this checks the message where it is not")
    parser = argparse.ArgumentParser()
    train_cli.add_arguments(parser)
    args = parser.parse_args(["--dataset", str(tmp_path / "d.parquet"), "--base", str(tmp_path),
                              "--hyperparams-json", '{"ranks": 2, "global_batch": 2}',
                              "-o", str(tmp_path / "out")])  # fmt: skip
    with pytest.raises(DartError, match="ranks=2 runs DeepSpeed on CPU.*make deepspeed-env"):
        train_cli.run(args)
    assert not (tmp_path / "out.work").exists()
