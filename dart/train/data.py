"""Training data: tokenised samples, best-fit-decreasing packed rows and the collators.

A sample is the rendered prompt (labels -100) followed by the response and EOS
(labels = the tokens). A *row* is what one unit of ``global_batch`` counts: one sample
(``batch_unit: samples``) or several samples packed best-fit-decreasing into at most
``max_length`` tokens (``packed_rows``). The packed collator concatenates the samples of
a micro-batch into one sequence with position ids restarting at 0 per sample and -100 at
each sample's first label (transformers' ``DataCollatorWithFlattening``) and never adds
an ``attention_mask``: with sdpa/eager attention transformers builds the block-diagonal
mask from the position ids only when no 2-D mask is given; any 2-D mask, even all ones,
lets samples attend to each other (transformers builds the block-diagonal mask only without one). The same happens when the model
runs with a KV cache (``use_cache``), so training runs with ``config.use_cache = False``.

    from dart.train.data import load_samples, make_rows, PackedCollator
    samples, counts = load_samples("results/datasets/uniform.parquet", tok, template, 4096, "truncate")
    rows = make_rows(samples, 4096, "packed_rows", seed=42)
    batch = PackedCollator()(rows[:1])  # {"input_ids", "labels", "position_ids"}, shape [1, n]
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dart.errors import DartError
from dart.inputs import read_arrow

log = logging.getLogger(__name__)

IGNORE = -100
REQUIRED = ("query", "response")


@dataclass(frozen=True)
class Sample:
    """One tokenised training sample; ``labels`` is -100 over the prompt."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.input_ids)


def read_pairs(path: str | Path) -> list[tuple[str, str]]:
    """(query, response) pairs of a dataset parquet file; DartError names the file at fault.

    Read with pyarrow (a core dependency) rather than polars, so that `dart train` also
    runs on a GPU image that has torch and pyarrow but not polars (bench/gpu_check.sh).
    """
    table = read_arrow(path, REQUIRED, "dataset", text=True)
    if table.num_rows == 0:
        raise DartError(f"{path}: dataset is empty (no rows survived the recipe); nothing to train")
    queries, responses = table["query"].to_pylist(), table["response"].to_pylist()
    nulls = [i for i, pair in enumerate(zip(queries, responses, strict=True), 1) if None in pair]
    if nulls:
        raise DartError(
            f"{path}: row {nulls[0]}: null query or response ({len(nulls)} such row(s))"
        )
    return list(zip(queries, responses, strict=True))


def tokenize_pair(tokenizer: Any, prompt: str, response: str) -> Sample:
    """Prompt tokens (with the tokenizer's own special prefix, e.g. BOS) masked; response+EOS learnt."""
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    target = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return Sample(tuple(prompt_ids + target), tuple([IGNORE] * len(prompt_ids) + target))


def load_samples(
    path: str | Path, tokenizer: Any, template: Any, max_length: int, overlong: str
) -> tuple[list[Sample], dict[str, int]]:
    """Tokenise every row; truncate or drop the overlong ones. Returns samples and counts.

    A prompt that alone fills ``max_length`` leaves no room for its response: with
    ``overlong: drop`` that row is dropped and counted like any overlong row; with
    ``truncate`` it is an error naming the row (1-based), since truncating would
    train on nothing.
    """
    if tokenizer.eos_token_id is None:
        raise DartError("base model tokenizer has no EOS token; cannot end responses")
    pairs = read_pairs(path)
    samples: list[Sample] = []
    counts = {"rows": len(pairs), "truncated": 0, "dropped": 0}
    for index, (query, response) in enumerate(pairs):
        sample = tokenize_pair(tokenizer, template.render(query, tokenizer), response)
        prompt_len = sample.labels.count(IGNORE)  # only prompt tokens are masked
        if prompt_len >= max_length and overlong != "drop":
            raise DartError(
                f"{path}: row {index + 1}: prompt is {prompt_len} tokens, max_length={max_length} "
                "leaves no room for the response; raise the hyperparameter max_length "
                "(or set overlong: drop)"
            )
        if len(sample) > max_length:
            if overlong == "drop":
                counts["dropped"] += 1
                continue
            counts["truncated"] += 1
            sample = Sample(sample.input_ids[:max_length], sample.labels[:max_length])
        samples.append(sample)
    if not samples:
        raise DartError(f"{path}: every row is longer than max_length={max_length} and was dropped")
    counts["samples"] = len(samples)
    counts["tokens"] = sum(len(s) for s in samples)
    counts["target_tokens"] = sum(sum(t != IGNORE for t in s.labels) for s in samples)
    return samples, counts


