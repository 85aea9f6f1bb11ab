"""Shared fixtures: the repository root and an environment whose PATH finds `dart`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def dart_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_DATASETS_OFFLINE"] = "1"
    return env


@pytest.fixture()
def run_dart(dart_env, tmp_path):
    """Run the `dart` command in tmp_path; return the CompletedProcess."""

    def _run(*args: str, cwd: Path | None = None, check: bool = False):
        proc = subprocess.run(
            [sys.executable, "-m", "dart.cli", *args],
            cwd=cwd or tmp_path,
            env=dart_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"dart {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    return _run


@pytest.fixture(scope="session")
def smollm2_folder(tmp_path_factory) -> Path:
    """The embedded SmolLM2 materialised once per test session (about 30 s)."""
    from dart.embedded_model import materialise

    out = tmp_path_factory.mktemp("models") / "smollm2"
    materialise("embedded:smollm2", out)
    return out
