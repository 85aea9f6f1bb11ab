"""The evaluation code version (a leaf: imports nothing, no model stack).

Bump it when a change can alter a result (generation set-up, scoring rules, metrics).
Rules pass it through ``params:``.

    python -c "from dart.evaluate.version import EVAL_VERSION; print(EVAL_VERSION)"
"""

#: The generation set-up's version (prompts, decoding, what a generations table holds).
EVAL_VERSION = "1"

#: The scoring version (metrics, result and items files), apart from generation so that a
#: scoring change re-scores without regenerating. 2: the result holds math-verify's second
#: opinion (``math_verify``) and scoring's time; the items file marks each item where the
#: graders disagree.
SCORING_VERSION = "2"

#: The benchmark reader's version (loaders into the common item table): bump it when the
#: same benchmark source would give another item table. Rules pass it through ``params:``.
BENCHMARK_VERSION = "1"
