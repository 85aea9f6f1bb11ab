"""The evaluation code version (a leaf: imports nothing, no model stack).

Bump it when a change can alter a result (generation set-up, scoring rules, metrics).
Rules pass it through ``params:``.

    python -c "from dart.evaluate.version import EVAL_VERSION; print(EVAL_VERSION)"
"""

EVAL_VERSION = "1"

#: The benchmark reader's version (loaders into the common item table): bump it when the
#: same benchmark source would give another item table. Rules pass it through ``params:``.
BENCHMARK_VERSION = "1"
