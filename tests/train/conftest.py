"""Fixtures for the training tests: a tiny random Llama and small datasets in the released schema."""

from __future__ import annotations

import random
from pathlib import Path

import pytest


def write_dataset(path: Path, n: int = 12, seed: int = 0, **columns) -> Path:
    """``n`` arithmetic rows {query, response} plus the lineage columns a dataset carries."""
    import polars as pl

    rng = random.Random(seed)
    queries, responses = [], []
    for _ in range(n):
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        queries.append(f"What is {a} + {b}?")
        work = " ".join(["We add the numbers."] * rng.randint(1, 4))
        responses.append(f"{work} {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}.")
    frame = pl.DataFrame(
        {
            "query": queries,
            "response": responses,
            "query_id": [f"q{i:04d}" for i in range(n)],
            "sample_id": [f"q{i:04d}-00000" for i in range(n)],
            "level": [1 + i % 5 for i in range(n)],
            **columns,
        }
    )
    frame.write_parquet(path)
    return path


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    from dart.engines.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


@pytest.fixture()
def dataset(tmp_path) -> Path:
    return write_dataset(tmp_path / "uniform.parquet")
