"""`dart summarize` on hand-written result files: seeds, paper rows, CSV, PNG, lineage."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from dart.errors import DartError
from dart.evaluate.results import wilson
from dart.lineage.audit import audit
from dart.lineage.records import read_record, write_json_atomic, write_record
from dart.summary import cli as summarize
from dart.summary import table as summary

CONFIG = {
    "models": {"mistral": {"source": "mistralai/Mistral-7B-v0.1"}, "tiny": {"source": "x/tiny"}},
    "datasets": {"p2d": {"recipe": "prop2diff", "synth": "s"}, "uni": {"recipe": "uniform"}},
    "benchmarks": {"math": {"type": "math"}, "gsm8k": {"type": "gsm8k"},
                   "heldout": {"type": "generated"}},
    "train": {"models": {"mistral": {}, "tiny": {}}, "datasets": ["p2d", "uni"], "seeds": [1, 2]},
}  # fmt: skip


def write_result(root, model: str, bench: str, n_correct: int, n: int = 200, upstream=None):
    path = root / "eval" / model / f"{bench}.json"
    lo, hi = wilson(n_correct, n)
    result = {"benchmark": bench, "benchmark_type": CONFIG["benchmarks"][bench]["type"],
              "model": model, "n": n, "n_correct": n_correct, "accuracy": n_correct / n,
              "stderr": 0.01, "wilson95": [lo, hi], "grader_version": "g", "template": "alpaca"}  # fmt: skip
    write_json_atomic(result, path)
    write_record(path, step="score", inputs=[upstream] if upstream else [])
    return path


def lineage(root):
    """pool.json -> dataset -> model folder, each with its record, as the real rules leave them."""
    pool = root / "pool" / "s" / "pool.json"
    write_json_atomic({"trials": 10}, pool)
    write_record(pool, step="pool")
    dataset = root / "datasets" / "p2d.parquet"
    dataset.parent.mkdir(parents=True)
    pl.DataFrame({"query": ["q"], "response": ["r"]}).write_parquet(dataset)
    write_record(dataset, step="assemble", inputs=[pool])
    model = root / "models" / "mistral--p2d--s1"
    model.mkdir(parents=True)
    (model / "training.json").write_text("{}")
    write_record(model, step="train", inputs=[dataset])
    return model


def call(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    summarize.add_arguments(parser)
    return summarize.run(parser.parse_args(argv))


@pytest.fixture()
def results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = Path("results")  # relative, as the rules run in the workdir
    model = lineage(root)
    (root / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    write_result(root, "mistral--p2d--s1", "math", 90, upstream=model)
    write_result(root, "mistral--p2d--s2", "math", 100)
    write_result(root, "mistral--p2d--s1", "gsm8k", 160)
    write_result(root, "mistral--p2d--s2", "gsm8k", 170)
    write_result(root, "tiny--uni--s1", "heldout", 50)
    write_result(root, "tiny", "heldout", 20)
    return root


def test_summary_table_seeds_paper_rows_csv_png(results):
    out = results / "summary.md"
    argv = ["--results", str(results), "--config", str(results / "config.yaml"), "-o", str(out),
            "--csv", str(results / "summary.csv"), "--png", str(results / "summary.png"),
            "--levels-png", str(results / "levels.png")]  # fmt: skip
    assert call(argv) == 0
    md = out.read_text()
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert table[0] == "| model | seeds | math | gsm8k | heldout (generated) | avg |"
    # seeds 1 and 2: math 45.0 / 50.0, gsm8k 80.0 / 85.0; per-seed averages 62.5 / 67.5
    # the Wilson interval and n over both seeds' 400 items
    assert table[1] == ("| `mistral--p2d` | 1, 2 | 47.5 ± 3.5 (42.7–52.4, n=400) "
                        "| 82.5 ± 3.5 (78.5–85.9, n=400) | - | 65.0 ± 3.5 * |")  # fmt: skip
    assert table[2] == "| *paper: Mistral-7B Prop2Diff* | - | 45.5 | 81.1 | - | 63.3 * |"
    assert table[3].startswith("| `tiny` | 1 run | - | - | 10.0 (6.6–14.9, n=200) |")
    assert table[4].startswith("| `tiny--uni` | 1 | - | - | 25.0 (19.5–31.4, n=200) |")
    # no published row for an unknown base model; without items files, pairs are not compared
    assert table[5:] == ["| A vs B | heldout |", "| `tiny--uni` vs `tiny` | not compared |"]
    assert "results/eval/tiny--uni--s1/heldout.items.jsonl: no such items file; not compared" in md
    assert "`results/eval/mistral--p2d--s2/gsm8k.json`" in md
    rows = {r["model"]: r for r in csv.DictReader((results / "summary.csv").open())}
    assert rows["mistral--p2d"]["math_n"] == "400" and rows["mistral--p2d"]["seeds"] == "1 2"
    lo, hi = wilson(190, 400)
    assert float(rows["mistral--p2d"]["math_wilson_lo"]) == pytest.approx(100 * lo, abs=1e-3)
    assert float(rows["mistral--p2d"]["math_wilson_hi"]) == pytest.approx(100 * hi, abs=1e-3)
    assert rows["paper: Mistral-7B Prop2Diff"]["kind"] == "paper"
    assert (results / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (results / "levels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # no levels: a note
    assert "## Accuracy by level" not in md


def test_audit_of_summary_reaches_each_result_and_its_model_dataset_pool(results):
    out = results / "summary.md"
    assert call(["--results", "results", "-o", str(out), "--csv", str(results / "s.csv")]) == 0
    record = read_record(out)
    used = {entry["path"] for entry in record["inputs"]}
    assert used == {str(p) for p in summary.find_results(results)} and len(used) == 6
    root, problem = audit(str(out))
    assert problem is None

    def paths(node):
        yield node.path
        for child in node.children:
            yield from paths(child)

    seen = set(paths(root))
    assert {"results/eval/mistral--p2d--s1/math.json", "results/models/mistral--p2d--s1",
            "results/datasets/p2d.parquet", "results/pool/s/pool.json"} <= seen  # fmt: skip
    (results / "eval" / "tiny" / "heldout.json").write_text("{}")
    assert audit(str(out))[1].status == "modified"


def test_all_six_paper_columns_give_the_published_average():
    types = {t: t for t in summary.PAPER_TYPES}
    row = summary.Row("llama--u", base="llama", dataset="u", recipe="uniform",
                      base_source="meta-llama/Meta-Llama-3-8B")  # fmt: skip
    paper = summary.paper_row(row, types)
    assert paper.model == "paper: Llama3-8B Uniform"
    mean, sd, complete = summary.average(paper, summary.columns(types))
    assert round(mean, 1) == 38.7 and sd is None and complete  # the published avg
    assert summary.columns(types) == list(summary.PAPER_TYPES)


def test_models_json_as_the_rule_passes_it(results):
    models = {"mistral--p2d--s1": {"base": "mistral", "dataset": "p2d", "seed": 1,
                                   "base_source": "deepseek-ai/deepseek-math-7b-base",
                                   "recipe": "uniform"}}  # fmt: skip
    files = [str(results / "eval" / "mistral--p2d--s1" / "math.json")]
    out = results / "m.md"
    argv = ["--inputs", *files, "--models-json", json.dumps(models), "-o", str(out),
            "--csv", str(results / "m.csv")]  # fmt: skip
    assert call(argv) == 0
    table = [line for line in out.read_text().splitlines() if line.startswith("| ")]
    assert table[1:] == [
        "| `mistral--p2d` | 1 | 45.0 (38.3–51.9, n=200) | 45.0 |",
        "| *paper: DSMath-7B Uniform* | - | 52.9 | 52.9 |",
    ]


def test_bad_results_are_named_errors(tmp_path):
    bad = tmp_path / "eval" / "m" / "math.json"
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps({"benchmark": "math", "model": "m", "n": 2, "accuracy": 0.5}))
    with pytest.raises(DartError, match=r"math.json: result lacks key\(s\) n_correct"):
        summary.collect([bad], {})
    bad.write_text(json.dumps({"benchmark": "math", "model": "m", "n": 2, "n_correct": 1,
                               "accuracy": 50}))  # fmt: skip
    with pytest.raises(DartError, match="accuracy must be a share"):
        summary.collect([bad], {})
    for key, value, named in [("n_correct", 3, "n_correct must be between 0 and n=2"),
                              ("n", 0, "n must be at least 1"), ("accuracy", 0.7, "accuracy is 0.7"),
                              ("n", 2.0, "n must be an integer")]:  # fmt: skip
        result = {"benchmark": "math", "model": "m", "n": 2, "n_correct": 1, "accuracy": 0.5}
        bad.write_text(json.dumps({**result, key: value}))
        with pytest.raises(DartError, match=named):
            summary.collect([bad], {})
    result = {"benchmark": "math", "model": "m", "n": 2, "n_correct": 1, "accuracy": 0.5}
    bad.write_text(json.dumps({**result, "by_level": {"3": {"n": 1}}}))
    with pytest.raises(DartError, match="math.json: key by_level.3 must hold integers"):
        summary.collect([bad], {})
    empty = tmp_path / "empty"
    with pytest.raises(DartError, match="no result files; nothing to summarize"):
        call(["--results", str(empty), "-o", str(empty / "s.md"), "--csv", str(empty / "s.csv")])
    assert not empty.exists()


def test_inputs_restrict_the_files_used(results):
    only = str(results / "eval" / "tiny" / "heldout.json")
    out = results / "one.md"
    assert call(["--inputs", only, "-o", str(out), "--csv", str(results / "one.csv")]) == 0
    assert [i["path"] for i in read_record(out)["inputs"]] == [only]
    assert "| `tiny` | 1 run | 10.0 (6.6–14.9, n=200) | 10.0 |" in out.read_text()


def test_differences_from_the_paper_are_listed_under_the_paper_row(results):
    diffs = {"mistral": {"paper_model": "Mistral-7B", "published": True,
                         "differences": ["global batch 32 samples (paper 64 packed rows)"]},
             "tiny": {"paper_model": "Llama3-8B", "published": False, "differences": []}}  # fmt: skip
    out = results / "p.md"
    argv = ["--results", str(results), "--paper-diff-json", json.dumps(diffs), "-o", str(out),
            "--csv", str(results / "p.csv"), "--config", str(results / "config.yaml")]  # fmt: skip
    assert call(argv) == 0
    md = out.read_text()
    assert ("## How this run differs from the paper\n- *paper: Mistral-7B Prop2Diff*\n"
            "  - global batch 32 samples (paper 64 packed rows)\n") in md  # fmt: skip
    assert read_record(out)["params"]["paper_diff"] == diffs
    diffs["mistral"]["differences"] = []
    argv[3] = json.dumps(diffs)
    assert call(argv) == 0
    assert "- *paper: Mistral-7B Prop2Diff*\n  - no difference in settings" in out.read_text()
    with pytest.raises(DartError, match="--paper-diff-json: must map base model"):
        call([*argv[:3], '{"mistral": []}', *argv[4:]])
