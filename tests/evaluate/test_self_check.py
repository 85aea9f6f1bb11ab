"""Every item of every benchmark file we can build, answered with its own reference written
the way a model writes it, scores 100% correct (issue 17 item 1).

1.2 failed this on TheoremQA floats typed in e-notation (``4e-05``: 5 of the 800 published
items wrong against their own answer under both tolerances) and on DeepMind-Mathematics
bracketed lists written as a list (``3, 5`` against ``[3, 5]``: 8 of 1,000).
"""

import json

import pytest
from eval_schemas import FILES, write

from dart.evaluate.benchmarks import REGISTRY, load_benchmark
from dart.evaluate.scoring import TOLERANCES, score_rows

# Published-schema rows of the shapes that failed, added to the small files of eval_schemas.
EXTRA = {
    "theoremqa": [
        {"Question": f"q{i}", "Answer": value, "Answer_type": "float", "Picture": None,
         "id": f"e{i}", "theorem": "t", "subfield": "s"}
        for i, value in enumerate([4e-05, 1.28e-06, 3.5e08, 6.02e23, 1.6e-19, 0.5, 2.0])
    ] + [
        {"Question": "List them.", "Answer": [1e-05, 2.5], "Answer_type": "list of float",
         "Picture": None, "id": "l1", "theorem": "t", "subfield": "s"},
    ],
    "deepmind-mathematics": [
        {"question": "List the prime factors of 15.", "answer": "[3, 5]"},
        {"question": "List the prime factors of 84.", "answer": "[2, 3, 7]"},
        {"question": "Sort -2, 5, 0 in increasing order.", "answer": "-2, 0, 5"},
        {"question": "What is 7/2 as a mixed number?", "answer": "3\\frac{1}{2}"},
    ],
    "math": [
        {"problem": "Write 2.5 as a mixed number.", "level": "Level 1", "type": "Prealgebra",
         "solution": "It is $\\boxed{2\\frac{1}{2}}$."},
        {"problem": "Write 1/3 as a decimal.", "level": "Level 2", "type": "Prealgebra",
         "solution": "It is $\\boxed{0.\\overline{3}}$."},
    ],
}  # fmt: skip


def _written(gold: str, kind: str) -> list[str]:
    """The reference as a model writes it: boxed as it stands, and, for a list, as a list."""
    if kind == "olympiad":
        return [", ".join(json.loads(gold))]
    forms = [gold]
    if gold.startswith("[") and gold.endswith("]"):
        forms.append(gold[1:-1])  # "[3, 5]" answered "3, 5"
    return forms


def _items(tmp_path) -> list[dict]:
    tables = []
    for kind, (name, rows) in FILES.items():
        extra = EXTRA.get(kind, [])
        table, _ = load_benchmark(kind, str(write(tmp_path / name, rows + extra)))
        tables.append(table)
    for kind, entry in REGISTRY.items():
        if entry.embedded:
            tables.append(load_benchmark(kind, "", n=60)[0])
    items = []
    for table in tables:
        for item in table.to_dicts():
            for form in _written(item["gold"], item["answer_kind"]):
                response = f"So the final answer is $\\boxed{{{form}}}$."
                items.append({**item, "response": response, "finish_reason": "stop"})
    return items


@pytest.mark.parametrize("tolerance", TOLERANCES)
def test_each_benchmark_item_scores_correct_against_its_own_answer(tmp_path, tolerance):
    items = _items(tmp_path)
    kinds = {item["benchmark"] if "benchmark" in item else item["answer_kind"] for item in items}
    assert len(items) > 150 and len(kinds) >= 4
    scored = list(score_rows(items, options={"tolerance": tolerance}, workers=2))
    wrong = [
        f"{row['answer_kind']}: {row['gold']!r} <- {item['response']!r}: {row['verdict']} "
        f"({row['reason']})"
        for item, row in zip(items, scored, strict=True)
        if row["verdict"] != "correct"
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_reaches_the_shapes_that_failed_and_can_fail(tmp_path):
    """The self-check is not vacuous: the shapes that failed 1.2 come out of the real
    loaders into the scored items (in both written forms), and the same items answered
    with a wrong value all score not correct (a scorer that passed everything fails)."""
    items = _items(tmp_path)
    scored_forms = {(i["benchmark"], i["gold"], i["response"]) for i in items}
    box = "So the final answer is $\\boxed{{{}}}$."
    for benchmark, gold, written in [
        ("theoremqa", "4e-05", "4e-05"),
        ("theoremqa", "[1e-05, 2.5]", "[1e-05, 2.5]"),
        ("theoremqa", "[1e-05, 2.5]", "1e-05, 2.5"),
        ("math", "2\\frac{1}{2}", "2\\frac{1}{2}"),
    ]:
        assert (benchmark, gold, box.format(written)) in scored_forms, (benchmark, gold)
    assert any(i["benchmark"] == "deepmind-mathematics" and "3, 5" in i["response"]
               for i in items)  # fmt: skip
    wrong = [{**item, "response": box.format("987654321")} for item in items]
    verdicts = {
        row["verdict"] for row in score_rows(wrong, options={"tolerance": TOLERANCES[0]}, workers=2)
    }
    assert "correct" not in verdicts and verdicts
