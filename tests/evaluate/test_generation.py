"""Evaluation generation and scoring end to end on tiny random models; resume; SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from dart.engines import get_engine
from dart.errors import DartError
from dart.evaluate.benchmarks import load_benchmark
from dart.evaluate.commands import _joined
from dart.evaluate.generation import generate_responses, resolve_template
from dart.lineage.records import parts_dir, write_parquet_atomic
from dart.prompts import get_template

RESULT_KEYS = {
    "benchmark", "benchmark_type", "model", "n", "n_correct", "accuracy", "stderr", "wilson95",
    "by_level", "by_subject", "by_answer_type", "reasons", "mean_completion_tokens",
    "engine_seconds", "weights_sha256", "template", "grader_version", "benchmark_sha256",
    "published_size", "size_warning", "scoring_options", "created",
}  # fmt: skip
ITEM_KEYS = {"item_id", "question", "gold", "response", "extracted", "verdict", "reason"}


def test_templates_follow_the_benchmark_and_design():
    assert resolve_template("base-few-shot", "theoremqa").name == "base-few-shot-5"
    assert resolve_template("base-few-shot", "gsm8k").name == "base-few-shot"
    assert resolve_template("alpaca", "theoremqa").name == "alpaca"
    five = get_template("base-few-shot-5").render("Q?")
    assert five.count("The answer is ") == 5 and five.endswith("User: Q?\n\nAssistant:")
    assert get_template("base-few-shot").render("Q?").count("\nAssistant: ") == 4
    assert get_template("alpaca").stop == ("### Instruction:", "### Response:")


@pytest.mark.slow
def test_generate_then_score_through_the_cli(tmp_path, run_dart, boxing_model):
    run_dart("benchmark", "generated", "1007", "--n", "10", "-o", "b/gen.parquet", check=True)
    run_dart(
        "evaluate", "generate", "--benchmark", "b/gen.parquet", "--model", str(boxing_model),
        "--template", "base-few-shot", "--max-new-tokens", "24", "--threads", "1",
        "--batch-size", "4", "--chunk-size", "4", "-o", "r/m/gen.gen.parquet", check=True,
    )  # fmt: skip
    gen = pl.read_parquet(tmp_path / "r/m/gen.gen.parquet")
    assert gen.height == 10 and set(gen["template"]) == {"base-few-shot"}
    assert not parts_dir(tmp_path / "r/m/gen.gen.parquet").exists()
    record = json.loads((tmp_path / "r/m/gen.gen.parquet.prov.json").read_text())
    assert record["params"]["sampling"]["temperature"] == 0.0
    assert record["model"]["weights_sha256"] and record["extra"]["timing"]["engine_seconds"] > 0
    run_dart(
        "evaluate", "score", "--generations", "r/m/gen.gen.parquet", "--benchmark",
        "b/gen.parquet", "--benchmark-name", "gen", "--model-name", "m", "--workers", "1",
        "-o", "r/m/gen.json", "--items", "r/m/gen.items.jsonl", check=True,
    )  # fmt: skip
    result = json.loads((tmp_path / "r/m/gen.json").read_text())
    assert set(result) >= RESULT_KEYS
    assert (result["benchmark"], result["model"], result["n"]) == ("gen", "m", 10)
    assert result["accuracy"] == result["n_correct"] / 10 and sum(result["reasons"].values()) == 10
    assert result["weights_sha256"] == record["model"]["weights_sha256"]
    assert result["template"] == {"name": "base-few-shot", "version": "1"}
    assert sorted(result["by_level"]) == ["1", "2", "3", "4", "5"]
    items = [
        json.loads(line) for line in (tmp_path / "r/m/gen.items.jsonl").read_text().splitlines()
    ]
    assert len(items) == 10 and all(set(i) >= ITEM_KEYS for i in items)
    assert sum(i["verdict"] == "correct" for i in items) == result["n_correct"]
    assert (tmp_path / "r/m/gen.json.prov.json").exists()
    assert (tmp_path / "r/m/gen.items.jsonl.prov.json").exists()


class _StopAfter:
    """A real engine that raises after ``calls`` generate() calls (a crash mid-run)."""

    def __init__(self, engine, calls: int) -> None:
        self.engine, self.calls = engine, calls
        self.tokenizer = engine.tokenizer

    def __getattr__(self, name):  # everything else (describe, engine_seconds...) is the engine's
        return getattr(self.engine, name)

    def generate(self, requests, params, progress=None):
        if self.calls == 0:
            raise KeyboardInterrupt
        self.calls -= 1
        return self.engine.generate(requests, params, progress)


@pytest.mark.slow
def test_a_stopped_run_resumes_from_its_chunks(tmp_path, boxing_model):
    items, _ = load_benchmark("word-problems", "5", n=9)
    engine = get_engine("transformers", str(boxing_model), threads=1, batch_size=4)
    template = get_template("alpaca")
    whole = generate_responses(items, engine, template, 16, tmp_path / "a.parquet", chunk_size=3)
    out = tmp_path / "b.parquet"
    with pytest.raises(KeyboardInterrupt):
        generate_responses(items, _StopAfter(engine, 2), template, 16, out, chunk_size=3)
    assert not out.exists() and len(list(parts_dir(out).glob("part-*.parquet"))) == 2
    resumed = generate_responses(items, engine, template, 16, out, chunk_size=3)
    assert resumed["chunks_reused"] == 2 and whole["chunks_reused"] == 0
    assert pl.read_parquet(out).equals(pl.read_parquet(tmp_path / "a.parquet"))
    assert resumed["engine_seconds"] > 0 and resumed["rows"] == 9


def test_scoring_refuses_responses_that_do_not_match_the_benchmark(tmp_path):
    items, _ = load_benchmark("generated", "3", n=4)
    gen = pl.DataFrame({"item_id": items["item_id"][:3], "response": ["x"] * 3,
                        "finish_reason": ["stop"] * 3})  # fmt: skip
    with pytest.raises(DartError, match="1 item\\(s\\) without a response"):
        _joined(items, gen, "g.parquet")
    twice = pl.concat([gen, gen.head(1)])
    with pytest.raises(DartError, match="several responses"):
        _joined(items, twice, "g.parquet")


@pytest.mark.slow
def test_sigterm_stops_generation_cleanly(tmp_path, dart_env, boxing_model):
    items, _ = load_benchmark("word-problems", "5", n=200)  # far more than finish in 1 s
    write_parquet_atomic(items, tmp_path / "b.parquet")
    out = tmp_path / "r.gen.parquet"
    cmd = [sys.executable, "-m", "dart.cli", "evaluate", "generate", "--benchmark",
           str(tmp_path / "b.parquet"), "--model", str(boxing_model), "--template", "alpaca",
           "--max-new-tokens", "400", "--threads", "1", "--batch-size", "2", "--chunk-size", "2",
           "-o", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=dart_env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(parts_dir(out).glob("part-*.parquet")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 20  # measured 3.1 s (bench/RESULTS.md): 5x and more
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "stopped by SIGTERM" in stderr
    assert not out.exists() and list(parts_dir(out).glob("part-*.parquet"))


def test_engine_options_from_flags_and_json():
    import argparse

    from dart.evaluate.commands import engine_options

    def args(engine, extra="{}"):
        return argparse.Namespace(engine=engine, gpus=2, threads=3, batch_size=8,
                                  revision=None, engine_options_json=extra)  # fmt: skip

    assert engine_options(args("transformers")) == {
        "threads": 3, "batch_size": 8, "revision": None,
    }  # fmt: skip
    assert engine_options(args("vllm", '{"tensor_parallel_size": 4}'))["gpus"] == 4
    assert engine_options(args("transformers", '{"batch_size": 16}'))["batch_size"] == 16
    with pytest.raises(DartError, match="--engine-options-json"):
        engine_options(args("vllm", "[1]"))
