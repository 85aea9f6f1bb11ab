"""Decontamination (stage 3b): flag queries that overlap benchmark items.

Module: :mod:`overlap` (exact match and n-gram overlap with a numbers-must-agree rule,
and the ``dart decontam`` verb).

    dart decontam --queries data/queries/generated.parquet --benchmark data/benchmarks/heldout.parquet ...
"""
