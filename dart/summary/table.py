"""The results table, one row per model, beside the published numbers (``dart summarize``,
in :mod:`dart.summary.cli`; the chart in :mod:`dart.summary.plots`).

Reads every evaluation result ``results/eval/{model}/{benchmark}.json`` that exists (or
the files given with ``--inputs``) and writes:

- ``summary.md``: one row per model, one column per benchmark plus the average, in
  accuracy %. Models trained with several seeds (``{base}--{dataset}--s{seed}``) are one
  row: the mean over seeds with the sample standard deviation (``mean ± sd``, seeds in
  their own column). The average is taken per seed over the row's benchmarks, then over
  seeds; ``*`` marks a row that lacks some of the table's benchmarks. Under each model
  whose base model's hub id and dataset recipe match a published DART-Math model
  (the DART-Math model cards), a ``paper:`` row holds the published numbers in the columns of
  the same benchmark type (math, gsm8k, collegemath, deepmind-mathematics, olympiadbench,
  theoremqa). Each of our cells also shows its 95% Wilson interval and n (over the items
  of all seeds pooled) and, where the result holds it, math-verify's accuracy
  (``[mv x]``). A base model evaluated at its fine-tunes' template (``{base}@{template}``)
  is the row ``{base} ({template})``. Then the differences from the paper's settings under
  each paper row, the paired comparisons (:mod:`dart.summary.stats`), accuracy by level
  for each benchmark with levels, and every cell's result file(s).
- ``summary.csv``: the same rows, with standard deviations, item counts, 95% Wilson
  intervals, math-verify's accuracy and accuracy by level as columns; then one row per
  compared pair (``kind`` = ``pair``).
- ``summary.png``: accuracy per benchmark, one bar group per model, Wilson intervals
  drawn, published numbers as black marks; ``summary_levels.png``: accuracy by level.

Each output's provenance record lists every result file as an input, so
``dart audit results/summary.md`` walks to each result, and from there to its model,
dataset and pool. The merged config is read for names only (base model hub ids, dataset
recipes, seeds) and kept in the record's parameters, not as an input: it is rewritten on
every run. The rule passes the same names as ``--models-json`` instead (model ->
base, dataset, seed, base_source, recipe), so Snakemake sees them change.

    ours, types = collect(find_results("results"), cfg={}, models=None)
    print(markdown(with_paper_rows(ours, types), columns(types), types))
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dart import paper
from dart.config import finetuned_models
from dart.errors import DartError
from dart.evaluate.results import wilson
from dart.lineage.records import SUFFIX
from dart.summary.stats import Comparison, Run, read_marks

log = logging.getLogger(__name__)

PAPER_TYPES = paper.TYPES  # the paper's facts live in dart/paper.py
RECIPE_LABEL = paper.RECIPE_LABEL
REQUIRED = ("benchmark", "model", "n", "n_correct", "accuracy")
_SEED = re.compile(r"^(?P<group>.+)--s(?P<seed>\d+)$")


@dataclass
class Cell:
    """One benchmark of one model row: a value per seed (accuracy %) and the files."""

    values: list[float] = field(default_factory=list)
    n: int = 0
    n_correct: int = 0
    files: list[str] = field(default_factory=list)
    #: seed (or "-") -> the run's scored items (None when no items file lies beside it)
    runs: dict[Any, Run] = field(default_factory=dict)
    #: level -> [n, n_correct], over all seeds (the results' ``by_level``)
    levels: dict[str, list[int]] = field(default_factory=dict)
    #: math-verify's second opinion per run: (n, n_correct), None where not graded
    mv_runs: list[tuple[int, int] | None] = field(default_factory=list)

    @property
    def math_verify(self) -> tuple[int, int] | None:
        """(n, n_correct) under math-verify over all seeds; None unless every run has it."""
        if not self.mv_runs or any(r is None for r in self.mv_runs):
            return None
        return sum(r[0] for r in self.mv_runs), sum(r[1] for r in self.mv_runs)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson interval (%) over the items of all seeds pooled."""
        if not self.n:
            return None
        lo, hi = wilson(self.n_correct, self.n)
        return 100 * lo, 100 * hi

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None


