"""Benchmark the ``transformers`` engine against plain batched ``model.generate``.

Two measurements on the embedded SmolLM2 folder (build it with ``dart model`` or as
in bench/RESULTS.md):

* ``templates``: how many responses hold ``\\boxed{}`` per prompt template, on
  generated arithmetic/algebra questions at temperature 1.0;
* ``speed``: real (non-padding) generated tokens/s of the engine beside plain
  batched ``model.generate`` (batch 64, left padding) on the same prompts, same
  sampling parameters, in the same process; peak RSS.

    python bench/bench_engine.py templates --model /tmp/smollm2-hf --n 30
    python bench/bench_engine.py speed --model /tmp/smollm2-hf --n 128 --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch

from dart.engines import get_engine
from dart.engines.base import Request, SamplingParams
from dart.prompts import TEMPLATES, get_template
from dart.queries.generator import generate as generate_queries


def _questions(n: int, seed: int = 7) -> list[str]:
    return [row["query"] for row in generate_queries(seed, n)]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_templates(args) -> dict:
    engine = get_engine("transformers", args.model, threads=args.threads, batch_size=args.batch)
    questions = _questions(args.n)
    names = args.templates or list(TEMPLATES)
    requests, owners = [], []
    for name in names:
        template = get_template(name)
        for i, q in enumerate(questions):
            prompt = template.render(q, engine.tokenizer)
            requests.append(Request(f"{name}/{i}", prompt, 1000 + i))
            owners.append(name)
    params = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=args.max_new_tokens)
    start = time.perf_counter()
    stops = {n: get_template(n).stop for n in names}
    done = []
    for name in names:  # each template with its own stop strings
        chunk = [r for r, o in zip(requests, owners, strict=True) if o == name]
        done += engine.generate(chunk, params.with_stop(stops[name]))
    seconds = time.perf_counter() - start
    rows = {}
    for name in names:
        mine = [c for c in done if c.request_id.startswith(name + "/")]
        rows[name] = {
            "boxed": sum("\\boxed{" in c.text for c in mine),
            "n": len(mine),
            "length_cut": sum(c.finish_reason == "length" for c in mine),
            "mean_tokens": round(sum(c.completion_tokens for c in mine) / len(mine), 1),
        }
    return {"templates": rows, "seconds": round(seconds, 1), "params": params.to_dict()}


def _plain_generate(model, tokenizer, prompts, params, batch: int) -> tuple[int, int, float]:
    """Real and total generated tokens and seconds of plain batched ``generate``.

    It stops each row at EOS or at the template's stop strings (``stop_strings``), as the
    engine does; a finished row is padded until the longest row of its batch ends. Real
    tokens are those up to and including the one that ended the row.
    """
    tokenizer.padding_side = "left"
    eos = set(_eos(model, tokenizer)) | {tokenizer.pad_token_id}
    real = total = 0
    torch.manual_seed(0)
    start = time.perf_counter()
    for i in range(0, len(prompts), batch):
        enc = tokenizer(prompts[i : i + batch], return_tensors="pt", padding=True)
        out = model.generate(
            **enc,
            do_sample=True,
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=0,
            max_new_tokens=params.max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            stop_strings=list(params.stop) or None,
            tokenizer=tokenizer,
        )
        new = out[:, enc["input_ids"].shape[1] :]
        total += new.numel()
        for row in new.tolist():
            ends = [j for j, tok in enumerate(row) if tok in eos]
            real += ends[0] + 1 if ends else len(row)
    return real, total, time.perf_counter() - start


def _eos(model, tokenizer) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    return ids + [tokenizer.eos_token_id]


def bench_speed(args) -> dict:
    engine = get_engine("transformers", args.model, threads=args.threads, batch_size=args.batch)
    template = get_template(args.template)
    prompts = [template.render(q, engine.tokenizer) for q in _questions(args.n)]
    params = SamplingParams(
        temperature=1.0, top_p=0.95, max_new_tokens=args.max_new_tokens, stop=template.stop
    )
    requests = [Request(f"r{i}", p, 1000 + i) for i, p in enumerate(prompts)]
    result: dict = {"threads": torch.get_num_threads(), "n": args.n, "params": params.to_dict()}
    with torch.inference_mode():
        start = time.perf_counter()
        done = []
        for i in range(0, len(requests), args.chunk):
            done += engine.generate(requests[i : i + args.chunk], params)
        seconds = time.perf_counter() - start
    real = sum(c.completion_tokens for c in done)
    result["engine"] = {
        "batch_slots": args.batch,
        "chunk": args.chunk,
        "real_tokens": real,
        "seconds": round(seconds, 1),
        "real_tok_s": round(real / seconds, 1),
        "boxed": sum("\\boxed{" in c.text for c in done),
    }
    result["rss_after_engine_mb"] = round(_peak_rss_mb())
    if not args.skip_plain:
        with torch.inference_mode():
            real, total, seconds = _plain_generate(
                engine.model, engine.tokenizer, prompts, params, args.plain_batch
            )
        result["plain_generate"] = {
            "batch": args.plain_batch,
            "real_tokens": real,
            "padded_tokens": total,
            "seconds": round(seconds, 1),
            "real_tok_s": round(real / seconds, 1),
        }
        result["ratio"] = round(result["engine"]["real_tok_s"] / (real / seconds), 2)
    result["peak_rss_mb"] = round(_peak_rss_mb())
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["templates", "speed"])
    parser.add_argument("--model", default="/tmp/smollm2-hf")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64, help="engine batch slots")
    parser.add_argument("--chunk", type=int, default=256, help="requests per generate() call")
    parser.add_argument("--plain-batch", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--template", default="chat")
    parser.add_argument("--templates", nargs="*")
    parser.add_argument("--skip-plain", action="store_true")
    args = parser.parse_args()
    result = bench_templates(args) if args.what == "templates" else bench_speed(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
