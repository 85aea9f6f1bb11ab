"""Bad input and faults, as a hostile user would try them: every verb answers with one
line naming the file (and row or option), a non-zero exit, no traceback and nothing
half-written (issue 10's sweep; bench/RESULTS.md "Robustness" lists the cases)."""

from __future__ import annotations

import errno
import json
import sys

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
        (["grade", good, "-o", "afile/out.jsonl"], "afile"),
        (["grade", good, "-o", "o.jsonl", "--workers", "-1"], "--workers: must be at least 1"),
        (["grade", good, "-o", "o.jsonl", "--timeout", "0"], "--timeout: must be above 0"),
        (["grade", good, "-o", "o.jsonl", "--timeout", "-1"], "--timeout: must be above 0"),
        (["grade", good, "-o", "o.jsonl", "--memory-mb", "0"], "--memory-mb: must be at least 64"),
        (["generate", "--plan", "p.parquet", "--queries", "q.parquet", "--model", "m", "--template",
          "dart-synth", "--sampling-json", "{}", "--chunk-size", "0", "-o", "o.parquet"], "argument --chunk-size: must be at least 1, got 0"),
        (["audit", "nothere.parquet"], "nothere.parquet"),
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
