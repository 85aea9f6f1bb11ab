"""Shared settings of the tests that run the CPU build of vLLM (``.venv-vllm``, ``make test``).

Every test here is marked ``vllm`` and skipped where vllm cannot be imported (a plain
``pytest`` in ``.venv``); ``make pytest-vllm`` runs them with ``.venv-vllm/bin/python``.
vLLM's options for this CPU build (DESIGN.md section 14): eager mode (no torch.compile,
22-25 s start instead of 90-150 s), no chunked prefill (seeded requests crash with it on
CPU), the worker inside the engine core (``distributed_executor_backend: uni``), float32
where the text is compared with the transformers engine, and a 2 GiB KV cache
(``VLLM_CPU_KVCACHE_SPACE``).
"""

from __future__ import annotations

import importlib.util

import pytest

HAVE_VLLM = importlib.util.find_spec("vllm") is not None
NEEDS_VLLM = [
    pytest.mark.vllm,
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_VLLM, reason="needs vLLM: .venv-vllm (make install-vllm; make test runs these)"
    ),
]
#: The engine options every vLLM start here uses.
CPU_OPTIONS = {
    "dtype": "float32",
    "enforce_eager": True,
    "enable_chunked_prefill": False,
    # The model runs in vLLM's engine-core process instead of a third, spawned one: a
    # start of 32 s instead of 85 s on a loaded two-core machine, same text.
    "distributed_executor_backend": "uni",
}
