"""The ``simulated`` engine: answers without a model, for rehearsals and cost forecasts.

Each trial is decided by its own seed: right with the query's pass rate, else wrong, and a
wrong trial is sometimes a response with no final answer or one cut by the length limit.
The text is written in the ``dart-synth`` answer style (a few reasoning lines, then the
answer in ``\\boxed{}``): the gold answer when right, a plausible wrong answer of the same
shape when wrong, so that the real grader verifies every response downstream. Nothing
here knows about the grader: a simulated pool costs what a real one costs after
generation.

Where each query's pass rate comes from (the first that has one wins, most specific first):

1. the query's own rate: the ``pass_rate`` column of the queries table (mapped at ingestion
   with ``queries.<name>.columns.pass_rate``), bound with the trials; null for a query
   without one (a source ingested without the column);
2. ``pass_rate``: a fixed rate per level, ``{"1": 0.9, ..., "none": 0.95}``;
3. ``beta``: a Beta per level, ``{"5": {"mean": 0.35, "concentration": 5, "never": 0.03}}``,
   drawn once per query from its id (``never``: the share of queries never solved);
4. the paper-scale calibration :data:`PAPER_CALIBRATION` (the Betas that
   ``bench/bench_planner.py`` tuned to reproduce the paper's dataset sizes).

Why the column wins over the level tables: both are explicit (a column exists only where
the config maps it), and the column is per query, the tables per level; the specific
beats the general, as the fixed table already beats the Beta. A level table then serves
the queries without a rate of their own, and a measured per-query rate (a pilot's) is not
silently replaced by a coarser table left in the config; to rehearse other rates, drop
the mapping (the queries are re-ingested, cheaply).

Level keys are ``"1"``..``"5"`` and ``"none"`` (queries without a level, such as GSM8K's,
and levels outside 1-5); a level missing from both tables uses the calibration's. A
query's rate depends on its id (or its bound column value) only, a trial's outcome on its
seed only: the same trial gives the same text in any shard.

Lengths in tokens are log-normal per level (``tokens``: ``{"3": {"median": 370,
"sigma": 0.5}}``; wrong responses are 25% longer), capped below ``max_new_tokens``;
a truncated response has exactly ``max_new_tokens`` tokens and finish reason ``length``.
Token counts are those of the simulated text (about :data:`CHARS_PER_TOKEN` characters
each). Time: the engine reports ``seconds_per_token`` x the completion tokens as its
engine time (recorded with ``"clock": "simulated"``); by default the paper's throughput,
35k samples per A100-hour, at the default lengths' mean (:data:`SECONDS_PER_TOKEN`).

    engine = get_engine("simulated", "deepseek-math-7b-rl", truncated=0.1)
    engine.bind_trials(plan_rows)        # sample_id, query_id, gold, level[, pass_rate]
    engine.generate(requests, params)
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dart.engines.base import Completion, Engine, ProgressFn, Request, SamplingParams
from dart.engines.versions import SIMULATED_VERSION
from dart.errors import DartError
from dart.options import check_simulated_values

#: level key -> (mean pass rate, Beta concentration, share never solved): the calibration
#: of bench/bench_planner.py (moved here so that both use one copy), which reproduces the
#: paper's VRT / Uniform / Prop2Diff sizes within 1% (bench/RESULTS.md).
PAPER_CALIBRATION: dict[str, tuple[float, float, float]] = {
    "none": (0.955, 2.0, 0.003),  # GSM8K
    "1": (0.92, 2.0, 0.003),
    "2": (0.81, 2.5, 0.005),
    "3": (0.67, 4.0, 0.01),
    "4": (0.52, 5.0, 0.015),
    "5": (0.35, 5.0, 0.03),
}
#: The paper's query counts per level key (GSM8K train 7,473; MATH train by level).
PAPER_QUERIES: dict[str, int] = {"none": 7473, "1": 565, "2": 1349, "3": 1592, "4": 1690, "5": 2304}
#: level key -> (median tokens, log-normal sigma): DeepSeekMath-7B-RL-like lengths, a few
#: hundred tokens, longer for harder levels.
DEFAULT_TOKENS: dict[str, tuple[float, float]] = {
    "none": (190.0, 0.45),
    "1": (230.0, 0.5),
    "2": (300.0, 0.5),
    "3": (370.0, 0.5),
    "4": (450.0, 0.5),
    "5": (560.0, 0.55),
}
WRONG_LONGER = 1.25
CHARS_PER_TOKEN = 3.6
#: The paper's synthesis throughput: samples per A100-hour (DeepSeekMath-7B-RL on vLLM).
PAPER_SAMPLES_PER_HOUR = 35_000


def _mean_default_tokens() -> float:
    total = sum(PAPER_QUERIES.values())
    return sum(
        PAPER_QUERIES[k] / total * median * math.exp(sigma**2 / 2)
        for k, (median, sigma) in DEFAULT_TOKENS.items()
    )


#: Default simulated seconds per generated token: 35k samples per hour at the default
#: lengths' mean over the paper's query mix (about 0.3 ms per token).
SECONDS_PER_TOKEN = 3600.0 / (PAPER_SAMPLES_PER_HOUR * _mean_default_tokens())

_STEPS = (
    "First, we rewrite the expression as {a} + {b} = {c}.",
    "Multiplying both sides by {a}, we get {d}.",
    "Let $x$ be the unknown quantity; then ${a}x = {d}$.",
    "Since {a} and {b} share no common factor, the fraction is already reduced.",
    "Substituting back, we find that the total is {c}.",
    "We check the case $n = {a}$ separately: it gives {b}.",
    "Squaring both sides gives ${a}^2 = {e}$.",
    "The difference between the two is ${c} - {b} = {a}$.",
    "Dividing by {b}, each part is worth $\\frac{{{d}}}{{{b}}}$.",
    "By the Pythagorean theorem, the hypotenuse has length $\\sqrt{{{f}}}$.",
    "Hence the interval of interest starts at {a} and ends at {c}.",
    "Adding the two equations eliminates $y$, leaving ${b}x = {d}$.",
)


def _corpus(seed: int = 20260717, chars: int = 40_000) -> str:
    """Reasoning-like filler (no box, no answer phrase), deterministic."""
    r = random.Random(seed)
    parts, size = [], 0
    while size < chars:
        a, b = r.randint(2, 40), r.randint(2, 40)
        step = r.choice(_STEPS).format(a=a, b=b, c=a + b, d=a * b, e=a * a, f=a * a + b * b)
        parts.append(step)
        size += len(step) + 1
    return " ".join(parts)


CORPUS = _corpus()


def level_key(level: Any) -> str:
    """The table key of a level: ``"1"``..``"5"``, ``"none"`` for a missing level."""
    if level is None or (isinstance(level, float) and math.isnan(level)):
        return "none"
    return str(int(level))


def query_pass_rate(query_id: str, beta: tuple[float, float, float]) -> float:
    """A query's pass rate, drawn once from its id: 0 with probability ``never``, else
    Beta(mean * concentration, (1 - mean) * concentration)."""
    mean, concentration, never = beta
    r = random.Random(int(hashlib.sha256(f"pass-rate:{query_id}".encode()).hexdigest()[:16], 16))
    if r.random() < never:
        return 0.0
    if mean <= 0 or mean >= 1:
        return min(max(mean, 0.0), 1.0)
    return r.betavariate(mean * concentration, (1 - mean) * concentration)


_DIGIT = re.compile(r"\d")


_CHOICE = re.compile(r"\(([A-E])\)")
#: Distinct wrong answers per query: a model's mistakes on one problem cluster on a few
#: values (and the grader decides each distinct answer once per shard, as it would).
WRONG_VARIANTS = 4


def wrong_answer(gold: str, r: random.Random) -> str:
    """A plausible wrong answer of the same shape as ``gold``: a choice letter moved on,
    one digit changed (a fraction's numerator, a radical's coefficient, an interval's
    endpoint), or ``+ 1`` appended to a gold without digits."""
    choice = _CHOICE.search(gold)
    if choice:
        nxt = chr((ord(choice.group(1)) - ord("A") + r.randint(1, 4)) % 5 + ord("A"))
        return gold[: choice.start(1)] + nxt + gold[choice.end(1) :]
    digits = [m.start() for m in _DIGIT.finditer(gold)]
    if digits:
        at = r.choice(digits)
        new = str((int(gold[at]) + r.randint(1, 8)) % 10)
        if new == "0" and (at == 0 or not gold[at - 1].isdigit()) and at + 1 < len(gold):
            new = "7" if gold[at] != "7" else "3"  # no leading zero (07 = 7 after all)
        return gold[:at] + new + gold[at + 1 :]
    return f"{gold} + 1"


def query_wrong_answers(query_id: str, gold: str) -> list[str]:
    """The query's few wrong answers (:data:`WRONG_VARIANTS`), fixed by its id."""
    r = random.Random(int(hashlib.sha256(f"wrong:{query_id}".encode()).hexdigest()[:16], 16))
    return [wrong_answer(gold, r) for _ in range(WRONG_VARIANTS)]


