"""The ``vllm_env`` fixture of the tests that run vLLM's CPU build (see vllm_setup.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def vllm_env(dart_env) -> dict[str, str]:
    env = dict(dart_env)
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env
