"""GPU check: the production path on a machine with CUDA, in one short run.

    bash bench/gpu_check.sh                         # 1 GPU, the machine's python3
    bash bench/gpu_check.sh --gpus 2 --wheels wheels --out gpu_check.json
    bash bench/gpu_check.sh --rehearse              # on CPU: the same steps, tiny, gpus: 0

Parts, each skipped with a line saying why where the machine lacks what it needs:

1. vLLM, where importable: a pool round's requests (queries x n seeded samples, the
   synth template and the paper's sampling) and greedy evaluation generation through
   dart's ``vllm`` engine; real (generated) tok/s of each.
2. DeepSpeed ZeRO-3 fine-tunes through ``dart train`` with ``gpus: N``: the same samples
   packed (flash-attention 2's variable-length kernels when ``flash_attn`` is importable,
   else sdpa with per-sample position ids) and padded; real (non-padding) tok/s of each,
   packed/padded ratio, peak GPU memory of rank 0.

Without a CUDA device it prints one line saying it skipped and exits 0. The model is a
random-weight Llama of SmolLM2-135M's shape (``--shape``) with dart's character tokenizer:
speed and memory depend on the shape, not the weights, and the lent machine has no
network to fetch a real one (``--model FOLDER`` takes one that is there).

It imports only what the lent GPU machine has (DESIGN.md 13: torch, transformers,
accelerate, safetensors, tokenizers, pyarrow, numpy, matplotlib) and the ``dart`` modules
that training and the engines need (not polars, snakemake or the whole CLI's stack);
DeepSpeed and its requirements (hjson, pydantic, ...) come from carried wheels
(``--wheels``, made by ``make gpu-wheels``), installed into a temporary folder on
``PYTHONPATH``, never into the machine's Python.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # dart is not installed on the lent machine: run from the tree

#: Random-weight model shapes (the real models' configs; weights do not change speed).
SHAPES = {
    "tiny": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, vocab_size=128),
    "smollm2-135m": dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                         num_attention_heads=9, num_key_value_heads=3, vocab_size=49152),
    "smollm2-1.7b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=24,
                         num_attention_heads=32, num_key_value_heads=32, vocab_size=49152),
}  # fmt: skip


def say(message: str) -> None:
    print(f"gpu_check: {message}", flush=True)


def cuda_devices() -> int:
    """Visible CUDA devices; 0 without torch or CUDA."""
    if importlib.util.find_spec("torch") is None:
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def deepspeed_from_wheels(wheels: Path | None, target: Path) -> str | None:
    """DeepSpeed's version, installing the carried wheels into ``target`` if it is missing."""
    if importlib.util.find_spec("deepspeed") is None:
        found = sorted(glob.glob(str(wheels / "*.whl"))) if wheels else []
        if not any(Path(w).name.startswith("deepspeed-") for w in found):
            return None
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
             "--target", str(target), *found],
            check=True,
        )  # fmt: skip
        sys.path.insert(0, str(target))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(target), os.environ.get("PYTHONPATH", "")) if p
        )
        importlib.invalidate_caches()
    began = time.perf_counter()
    import deepspeed

    say(f"deepspeed {deepspeed.__version__} imported in {time.perf_counter() - began:.1f} s")
    return deepspeed.__version__


