"""Deterministic trial identities.

A trial is one sampled response for one query. Its id and seed depend only on
(global seed, query_id, trial index), never on how the work was sharded or in
which round it ran, so a rerun reproduces every trial.

    >>> sample_id("3f2a9c0d1e4b5a67", 12)
    '3f2a9c0d1e4b5a67-00012'
"""

from __future__ import annotations

import hashlib


def sample_id(query_id: str, trial: int) -> str:
    return f"{query_id}-{trial:05d}"


def trial_seed(global_seed: int, query_id: str, trial: int) -> int:
    """A 63-bit seed from (global seed, query id, trial index)."""
    digest = hashlib.sha256(f"{global_seed}:{query_id}:{trial}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)
