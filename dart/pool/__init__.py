"""The sampling pool (stage 2): round planning, shard generation, verification, tallies.

Library modules: :mod:`planner` (which queries get how many trials next round),
:mod:`ids` (sample ids and per-trial seeds), :mod:`generate` (one shard's trials through
an engine), :mod:`verify` (grading a shard), :mod:`tally` (per-query counts over rounds).
Verbs, one module each: :mod:`recipes_cli` (``dart recipes``), :mod:`plan_cli`
(``dart plan``), :mod:`generate_cli` (``dart generate``), :mod:`verify_cli`
(``dart verify``), :mod:`tally_cli` (``dart tally``), :mod:`pool_cli` (``dart pool``).

    dart plan --queries data/queries/generated.parquet --recipes recipes.json --round 0 ...
"""
