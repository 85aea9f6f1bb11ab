"""Engine options are checked against their engine when the config or the flag is read."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dart.config import validate
from dart.engines import engine_options
from dart.errors import DartError
from dart.options import ENGINE_OPTIONS, check_options, engine_env, engine_gpus

ROOT = Path(__file__).resolve().parents[2]


def _config(engine: str, options: dict, section: str) -> dict:
    """The default config with one section's engine and options replaced."""
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    spec = cfg["synth"]["smollm2"] if section == "synth" else cfg["eval"]
    spec.update(engine=engine, engine_options=options)
    return cfg


VALID = {
    "transformers": {"batch_size": 8, "dtype": "float32"},
    "vllm": {"enable_chunked_prefill": False, "enforce_eager": True, "tensor_parallel_size": 2},
    "openai": {"base_url": "http://127.0.0.1:8000/v1", "concurrency": 4},
    "simulated": {"pass_rate": {"1": 0.9}, "truncated": 0.1},
}


@pytest.mark.parametrize("section", ["synth", "eval"])
@pytest.mark.parametrize("engine", sorted(ENGINE_OPTIONS))
def test_unknown_option_is_refused_at_parse_time(engine, section):
    if engine == "simulated" and section == "eval":
        pytest.skip("the simulated engine serves pools only (eval.engine does not offer it)")
    validate(_config(engine, VALID[engine], section))  # the valid ones pass
    bad = {**VALID[engine], "enable_warp_drive": True}
    with pytest.raises(DartError) as err:
        validate(_config(engine, bad, section), source="cfg.yaml")
    key = "synth.smollm2.engine_options" if section == "synth" else "eval.engine_options"
    assert f"cfg.yaml: key {key}" in str(err.value)
    assert "enable_warp_drive" in str(err.value) and engine in str(err.value)


def test_options_of_one_engine_are_refused_for_another():
    with pytest.raises(DartError, match="max_num_seqs"):
        check_options("vllm", {"batch_size": 8})  # the hint names vLLM's own knob
    with pytest.raises(DartError, match="enforce_eager"):
        check_options("transformers", {"enforce_eager": True})
    with pytest.raises(DartError, match="needs option.*base_url"):
        check_options("openai", {"concurrency": 2})


def test_flag_json_is_checked_and_merged():
    def args(engine, extra):
        return argparse.Namespace(engine=engine, gpus=1, threads=2, batch_size=8, revision=None,
                                  engine_options_json=extra)  # fmt: skip

    merged = engine_options(args("vllm", '{"enable_chunked_prefill": false}'))
    assert merged == {"gpus": 1, "revision": None, "enable_chunked_prefill": False}
    opened = engine_options(args("openai", '{"base_url": "http://h/v1"}'))
    assert opened == {"revision": None, "base_url": "http://h/v1"}
    with pytest.raises(DartError, match="--engine-options-json: unknown option"):
        engine_options(args("transformers", '{"nope": 1}'))


def test_dart_config_exits_2_naming_the_key(tmp_path, dart_env):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(_config("vllm", {"enable_chunkd_prefill": False}, "synth")))
    proc = subprocess.run(
        [sys.executable, "-m", "dart.cli", "config", str(cfg)],
        env=dart_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert (
        "key synth.smollm2.engine_options" in proc.stderr and "enable_chunkd_prefill" in proc.stderr
    )


def test_snakefile_refuses_it_before_any_job(tmp_path, dart_env, repo_root):
    cfg = yaml.safe_load((repo_root / "config.yaml").read_text())
    cfg["eval"]["engine_options"] = {"batch_size": 8, "bacth_size": 8}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-s", str(repo_root / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(tmp_path / "config.yaml")],
        cwd=tmp_path, env=dart_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "key eval.engine_options: unknown option(s) bacth_size" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


# Issue 22 item 6: an engine option has the range of the flag of the same name.
OUT_OF_RANGE = {
    "transformers": {"threads": 0, "batch_size": 0},
    "vllm": {
        "tensor_parallel_size": 0,
        "pipeline_parallel_size": 0,
        "seed": -1,
        "max_num_seqs": 0,
        "gpu_memory_utilization": 1.5,
        "cpu_offload_gb": -1,
    },
    "openai": {"concurrency": 0, "timeout": 0, "max_retries": -1, "backoff": float("nan")},
}


@pytest.mark.parametrize(
    ("engine", "name", "value"),
    [(e, k, v) for e, bad in OUT_OF_RANGE.items() for k, v in bad.items()],
)
def test_engine_option_out_of_range_is_refused_naming_it(engine, name, value):
    base = {"base_url": "http://h/v1"} if engine == "openai" else {}
    check_options(engine, {**base, name: 1 if name != "gpu_memory_utilization" else 0.5})
    with pytest.raises(DartError, match=rf"^here: {name} must be "):
        check_options(engine, {**base, name: value}, "here")


def test_engine_option_types_are_refused():
    for value in (True, "4", [4], 2.5):
        with pytest.raises(DartError, match="threads"):
            check_options("transformers", {"threads": value})
    check_options("transformers", {"threads": None})  # null: the engine's default


def test_threads_0_is_refused_by_config_flag_json_alike(capsys):
    """``eval.engine_options: {threads: 0}`` and ``--engine-options-json '{"threads": 0}'``
    are refused with the words ``--threads 0`` gets: one range, one message."""
    from dart.evaluate.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["generate", "--threads", "0"])
    words = "must be at least 1, got 0"
    assert f"argument --threads: {words}" in capsys.readouterr().err
    with pytest.raises(DartError, match=f"key eval.engine_options: threads {words}"):
        validate(_config("transformers", {"threads": 0}, "eval"), source="cfg.yaml")
    ns = argparse.Namespace(engine="transformers", threads=2, batch_size=8, revision=None,
                            engine_options_json='{"threads": 0}')  # fmt: skip
    with pytest.raises(DartError, match=f"--engine-options-json: threads {words}"):
        engine_options(ns)


def test_every_range_is_a_flag_or_an_engine_option():
    """The table holds no stray name: each is some engine's option or a verb's flag."""
    from dart.options import RANGES

    flags = {"n", "limit", "workers", "chunk_size", "gpus", "ngram", "min_overlap", "cap",
             "max_new_tokens"}  # fmt: skip
    engine_names = set().union(*ENGINE_OPTIONS.values())
    assert set(RANGES) <= engine_names | flags, set(RANGES) - engine_names - flags


def test_engine_gpus_is_the_product_of_every_parallel_size():
    assert engine_gpus("vllm", {}) == 1
    assert engine_gpus("vllm", {"tensor_parallel_size": 2}) == 2
    assert engine_gpus("vllm", {"tensor_parallel_size": 2, "pipeline_parallel_size": 2}) == 4
    assert engine_gpus("vllm", {"pipeline_parallel_size": 3}) == 3
    assert engine_gpus("transformers", {"threads": 2}) == 0
    assert engine_gpus("openai", {"base_url": "http://127.0.0.1:1"}) == 0


def test_engine_env_is_the_vllm_env_only_for_vllm():
    assert engine_env("vllm") == "../envs/vllm.yaml"
    assert engine_env("transformers") == "../envs/cpu.yaml"
    assert engine_env("openai") == "../envs/cpu.yaml"
