"""The fast paths and the symbolic path agree by construction (issue 17 item 1).

Over every distinct decision of the labelled suite: wherever the exact-number path
(``read_number``) or the float check (``dart.grade.arithmetic``) decides, sympy, given the
same normalised texts, must decide the same way when it parses both. 1.2 broke this for
mixed numbers (``2\\frac{1}{2}`` a product to the float check, 5/2 to sympy) and e-notation
(``4e-05`` a number to the fast path, ``4e - 5`` with Euler's e to sympy).
"""

from dart.grade.equivalence import _numeric, _percent_scales, _quick
from dart.grade.grader import GradeTimeout, Prepared, prepare, time_bound
from dart.grade.normalize import normalize
from dart.grade.numbers import read_number
from dart.grade.symbolic import parse_latex, scaled, sympy_equal

from .labelled_suite import suite


def _sympy_decision(pred, gold, query) -> bool | None:
    """sympy's verdict on the normalised pair; None when it cannot parse one side."""
    try:
        with time_bound(10):
            left, right = parse_latex(pred.text), parse_latex(gold.text)
            return any(
                sympy_equal(
                    left if p == 1 else scaled(left, p), right if g == 1 else scaled(right, g)
                )
                for p, g in _percent_scales(pred, gold, query)
            )
    except (ValueError, GradeTimeout):
        return None


def test_fast_paths_and_sympy_agree_on_every_labelled_decision():
    seen, compared, disagreements = set(), 0, []
    for row in suite():
        prepared = prepare(
            row["response"], row["gold"], kind=row.get("kind"), query=row.get("query")
        )
        if not isinstance(prepared, Prepared) or prepared.decision.key in seen:
            continue
        decision = prepared.decision
        seen.add(decision.key)
        gold = normalize(decision.reference)
        pred = normalize(decision.answer, keep_assignment="=" in gold.text)
        query = "percent" if decision.percent_question else None
        single = read_number(gold.text) is not None
        fast = {
            "numeric": _numeric(pred, gold, query, thousands=single),
            "value": _quick(pred, gold, query),
        }
        if all(outcome is None for outcome in fast.values()):
            continue
        symbolic = _sympy_decision(pred, gold, query)
        if symbolic is None:
            continue
        for path, outcome in fast.items():
            if outcome is not None:
                compared += 1
                if outcome != symbolic:
                    disagreements.append(f"{path}={outcome} sympy={symbolic}: {pred} | {gold}")
    assert compared >= 300, compared  # the suite exercises the fast paths broadly
    assert not disagreements, "\n".join(disagreements)
