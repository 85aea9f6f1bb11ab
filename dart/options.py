"""Range-checked option types for the verbs' argparse parsers, and the engines' options.

A bad value stops the verb at parse time with argparse's usage line and a message that
names the option: ``dart grade --workers -1`` says ``argument --workers: must be at
least 1, got -1`` instead of hanging.

One option name has one meaning and one range, in every verb and in every engine's
``engine_options`` (issue 14 item 10, issue 22 item 6): ``RANGES`` is that table, used by
the verbs' flags (``type=RANGES["threads"]``) and by ``check_options`` for the config's
``engine_options`` and the verbs' ``--engine-options-json`` (so ``{"threads": 0}`` is
refused as ``--threads 0`` is).

| option | meaning | range |
|---|---|---|
| ``n`` | items or questions to generate (embedded types) | >= 1 |
| ``limit`` | read at most this many rows ("" = no limit) | >= 1 |
| ``workers`` | grader processes | >= 1 |
| ``threads`` | CPU threads | >= 1 |
| ``batch_size``, ``chunk_size`` | batch slots, rows per resumable chunk | >= 1 |
| ``gpus`` | GPUs | >= 0 |
| ``seed`` | a seed | >= 0 |
| ``timeout`` | seconds per item or request | > 0, finite |
| ``memory_mb`` | address-space limit per grader process | >= 64 (``dart.grade.options``) |
| ``ngram``, ``min_overlap``, ``cap``, ``max_new_tokens`` | counts | >= 1 |
| ``tensor_parallel_size``, ``pipeline_parallel_size`` | GPUs per parallel dimension | >= 1 |
| ``concurrency`` | requests in flight (openai) | >= 1 |
| ``max_retries`` | retries per request (openai) | >= 0 |
| ``backoff`` | first retry delay, seconds (openai) | >= 0, finite |
| ``max_num_seqs``, ``max_model_len``, ``max_num_batched_tokens``, ``block_size``, ``kv_cache_memory_bytes`` | vLLM sizes | >= 1 |
| ``gpu_memory_utilization`` | share of a GPU's memory (vLLM) | in (0, 1] |
| ``cpu_offload_gb`` | GiB offloaded to CPU (vLLM) | >= 0, finite |

    parser.add_argument("--workers", type=RANGES["workers"])
    parser.add_argument("--round", type=at_least(0))   # a verb's own option

The second half says which ``engine_options`` each engine accepts (``check_options``),
checked before anything is loaded: by config validation (so ``dart config`` and the
Snakefile refuse an unknown option or a value out of range before any job starts) and by
the verbs' ``--engine-options-json`` (``dart.engines.engine_options``, before a model is
loaded).

- ``transformers``: the keyword arguments of ``TransformersEngine``.
- ``vllm``: ours (``tensor_parallel_size``, ``dtype``, ``seed``, ...) plus every name in
  ``VLLM_LLM_OPTIONS``, which go through to ``vllm.LLM(...)`` unchanged
  (``enable_chunked_prefill``, ``enforce_eager``, ``max_num_seqs``, ...): vLLM
  ``EngineArgs`` fields; a test in tests/vllm_cpu/ checks them against the installed vLLM.
- ``openai``: the client's settings; ``base_url`` is required.
- ``simulated``: the simulation's tables and rates (``dart.engines.simulated``), whose
  values are checked here too (``check_simulated_values``).

    check_options("vllm", {"enforce_eager": True}, "synth.x.engine_options")

The rules read two more facts of an engine from here: the GPUs a job asks for
(``engine_gpus``: vllm's tensor x pipeline parallel sizes, else 0) and its conda
environment (``engine_env``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from dart.errors import DartError

T = TypeVar("T")


def at_least(low: int) -> Callable[[str], int]:
    """An integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def above(low: float) -> Callable[[str], float]:
    """A finite number > ``low``."""

    def parse(text: str) -> float:
        value = _number(text)
        if not value > low or not math.isfinite(value):  # NaN fails every comparison
            raise argparse.ArgumentTypeError(f"must be above {low:g}, got {text}")
        return value

    return parse


def not_below(low: float) -> Callable[[str], float]:
    """A finite number >= ``low``."""

    def parse(text: str) -> float:
        value = _number(text)
        if not value >= low or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be at least {low:g}, got {text}")
        return value

    return parse


