"""Dataset recipes: which responses of a shared pool a dataset keeps.

Every recipe keeps only correct responses and takes, per query, the first ones in
trial order, so a dataset never depends on how its pool was sharded. A
:class:`Recipe` answers the planner ("how many trials or correct responses does this
query still need?", :meth:`Recipe.targets`); the assembly (``dart.datasets.assemble``)
keeps the rows those targets allow. Both stages import this module, which sits below
them (the pool is planned before a dataset is cut from it). Nothing here imports an
engine.

Accepted keys of a ``datasets:`` entry in ``config.yaml`` (one dict per dataset):

``synth`` (str)
    The synthesis setup whose pool the dataset is cut from (not used here).
``recipe`` (str, required)
    ``vrt`` | ``uniform`` | ``prop2diff`` | ``custom``.
``trials`` (int >= 1, vrt only, default 52)
    VRT: the first ``trials`` trials of every query, keep the correct ones (paper: 52).
``k`` (int >= 1, uniform only, default 40)
    DARS-Uniform: the first ``k`` correct responses of every query (paper: 40).
``k_p`` (number > 0) or ``size`` (int >= 1), ``n_probe`` (int >= 1), ``min`` (int >= 0, default 1), prop2diff only
    DARS-Prop2Diff: target ``max(min, ceil(k_p * fail_rate))`` correct responses,
    with ``fail_rate`` the share of wrong responses among the first ``n_probe``
    trials of the query. Give ``k_p``, or ``size`` to solve ``k_p`` by bisection so
    that the targets sum to about ``size`` (solved once every probe is done).
``target`` (dict, custom only)
    Exactly one of ``{trials: N}``, ``{fixed: k}``, ``{prop_fail: k_p, n_probe: n, min: m}``
    or ``{prop_fail_size: size, n_probe: n, min: m}``, meaning as above.
``levels`` (list of int), ``sources`` (list of str), any recipe
    Keep only queries of these levels / sources (a query without a level is outside
    any ``levels`` filter).

Other keys (``synth``, ``description``, ``train``...) belong to other stages and
are ignored here; an unknown key inside ``target`` is an error.

    >>> r = recipe_from_config("dart-uniform", {"synth": "smollm2", "recipe": "uniform", "k": 40})
    >>> r.mode, r.k
    ('fixed', 40)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from dart.config import COMMON_RECIPE_KEYS, RECIPE_KEYS
from dart.errors import DartError

MODES = ("trials", "fixed", "prop_fail")
#: The keys every recipe has (each recipe's own: RECIPE_KEYS, defined with the schema).
COMMON_KEYS = COMMON_RECIPE_KEYS


@dataclass(frozen=True)
class Recipe:
    """One dataset's selection rule over a pool.

    ``mode`` is ``trials`` (keep correct among the first ``trials`` trials),
    ``fixed`` (first ``k`` correct) or ``prop_fail`` (first
    ``max(min_target, ceil(k_p * fail_rate))`` correct, fail rate over the first
    ``n_probe`` trials; ``k_p`` given or solved from ``size``).
    """

    name: str
    kind: str
    mode: str
    trials: int | None = None
    k: int | None = None
    k_p: float | None = None
    size: int | None = None
    n_probe: int | None = None
    min_target: int = 1
    levels: tuple[int, ...] | None = None
    sources: tuple[str, ...] | None = None
    config: dict[str, Any] = field(default_factory=dict, compare=False)

    # ------------------------------------------------------------------ scope

    def in_scope(self, frame: pl.DataFrame) -> pl.Series:
        """Boolean mask: rows of ``frame`` (with ``level``/``source``) this recipe covers."""
        mask = pl.Series("in_scope", np.ones(frame.height, dtype=bool))
        if self.levels is not None:
            mask = mask & frame["level"].is_in(list(self.levels)).fill_null(False)
        if self.sources is not None:
            mask = mask & frame["source"].is_in(list(self.sources)).fill_null(False)
        return mask

    def probe_size(self, cap: int) -> int:
        """Trials every query gets before its target is known (0 unless prop_fail)."""
        return min(self.n_probe or 0, cap) if self.mode == "prop_fail" else 0

    # ------------------------------------------------------------------ targets

    def targets(
        self, summary: pl.DataFrame, cap: int, *, strict: bool = True
    ) -> tuple[pl.DataFrame, float | None]:
        """Per-query requirements, given a per-query ``summary``.

        ``summary`` has ``query_id, level, source, trials, correct, outcomes``
        (``outcomes``: one ``0``/``1`` character per trial, in trial order). Returns
        ``(frame, k_p)`` where ``frame`` holds the in-scope queries with
        ``min_trials`` (trials needed whatever their outcome, at most ``cap``),
        ``target`` (correct responses wanted; null = every correct one within
        ``min_trials``) and ``pending`` (target not known yet). With ``strict``
        (the planner), ``k_p`` is solved from ``size`` only once every in-scope
        query has its probe; otherwise (assembly) from the queries that have trials.
        """
        scoped = summary.filter(self.in_scope(summary)).select("query_id", "trials", "outcomes")
        n = scoped.height
        if self.mode == "trials":
            out = scoped.select(
                "query_id",
                min_trials=pl.lit(min(self.trials, cap), pl.Int64),
                target=pl.lit(None, pl.Int64),
                pending=pl.lit(False),
            )
            return out, None
        if self.mode == "fixed":
            out = scoped.select(
                "query_id",
                min_trials=pl.lit(0, pl.Int64),
                target=pl.lit(self.k, pl.Int64),
                pending=pl.lit(False),
            )
            return out, None
        return self._prop_fail_targets(scoped, cap, strict, n)

    def _prop_fail_targets(
        self, scoped: pl.DataFrame, cap: int, strict: bool, n: int
    ) -> tuple[pl.DataFrame, float | None]:
        probe = self.probe_size(cap)
        probed = scoped.with_columns(
            probe_trials=pl.min_horizontal(pl.col("trials"), pl.lit(probe)).cast(pl.Int64),
            probe_correct=pl.col("outcomes").str.slice(0, probe).str.count_matches("1"),
        ).with_columns(
            has_probe=pl.col("probe_trials") >= probe,
            fail_rate=1.0 - pl.col("probe_correct") / pl.col("probe_trials"),
        )
        k_p = self.k_p
        if k_p is None:
            ready = probed["has_probe"].all() if strict else True
            usable = probed.filter(pl.col("has_probe") if strict else pl.col("trials") > 0)
            if ready and usable.height:
                k_p = solve_k_p(usable["fail_rate"].to_numpy(), self.size, self.min_target)
        known = pl.col("has_probe") if strict else pl.col("trials") > 0
        if k_p is not None:
            target = pl.max_horizontal(
                pl.lit(self.min_target), (pl.lit(float(k_p)) * pl.col("fail_rate") - 1e-9).ceil()
            ).cast(pl.Int64)
            target = pl.when(known).then(target).otherwise(None)
        else:
            target = pl.lit(None, pl.Int64)
        out = probed.select(
            "query_id",
            min_trials=pl.lit(probe, pl.Int64),
            target=target,
            pending=pl.lit(k_p is None) | ~known,
        )
        assert out.height == n
        return out, k_p

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (for plan summaries, stats and cards)."""
        keys = ("trials", "k", "k_p", "size", "n_probe", "levels", "sources")
        out: dict[str, Any] = {"name": self.name, "recipe": self.kind, "mode": self.mode}
        out.update({k: getattr(self, k) for k in keys if getattr(self, k) is not None})
        if self.mode == "prop_fail":
            out["min"] = self.min_target
        return out


