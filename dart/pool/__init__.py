"""The sampling pool: round planning, shard generation, verification and tallies."""
