"""Queries (stage 1, a building block): raw problems in, one queries table out.

Modules: :mod:`readers` (raw rows from JSONL, JSON, Parquet or a hub dataset),
:mod:`formats` (MATH, GSM8K, a mapped table: row -> query record), :mod:`generator`
(the embedded arithmetic and word problems), :mod:`ingest` (ids, dedup, the table),
:mod:`table` (reading queries tables back), :mod:`cli` (``dart queries``).

    dart queries 7 --format generated -o data/queries/generated.parquet
"""
