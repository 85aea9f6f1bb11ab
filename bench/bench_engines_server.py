"""The same sampling requests through three engines in one run: real generated tok/s.

``openai`` (vLLM's OpenAI server, started here on 127.0.0.1), ``vllm`` (in-process
``vllm.LLM``) and ``transformers`` (our decode loop), one after the other so that they
never share the CPU. Every engine gets the same prompts, seeds and sampling settings;
the figure is completion tokens (real, no padding) over the seconds of ``generate()``,
start-up excluded (reported beside it). Run with the vllm virtualenv's Python:

    make install-vllm
    VLLM_CPU_KVCACHE_SPACE=2 .venv-vllm/bin/python bench/bench_engines_server.py \\
        --model /tmp/smollm2 --prompts 32 --n 4 --max-new-tokens 128
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

VLLM_OPTIONS = {"dtype": "float32", "enforce_eager": True, "enable_chunked_prefill": False}


def _requests(prompts: int, n: int, template_name: str, tokenizer):
    from dart.engines.base import Request
    from dart.pool.ids import trial_seed
    from dart.prompts import get_template
    from dart.queries.generator import generate as generate_queries

    template = get_template(template_name)
    rows = list(generate_queries(7, prompts))
    return [
        Request(f"{row['source_id']}-{t}", template.render(row["query"], tokenizer),
                trial_seed(1, row["source_id"], t))
        for row in rows for t in range(n)
    ]  # fmt: skip


def _measure(name: str, build, requests, params) -> dict:
    start = time.perf_counter()
    engine = build()
    ready = time.perf_counter()
    done = engine.generate(requests, params)
    seconds = time.perf_counter() - ready
    tokens = sum(c.completion_tokens for c in done)
    result = {
        "engine": name,
        "startup_s": round(ready - start, 1),
        "generate_s": round(seconds, 1),
        "completion_tokens": tokens,
        "tok_per_s": round(tokens / seconds, 1),
        "stopped": sum(c.finish_reason == "stop" for c in done),
    }
    print(json.dumps(result), flush=True)
    return {"result": result, "texts": [c.text for c in done], "engine": engine}


def _server(model: str, port: int, log) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model,
        "--host", "127.0.0.1", "--port", str(port), "--served-model-name", "bench",
        "--dtype", "float32", "--enforce-eager", "--no-enable-chunked-prefill",
        "--disable-log-stats",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
    deadline = time.time() + 900
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the vLLM server exited; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                return proc
        except OSError:
            time.sleep(1)
    raise SystemExit("the vLLM server did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder (dart model ...)")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--n", type=int, default=4, help="trials per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--template", default="dart-synth")
    parser.add_argument("--concurrency", type=int, default=32, help="openai engine requests")
    parser.add_argument("--threads", type=int, default=2, help="transformers engine threads")
    parser.add_argument("--server-log", default="/tmp/bench-vllm-server.log")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from dart.engines import get_engine
    from dart.engines.base import SamplingParams
    from dart.prompts import get_template

    stop = get_template(args.template).stop
    params = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=args.max_new_tokens,
                            stop=stop)  # fmt: skip
    requests = _requests(args.prompts, args.n, args.template,
                         AutoTokenizer.from_pretrained(args.model))  # fmt: skip
    print(json.dumps({"requests": len(requests), "params": params.to_dict(),
                      "cpus": os.cpu_count()}), flush=True)  # fmt: skip
    runs = []

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(args.server_log, "w") as log:
        started = time.perf_counter()
        server = _server(args.model, port, log)
        up = round(time.perf_counter() - started, 1)
        try:
            run = _measure("openai (vLLM server)", lambda: get_engine(
                "openai", args.model, base_url=f"http://127.0.0.1:{port}/v1",
                concurrency=args.concurrency), requests, params)  # fmt: skip
            run["result"]["server_startup_s"] = up
            runs.append(run)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait()

    run = _measure("vllm (in-process)", lambda: get_engine("vllm", args.model, **VLLM_OPTIONS),
                   requests, params)  # fmt: skip
    runs.append(run)
    run["engine"].llm.llm_engine.engine_core.shutdown()
    del run["engine"]

    runs.append(_measure("transformers", lambda: get_engine(
        "transformers", args.model, threads=args.threads, batch_size=64), requests, params))  # fmt: skip

    server_texts, vllm_texts = runs[0]["texts"], runs[1]["texts"]
    same = sum(a == b for a, b in zip(server_texts, vllm_texts, strict=True))
    print(json.dumps({"server_equals_in_process": f"{same}/{len(requests)}",
                      "results": [r["result"] for r in runs]}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
