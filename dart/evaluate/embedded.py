"""Embedded benchmarks for the offline default: no download, deterministic in a seed.

- ``generated``: held-out questions of the query generator (dart.queries.generator),
  levels 1-5 interleaved. Use a seed distinct from the training queries' seed; a few
  questions can still coincide with a training draw (measured: seed 1007, 100 items: none
  against the default 40 queries of seed 7, 5 against 400), which the decontamination
  step reports and drops from the datasets.
- ``word-problems``: GSM8K-style word problems with exact integer answers: a start
  amount, then steps such as finding more, giving some away, buying packs, receiving as
  many again. Level 1: one small addition or subtraction; 2: two; 3: two, with packs
  (a product); 4: three steps with larger numbers; 5: three steps, then a fair share.

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


#: level -> (steps before the question, kinds of step allowed, largest number in a step)
LEVEL_PLAN = {
    1: (1, ("find", "give"), 9),
    2: (2, ("find", "give"), 9),
    3: (2, ("find", "give", "packs"), 12),
    4: (3, ("find", "give", "packs", "double"), 25),
    5: (3, ("find", "give", "packs", "double"), 25),  # then a fair share
}


def _step(r: random.Random, value: int, thing: str, person: tuple, kinds, top: int):
    """One sentence that changes the amount, and the new amount (always > 0)."""
    _, he, him, his = person
    kind = r.choice(kinds if value > 3 else ("find",))
    if kind == "find":
        k = r.randint(2, top)
        return f"Then {he} finds {k} more {thing}.", value + k
    if kind == "give":
        k = r.randint(2, min(top, value - 1))
        return f"Then {he} gives {k} {thing} to a friend.", value - k
    if kind == "packs":
        packs, each = r.randint(2, 5), r.randint(2, min(top, 12))
        return (
            f"Then {he} buys {packs} packs with {each} {thing} in each pack.",
            value + packs * each,
        )
    return f"Then {his} aunt gives {him} as many {thing} as {he} already has.", 2 * value


def word_problem(r: random.Random, level: int) -> tuple[str, int]:
    """A word problem of ``level`` (LEVEL_PLAN; level 5 ends in a fair share)."""
    steps, kinds, top = LEVEL_PLAN[level]
    person = r.choice(NAMES)
    name, he, _, his = person
    thing = r.choice(THINGS)
    value = r.randint(3, 20 if level <= 3 else 40)
    sentences = [f"{name} has {value} {thing}."]
    for _ in range(steps):
        sentence, value = _step(r, value, thing, person, kinds, top)
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
