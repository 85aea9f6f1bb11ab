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
  theoremqa). A last section lists every cell's result file(s).
- ``summary.csv``: the same rows, with standard deviations, item counts and 95% Wilson
  intervals (over the items of all seeds pooled) as columns.
- ``summary.png``: accuracy per benchmark, one bar group per model, Wilson intervals
  drawn, published numbers as black marks.

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

from dart.config import finetuned_models
from dart.errors import DartError
from dart.evaluate.results import wilson
from dart.lineage.records import SUFFIX

log = logging.getLogger(__name__)

PAPER_TYPES = ("math", "gsm8k", "collegemath", "deepmind-mathematics", "olympiadbench", "theoremqa")
#: base model hub id (lowercase) -> the model's name in the DART-Math tables
PAPER_MODELS = {
    "mistralai/mistral-7b-v0.1": "Mistral-7B",
    "meta-llama/meta-llama-3-8b": "Llama3-8B",
    "deepseek-ai/deepseek-math-7b-base": "DSMath-7B",
    "meta-llama/meta-llama-3-70b": "Llama3-70B",
}
#: (model, recipe) -> accuracy % on PAPER_TYPES, from the released model cards
PAPER = {
    ("Mistral-7B", "uniform"): (43.5, 82.6, 26.9, 42.0, 13.2, 16.4),
    ("Mistral-7B", "prop2diff"): (45.5, 81.1, 29.4, 45.1, 14.7, 17.0),
    ("Llama3-8B", "uniform"): (45.3, 82.5, 27.1, 48.2, 13.6, 15.4),
    ("Llama3-8B", "prop2diff"): (46.6, 81.1, 28.8, 48.0, 14.5, 19.4),
    ("DSMath-7B", "uniform"): (52.9, 88.2, 40.1, 60.2, 21.3, 32.5),
    ("DSMath-7B", "prop2diff"): (53.6, 86.8, 40.7, 61.6, 21.7, 32.2),
    ("Llama3-70B", "uniform"): (54.9, 90.4, 38.5, 64.1, 19.1, 27.4),
    ("Llama3-70B", "prop2diff"): (56.1, 89.6, 37.9, 64.1, 20.0, 28.2),
}
RECIPE_LABEL = {"uniform": "Uniform", "prop2diff": "Prop2Diff"}
REQUIRED = ("benchmark", "model", "n", "n_correct", "accuracy")
_SEED = re.compile(r"^(?P<group>.+)--s(?P<seed>\d+)$")


@dataclass
class Cell:
    """One benchmark of one model row: a value per seed (accuracy %) and the files."""

    values: list[float] = field(default_factory=list)
    n: int = 0
    n_correct: int = 0
    files: list[str] = field(default_factory=list)

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
        if seed is not None and seed not in row.seeds:
            row.seeds.append(seed)
    return [rows[k] for k in sorted(rows)], types


def columns(types: Mapping[str, str]) -> list[str]:
    """Benchmarks in the paper's column order by type, then the others by name."""
    order = {t: i for i, t in enumerate(PAPER_TYPES)}
    return sorted(types, key=lambda b: (order.get(types[b], len(order)), b))


def paper_row(row: Row, types: Mapping[str, str]) -> Row | None:
    """The published row for ``row``'s base model (by hub id) and recipe, in our columns."""
    label = PAPER_MODELS.get(str(row.base_source or "").lower().split("@")[0])
    published = PAPER.get((label, row.recipe))
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


def markdown(rows: Sequence[Row], cols: Sequence[str], types: Mapping[str, str]) -> str:
    """summary.md: the table, notes, and every cell's result file(s)."""
    head = ["model", "seeds", *(f"{b} ({types[b]})" if types[b] != b else b for b in cols), "avg"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [_pct(row.cells[b].mean, row.cells[b].sd) if b in row.cells else "-" for b in cols]
        mean, sd, complete = average(row, cols)
        name = f"*{row.model}*" if row.kind == "paper" else f"`{row.model}`"
        seeds = ", ".join(map(str, row.seeds)) or ("-" if row.kind == "paper" else "1 run")
        avg = _pct(mean, sd) + ("" if complete else " *")
        lines.append("| " + " | ".join([name, seeds, *cells, avg]) + " |")
    notes = [
        "# Results",
        "Accuracy (%) per benchmark; a model trained with several seeds is one row, mean ± "
        "sample standard deviation over its seeds. avg: each run's mean over the row's "
        "benchmarks, then over runs (* = the row lacks some of the table's benchmarks). "
        "*paper:* rows are the published DART-Math numbers (released model cards) for the same "
        "base model and recipe, placed in the columns of the same benchmark type; they were "
        "trained on the paper's full-size datasets.",
        "\n".join(lines),
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


def _show(path: str) -> str:
    """A path relative to the working directory (where the DAG runs), when it lies below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def csv_text(rows: Sequence[Row], cols: Sequence[str]) -> str:
    """summary.csv: one line per row; per benchmark mean, sd, items and Wilson interval (%)."""
    fields = ["model", "kind", "base", "dataset", "recipe", "seeds"]
    for b in cols:
        fields += [b, f"{b}_sd", f"{b}_n", f"{b}_wilson_lo", f"{b}_wilson_hi"]
    fields += ["average", "average_sd", "average_complete"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        line: dict[str, Any] = {"model": row.model, "kind": row.kind, "base": row.base,
                                "dataset": row.dataset, "recipe": row.recipe,
                                "seeds": " ".join(map(str, row.seeds))}  # fmt: skip
        for b, cell in row.cells.items():
            line[b], line[f"{b}_sd"] = round(cell.mean, 3), _round(cell.sd)
            if cell.n:
                lo, hi = wilson(cell.n_correct, cell.n)
                line |= {f"{b}_n": cell.n, f"{b}_wilson_lo": round(100 * lo, 3),
                         f"{b}_wilson_hi": round(100 * hi, 3)}  # fmt: skip
        mean, sd, complete = average(row, cols)
        line |= {"average": _round(mean), "average_sd": _round(sd), "average_complete": complete}
        writer.writerow(line)
    return buf.getvalue()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
