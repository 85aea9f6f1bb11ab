"""The pool stage's code versions; a leaf.

``PLANNER_VERSION``: the round planner (trials per query, ids and seeds, sharding); bump it
when the same tally and recipes would give another plan.
"""

PLANNER_VERSION = "2"

#: The per-query tally's columns (``dart.pool.tally``): 2 adds the token sums by outcome
#: and the sums of squares that the cost forecast reads.
TALLY_VERSION = "2"

#: The cost forecast (``dart.pool.estimate``): 2 models response lengths by outcome,
#: with fitted spreads of query means and single responses.
ESTIMATE_VERSION = "2"
