"""Versioned prompt templates.

A template turns a query into the exact text an engine completes, and names the
stop strings that end a response. Each has a ``version``; any change that alters
the rendered text or the stop strings bumps it, and the version goes into every
generated row and provenance record.

    from dart.prompts import get_template
    t = get_template("dart-synth")
    t.render("What is 2 + 3?")
    # 'User: What is 2 + 3?\\nPlease reason step by step, and put your final answer
    #  within \\\\boxed{}.\\n\\nAssistant:'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dart.errors import DartError

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

#: Worked examples for ``few-shot`` (short, each ending in one boxed answer).
EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "What is 15 + 27?",
        "We add the tens and the ones: 10 + 20 = 30 and 5 + 7 = 12, so 30 + 12 = 42.\n"
        "The answer is \\boxed{42}.",
    ),
    (
        "Solve for x: 3x - 4 = 11.",
        "Add 4 to both sides: 3x = 15. Divide both sides by 3: x = 5.\nThe answer is \\boxed{5}.",
    ),
    (
        "A box holds 6 rows of 8 eggs. How many eggs are in 4 boxes?",
        "One box holds 6 * 8 = 48 eggs, so 4 boxes hold 4 * 48 = 192 eggs.\n"
        "The answer is \\boxed{192}.",
    ),
    (
        "What is 7 * 9 - 20?",
        "First 7 * 9 = 63, then 63 - 20 = 43.\nThe answer is \\boxed{43}.",
    ),
)


#: Worked examples for the base-model evaluation prompt, each ending "The answer is X.".
EVAL_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "Tom has 3 boxes with 12 pencils in each box. He gives away 9 pencils. "
        "How many pencils does he have left?",
        "The boxes hold 3 * 12 = 36 pencils. After giving away 9 he has 36 - 9 = 27 pencils.\n"
        "The answer is 27.",
    ),
    (
        "Solve for $x$: $5x + 7 = 22$.",
        "Subtract 7 from both sides: $5x = 15$. Divide by 5: $x = 3$.\nThe answer is 3.",
    ),
    (
        "What is $\\frac{1}{2} + \\frac{1}{3}$?",
        "With the common denominator 6: $\\frac{3}{6} + \\frac{2}{6} = \\frac{5}{6}$.\n"
        "The answer is $\\frac{5}{6}$.",
    ),
    (
        "A rectangle is 8 cm long and 5 cm wide. What is its area in square centimetres?",
        "The area is length times width: 8 * 5 = 40.\nThe answer is 40.",
    ),
    (
        "Is 91 a prime number?",
        "91 = 7 * 13, so it has divisors other than 1 and itself. It is not prime.\n"
        "The answer is False.",
    ),
)


@dataclass(frozen=True)
class Template:
    """A prompt template: ``render(query, tokenizer)`` gives the text to complete."""

    name: str
    version: str
    stop: tuple[str, ...]
    description: str

    def render(self, query: str, tokenizer: Any = None) -> str:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "stop": list(self.stop)}


@dataclass(frozen=True)
class Synth(Template):
    """DART-Math's synthesis prompt (deepseek-math style, 0-shot)."""

    def render(self, query: str, tokenizer: Any = None) -> str:
        return f"User: {query}\n{INSTRUCTION}\n\nAssistant:"


@dataclass(frozen=True)
class Alpaca(Template):
    """The Alpaca prompt used for fine-tuning and evaluating fine-tuned models."""

    def render(self, query: str, tokenizer: Any = None) -> str:
        return (
            "Below is an instruction that describes a task. "
            "Write a response that appropriately completes the request.\n\n"
            f"### Instruction:\n{query}\n\n### Response:\n"
        )


@dataclass(frozen=True)
class FewShot(Template):
    """``k`` worked examples in the synthesis format, then the query."""

    k: int = 4

    def render(self, query: str, tokenizer: Any = None) -> str:
        shots = [f"User: {q}\n{INSTRUCTION}\n\nAssistant: {a}\n\n" for q, a in EXAMPLES[: self.k]]
        return "".join(shots) + f"User: {query}\n{INSTRUCTION}\n\nAssistant:"


@dataclass(frozen=True)
class BaseFewShot(Template):
    """Few-shot evaluation of a base model (as DART-Math evaluated base models): ``User:``/``Assistant:`` turns,
    worked examples ending "The answer is X.", then the query. 4 shots; 5 for TheoremQA."""

    k: int = 4

    def render(self, query: str, tokenizer: Any = None) -> str:
        shots = [f"User: {q}\n\nAssistant: {a}\n\n" for q, a in EVAL_EXAMPLES[: self.k]]
        return "".join(shots) + f"User: {query}\n\nAssistant:"


@dataclass(frozen=True)
class Chat(Template):
    """The tokenizer's own chat template; one user turn with the boxed-answer instruction.

    With ``shots`` > 0 the worked examples come first as earlier user/assistant turns.
    """

    shots: int = 0

    def render(self, query: str, tokenizer: Any = None) -> str:
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise DartError(f"template {self.name!r} needs a tokenizer with a chat template")
        messages = []
        for q, a in EXAMPLES[: self.shots]:
            messages += [
                {"role": "user", "content": f"{q}\n{INSTRUCTION}"},
                {"role": "assistant", "content": a},
            ]
        messages.append({"role": "user", "content": f"{query}\n{INSTRUCTION}"})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Synth("dart-synth", "1", ("User:", "Assistant:"), "DART-Math synthesis prompt"),
        # v2: stop strings as the DART-Math evaluation (### Instruction: and ### Response:); v1 had "</s>".
        Alpaca("alpaca", "2", ("### Instruction:", "### Response:"), "Alpaca instruction prompt"),
        Chat("chat", "1", (), "tokenizer chat template, boxed-answer instruction"),
        Chat("chat-few-shot", "1", (), "chat template after 4 worked examples", shots=4),
        FewShot("few-shot", "1", ("User:", "Assistant:"), "4 worked examples, then the query"),
        BaseFewShot(
            "base-few-shot", "1", ("User:", "Assistant:"), "base-model evaluation, 4 shots", k=4
        ),
        BaseFewShot(
            "base-few-shot-5", "1", ("User:", "Assistant:"), "base-model evaluation, 5 shots", k=5
        ),
    )
}


def get_template(name: str) -> Template:
    """The template registered as ``name``."""
    if name not in TEMPLATES:
        raise DartError(f"unknown prompt template {name!r}; known: {sorted(TEMPLATES)}")
    return TEMPLATES[name]