def pack_bfd(lengths: Sequence[int], capacity: int, seed: int) -> list[list[int]]:
    """Best-fit decreasing: sample indices grouped into rows of at most ``capacity`` tokens.

    Samples go longest first (ties in a seeded random order) into the open row with the
    least room that still fits them, else into a new row. Deterministic given ``seed``.
    """
    import numpy as np

    order = list(range(len(lengths)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: -lengths[i])  # stable: ties keep the seeded order
    rows: list[list[int]] = []
    by_room: list[list[int]] = [[] for _ in range(capacity + 1)]  # room -> open rows
    open_rooms = np.zeros(capacity + 1, dtype=bool)
    for i in order:
        need = lengths[i]
        if need > capacity:
            raise ValueError(f"sample {i} has {need} tokens > capacity {capacity}")
        fits = np.flatnonzero(open_rooms[need:])
        if fits.size:
            room = need + int(fits[0])
            row = by_room[room].pop()
            open_rooms[room] = bool(by_room[room])
        else:
            row, room = len(rows), capacity
            rows.append([])
        rows[row].append(i)
        left = room - need
        if left > 0:
            by_room[left].append(row)
            open_rooms[left] = True
    return rows


def make_rows(
    samples: Sequence[Sample], max_length: int, batch_unit: str, seed: int
) -> list[list[Sample]]:
    """The training units: one sample each, or BFD-packed rows of <= max_length tokens."""
    if batch_unit == "samples":
        return [[s] for s in samples]
    groups = pack_bfd([len(s) for s in samples], max_length, seed)
    return [[samples[i] for i in group] for group in groups]


class PackedCollator:
    """Flatten a micro-batch of rows into one sequence: input_ids, labels, position_ids.

    Built on transformers' ``DataCollatorWithFlattening``; never returns an attention mask.
    With ``flash_kwargs`` it adds the ``cu_seq_lens_*``/``max_length_*`` kwargs flash
    attention uses.
    """

    def __init__(self, flash_kwargs: bool = False) -> None:
        from transformers import DataCollatorWithFlattening

        self.inner = DataCollatorWithFlattening(
            return_position_ids=True, separator_id=IGNORE, return_flash_attn_kwargs=flash_kwargs
        )

    def __call__(self, rows: Sequence[Sequence[Sample]]) -> dict[str, Any]:
        features = [
            {"input_ids": list(s.input_ids), "labels": list(s.labels)} for row in rows for s in row
        ]
        batch = self.inner(features, return_tensors="pt")
        if "attention_mask" in batch:  # would let packed samples attend to each other
            raise AssertionError("packed batch must not carry an attention_mask")
        return dict(batch)


class PaddedCollator:
    """Pad each sample of a micro-batch to the longest one (labels -100, attention mask 0).

    The unpacked baseline (``packing: false``); every row of a micro-batch is one sample.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, rows: Sequence[Sequence[Sample]]) -> dict[str, Any]:
        import torch

        samples = [s for row in rows for s in row]
        width = max(len(s) for s in samples)
        ids, labels, mask = [], [], []
        for s in samples:
            pad = width - len(s)
            ids.append(list(s.input_ids) + [self.pad_id] * pad)
            labels.append(list(s.labels) + [IGNORE] * pad)
            mask.append([1] * len(s) + [0] * pad)
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }
