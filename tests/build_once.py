"""One build per test run, shared by the pytest-xdist workers (tests/conftest.py)."""

from __future__ import annotations

import fcntl
import json
import os
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest


def build_once(tmp_path_factory, name: str, build: Callable[[Path], Path]) -> Path:
    """``build(folder)``'s result, built once per test run whatever the number of workers.

    Without xdist it is built in a new folder of this session's temporary folder, as a
    plain session fixture would. Under xdist it is built in the folder the workers share
    (the parent of each worker's temporary folder, one per run), under a file lock: the
    first worker to ask builds it; the others wait for it, then reuse it. A build that
    failed fails the same way, with the builder's message, for every worker that asks.
    Use it only for what tests never change (they copy it, as ``small_run`` does).
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / "shared"
    shared.mkdir(exist_ok=True)
    done, failed = shared / f"{name}.done", shared / f"{name}.failed"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if done.exists():
            return Path(json.loads(done.read_text()))
        if failed.exists():
            pytest.fail(f"building {name} failed in another worker:\n{failed.read_text()}")
        folder = shared / name
        folder.mkdir()
        try:
            result = build(folder)
        except Exception:  # not a skip: the next worker may decide otherwise
            failed.write_text(traceback.format_exc()[-8000:])
            raise
        done.write_text(json.dumps(str(result)))
        return result