_SENTENCES = [0] + [m.end() for m in re.finditer(r"\. ", CORPUS)]


def _filler(r: random.Random, chars: int) -> str:
    """``chars`` characters of reasoning-like text, starting at a sentence."""
    if chars <= 0:
        return ""
    text = CORPUS
    while len(text) < chars + len(CORPUS):
        text += " " + CORPUS
    start = r.choice(_SENTENCES)
    return text[start : start + chars]


def _rates(table: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise DartError(f"simulated engine: {name} must be a mapping of level to value")
    return {level_key(None) if str(k) == "none" else str(k): v for k, v in table.items()}


class SimulatedEngine(Engine):
    """Right or wrong per trial seed, answer-style text, simulated token counts and time."""

    name = "simulated"

    def __init__(
        self,
        model: str,
        *,
        pass_rate: Mapping[str, float] | None = None,
        beta: Mapping[str, Mapping[str, float]] | None = None,
        no_answer: float = 0.05,
        truncated: float = 0.05,
        tokens: Mapping[str, Mapping[str, float]] | None = None,
        seconds_per_token: float | None = None,
        revision: str | None = None,
    ) -> None:
        check_simulated_values(
            {"pass_rate": pass_rate, "beta": beta, "no_answer": no_answer,
             "truncated": truncated, "tokens": tokens, "seconds_per_token": seconds_per_token},
            "simulated engine",
        )  # fmt: skip
        self.model = model
        self.revision = revision
        self.fixed = {k: float(v) for k, v in _rates(pass_rate, "pass_rate").items()}
        self.betas = {
            k: (float(v["mean"]), float(v.get("concentration", 2.0)), float(v.get("never", 0.0)))
            for k, v in _rates(beta, "beta").items()
        }
        self.lengths = {
            **DEFAULT_TOKENS,
            **{
                k: (float(v["median"]), float(v.get("sigma", 0.5)))
                for k, v in _rates(tokens, "tokens").items()
            },
        }
        self.no_answer, self.truncated = float(no_answer), float(truncated)
        self.seconds_per_token = (
            SECONDS_PER_TOKEN if seconds_per_token is None else float(seconds_per_token)
        )
        self.trials: dict[str, tuple[str, str, str]] = {}
        self.answers_sha256: str | None = None
        self.query_rates: dict[str, float] = {}
        self._rate_cache: dict[str, float] = {}
        self._wrong_cache: dict[str, list[str]] = {}
        self.options = {
            "pass_rate": dict(self.fixed) or None,
            "beta": {k: list(v) for k, v in self.betas.items()} or None,
            "no_answer": self.no_answer,
            "truncated": self.truncated,
            "tokens": {k: list(v) for k, v in self.lengths.items()},
            "seconds_per_token": self.seconds_per_token,
        }

    @property
    def tokenizer(self) -> Any:
        return None  # templates that need a tokenizer (chat) are refused by their render

    def bind_trials(self, trials: Any) -> None:
        """Learn each trial's query, gold and level (a frame with ``sample_id``,
        ``query_id``, ``gold``, ``level`` and, optionally, the query's own ``pass_rate``,
        null where it has none): the simulation answers from them. Per-query rates are
        recorded in the engine's options (how many, and a hash of them), so that a
        generation record says they were used and resumed chunks made with other rates
        are discarded."""
        for sample_id, query_id, gold, level in trials.select(
            "sample_id", "query_id", "gold", "level"
        ).iter_rows():
            self.trials[sample_id] = (query_id, gold or "", level_key(level))
        # the answers a text is made from: parts of a shard resumed after a gold or level
        # changed (same prompts, seeds and ids) are discarded, not reused
        digest = hashlib.sha256()
        for sample_id in sorted(self.trials):
            query_id, gold, level = self.trials[sample_id]
            digest.update(f"{sample_id}\0{query_id}\0{gold}\0{level}\n".encode())
        self.answers_sha256 = digest.hexdigest()
        if "pass_rate" not in trials.columns:
            return
        rates = (
            trials.select("query_id", "pass_rate").unique("query_id").drop_nulls().sort("query_id")
        )
        for query_id, rate in rates.iter_rows():
            if not 0.0 <= rate <= 1.0:  # NaN too
                raise DartError(
                    f"simulated engine: query {query_id}: pass_rate must be in [0, 1], got {rate!r}"
                )
            self.query_rates[query_id] = float(rate)
            self._rate_cache.pop(query_id, None)
        if self.query_rates:
            digest = hashlib.sha256()
            for query_id in sorted(self.query_rates):
                digest.update(f"{query_id}\0{self.query_rates[query_id]!r}\n".encode())
            self.options["query_pass_rates"] = {
                "queries": len(self.query_rates),
                "sha256": digest.hexdigest(),
            }

    def pass_rate(self, query_id: str, key: str) -> float:
        """The query's pass rate: its own (the queries table's ``pass_rate`` column, bound
        with its trials), else the ``pass_rate`` table's entry for its level, else the
        ``beta`` table's, else the paper's calibration."""
        if query_id not in self._rate_cache:
            key = key if key in PAPER_CALIBRATION else "none"
            if query_id in self.query_rates:
                rate = self.query_rates[query_id]
            elif key in self.fixed:
                rate = self.fixed[key]
            else:
                rate = query_pass_rate(query_id, self.betas.get(key, PAPER_CALIBRATION[key]))
            self._rate_cache[query_id] = rate
        return self._rate_cache[query_id]

    def _wrong(self, query_id: str, gold: str) -> list[str]:
        if query_id not in self._wrong_cache:
            self._wrong_cache[query_id] = query_wrong_answers(query_id, gold)
        return self._wrong_cache[query_id]

    def complete(self, request: Request, params: SamplingParams) -> Completion:
        """One trial, from its seed and its bound query."""
        if request.request_id not in self.trials:
            raise DartError(
                f"simulated engine: trial {request.request_id} has no bound query "
                "(bind_trials was not given its plan rows)"
            )
        query_id, gold, key = self.trials[request.request_id]
        r = random.Random(request.seed)
        right = r.random() < self.pass_rate(query_id, key)
        prompt_tokens = max(1, round(len(request.prompt) / CHARS_PER_TOKEN))
        limit = params.max_new_tokens
        if not right and r.random() < self.truncated:
            text = _filler(r, round(limit * CHARS_PER_TOKEN))
            return Completion(request.request_id, text, "length", prompt_tokens, limit)
        median, sigma = self.lengths[key if key in self.lengths else "none"]
        length = r.lognormvariate(math.log(median * (1 if right else WRONG_LONGER)), sigma)
        tokens = max(8, min(limit - 1, round(length)))
        if right:
            ending = f"\n\nTherefore, the final answer is $\\boxed{{{gold}}}$."
        elif r.random() < self.no_answer:
            ending = "\n\nSo this approach does not settle it, and I stop here."
        else:
            wrong = r.choice(self._wrong(query_id, gold))
            ending = f"\n\nTherefore, the final answer is $\\boxed{{{wrong}}}$."
        body = _filler(r, max(0, round(tokens * CHARS_PER_TOKEN) - len(ending)))
        return Completion(request.request_id, body + ending, "stop", prompt_tokens, tokens)

    def generate(
        self,
        requests: Sequence[Request],
        params: SamplingParams,
        progress: ProgressFn | None = None,
    ) -> list[Completion]:
        done = [self.complete(request, params) for request in requests]
        if progress is not None:
            progress(len(done), sum(c.completion_tokens for c in done))
        return done

    def engine_seconds(self, completions: Sequence[Completion], measured: float) -> float:
        """Simulated time: ``seconds_per_token`` x the completion tokens."""
        return sum(c.completion_tokens for c in completions) * self.seconds_per_token

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "engine_version": SIMULATED_VERSION,
            "model": f"simulated:{self.model}" if self.model else "simulated",
            "revision": self.revision,
            "simulated": True,
            "clock": "simulated",
            "options": self.options,
            **({"answers_sha256": self.answers_sha256} if self.answers_sha256 else {}),
        }
