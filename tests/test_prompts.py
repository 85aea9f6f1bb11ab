"""Prompt templates: exact text, stop strings, and versions pinned to their text."""

from __future__ import annotations

import dataclasses
import hashlib

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


#: template -> (version, sha256 prefix of its rendered text and stop strings). A template
#: whose text changes without a version bump reruns nothing downstream: this test fails
#: instead. After a deliberate change, bump the version in dart/prompts.py, then pin both.
PINNED = {
    "dart-synth": ("1", "9e72f5a2608d0cc8"),
    "alpaca": ("2", "7a72206c57d34c4c"),
    "chat": ("1", "e1bc5ab4c5e3627e"),
    "chat-few-shot": ("1", "dde992af43e45a15"),
    "few-shot": ("1", "35e7986490726d94"),
    "base-few-shot": ("1", "33f962b4d4d1dd26"),
    "base-few-shot-5": ("1", "98655b065927bd66"),
}


def _fingerprint(template) -> str:
    """The hash of what a template gives: its text for a placeholder query (chat templates
    through the tiny tokenizer's chat template) and its stop strings."""
    tokenizer = build_tokenizer() if template.name.startswith("chat") else None
    text = template.render("{QUERY}", tokenizer)
    return hashlib.sha256(repr((text, template.stop)).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_text_is_pinned_to_its_version(name):
    t = TEMPLATES[name]
    assert name in PINNED, f"new template {name}: pin ({t.version!r}, {_fingerprint(t)!r})"
    version, fingerprint = PINNED[name]
    if _fingerprint(t) != fingerprint:
        assert t.version != version, f"{name}: text or stop strings changed, version not bumped"
        pytest.fail(
            f"{name}: version bumped to {t.version}; pin ({t.version!r}, {_fingerprint(t)!r})"
        )
    assert t.version == version, f"{name}: version changed with the same text; pin it"
    assert t.name == name and t.describe()["version"] == t.version


def test_the_pin_sees_a_changed_text():
    alpaca = TEMPLATES["alpaca"]
    edited = dataclasses.replace(alpaca, stop=(*alpaca.stop, "###"))
    assert _fingerprint(edited) != PINNED["alpaca"][1]


def test_unknown_names_fail():
    assert set(PINNED) == set(TEMPLATES)
    with pytest.raises(DartError, match="unknown prompt template"):
        get_template("nope")
