"""Bad input and faults, as a hostile user would try them: every verb answers with one
line naming the file (and row or option), a non-zero exit, no traceback and nothing
half-written (issue 10's sweep; bench/RESULTS.md "Robustness" lists the cases)."""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import sys

import pytest

from dart import cli

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "datasets"))
from test_assemble import RECIPES, build_pool  # noqa: E402


def _write(path, text: str):
    path.write_text(text)
    return str(path)


def _cases(tmp):
    (tmp / "x.jsonl").mkdir()
    (tmp / "afile").write_text("not a folder")
    good = _write(tmp / "g.jsonl", json.dumps({"response": "\\boxed{2}", "gold": "2"}) + "\n")
    surrogate = _write(
        tmp / "s.jsonl", '{"question": "What is \\ud800 1+1?", "answer": "#### 2"}\n'
    )
    open_box = json.dumps({"problem": "p", "solution": "First \\boxed{7}, then \\boxed{\\frac{1}{2}.",
                           "level": "Level 1", "type": "Algebra"})  # fmt: skip
    unbalanced = _write(tmp / "m.jsonl", open_box + "\n")
    return [
        (["queries", "x.jsonl", "--format", "gsm8k", "-o", "q.parquet"], "x.jsonl: not a file"),
        (["queries", surrogate, "--format", "gsm8k", "-o", "q.parquet"], "row 1: 'question' is not valid Unicode"),
        (["queries", unbalanced, "--format", "math", "-o", "q.parquet"], "row 1: the last \\boxed{ of 'solution' is never closed"),
        (["queries", "nothere.jsonl", "--format", "gsm8k", "-o", "q.parquet"], "nothere.jsonl: no such file"),
        (["config", "missing.yaml"], "missing.yaml: cannot read the config"),
        (["grade", good, "-o", "afile/out.jsonl"], "dart grade: afile: File exists"),
        (["grade", good, "-o", "o.jsonl", "--workers", "-1"], "--workers: must be at least 1"),
        (["grade", good, "-o", "o.jsonl", "--timeout", "0"], "--timeout: must be above 0"),
        (["grade", good, "-o", "o.jsonl", "--timeout", "-1"], "--timeout: must be above 0"),
        (["grade", good, "-o", "o.jsonl", "--memory-mb", "0"], "--memory-mb: must be at least 64"),
        (["generate", "--plan", "p.parquet", "--queries", "q.parquet", "--model", "m", "--template",
          "dart-synth", "--sampling-json", "{}", "--chunk-size", "0", "-o", "o.parquet"], "argument --chunk-size: must be at least 1, got 0"),
        (["audit", "nothere.parquet"], "FAILED: nothere.parquet: missing: no such file"),
        (["benchmark", "gsm8k", unbalanced, "-o", "b.parquet"], "m.jsonl: row 1"),
        (["train", "--dataset", "nothere.parquet", "--base", "afile", "-o", "model"], "afile: not a model folder"),
    ]  # fmt: skip


def test_no_verb_answers_bad_input_with_a_traceback(tmp_path, run_dart):
    for args, named in _cases(tmp_path):
        proc = run_dart(*args)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, (args, out)
        assert "Traceback" not in out, (args, out)
        assert named in out, (args, named, out)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["afile", "g.jsonl", "m.jsonl", "s.jsonl", "x.jsonl"], left


def test_full_disk_while_writing_plots_is_one_line_and_leaves_no_dataset(
    tmp_path, monkeypatch, caplog
):
    verified, _, qpath = build_pool(tmp_path / "pool")
    from matplotlib.figure import Figure

    def full(self, fname, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(fname))

    monkeypatch.setattr(Figure, "savefig", full)
    out = tmp_path / "ds"
    argv = ["assemble", "--queries", qpath, "--verified", *verified, "--recipe-json",
            json.dumps(RECIPES["u"]), "--name", "u", "--cap", "12", "-o", str(out / "u.parquet"),
            "--card", str(out / "README.md"), "--stats", str(out / "stats.json"),
            "--plots", str(out / "plots")]  # fmt: skip
    assert cli.main(argv) == 1
    assert "No space left on device" in caplog.text and "Traceback" not in caplog.text
    assert not (out / "u.parquet").exists() and not list(out.rglob(".*tmp-*"))


