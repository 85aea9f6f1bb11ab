"""The embedded DAG through a real Slurm with `--profile profiles/slurm`.

A single-node cluster (tests/slurm/cluster.py: Debian's slurmctld, slurmd and munge on
loopback, a counted `gpu` resource, no accounting) runs the same tiny-model DAG as a local
run, and the test checks that:

- every job went through `sbatch` (the run's Slurm jobs, one per Snakemake job, each
  COMPLETED), GPU jobs on the `gpu` partition with their GPUs and CPU jobs on `cpu` with
  none;
- the outputs are byte-identical to the local run's;
- a slurmd killed in the middle of a job ends the run with a clear error, not a hang, and
  a rerun after restarting slurmd finishes the DAG;
- a profile naming a partition that does not exist, and a job asking for more GPUs than
  the node has, fail at submission with Slurm's reason.

Under CI (`CI` set) the cluster must come up; elsewhere the tests are skipped when it
cannot (no root or apt-get to install the packages, or a Slurm that is not ours). The
daemons are stopped by their own PIDs whatever the outcome.

The DAG and its targets come from `slurm_case()`: add stages (a training job, an
evaluation) there, and both runs and every check pick them up.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from slurm import cluster as slurm_cluster

pytestmark = pytest.mark.slow

QUESTIONS = [
    {"question": f"Question {i}: what digit comes after {d - 1 if d else 9}?", "answer": str(d)}
    for i, d in enumerate([0, 1, 2, 3, 4, 5])
]
# The generation shards ask for a GPU, as vllm shards do: their Slurm jobs must land on the
# gpu partition with --gpus=1. The transformers engine still runs on the CPU (the test
# node's GPUs are device files), so the outputs stay comparable with the local run.
SET_RESOURCES = ("generate:gpu=1",)


def slurm_case(workdir: Path, model: Path) -> tuple[dict, list[str]]:
    """The config and targets both runs build: queries, one sampling round of two shards
    (plan, generate, verify, tally), the closing plan, the pool and a VRT dataset.

    Extend here: a training job and an evaluation once those stages land.
    """
    source = workdir / "digits.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in QUESTIONS))
    config = {
        "seed": 3,
        "queries": {
            "digits": {
                "format": "table",
                "source": str(source),
                "columns": {"query": "question", "gold": "answer"},
            }
        },
        "models": {"tiny": {"source": str(model)}},
        "synth": {
            "tiny": {
                "model": "tiny",
                "queries": ["digits"],
                "engine": "transformers",
                "template": "dart-synth",
                "sampling": {"temperature": 1.0, "top_p": 1.0, "top_k": -1, "max_new_tokens": 24},
                "cap": 4,
                "per_round_max": 4,
                "max_rounds": 2,
                "shards": 2,
                "chunk_size": 8,
                "engine_options": {"batch_size": 8},
            }
        },
        "datasets": {"vrt": {"synth": "tiny", "recipe": "vrt", "trials": 4}},
    }
    targets = ["results/datasets/vrt.parquet"]
    return config, targets


def compared_files(workdir: Path) -> list[str]:
    """Every data file both runs must produce identically (provenance sidecars excluded:
    they carry host, time and job ids)."""
    roots = [workdir / "data" / "queries", workdir / "results"]
    files = [p for root in roots for p in root.rglob("*.parquet")]
    return sorted(str(p.relative_to(workdir)) for p in files)


def _prepare(workdir: Path, model: Path) -> list[str]:
    config, targets = slurm_case(workdir, model)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    return targets


def _cmd(
    repo_root: Path, workdir: Path, profile: Path, *args: str, resources=SET_RESOURCES
) -> list[str]:
    return [
        sys.executable, "-m", "snakemake",
        "-s", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"),
        "--profile", str(profile),
        *args,
        "--set-resources", *resources,  # last: it takes every value after it
    ]  # fmt: skip


def _snakemake(repo_root, workdir, env, profile, *args, timeout=900, resources=SET_RESOURCES):
    start = time.monotonic()
    proc = subprocess.run(
        _cmd(repo_root, workdir, profile, *args, resources=resources),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, time.monotonic() - start


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _job_counts(log: str) -> dict[str, int]:
    """Snakemake's "Job stats" table: jobs per rule (without `all`)."""
    table = log.split("Job stats:")[-1]
    counts = {}
    for line in table.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] not in ("all", "total"):
            counts[parts[0]] = int(parts[1])
    return counts


