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


def test_pass_through_options_are_engine_args_of_the_pinned_vllm():
    """Production pins vLLM in envs/vllm.yaml (0.33.0, not installable here): every
    option the engine table passes to ``vllm.LLM`` must be an ``EngineArgs`` field of that
    version, read from the list recorded from its published wheel."""
    import re

    from dart.options import VLLM_LLM_OPTIONS
    from tests.conftest import ROOT
    from tests.engines.vllm_engine_args.record import recorded

    pins = re.findall(r"^\s*-\s*vllm==([\w.]+)", (ROOT / "envs/vllm.yaml").read_text(), re.M)
    assert len(pins) == 1, pins
    fields = recorded(pins[0])
    assert fields is not None, (
        f"no EngineArgs list recorded for the pinned vllm {pins[0]}: "
        "see tests/engines/vllm_engine_args/record.py"
    )
    assert fields >= VLLM_LLM_OPTIONS, sorted(VLLM_LLM_OPTIONS - fields)
    assert {"model", "revision", "tensor_parallel_size", "dtype", "seed"} <= fields


def test_recorded_engine_args_lists_are_read_from_the_source():
    from tests.engines.vllm_engine_args.record import engine_args_fields

    source = (
        "from typing import ClassVar\n@dataclass\nclass EngineArgs:\n"
        "    model: str = 'm'\n    seed: int | None = None\n    cache: ClassVar[dict] = {}\n"
        "    def create(self) -> None:\n        x: int = 1\n"
    )
    assert engine_args_fields(source) == {"model", "seed"}
    with pytest.raises(ValueError, match="no class EngineArgs"):
        engine_args_fields("class Other:\n    model: str\n")