# --------------------------------------------------------------------------- k_p


def solve_k_p(fail_rates: np.ndarray, size: int, min_target: int = 1) -> float:
    """The smallest ``k_p`` (4 decimals) with ``sum(max(min, ceil(k_p * f))) >= size``.

    >>> solve_k_p(np.array([0.0, 0.5, 1.0]), 7)
    4.0
    """
    f = np.asarray(fail_rates, dtype=np.float64)

    def total(k: float) -> int:
        return int(np.maximum(min_target, np.ceil(k * f - 1e-9)).sum())

    if total(0.0) >= size:
        return 0.0
    if not (f > 0).any():
        raise DartError(f"cannot reach size {size}: every probed query has fail rate 0")
    lo, hi = 0.0, 1.0
    while total(hi) < size:
        lo, hi = hi, hi * 2
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if total(mid) >= size else (mid, hi)
    k = math.ceil(hi * 1e4) / 1e4
    while total(k - 1e-4) >= size and k > 0:  # undo the rounding's overshoot, if any
        k = round(k - 1e-4, 4)
    return k


# --------------------------------------------------------------------------- config


def _int(name: str, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise DartError(f"dataset {name!r}: {key} must be an integer >= {low}, got {value!r}")
    return value


def _number(name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise DartError(f"dataset {name!r}: {key} must be a number > 0, got {value!r}")
    return float(value)


def _filters(name: str, cfg: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    levels, sources = cfg.get("levels"), cfg.get("sources")
    if levels is not None:
        if not isinstance(levels, list) or not levels:
            raise DartError(f"dataset {name!r}: levels must be a non-empty list of integers")
        out["levels"] = tuple(_int(name, "levels[]", v, 0) for v in levels)
    if sources is not None:
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) for s in sources)
        ):
            raise DartError(f"dataset {name!r}: sources must be a non-empty list of strings")
        out["sources"] = tuple(sources)
    return out


