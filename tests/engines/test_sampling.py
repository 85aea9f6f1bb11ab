"""Per-row sampling: filters and independence from the other rows of a batch."""

from __future__ import annotations

import torch

from dart.engines.base import SamplingParams
from dart.engines.sampling import NUCLEUS_CANDIDATES, sample_rows, seeded_generator


def _gens(seeds):
    return [seeded_generator(s) for s in seeds]


def test_row_draw_ignores_other_rows():
    torch.manual_seed(0)
    logits = torch.randn(5, 300) * 4
    params = SamplingParams(temperature=1.0, top_p=0.9)
    together = sample_rows(logits, params, _gens(range(5)))
    alone = [int(sample_rows(logits[i : i + 1], params, _gens([i]))[0]) for i in range(5)]
    assert together.tolist() == alone


def test_top_p_keeps_the_nucleus_only():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    params = SamplingParams(temperature=1.0, top_p=0.8)
    picks = {int(sample_rows(logits, params, _gens([s]))[0]) for s in range(200)}
    assert picks == {0, 1}


def test_wide_nucleus_falls_back_to_full_sort():
    logits = torch.zeros(2, NUCLEUS_CANDIDATES * 4)  # flat: the nucleus is most of the vocab
    params = SamplingParams(temperature=1.0, top_p=0.95)
    picks = {int(sample_rows(logits, params, _gens([s, s + 1]))[0]) for s in range(50)}
    assert max(picks) >= NUCLEUS_CANDIDATES  # candidates beyond the top-k pre-filter are reachable


def test_min_p_and_top_k():
    logits = torch.log(torch.tensor([[0.6, 0.3, 0.09, 0.01]]))
    only_two = SamplingParams(temperature=1.0, top_k=2)
    assert {int(sample_rows(logits, only_two, _gens([s]))[0]) for s in range(100)} == {0, 1}
    floor = SamplingParams(temperature=1.0, min_p=0.2)
    assert {int(sample_rows(logits, floor, _gens([s]))[0]) for s in range(100)} == {0, 1}
