"""Figures of a finished rehearsal run (config.paper.yaml + config.rehearsal.yaml).

Reads the run folder: the Snakemake log (job start and finish times), the benchmark
files (peak RSS and CPU of the generation, verification and dataset jobs), the verify
logs (rows graded and seconds), the pool's files, the plans and the datasets. Prints one
JSON object: wall seconds per rule and per round, peak RSS per rule, files and bytes per
round, planning seconds per round, grader rows/s, rounds and trials, and the datasets'
mean responses per query by level beside the paper's.

    snakemake ... > run.log 2>&1          # the rehearsal (README "Rehearsal")
    python bench/rehearsal_report.py /tmp/sim-full --log /tmp/sim-full/run.log
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import re
from pathlib import Path

import polars as pl

PAPER_MEANS = {
    "prop2diff": {"gsm8k": 8.49, "1": 14.28, "2": 33.52, "3": 54.94, "4": 79.59, "5": 107.06},
    "uniform": {"gsm8k": 39.93, "1": 40.0, "2": 40.0, "3": 39.80, "4": 39.54, "5": 37.14},
}
PAPER_ROWS = {"vrt": 590_601, "uniform": 590_705, "prop2diff": 585_392}
_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_RULE = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
_JOBID = re.compile(r"^\s+jobid: (\d+)$")
_ROUND = re.compile(r"round=(\d+)|round(\d+)/")
_DONE = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def job_times(log: Path) -> list[dict]:
    """(rule, round, start, end) of every job, from Snakemake's log."""
    stamp, rule, starts, jobs = None, None, {}, []
    current = None
    for line in log.read_text(errors="replace").splitlines():
        if m := _STAMP.match(line):
            stamp = dt.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := _RULE.match(line):
            rule, current = m.group(1), {"rule": m.group(1), "start": stamp, "round": None}
        elif current is not None and (m := _JOBID.match(line)):
            starts[m.group(1)] = current
        elif current is not None and line.strip().startswith(("output:", "wildcards:")):
            if r := _ROUND.search(line):
                current["round"] = int(r.group(1) or r.group(2))
        elif m := _DONE.match(line):
            job = starts.pop(m.group(1), None)
            if job is not None:
                jobs.append({**job, "end": stamp, "rule": m.group(2)})
    del rule
    return jobs


def _run_files(root: Path, kind: str, pattern: str) -> list[Path]:
    """Logs and benchmark files: under results/ (results_dir) now, at the top before."""
    return [*(root / "results" / kind).rglob(pattern), *(root / kind).rglob(pattern)]


def benchmarks(root: Path) -> dict[str, dict]:
    """Per rule: jobs, peak max_rss (MB), summed cpu_time and wall (s) from benchmark files."""
    out: dict[str, dict] = {}
    for path in _run_files(root, "benchmarks", "*.tsv"):
        rule = re.sub(r"\d+$", "", path.stem)
        header, *rows = path.read_text().splitlines()
        values = dict(zip(header.split("\t"), rows[-1].split("\t"), strict=False))
        entry = out.setdefault(rule, {"jobs": 0, "max_rss_mb": 0.0, "cpu_s": 0.0, "wall_s": 0.0})
        entry["jobs"] += 1
        entry["wall_s"] += float(values["s"])
        entry["cpu_s"] += float(values.get("cpu_time") or 0)
        rss = values.get("max_rss", "NA")
        entry["max_rss_mb"] = max(entry["max_rss_mb"], float(rss) if rss != "NA" else 0.0)
    return {k: {kk: round(v, 1) for kk, v in e.items()} for k, e in sorted(out.items())}


def round_files(pool: Path) -> dict[str, dict]:
    out = {}
    for rdir in sorted(pool.glob("round*"), key=lambda p: int(p.name[5:])):
        files = [p for p in rdir.rglob("*") if p.is_file()]
        if not (rdir / "plan.json").exists():
            continue
        plan = json.loads((rdir / "plan.json").read_text())
        out[rdir.name] = {
            "trials": plan["trials"],
            "shards_used": plan.get("shards_used"),
            "tally": (rdir / "tally.parquet").exists(),
            "queries": plan["queries"],
            "files": len(files),
            "mib": round(sum(p.stat().st_size for p in files) / 2**20, 1),
        }
    return out


def grader_rate(root: Path) -> dict:
    rows = seconds = 0.0
    for log in _run_files(root, "logs", "verify*.log"):
        if m := re.search(r": (\d+) rows graded in ([\d.]+)s", log.read_text(errors="replace")):
            rows += int(m.group(1))
            seconds += float(m.group(2))
    return {"rows": int(rows), "grading_s": round(seconds, 1),
            "rows_per_s_per_job": round(rows / seconds, 1) if seconds else None}  # fmt: skip


def dataset_means(root: Path) -> dict:
    out = {}
    queries = pl.concat(
        pl.read_parquet(p, columns=["query_id", "source", "level"])
        for p in sorted((root / "data/queries").glob("*.parquet"))
    )
    for path in sorted((root / "results/datasets").glob("*.parquet")):
        counts = pl.read_parquet(path, columns=["query_id"]).group_by("query_id").len()
        per = queries.join(counts, on="query_id", how="left").with_columns(
            pl.col("len").fill_null(0),
            group=pl.when(pl.col("source") == "gsm8k")
            .then(pl.lit("gsm8k"))
            .otherwise(pl.col("level").cast(pl.String)),
        )
        means = per.group_by("group").agg(pl.col("len").mean()).sort("group")
        out[path.stem] = {
            "rows": int(counts["len"].sum()),
            "paper_rows": PAPER_ROWS.get(path.stem),
            "mean_per_query": {g: round(m, 2) for g, m in means.iter_rows()},
            "paper": PAPER_MEANS.get(path.stem),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--log", type=Path, nargs="*", default=[],
                        help="Snakemake's output (several: a run stopped and resumed)")  # fmt: skip
    args = parser.parse_args()
    jobs = [job for log in args.log for job in job_times(log)]
    per_rule: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    per_round: dict[str, dict] = collections.defaultdict(lambda: collections.defaultdict(float))
    for job in jobs:
        seconds = (job["end"] - job["start"]).total_seconds()
        per_rule[job["rule"]][0] += 1
        per_rule[job["rule"]][1] += seconds
        if job["round"] is not None:
            rnd = per_round[f"round{job['round']}"]
            rnd[job["rule"]] = max(rnd[job["rule"]], 0)
            rnd[f"{job['rule']}_job_s"] += seconds
    pool = args.root / "results/pool/deepseek-rl"
    pool_json = pool / "pool.json"
    report = {
        "jobs_in_logs": len(jobs),
        "job_seconds_per_rule": {
            r: {"jobs": n, "job_s": round(s)} for r, (n, s) in sorted(per_rule.items())
        },  # fmt: skip
        "job_seconds_per_round": {
            k: {kk: round(v, 1) for kk, v in d.items() if kk.endswith("_s")}
            for k, d in sorted(per_round.items(), key=lambda kv: int(kv[0][5:]))
        },  # fmt: skip
        "benchmarks": benchmarks(args.root),
        "rounds": round_files(pool),
        "grader": grader_rate(args.root),
        "pool": {
            k: v
            for k, v in json.loads(pool_json.read_text()).items()
            if k not in ("exhausted", "rounds")
        }
        if pool_json.exists()
        else None,
        "datasets": dataset_means(args.root) if pool_json.exists() else None,
    }
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
