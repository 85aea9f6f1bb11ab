"""Generation engines behind one interface, chosen by name.

``transformers`` runs on CPU (or a small GPU) in the default environment; ``vllm``
runs on GPUs in its own environment (``envs/vllm.yaml``) and is imported only when
chosen.

    from dart.engines import get_engine
    engine = get_engine("transformers", "results/models/smollm2", threads=2)
"""

from __future__ import annotations

import importlib
from typing import Any

from dart.engines.base import Completion, Engine, Request, SamplingParams
from dart.errors import DartError

__all__ = ["ENGINES", "Completion", "Engine", "Request", "SamplingParams", "get_engine"]

#: engine name -> (module, class). Modules are imported only when their engine is chosen.
ENGINES: dict[str, tuple[str, str]] = {
    "transformers": ("dart.engines.hf", "TransformersEngine"),
    "vllm": ("dart.engines.vllm", "VllmEngine"),
}


def get_engine(name: str, model: str, **options: Any) -> Engine:
    """Build engine ``name`` for ``model`` (a local folder or a hub id)."""
    if name not in ENGINES:
        raise DartError(f"unknown engine {name!r}; known: {sorted(ENGINES)}")
    module_name, class_name = ENGINES[name]
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(model, **options)
