"""Dataset cards: a Hugging Face ``README.md`` (YAML metadata + markdown) for a dataset.

Built on ``huggingface_hub``'s ``DatasetCardData`` (license, task categories, size
category, tags, source datasets, the parquet config and features, and a ``dart`` block
naming the pool, synthesis model, recipe and decontamination) and ``DatasetCard``, which
parses the text back, so a card that the Hub would reject fails here. The markdown states
the recipe, counts, decontamination against the benchmarks, a per-level table, coverage,
yield and cost, and the lineage (pool files, seeds, template and grader versions).

    from dart.datasets.card import dataset_card
    text = dataset_card("dart-uniform", stats, data_file="dart-uniform.parquet",
                        lineage={"pool": "results/pool/smollm2", "model": ["smollm2-135m"]},
                        sources=["openai/gsm8k"], license="mit")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                   (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"))  # fmt: skip
FEATURES = (
    ("query", "string"), ("response", "string"), ("query_id", "string"),
    ("sample_id", "string"), ("round", "int64"), ("shard", "int64"), ("seed", "int64"),
    ("trial", "int64"), ("level", "int64"), ("source", "string"),
    ("template_version", "string"), ("grader_version", "string"), ("model", "string"),
)  # fmt: skip
TAGS = ("math", "synthetic", "dart-math", "rejection-sampling")


def size_category(rows: int) -> str:
    return next((label for bound, label in SIZE_CATEGORIES if rows < bound), "n>10M")


def card_data(
    name: str, stats: Mapping[str, Any], data_file: str, *, license: str = "unknown",
    sources: Sequence[str] = (), lineage: Mapping[str, Any] | None = None,
) -> DatasetCardData:  # fmt: skip
    """The card's YAML metadata."""
    rows = int(stats.get("rows", 0))
    lineage = dict(lineage or {})
    contamination = stats.get("contamination") or {}
    dart = {
        "recipe": stats.get("recipe", {}),
        "pool": lineage.get("pool"),
        "synthesis_model": lineage.get("model"),
        "grader_version": lineage.get("grader_version"),
        "template_version": lineage.get("template_version"),
        "decontaminated": contamination.get("decontaminate") if contamination else None,
        "flagged_queries": contamination.get("flagged_queries") if contamination else None,
        "simulated": True if stats.get("simulated") else None,
    }
    return DatasetCardData(
        pretty_name=name, language=["en"], license=license,
        task_categories=["text-generation", "question-answering"],
        size_categories=[size_category(rows)], tags=list(TAGS),
        source_datasets=list(sources) or None,
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": data_file}]}],
        dataset_info={"features": [{"name": n, "dtype": t} for n, t in FEATURES],
                      "splits": [{"name": "train", "num_examples": rows}]},
        dart={k: v for k, v in dart.items() if v is not None},
    )  # fmt: skip


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,d}"
    return str(value)


def level_table(stats: Mapping[str, Any]) -> str:
    cost = stats.get("cost_per_level", {})
    head = ("| level | queries | rows | mean correct / query | short of target | capped short"
            " | mean fail rate | tokens / row | engine s / row |")  # fmt: skip
    rows = [head, "|" + "---|" * 9]
    for group, r in stats.get("per_level", {}).items():
        c = cost.get(group, {})
        cells = (group, r.get("queries"), r.get("rows"), r.get("mean_correct_per_query"),
                 r.get("short"), r.get("capped_short"), r.get("mean_fail_rate"),
                 c.get("tokens_per_row"), c.get("seconds_per_row"))  # fmt: skip
        rows.append("| " + " | ".join(_fmt(v) for v in cells) + " |")
    return "\n".join(rows)