def fraction() -> Callable[[str], float]:
    """A number in (0, 1]."""

    def parse(text: str) -> float:
        value = _number(text)
        if not 0 < value <= 1:  # NaN too
            raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
        return value

    return parse


def finite() -> Callable[[str], float]:
    """Any finite number (NaN and infinities refused)."""

    def parse(text: str) -> float:
        value = _number(text)
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        return value

    return parse


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """``parse``, except that the empty string (what rules pass for a null) means None."""

    def parse_optional(text: str) -> T | None:
        return parse(text) if text.strip() else None

    return parse_optional


#: option name -> its type: the one range of that name for every verb flag
#: (``--batch-size`` is ``batch_size``) and every engine option (the table above).
RANGES: dict[str, Callable[[str], Any]] = {
    "n": at_least(1),
    "limit": optional(at_least(1)),
    "workers": at_least(1),
    "threads": at_least(1),
    "batch_size": at_least(1),
    "chunk_size": at_least(1),
    "gpus": at_least(0),
    "seed": at_least(0),
    "timeout": above(0),
    "ngram": at_least(1),
    "min_overlap": at_least(1),
    "cap": at_least(1),
    "max_new_tokens": at_least(1),
    "tensor_parallel_size": at_least(1),
    "pipeline_parallel_size": at_least(1),
    "concurrency": at_least(1),
    "max_retries": at_least(0),
    "backoff": not_below(0),
    "max_num_seqs": at_least(1),
    "max_model_len": at_least(1),
    "max_num_batched_tokens": at_least(1),
    "block_size": at_least(1),
    "kv_cache_memory_bytes": at_least(1),
    "gpu_memory_utilization": fraction(),
    "cpu_offload_gb": not_below(0),
}


def check_value(name: str, value: Any, where: str) -> None:
    """Raise DartError naming ``where`` and ``name`` when an engine option's ``value`` is
    outside ``RANGES[name]`` (a null means the engine's default and is not checked)."""
    parse = RANGES.get(name)
    if parse is None or value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DartError(f"{where}: {name} must be a number, got {value!r}")
    try:
        parse(str(value))
    except argparse.ArgumentTypeError as exc:
        raise DartError(f"{where}: {name} {exc}") from None


# --------------------------------------------------------------------------- engines
#: ``vllm.LLM`` keyword arguments passed through unchanged (vLLM 0.32 ``EngineArgs``
#: fields, minus those the vllm engine sets itself: model, revision, tokenizer revision,
#: tensor_parallel_size, dtype, seed).
VLLM_LLM_OPTIONS = frozenset(
    {
        "block_size",
        "compilation_config",
        "cpu_offload_gb",
        "disable_custom_all_reduce",
        "disable_log_stats",
        "distributed_executor_backend",
        "download_dir",
        "enable_chunked_prefill",
        "enable_prefix_caching",
        "enforce_eager",
        "gpu_memory_utilization",
        "hf_overrides",
        "kv_cache_memory_bytes",
        "kv_cache_dtype",
        "load_format",
        "max_logprobs",
        "max_model_len",
        "max_num_batched_tokens",
        "max_num_seqs",
        "pipeline_parallel_size",
        "quantization",
        "scheduling_policy",
        "speculative_config",
        "tokenizer",
        "tokenizer_mode",
        "trust_remote_code",
    }
)

#: engine -> options it accepts in ``engine_options``.
ENGINE_OPTIONS: dict[str, frozenset[str]] = {
    "transformers": frozenset(
        {"dtype", "threads", "batch_size", "device", "revision", "prefix_cache"}
    ),
    "vllm": frozenset({"dtype", "revision", "seed", "tensor_parallel_size"}) | VLLM_LLM_OPTIONS,
    "openai": frozenset(
        {
            "base_url",
            "served_model",
            "api_key_env",
            "concurrency",
            "timeout",
            "max_retries",
            "backoff",
            "revision",
        }
    ),
    "simulated": frozenset(
        {"pass_rate", "beta", "no_answer", "truncated", "tokens", "seconds_per_token", "revision"}
    ),
}
#: engine -> options it cannot run without.
REQUIRED: dict[str, tuple[str, ...]] = {"openai": ("base_url",)}