@dataclass
class Row:
    model: str
    kind: str = "ours"  # ours | paper
    base: str | None = None
    dataset: str | None = None
    recipe: str | None = None
    base_source: str | None = None
    seeds: list[int] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    per_seed: dict[Any, dict[str, float]] = field(default_factory=dict)


def find_results(results_dir: str | Path) -> list[Path]:
    """Every results/eval/{model}/{benchmark}.json (not sidecars, not per-item files)."""
    root = Path(results_dir) / "eval"
    return sorted(p for p in root.glob("*/*.json") if not p.name.endswith(SUFFIX))


def load_result(path: str | Path) -> dict[str, Any]:
    try:
        result = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DartError(f"{path}: cannot read result ({exc})") from exc
    if not isinstance(result, dict):
        raise DartError(f"{path}: a result file must hold a JSON object")
    missing = [k for k in REQUIRED if k not in result]
    if missing:
        raise DartError(f"{path}: result lacks key(s) {', '.join(missing)}")
    check_counts(result, path)
    return result


def check_counts(result: Mapping[str, Any], path: str | Path) -> None:
    """``n`` >= 1 items, ``0 <= n_correct <= n`` and ``accuracy == n_correct / n``: a
    result that breaks them is refused, naming the key, before anything is written."""
    n, k, acc = result["n"], result["n_correct"], result["accuracy"]
    for key, value in (("n", n), ("n_correct", k)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise DartError(f"{path}: key {key} must be an integer, got {value!r}")
    if n < 1:
        raise DartError(f"{path}: key n must be at least 1 (a result over no items), got {n}")
    if not 0 <= k <= n:
        raise DartError(f"{path}: key n_correct must be between 0 and n={n}, got {k}")
    if isinstance(acc, bool) or not isinstance(acc, (int, float)) or not 0.0 <= acc <= 1.0:
        raise DartError(f"{path}: key accuracy must be a share in [0, 1], got {acc!r}")
    if abs(acc - k / n) > 1e-9:
        raise DartError(f"{path}: key accuracy is {acc} but n_correct/n = {k}/{n} = {k / n:.6g}")


def model_info(
    name: str, cfg: Mapping[str, Any], models: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Row name, base, dataset, seed, base model source and recipe of an evaluated model.

    From ``models`` (the rule's ``--models-json``) where it names the model, else from the
    merged config, else from the name (``{base}--{dataset}--s{seed}``).
    """
    spec = dict((models or {}).get(name) or {})
    if not spec and "@" in name and "--" not in name:  # {base}@{template}
        base, _, template = name.partition("@")
        spec = {"base": base, "dataset": None, "seed": None, "template": template}
    if not spec:
        tuned = finetuned_models(cfg).get(name) if cfg else None
        if tuned is None:
            m = _SEED.match(name)
            base, _, dataset = (m["group"] if m else name).partition("--")
            tuned = {
                "base": base,
                "dataset": dataset or None,
                "seed": int(m["seed"]) if m else None,
            }
        spec = dict(tuned)
    base, dataset = spec.get("base") or name, spec.get("dataset")
    if "base_source" not in spec:
        spec["base_source"] = cfg.get("models", {}).get(base, {}).get("source") if cfg else None
    if "recipe" not in spec:
        spec["recipe"] = recipe_of(dataset, cfg)
    spec["row"] = f"{base}--{dataset}" if dataset else base
    if spec.get("template") and not dataset:  # a base model at its fine-tunes' template
        spec["row"] = f"{base} ({spec['template']})"
    return {**spec, "base": base, "dataset": dataset}


def benchmark_type(result: Mapping[str, Any], cfg: Mapping[str, Any]) -> str:
    spec = cfg.get("benchmarks", {}).get(result["benchmark"], {}) if cfg else {}
    return str(result.get("benchmark_type") or spec.get("type") or result["benchmark"])


def recipe_of(dataset: str | None, cfg: Mapping[str, Any]) -> str | None:
    spec = cfg.get("datasets", {}).get(dataset) if cfg and dataset else None
    return spec.get("recipe") if spec else None


def collect(
    paths: Sequence[str | Path], cfg: Mapping[str, Any], models: Mapping[str, Any] | None = None
) -> tuple[list[Row], dict[str, str]]:
    """Our rows (seeds grouped) and each benchmark's type, from the result files."""
    rows: dict[str, Row] = {}
    types: dict[str, str] = {}
    for path in paths:
        result = load_result(path)
        info = model_info(str(result["model"]), cfg, models)
        name, seed = info["row"], info.get("seed")
        row = rows.setdefault(name, Row(name, base=info["base"], dataset=info["dataset"]))
        row.recipe, row.base_source = info["recipe"], info["base_source"]
        bench = str(result["benchmark"])
        types[bench] = benchmark_type(result, cfg)
        scores = row.per_seed.setdefault("-" if seed is None else seed, {})
        if bench in scores:
            raise DartError(f"{path}: a second result of model {result['model']} on {bench}")
        scores[bench] = 100.0 * float(result["accuracy"])
        cell = row.cells.setdefault(bench, Cell())
        cell.values.append(scores[bench])
        cell.n += int(result["n"])
        cell.n_correct += int(result["n_correct"])
        cell.files.append(str(path))
        cell.runs["-" if seed is None else seed] = _run(path, result)
        mv = result.get("math_verify")
        ok = (
            isinstance(mv, dict)
            and isinstance(mv.get("n"), int)
            and isinstance(mv.get("n_correct"), int)
        )
        cell.mv_runs.append((mv["n"], mv["n_correct"]) if ok else None)
        for level, counts in _levels(result, path).items():
            total = cell.levels.setdefault(level, [0, 0])
            total[0] += counts[0]
            total[1] += counts[1]
        if seed is not None and seed not in row.seeds:
            row.seeds.append(seed)
    return [rows[k] for k in sorted(rows)], types


def _levels(result: Mapping[str, Any], path: str | Path) -> dict[str, tuple[int, int]]:
    """level -> (n, n_correct) of a result's ``by_level``; a malformed entry is named."""
    by_level = result.get("by_level") or {}
    out = {}
    for level, counts in by_level.items() if isinstance(by_level, dict) else ():
        n = counts.get("n") if isinstance(counts, dict) else None
        k = counts.get("n_correct") if isinstance(counts, dict) else None
        if not isinstance(n, int) or not isinstance(k, int) or not 0 <= k <= n:
            raise DartError(f"{path}: key by_level.{level} must hold integers n >= n_correct >= 0")
        out[str(level)] = (n, k)
    return out


def items_path(result_path: str | Path) -> Path:
    """The per-item file written beside a result: ``{benchmark}.items.jsonl``."""
    path = Path(result_path)
    return path.with_name(path.name.removesuffix(".json") + ".items.jsonl")


def _run(path: str | Path, result: Mapping[str, Any]) -> Run:
    items = items_path(path)
    if not items.exists():
        return Run(None, str(items), result.get("benchmark_sha256"))
    marks = read_marks(items)
    if len(marks) != result["n"]:
        raise DartError(f"{items}: {len(marks)} items, but {path} counts n={result['n']}")
    return Run(marks, str(items), result.get("benchmark_sha256"))


def columns(types: Mapping[str, str]) -> list[str]:
    """Benchmarks in the paper's column order by type, then the others by name."""
    order = {t: i for i, t in enumerate(PAPER_TYPES)}
    return sorted(types, key=lambda b: (order.get(types[b], len(order)), b))


def paper_row(row: Row, types: Mapping[str, str]) -> Row | None:
    """The published row for ``row``'s base model (by hub id) and recipe, in our columns."""
    label = paper.published_model(row.base_source)
    published = paper.ACCURACY.get((label, row.recipe))
    if published is None:
        return None
    values = dict(zip(PAPER_TYPES, published, strict=True))
    scores = {b: values[t] for b, t in types.items() if t in values}
    if not scores:
        return None
    name = f"paper: {label} {RECIPE_LABEL[row.recipe]}"
    out = Row(name, kind="paper", base=row.base, dataset=row.dataset, recipe=row.recipe,
              base_source=row.base_source)  # fmt: skip
    out.cells = {b: Cell(values=[v]) for b, v in scores.items()}
    out.per_seed = {"paper": scores}
    return out


def with_paper_rows(rows: list[Row], types: Mapping[str, str]) -> list[Row]:
    out, seen = [], set()
    for row in rows:
        out.append(row)
        paper = paper_row(row, types)
        if paper is not None and paper.model not in seen:
            seen.add(paper.model)
            out.append(paper)
    return out


def average(row: Row, cols: Sequence[str]) -> tuple[float | None, float | None, bool]:
    """(mean over seeds of each seed's mean over benchmarks, sd over seeds, row complete)."""
    per_seed = [statistics.fmean(s.values()) for s in row.per_seed.values() if s]
    if not per_seed:
        return None, None, False
    sd = statistics.stdev(per_seed) if len(per_seed) > 1 else None
    complete = all(c in row.cells for c in cols)
    return statistics.fmean(per_seed), sd, complete


def _pct(mean: float | None, sd: float | None = None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.1f}" + (f" ± {sd:.1f}" if sd is not None else "")


def cell_text(cell: Cell) -> str:
    """``mean[ ± sd] (lo–hi, n=N)[ [mv x]]``: the Wilson interval and n over all seeds'
    items, math-verify's accuracy where the result holds it."""
    text = _pct(cell.mean, cell.sd)
    if cell.interval is not None:
        lo, hi = cell.interval
        text += f" ({lo:.1f}–{hi:.1f}, n={cell.n})"
    if cell.math_verify:
        n, k = cell.math_verify
        text += f" [mv {100 * k / n:.1f}]"
    return text


def _signed(value: float) -> str:
    return f"{value:+.1f}"


def comparison_text(c: Comparison) -> str:
    """``+5.0 (-10.0, 20.0) p=0.63``; ``*`` when McNemar's p < 0.05; ``refused`` else."""
    if c.refused:
        return "not compared"
    mark = " *" if c.significant else ""
    return f"{_signed(c.diff)} ({_signed(c.lo)}, {_signed(c.hi)}) p={c.p:.2g}{mark}"


def comparisons_markdown(comparisons: Sequence[Comparison], cols: Sequence[str]) -> list[str]:
    """The paired-comparison section: one line per pair, one column per benchmark + overall."""
    if not comparisons:
        return []
    pairs = list(dict.fromkeys((c.a, c.b) for c in comparisons))
    shown = [b for b in [*cols, "overall"] if any(c.benchmark == b for c in comparisons)]
    by = {(c.a, c.b, c.benchmark): c for c in comparisons}
    lines = ["| A vs B | " + " | ".join(shown) + " |", "|" + "---|" * (len(shown) + 1)]
    for a, b in pairs:
        cells = [comparison_text(by[a, b, x]) if (a, b, x) in by else "-" for x in shown]
        lines.append(f"| `{a}` vs `{b}` | " + " | ".join(cells) + " |")
    tested = [c for c in comparisons if c.p is not None and c.benchmark != "overall"]
    raw = sum(c.p < 0.05 for c in tested)
    held = sum(c.p_holm is not None and c.p_holm < 0.05 for c in tested)
    refused = [c for c in comparisons if c.refused]
    out = [
        "## Paired comparisons",
        "Each pair on the same items: A − B in accuracy points, its 95% paired bootstrap "
        "interval (items resampled with replacement, all seeds of an item together; "
        "overall: every item of the pair's benchmarks, each resampled within its benchmark) "
        "and McNemar's exact p-value (discordant items only); * = p < 0.05. A fine-tune is "
        "compared with its base model, and the fine-tunes of one base model with each "
        "other, seed against the same seed. "
        f"Many pairs are tested at once: {raw} of {len(tested)} per-benchmark tests differ "
        f"at 5%, {held} after Holm's adjustment over those {len(tested)} (summary.csv holds "
        "the adjusted p-values); with 20-item benchmarks only large differences can show.",
        "\n".join(lines),
    ]
    if refused:
        out.append("Not compared:\n" + "\n".join(
            f"- `{c.a}` vs `{c.b}` on {c.benchmark}: {c.refused}" for c in refused))  # fmt: skip
    return out


def level_columns(rows: Sequence[Row], bench: str) -> list[str]:
    levels = {
        lv for r in rows if r.kind == "ours" and bench in r.cells for lv in r.cells[bench].levels
    }
    return sorted(levels, key=lambda lv: (len(lv), lv))


def levels_markdown(rows: Sequence[Row], cols: Sequence[str]) -> list[str]:
    """Per benchmark with levels: one row per model, accuracy % (n) per level."""
    out = []
    for bench in cols:
        levels = level_columns(rows, bench)
        if not levels:
            continue
        lines = [f"| {bench} | " + " | ".join(f"level {lv}" for lv in levels) + " |",
                 "|" + "---|" * (len(levels) + 1)]  # fmt: skip
        for row in rows:
            cell = row.cells.get(bench)
            if row.kind != "ours" or cell is None or not cell.levels:
                continue
            parts = []
            for lv in levels:
                n, k = cell.levels.get(lv, (0, 0))
                parts.append(f"{100 * k / n:.1f} ({n})" if n else "-")
            lines.append(f"| `{row.model}` | " + " | ".join(parts) + " |")
        out.append("\n".join(lines))
    if not out:
        return []
    head = ("## Accuracy by level\n\nAccuracy % (items, over all seeds) per difficulty level, "
            "for each benchmark whose items have levels (summary_levels.png draws them).")  # fmt: skip
    return [head, *out]


def markdown(
    rows: Sequence[Row],
    cols: Sequence[str],
    types: Mapping[str, str],
    comparisons: Sequence[Comparison] = (),
    paper_notes: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """summary.md: the table, notes, paired comparisons, levels, every cell's file(s)."""
    head = ["model", "seeds", *(f"{b} ({types[b]})" if types[b] != b else b for b in cols), "avg"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [
            (cell_text if row.kind == "ours" else lambda c: _pct(c.mean, c.sd))(row.cells[b])
            if b in row.cells else "-" for b in cols
        ]  # fmt: skip
        mean, sd, complete = average(row, cols)
        name = f"*{row.model}*" if row.kind == "paper" else f"`{row.model}`"
        seeds = ", ".join(map(str, row.seeds)) or ("-" if row.kind == "paper" else "1 run")
        avg = _pct(mean, sd) + ("" if complete else " *")
        lines.append("| " + " | ".join([name, seeds, *cells, avg]) + " |")
    mv = any(c.math_verify for r in rows for c in r.cells.values())
    notes = [
        "# Results",
        "Accuracy (%) per benchmark; a model trained with several seeds is one row, mean ± "
        "sample standard deviation over its seeds. In brackets: the 95% Wilson interval and "
        "the number of items n (over all seeds' items pooled): with 20 items an interval "
        "spans about ±20 points. "
        + (
            "[mv x]: the accuracy math-verify gives the same responses (a second grader). "
            if mv
            else ""
        )  # fmt: skip
        + "avg: each run's mean over the row's "
        "benchmarks, then over runs (* = the row lacks some of the table's benchmarks). "
        "*paper:* rows are the published DART-Math numbers (released model cards) for the same "
        "base model and recipe, placed in the columns of the same benchmark type; they were "
        "trained on the paper's full-size datasets.",
        "\n".join(lines),
    ]
    if paper_notes:
        notes.append(_paper_notes_text(rows, paper_notes))
    notes += comparisons_markdown(comparisons, cols)
    notes += levels_markdown(rows, cols)
    notes += [
        "## Result files",
        "Each cell comes from these files; `dart audit FILE` walks one back to its model, "
        "dataset and pool.",
    ]
    for row in rows:
        if row.kind == "ours":
            files = [f"  - {b}: " + ", ".join(f"`{_show(f)}`" for f in row.cells[b].files)
                     for b in cols if b in row.cells]  # fmt: skip
            notes.append(f"- `{row.model}`\n" + "\n".join(files))
    return "\n\n".join(notes) + "\n"


def _paper_notes_text(rows: Sequence[Row], paper_notes: Mapping[str, Sequence[str]]) -> str:
    """Under each paper row: how this run's settings differ from the paper's."""
    out = ["## How this run differs from the paper"]
    for row in rows:
        if row.kind != "paper" or row.model not in paper_notes:
            continue
        diffs = paper_notes[row.model]
        body = "\n".join(f"  - {d}" for d in diffs) if diffs else "  - no difference in settings"
        out.append(f"- *{row.model}*\n{body}")
    return "\n".join(out)


def _show(path: str) -> str:
    """A path relative to the working directory (where the DAG runs), when it lies below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def csv_text(
    rows: Sequence[Row], cols: Sequence[str], comparisons: Sequence[Comparison] = ()
) -> str:
    """summary.csv: one line per row, then one per compared pair (``kind`` = ``pair``).

    Model rows: per benchmark the mean, sd, items, 95% Wilson interval (%), math-verify's
    accuracy and accuracy per level. Pair rows (model = ``A vs B``): per benchmark the
    difference in points, the paired items, the bootstrap interval (``_lo``/``_hi``), the
    discordant counts, McNemar's p and its Holm adjustment; ``average_*`` = ``overall``.
    """
    fields = ["model", "kind", "base", "dataset", "recipe", "seeds"]
    levels = {b: level_columns(rows, b) for b in cols}
    for b in cols:
        fields += [b, f"{b}_sd", f"{b}_n", f"{b}_wilson_lo", f"{b}_wilson_hi", f"{b}_math_verify"]
        fields += [f"{b}_{suffix}" for suffix in ("lo", "hi", "b", "c", "p", "p_holm")]
        fields += [f"{b}_level{lv}{x}" for lv in levels[b] for x in ("", "_n")]
    fields += ["average", "average_sd", "average_complete"]
    fields += [f"average_{suffix}" for suffix in ("n", "lo", "hi", "b", "c", "p")]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        line: dict[str, Any] = {"model": row.model, "kind": row.kind, "base": row.base,
                                "dataset": row.dataset, "recipe": row.recipe,
                                "seeds": " ".join(map(str, row.seeds))}  # fmt: skip
        for b, cell in row.cells.items():
            line[b], line[f"{b}_sd"] = round(cell.mean, 3), _round(cell.sd)
            if cell.interval is not None:
                lo, hi = cell.interval
                line |= {f"{b}_n": cell.n, f"{b}_wilson_lo": round(lo, 3),
                         f"{b}_wilson_hi": round(hi, 3)}  # fmt: skip
            if cell.math_verify:
                line[f"{b}_math_verify"] = round(100 * cell.math_verify[1] / cell.math_verify[0], 3)
            for lv, (n, k) in cell.levels.items():
                if n and lv in levels.get(b, ()):
                    line |= {f"{b}_level{lv}": round(100 * k / n, 3), f"{b}_level{lv}_n": n}
        mean, sd, complete = average(row, cols)
        line |= {"average": _round(mean), "average_sd": _round(sd), "average_complete": complete}
        writer.writerow(line)
    for (a, b_model), group in _pairs(comparisons).items():
        line = {"model": f"{a} vs {b_model}", "kind": "pair"}
        for c in group:
            if c.refused:
                continue
            key = "average" if c.benchmark == "overall" else c.benchmark
            values = {"": _round(c.diff), "_n": c.n, "_lo": _round(c.lo), "_hi": _round(c.hi),
                      "_b": c.b_count, "_c": c.c_count, "_p": _sig(c.p), "_p_holm": _sig(c.p_holm)}  # fmt: skip
            line |= {f"{key}{k}": v for k, v in values.items() if f"{key}{k}" in fields}
        writer.writerow(line)
    return buf.getvalue()


def _pairs(comparisons: Sequence[Comparison]) -> dict[tuple[str, str], list[Comparison]]:
    out: dict[tuple[str, str], list[Comparison]] = {}
    for c in comparisons:
        out.setdefault((c.a, c.b), []).append(c)
    return out


def _sig(value: float | None) -> float | None:
    """A p-value to 4 significant digits (rounding to decimals would zero small ones)."""
    return None if value is None else float(f"{value:.4g}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