def round_table(stats: Mapping[str, Any]) -> str:
    rows = ["| round | trials used | rows kept | yield | tokens / row | engine s / row |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    for rnd, r in stats.get("cost_per_round", {}).items():
        cells = (rnd, r.get("trials_used"), r.get("rows"), r.get("yield"),
                 r.get("tokens_per_row"), r.get("seconds_per_row"))  # fmt: skip
        rows.append("| " + " | ".join(_fmt(v) for v in cells) + " |")
    return "\n".join(rows)


def recipe_text(recipe: Mapping[str, Any], k_p: float | None) -> str:
    mode = recipe.get("mode")
    if mode == "trials":
        return (
            f"the correct responses among the first {recipe['trials']} trials of every query (VRT)"
        )
    if mode == "fixed":
        return f"the first {recipe['k']} correct responses of every query, in trial order (DARS-Uniform)"
    how = f"k_p = {k_p}" + (
        " (solved from size " + str(recipe["size"]) + ")" if "size" in recipe else ""
    )
    return (f"the first max({recipe.get('min', 1)}, ceil(k_p * fail_rate)) correct responses per "
            f"query, fail rate over its first {recipe.get('n_probe')} trials, {how} (DARS-Prop2Diff)")  # fmt: skip


def contamination_text(stats: Mapping[str, Any]) -> str:
    """The decontamination section: per benchmark, flagged queries and what was done."""
    c = stats.get("contamination")
    if not c:
        return "Not checked against evaluation benchmarks (no decontamination file given)."
    done = ("all dropped before selection" if c["decontaminate"]
            else f"kept (decontamination off; {c.get('rows_from_flagged', 0):,} rows come from them)")  # fmt: skip
    rows = ["| benchmark | flagged queries | exact | n-gram only | items hit |",
            "|---|---|---|---|---|"]  # fmt: skip
    for bench, r in c.get("per_benchmark", {}).items():
        cells = (bench, r["flagged_queries"], r["exact"], r["ngram"], r["items_hit"])
        rows.append("| " + " | ".join(_fmt(v) for v in cells) + " |")
    ngram = c.get("ngram")
    how = f"exact match after normalisation or a shared {ngram}-gram" if ngram else "see files"
    return (
        f"Queries checked against the benchmarks ({how}): {_fmt(c['flagged_queries'])} of "
        f"{_fmt(c['queries_checked'])} flagged, {done}.\n\n" + "\n".join(rows)
    )


SIMULATED_WARNING = (
    "> **SIMULATED: a rehearsal, not data.** Every response of this dataset was written by "
    "the `simulated` engine (no model): right or wrong by a drawn pass rate, the text a "
    "filler with the answer boxed. It measures the pipeline's cost and shape only. "
    "`dart train` refuses it unless the fine-tune sets `allow_simulated: true`."
)


def budget_section(stats: Mapping[str, Any], shown: int = 50) -> list[str]:
    """'## Budget' when the pool stopped at its budget: the queries short and by how much."""
    budget = stats.get("budget")
    if not budget:
        return []
    limits = ", ".join(
        f"{k} {budget[k]}" for k in ("max_trials", "max_engine_hours") if budget.get(k)
    )
    short = list(budget.get("short_by", {}).items())
    lines = [
        f"The pool stopped at its budget ({limits}): budget reached. "
        f"{budget['queries_short']} queries fell short of their target, by "
        f"{budget['responses_short']} responses in all (the planner gave its last trials to "
        "the hardest queries first).",
    ]
    if short:
        lines.append("| query_id | responses short |\n|---|---|")
        lines[-1] += "".join(f"\n| {q} | {n} |" for q, n in short[:shown])
        if len(short) > shown:
            lines.append(f"... and {len(short) - shown} more (stats.json: budget.short_by).")
    return ["## Budget", "\n\n".join(lines)]


def build_card(
    name: str, stats: Mapping[str, Any], *, data_file: str,
    lineage: Mapping[str, Any] | None = None, sources: Sequence[str] = (),
    license: str = "unknown", description: str = "",
) -> DatasetCard:  # fmt: skip
    """The dataset card of ``name`` from its assembly ``stats`` (see the module doc)."""
    recipe = stats.get("recipe", {})
    cost = stats.get("cost", {})
    filters = {k: recipe[k] for k in ("levels", "sources") if k in recipe}
    meta = card_data(name, stats, data_file, license=license, sources=sources, lineage=lineage)
    parts = [
        f"# {name}",
        *([SIMULATED_WARNING] if stats.get("simulated") else []),
        "Synthetic step-by-step math solutions built by difficulty-aware rejection sampling "
        "(a reproduction of DART-Math, arXiv 2407.13690). Every row is a response judged "
        "correct against the reference answer." + (f"\n\n{description}" if description else ""),
        "## Recipe",
        f"`{recipe.get('recipe')}`: {recipe_text(recipe, stats.get('k_p'))}."
        + (f" Filters: {json.dumps(filters)}." if filters else "")
        + (f" Trial cap per query: {stats['cap']}." if stats.get("cap") else ""),
        "## Counts",
        f"- rows: {_fmt(stats.get('rows'))}\n- queries in scope: {_fmt(stats.get('queries'))}"
        f"\n- queries with at least one row (coverage): {_fmt(stats.get('queries_with_rows'))}"
        f" ({100 * float(stats.get('coverage', 0)):.1f}%)"
        f"\n- queries short of their target: {len(stats.get('short_of_target', []))}"
        f" (at the trial cap: {len(stats.get('capped_short', []))})",
        *budget_section(stats),
        "## Decontamination",
        contamination_text(stats),
        "## Per level",
        level_table(stats),
        "## Yield and cost",
        f"Trials this recipe used: {_fmt(cost.get('trials_used'))}; tokens generated: "
        f"{_fmt(cost.get('tokens'))}; engine seconds: {_fmt(cost.get('gen_seconds'))}; "
        f"per kept row: {_fmt(cost.get('tokens_per_row'))} tokens, "
        f"{_fmt(cost.get('seconds_per_row'))} s.",
        round_table(stats),
        "## Columns and lineage",
        "`query`, `response` as in the released DART-Math sets; `query_id` (content hash of "
        "the query), `sample_id`, `round`, `shard`, `seed`, `trial` lead back to the "
        "generation call; `template_version`, `grader_version`, `model` say how it was made. "
        'Load with `datasets.load_dataset("parquet", data_files=...)`.',
        "```json\n" + json.dumps(dict(lineage or {}), indent=2, default=str) + "\n```",
    ]
    return DatasetCard("---\n" + meta.to_yaml() + "\n---\n\n" + "\n\n".join(parts) + "\n")


def dataset_card(name: str, stats: Mapping[str, Any], **kwargs: Any) -> str:
    """The README.md text of dataset ``name`` (keyword arguments as :func:`build_card`)."""
    return str(build_card(name, stats, **kwargs))
