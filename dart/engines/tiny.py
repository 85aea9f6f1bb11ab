"""A tiny random Llama (two layers, character vocabulary) for tests and smoke runs.

It loads like any Hugging Face folder and generates gibberish quickly, which is all
the engine and pool tests need: real tokenizer, real model, real sampling.

    python -m dart.engines.tiny /tmp/tiny-llama
"""

from __future__ import annotations

import string
import sys
from pathlib import Path
from typing import Any

SPECIALS = ("<unk>", "<pad>", "<s>", "</s>")
CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant: {% endif %}"
)


def build_tokenizer():
    """A character-level fast tokenizer: printable ASCII plus four special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(string.printable) - set("\x0b\x0c\r"))
    vocab = {tok: i for i, tok in enumerate((*SPECIALS, *chars))}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_llama_config(tokenizer, **overrides: Any):
    """A two-layer Llama config sized for ``tokenizer`` (``overrides`` replace settings)."""
    from transformers import LlamaConfig  # deferred: transformers is heavy

    settings = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 1024,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    return LlamaConfig(**{**settings, **overrides})


def build_tiny_model(path: str | Path, seed: int = 0) -> Path:
    """Write a random two-layer Llama and its tokenizer to ``path``; return the path."""
    import torch
    from transformers import LlamaForCausalLM

    tokenizer = build_tokenizer()
    config = tiny_llama_config(tokenizer)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # wider logits: less uniform, so some texts end early
        model.lm_head.weight.mul_(8.0)
    out = Path(path)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


if __name__ == "__main__":
    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-llama"))
