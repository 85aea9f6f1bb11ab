"""Cost forecast of a pool from its first round(s): the planner's own code run forward.

From the tally of the rounds done so far (normally round 0, the pilot), the rest of the
pool is simulated many times (``draws``, seeded), each draw a whole future of the pool:

1. Pass rates. Each query's pass rate is drawn from its posterior given its trials so
   far, under a prior fitted to the pilot itself: per group of queries (source and level)
   a distribution on a grid of pass rates (0 included, so never-solved queries are
   modelled), fitted by EM (nonparametric maximum likelihood). A fixed Beta prior would
   call a query with 0 of 52 correct "about 4%" and forecast it finishing; the fitted one
   knows how many such queries in its group are truly never solved.
2. Rounds. The planner's request code (:func:`dart.pool.planner.request_sizes`, the same
   needs, bounds, growth, round optimism and budget cut as ``dart plan``) plans each round
   from the simulated tally; outcomes are binomial draws at the drawn pass rates; this
   repeats until a plan is empty or the round limit. Recipe targets come from each recipe's
   own :meth:`Recipe.targets` (recomputed per draw while a Prop2Diff probe is unfinished).
3. Costs. Response lengths are modelled by outcome, since the planner's selection is not
   neutral to them: it sends more trials to queries that failed so far, and a query's mean
   over its pilot trials mixes right and wrong responses (wrong ones are often longer). Per
   group and outcome a mean length; per query a factor on its group's means, fitted from
   its own trials and shrunk toward 1 by how much queries really differ (empirical Bayes,
   from the tally's sums of squares); see :class:`LengthModel`. Each draw draws the group
   means and the query factors from their errors, prices the draw's new right and wrong
   trials separately, and adds the spread of the single responses themselves. Engine
   seconds are tokens times the pilot's measured seconds per generated token; GPU hours
   are engine hours times the GPUs a generation job holds.

Every figure is reported as ``median``, ``low`` and ``high`` (the 10th and 90th
percentiles: an 80% interval) over the draws. Pure: no engine, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from dart.errors import DartError
from dart.pool.planner import (
    Budget,
    Prior,
    apply_budget,
    budget_left,
    needs_from_targets,
    pass_rate_np,
    query_state,
    request_sizes,
    round_optimism,
    seconds_per_trial,
    target_arrays,
)
from dart.recipes import Recipe

#: Grid of pass rates for the fitted prior: 0, then logit-spaced from 1e-4 to 1 - 1e-4, and 1.
LOGITS = np.linspace(-9.2, 9.2, 199)
STEP = LOGITS[1] - LOGITS[0]
GRID = np.concatenate([[0.0], 1 / (1 + np.exp(-LOGITS)), [1.0]])
QUANTILES = (0.1, 0.5, 0.9)


def interval(values: np.ndarray, digits: int | None = None) -> dict[str, float]:
    """``median``, ``low`` and ``high`` (80% interval) of a vector of draws."""
    low, median, high = np.quantile(np.asarray(values, dtype=np.float64), QUANTILES)
    out = {"median": float(median), "low": float(low), "high": float(high)}
    if digits is not None:
        out = {k: round(v, digits) for k, v in out.items()}
    return out


def fit_grid_prior(lik: np.ndarray, weights: np.ndarray, iters: int = 200) -> np.ndarray:
    """Prior weights on :data:`GRID` maximising the weighted likelihood (EM, NPMLE).

    ``lik``: ``(pairs, grid)`` likelihood of each distinct (trials, correct) pair (scaled
    per row); ``weights``: how many queries (or bootstrap weight) each pair carries.
    """
    prior = np.full(GRID.size, 1.0 / GRID.size)
    share = weights / weights.sum()
    for _ in range(iters):
        post = lik * prior
        post /= post.sum(axis=1, keepdims=True)
        prior = share @ post
    return prior


def _loglik(trials: np.ndarray, correct: np.ndarray) -> np.ndarray:
    t, c = trials[:, None].astype(np.float64), correct[:, None].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(c > 0, c * np.log(GRID), 0.0)
        b = np.where(t - c > 0, (t - c) * np.log1p(-GRID), 0.0)
    return a + b


class RatePosterior:
    """Per-query pass-rate posteriors under a prior fitted per group (source, level).

    Queries with the same (group, trials, correct) share a posterior, so the fit runs on
    the distinct pairs. Each block of ``block`` draws refits the prior on a Bayesian
    bootstrap of the group's queries, so the forecast's spread includes the error of the
    fitted prior itself (how many queries of a level are never solved, say), which is
    common to every query of the group.
    """

    def __init__(self, trials: np.ndarray, correct: np.ndarray, groups: np.ndarray) -> None:
        keys = np.rec.fromarrays([np.unique(groups, return_inverse=True)[1], trials, correct])
        uniq, self.pair_of = np.unique(keys, return_inverse=True)
        self.pair_group = uniq.f0
        self.counts = np.bincount(self.pair_of, minlength=uniq.size).astype(np.float64)
        loglik = _loglik(uniq.f1, uniq.f2)
        self.lik = np.exp(loglik - loglik.max(axis=1, keepdims=True))
        self.members = [np.flatnonzero(self.pair_of == j) for j in range(uniq.size)]

    def cdf(self, rng: np.random.Generator | None) -> np.ndarray:
        """Posterior CDF per pair; with ``rng``, under a prior fitted to a bootstrap."""
        post = np.empty_like(self.lik)
        for g in np.unique(self.pair_group):
            rows = np.flatnonzero(self.pair_group == g)
            weights = self.counts[rows] if rng is None else rng.dirichlet(self.counts[rows])
            prior = fit_grid_prior(self.lik[rows], weights)
            part = self.lik[rows] * prior
            post[rows] = part / part.sum(axis=1, keepdims=True)
        return np.cumsum(post, axis=1)

    def sample(self, draws: int, rng: np.random.Generator, block: int = 10) -> np.ndarray:
        """``(draws, Q)`` pass rates, jittered within their grid cell in logit space so
        that rates are continuous (0 and 1 stay exact)."""
        idx = np.empty((draws, self.pair_of.size), dtype=np.int64)
        for start in range(0, draws, block):
            rows = slice(start, min(start + block, draws))
            cdf = self.cdf(rng)
            u = rng.random((rows.stop - rows.start, self.pair_of.size))
            for j, cols in enumerate(self.members):
                idx[rows, cols] = np.searchsorted(cdf[j], u[:, cols], side="right")
        idx = np.minimum(idx, GRID.size - 1)
        inner = (idx > 0) & (idx < GRID.size - 1)
        logit = LOGITS[np.clip(idx - 1, 0, LOGITS.size - 1)] + STEP * (rng.random(idx.shape) - 0.5)
        return np.where(inner, 1 / (1 + np.exp(-logit)), GRID[idx])


def _windows(recipes: Sequence[Recipe], cap: int) -> list[int]:
    """Trial windows whose correct counts a recipe reads (probes, VRT's first N)."""
    sizes = {r.probe_size(cap) for r in recipes if r.mode == "prop_fail"}
    sizes |= {min(r.trials, cap) for r in recipes if r.mode == "trials"}
    return sorted(s for s in sizes if s > 0)


def _window_correct(state: pl.DataFrame, size: int) -> np.ndarray:
    return state["outcomes"].str.slice(0, size).str.count_matches("1").to_numpy().astype(np.int64)


def _add_trials(
    rng: np.random.Generator,
    trials: np.ndarray,
    n: np.ndarray,
    p: np.ndarray,
    windows: dict[int, np.ndarray],
) -> np.ndarray:
    """Draw the outcomes of ``n`` new trials; update window counts; return new correct."""
    edges = sorted(windows)
    start, end = trials, trials + n
    cuts = [start, *[np.clip(np.full_like(start, w), start, end) for w in edges], end]
    total = np.zeros_like(n)
    segments = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        seg = rng.binomial(np.maximum(b - a, 0), p)
        segments.append(seg)
        total += seg
    for i, w in enumerate(edges):
        windows[w] += sum(segments[: i + 1])
    return total


def _synthetic_state(base: pl.DataFrame, trials: np.ndarray, wcorrect: np.ndarray, size: int):
    """A state frame whose first ``size`` outcomes hold ``wcorrect`` ones (order is
    immaterial to the probe's count): what a recipe's targets read."""
    seen = np.minimum(trials, size)
    counts = pl.DataFrame(
        {"ones": wcorrect, "zeros": seen - wcorrect},
        schema=[("ones", pl.Int64), ("zeros", pl.Int64)],
    )
    text = counts.select(
        pl.concat_str(
            pl.lit("1").repeat_by(pl.col("ones")).list.join(""),
            pl.lit("0").repeat_by(pl.col("zeros")).list.join(""),
        )
    ).to_series()
    return base.with_columns(trials=pl.Series(trials, dtype=pl.Int64), outcomes=text)


def forecast(
    queries: pl.DataFrame,
    tally: pl.DataFrame,
    recipes: Sequence[Recipe],
    *,
    cap: int,
    per_round_max: int,
    max_rounds: int,
    start_round: int,
    prior: Prior | None = None,
    budget: Budget | None = None,
    draws: int = 200,
    seed: int = 0,
    gpus: int = 0,
    chunk: int = 50,
    rates: np.ndarray | None = None,
) -> dict[str, Any]:
    """The forecast of a pool whose rounds ``0 .. start_round - 1`` are in ``tally``.

    ``rates`` (tests and benchmarks): the queries' true pass rates (queries' order),
    used instead of draws from the posteriors, so only the outcomes are random.
    """
    prior, budget = prior or Prior(), budget or Budget()
    if draws < 1:
        raise DartError(f"draws must be >= 1, got {draws}")
    state = query_state(queries, tally)
    trials0 = state["trials"].to_numpy().astype(np.int64)
    correct0 = state["correct"].to_numpy().astype(np.int64)
    tokens0 = state["tokens"].to_numpy().astype(np.float64)
    seconds0 = float(state["gen_seconds"].sum())
    groups = (
        state.select(
            pl.concat_str(pl.col("source"), pl.col("level").cast(pl.String).fill_null("-"))
        )
        .to_series()
        .to_numpy()
    )
    lengths = LengthModel(_length_columns(state, tally), groups)
    per_token = seconds0 / tokens0.sum() if seconds0 > 0 and tokens0.sum() > 0 else None
    # what the planner's budget cut prices a trial at (its own estimate, not the truth)
    cost = seconds_per_trial(trials0, tokens0, seconds0)
    posterior = RatePosterior(trials0, correct0, groups)
    min_t, target0, pending0 = target_arrays(state, recipes, cap)
    sizes = _windows(recipes, cap)
    win0 = {w: _window_correct(state, w) for w in sizes}
    rank = state["query_id"].rank("ordinal").to_numpy()
    level_key = state["level"].cast(pl.String).fill_null("none").to_numpy()
    level_names, level_codes = np.unique(level_key, return_inverse=True)
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {}
    for start in range(0, draws, chunk):
        d = min(chunk, draws - start)
        res = _simulate(
            rng, d, posterior, trials0, correct0, win0, min_t, target0, pending0, state, recipes,
            cap=cap, per_round_max=per_round_max, max_rounds=max_rounds,
            start_round=start_round, prior=prior, budget=budget, rank=rank, cost=cost,
            seconds0=seconds0, lengths=lengths, rates=rates,
            level_codes=level_codes, n_levels=len(level_names),
        )  # fmt: skip
        for key, value in res.items():
            out.setdefault(key, []).append(value)
    sim = {k: np.concatenate(v, axis=-1) for k, v in out.items()}
    doc = _report(
        sim, recipes, state, per_token, gpus,
        trials0=trials0, correct0=correct0, tokens0=tokens0, seconds0=seconds0,
        settings={"draws": draws, "seed": seed, "start_round": start_round, "cap": cap,
                  "per_round_max": per_round_max, "max_rounds": max_rounds,
                  "prior": prior.as_dict(), "budget": budget.as_dict(), "gpus": gpus},
    )  # fmt: skip
    doc["lengths"] = lengths.describe()
    doc["pool"]["per_level"] = {
        str(name): {
            "queries": int((level_codes == k).sum()),
            "trials": interval(sim["level_trials"][k]),
        }
        for k, name in enumerate(level_names)
    }
    return doc


#: Spread (coefficient of variation) of one response's length around its query's mean,
#: assumed only where the tally has no sums of squares (one written before TALLY_VERSION 2).
LENGTH_CV = 0.6
#: Columns of a tally that :class:`LengthModel` reads (see ``dart.pool.tally``).
LENGTH_COLUMNS = ("tokens_correct", "tokens_sumsq", "tokens_sumsq_correct")


def _length_columns(state: pl.DataFrame, tally: pl.DataFrame | None) -> dict[str, np.ndarray]:
    """Per query (state's order): trials, correct, tokens by outcome, sums of squares
    (NaN where the tally has none), as float arrays."""
    n = state["trials"].to_numpy().astype(np.float64)
    c = state["correct"].to_numpy().astype(np.float64)
    tokens = state["tokens"].to_numpy().astype(np.float64)
    have = tally is not None and all(col in tally.columns for col in LENGTH_COLUMNS)
    if have:
        extra = state.select("query_id").join(
            tally.select(pl.col("query_id").cast(pl.String), *LENGTH_COLUMNS),
            on="query_id",
            how="left",
        )
        cols = {k: extra[k].fill_null(0).to_numpy().astype(np.float64) for k in LENGTH_COLUMNS}
    else:  # no split known: right and wrong responses assumed alike
        share = np.divide(c, n, out=np.zeros_like(c), where=n > 0)
        nan = np.full_like(n, np.nan)
        cols = {"tokens_correct": tokens * share, "tokens_sumsq": nan, "tokens_sumsq_correct": nan}
    return {"trials": n, "correct": c, "tokens": tokens, **cols}


def _lognormal(rng: np.random.Generator, sigma: np.ndarray | float, size) -> np.ndarray:
    """Factors of mean 1 with log-sd ``sigma``."""
    sigma = np.asarray(sigma, dtype=np.float64)
    return np.exp(rng.normal(0.0, 1.0, size) * sigma - sigma**2 / 2)


class LengthModel:
    """Response lengths in tokens, from the pilot's tally: what the future trials will cost.

    A response of query ``q`` (group ``g``, outcome ``o``: right or wrong) has mean length
    ``f_q * m[g, o]``:

    - ``m[g, o]``: the group's mean length of right and of wrong responses. A group with
      no right (or no wrong) response yet takes the other outcome's mean times the pool's
      ratio of right to wrong lengths; a group without trials takes the pool's means.
    - ``f_q``: the query's factor, its tokens over what its own outcomes would cost at its
      group's means, shrunk toward 1 by ``tau2 / (tau2 + v_q)``: ``tau2`` is how much
      query factors truly vary (their observed variance less the noise of their own few
      trials), ``v_q = cv2 / trials`` that noise, and ``cv2`` the squared spread of single
      responses around their query-and-outcome mean (pooled from the sums of squares).

    :meth:`new_tokens` prices a draw's new right and wrong trials with group means and
    query factors drawn from their errors (each draw's group means change each query's
    factor, since a factor is measured against them), plus the spread of single
    responses. Selection is why outcomes are kept apart: the planner sends the most trials
    to queries that failed most so far, whose pilot means are mostly wrong responses.
    """

    def __init__(self, columns: dict[str, np.ndarray], groups: np.ndarray) -> None:
        n, c = columns["trials"], columns["correct"]
        t, tc = columns["tokens"], columns["tokens_correct"]
        self.split = bool(np.isfinite(columns["tokens_sumsq"]).all())
        self.group_of = np.unique(groups, return_inverse=True)[1]
        n_groups = int(self.group_of.max()) + 1 if groups.size else 0
        w, tw = n - c, t - tc
        self.tokens = t
        self.counts = np.stack([w, c], axis=1)  # (Q, 2): outcome 0 wrong, 1 right
        sums = np.stack([tw, tc], axis=1)
        self.cv2 = self._within_spread(columns, n, c, t, tc) if self.split else LENGTH_CV**2
        n_o = np.zeros((n_groups, 2))
        s_o = np.zeros((n_groups, 2))
        np.add.at(n_o, self.group_of, self.counts)
        np.add.at(s_o, self.group_of, sums)
        pool_n, pool_s = self.counts.sum(axis=0), sums.sum(axis=0)
        pool_m = np.divide(pool_s, pool_n, out=np.zeros(2), where=pool_n > 0)
        if pool_m[0] == 0 and pool_m[1] > 0:
            pool_m[0] = pool_m[1]
        if pool_m[1] == 0 and pool_m[0] > 0:
            pool_m[1] = pool_m[0]
        self.pool_m = pool_m
        ratio = pool_m[1] / pool_m[0] if pool_m[0] > 0 else 1.0
        m = np.divide(s_o, n_o, out=np.zeros_like(s_o), where=n_o > 0)
        only_wrong, only_right = (
            (n_o[:, 0] > 0) & (n_o[:, 1] == 0),
            (n_o[:, 1] > 0) & (n_o[:, 0] == 0),
        )
        m[only_wrong, 1] = m[only_wrong, 0] * ratio
        m[only_right, 0] = m[only_right, 1] / ratio if ratio > 0 else m[only_right, 1]
        empty = n_o.sum(axis=1) == 0
        m[empty] = pool_m
        self.m = m
        expected = (self.counts * m[self.group_of]).sum(axis=1)
        seen = (n > 0) & (expected > 0)
        f = np.where(seen, t / np.where(seen, expected, 1.0), 1.0)
        v = self.cv2 / np.maximum(n, 1)
        self.tau2 = (
            float(max(np.mean((f[seen] - 1) ** 2) - np.mean(v[seen]), 0.0)) if seen.any() else 0.0
        )
        self.weight = (
            np.where(seen, self.tau2 / (self.tau2 + v), 0.0) if self.tau2 > 0 else np.zeros_like(f)
        )
        self.post_var = np.where(seen, self.tau2 * (1 - self.weight), self.tau2)
        # relative errors of the group means: the responses' spread over their number,
        # the query factors' over the queries that gave them (clustering)
        q_o = np.zeros((n_groups, 2))
        np.add.at(q_o, self.group_of, (self.counts > 0).astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            se2 = np.where(n_o > 0, self.cv2 / n_o + self.tau2 / np.maximum(q_o, 1), np.nan)
            ratio_se2 = self.cv2 * (1 / max(pool_n[0], 1) + 1 / max(pool_n[1], 1))
        se2[only_wrong, 1] = se2[only_wrong, 0] + ratio_se2
        se2[only_right, 0] = se2[only_right, 1] + ratio_se2
        group_means = m[~empty].mean(axis=1)
        between = (
            float(np.var(np.log(group_means[group_means > 0])))
            if (group_means > 0).sum() > 1
            else 0.0
        )
        se2[empty] = between + self.tau2
        self.se = np.sqrt(np.nan_to_num(se2))

    @staticmethod
    def _within_spread(columns, n, c, t, tc) -> float:
        """Pooled squared CV of single responses around their query-and-outcome mean."""
        ss, var_sum, mean2_sum = columns["tokens_sumsq"], 0.0, 0.0
        ssc = columns["tokens_sumsq_correct"]
        for k, total, sq in ((n - c, t - tc, ss - ssc), (c, tc, ssc)):
            ok = k >= 2
            mean = np.divide(total, k, out=np.zeros_like(total), where=ok)
            var_sum += float(np.maximum(sq[ok] - total[ok] * mean[ok], 0.0).sum())
            mean2_sum += float(((k[ok] - 1) * mean[ok] ** 2).sum())
        return var_sum / mean2_sum if mean2_sum > 0 else LENGTH_CV**2

    def draw_means(self, rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray]:
        """``d`` draws of every query's mean length of a wrong and of a right response
        (two ``(D, Q)`` arrays): group means and query factors drawn from their errors."""
        m = self.m[None] * _lognormal(rng, self.se[None], (d, *self.m.shape))  # (D, G, 2)
        mq = m[:, self.group_of]  # (D, Q, 2)
        expected = (self.counts[None] * mq).sum(axis=2)
        ok = expected > 0
        f_obs = np.where(ok, self.tokens[None] / np.where(ok, expected, 1.0), 1.0)
        f = 1 + self.weight[None] * (f_obs - 1)
        f = np.maximum(f, 0.0) * _lognormal(rng, np.sqrt(np.log1p(self.post_var)), f.shape)
        return f * mq[..., 0], f * mq[..., 1]

    def new_tokens(
        self,
        rng: np.random.Generator,
        new_trials: np.ndarray,
        new_correct: np.ndarray,
        means: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Per draw (rows), the tokens of each draw's new trials (``(D, Q)`` arrays), at
        ``means`` (:meth:`draw_means`; drawn here when not given) plus the spread of the
        single responses."""
        d = new_trials.shape[0]
        mean_w, mean_r = self.draw_means(rng, d) if means is None else means
        right = new_correct.astype(np.float64)
        wrong = new_trials - right
        total = (wrong * mean_w + right * mean_r).sum(axis=1)
        spread = np.sqrt(self.cv2 * (wrong * mean_w**2 + right * mean_r**2).sum(axis=1))
        return np.maximum(total + spread * rng.normal(size=d), 0.0)

    def describe(self) -> dict[str, Any]:
        """The fitted model, for estimate.json."""
        return {
            "by_outcome": self.split,
            "mean_tokens": {"right": round(float(self.pool_m[1]), 2),
                            "wrong": round(float(self.pool_m[0]), 2)},
            "response_cv": round(float(np.sqrt(self.cv2)), 4),
            "query_factor_sd": round(float(np.sqrt(self.tau2)), 4),
        }  # fmt: skip


def _simulate(
    rng, d, posterior, trials0, correct0, win0, min_t, target0, pending0, state, recipes, *,
    cap, per_round_max, max_rounds, start_round, prior, budget, rank, cost, seconds0, lengths, rates, level_codes, n_levels,
) -> dict[str, np.ndarray]:  # fmt: skip
    """``d`` futures of the pool; per draw totals and per recipe kept rows."""
    q = trials0.size
    p_true = posterior.sample(d, rng) if rates is None else np.broadcast_to(rates, (d, q))
    trials = np.broadcast_to(trials0, (d, q)).copy()
    correct = np.broadcast_to(correct0, (d, q)).copy()
    windows = {w: np.broadcast_to(c, (d, q)).copy() for w, c in win0.items()}
    target = np.broadcast_to(target0[:, None, :], (len(recipes), d, q)).copy()
    pending = np.broadcast_to(pending0[:, None, :], (len(recipes), d, q)).copy()
    rounds = np.zeros(d, dtype=np.int64)
    active = np.ones(d, dtype=bool)
    limit = np.zeros(d, dtype=bool)
    reached = np.zeros(d, dtype=bool)
    for rnd in range(start_round, max_rounds + 1):
        if pending.any():
            _refresh_targets(target, pending, trials, windows, state, recipes, cap)
        needs = needs_from_targets(min_t[:, None, :], target, pending, trials, correct, cap)
        if rnd >= max_rounds:
            limit |= active & needs.active.any(axis=(0, 2))
            break
        z = round_optimism(prior, rnd, max_rounds)
        asked = request_sizes(
            needs, trials, correct, cap=cap, per_round_max=per_round_max, prior=prior, z=z
        )
        n = asked
        if budget.limited:
            spent_s = seconds0 + (
                ((trials - trials0) * cost).sum(axis=1) if cost is not None else 0.0
            )
            left = [
                budget_left(budget, float(t), float(s), cost is not None)
                for t, s in zip(trials.sum(axis=1), np.broadcast_to(spent_s, (d,)), strict=True)
            ]
            t_left = np.array([x[0] for x in left])
            s_left = np.array([x[1] for x in left])
            p_plan = pass_rate_np(trials, correct, prior)
            n = apply_budget(asked, p_plan, rank, t_left, s_left, cost)
            reached |= active & (n.sum(axis=1) < asked.sum(axis=1))
        n = np.where(active[:, None], n, 0)
        sampled = n.sum(axis=1) > 0
        active &= sampled
        if not active.any():
            break
        rounds += active
        correct += _add_trials(rng, trials, n, p_true, windows)
        trials += n
    rows = np.stack(
        [_kept_rows(r, i, correct, windows, target, min_t, cap) for i, r in enumerate(recipes)]
    )
    used = np.stack(
        [_used_trials(r, i, trials, correct, target, min_t, cap) for i, r in enumerate(recipes)]
    )  # (recipes, D, Q)
    mean_w, mean_r = lengths.draw_means(rng, d)
    per_trial = p_true * mean_r + (1 - p_true) * mean_w  # a draw's expected length per trial
    return {
        "trials": trials.sum(axis=1),
        "correct": correct.sum(axis=1),
        "new_tokens": lengths.new_tokens(
            rng, trials - trials0, correct - correct0, (mean_w, mean_r)
        ),
        "level_trials": np.stack(
            [trials[:, level_codes == k].sum(axis=1) for k in range(n_levels)]
        ),
        "rounds": rounds + start_round,
        "limit": limit,
        "budget": reached,
        "rows": rows,
        "used": used.sum(axis=2),
        "used_tokens": (used * per_trial[None]).sum(axis=2),
    }


def _refresh_targets(target, pending, trials, windows, state, recipes, cap) -> None:
    """Targets of recipes still pending in some draw, from each recipe's own code."""
    base = state.select("query_id", "level", "source", "correct")
    for i, recipe in enumerate(recipes):
        if not pending[i].any() or recipe.mode != "prop_fail":
            continue
        size = recipe.probe_size(cap)
        for j in np.flatnonzero(pending[i].any(axis=1)):
            frame = _synthetic_state(base, trials[j], windows[size][j], size)
            t, _ = recipe.targets(frame, cap, strict=True)
            t = t.join(base.select("query_id").with_row_index("_i"), on="query_id")
            rows = t["_i"].to_numpy()
            target[i, j, rows] = t["target"].fill_null(-1).to_numpy()
            pending[i, j, rows] = t["pending"].to_numpy()


def _kept_rows(recipe, i, correct, windows, target, min_t, cap) -> np.ndarray:
    """Rows the recipe keeps per draw (before decontamination)."""
    if recipe.mode == "trials":
        scope = min_t[i] >= 0
        return np.where(scope, windows[min(recipe.trials, cap)], 0).sum(axis=1)
    return np.where(target[i] >= 0, np.minimum(correct, target[i]), 0).sum(axis=1)


def _used_trials(recipe, i, trials, correct, target, min_t, cap) -> np.ndarray:
    """Trials the recipe consumes per draw and query: up to its last kept response (the k-th
    correct sits on average at ``k (N + 1) / (C + 1)`` of ``N`` trials with ``C`` correct)."""
    scope = min_t[i] >= 0
    if recipe.mode == "trials":
        return np.where(scope, np.minimum(trials, min_t[i]), 0)
    t = target[i]
    reach = (correct >= t) & (t >= 0)
    at = np.ceil(np.maximum(t, 0) * (trials + 1) / (correct + 1))
    used = np.where(reach, np.minimum(at, trials), trials)
    return np.where(scope, np.maximum(used, np.minimum(min_t[i], trials)), 0)


def _report(
    sim, recipes, state, per_token, gpus, *, trials0, correct0, tokens0, seconds0,
    settings,
) -> dict[str, Any]:  # fmt: skip
    tokens = tokens0.sum() + sim["new_tokens"]
    pool: dict[str, Any] = {
        "trials": interval(sim["trials"]),
        "correct": interval(sim["correct"]),
        "tokens": interval(tokens),
        "rounds": interval(sim["rounds"]),
        "queries": state.height,
        "round_limit_share": float(sim["limit"].mean()),
        "budget_reached_share": float(sim["budget"].mean()),
    }
    if per_token is not None:
        hours = tokens * per_token / 3600
        pool["engine_hours"] = interval(hours, 4)
        if gpus:
            pool["gpu_hours"] = interval(hours * gpus, 4)
    datasets = {}
    for i, recipe in enumerate(recipes):
        entry: dict[str, Any] = {"recipe": recipe.describe(), "rows": interval(sim["rows"][i])}
        entry["trials"] = interval(sim["used"][i])
        entry["tokens"] = interval(sim["used_tokens"][i])
        if per_token is not None:
            entry["engine_hours"] = interval(sim["used_tokens"][i] * per_token / 3600, 4)
        datasets[recipe.name] = entry
    return {
        "pool": pool,
        "datasets": datasets,
        "pilot": {
            "rounds": settings["start_round"],
            "trials": int(trials0.sum()),
            "correct": int(correct0.sum()),
            "tokens": int(tokens0.sum()),
            "engine_hours": seconds0 / 3600,
            "seconds_per_token": per_token,
        },
        "settings": settings,
    }


def markdown(doc: dict[str, Any], synth: str) -> str:
    """estimate.md: the forecast as a table."""

    def fmt(v: dict[str, float], digits: int = 0) -> str:
        f = f"{{:,.{digits}f}}"
        return f"{f.format(v['median'])} ({f.format(v['low'])} - {f.format(v['high'])})"

    pool, pilot = doc["pool"], doc["pilot"]
    lines = [
        f"# Cost forecast of pool {synth}",
        "",
        f"From the first {pilot['rounds']} round(s): {pilot['trials']:,} trials, "
        f"{pilot['correct']:,} correct, {pilot['tokens']:,} tokens, "
        f"{pilot['engine_hours']:.3f} engine hours. Median (80% interval) over "
        f"{doc['settings']['draws']} simulated futures (seed {doc['settings']['seed']}).",
        "",
        "| pool | forecast |",
        "|---|---|",
    ]
    for key in ("trials", "correct", "tokens", "rounds", "engine_hours", "gpu_hours"):
        if key in pool:
            lines.append(
                f"| {key.replace('_', ' ')} | {fmt(pool[key], 2 if 'hours' in key else 0)} |"
            )
    lengths = doc.get("lengths")
    if lengths:
        basis = "by outcome" if lengths["by_outcome"] else "not by outcome (an older tally)"
        lines += [
            "",
            f"Response lengths, {basis}: right {lengths['mean_tokens']['right']:,.0f} and wrong "
            f"{lengths['mean_tokens']['wrong']:,.0f} tokens on average; single responses "
            f"spread {lengths['response_cv']:.2f} (CV) around their query's mean, query means "
            f"{lengths['query_factor_sd']:.2f} around their group's.",
        ]
    lines += [
        "",
        f"Futures that hit the round limit: {pool['round_limit_share']:.0%}; "
        f"that reach the budget: {pool['budget_reached_share']:.0%}.",
        "",
        "| dataset | recipe | rows | trials used | tokens | engine hours |",
        "|---|---|---|---|---|---|",
    ]
    for name, d in doc["datasets"].items():
        hours = fmt(d["engine_hours"], 2) if "engine_hours" in d else "-"
        lines.append(
            f"| {name} | {d['recipe']['recipe']} | {fmt(d['rows'])} | {fmt(d['trials'])} "
            f"| {fmt(d['tokens'])} | {hours} |"
        )
    return "\n".join(lines) + "\n"