def test_null_response_or_reference_is_an_error_row_not_a_dead_worker(tmp_path, run_dart):
    rows = [
        {"response": "\\boxed{2}", "gold": "2"},
        {"response": None, "gold": "2"},
        {"response": "\\boxed{2}", "gold": None},
    ]
    src = _write(tmp_path / "n.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    proc = run_dart("grade", src, "-o", "sub/dir/out.jsonl", "--workers", "1")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    graded = [
        json.loads(line) for line in (tmp_path / "sub/dir/out.jsonl").read_text().splitlines()
    ]
    assert [(g["verdict"], g["reason"]) for g in graded] == [
        ("correct", "boxed:exact"),
        ("error", "null response"),
        ("error", "null reference"),
    ]
    assert "died" not in proc.stderr


# --------------------------------------------------------------------------- issue 14 sweep
# Every verb and config block: numeric options at and beyond their bounds, wrong types,
# missing and truncated files. Run in this process (no interpreter start-up per case);
# bench/RESULTS.md "Robustness" lists what each gets.


def _dart(argv: list[str], capsys, caplog) -> tuple[int, str]:
    """``dart ARGV`` in this process: (exit status, everything it printed or logged)."""
    import signal

    caplog.clear()
    before = signal.getsignal(signal.SIGTERM)
    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse refusing an option
        rc = exc.code
    finally:
        signal.signal(signal.SIGTERM, before)
    out = capsys.readouterr()
    return rc, out.out + out.err + caplog.text


def _truncated(src, dst):
    data = __import__("pathlib").Path(src).read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return str(dst)


GEN = ["evaluate", "generate", "--benchmark", "b.parquet", "--model", "tiny", "--template",
       "alpaca", "-o", "o.gen.parquet"]  # fmt: skip
SCORE = ["evaluate", "score", "--generations", "g.gen.parquet", "--benchmark", "b.parquet",
         "--benchmark-name", "b", "--model-name", "m", "-o", "r.json", "--items", "r.jsonl"]  # fmt: skip
PLAN = ["plan", "--queries", "q.parquet", "--recipes", '{"u": {"recipe": "uniform", "k": 1}}',
        "--round", "0", "--seed", "1", "--cap", "4", "--per-round-max", "2", "--shards", "1",
        "--max-rounds", "2", "-o", "p.parquet", "--summary", "p.json"]  # fmt: skip
POOLGEN = ["generate", "--plan", "p.parquet", "--queries", "q.parquet", "--model", "tiny",
           "--template", "dart-synth", "--sampling-json", "{}", "-o", "g.parquet"]  # fmt: skip
ASSEMBLE = ["assemble", "--queries", "q.parquet", "--verified", "v.parquet", "--recipe-json",
            '{"recipe": "uniform", "k": 1}', "--name", "u", "-o", "d/u.parquet", "--card",
            "d/README.md", "--stats", "d/s.json", "--plots", "d/p"]  # fmt: skip
TRAIN = ["train", "--dataset", "nothere.parquet", "--base", "tiny", "-o", "model"]
DECONTAM = ["decontam", "--queries", "q.parquet", "--benchmarks", "b.parquet", "-o", "c.parquet",
            "--stats", "c.json"]  # fmt: skip
QUERIES = ["queries", "7", "--format", "generated", "-o", "q2.parquet"]
BENCH = ["benchmark", "generated", "3", "-o", "b2.parquet"]

