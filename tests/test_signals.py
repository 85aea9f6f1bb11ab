"""SIGTERM (what Slurm sends at a time limit, and Snakemake on cancel) and SIGINT stop
every long-running verb within seconds: children stopped, no traceback, no half-written
output under its final name or as a temporary file; resumable parts kept where documented.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from dart.engines.tiny import build_tiny_model
from dart.pool.ids import sample_id, trial_seed

pytestmark = pytest.mark.slow
#: How long a verb may take to stop: 5x and more the slowest stop measured (3.6 s, grade on
#: SIGTERM, on a loaded 2-core machine; bench/RESULTS.md "Architecture").
STOP_SECONDS = 20


class Verb:
    """``dart ARGS`` in its own process group, its stderr read as it comes."""

    def __init__(self, args: list[str], cwd: Path, env) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dart.cli", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: we can look for leftover children
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.pid = self.proc.pid

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for_line(self, text: str, seconds: float = 120) -> None:
        """Until the process logs a line containing ``text`` (its own readiness line)."""
        deadline = time.monotonic() + seconds
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, "".join(self.lines)[-2000:]
            assert time.monotonic() < deadline, f"no line with {text!r} in {seconds} s"
            time.sleep(0.05)

    def wait_for(self, predicate, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not predicate():
            assert self.proc.poll() is None, "".join(self.lines)[-2000:]
            assert time.monotonic() < deadline, "the process never reached the state to interrupt"
            time.sleep(0.05)

    def finish(self) -> tuple[int, str]:
        code = self.proc.wait(timeout=60)
        self.reader.join(timeout=10)
        return code, "".join(self.lines)

    def interrupt(self, sig: int) -> tuple[int, str, float]:
        started = time.monotonic()
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        seconds = time.monotonic() - started
        return code, self.finish()[1], seconds


def _group_alive(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pid=,pgid=,args=", "-e"], capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if line.split()[1] == str(pgid)]


def _group_ends(pgid: int, seconds: float = 10) -> list[str]:
    """The processes left in the group once it has had ``seconds`` to end ([] at once when
    it has)."""
    deadline = time.monotonic() + seconds
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _group_alive(pgid)


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*tmp-*")]


def _symbolic_rows(path: Path, n: int = 5000) -> None:
    """Rows that each need a symbolic decision (tens of ms): grading outlasts the test's wait."""
    rows = [
        {"response": f"\\boxed{{(x+{i})^2}}", "gold": f"x^2+{2 * i}x+{i * i}"} for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_grade_stops_its_workers_and_leaves_nothing(tmp_path, dart_env, sig):
    _symbolic_rows(tmp_path / "in.jsonl")
    out = tmp_path / "sub" / "out.jsonl"
    out.parent.mkdir()
    proc = Verb(["grade", "in.jsonl", "-o", str(out), "--workers", "2"], tmp_path, dart_env)
    proc.wait_for_line("grading with 2 worker process(es)")
    code, err, seconds = proc.interrupt(sig)
    assert code == 128 + sig, err[-2000:]
    assert seconds < STOP_SECONDS and "Traceback" not in err, err[-2000:]
    assert f"stopped by {signal.Signals(sig).name}" in err
    assert not out.exists() and not _temporaries(tmp_path)
    assert not _group_ends(proc.pid)


def _plan(tmp_path: Path, trials: int) -> None:
    queries = pl.DataFrame({"query_id": ["q0", "q1"], "query": ["What is 1+1?", "What is 2+2?"]})
    rows = [
        {"query_id": q, "trial": t, "sample_id": sample_id(q, t), "seed": trial_seed(1, q, t),
         "round": 0, "shard": 0, "gold": "2", "level": 1, "kind": "arithmetic"}
        for q in queries["query_id"] for t in range(trials)
    ]  # fmt: skip
    pl.DataFrame(rows).write_parquet(tmp_path / "plan.parquet")
    queries.write_parquet(tmp_path / "queries.parquet")


def test_generate_keeps_finished_chunks_and_exits_on_sigterm(tmp_path, dart_env):
    model = build_tiny_model(tmp_path / "model")
    _plan(tmp_path, trials=200)
    out = tmp_path / "gen" / "shard0.parquet"
    sampling = json.dumps({"temperature": 1.0, "max_new_tokens": 400})
    args = ["generate", "--plan", "plan.parquet", "--shard", "0", "--queries", "queries.parquet"]
    args += ["--model", str(model), "--template", "dart-synth", "--sampling-json", sampling]
    args += ["--threads", "1", "--batch-size", "4", "--chunk-size", "4", "-o", str(out)]
    proc = Verb(args, tmp_path, dart_env)
    parts = out.parent / (out.name + ".parts")
    proc.wait_for(lambda: parts.exists() and any(parts.glob("*.parquet")), 120)
    code, err, seconds = proc.interrupt(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM and seconds < STOP_SECONDS, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    assert not out.exists() and any(parts.glob("*.parquet"))  # resumable parts kept
    assert not [p for p in _temporaries(tmp_path) if p.parent != parts]
    assert not _group_ends(proc.pid)


def test_sigterm_to_the_whole_group_leaves_no_traceback(tmp_path, dart_env):
    _symbolic_rows(tmp_path / "in.jsonl")
    proc = Verb(["grade", "in.jsonl", "-o", "out.jsonl", "--workers", "2"], tmp_path, dart_env)
    proc.wait_for_line("grading with 2 worker process(es)")
    os.killpg(proc.pid, signal.SIGTERM)  # as a scheduler does: parent and workers at once
    code, err = proc.finish()
    assert code == 128 + signal.SIGTERM and "Traceback" not in err, err[-2000:]
    assert not (tmp_path / "out.jsonl").exists() and not _temporaries(tmp_path)


def test_verify_stops_on_sigterm_and_writes_nothing(tmp_path, dart_env):
    n = 5000
    pl.DataFrame(
        {
            "query_id": [f"q{i}" for i in range(n)],
            "trial": [0] * n,
            "sample_id": [f"q{i}-00000" for i in range(n)],
            "gold": [f"x^2+{2 * i}x+{i * i}" for i in range(n)],
            "kind": ["math"] * n,
            "response": [f"\\boxed{{(x+{i})^2}}" for i in range(n)],
            "finish_reason": ["stop"] * n,
        }
    ).write_parquet(tmp_path / "gen.parquet")
    out = tmp_path / "verified" / "shard0.parquet"
    proc = Verb(["verify", "gen.parquet", "-o", str(out), "--workers", "2"], tmp_path, dart_env)
    proc.wait_for_line("grading with 2 worker process(es)")
    code, err, seconds = proc.interrupt(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM and seconds < STOP_SECONDS, err[-2000:]
    assert "Traceback" not in err and not out.exists() and not _temporaries(tmp_path)
    assert not _group_ends(proc.pid)


def _short_verbs(root: Path) -> list[tuple[list[str], str]]:
    """(argv, main output) of every verb not covered above, on small real inputs."""
    sys.path.insert(0, str(Path(__file__).parent / "datasets"))
    from test_assemble import RECIPES, build_pool

    verified, _, queries = build_pool(root / "pool")
    rounds = sorted((root / "pool").glob("round*/tally.parquet"))
    bench = root / "b.parquet"
    subprocess.run([sys.executable, "-m", "dart.cli", "benchmark", "generated", "1007", "--n",
                    "50", "-o", str(bench)], check=True, capture_output=True)  # fmt: skip
    for model, n_correct in (("m1", 3), ("m2", 5)):
        result = root / "eval" / model / "gen.json"
        result.parent.mkdir(parents=True)
        result.write_text(json.dumps({"benchmark": "gen", "model": model, "n": 10,
                                      "n_correct": n_correct, "accuracy": n_correct / 10}))  # fmt: skip
    items = pl.read_parquet(bench)
    generations = root / "b.gen.parquet"
    items.select(
        "item_id",
        response=pl.concat_str(pl.lit("The answer is \\boxed{"), "gold", pl.lit("}.")),
        finish_reason=pl.lit("stop"),
    ).write_parquet(generations)
    plans = [str(p.parent / "plan.json") for p in rounds]
    r1 = [v for v in verified if "/round1/" in v]
    return [
        (["queries", "7", "--format", "generated", "--n", "3000", "-o", "out/q.parquet",
          "--stats", "out/q.stats.json"], "out/q.parquet"),
        (["benchmark", "generated", "1007", "--n", "2000", "-o", "out/b.parquet"], "out/b.parquet"),
        (["plan", "--queries", queries, "--tally", str(rounds[0]), "--recipes",
          json.dumps(RECIPES), "--round", "1", "--seed", "1", "--cap", "12", "--per-round-max",
          "6", "--shards", "2", "--max-rounds", "8", "-o", "out/plan.parquet", "--summary",
          "out/plan.json"], "out/plan.parquet"),
        (["tally", "--previous", str(rounds[0]), "--verified", *r1, "--queries", queries,
          "-o", "out/tally.parquet"], "out/tally.parquet"),
        (["assemble", "--queries", queries, "--verified", *verified, "--recipe-json",
          json.dumps(RECIPES["u"]), "--name", "u", "--cap", "12", "-o", "out/u.parquet",
          "--card", "out/README.md", "--stats", "out/stats.json", "--plots", "out/plots"],
         "out/u.parquet"),
        (["decontam", "--queries", queries, "--benchmarks", str(bench), "--ngram", "4",
          "-o", "out/c.parquet", "--stats", "out/c.json"], "out/c.parquet"),
        (["pool", "--plans", *plans, "--tally", str(rounds[-1]), "-o", "out/pool.json"],
         "out/pool.json"),
        (["summarize", "--results", str(root), "-o", "out/s.md", "--csv", "out/s.csv",
          "--png", "out/s.png"], "out/s.csv"),
        (["evaluate", "score", "--generations", str(generations), "--benchmark", str(bench),
          "--benchmark-name", "gen", "--model-name", "m", "--workers", "1", "-o", "out/r.json",
          "--items", "out/r.items.jsonl"], "out/r.items.jsonl"),
    ]  # fmt: skip


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"IEND\xaeB`\x82"  # the IEND chunk's type and CRC: the last bytes of a whole PNG


def _complete(path: Path) -> bool:
    """A file that reads back whole, by its kind: a parquet footer, a JSON document, every
    JSONL line a JSON object and the last one ended, a CSV or Markdown file ending in a
    newline, a PNG from signature to IEND chunk. A file of another kind is not accepted
    unread: the test must say how to read it."""
    suffix = path.suffix
    if suffix == ".parquet":
        pl.read_parquet(path)
    elif suffix == ".json":
        json.loads(path.read_text())
    elif suffix == ".jsonl":
        text = path.read_text()
        assert text.endswith("\n"), path
        assert all(isinstance(json.loads(line), dict) for line in text.splitlines()), path
    elif suffix in (".csv", ".md"):
        text = path.read_text()
        assert text.strip() and text.endswith("\n"), path
    elif suffix == ".png":
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END), path
    else:
        raise AssertionError(f"{path}: no completeness check for {suffix!r} files")
    return True


def test_completeness_checks_refuse_cut_files(tmp_path):
    """Each kind's check fails on a cut copy (the sweep below relies on them)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    files = {"a.jsonl": '{"a": 1}\n{"b": 2}\n', "a.md": "# t\n\n| a |\n", "a.csv": "a,b\n1,2\n",
             "a.json": '{"a": [1, 2]}'}  # fmt: skip
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    plt.plot([0, 1])
    plt.savefig(tmp_path / "a.png")
    pl.DataFrame({"a": list(range(100))}).write_parquet(tmp_path / "a.parquet")
    for whole in sorted(tmp_path.iterdir()):
        assert _complete(whole)
        cut = tmp_path / "cut" / whole.name
        cut.parent.mkdir(exist_ok=True)
        data = whole.read_bytes()
        cut.write_bytes(data[: len(data) - 3])
        with pytest.raises(Exception):  # noqa: B017 - each reader fails in its own way
            _complete(cut)
    with pytest.raises(AssertionError, match="no completeness check"):
        _complete(tmp_path / "x.bin")


def test_sigkill_at_any_moment_of_the_other_verbs_leaves_nothing_half_written(tmp_path, dart_env):
    """The sweep's kill at each stage: every short verb SIGKILLed after 0.05 s, 0.15 s, 0.3 s, ...
    until it finishes by itself. The output is then absent or whole (byte-identical to
    an uninterrupted run), every visible file reads back whole, and a rerun gives the same
    bytes and removes the killed run's hidden temporaries."""
    cases = _short_verbs(tmp_path / "inputs")
    for argv, output in cases:
        ref = tmp_path / f"ref-{argv[0]}"
        ref.mkdir()
        done = subprocess.run([sys.executable, "-m", "dart.cli", *argv], cwd=ref, env=dart_env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        want = (ref / output).read_bytes()
        kills, whole, hidden = 0, 0, 0
        for i, delay in enumerate((0.05, 0.15, 0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 2.5, 3.0, 4.0)):
            here = tmp_path / f"kill-{argv[0]}-{i}"
            here.mkdir()
            verb = Verb(argv, here, dart_env)
            time.sleep(delay)
            if verb.proc.poll() is not None:
                verb.finish()
                break
            os.killpg(verb.pid, signal.SIGKILL)
            verb.finish()
            kills += 1
            out = here / output
            assert not out.exists() or out.read_bytes() == want
            whole += out.exists()
            hidden += bool(_temporaries(here))
            for f in here.rglob("*"):
                if f.is_file() and not f.name.startswith("."):
                    assert _complete(f), f
            last = here
        assert kills >= 1, f"dart {argv[0]} finished before the first kill"
        print(f"dart {argv[0]}: {kills} kills; output whole after {whole}, absent after "
              f"{kills - whole}; hidden temporaries left by {hidden}")  # fmt: skip
        rerun = subprocess.run([sys.executable, "-m", "dart.cli", *argv], cwd=last,
                               env=dart_env, capture_output=True, text=True)  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert (last / output).read_bytes() == want, argv[0]
        assert not _temporaries(last / Path(output).parent), argv[0]
