"""``engine: openai`` against a real server: vLLM's OpenAI server on 127.0.0.1.

The test starts ``python -m vllm.entrypoints.openai.api_server`` (``vllm serve`` fails in
the CPU build, DESIGN.md section 14) with an API key, and runs ``dart generate`` with the
pool rule's arguments on a 16-trial shard: once straight, then again with the server
SIGKILLed once the shard has a finished chunk. That run stops with exit status 2 after
its retries, keeping its finished chunks; the server is restarted and the rerun
completes with every trial exactly once. The key never appears in a record or a log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polars as pl
import pytest
from vllm_setup import NEEDS_VLLM

from dart.lineage.records import parts_dir, read_record
from dart.pool.ids import sample_id, trial_seed

pytestmark = NEEDS_VLLM
KEY = "sk-dart-test-4f1c9e"
SAMPLING = {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 40}
QUERIES = ["What is 2 + 3?", "What is 7 times 6?", "What is 10 - 4?", "What is half of 18?"]
TRIALS = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """vLLM's OpenAI-compatible server in its own session (so that it can be SIGKILLed whole)."""

    def __init__(self, model: Path, port: int, env: dict, log: Path) -> None:
        self.model, self.port, self.env, self.log = model, port, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
            "--host", "127.0.0.1", "--port", str(self.port), "--served-model-name", "smol",
            "--api-key", KEY, "--dtype", "float32", "--enforce-eager",
            "--no-enable-chunked-prefill", "--distributed-executor-backend", "uni",
            "--max-model-len", "2048", "--disable-log-stats",
        ]  # fmt: skip
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log,
                                         start_new_session=True)  # fmt: skip
        deadline = time.time() + 600
        while time.time() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-4000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=5):
                    return
            except OSError:
                time.sleep(1)
        raise AssertionError("the vLLM server did not become healthy in 600 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openai")
    qids = [f"q{i}" for i in range(len(QUERIES))]
    pl.DataFrame({"query_id": qids, "query": QUERIES}).write_parquet(folder / "queries.parquet")
    plan = pl.DataFrame([
        {"query_id": q, "trial": t, "sample_id": sample_id(q, t), "seed": trial_seed(5, q, t),
         "round": 0, "shard": 0, "gold": "0", "level": 1, "kind": "arithmetic"}
        for q in qids for t in range(TRIALS)
    ])  # fmt: skip
    plan.write_parquet(folder / "plan.parquet")
    return folder


@pytest.fixture(scope="module")
def server(smollm2_folder, vllm_env, shard):
    env = {k: v for k, v in vllm_env.items() if k != "DART_OPENAI_KEY"}
    found = Server(smollm2_folder, _free_port(), env, shard / "server.log")
    found.start()
    yield found
    found.kill()


def _generate(shard: Path, model: Path, server: Server, env: dict, out: str, **popen):
    options = {"base_url": f"http://127.0.0.1:{server.port}/v1", "api_key_env": "DART_OPENAI_KEY",
               "concurrency": 4, "max_retries": 1, "backoff": 0.5, "timeout": 120}  # fmt: skip
    cmd = [
        sys.executable, "-m", "dart.cli", "--rule", "generate", "generate",
        "--plan", str(shard / "plan.parquet"), "--shard", "0",
        "--queries", str(shard / "queries.parquet"), "--engine", "openai", "--model", str(model),
        "--template", "few-shot", "--sampling-json", json.dumps(SAMPLING, sort_keys=True),
        "--engine-options-json", json.dumps(options, sort_keys=True), "--chunk-size", "4",
        "--threads", "1", "--gpus", "0", "-o", str(shard / out),
    ]  # fmt: skip
    log = (shard / f"{out}.log").open("a")
    return subprocess.Popen(cmd, cwd=shard, env={**env, "DART_OPENAI_KEY": KEY}, stdout=log,
                            stderr=subprocess.STDOUT, **popen)  # fmt: skip


def test_server_killed_mid_shard_then_rerun(shard, server, smollm2_folder, vllm_env):
    straight = _generate(shard, smollm2_folder, server, vllm_env, "straight.parquet")
    assert straight.wait(timeout=600) == 0, (shard / "straight.parquet.log").read_text()[-4000:]
    first = pl.read_parquet(shard / "straight.parquet")
    assert first.height == len(QUERIES) * TRIALS and first["response"].str.len_chars().min() >= 0
    record = read_record(shard / "straight.parquet")
    model = record["model"]
    assert model["engine"] == "openai" and model["served_model"] == "smol"
    assert model["server_version"] == "0.32.0" and model["server_model"]["root"] == str(
        smollm2_folder
    )

    child = _generate(shard, smollm2_folder, server, vllm_env, "resumed.parquet")
    parts = parts_dir(shard / "resumed.parquet")
    deadline = time.time() + 600
    while time.time() < deadline and child.poll() is None and not list(parts.glob("part-*")):
        time.sleep(0.02)
    server.kill()  # mid-shard: the client's retries run out and it stops
    assert child.wait(timeout=300) == 2, "the run finished before the server was killed"
    kept = sorted(p.name for p in parts.glob("part-*.parquet"))
    assert 1 <= len(kept) < 4 and not (shard / "resumed.parquet").exists()
    assert "gave up after 2 attempt(s)" in (shard / "resumed.parquet.log").read_text()

    server.start()
    rerun = _generate(shard, smollm2_folder, server, vllm_env, "resumed.parquet")
    assert rerun.wait(timeout=600) == 0, (shard / "resumed.parquet.log").read_text()[-4000:]
    resumed = pl.read_parquet(shard / "resumed.parquet")
    timing = read_record(shard / "resumed.parquet")["extra"]["timing"]
    assert timing["chunks_reused"] == len(kept)
    # No trial lost or duplicated, each with its own seed.
    assert resumed["sample_id"].to_list() == first["sample_id"].to_list()
    assert resumed["seed"].to_list() == first["seed"].to_list()
    assert resumed["sample_id"].n_unique() == resumed.height
    assert not resumed["response"].str.contains("User:|Assistant:").any()
    same = int((resumed["response"] == first["response"]).sum())
    print(f"openai engine: {same}/{resumed.height} responses equal across the two runs")
    # The key went to the server (which refuses requests without it) and nowhere else.
    for path in shard.glob("*"):
        if path.is_file() and path.name != "server.log":
            assert KEY.encode() not in path.read_bytes(), path
