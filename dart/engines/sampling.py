"""Per-request token sampling and stop detection, shared by the in-process engines.

Each row of a batch is sampled with its own ``torch.Generator``, seeded from its
request's seed, and filtered (temperature, top-k, min-p, top-p) using only its own
logits, so a row's draw never depends on the other rows of the batch.

    gens = [seeded_generator(s) for s in seeds]
    next_ids = sample_rows(logits, params, gens)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from dart.engines.base import SamplingParams


def seeded_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator seeded from a (63-bit) request seed."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed) & ((1 << 64) - 1))
    return gen


def filtered_probs(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Row-wise sampling distribution after temperature, top-k and min-p (fp32, unnormalised ok)."""
    scores = logits.float() / params.temperature
    if params.top_k > 0 and params.top_k < scores.shape[-1]:
        kth = torch.topk(scores, params.top_k, dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    if params.min_p > 0:
        floor = probs.amax(dim=-1, keepdim=True) * params.min_p
        probs = probs.masked_fill(probs < floor, 0.0)
    return probs


#: Candidates examined before falling back to a full sort of the vocabulary.
NUCLEUS_CANDIDATES = 1024


def sample_rows(
    logits: torch.Tensor, params: SamplingParams, generators: Sequence[torch.Generator]
) -> torch.Tensor:
    """One token id per row of ``logits`` ([rows, vocab]); greedy when temperature is 0.

    Inverse-CDF sampling: each row draws one uniform number from its own generator and
    picks the token where the cumulative probability (in descending order, cut to the
    top-p nucleus) crosses it. Rows whose nucleus lies within the top
    ``NUCLEUS_CANDIDATES`` tokens skip the full sort of the vocabulary.
    """
    if params.temperature == 0:
        return logits.argmax(dim=-1)
    probs = filtered_probs(logits, params)
    draws = torch.stack([torch.rand((), generator=g, device=g.device) for g in generators])
    draws = draws.to(probs.device)
    if params.top_p >= 1:  # no nucleus: vocabulary order is as good as any
        return _invert(probs, None, draws, 1.0)
    budget = params.top_p * probs.sum(dim=-1)
    top, order = probs.topk(min(NUCLEUS_CANDIDATES, probs.shape[-1]), dim=-1)
    inside = top.sum(dim=-1) >= budget
    picks = torch.empty(probs.shape[0], dtype=torch.long, device=probs.device)
    if inside.any():
        rows = inside.nonzero().squeeze(-1)
        picks[rows] = _invert(top[rows], order[rows], draws[rows], params.top_p)
    if not inside.all():
        rows = (~inside).nonzero().squeeze(-1)
        full, full_order = torch.sort(probs[rows], dim=-1, descending=True)
        picks[rows] = _invert(full, full_order, draws[rows], params.top_p)
    return picks


def _invert(probs, order, draws, top_p: float) -> torch.Tensor:
    """Token ids where each row's CDF crosses ``draws`` x its mass; ``probs`` sorted
    descending (with ``order`` mapping back to token ids) when ``top_p`` < 1."""
    if top_p < 1:
        before = probs.cumsum(dim=-1) - probs  # mass strictly before each token
        budget = top_p * probs.sum(dim=-1, keepdim=True)
        probs = probs.masked_fill(before >= budget, 0.0)
    cdf = probs.cumsum(dim=-1)
    targets = (draws * cdf[:, -1]).unsqueeze(-1)
    picks = torch.searchsorted(cdf, targets, right=True).clamp_(max=cdf.shape[-1] - 1)
    if order is not None:
        picks = order.gather(-1, picks)
    return picks.squeeze(-1)


class StopChecker:
    """Decides whether a growing completion has ended, and cuts its text.

    EOS ids end a completion (the EOS token is counted but not part of the text); a stop
    string ends it with the text cut just before the earliest stop string.
    """

    def __init__(self, tokenizer, stop: Sequence[str], eos_ids: Sequence[int]) -> None:
        self.tokenizer = tokenizer
        self.stop = tuple(s for s in stop if s)
        self.eos_ids = frozenset(int(i) for i in eos_ids)
        # A stop string of n characters is covered by the last n + 4 tokens.
        self.window = max((len(s) for s in self.stop), default=0) + 4

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def check(self, ids: Sequence[int], max_new_tokens: int) -> tuple[str, str] | None:
        """``(finish_reason, text)`` once ``ids`` (the completion so far) has ended, else None."""
        if ids and ids[-1] in self.eos_ids:
            return "stop", self.decode(ids[:-1])
        if self.stop and any(s in self.decode(ids[-self.window :]) for s in self.stop):
            text = self.decode(ids)
            cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
            if cut >= 0:
                return "stop", text[:cut]
        if len(ids) >= max_new_tokens:
            return "length", self.decode(ids)
        return None