def _prop_fail(name: str, spec: Mapping[str, Any], k_key: str, size_key: str) -> dict[str, Any]:
    has_k, has_size = spec.get(k_key) is not None, spec.get(size_key) is not None
    if has_k == has_size:
        raise DartError(f"dataset {name!r}: give exactly one of {k_key} and {size_key}")
    if "n_probe" not in spec:
        raise DartError(f"dataset {name!r}: n_probe is required (trials that measure fail rates)")
    out: dict[str, Any] = {
        "mode": "prop_fail",
        "n_probe": _int(name, "n_probe", spec["n_probe"], 1),
        "min_target": _int(name, "min", spec.get("min", 1), 0),
    }
    if has_k:
        out["k_p"] = _number(name, k_key, spec[k_key])
    else:
        out["size"] = _int(name, size_key, spec[size_key], 1)
    return out


def _custom(name: str, target: Any) -> dict[str, Any]:
    if not isinstance(target, Mapping):
        raise DartError(f"dataset {name!r}: target must be a mapping, got {target!r}")
    forms = [k for k in ("trials", "fixed", "prop_fail", "prop_fail_size") if k in target]
    if len(forms) != 1:
        raise DartError(
            f"dataset {name!r}: target needs exactly one of trials, fixed, prop_fail, "
            f"prop_fail_size; got keys {sorted(target)}"
        )
    allowed = {"trials": set(), "fixed": set()}.get(forms[0], {"n_probe", "min"}) | {forms[0]}
    unknown = sorted(set(target) - allowed)
    if unknown:
        raise DartError(f"dataset {name!r}: unknown key target.{unknown[0]} for {forms[0]}")
    if forms[0] == "trials":
        return {"mode": "trials", "trials": _int(name, "target.trials", target["trials"], 1)}
    if forms[0] == "fixed":
        return {"mode": "fixed", "k": _int(name, "target.fixed", target["fixed"], 1)}
    return _prop_fail(name, target, "prop_fail", "prop_fail_size")


def recipe_from_config(name: str, cfg: Mapping[str, Any]) -> Recipe:
    """Validate one ``datasets:`` entry and build its :class:`Recipe` (see module doc)."""
    if not isinstance(cfg, Mapping):
        raise DartError(f"dataset {name!r}: expected a mapping, got {type(cfg).__name__}")
    kind = cfg.get("recipe")
    if kind not in RECIPE_KEYS:
        raise DartError(
            f"dataset {name!r}: recipe must be one of {sorted(RECIPE_KEYS)}, got {kind!r}"
        )
    for other, keys in RECIPE_KEYS.items():
        stray = sorted(k for k in keys - RECIPE_KEYS[kind] if k in cfg and other != kind)
        if stray:
            raise DartError(f"dataset {name!r}: key {stray[0]} does not apply to recipe {kind}")
    if kind == "vrt":
        spec = {"mode": "trials", "trials": _int(name, "trials", cfg.get("trials", 52), 1)}
    elif kind == "uniform":
        spec = {"mode": "fixed", "k": _int(name, "k", cfg.get("k", 40), 1)}
    elif kind == "prop2diff":
        spec = _prop_fail(name, cfg, "k_p", "size")
    else:
        if "target" not in cfg:
            raise DartError(f"dataset {name!r}: recipe custom needs a target mapping")
        spec = _custom(name, cfg["target"])
    return Recipe(name=name, kind=kind, config=dict(cfg), **spec, **_filters(name, cfg))


def recipes_from_config(datasets: Mapping[str, Mapping[str, Any]]) -> list[Recipe]:
    """All recipes of a ``datasets:`` mapping, in order."""
    return [recipe_from_config(name, cfg) for name, cfg in datasets.items()]
