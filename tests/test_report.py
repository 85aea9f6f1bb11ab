"""`snakemake --report report.html` on the small real run, opened in headless Chromium.

The report is one self-contained page: the workflow description with the dataset and
pool tables read from this run, the dataset plots, cards and stats, the pool summary,
and Snakemake's per-rule runtimes. Chromium renders it (JavaScript and all); the test
checks the rendered DOM, not just the file, and keeps a screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import polars as pl
import pytest
from small_workflow import copy_run, snakemake

pytestmark = pytest.mark.slow


def _chromium() -> str:
    """Debian's chromium; installed here when missing (skip only if that cannot be done)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and apt-get cannot run here (not root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.skip(f"cannot install chromium ({' '.join(cmd)}): {proc.stderr[-300:]}")
    return shutil.which("chromium") or pytest.skip("chromium installed but not on PATH")


@pytest.fixture(scope="module")
def report(tmp_path_factory, repo_root, dart_env, small_run_built):
    run = copy_run(small_run_built, tmp_path_factory.mktemp("report-run") / "run")
    out = tmp_path_factory.mktemp("report") / "report.html"
    proc = snakemake(repo_root, run, dart_env, "--report", str(out))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return run, out


def _headless(chromium: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--virtual-time-budget=10000", *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def test_report_is_one_self_contained_page(report):
    run, out = report
    html = out.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html)
    for name in ("workflow-desc", "results", "runtimes", "rulegraph"):
        assert f'id="{name}"' in html
    runtimes = re.search(r'<script id="runtimes">(.*?)</script>', html, re.S).group(1)
    assert "generate" in runtimes and "verify" in runtimes  # per-rule runtimes
    for item in ("fail_rate_hist.png", "correct_per_query.png", "README.md", "stats.json"):
        assert item in html
    assert "pool.json" in html


def test_chromium_renders_the_dataset_table(report, tmp_path):
    chromium = _chromium()
    run, out = report
    dom = _headless(chromium, "--dump-dom", out.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The workflow description, rendered by the page's React app into the DOM.
    tables = re.findall(r"<table.*?</table>", dom.stdout, re.S)
    datasets = next(t for t in tables if ">dataset<" in t)
    for name, k in (("vrt", "trials=4"), ("uniform", "k=1")):
        rows = pl.read_parquet(run / f"results/datasets/{name}.parquet").height
        stats = json.loads((run / f"results/datasets/{name}/stats.json").read_text())
        assert rows == stats["rows"]
        cells = re.search(rf"<td>{name}</td>(.*?)</tr>", datasets, re.S).group(1)
        assert f"<td>{rows}</td>" in cells and k in cells, cells
    pool = json.loads((run / "results/pool/tiny/pool.json").read_text())
    pools = next(t for t in tables if ">rounds<" in t)
    assert f"<td>{pool['trials']}</td>" in pools
    shot = tmp_path / "report.png"
    proc = _headless(chromium, f"--screenshot={shot}", "--window-size=1400,1000", out.as_uri())
    assert proc.returncode == 0 and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    keep = os.environ.get("DART_REPORT_SCREENSHOT")
    if keep:  # for a person to look at
        shutil.copy(shot, keep)