# (argv, what the one line must say): each refused at parse time with exit status 2
OPTIONS = [
    ([*QUERIES, "--n", "0"], "argument --n: must be at least 1, got 0"),
    ([*QUERIES, "--n", "-3"], "argument --n: must be at least 1, got -3"),
    ([*QUERIES, "--limit", "0"], "argument --limit: must be at least 1, got 0"),
    ([*QUERIES, "--limit", "ten"], "argument --limit: expected an integer, got 'ten'"),
    ([*QUERIES, "--max-chars", "0"], "argument --max-chars: must be at least 1, got 0"),
    ([*BENCH, "--n", "0"], "argument --n: must be at least 1, got 0"),
    ([*BENCH, "--n", "-3"], "argument --n: must be at least 1, got -3"),
    ([*BENCH, "--limit", "0"], "argument --limit: must be at least 1, got 0"),
    ([*DECONTAM, "--min-overlap", "-3"], "argument --min-overlap: must be at least 1, got -3"),
    ([*DECONTAM, "--min-overlap", "0"], "argument --min-overlap: must be at least 1, got 0"),
    ([*DECONTAM, "--ngram", "0"], "argument --ngram: must be at least 1, got 0"),
    ([*SCORE, "--workers", "0"], "argument --workers: must be at least 1, got 0"),
    ([*SCORE, "--timeout", "0"], "argument --timeout: must be above 0, got 0"),
    ([*SCORE, "--timeout", "nan"], "argument --timeout: must be above 0, got nan"),
    ([*SCORE, "--memory-mb", "0"], "argument --memory-mb: must be at least 64, got 0"),
    ([*GEN, "--threads", "0"], "argument --threads: must be at least 1, got 0"),
    ([*GEN, "--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    ([*GEN, "--chunk-size", "0"], "argument --chunk-size: must be at least 1, got 0"),
    ([*GEN, "--max-new-tokens", "0"], "argument --max-new-tokens: must be at least 1, got 0"),
    ([*GEN, "--gpus", "-1"], "argument --gpus: must be at least 0, got -1"),
    ([*TRAIN, "--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    ([*TRAIN, "--threads", "0"], "argument --threads: must be at least 1, got 0"),
    ([*TRAIN, "--threads", "1.5"], "argument --threads: expected an integer, got '1.5'"),
    ([*PLAN[:-4], "--shards", "0", *PLAN[-4:]], "argument --shards: must be at least 1, got 0"),
    ([*PLAN, "--cap", "0"], "argument --cap: must be at least 1, got 0"),
    ([*PLAN, "--round", "-1"], "argument --round: must be at least 0, got -1"),
    ([*PLAN, "--seed", "-1"], "argument --seed: must be at least 0, got -1"),
    ([*PLAN, "--per-round-max", "0"], "argument --per-round-max: must be at least 1, got 0"),
    ([*PLAN, "--max-rounds", "0"], "argument --max-rounds: must be at least 1, got 0"),
    ([*PLAN, "--prior-alpha", "0"], "argument --prior-alpha: must be above 0, got 0"),
    ([*PLAN, "--prior-late", "nan"], "argument --prior-late: must be a finite number, got nan"),
    ([*PLAN, "--prior-first", "0"], "argument --prior-first: must be at least 1, got 0"),
    ([*POOLGEN, "--shard", "-1"], "argument --shard: must be at least 0, got -1"),
    ([*POOLGEN, "--threads", "0"], "argument --threads: must be at least 1, got 0"),
    ([*ASSEMBLE, "--cap", "0"], "argument --cap: must be at least 1, got 0"),
    (["audit", "x.parquet", "--row", "0"], "argument --row: must be at least 1, got 0"),
    (["grade", "g.jsonl", "-o", "o.jsonl", "--timeout", "inf"], "argument --timeout: must be above 0, got inf"),
]  # fmt: skip


def test_numeric_options_have_one_range_in_every_verb(tmp_path, monkeypatch, capsys, caplog):
    """Issue 14 item 10: ``--n 0`` gave 100 items, ``--min-overlap -3`` was recorded,
    ``--workers 0`` / ``--threads 0`` passed in one verb and not in another."""
    monkeypatch.chdir(tmp_path)
    for argv, named in OPTIONS:
        rc, out = _dart(argv, capsys, caplog)
        assert rc == 2 and named in out and "Traceback" not in out, (argv, out)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny model (and broken copies), a benchmark, a pool, each also truncated."""
    import polars as pl

    from dart.engines.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("inputs")
    tiny = build_tiny_model(root / "tiny", seed=0)
    for name, drop in (("notok", "tokenizer.json"), ("trunc", None)):
        (root / name).mkdir()
        for f in tiny.iterdir():
            if f.name != drop and f.name != "model.safetensors":
                (root / name / f.name).write_bytes(f.read_bytes())
        weights = (tiny / "model.safetensors").read_bytes()
        (root / name / "model.safetensors").write_bytes(
            weights if drop else weights[: len(weights) // 2]
        )
    if (root / "notok" / "tokenizer_config.json").exists():
        (root / "notok" / "tokenizer_config.json").unlink()
    verified, _, qpath = build_pool(root / "pool")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert cli.main(["benchmark", "generated", "1007", "--n", "3", "-o", "b.parquet"]) == 0
    finally:
        os.chdir(cwd)
    pl.read_parquet(root / "b.parquet").head(0).write_parquet(root / "empty.parquet")
    for src, dst in ((root / "b.parquet", "tb.parquet"), (qpath, "tq.parquet"),
                     (verified[0], "tv.parquet"),
                     (root / "pool" / "round0" / "tally.parquet", "tt.parquet"),
                     (root / "pool" / "round0" / "plan.parquet", "tp.parquet")):  # fmt: skip
        _truncated(src, root / dst)
    return {"root": root, "queries": qpath, "verified": verified[0],
            "plan": str(root / "pool" / "round0" / "plan.parquet")}  # fmt: skip


def test_missing_truncated_and_wrong_files_are_one_line_naming_them(
    inputs, tmp_path, monkeypatch, capsys, caplog
):
    """Issue 14 item 7 and the sweep: each was a traceback, a pathless ``OSError``, or a
    row-less message; now one line naming the file (and row), exit 2, nothing written."""
    root = inputs["root"]
    monkeypatch.chdir(tmp_path)
    for name in ("tiny", "notok", "trunc"):
        (tmp_path / name).symlink_to(root / name)
    s = _write(tmp_path / "s.jsonl", '{"question": "What is \\ud800 1+1?", "answer": "#### 2"}\n')
    (tmp_path / "r.prov.json").write_text('{"schema": ')
    (tmp_path / "r").write_text("x")
    (tmp_path / "plans.json").write_text('{"round": ')
    gen = ["evaluate", "generate", "--template", "alpaca", "--max-new-tokens", "4",
           "-o", "o.gen.parquet"]  # fmt: skip
    bench = ["--benchmark", str(root / "b.parquet")]
    score = ["evaluate", "score", "--benchmark-name", "b", "--model-name", "m", "--workers", "1",
             "-o", "r.json", "--items", "r.jsonl"]  # fmt: skip
    q, v, plan = inputs["queries"], inputs["verified"], inputs["plan"]
    t = {n: str(root / f"t{n}.parquet") for n in "bqvtp"}
    sampling = '{"temperature": 1.0, "max_new_tokens": 4}'
    cases = [
        (["benchmark", "gsm8k", s, "-o", "x.parquet"], "s.jsonl: row 1: 'question' is not valid Unicode"),
        ([*gen, "--benchmark", t["b"], "--model", "tiny"], "tb.parquet: cannot read benchmark item table (parquet: File out of"),
        ([*gen, "--benchmark", str(root / "empty.parquet"), "--model", "tiny"], "empty.parquet: the benchmark has no items"),
        ([*gen, *bench, "--model", "./nothere"], "./nothere: no such model folder"),
        ([*gen, *bench, "--model", "s.jsonl"], "s.jsonl: not a model folder (a file)"),
        ([*gen, *bench, "--model", "notok"], "notok: cannot load the model"),
        ([*gen, *bench, "--model", "trunc"], "trunc: cannot load the model (SafetensorError"),
        ([*gen, *bench, "--model", "tiny", "--engine-options-json", '{"bogus": 1}'],
         "--engine-options-json: unknown option(s) bogus for engine transformers"),
        ([*score, *bench, "--generations", t["b"]], "tb.parquet: cannot read generations (parquet"),
        ([*score, *bench, "--generations", "nothere.gen.parquet"], "nothere.gen.parquet: cannot read generations (no such file)"),
        ([*score, "--benchmark", str(root / "empty.parquet"), "--generations", t["b"]], "empty.parquet: the benchmark has no items"),
        ([*PLAN[:2], q, *PLAN[3:], "--tally", t["t"]], "tt.parquet: cannot read tally (parquet"),
        ([*PLAN[:2], q, *PLAN[3:], "--tally", "nothere.parquet"], "nothere.parquet: cannot read tally (no such file)"),
        (["generate", "--plan", t["p"], "--queries", q, "--model", "tiny", "--template", "dart-synth",
          "--sampling-json", sampling, "-o", "g.parquet"], "tp.parquet: cannot read plan (parquet"),
        (["generate", "--plan", plan, "--queries", t["q"], "--model", "tiny", "--template", "dart-synth",
          "--sampling-json", sampling, "-o", "g.parquet"], "tq.parquet: cannot read queries (parquet"),
        (["generate", "--plan", plan, "--queries", q, "--model", "tiny", "--template", "dart-synth",
          "--sampling-json", '{"temperature": NaN}', "-o", "g.parquet"], "sampling: temperature must be a finite number, got nan"),
        (["generate", "--plan", plan, "--queries", q, "--model", "./nothere", "--template", "dart-synth",
          "--sampling-json", sampling, "-o", "g.parquet"], "./nothere: no such model folder"),
        (["generate", "--plan", plan, "--queries", q, "--model", "trunc", "--template", "dart-synth",
          "--sampling-json", sampling, "-o", "g.parquet"], "trunc: cannot load the model (SafetensorError"),
        (["generate", "--plan", plan, "--queries", q, "--model", "tiny", "--template", "dart-synth",
          "--sampling-json", sampling, "--engine-options-json", '{"bogus": 1}', "-o", "g.parquet"],
         "unknown option(s) bogus for engine transformers"),
        (["model", "trunc", "-o", "m"], "trunc: model.safetensors is not a readable safetensors file"),
        (["model", "./nothere", "-o", "m"], "./nothere: no such model folder"),
        (["model", "tiny", "-o", "tiny"], "tiny: the source folder is the output"),
        (["verify", v, "--queries", t["q"], "-o", "v.parquet"], "tq.parquet: cannot read queries (parquet"),
        (["tally", "--verified", t["v"], "-o", "t.parquet"], "tv.parquet: cannot read verified shard (parquet"),
        (["tally", "--previous", t["t"], "--verified", v, "-o", "t.parquet"], "tt.parquet: cannot read tally (parquet"),
        (["pool", "--plans", "plans.json", "--tally", str(root / "pool/round0/tally.parquet"), "-o", "pool.json"],
         "plans.json: plan summary: invalid JSON"),
        ([*ASSEMBLE[:2], q, "--verified", t["v"], *ASSEMBLE[5:]], "tv.parquet: cannot read verified shard (parquet"),
        ([*DECONTAM[:2], t["q"], *DECONTAM[3:]], "tq.parquet: cannot read queries"),
        (["audit", "r"], "r.prov.json: not a readable provenance record"),
        (["audit", "tiny", "--row", "1"], "tiny: --row needs a dataset parquet file (a folder)"),
        (["summarize", "--inputs", "plans.json", "-o", "s.md", "--csv", "s.csv"], "plans.json: cannot read result"),
        (["summarize", "--results", "nothere", "-o", "s.md", "--csv", "s.csv"], "nothere/eval/*/*.json: no result files"),
        (["train", "--dataset", t["q"], "--base", "tiny", "--hyperparams-json", '{"learning_rate": NaN}', "-o", "m"],
         "train hyperparams: learning_rate must be a finite number, got nan"),
        (["train", "--dataset", t["q"], "--base", "tiny", "--hyperparams-json", '{"epochs": Infinity}', "-o", "m"],
         "train hyperparams: epochs must be a finite number, got inf"),
        (["train", "--dataset", t["q"], "--base", "tiny", "-o", "s.jsonl"], "s.jsonl: already exists (a file)"),
    ]  # fmt: skip
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv, named in cases:
        rc, out = _dart(argv, capsys, caplog)
        assert rc == 2 and named in out and "Traceback" not in out, (argv, out)
        errors = [line for line in out.splitlines() if "ERROR" in line.split()]
        assert len(errors) == 1, (argv, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_refused_evaluation_leaves_no_parts_folder(inputs, tmp_path, monkeypatch, capsys, caplog):
    """Issue 14 item 11: a prompt over the model's context refused mid-run left
    ``OUT.parts/`` behind; now nothing is left when no chunk finished."""
    monkeypatch.chdir(tmp_path)
    long = json.dumps({"question": "What is " + "1 + " * 400 + "1?", "answer": "#### 401"})
    src = _write(tmp_path / "long.jsonl", long + "\n")
    assert _dart(["benchmark", "gsm8k", src, "-o", "long.parquet"], capsys, caplog)[0] == 0
    argv = ["evaluate", "generate", "--benchmark", "long.parquet", "--model",
            str(inputs["root"] / "tiny"), "--template", "alpaca", "-o", "o.gen.parquet"]  # fmt: skip
    rc, out = _dart(argv, capsys, caplog)
    assert rc == 2 and "more than the model's context of 1024 tokens" in out, out
    assert not (tmp_path / "o.gen.parquet.parts").exists()
    assert not (tmp_path / "o.gen.parquet").exists()


def _result(path, **fields):
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": "gsm8k", "model": "m", "n": 4, "n_correct": 2, "accuracy": 0.5, **fields}
    path.write_text(json.dumps(doc))
    return str(path)


def test_summary_is_refused_whole_or_written_whole(tmp_path, monkeypatch, capsys, caplog):
    """Issue 14 item 8: ``n_correct > n`` died with ``math domain error`` after summary.md
    was written; now the result is refused by key and no output appears; a failure while
    drawing the chart leaves no summary.md or CSV either."""
    monkeypatch.chdir(tmp_path)
    good = _result(tmp_path / "eval/m/gsm8k.json")
    bad = _result(tmp_path / "eval/b/gsm8k.json", model="b", n_correct=7, accuracy=1.0)
    out = ["-o", "s.md", "--csv", "s.csv", "--png", "s.png"]
    rc, text = _dart(["summarize", "--inputs", good, bad, *out], capsys, caplog)
    assert rc == 2 and "b/gsm8k.json: key n_correct must be between 0 and n=4, got 7" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]
    from matplotlib.figure import Figure

    def full(self, fname, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full)
    rc, text = _dart(["summarize", "--inputs", good, *out], capsys, caplog)
    assert rc == 1 and "s.png" in text and "No space left on device" in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    assert _dart(["summarize", "--inputs", good, *out], capsys, caplog)[0] == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"s.md", "s.csv", "s.png", "s.png.prov.json"}


def test_config_refuses_duplicate_seeds_and_non_finite_numbers(
    repo_root, tmp_path, monkeypatch, capsys, caplog
):
    """Issue 14 item 11: ``train.seeds: [42, 42]`` collapsed silently into one model;
    ``.nan`` and ``.inf`` passed every schema bound."""
    monkeypatch.chdir(tmp_path)
    text = (repo_root / "config.yaml").read_text()
    assert "seeds: [42]" in text and "learning_rate: 5.0e-5" in text
    cases = [
        (text.replace("seeds: [42]", "seeds: [42, 42]"), "key train.seeds: [42, 42] has non-unique elements"),
        (text.replace("learning_rate: 5.0e-5", "learning_rate: .nan"), "learning_rate: must be a finite number, got nan"),
        (text.replace("learning_rate: 5.0e-5", "learning_rate: .inf"), "learning_rate: must be a finite number, got inf"),
        (text[: text.index("seeds: [42]") + 8], "not valid YAML"),
    ]  # fmt: skip
    for i, (config, named) in enumerate(cases):
        path = _write(tmp_path / f"c{i}.yaml", config)
        rc, out = _dart(["config", path], capsys, caplog)
        assert rc == 2 and named in out and "Traceback" not in out, (named, out)
        assert len(out.strip().splitlines()) == 1, out


def _bounded_leaves(value, node, root, path=()):
    """(key path, schema node) of every number in a merged config that has a bound."""
    from dart.config.validation import _resolve

    node = _resolve(node, root)
    if isinstance(value, dict):
        props, extra = node.get("properties", {}), node.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from _bounded_leaves(item, sub, root, (*path, key))
    elif {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} & set(node):
        yield path, node


def _set(cfg, path, value):
    import copy

    out = copy.deepcopy(cfg)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def test_every_bounded_config_number_at_and_beyond_its_bound(repo_root):
    """The sweep over every config block: each bounded number of the merged default
    config set to its bound (accepted, or refused only as ``exclusive``), one step
    beyond (refused naming the key), NaN and a word (refused naming the key)."""
    import yaml

    from dart.config import schema, validate
    from dart.errors import DartError

    cfg = validate(yaml.safe_load((repo_root / "config.yaml").read_text()))
    leaves = list(_bounded_leaves(cfg, schema(), schema()))
    assert len(leaves) >= 40, len(leaves)
    seen = []
    for path, node in leaves:
        key = ".".join(path)
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        step = 1 if "integer" in types else 0.5
        cases = [("nan", float("nan"), True), ("word", "lots", True)]
        if "minimum" in node:
            cases += [("at min", node["minimum"], False), ("below", node["minimum"] - step, True)]
        if "exclusiveMinimum" in node:
            cases.append(("at exclusive min", node["exclusiveMinimum"], True))
        if "maximum" in node:
            cases += [("at max", node["maximum"], False), ("above", node["maximum"] + step, True)]
        if "exclusiveMaximum" in node:
            cases.append(("at exclusive max", node["exclusiveMaximum"], True))
        for what, value, refused in cases:
            try:
                validate(_set(cfg, path, value), source="c.yaml")
                error = None
            except DartError as exc:
                error = str(exc)
            if refused:
                assert error and f"key {key}" in error, (key, what, value, error)
            else:  # the bound itself is allowed (another key's cross-check may still object)
                assert error is None or f"key {key}:" not in error, (key, what, value, error)
            seen.append((key, what))
    # every bounded key of the schema (a block's keys under any name) was swept: a block
    # the default config does not instantiate would go unchecked
    swept = {".".join(path) for path, _ in leaves}
    unswept = [p for p in sorted(set(_schema_bounded(schema(), schema())))
               if not any(fnmatch.fnmatchcase(key, ".".join(p)) for key in swept)]  # fmt: skip
    assert unswept == [] and len(seen) > len(leaves)


def _schema_bounded(node, root, path=()):
    """Key paths (``*`` for a name under ``additionalProperties``) of every bounded number
    the schema itself declares, read from the schema, not from a config."""
    from dart.config.validation import _resolve

    node = _resolve(node, root)
    if {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} & set(node):
        yield path
    for key, sub in node.get("properties", {}).items():
        yield from _schema_bounded(sub, root, (*path, key))
    if isinstance(node.get("additionalProperties"), dict):
        yield from _schema_bounded(node["additionalProperties"], root, (*path, "*"))
    for sub in (*node.get("oneOf", ()), *node.get("anyOf", ()), *node.get("allOf", ())):
        yield from _schema_bounded(sub, root, path)


def test_full_disk_under_a_library_writer_names_the_file(tmp_path, monkeypatch, capsys, caplog):
    """Issue 14 item 7: a full disk while polars (or safetensors, torch) writes raised the
    library's own error with no file named; now one line naming the output, exit 1."""
    import polars as pl

    from dart.lineage.records import os_error_for

    def full(self, *args, **kwargs):
        raise pl.exceptions.ComputeError(
            "parquet: File out of specification: underlying IO error: No space left on device "
            "(os error 28)"
        )

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    rc, out = _dart(["queries", "7", "--format", "generated", "--n", "20", "-o", "q/q.parquet"],
                    capsys, caplog)  # fmt: skip
    assert rc == 1 and "dart queries: q/q.parquet: No space left on device" in out, out
    assert "Traceback" not in out and list((tmp_path / "q").iterdir()) == []
    named = os_error_for(RuntimeError("I/O error: No space left on device (os error 28)"), "m")
    assert (named.errno, named.filename) == (errno.ENOSPC, "m")
    assert os_error_for(OSError(errno.ENOSPC, "No space left on device"), "m").filename == "m"
    assert os_error_for(ValueError("bad value"), "m") is None
