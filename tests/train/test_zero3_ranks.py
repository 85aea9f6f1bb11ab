"""DeepSpeed ZeRO-3 for real, on CPU: `dart train` with `ranks: 2` relaunches itself under
torchrun over two gloo ranks, through the code path a GPU run takes.

DeepSpeed is not in the default install: `make test` builds `.venv-ds` (DeepSpeed on top of
`.venv`'s packages, see the Makefile) and these tests run `dart train` with its Python.
They are skipped where neither this interpreter nor `.venv-ds` has DeepSpeed.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.train.conftest import write_dataset
from tests.train.test_train_cli import train_args, train_here

pytestmark = pytest.mark.slow

DS_VENV = ROOT / ".venv-ds"
# 12 rows, 2 per optimizer step: 6 steps an epoch, 24 in all, a checkpoint every 4.
HP = {"epochs": 4, "global_batch": 2, "save_steps": 4}


def deepspeed_python() -> str | None:
    """A Python that imports DeepSpeed: this one, else the Makefile's `.venv-ds`."""
    if importlib.util.find_spec("deepspeed") is not None:
        return sys.executable
    if (DS_VENV / ".installed").is_file():
        return str(DS_VENV / "bin" / "python")
    return None


PYTHON = deepspeed_python()
needs_deepspeed = pytest.mark.skipif(
    PYTHON is None,
    reason="DeepSpeed is not installed here; `make deepspeed-env` (run by `make test`) builds .venv-ds",
)


def losses(folder: Path) -> list[float]:
    history = json.loads((folder / "trainer_state.json").read_text())["log_history"]
    return [entry["loss"] for entry in history if "loss" in entry]


def rank_process(parent: int, rank: str):
    """The torchrun worker under ``parent`` whose LOCAL_RANK is ``rank``, once it exists."""
    import psutil

    for child in psutil.Process(parent).children(recursive=True):
        try:
            if child.environ().get("LOCAL_RANK") == rank:
                return child
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


def kill_rank_after_first_checkpoint(proc: subprocess.Popen, work: Path, rank: str) -> None:
    deadline = time.monotonic() + 300
    while not any(work.glob("checkpoint-*/trainer_state.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    worker = rank_process(proc.pid, rank)
    assert worker is not None, "no torchrun worker with LOCAL_RANK=1"
    worker.send_signal(signal.SIGKILL)


@needs_deepspeed
def test_two_cpu_ranks_equal_one_process_and_resume_after_a_rank_is_killed(
    tiny_base, tmp_path, dart_env
):
    from safetensors.torch import load_file

    dataset = write_dataset(tmp_path / "uniform.parquet", n=12)
    single = tmp_path / "single"
    assert train_here(train_args(dataset, tiny_base, single, **HP)) == 0

    out = tmp_path / "ranks"
    work = out.with_name("ranks.work")
    argv = [PYTHON, "-m", "dart.cli", "train", *train_args(dataset, tiny_base, out, **HP, ranks=2)]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=dart_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    kill_rank_after_first_checkpoint(proc, work, rank="1")
    killed_log, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, killed_log[-3000:]
    assert not out.exists() and any(work.glob("checkpoint-*/trainer_state.json"))

    rerun = subprocess.run(argv, cwd=tmp_path, env=dart_env, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert "FutureWarning" not in rerun.stderr  # DeepSpeed's per-call deprecation lines
    training = json.loads((out / "training.json").read_text())
    assert training["runtime"]["world_size"] == 2
    assert training["runtime"]["deepspeed_config"].endswith("dart/train/zero3.json")
    assert training["plan"]["world_size"] == 2 and training["plan"]["accumulation"] == 1
    assert training["result"]["resumed_from_step"] > 0
    assert training["result"]["global_step"] == training["plan"]["total_steps"] == 24

    # Per step (including the steps before the kill, kept in the checkpoint's state).
    assert losses(out) == pytest.approx(losses(single), abs=1e-5)
    a, b = load_file(single / "model.safetensors"), load_file(out / "model.safetensors")
    assert a.keys() == b.keys()
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 1e-5
    base = load_file(tiny_base / "model.safetensors")
    assert any(not (b[k] == base[k]).all() for k in b)


@needs_deepspeed
def test_a_bad_row_under_two_ranks_is_one_line_and_exit_2_as_with_none(
    tiny_base, tmp_path, dart_env
):
    """Issue 22 item 7: a bad row gave torchrun's ChildFailedError traceback (49 lines,
    the message once per rank, exit 1). Now: the message of ``ranks: 0``, once, exit 2."""
    import polars as pl

    good = write_dataset(tmp_path / "good.parquet", n=6)
    bad = tmp_path / "bad.parquet"
    pl.read_parquet(good).with_columns(
        pl.when(pl.int_range(pl.len()) == 2).then(None).otherwise(pl.col("response"))
        .alias("response")
    ).write_parquet(bad)  # fmt: skip
    runs = {}
    for ranks in (0, 2):
        out = tmp_path / f"ranks{ranks}"
        argv = [PYTHON, "-m", "dart.cli", "train",
                *train_args(bad, tiny_base, out, **HP, ranks=ranks)]  # fmt: skip
        runs[ranks] = subprocess.run(argv, cwd=tmp_path, env=dart_env, capture_output=True,
                                     text=True, timeout=300)  # fmt: skip
        assert not out.exists() and not out.with_name(out.name + ".work").exists()
    message = f"{bad}: row 3: null query or response (1 such row(s))"
    for ranks, run in runs.items():
        assert run.returncode == 2, (ranks, run.stderr[-3000:])
        errors = [line for line in run.stderr.splitlines() if "ERROR" in line or "Error" in line]
        assert len(errors) == 1 and errors[0].endswith(f"ERROR dart: {message}"), (
            ranks, run.stderr[-3000:])  # fmt: skip
        assert "Traceback" not in run.stderr and "ChildFailedError" not in run.stderr
        assert run.stderr.count(message) == 1
