"""`dart verify`, `dart recipes` and `dart pool` on small real files."""

from __future__ import annotations

import json

import polars as pl

from dart.grade import GRADER_VERSION
from dart.pool.verify import verify_frame


def _shard(tmp_path):
    frame = pl.DataFrame(
        {
            "query_id": ["a", "a", "b", "b", "c"],
            "trial": [0, 1, 0, 1, 0],
            "sample_id": ["a-00000", "a-00001", "b-00000", "b-00001", "c-00000"],
            "gold": ["4", "4", "\\frac{1}{2}", "\\frac{1}{2}", "7"],
            "kind": ["math"] * 5,
            "response": [
                "2+2 = \\boxed{4}",
                "so \\boxed{5}",
                "The answer is $0.5$",
                "I think it is 1/2",  # no final-answer marker: never a guess
                "\\boxed{7}",
            ],
            "finish_reason": ["stop", "stop", "stop", "stop", "length"],
        }
    )
    path = tmp_path / "shard0.parquet"
    frame.write_parquet(path)
    return frame, path


def test_verify_frame_keeps_every_row_in_order(tmp_path):
    frame, _ = _shard(tmp_path)
    verified, counts = verify_frame(frame, workers=1, timeout=5, memory_mb=2048)
    assert verified["sample_id"].to_list() == frame["sample_id"].to_list()
    assert verified["verdict"].to_list() == [
        "correct",
        "wrong",
        "correct",
        "no_answer",
        "truncated",
    ]
    assert verified["correct"].to_list() == [True, False, True, False, False]
    assert set(verified["grader_version"]) == {GRADER_VERSION}
    assert counts == {"correct": 2, "no_answer": 1, "truncated": 1, "wrong": 1}


def test_verify_cli_writes_shard_and_record(run_dart, tmp_path):
    _, path = _shard(tmp_path)
    out = tmp_path / "verified" / "shard0.parquet"
    run_dart("verify", str(path), "-o", str(out), "--workers", "1", check=True)
    assert pl.read_parquet(out).height == 5
    record = json.loads((tmp_path / "verified" / "shard0.parquet.prov.json").read_text())
    assert record["params"]["grader_version"] == GRADER_VERSION
    assert record["inputs"][0]["path"].endswith("shard0.parquet")


def test_verify_cli_names_missing_column(run_dart, tmp_path):
    path = tmp_path / "bad.parquet"
    pl.DataFrame({"sample_id": ["x"], "response": ["1"]}).write_parquet(path)
    proc = run_dart("verify", str(path), "-o", str(tmp_path / "out.parquet"))
    assert proc.returncode == 2
    [error] = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert error.endswith("bad.parquet: generation shard lacks column(s) gold, finish_reason"), (
        error
    )
    assert not (tmp_path / "out.parquet").exists()


def test_recipes_cli_validates(run_dart, tmp_path):
    good = json.dumps({"u": {"recipe": "uniform", "k": 3}})
    run_dart("recipes", good, "-o", "r.json", check=True)
    assert json.loads((tmp_path / "r.json").read_text()) == {"u": {"recipe": "uniform", "k": 3}}
    bad = json.dumps({"u": {"recipe": "uniform", "k": 0}})
    proc = run_dart("recipes", bad, "-o", "r2.json")
    assert proc.returncode == 2
    # the one error line names the dataset, the key and the value it refused
    [error] = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert error.endswith("ERROR dart: dataset 'u': k must be an integer >= 1, got 0"), error
    assert not (tmp_path / "r2.json").exists()


def test_pool_summary(run_dart, tmp_path):
    plans = []
    for r, (trials, done) in enumerate([(10, False), (0, True)]):
        p = tmp_path / f"plan{r}.json"
        p.write_text(
            json.dumps(
                {"round": r, "trials": trials, "queries": 2, "done": done, "exhausted": ["q"] * r}
            )
        )
        plans.append(str(p))
    tally = tmp_path / "tally.parquet"
    pl.DataFrame(
        {"query_id": ["a", "q"], "trials": [5, 5], "correct": [3, 0], "tokens": [50, 60]}
    ).write_parquet(tally)
    run_dart("pool", "--plans", *plans, "--tally", str(tally), "-o", "pool.json", check=True)
    summary = json.loads((tmp_path / "pool.json").read_text())
    assert summary["trials"] == 10 and summary["correct"] == 3 and summary["tokens"] == 110
    assert summary["complete"] and summary["exhausted"] == ["q"]
    assert [r["round"] for r in summary["rounds"]] == [0, 1]


def test_verify_passes_the_question_to_the_grader():
    generated = pl.DataFrame(
        {
            "query_id": ["p", "n"],
            "sample_id": ["p-00000", "n-00000"],
            "gold": ["20\\%", "20\\%"],
            "response": ["\\boxed{0.2}", "\\boxed{0.2}"],
            "finish_reason": ["stop", "stop"],
        }
    )
    queries = pl.DataFrame(
        {"query_id": ["n", "p"], "query": ["How many apples?", "What percent of the class passed?"]}
    )
    verified, _ = verify_frame(generated, workers=1, timeout=5, memory_mb=2048, queries=queries)
    # grader 1.2: 0.2 reads as 20% unless the question asks for a percent
    assert verified["verdict"].to_list() == ["wrong", "correct"]
