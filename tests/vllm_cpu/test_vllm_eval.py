"""Greedy evaluation generation with ``engine: vllm`` equals the transformers engine's.

The embedded benchmarks of the default config (``heldout``: generated, seed 1007, 20
items; ``words``: word problems, seed 11, 20 items) as one item table, answered by
SmolLM2 in float32 through ``dart evaluate generate`` with the eval rule's arguments,
once with vLLM and once with the transformers engine: the same text, finish reason and
token count on every item.
"""

from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import pytest
from vllm_setup import CPU_OPTIONS, NEEDS_VLLM

from dart.lineage.records import read_record

pytestmark = NEEDS_VLLM
MAX_NEW_TOKENS = 32


def _dart(env, cwd, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "dart.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]


@pytest.fixture(scope="module")
def items(tmp_path_factory, vllm_env):
    folder = tmp_path_factory.mktemp("vllm-eval")
    for kind, seed in (("generated", "1007"), ("word-problems", "11")):
        _dart(vllm_env, folder, "benchmark", kind, seed, "--n", "20", "-o", f"{kind}.parquet")
    both = pl.concat(
        [pl.read_parquet(folder / f"{k}.parquet") for k in ("generated", "word-problems")]
    )
    both.write_parquet(folder / "embedded.parquet")
    return folder / "embedded.parquet"


def _generate(env, items, model, engine: str, options: dict):
    out = items.parent / f"{engine}.gen.parquet"
    _dart(env, items.parent, "--rule", "eval_generate", "evaluate", "generate",
          "--benchmark", str(items), "--model", str(model), "--engine", engine,
          "--template", "base-few-shot", "--max-new-tokens", str(MAX_NEW_TOKENS),
          "--engine-options-json", json.dumps(options, sort_keys=True),
          "--threads", "1", "--gpus", "1" if engine == "vllm" else "0", "-o", str(out))  # fmt: skip
    return pl.read_parquet(out), read_record(out)


def test_vllm_greedy_equals_transformers_greedy(items, smollm2_folder, vllm_env):
    ours, ours_record = _generate(vllm_env, items, smollm2_folder, "transformers",
                                  {"batch_size": 32, "dtype": "float32"})  # fmt: skip
    theirs, record = _generate(vllm_env, items, smollm2_folder, "vllm", CPU_OPTIONS)
    assert record["model"]["engine"] == "vllm" and record["model"]["dtype"] == "float32"
    assert record["params"]["sampling"]["temperature"] == 0.0
    assert ours_record["params"]["sampling"] == record["params"]["sampling"]
    assert theirs["item_id"].to_list() == ours["item_id"].to_list() and theirs.height == 40
    columns = ["item_id", "response", "finish_reason", "completion_tokens"]
    differ = (
        theirs.select(columns)
        .join(ours.select(columns), on="item_id", suffix="_hf")
        .filter(
            (pl.col("response") != pl.col("response_hf"))
            | (pl.col("finish_reason") != pl.col("finish_reason_hf"))
            | (pl.col("completion_tokens") != pl.col("completion_tokens_hf"))
        )
    )
    assert differ.height == 0, differ.to_dicts()
    # Stop strings were cut on both sides: the few-shot turns end at the next "User:".
    assert (theirs["finish_reason"] == "stop").sum() >= 1
    assert not theirs["response"].str.contains("User:").any()
