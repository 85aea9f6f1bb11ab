"""A real Snakemake run of the default DAG in a temporary directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# The default DAG run (`default_run`) takes about 100 s on an idle 2-core machine of the
# slower kind, more beside the other steps of `make test` (551 s measured on a machine
# loaded 5 times over): 20 minutes, not the suite's 10, before a test is called hung.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


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


def tiny_default_config(repo_root: Path, model: Path) -> dict:
    """config.yaml as shipped, every stage kept, on a tiny random model and smaller sizes.

    The same DAG as `make run` (queries, pool, three datasets, decontamination, three
    fine-tunes, evaluation of four models on two benchmarks, summary), in about a minute.
    """
    cfg = yaml.safe_load((repo_root / "config.yaml").read_text())
    cfg["models"] = {"smollm2-135m": {"source": str(model)}}
    cfg["queries"]["generated"]["n"] = 10
    cfg["synth"]["smollm2"].update(
        template="dart-synth", cap=4, per_round_max=4, max_rounds=2, chunk_size=8
    )
    cfg["synth"]["smollm2"]["sampling"].update(temperature=1.0, max_new_tokens=24)
    cfg["synth"]["smollm2"]["engine_options"] = {"batch_size": 8}
    cfg["train"]["models"]["smollm2-135m"].update(max_length=256, save_steps=2)
    for bench in cfg["benchmarks"].values():
        bench["n"] = 6
    cfg["eval"].update(max_new_tokens=16, engine_options={"batch_size": 8})
    return cfg


@pytest.fixture(scope="module")
def default_run(repo_root, dart_env, tmp_path_factory, boxing_model):
    workdir = tmp_path_factory.mktemp("workflow")
    cfg = tiny_default_config(repo_root, boxing_model)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))
    proc = _snakemake(repo_root, workdir, dart_env)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    return workdir


def test_default_dag_builds_everything(default_run, repo_root, dart_env):
    queries = default_run / "data" / "queries" / "generated.parquet"
    assert queries.exists()
    record = json.loads((default_run / "data" / "models" / "smollm2-135m.prov.json").read_text())
    assert len(record["model"]["weights_sha256"]) == 64
    merged = yaml.safe_load((default_run / "results" / "config.yaml").read_text())
    assert merged["queries"]["generated"]["split"] == "train"  # defaults filled
    models = ["smollm2-135m", *(f"smollm2-135m--{d}" for d in ("vrt", "uniform", "prop2diff"))]
    for name in models[1:]:
        folder = default_run / "results" / "models" / name
        assert (folder / "training.json").exists() and (folder / "README.md").exists()
        assert not (default_run / "results" / "models" / f"{name}.work").exists()
    for name in models:
        for bench in ("heldout", "words"):
            result = json.loads(
                (default_run / "results" / "eval" / name / f"{bench}.json").read_text()
            )
            assert result["model"] == name and result["n"] == 6
    summary = (default_run / "results" / "summary.md").read_text()
    assert all(name in summary for name in models)
    for target in (queries, default_run / "results" / "summary.md"):
        audit = subprocess.run(
            [sys.executable, "-m", "dart.cli", "audit", str(target)],
            cwd=default_run,
            env=dart_env,
            capture_output=True,
            text=True,
        )
        assert audit.returncode == 0, audit.stdout[-4000:]


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
