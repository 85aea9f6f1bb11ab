"""Benchmark CPU fine-tuning: packed rows against padded batches of the same samples.

On the embedded SmolLM2 folder (``dart model embedded:smollm2 -o /tmp/smollm2-hf``) and
synthetic rows shaped like the embedded datasets (short arithmetic queries under the
Alpaca prompt, responses of 30-192 tokens, the embedded sampler's limit):

* ``throughput``: real (non-padding) tokens/s of forward + backward + AdamW step with
  packed rows (one row of up to ``--max-length`` tokens per step, no attention mask) and
  with padded batches of the same samples (each batch as many samples as a packed row
  holds on average, in a shuffled order as the Trainer's sampler gives), in the same
  process, steps alternating so both see the same machine load; the padded batches'
  share of padding tokens;
* ``finetune``: a real ``dart train`` of SmolLM2 on such a dataset, as a subprocess:
  wall time, tokens/s and peak RSS from its provenance record.

    python bench/bench_train.py throughput --model /tmp/smollm2-hf --n 48 --threads 2
    python bench/bench_train.py finetune --model /tmp/smollm2-hf --n 40 --max-length 256 --global-batch 8
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from dart.prompts import get_template
from dart.train.data import PackedCollator, PaddedCollator, Sample, make_rows, tokenize_pair

WORDS = [
    "so",
    "we",
    "add",
    "the",
    "two",
    "numbers",
    "and",
    "then",
    "we",
    "carry",
    "the",
    "one",
    "to",
    "get",
    "the",
    "sum",
    "of",
]


def synthetic_rows(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """(query, response) pairs; response lengths uniform in about 30-192 tokens."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(10, 999), rng.randint(10, 999)
        words = [rng.choice(WORDS) for _ in range(rng.randint(20, 170))]
        rows.append(
            (f"What is {a} + {b}?", f"{' '.join(words)}. The answer is \\boxed{{{a + b}}}.")
        )
    return rows


def tokenised(tokenizer, n: int, max_length: int) -> list[Sample]:
    template = get_template("alpaca")
    samples = [tokenize_pair(tokenizer, template.render(q), r) for q, r in synthetic_rows(n)]
    return [Sample(s.input_ids[:max_length], s.labels[:max_length]) for s in samples]


def _step(model, optimizer, batch) -> float:
    start = time.perf_counter()
    model(**batch).loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def _interleaved(model, optimizer, packed, padded) -> tuple[float, float]:
    """Seconds of all packed and all padded steps, run alternately so both see the same load."""
    t_packed = t_padded = 0.0
    for i in range(max(len(packed), len(padded))):
        if i < len(packed):
            t_packed += _step(model, optimizer, packed[i])
        if i < len(padded):
            t_padded += _step(model, optimizer, padded[i])
    return t_packed, t_padded


def bench_throughput(args) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(
        args.model, dtype=torch.float32, attn_implementation="sdpa"
    )
    model.config.use_cache = False
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    samples = tokenised(tokenizer, args.n, args.max_length)
    rows = make_rows(samples, args.max_length, "packed_rows", seed=0)
    per_row = max(round(len(samples) / len(rows)), 1)
    packed = [PackedCollator()([row]) for row in rows]
    order = list(samples)  # the same samples in a random order, as a shuffling sampler gives
    random.Random(1).shuffle(order)
    padded = [PaddedCollator(tokenizer.pad_token_id)([[s] for s in order[i : i + per_row]])
              for i in range(0, len(order), per_row)]  # fmt: skip
    real = sum(len(s) for s in samples)
    computed = sum(b["input_ids"].numel() for b in padded)
    _step(model, optimizer, packed[0])  # warm-up
    t_packed, t_padded = _interleaved(model, optimizer, packed, padded)
    return {
        "samples": len(samples), "real_tokens": real, "packed_rows": len(rows),
        "padded_batches": len(padded), "samples_per_padded_batch": per_row,
        "padded_computed_tokens": computed, "padding_share": round(1 - real / computed, 3),
        "packed_seconds": round(t_packed, 1), "padded_seconds": round(t_padded, 1),
        "packed_real_tok_s": round(real / t_packed, 1), "padded_real_tok_s": round(real / t_padded, 1),
        "speedup": round(t_padded / t_packed, 2), "threads": args.threads, "max_length": args.max_length,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }  # fmt: skip


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_finetune(args) -> dict:
    import polars as pl

    with tempfile.TemporaryDirectory() as tmp:
        rows = synthetic_rows(args.n, seed=1)
        data = Path(tmp) / "bench.parquet"
        pl.DataFrame(
            {"query": [q for q, _ in rows], "response": [r for _, r in rows]}
        ).write_parquet(data)
        hp = {"max_length": args.max_length, "global_batch": args.global_batch, "save_steps": 1000}
        out = Path(tmp) / "model"
        cmd = [sys.executable, "-m", "dart.cli", "train", "--dataset", str(data), "--base", args.model,
               "--hyperparams-json", json.dumps(hp), "--threads", str(args.threads), "-o", str(out)]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - start
        record = json.loads(Path(f"{out}.prov.json").read_text())
    return {"command_wall_s": round(wall, 1), "hyperparams": hp, "rows": record["rows"],
            **record["extra"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("throughput", "finetune"))
    parser.add_argument("--model", required=True, help="SmolLM2 HF folder")
    parser.add_argument("--n", type=int, default=48, help="samples")
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--global-batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    result = bench_throughput(args) if args.what == "throughput" else bench_finetune(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