def _run_id(log: str) -> str:
    match = re.search(r"SLURM run ID: (\S+)", log)
    assert match, "no SLURM run ID in Snakemake's log:\n" + log[-3000:]
    return match.group(1)


def slurm_jobs(run_id: str) -> list[dict[str, str]]:
    """The run's Slurm jobs (squeue keeps ended jobs for MinJobAge): id, partition, rule
    (from the plugin's --comment), GPUs asked for and final state."""
    proc = subprocess.run(
        ["squeue", "--states=all", "-h", "-n", run_id, "-o", "%i|%P|%k|%b|%T"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    jobs = []
    for line in proc.stdout.splitlines():
        job_id, partition, comment, gres, state = line.split("|")
        rule = re.match(r"rule_(.+?)(_wildcards_|$)", comment)
        jobs.append(
            {"id": job_id, "partition": partition, "rule": rule.group(1) if rule else comment,
             "gres": gres, "state": state}
        )  # fmt: skip
    return jobs


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        running = slurm_cluster.up(tmp_path_factory.mktemp("slurm"))
    except slurm_cluster.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Slurm must run under CI: {exc}")
        pytest.skip(f"no Slurm cluster on this machine: {exc}")
    try:
        yield running
    finally:
        slurm_cluster.down(running)


@pytest.fixture(scope="module")
def slurm_env(dart_env):
    """The test's environment, with the daemons' folder (/usr/sbin) on PATH."""
    env = dict(dart_env)
    env["PATH"] = f"{env['PATH']}{os.pathsep}/usr/sbin"
    return env


@pytest.fixture(scope="module")
def local_run(repo_root, slurm_env, boxing_model, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("local")
    targets = _prepare(workdir, boxing_model)
    proc, seconds = _snakemake(
        repo_root, workdir, slurm_env, repo_root / "profiles/local", *targets
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    return {"dir": workdir, "seconds": seconds, "log": proc.stderr}


@pytest.fixture(scope="module")
def slurm_run(cluster, repo_root, slurm_env, boxing_model, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm-run")
    targets = _prepare(workdir, boxing_model)
    proc, seconds = _snakemake(
        repo_root, workdir, slurm_env, repo_root / "profiles/slurm", *targets
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    return {"dir": workdir, "seconds": seconds, "log": proc.stderr}


def test_every_job_goes_through_sbatch_to_its_partition(slurm_run, local_run):
    jobs = slurm_jobs(_run_id(slurm_run["log"]))
    per_rule = {}
    for job in jobs:
        per_rule[job["rule"]] = per_rule.get(job["rule"], 0) + 1
    assert per_rule == _job_counts(local_run["log"]), (per_rule, slurm_run["log"][-3000:])
    assert {"queries", "plan", "generate", "verify", "tally", "pool", "dataset"} <= set(per_rule)
    assert all(job["state"] == "COMPLETED" for job in jobs), jobs
    for job in jobs:
        if job["rule"] == "generate":
            assert job["partition"] == "gpu" and "gpu:1" in job["gres"], job
        else:
            assert job["partition"] == "cpu" and "gpu" not in job["gres"], job
    submitted = re.findall(r"submitted with SLURM jobid (\d+)", slurm_run["log"])
    assert sorted(submitted) == sorted(job["id"] for job in jobs)


def test_outputs_are_byte_identical_to_a_local_run(slurm_run, local_run):
    files = compared_files(local_run["dir"])
    assert "results/datasets/vrt.parquet" in files
    assert compared_files(slurm_run["dir"]) == files
    for name in files:
        assert _sha256(slurm_run["dir"] / name) == _sha256(local_run["dir"] / name), name
    # The figures for bench/RESULTS.md.
    print(f"\nwall time: local {local_run['seconds']:.1f} s, slurm {slurm_run['seconds']:.1f} s")


def _running_rule(rule: str) -> bool:
    proc = subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%k"], capture_output=True, text=True
    )
    return any(line.startswith(f"rule_{rule}_") for line in proc.stdout.splitlines())


def test_killed_slurmd_mid_job_fails_clearly_and_a_rerun_finishes(
    cluster, local_run, repo_root, slurm_env, boxing_model, tmp_path
):
    targets = _prepare(tmp_path, boxing_model)
    profile = repo_root / "profiles/slurm"
    # No retry: on a one-node cluster a resubmitted job would wait for the dead node.
    cmd = _cmd(repo_root, tmp_path, profile, "--retries", "0", *targets)
    run = subprocess.Popen(
        cmd, cwd=tmp_path, env=slurm_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while not _running_rule("generate") and run.poll() is None:
            assert time.monotonic() < deadline, "no generation job started"
            time.sleep(0.2)
        assert run.poll() is None, "the run ended before a generation job ran"
        slurm_cluster.kill(cluster, "slurmd", signal.SIGKILL)
        start = time.monotonic()
        out, _ = run.communicate(timeout=300)  # a hang fails here
        seconds = time.monotonic() - start
        # What the failed run left queued must not start when the node comes back.
        subprocess.run(["scancel", "-n", _run_id(out)], check=False)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        if "slurmd" not in cluster.pids:
            slurm_cluster.start_slurmd(cluster)
    assert run.returncode != 0
    assert "NODE_FAIL" in out and "node failure" in out, out[-4000:]
    print(f"\nkilled slurmd: the run failed {seconds:.1f} s later")
    # The node is back (ReturnToService=2); the rerun completes and loses nothing.
    rerun, _ = _snakemake(repo_root, tmp_path, slurm_env, profile, *targets)
    assert rerun.returncode == 0, rerun.stderr[-6000:]
    for name in compared_files(local_run["dir"]):
        assert _sha256(tmp_path / name) == _sha256(local_run["dir"] / name), name


def _profile_with(tmp_path: Path, repo_root: Path, rename: dict[str, str]) -> Path:
    """A copy of the Slurm profile whose partitions are renamed."""
    profile = tmp_path / "profile"
    shutil.copytree(repo_root / "profiles/slurm", profile)
    partitions = yaml.safe_load((profile / "partitions.yaml").read_text())
    partitions["partitions"] = {
        rename.get(name, name): limits for name, limits in partitions["partitions"].items()
    }
    (profile / "partitions.yaml").write_text(yaml.safe_dump(partitions))
    return profile


def test_unknown_partition_fails_at_submission(
    cluster, repo_root, slurm_env, boxing_model, tmp_path
):
    _prepare(tmp_path, boxing_model)
    profile = _profile_with(tmp_path, repo_root, {"cpu": "no-such-partition"})
    proc, seconds = _snakemake(
        repo_root, tmp_path, slurm_env, profile, "data/queries/digits.parquet", timeout=120
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "invalid partition" in out.lower() and "no-such-partition" in out, out[-3000:]
    assert not (tmp_path / "data/queries/digits.parquet").exists()


def test_more_gpus_than_the_node_has_fails_at_submission(
    cluster, repo_root, slurm_env, boxing_model, tmp_path
):
    _prepare(tmp_path, boxing_model)
    proc, seconds = _snakemake(
        repo_root, tmp_path, slurm_env, repo_root / "profiles/slurm",
        "data/queries/digits.parquet", timeout=120,
        resources=(f"queries:gpu={slurm_cluster.GPUS + 1}",),
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"--gpus={slurm_cluster.GPUS + 1}" in out, out[-3000:]
    assert "Requested node configuration is not available" in out, out[-3000:]
