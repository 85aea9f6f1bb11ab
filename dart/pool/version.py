"""The round planner's version (trials per query, ids and seeds, sharding); a leaf.

Bump it when the same tally and recipes would give another plan.
"""

PLANNER_VERSION = "2"
