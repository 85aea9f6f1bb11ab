"""One small real run of the workflow, shared by the staleness, audit and report tests.

The config is tests/test_pool_workflow.py's, cut down to two sampling rounds (and an
empty third) and two datasets (vrt, uniform) so that the run takes about a minute. It is
built once per pytest session (the ``small_run_built`` fixture of tests/conftest.py) and
never touched after: each test gets its own copy (``small_run``, made by ``copy_run`` with
mtimes and Snakemake metadata kept), so no test sees another's changes, in any order.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from test_pool_workflow import _config

DATASETS = ("vrt", "uniform")


def small_config(workdir: Path, model: Path) -> dict:
    cfg = _config(workdir, model)
    cfg["synth"]["tiny"].update(cap=8, per_round_max=4, max_rounds=3)
    cfg["datasets"] = {
        "vrt": {"synth": "tiny", "recipe": "vrt", "trials": 4},
        "uniform": {"synth": "tiny", "recipe": "uniform", "k": 1},
    }
    return cfg


def snakemake(repo_root: Path, workdir: Path, env: dict, *args: str, timeout: int = 900):
    cmd = [
        sys.executable, "-m", "snakemake",
        "-s", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(workdir / "config.yaml"),
        "--profile", str(repo_root / "profiles" / "local"),
        *args,
    ]  # fmt: skip
    return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def build_run(workdir: Path, repo_root: Path, env: dict, model: Path) -> Path:
    """Build the small run in ``workdir`` (an empty folder)."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(small_config(workdir, model)))
    proc = snakemake(repo_root, workdir, env)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]
    return workdir


def copy_run(run: Path, dest: Path) -> Path:
    """A copy of a finished run (mtimes kept, so Snakemake sees it up to date)."""
    shutil.copytree(run, dest, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return dest


def edit_config(workdir: Path, edit) -> None:
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    edit(cfg)
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))


def planned_jobs(text: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of each job a dry run (``-n``) prints."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:)", text):
        head = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):", block)
        if head:
            wildcards = re.search(r"\n\s+wildcards: ([^\n]*)", block)
            jobs.append((head.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def with_overrides(env: dict, versions: dict[str, str]) -> dict:
    """``env`` with DART_VERSION_OVERRIDES set to ``versions`` (key -> version)."""
    return {**env, "DART_VERSION_OVERRIDES": json.dumps(versions)}


def rel(paths, root: Path) -> set[str]:
    return {os.path.relpath(p, root) for p in paths}