def check_options(engine: str, options: Mapping[str, Any], where: str = "engine_options") -> None:
    """Raise DartError naming ``where`` and the key when ``options`` has a key ``engine``
    does not accept, lacks one it requires, or has a value out of its range (``RANGES``)."""
    if engine not in ENGINE_OPTIONS:
        raise DartError(f"unknown engine {engine!r}; known: {sorted(ENGINE_OPTIONS)}")
    if not isinstance(options, Mapping):
        raise DartError(f"{where} must be a mapping of option names to values")
    allowed = ENGINE_OPTIONS[engine]
    unknown = sorted(set(options) - allowed)
    if unknown:
        hint = ""
        if engine == "vllm" and "batch_size" in unknown:
            hint = " (vLLM's batch limit is max_num_seqs)"
        raise DartError(
            f"{where}: unknown option(s) {', '.join(unknown)} for engine {engine}{hint}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    missing = [k for k in REQUIRED.get(engine, ()) if options.get(k) in (None, "")]
    if missing:
        raise DartError(f"{where}: engine {engine} needs option(s) {', '.join(missing)}")
    for name, value in options.items():
        check_value(name, value, where)
    if engine == "simulated":
        check_simulated_values(options, where)


SIMULATED_LEVELS = ("1", "2", "3", "4", "5", "none")


def _level_table(value: Any, where: str, check: Callable[[Any, str], None]) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping) or not value:
        raise DartError(f"{where} must be a non-empty mapping of level (1-5, none) to a value")
    for level, entry in value.items():
        if str(level) not in SIMULATED_LEVELS:
            raise DartError(f"{where}: unknown level {level!r} (levels: 1-5, none)")
        check(entry, f"{where}.{level}")


def _table_number(
    value: Any, where: str, low: float, high: float | None, *, open_low=False
) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DartError(f"{where} must be a finite number, got {value!r}")
    if value < low or (open_low and value == low) or (high is not None and value > high):
        bound = f"in ({low}, {high}]" if open_low else f"in [{low}, {high}]"
        raise DartError(f"{where} must be {bound if high is not None else f'> {low}'}, got {value}")
    return float(value)


def _entry(keys: Mapping[str, tuple[float, float | None, bool]], required: str):
    def check(entry: Any, where: str) -> None:
        if not isinstance(entry, Mapping) or required not in entry:
            raise DartError(f"{where} must be a mapping with {required!r} ({', '.join(keys)})")
        unknown = sorted(set(entry) - set(keys))
        if unknown:
            raise DartError(f"{where}: unknown key(s) {unknown} (known: {', '.join(keys)})")
        for key, (low, high, open_low) in keys.items():
            if key in entry:
                _table_number(entry[key], f"{where}.{key}", low, high, open_low=open_low)

    return check


def check_simulated_values(options: Mapping[str, Any], where: str) -> None:
    """The simulated engine's option values: rates in [0, 1], tables keyed by level."""
    _level_table(options.get("pass_rate"), f"{where}.pass_rate",
                 lambda v, w: _table_number(v, w, 0.0, 1.0))  # fmt: skip
    beta = {"mean": (0.0, 1.0, False), "concentration": (0.0, None, True),
            "never": (0.0, 1.0, False)}  # fmt: skip
    _level_table(options.get("beta"), f"{where}.beta", _entry(beta, "mean"))
    tokens = {"median": (1.0, None, False), "sigma": (0.0, 5.0, False)}
    _level_table(options.get("tokens"), f"{where}.tokens", _entry(tokens, "median"))
    for key in ("no_answer", "truncated"):
        if options.get(key) is not None:
            _table_number(options[key], f"{where}.{key}", 0.0, 1.0)
    if options.get("seconds_per_token") is not None:
        _table_number(options["seconds_per_token"], f"{where}.seconds_per_token", 0.0, None,
                open_low=True)  # fmt: skip


def engine_gpus(engine: str, options: Mapping[str, Any]) -> int:
    """GPUs a generation job of ``engine`` asks for: for vllm the product of every
    parallel size it reads (tensor x pipeline; tensor 2 x pipeline 2 needs 4 GPUs),
    else 0 (transformers runs on the job's CPUs; an openai server has its own GPUs)."""
    if engine != "vllm":
        return 0
    sizes = [options.get(k) or 1 for k in ("tensor_parallel_size", "pipeline_parallel_size")]
    return int(math.prod(int(s) for s in sizes))


def engine_env(engine: str) -> str:
    """The conda environment file (relative to rules/) a job running ``engine`` uses."""
    return "../envs/vllm.yaml" if engine == "vllm" else "../envs/cpu.yaml"
