"""Generation engines behind one interface, chosen by name.

``transformers`` runs on CPU (or a small GPU) in the default environment; ``vllm``
runs on GPUs in its own environment (``envs/vllm.yaml``; on CPU in ``.venv-vllm`` for
the tests) and is imported only when chosen; ``openai`` sends the requests to any
OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp) over HTTP; ``simulated`` answers
without a model (rehearsals, forecasts: :mod:`dart.engines.simulated`). Which options each
accepts: ``dart.options``. :mod:`runner` is the one resumable, chunked generation run that
the pool and the evaluation share; :mod:`versions` holds the engines' code versions (a leaf).

    from dart.engines import get_engine
    engine = get_engine("transformers", "results/models/smollm2", threads=2)
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from dart.engines.base import Completion, Engine, Request, SamplingParams
from dart.errors import DartError
from dart.options import check_options

__all__ = [
    "ENGINES",
    "Completion",
    "Engine",
    "Request",
    "SamplingParams",
    "engine_options",
    "get_engine",
    "open_engine",
]

#: engine name -> (module, class). Modules are imported only when their engine is chosen.
ENGINES: dict[str, tuple[str, str]] = {
    "transformers": ("dart.engines.hf", "TransformersEngine"),
    "vllm": ("dart.engines.vllm", "VllmEngine"),
    "openai": ("dart.engines.openai", "OpenAIEngine"),
    "simulated": ("dart.engines.simulated", "SimulatedEngine"),
}


def get_engine(name: str, model: str, **options: Any) -> Engine:
    """Build engine ``name`` for ``model`` (a local folder or a hub id)."""
    if name not in ENGINES:
        raise DartError(f"unknown engine {name!r}; known: {sorted(ENGINES)}")
    module_name, class_name = ENGINES[name]
    module = importlib.import_module(module_name)
    return getattr(module, class_name)(model, **options)


def open_engine(name: str, model: str, options: dict[str, Any]) -> Engine:
    """:func:`get_engine` for a verb: a missing or broken model folder (no tokenizer,
    truncated weights) or an option the engine does not take is a DartError naming the
    folder or option, one line instead of a library's traceback."""
    import inspect
    from pathlib import Path

    folder = Path(model)
    local = name != "simulated" and (
        folder.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1
    )
    if local and not folder.is_dir():
        what = "not a model folder (a file)" if folder.exists() else "no such model folder"
        raise DartError(f"{model}: {what}")
    if local and not (folder / "config.json").is_file():
        raise DartError(f"{model}: not a model folder (no config.json)")
    if name in ENGINES:
        module_name, class_name = ENGINES[name]
        cls = getattr(importlib.import_module(module_name), class_name)
        takes = inspect.signature(cls).parameters
        unknown = sorted(set(options) - set(takes))
        if unknown and not any(p.kind is p.VAR_KEYWORD for p in takes.values()):
            allowed = ", ".join(sorted(k for k in takes if k != "model"))
            raise DartError(
                f"--engine-options-json: engine {name} takes no option(s) {unknown} "
                f"(it takes: {allowed})"
            )
    try:
        return get_engine(name, model, **options)
    except (DartError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # transformers, safetensors, vllm: many kinds on a bad folder
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DartError(
            f"{model}: cannot load the model ({type(exc).__name__}: {reason})"
        ) from None


def engine_options(args: Any) -> dict[str, Any]:
    """Engine keyword options from a verb's flags (``engine``, ``threads``, ``batch_size``,
    ``gpus``, ``revision``, and ``device``/``dtype`` where the verb has them), overridden by
    ``--engine-options-json`` (the config's ``engine_options``), whose keys must be
    options of the engine (``dart.options``)."""
    if args.engine == "vllm":
        options: dict[str, Any] = {"gpus": args.gpus or None, "revision": args.revision}
    elif args.engine in ("openai", "simulated"):  # no local compute: no threads, slots, GPUs
        options = {"revision": args.revision}
    else:
        options = {
            "threads": args.threads,
            "batch_size": args.batch_size,
            "revision": args.revision,
        }
        if getattr(args, "device", None):
            options["device"] = args.device
    if getattr(args, "dtype", None) and args.engine not in ("openai", "simulated"):
        options["dtype"] = args.dtype
    try:
        extra = json.loads(args.engine_options_json or "{}")
    except json.JSONDecodeError as exc:
        raise DartError(f"--engine-options-json is not valid JSON: {exc}") from None
    if not isinstance(extra, dict):
        raise DartError("--engine-options-json must be a JSON object")
    check_options(args.engine, extra, "--engine-options-json")
    if "tensor_parallel_size" in extra:  # the rule's GPU count already says this
        options["gpus"] = extra.pop("tensor_parallel_size")
    return {**options, **extra}