def build_tokenizer(vocab_size: int):
    """dart's character tokenizer (dart.engines.tiny) with its vocabulary filled to
    ``vocab_size`` by placeholder words that text never encodes to, so that every id a
    random model can emit decodes."""
    import string

    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from dart.engines.tiny import CHAT_TEMPLATE, SPECIALS

    words = [*SPECIALS, *sorted(set(string.printable) - set("\x0b\x0c\r"))]
    words += [f"<x{i}>" for i in range(vocab_size - len(words))]
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>",
                                        pad_token="<pad>", bos_token="<s>", eos_token="</s>")  # fmt: skip
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(path: Path, shape: str) -> Path:
    """A random Llama of ``shape`` with a character tokenizer, saved as a HF folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(SHAPES[shape]["vocab_size"])
    config = LlamaConfig(
        **SHAPES[shape], max_position_embeddings=8192, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def write_rows(path: Path, rows: int, max_chars: int, seed: int = 0) -> Path:
    """A dataset parquet of ``rows`` arithmetic (query, response) pairs of varied length."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(seed)
    queries, responses = [], []
    for _ in range(rows):
        a, b = rng.randint(1, 999), rng.randint(1, 999)
        queries.append(f"What is {a} + {b}?")
        filler = "We add the numbers carefully. " * rng.randint(1, max(1, max_chars // 30))
        responses.append(f"{filler[:max_chars]} The answer is \\boxed{{{a + b}}}.")
    pq.write_table(pa.table({"query": queries, "response": responses}), path)
    return path


def fine_tune(model: Path, dataset: Path, out: Path, hp: dict, threads: int) -> dict:
    """One ``dart train`` run (its own torchrun for GPUs); the figures from its training.json."""
    argv = [sys.executable, "-m", "dart.cli", "train", "--dataset", str(dataset),
            "--base", str(model), "--hyperparams-json", json.dumps(hp), "--seed", "1",
            "--threads", str(threads), "-o", str(out)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}  # fmt: skip
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"dart train failed (exit {proc.returncode}):\n{tail}")
    training = json.loads((out / "training.json").read_text())
    result, plan, runtime = training["result"], training["plan"], training["runtime"]
    return {
        "packing": hp["packing"], "attn": runtime["attn_implementation"],
        "precision": runtime["precision"], "deepspeed": bool(runtime["deepspeed_config"]),
        "world_size": runtime.get("world_size"), "samples": plan["samples"],
        "tokens": plan["tokens"], "steps": plan["total_steps"],
        "train_s": result["train_seconds"], "tok_s": result["tokens_per_s"],
        "peak_gpu_mb": result.get("peak_gpu_mb"), "peak_rss_mb": result.get("peak_rss_mb"),
        "wall_s": round(time.perf_counter() - began, 1),
    }  # fmt: skip


def training_part(model: Path, work: Path, args, gpus: int) -> dict:
    dataset = write_rows(work / "rows.parquet", args.rows, args.max_length - 120)
    micro = args.micro_batch
    common = {"gpus": gpus, "epochs": 1, "max_length": args.max_length, "batch_unit": "samples",
              "micro_batch": micro, "global_batch": micro * max(gpus, 1), "save_steps": 10**6,
              "learning_rate": 1e-4, "warmup_ratio": 0.0}  # fmt: skip
    runs = {}
    for name, packing in (("packed", True), ("padded", False)):
        runs[name] = fine_tune(model, dataset, work / name, {**common, "packing": packing},
                               args.threads)  # fmt: skip
        say(f"fine-tune {name}: {json.dumps(runs[name])}")
    runs["packed_over_padded"] = round(runs["packed"]["tok_s"] / runs["padded"]["tok_s"], 3)
    say(f"packed / padded real tok/s: {runs['packed_over_padded']}x")
    return runs


def bench_engine(engine_name: str, model: Path, queries: int, n: int, max_new: int,
                 **options) -> dict:  # fmt: skip
    """A pool round's requests (seeded samples) and greedy evaluation on one engine; tok/s."""
    from dart.engines import get_engine
    from dart.engines.base import Request, SamplingParams
    from dart.prompts import get_template

    engine = get_engine(engine_name, str(model), **options)
    template = get_template("alpaca")
    prompts = [template.render(f"What is {i} + {2 * i + 1}?", engine.tokenizer)
               for i in range(queries)]  # fmt: skip
    sampling = SamplingParams(1.0, top_p=0.95, max_new_tokens=max_new)
    greedy = SamplingParams(0.0, max_new_tokens=max_new)
    figures = {}
    for name, params, requests in (
        ("pool_round", sampling, [Request(f"q{i}-{t}", p, 1000 * i + t)
                                  for i, p in enumerate(prompts) for t in range(n)]),
        ("evaluation", greedy, [Request(f"q{i}", p, 0) for i, p in enumerate(prompts)]),
    ):  # fmt: skip
        began = time.perf_counter()
        done = engine.generate(requests, params)
        seconds = time.perf_counter() - began
        tokens = sum(c.completion_tokens for c in done)
        figures[name] = {"requests": len(done), "tokens": tokens, "seconds": round(seconds, 2),
                         "tok_s": round(tokens / seconds, 1)}  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gpus", type=int, default=None, help="default: every visible GPU, max 2")
    parser.add_argument("--shape", choices=SHAPES, default="smollm2-135m")
    parser.add_argument("--model", type=Path, help="a HF model folder instead of a random one")
    parser.add_argument("--rows", type=int, default=256, help="fine-tuning samples")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--wheels", type=Path, default=ROOT / "wheels", help="carried wheels")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--rehearse", action="store_true",
                        help="on CPU: the same steps at a tiny size with gpus: 0 (checks the script)")  # fmt: skip
    args = parser.parse_args(argv)

    visible = cuda_devices()
    if not visible and not args.rehearse:
        say("no CUDA device visible (or no torch); skipped")
        return 0
    gpus = 0 if args.rehearse else min(args.gpus or min(visible, 2), visible)
    figures: dict = {"gpus": gpus}
    import torch
    import transformers

    figures["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                           "cuda": torch.version.cuda}  # fmt: skip
    if gpus:
        figures["device"] = torch.cuda.get_device_name(0)
    figures["flash_attn"] = importlib.util.find_spec("flash_attn") is not None
    say(json.dumps(figures))
    with tempfile.TemporaryDirectory(prefix="gpu_check-") as tmp:
        work = Path(tmp)
        if args.rehearse:
            args.shape, args.rows, args.max_length, args.micro_batch = "tiny", 8, 256, 2
        model = args.model or build_model(work / "model", args.shape)
        if args.rehearse:  # the vllm part's code, on the engine that is here
            figures["engine_rehearsal"] = bench_engine("transformers", model, 4, 2, 16, threads=1)
            say(f"transformers engine (rehearsal): {json.dumps(figures['engine_rehearsal'])}")
        if importlib.util.find_spec("vllm") is None:
            say("vllm not installed: pool round and evaluation with vllm skipped")
        else:
            figures["vllm"] = bench_engine("vllm", model, 32, 4, 256, gpus=1, dtype="bfloat16")
            say(f"vllm: {json.dumps(figures['vllm'])}")
        if gpus:
            if deepspeed_from_wheels(args.wheels, work / "site") is None:
                say(f"deepspeed neither installed nor carried in {args.wheels}: ZeRO-3 skipped")
            else:
                figures["train"] = training_part(model, work, args, gpus)
        else:
            figures["train"] = training_part(model, work, args, 0)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
