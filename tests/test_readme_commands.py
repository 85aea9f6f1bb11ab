"""Every command of the README that runs the pipeline, run as written (dry runs).

The commands are read from the README itself (``snakemake ...`` lines of its bash blocks
and inline `snakemake ...` spans), so a README command cannot break unnoticed: each runs
in a copy of the repository's workflow files with ``-n`` added, and must exit 0. The
paper's setup (`--configfile config.paper.yaml`) must plan the paper's datasets only,
not the default's merged under them.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
#: README placeholders -> the embedded default's names.
PLACEHOLDERS = {"<model>": "smollm2-135m--uniform", "<benchmark>": "heldout"}
#: Commands that are not a pipeline run on an empty tree, and where each is tested.
NOT_RUN_HERE = {
    "snakemake --report report.html": "needs a finished run: tests/test_report.py",
    "snakemake --lint": "make lint runs it",
    "snakemake --unlock": "takes no -n; tests/test_pool_workflow.py runs it after a kill",
}
WORKFLOW_FILES = ("Snakefile", "rules", "config.yaml", "config.paper.yaml",
                  "config.rehearsal.yaml", "profiles", "envs", "report")  # fmt: skip


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    found: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():  # continuations joined
            line = line.split("  #")[0].strip()
            if line.startswith("snakemake"):
                found.append(line)
    for span in re.findall(
        r"`((?:snakemake|DART_VERSION_OVERRIDES='[^']*' snakemake)[^`]*)`", text
    ):
        found.append(span.strip())
    out = []
    for cmd in found:
        for key, value in PLACEHOLDERS.items():
            cmd = cmd.replace(key, value)
        if cmd not in out:
            out.append(cmd)
    return out


COMMANDS = readme_commands()


def test_the_readme_has_the_commands_we_expect():
    assert "snakemake --profile profiles/slurm --configfile config.paper.yaml" in COMMANDS
    assert "snakemake --profile profiles/local" in COMMANDS
    assert any("--configfile config.paper.yaml config.rehearsal.yaml" in c for c in COMMANDS)
    assert not [c for c in COMMANDS if "<" in c], "a placeholder without a value in PLACEHOLDERS"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The workflow files of this checkout, in a folder of their own."""
    root = tmp_path_factory.mktemp("readme")
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        else:
            shutil.copy2(src, root / name)
    return root


def _run(cmd: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    args = shlex.split(cmd)
    assign = {}
    while args and re.match(r"^[A-Z_]+=", args[0]):
        key, _, value = args.pop(0).partition("=")
        assign[key] = value
    assert args[0] == "snakemake", cmd
    argv = [sys.executable, "-m", "snakemake", *args[1:], "-n"]
    return subprocess.run(argv, cwd=cwd, env={**env, **assign}, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


@pytest.mark.parametrize("cmd", [c for c in COMMANDS if c not in NOT_RUN_HERE])
def test_readme_command_dry_runs(cmd, checkout, dart_env, tmp_path):
    env = dict(dart_env)
    if "--profile slurm" in cmd:
        # the README's named-profile install: a link under ~/.config/snakemake
        home = tmp_path / "home"
        (home / ".config/snakemake").mkdir(parents=True)
        os.symlink(checkout / "profiles/slurm", home / ".config/snakemake/slurm")
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    before = sorted(
        p.relative_to(checkout) for p in checkout.rglob("*") if ".snakemake" not in p.parts
    )
    proc = _run(cmd, checkout, env)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{cmd}\n{text[-4000:]}"
    after = sorted(
        p.relative_to(checkout) for p in checkout.rglob("*") if ".snakemake" not in p.parts
    )
    assert after == before, f"{cmd} wrote files: {set(after) - set(before)}"
    if "config.paper.yaml" in cmd:
        # the paper's config alone: its datasets and pool, none of the default's
        assert "synth=deepseek-rl" in text and "smollm2" not in text, text[-3000:]
        assert (
            "Config file(s)" in text
            and "config.yaml'" not in text.split("Config file(s)")[1].split("\n")[0]
        )


def test_paper_config_alone_and_with_the_slurm_profile(checkout, dart_env):
    for cmd in ("snakemake -n --configfile config.paper.yaml",
                "snakemake -n --configfile config.paper.yaml --profile profiles/slurm"):  # fmt: skip
        proc = _run(cmd, checkout, dart_env)
        text = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{cmd}\n{text[-4000:]}"
        assert "smollm2" not in text and "deepseek-rl" in text
