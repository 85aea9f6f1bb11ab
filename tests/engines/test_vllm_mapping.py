"""The vllm engine's request mapping, tested without vLLM installed."""

from __future__ import annotations

import importlib.util

import pytest

from dart.engines import get_engine
from dart.engines.base import SamplingParams
from dart.engines.vllm import sampling_kwargs
from dart.errors import DartError


def test_sampling_kwargs_maps_every_field():
    params = SamplingParams(
        temperature=1.6,
        top_p=0.95,
        top_k=-1,
        min_p=0.0,
        max_new_tokens=2048,
        stop=("User:", "Assistant:"),
    )
    kwargs = sampling_kwargs(params, seed=123456789012345)
    assert kwargs == {
        "n": 1,
        "temperature": 1.6,
        "top_p": 0.95,
        "top_k": -1,
        "min_p": 0.0,
        "max_tokens": 2048,
        "stop": ["User:", "Assistant:"],
        "include_stop_str_in_output": False,
        "ignore_eos": False,
        "skip_special_tokens": True,
        "seed": 123456789012345,
    }


def test_seeds_are_per_request():
    params = SamplingParams(temperature=1.0, top_k=20, max_new_tokens=8)
    assert sampling_kwargs(params, 1)["seed"] == 1
    assert sampling_kwargs(params, 2)["seed"] == 2
    assert sampling_kwargs(params, 2)["top_k"] == 20


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_missing_vllm_names_the_gpu_extra():
    with pytest.raises(DartError, match=r"envs/vllm.yaml|\[gpu\]"):
        get_engine("vllm", "some/model")
