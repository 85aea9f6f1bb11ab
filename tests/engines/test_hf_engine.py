"""The transformers engine on a tiny random Llama: stops, lengths, counts, seeds, and
agreement of its own decode loop with Hugging Face's greedy ``generate``."""

from __future__ import annotations

import pytest
import torch

from dart.engines import get_engine, hf
from dart.engines.base import Request, SamplingParams
from dart.engines.tiny import build_tiny_model
from dart.errors import DartError


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return get_engine("transformers", str(path), threads=1, batch_size=4)


def _requests(n: int, seed0: int = 0, prompt: str = "User: 2+2?") -> list[Request]:
    return [Request(f"r{i}", prompt if i % 2 else prompt + " ok", seed0 + i) for i in range(n)]


def test_order_counts_and_length(engine):
    params = SamplingParams(temperature=1.0, max_new_tokens=12)
    reqs = _requests(9)
    done = engine.generate(reqs, params)
    assert [c.request_id for c in done] == [r.request_id for r in reqs]
    for c, r in zip(done, reqs, strict=True):
        assert c.prompt_tokens == len(engine.tokenizer(r.prompt)["input_ids"])
        assert 1 <= c.completion_tokens <= 12
        if c.finish_reason == "length":
            assert c.completion_tokens == 12
            # special tokens (<s>, <pad>) are generated but not part of the text
            assert len(engine.tokenizer(c.text, add_special_tokens=False)["input_ids"]) <= 12
    assert any(c.finish_reason == "length" for c in done)


def test_stop_strings_cut_text(engine):
    stops = ("a", "e", "o")
    done = engine.generate(
        _requests(8), SamplingParams(temperature=1.0, max_new_tokens=200, stop=stops)
    )
    stopped = [c for c in done if c.finish_reason == "stop"]
    assert stopped
    for c in done:
        assert not any(s in c.text for s in stops)
    # the cut text is a prefix of what was generated: fewer characters than tokens
    assert any(len(c.text) < c.completion_tokens for c in stopped)


def test_same_chunk_same_text_and_each_request_has_its_own_seed(engine):
    """What the engine promises (its docstring): the same call on the same requests gives
    the same text; batch invariance is not promised, so not asserted. A request's
    sampling follows its own seed: changing that one seed changes its text and only
    its seed is changed."""
    params = SamplingParams(temperature=1.0, top_p=0.9, max_new_tokens=30)
    chunk = [*_requests(5, seed0=100), Request("x", "User: 2+2?", 42), *_requests(3, seed0=7)]
    first, second = engine.generate(chunk, params), engine.generate(chunk, params)
    assert [(c.text, c.completion_tokens, c.finish_reason) for c in first] == [
        (c.text, c.completion_tokens, c.finish_reason) for c in second
    ]
    reseeded = [Request("x", "User: 2+2?", 43) if r.request_id == "x" else r for r in chunk]
    other = engine.generate(reseeded, params)
    assert other[5].request_id == "x" and other[5].text != first[5].text


def test_different_seeds_different_texts(engine):
    params = SamplingParams(temperature=1.0, max_new_tokens=20)
    done = engine.generate([Request(f"s{i}", "User: 2+2?", i) for i in range(6)], params)
    assert len({c.text for c in done}) == 6


@pytest.mark.parametrize("grow", [256, 3])
def test_greedy_matches_hf_generate(engine, grow, monkeypatch):
    # grow=3 fills the cache every few steps, so column compaction runs many times
    monkeypatch.setattr(hf._Cache, "GROW", grow)
    prompts = [
        "User: what is 3+4?",
        "Hi",
        "A longer prompt, with more characters in it.",
        "x",
        "yy",
    ]
    params = SamplingParams(temperature=0.0, max_new_tokens=15)
    done = engine.generate([Request(str(i), p, 0) for i, p in enumerate(prompts)], params)
    for p, c in zip(prompts, done, strict=True):
        ids = engine.tokenizer(p, return_tensors="pt")
        with torch.inference_mode():
            out = engine.model.generate(**ids, do_sample=False, max_new_tokens=15)
        new = out[0, ids["input_ids"].shape[1] :].tolist()
        if engine.tokenizer.eos_token_id in new:
            new = new[: new.index(engine.tokenizer.eos_token_id)]
        assert c.text == engine.tokenizer.decode(new, skip_special_tokens=True)


def _hf_greedy(engine, prompt: str, max_new_tokens: int) -> str:
    ids = engine.tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        out = engine.model.generate(**ids, do_sample=False, max_new_tokens=max_new_tokens)
    new = out[0, ids["input_ids"].shape[1] :].tolist()
    if engine.tokenizer.eos_token_id in new:
        new = new[: new.index(engine.tokenizer.eos_token_id)]
    return engine.tokenizer.decode(new, skip_special_tokens=True)


def test_shared_preamble_is_prefilled_once_and_changes_nothing(engine):
    preamble = "Example: 1+1=2. Example: 2+2=4. Example: 3+3=6.\nUser: "
    prompts = [preamble + q for q in ("what is 3+4?", "5-1?", "a much longer question here?")]
    ids = [engine.encode(p) for p in prompts]
    shared = engine.shared_prefix(ids)
    assert shared is not None and shared.length == len(engine.encode(preamble))
    assert engine.shared_prefix([engine.encode("short"), engine.encode("shirt")]) is None
    params = SamplingParams(temperature=0.0, max_new_tokens=15)
    done = engine.generate([Request(str(i), p, 0) for i, p in enumerate(prompts)], params)
    for p, c in zip(prompts, done, strict=True):
        assert c.text == _hf_greedy(engine, p, 15)


def test_top_k_one_is_greedy(engine):
    reqs = _requests(4)
    greedy = engine.generate(reqs, SamplingParams(temperature=0.0, max_new_tokens=10))
    top1 = engine.generate(reqs, SamplingParams(temperature=1.0, top_k=1, max_new_tokens=10))
    assert [c.text for c in greedy] == [c.text for c in top1]


def test_sampling_params_validation():
    with pytest.raises(DartError):
        SamplingParams(temperature=1.0, top_k=0)
    with pytest.raises(DartError, match="unknown key"):
        SamplingParams.from_dict({"temperature": 1.0, "topp": 0.9})
    p = SamplingParams.from_dict({"temperature": 1.0, "stop": ["x"]}).with_stop(("y", "x"))
    assert p.stop == ("x", "y")


def test_unknown_engine():
    with pytest.raises(DartError, match="unknown engine"):
        get_engine("nope", "m")


def test_prompt_longer_than_the_context_is_refused_by_name(engine):
    # the tiny model's context is 1,024 tokens; its tokenizer is one token per character
    params = SamplingParams(temperature=0.0, max_new_tokens=4)
    with pytest.raises(DartError, match=r"request long: the prompt has 2\d{3} tokens.*1024"):
        engine.generate([Request("ok", "2+2?", 0), Request("long", "7" * 2000, 0)], params)
