"""Decontamination (stage 3b): flag queries that overlap benchmark items.

Modules: :mod:`overlap` (exact match and n-gram overlap with a numbers-must-agree rule;
reading benchmarks and contamination files), :mod:`cli` (the ``dart decontam`` verb),
:mod:`version` (``DECONTAM_VERSION``, a leaf).

    dart decontam --queries data/queries/generated.parquet --benchmarks data/benchmarks/heldout.parquet ...
"""
