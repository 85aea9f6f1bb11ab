"""Prompt templates: exact text, stop strings, versions."""

from __future__ import annotations

import pytest

from dart.engines.tiny import build_tokenizer
from dart.errors import DartError
from dart.prompts import TEMPLATES, get_template


def test_dart_synth_is_exactly_the_paper_prompt():
    t = get_template("dart-synth")
    assert t.render("What is 2 + 3?") == (
        "User: What is 2 + 3?\n"
        "Please reason step by step, and put your final answer within \\boxed{}.\n\nAssistant:"
    )
    assert t.stop == ("User:", "Assistant:")


def test_alpaca():
    text = get_template("alpaca").render("Q?")
    assert text.startswith("Below is an instruction that describes a task.")
    assert text.endswith("### Instruction:\nQ?\n\n### Response:\n")


def test_chat_uses_the_tokenizer_template():
    tok = build_tokenizer()
    text = get_template("chat").render("Q?", tok)
    assert (
        text
        == "<s>user: Q?\nPlease reason step by step, and put your final answer within \\boxed{}.\n<s>assistant: "
    )
    with pytest.raises(DartError, match="chat template"):
        get_template("chat").render("Q?")


def test_few_shot_examples_come_before_the_query():
    text = get_template("few-shot").render("Q?")
    assert text.count("The answer is \\boxed{") == 4  # four worked answers
    assert text.endswith(
        "User: Q?\nPlease reason step by step, and put your final answer within \\boxed{}.\n\nAssistant:"
    )
    chat = get_template("chat-few-shot").render("Q?", build_tokenizer())
    assert chat.count("<s>assistant: ") == 5


def test_every_template_has_a_version_and_unknown_names_fail():
    for name, t in TEMPLATES.items():
        assert t.name == name and t.version
        assert t.describe()["version"] == t.version
    with pytest.raises(DartError, match="unknown prompt template"):
        get_template("nope")
