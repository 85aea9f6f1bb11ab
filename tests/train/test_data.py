"""Tokenising, packing and collators: packed samples never see each other."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from dart.errors import DartError
from dart.prompts import get_template
from dart.train.data import (
    IGNORE,
    PackedCollator,
    PaddedCollator,
    load_samples,
    make_rows,
    pack_bfd,
    tokenize_pair,
)
from tests.train.conftest import write_dataset


@pytest.fixture(scope="module")
def tiny(tiny_base):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_base, attn_implementation="sdpa")
    model.config.use_cache = False  # as in training: with a KV cache no packed mask is built
    return model.eval(), AutoTokenizer.from_pretrained(tiny_base)


def test_prompt_is_masked_and_eos_appended(tiny):
    _, tok = tiny
    prompt = get_template("alpaca").render("What is 1 + 1?")
    sample = tokenize_pair(tok, prompt, "2")
    n_prompt = len(tok(prompt)["input_ids"])
    assert sample.labels[:n_prompt] == (IGNORE,) * n_prompt
    assert sample.labels[n_prompt:] == sample.input_ids[n_prompt:]
    assert sample.input_ids[-1] == tok.eos_token_id
    assert tok.decode(sample.input_ids[n_prompt:-1]) == "2"


def test_overlong_truncated_or_dropped_and_counted(tiny, tmp_path):
    _, tok = tiny
    path = write_dataset(tmp_path / "d.parquet", n=12)
    template = get_template("alpaca")
    full, counts = load_samples(path, tok, template, 10_000, "truncate")
    assert counts["truncated"] == counts["dropped"] == 0
    limit = sorted(len(s) for s in full)[6]
    cut, counts = load_samples(path, tok, template, limit, "truncate")
    assert counts["truncated"] == sum(len(s) > limit for s in full) > 0
    assert len(cut) == 12 and max(len(s) for s in cut) == limit
    kept, counts = load_samples(path, tok, template, limit, "drop")
    assert counts["dropped"] == sum(len(s) > limit for s in full)
    assert len(kept) == 12 - counts["dropped"]
    with pytest.raises(DartError, match="max_length"):
        load_samples(path, tok, template, 50, "truncate")  # the Alpaca preamble alone is longer


def test_one_prompt_over_max_length_is_dropped_with_drop_and_named_with_truncate(tiny, tmp_path):
    """Issue 14 item 11: with ``overlong: drop`` one prompt at or above max_length is
    dropped and counted (it stopped the fine-tune); ``truncate`` names the row, 1-based."""
    import polars as pl

    _, tok = tiny
    path = write_dataset(tmp_path / "d.parquet", n=6)
    frame = pl.read_parquet(path)
    long_query = "What is " + " + ".join(["1"] * 400) + "?"
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(long_query))
        .otherwise("query")
        .alias("query")
    )
    frame.write_parquet(path)
    template = get_template("alpaca")
    kept, counts = load_samples(path, tok, template, 512, "drop")
    assert (len(kept), counts["dropped"], counts["rows"]) == (5, 1, 6)
    with pytest.raises(DartError, match=r"d.parquet: row 3: prompt is \d+ tokens, max_length=512"):
        load_samples(path, tok, template, 512, "truncate")


def test_bfd_fills_rows_deterministically():
    rng = random.Random(0)
    lengths = [rng.randint(5, 90) for _ in range(200)]
    rows = pack_bfd(lengths, 100, seed=1)
    assert sorted(i for r in rows for i in r) == list(range(200))
    assert all(sum(lengths[i] for i in r) <= 100 for r in rows)
    assert rows == pack_bfd(lengths, 100, seed=1)
    lower_bound = -(-sum(lengths) // 100)
    assert len(rows) <= lower_bound * 1.1 + 1  # BFD is within a few % of optimal here


def _samples(tok, n=3):
    template = get_template("alpaca")
    texts = ["2", "The answer is \\boxed{4}.", "We add: 3 + 4 = 7, so \\boxed{7}."]
    queries = ["What is 1 + 1?", "What is 2 + 2?", "What is 3 + 4? Show the work."]
    return [tokenize_pair(tok, template.render(q), r) for q, r in zip(queries, texts, strict=True)][
        :n
    ]


def _per_sample_loss(logits, labels, bounds):
    """Summed next-token loss of each sample (labels shifted inside each span)."""
    out = []
    for start, end in bounds:
        lg, lb = logits[start : end - 1], labels[start + 1 : end]
        out.append(F.cross_entropy(lg.float(), lb, ignore_index=IGNORE, reduction="sum"))
    return torch.stack(out)


def test_packed_losses_equal_one_at_a_time(tiny):
    model, tok = tiny
    samples = _samples(tok)
    batch = PackedCollator()([samples])  # one packed row holding three samples
    assert set(batch) == {"input_ids", "labels", "position_ids"}
    lengths = [len(s) for s in samples]
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    bounds = [(a, a + n) for a, n in zip(starts, lengths, strict=True)]
    assert [int(batch["position_ids"][0, a]) for a in starts] == [0, 0, 0]
    assert all(int(batch["labels"][0, a]) == IGNORE for a in starts)
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits[0]
        alone = [model(input_ids=torch.tensor([s.input_ids])).logits[0] for s in samples]
    packed_loss = _per_sample_loss(packed, batch["labels"][0], bounds)
    alone_loss = torch.stack(
        [
            _per_sample_loss(lg, torch.tensor(s.labels), [(0, len(s))])[0]
            for lg, s in zip(alone, samples, strict=True)
        ]
    )
    torch.testing.assert_close(packed_loss, alone_loss, rtol=1e-5, atol=1e-4)
    for (a, b), lg in zip(bounds, alone, strict=True):
        torch.testing.assert_close(packed[a:b], lg, rtol=1e-4, atol=1e-4)
    # The model's own loss over the packed row is the token-mean of the per-sample sums.
    with torch.no_grad():
        total = model(**batch).loss
    n_targets = sum(sum(t != IGNORE for t in s.labels) for s in samples)
    torch.testing.assert_close(total, alone_loss.sum() / n_targets, rtol=1e-5, atol=1e-5)


def test_a_2d_mask_would_leak_and_our_collator_never_sends_one(tiny):
    """The trap of DESIGN.md 11: an all-ones 2-D mask makes packed samples attend to each other."""
    model, tok = tiny
    samples = _samples(tok)
    for rows in ([samples], [[s] for s in samples], make_rows(samples, 10_000, "packed_rows", 0)):
        assert "attention_mask" not in PackedCollator()(rows)
        assert "attention_mask" not in PackedCollator(flash_kwargs=True)(rows)
    batch = PackedCollator()([samples])
    with torch.no_grad():
        right = model(**batch).loss
        leaky = model(**batch, attention_mask=torch.ones_like(batch["input_ids"])).loss
        cached = model(**batch, use_cache=True).loss  # a KV cache also skips the packed mask
    assert not torch.allclose(right, leaky, atol=1e-3)  # the test above would catch a leak
    assert not torch.allclose(right, cached, atol=1e-3)


def test_padded_collator_masks_padding(tiny):
    model, tok = tiny
    samples = _samples(tok)
    batch = PaddedCollator(tok.pad_token_id)([[s] for s in samples])
    width = max(len(s) for s in samples)
    assert batch["input_ids"].shape == (3, width)
    assert batch["attention_mask"].sum().item() == sum(len(s) for s in samples)
    with torch.no_grad():
        padded = model(**batch).loss
        packed = model(**PackedCollator()([samples])).loss
    torch.testing.assert_close(padded, packed, rtol=1e-4, atol=1e-4)


def test_read_pairs_names_the_file_row_and_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dart.errors import DartError
    from dart.train.data import read_pairs

    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"query": ["q1", "q2"], "response": ["r1", "r2"], "x": [1, 2]}), good)
    assert read_pairs(good) == [("q1", "r1"), ("q2", "r2")]
    cases = {
        "ints.parquet": (pa.table({"query": ["q"], "response": [3]}), "column 'response' must be text, got int64"),
        "nulls.parquet": (
            pa.table({"query": ["q", None, None], "response": ["r", "r", "r"]}),
            "row 2: null query or response \\(2 such",
        ),
        "cols.parquet": (pa.table({"query": ["q"]}), "dataset lacks column\\(s\\) response \\(has query\\)"),
        "empty.parquet": (pa.table({"query": pa.array([], pa.string()),
                                    "response": pa.array([], pa.string())}), "dataset is empty"),
    }  # fmt: skip
    for name, (table, message) in cases.items():
        pq.write_table(table, tmp_path / name)
        with pytest.raises(DartError, match=f"{name}: {message}"):
            read_pairs(tmp_path / name)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DartError, match="truncated.parquet: cannot read dataset"):
        read_pairs(truncated)
