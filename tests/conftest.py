"""Shared fixtures: the repository root and an environment whose PATH finds `dart`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def dart_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_DATASETS_OFFLINE"] = "1"
    return env


@pytest.fixture()
def run_dart(dart_env, tmp_path):
    """Run the `dart` command in tmp_path; return the CompletedProcess."""

    def _run(*args: str, cwd: Path | None = None, check: bool = False):
        proc = subprocess.run(
            [sys.executable, "-m", "dart.cli", *args],
            cwd=cwd or tmp_path,
            env=dart_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"dart {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return _run


@pytest.fixture(scope="session")
def smollm2_folder(tmp_path_factory) -> Path:
    """The embedded SmolLM2 materialised once per test session (about 30 s)."""
    from dart.models.embedded import materialise

    out = tmp_path_factory.mktemp("models") / "smollm2"
    materialise("embedded:smollm2", out)
    return out


BOXED = tuple(f"\\boxed{{{d}}}" for d in range(10))


def build_boxing_model(path: Path, seed: int = 0) -> Path:
    """A random two-layer Llama that often writes ``\\boxed{d}`` and often stops.

    Its vocabulary is printable characters plus ten whole-word tokens ``\\boxed{0}`` ..
    ``\\boxed{9}``. Every embedding carries a constant component that the output layer
    maps onto those ten tokens and EOS, so a sampled response usually ends (``stop``)
    after a few boxed digits: a uniformly random digit answer, right about one time in
    ten for a one-digit reference. Real tokenizer, real model, real sampling: the pool
    gets a mix of correct, wrong and truncated responses without any trained weights.
    """
    import torch
    from transformers import LlamaForCausalLM

    from dart.engines.tiny import build_tokenizer, tiny_llama_config

    tokenizer = build_tokenizer()
    tokenizer.add_tokens(list(BOXED))
    config = tiny_llama_config(tokenizer, max_position_embeddings=2048, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    boxed_ids = tokenizer.convert_tokens_to_ids(list(BOXED))
    with torch.no_grad():
        model.model.embed_tokens.weight[:, 0] = 1.0
        model.lm_head.weight[:, 0] = 0.0
        model.lm_head.weight[boxed_ids, 0] = 0.5
        model.lm_head.weight[tokenizer.eos_token_id, 0] = 0.55
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def boxing_model(tmp_path_factory) -> Path:
    return build_boxing_model(tmp_path_factory.mktemp("models") / "boxing")


@pytest.fixture(scope="session")
def small_run_built(tmp_path_factory, repo_root, dart_env, boxing_model) -> Path:
    """The small real run of tests/small_workflow.py, built once per session; read-only:
    tests work on their own copy (``small_run``)."""
    from small_workflow import build_run

    return build_run(tmp_path_factory.mktemp("small-workflow"), repo_root, dart_env, boxing_model)


@pytest.fixture()
def small_run(small_run_built, tmp_path) -> Path:
    """This test's own copy of the built small run (mtimes and Snakemake metadata kept)."""
    from small_workflow import copy_run

    return copy_run(small_run_built, tmp_path / "small-run")
