"""Synthesise the files of a finished paper-scale pool and time the dry run that plans it.

The paper's setup (config.paper.yaml): 15,000 queries (MATH 7,500 + GSM8K 7,500), one pool
of 12 sampling rounds x 64 shards (plans, generation and verified shards, tallies, the
pool summary), the model folders, benchmark and decontamination tables, all written in
DAG order so that their times say "up to date". Their contents are small stand-ins
(valid tables of the right schema where the workflow reads them at parse time: queries,
plans, tallies); only planning is measured. Then, in that folder:

    snakemake -n --configfile config.paper.yaml

is run under ``/usr/bin/time`` and its wall time and peak memory printed. The
fine-tunes, evaluations and summary do not exist, so the dry run plans them.

    python bench/paper_scale_pool.py /tmp/paper-pool            # build, then time
    python bench/paper_scale_pool.py /tmp/paper-pool --no-build # time again
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"math": 7_500, "gsm8k": 7_500}
WORKFLOW_FILES = ("Snakefile", "rules", "config.paper.yaml", "profiles", "envs", "report")


def _touch_json(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _queries(source: str, n: int) -> pl.DataFrame:
    ids = [hashlib.sha256(f"{source}{i}".encode()).hexdigest()[:16] for i in range(n)]
    return pl.DataFrame(
        {
            "query_id": ids,
            "source": [source] * n,
            "query": [f"{source} question {i}" for i in range(n)],
            "gold": [str(i % 97) for i in range(n)],
            "level": [1 + i % 5 for i in range(n)],
        }
    )


def build(root: Path) -> None:
    cfg = yaml.safe_load((ROOT / "config.paper.yaml").read_text())
    synth, spec = next(iter(cfg["synth"].items()))
    rounds, shards = spec["max_rounds"], spec["shards"]
    data, results = root / "data", root / "results"
    queries = []
    for source, n in SOURCES.items():
        frame = _queries(source, n)
        frame.write_parquet(data / "queries" / f"{source}.parquet", mkdir=True)
        _touch_json(data / "queries" / f"{source}.parquet.prov.json", {})
        _touch_json(data / "queries" / f"{source}.stats.json", {})
        queries.append(frame)
    for model in cfg["models"]:
        (data / "models" / model).mkdir(parents=True, exist_ok=True)
        _touch_json(data / "models" / f"{model}.prov.json", {})
    for bench in cfg["benchmarks"]:
        pl.DataFrame({"item_id": ["1"]}).write_parquet(
            data / "benchmarks" / f"{bench}.parquet", mkdir=True
        )
        _touch_json(data / "benchmarks" / f"{bench}.stats.json", {})
    for source in SOURCES:
        pl.DataFrame({"query_id": []}).write_parquet(
            data / "decontam" / f"{source}.parquet", mkdir=True
        )
        _touch_json(data / "decontam" / f"{source}.stats.json", {})
    all_ids = pl.concat(queries)["query_id"]
    pool = results / "pool" / synth
    tiny = pl.DataFrame({"sample_id": ["x"]})
    summary_rounds = []
    for r in range(rounds + 1):
        trials = 0 if r == rounds else 1_000_000
        rdir = pool / f"round{r}"
        tiny.write_parquet(rdir / "plan.parquet", mkdir=True)
        _touch_json(rdir / "plan.json", {"round": r, "trials": trials, "done": trials == 0})
        summary_rounds.append({"round": r, "trials": trials})
        if trials:
            for s in range(shards):
                tiny.write_parquet(rdir / "gen" / f"shard{s}.parquet", mkdir=True)
            for s in range(shards):
                tiny.write_parquet(rdir / "verified" / f"shard{s}.parquet", mkdir=True)
        n = len(all_ids)
        pl.DataFrame(
            {"query_id": all_ids, "trials": [spec["cap"]] * n, "correct": [1000] * n}
        ).write_parquet(rdir / "tally.parquet")
    _touch_json(pool / "pool.json", {"rounds": summary_rounds, "complete": True})
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, dirs_exist_ok=True)
        else:
            shutil.copy2(src, root / name)


def measure(root: Path) -> dict:
    time_bin = shutil.which("time") or "/usr/bin/time"
    cmd = [time_bin, "-v", sys.executable, "-m", "snakemake", "-n", "--configfile",
           "config.paper.yaml"]  # fmt: skip
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", proc.stderr).group(1))
              for kind in ("User", "System"))  # fmt: skip
    jobs = re.search(r"\ntotal\s+(\d+)", proc.stdout + proc.stderr)
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(rss_kb / 1024),
        "jobs_planned": int(jobs.group(1)) if jobs else 0,
        "pool_jobs_planned": sum(
            (proc.stdout + proc.stderr).count(f"\n{kind} ")
            for kind in ("rule generate:", "rule verify:", "rule tally:", "checkpoint plan:")
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--no-build", action="store_true", help="time the existing folder")
    args = parser.parse_args()
    if not args.no_build:
        if args.folder.exists():
            shutil.rmtree(args.folder)
        args.folder.mkdir(parents=True)
        t0 = time.perf_counter()
        build(args.folder)
        print(f"built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(json.dumps(measure(args.folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
