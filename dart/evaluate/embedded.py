"""Embedded benchmarks for the offline default: no download, deterministic in a seed.

- ``generated``: held-out questions of the query generator (dart.queries.generator),
  levels 1-5 interleaved. Use a seed distinct from the training queries' seed; the
  small level-1 question space still overlaps any training draw, which is what the
  decontamination step reports and drops.
- ``word-problems``: GSM8K-style word problems with exact integer answers. Level = the
  number of arithmetic steps (1-5): a start amount, then steps such as buying packs,
  giving some away, receiving as many again, and at level 5 sharing equally.

    dart benchmark generated 1007 --n 100 -o data/benchmarks/generated.parquet
    dart benchmark word-problems 11 --n 100 -o data/benchmarks/word-problems.parquet
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from dart.errors import DartError
from dart.queries.generator import generate

NAMES = (
    ("Maya", "she", "her", "her"),
    ("Omar", "he", "him", "his"),
    ("Lena", "she", "her", "her"),
    ("Tariq", "he", "him", "his"),
    ("Rosa", "she", "her", "her"),
    ("Kenji", "he", "him", "his"),
    ("Priya", "she", "her", "her"),
    ("Felix", "he", "him", "his"),
)
THINGS = ("stamps", "beads", "crayons", "seashells", "buttons", "postcards", "cookies", "toy cars")
LEVELS = (1, 2, 3, 4, 5)


def _seed(source: str, kind: str) -> int:
    try:
        return int(source)
    except (TypeError, ValueError):
        raise DartError(
            f"{kind} benchmark: SOURCE must be an integer seed, got {source!r}"
        ) from None


def generated_items(source: str, n: int) -> Iterator[dict]:
    """The query generator's questions for seed ``source`` as benchmark records."""
    seed = _seed(source, "generated")
    for rec in generate(seed, n):
        yield {
            "question": rec["query"],
            "gold": rec["gold"],
            "answer_kind": "math",
            "level": rec["level"],
            "subject": rec["subject"],
            "source_id": rec["source_id"].replace("gen-", "bench-gen-", 1),
        }


def _step(r: random.Random, value: int, thing: str, person: tuple) -> tuple[str, int]:
    """One sentence that changes the amount, and the new amount (always > 0)."""
    _, he, him, his = person
    kind = r.choice(("find", "give", "packs", "double") if value > 3 else ("find", "packs"))
    if kind == "find":
        k = r.randint(2, 25)
        return f"Then {he} finds {k} more {thing}.", value + k
    if kind == "give":
        k = r.randint(2, value - 1)
        return f"Then {he} gives {k} {thing} to a friend.", value - k
    if kind == "packs":
        packs, each = r.randint(2, 6), r.randint(3, 12)
        return (
            f"Then {he} buys {packs} packs with {each} {thing} in each pack.",
            value + packs * each,
        )
    return f"Then {his} aunt gives {him} as many {thing} as {he} already has.", 2 * value


def word_problem(r: random.Random, level: int) -> tuple[str, int]:
    """A word problem of ``level`` steps (the last one a fair share at level 5)."""
    person = r.choice(NAMES)
    name, he, _, his = person
    thing = r.choice(THINGS)
    value = r.randint(5, 40)
    sentences = [f"{name} has {value} {thing}."]
    for _ in range(level - 1 if level == 5 else level):
        sentence, value = _step(r, value, thing, person)
        sentences.append(sentence)
    if level == 5:
        friends = r.choice([k for k in range(2, 9) if value % k == 0] or [1])
        if friends == 1:
            value, friends = value * 2, 2
            sentences.append(f"Then {he} finds as many {thing} again.")
        sentences.append(
            f"{name} shares all of {his} {thing} equally among {friends} friends. "
            f"How many {thing} does each friend get?"
        )
        return " ".join(sentences), value // friends
    sentences.append(f"How many {thing} does {name} have now?")
    return " ".join(sentences), value


def word_problem_items(source: str, n: int) -> Iterator[dict]:
    """``n`` distinct word problems for seed ``source``, levels 1-5 interleaved."""
    seed = _seed(source, "word-problems")
    rng = random.Random(f"word-problems/{seed}")
    seen: set[str] = set()
    attempts = 0
    while len(seen) < n:
        level = LEVELS[len(seen) % len(LEVELS)]
        question, answer = word_problem(rng, level)
        attempts += 1
        if attempts > 50 * n + 1000:
            raise DartError(f"word-problems seed {seed}: could not find {n} distinct problems")
        if question in seen:
            continue
        seen.add(question)
        yield {
            "question": question,
            "gold": str(answer),
            "answer_kind": "gsm8k",
            "level": level,
            "subject": "word problem",
            "source_id": f"wp-{seed}-{len(seen):05d}",
        }
