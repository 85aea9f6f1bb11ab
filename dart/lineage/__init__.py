"""Lineage (layer 2): what made every file, and whether it still holds.

Modules: :mod:`records` (sidecar ``.prov.json`` records, hashing, atomic writes and
resumable parts), :mod:`versions` (the code versions that decide each step's output),
:mod:`staleness` (Snakemake's own change lists, made exact), :mod:`audit` and
:mod:`audit_row` (the lineage walk), :mod:`cli` (``dart audit``). Imports only leaf modules
(``versions`` reads each stage's ``version.py``, which imports nothing).

    dart audit results/datasets/uniform.parquet
"""
