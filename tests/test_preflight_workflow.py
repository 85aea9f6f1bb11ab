"""A failed run loses nothing finished (issue 22 items 2 and 10), with the real Snakemake.

- The pre-flight check (``dart.config.preflight``, the Snakefile's ``onstart``) refuses a
  run whose jobs cannot start here (no DeepSpeed for ``ranks: 2``, no Slurm controller
  for the Slurm profile) before Snakemake deletes any output.
- Every provenance record is a declared output: a job that fails leaves no record of a
  file that is gone.
- ``results/config.yaml`` is the config of the last run that finished; logs and
  benchmarks live under ``results_dir``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _snakemake(work: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", *args, "-s", str(ROOT / "Snakefile"),
           "--directory", str(work), "--configfile", str(work / "config.yaml")]  # fmt: skip
    return subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _default(work: Path, edit=None) -> None:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    if edit:
        edit(cfg)
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))


def _tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_unreachable_slurm_deletes_nothing(tmp_path, dart_env):
    """``--profile profiles/slurm --forcerun`` with no controller deleted the outputs (and
    left their records) before ``sbatch`` failed."""
    _default(tmp_path)
    target = "data/queries/generated.parquet"
    built = _snakemake(tmp_path, dart_env, target, "--cores", "1")
    assert built.returncode == 0, built.stderr[-3000:]
    outputs = sorted((tmp_path / "data/queries").iterdir())
    assert [p.name for p in outputs] == [
        "generated.parquet", "generated.parquet.prov.json", "generated.stats.json"
    ]  # fmt: skip
    before = _digests(outputs)
    fake = tmp_path / "slurm-bin"
    fake.mkdir()
    down = "echo 'Unable to contact slurm controller (connect failure)' >&2; exit 1"
    _tool(fake, "sbatch", down)
    _tool(fake, "sinfo", down)
    env = {**dart_env, "PATH": f"{fake}:{dart_env['PATH']}"}
    proc = _snakemake(tmp_path, env, target, "--profile", str(ROOT / "profiles/slurm"),
                      "--forcerun", "queries")  # fmt: skip
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0, said[-3000:]
    assert "pre-flight: 1 problem(s) before any job ran" in said, said[-3000:]
    assert "Unable to contact slurm controller" in said
    assert _digests(outputs) == before


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is not None, reason="deepspeed here")
def test_ranks_2_without_deepspeed_is_refused_before_any_job(tmp_path, dart_env):
    _default(tmp_path, lambda c: c["train"]["models"]["smollm2-135m"].update(ranks=2))
    proc = _snakemake(tmp_path, dart_env, "--cores", "1")
    said = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "deepspeed is not importable here" in said and "train[tuned=smollm2-135m--vrt]" in said
    assert not (tmp_path / "data").exists() and not (tmp_path / "results").exists()


def test_failed_job_leaves_no_record_and_the_last_good_config(tmp_path, dart_env):
    """The benchmark job reruns with another source and fails (the hub is offline): its
    old table goes, and its record with it; results/config.yaml keeps the good run's."""

    def config(spec):
        cfg = {"results_dir": "out", "benchmarks": {"hb": spec}}
        (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))

    target = "data/benchmarks/hb.parquet"
    config({"type": "generated", "source": "1007", "n": 5})
    good = _snakemake(tmp_path, dart_env, target, "--cores", "1")
    assert good.returncode == 0, good.stderr[-3000:]
    record = tmp_path / "data/benchmarks/hb.parquet.prov.json"
    merged = tmp_path / "out/config.yaml"
    assert record.is_file() and "generated" in merged.read_text()
    assert (tmp_path / "out/logs/benchmarks/hb.log").is_file()
    assert not (tmp_path / "logs").exists() and not (tmp_path / "benchmarks").exists()
    config({"type": "gsm8k", "source": "dart-tests/no-such-dataset"})
    env = {**dart_env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    bad = _snakemake(tmp_path, env, target, "--cores", "1")
    assert bad.returncode != 0
    assert not (tmp_path / target).exists() and not record.exists()  # no orphan record
    assert "generated" in merged.read_text() and "no-such-dataset" not in merged.read_text()
