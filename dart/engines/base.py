"""The engine interface: requests in, completions out, in the same order.

An engine turns prompts into sampled completions. Every request carries its own
seed, so a trial's text depends on its seed and prompt, not on which shard or
round asked for it (see each engine for how far batching can still matter).

    from dart.engines import get_engine
    from dart.engines.base import Request, SamplingParams
    engine = get_engine("transformers", "/tmp/smollm2-hf", threads=2)
    params = SamplingParams(temperature=1.0, top_p=0.95, max_new_tokens=512, stop=("User:",))
    [done] = engine.generate([Request("q1-00000", "User: 1+1?\\n\\nAssistant:", 7)], params)
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from dart.errors import DartError

FinishReason = Literal["stop", "length"]
#: Called by engines as work finishes: (requests finished, tokens generated) since last call.
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings shared by all requests of one call.

    ``top_k=-1`` and ``min_p=0.0`` switch those filters off; ``temperature=0`` is greedy.
    ``stop`` strings end a completion; the text is cut before the stop string. EOS is
    always a stop.
    """

    temperature: float
    top_p: float = 1.0
    top_k: int = -1
    min_p: float = 0.0
    max_new_tokens: int = 512
    stop: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for key in ("temperature", "top_p", "min_p", "top_k", "max_new_tokens"):
            value = getattr(self, key)
            whole = key in ("top_k", "max_new_tokens")
            kind = int if whole else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind):
                want = "an integer" if whole else "a number"
                raise DartError(f"sampling: {key} must be {want}, got {value!r}")
            if not math.isfinite(value):  # NaN passes every comparison below
                raise DartError(f"sampling: {key} must be a finite number, got {value!r}")
        if self.temperature < 0:
            raise DartError(f"sampling: temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise DartError(f"sampling: top_p must be in (0, 1], got {self.top_p}")
        if self.top_k == 0 or self.top_k < -1:
            raise DartError(f"sampling: top_k must be -1 (off) or >= 1, got {self.top_k}")
        if not 0 <= self.min_p < 1:
            raise DartError(f"sampling: min_p must be in [0, 1), got {self.min_p}")
        if self.max_new_tokens < 1:
            raise DartError(f"sampling: max_new_tokens must be >= 1, got {self.max_new_tokens}")
        object.__setattr__(self, "stop", tuple(self.stop))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SamplingParams:
        """Build from a mapping such as the ``--sampling-json`` flag; unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise DartError(f"sampling: unknown key(s) {unknown}; known: {sorted(known)}")
        if "temperature" not in values:
            raise DartError("sampling: 'temperature' is required")
        return cls(**{**values, "stop": tuple(values.get("stop", ()))})

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stop": list(self.stop)}

    def with_stop(self, extra: Sequence[str]) -> SamplingParams:
        """A copy whose stop strings also include ``extra`` (order kept, no duplicates)."""
        merged = tuple(dict.fromkeys((*self.stop, *extra)))
        return SamplingParams(**{**asdict(self), "stop": merged})


@dataclass(frozen=True)
class Request:
    request_id: str
    prompt: str
    seed: int


@dataclass(frozen=True)
class Completion:
    """One finished request. Token counts are real tokens (no padding); the completion
    count includes the token that ended it (EOS or the one completing a stop string)."""

    request_id: str
    text: str
    finish_reason: FinishReason
    prompt_tokens: int
    completion_tokens: int


def keep_completed(stopped: BaseException, done: Mapping[int, Completion]) -> None:
    """Attach to the exception that stops ``generate`` the completions that had arrived,
    by index into its requests, so that the caller can keep them (an engine that finishes
    requests one by one, like ``openai``, calls this; the others lose the call's work)."""
    stopped.dart_completed = dict(done)  # type: ignore[attr-defined]


def completed_before(stopped: BaseException) -> dict[int, Completion]:
    """The completions :func:`keep_completed` attached to ``stopped`` (none if it did not)."""
    return dict(getattr(stopped, "dart_completed", {}))


class Engine(abc.ABC):
    """Base class of all engines. Subclasses set ``name`` and implement the two methods."""

    name: str = "engine"

    @property
    @abc.abstractmethod
    def tokenizer(self) -> Any:
        """The model's tokenizer (for chat templates and token counts)."""

    @abc.abstractmethod
    def generate(
        self,
        requests: Sequence[Request],
        params: SamplingParams,
        progress: ProgressFn | None = None,
    ) -> list[Completion]:
        """Complete every request; the result is in the order of ``requests``."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Engine name and version, model path/id, revision, weight hash, dtype, threads."""

    def bind_trials(self, trials: Any) -> None:
        """Told the plan rows (``sample_id``, ``query_id``, ``gold``, ``level``, and the
        queries table's ``pass_rate`` where it has one) before a pool shard's requests;
        only an engine that answers without a model (``simulated``) reads them. Models
        never see the gold answer."""
        return None

    def engine_seconds(self, completions: Sequence[Completion], measured: float) -> float:
        """The engine time to record for a finished call: the measured wall time (the
        simulated engine reports its simulated time)."""
        return measured
