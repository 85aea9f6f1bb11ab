"""Commands that only look leave the tree byte-identical: `dart audit` (which asks
`snakemake --list-changes params`), `snakemake -n` and `snakemake --report`.

Parsing the workflow writes nothing (no recipes.json, no record, no environment change);
the pool's recipes.json is written when a real run starts. Checked on a finished small
run with a changed recipe, the case that used to rewrite recipes.json at every parse.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from small_workflow import edit_config, snakemake

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root (Snakemake's own .snakemake/ state aside): sha256 and mtime."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and rel.parts[0] != ".snakemake":
            out[str(rel)] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def test_audit_dry_run_and_report_write_nothing(small_run, repo_root, dart_env, tmp_path):
    edit_config(small_run, lambda cfg: cfg["datasets"]["uniform"].update(k=2))
    before = _tree(small_run)
    audit = subprocess.run(
        [sys.executable, "-m", "dart.cli", "audit", "results/datasets/uniform.parquet"],
        cwd=small_run, env=dart_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert audit.returncode == 1 and "stale" in audit.stdout, audit.stdout[-3000:]
    assert _tree(small_run) == before, "dart audit changed the tree"
    dry = snakemake(repo_root, small_run, dart_env, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert _tree(small_run) == before, "snakemake -n changed the tree"
    report = snakemake(repo_root, small_run, dart_env, "--report", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stderr[-3000:]
    assert _tree(small_run) == before, "snakemake --report changed the tree"
    # a real run writes the new recipes for the planner
    run = snakemake(repo_root, small_run, dart_env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert '"k": 2' in (small_run / "results/pool/tiny/recipes.json").read_text()
