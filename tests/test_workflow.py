"""A real Snakemake run of the default DAG in a temporary directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def _snakemake(repo_root: Path, workdir: Path, env, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(repo_root / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        "--profile",
        str(repo_root / "profiles" / "local"),
        *args,
    ]
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def default_run(repo_root, dart_env, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workflow")
    (workdir / "config.yaml").write_text((repo_root / "config.yaml").read_text())
    proc = _snakemake(repo_root, workdir, dart_env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return workdir


def test_default_dag_builds_everything(default_run, repo_root, dart_env):
    queries = default_run / "data" / "queries" / "generated.parquet"
    assert queries.exists()
    record = json.loads((default_run / "data" / "models" / "smollm2-135m.prov.json").read_text())
    assert len(record["model"]["weights_sha256"]) == 64
    merged = yaml.safe_load((default_run / "results" / "config.yaml").read_text())
    assert merged["queries"]["generated"]["split"] == "train"  # defaults filled
    audit = subprocess.run(
        [sys.executable, "-m", "dart.cli", "audit", str(queries)],
        cwd=default_run,
        env=dart_env,
        capture_output=True,
        text=True,
    )
    assert audit.returncode == 0, audit.stdout


def test_second_run_has_nothing_to_do(default_run, repo_root, dart_env):
    proc = _snakemake(repo_root, default_run, dart_env, "-n")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_bad_config_key_stops_the_run(repo_root, dart_env, tmp_path):
    cfg = yaml.safe_load((repo_root / "config.yaml").read_text())
    cfg["queries"]["generated"]["fromat"] = "generated"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = _snakemake(repo_root, tmp_path, dart_env, "-n")
    assert proc.returncode != 0
    assert "unknown key queries.generated.fromat" in proc.stdout + proc.stderr
