"""The GPU path: torchrun over one GPU, DeepSpeed ZeRO-3, consolidated weights on save."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.train.conftest import write_dataset

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
    pytest.mark.skipif(
        importlib.util.find_spec("deepspeed") is None, reason="needs DeepSpeed (the 'gpu' extra)"
    ),
]


def test_zero3_one_gpu_fine_tune_loads_back(tiny_base, tmp_path, dart_env):
    from dart.engines import get_engine

    dataset = write_dataset(tmp_path / "uniform.parquet", n=16)
    out = tmp_path / "tiny--uniform"
    hp = {"gpus": 1, "epochs": 1, "max_length": 512, "global_batch": 2, "save_steps": 4}
    proc = subprocess.run(
        [sys.executable, "-m", "dart.cli", "train", "--dataset", str(dataset), "--base",
         str(tiny_base), "--hyperparams-json", json.dumps(hp), "-o", str(out)],
        env=dart_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    training = json.loads((out / "training.json").read_text())
    assert training["runtime"]["deepspeed_config"].endswith("zero3.json")
    assert (
        json.loads((out / "trainer_state.json").read_text())["global_step"]
        == training["plan"]["total_steps"]
    )
    engine = get_engine("transformers", str(out), threads=1)
    assert engine.describe()["model_type"] == "llama"
