"""The pre-flight check (issue 22 item 2): the environment the jobs about to run need,
refused before any job starts (so no finished output is deleted by a job that then fails)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from dart.config import preflight, validate
from dart.errors import DartError

ROOT = Path(__file__).resolve().parents[2]


def _config(**train) -> dict:
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["train"]["models"]["smollm2-135m"].update(train)
    return validate(cfg)


TRAIN = ("train", {"tuned": "smollm2-135m--uniform"})


def test_deepspeed_is_needed_by_fine_tunes_that_use_it():
    assert preflight.needs(_config(), [TRAIN]) == {}
    assert preflight.needs(_config(ranks=2), [TRAIN]) == {
        "deepspeed": ["train[tuned=smollm2-135m--uniform]"]
    }
    assert preflight.needs(_config(gpus=2), [TRAIN]) == {
        "deepspeed": ["train[tuned=smollm2-135m--uniform]"]
    }
    assert preflight.needs(_config(gpus=2, deepspeed="none"), [TRAIN]) == {}
    cfg = _config()
    cfg["train"]["report_to"] = ["tensorboard"]
    assert preflight.needs(cfg, [TRAIN]) == {"tensorboard": ["train[tuned=smollm2-135m--uniform]"]}


def test_vllm_is_needed_by_vllm_sampling_and_evaluation():
    cfg = _config()
    jobs = [("plan", {"synth": "smollm2", "round": "0"}),
            ("eval_generate", {"emodel": "smollm2-135m", "benchmark": "heldout"})]  # fmt: skip
    assert preflight.needs(cfg, jobs) == {}
    cfg["synth"]["smollm2"]["engine"] = "vllm"
    cfg["eval"]["engine"] = "vllm"
    assert preflight.needs(cfg, jobs) == {
        "vllm": [
            "plan[synth=smollm2,round=0]",
            "eval_generate[emodel=smollm2-135m,benchmark=heldout]",
        ]
    }


def test_a_missing_package_is_refused_naming_it_and_its_jobs():
    import importlib.util

    if importlib.util.find_spec("deepspeed") is not None:
        pytest.skip("deepspeed is installed in this interpreter")
    with pytest.raises(DartError) as err:
        preflight.check(_config(ranks=2), [TRAIN], executor="local", conda=False)
    text = str(err.value)
    assert text.startswith("pre-flight: 1 problem(s) before any job ran (no output was deleted)")
    assert (
        "deepspeed is not importable here" in text and "train[tuned=smollm2-135m--uniform]" in text
    )
    # in their conda environments the jobs get it from envs/train.yaml
    preflight.check(_config(ranks=2), [TRAIN], executor="local", conda=True)
    preflight.check(_config(), [TRAIN], executor="local", conda=False)


def _tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_slurm_needs_sbatch_and_an_answering_controller(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    problems = preflight.slurm_problems()
    assert problems and "sbatch is not on PATH" in problems[0]
    with pytest.raises(DartError, match="sbatch is not on PATH"):
        preflight.check(_config(), [TRAIN], executor="slurm", conda=True)
    preflight.check(_config(), [TRAIN], executor="local", conda=True)  # local: no Slurm
    _tool(bin_dir, "sbatch", "exit 0")
    _tool(
        bin_dir,
        "sinfo",
        'echo "slurm_load_partitions: Unable to contact slurm controller" >&2; exit 1',
    )
    assert preflight.slurm_problems() == [
        "the Slurm controller did not answer sinfo: "
        "slurm_load_partitions: Unable to contact slurm controller"
    ]
    _tool(bin_dir, "sinfo", "echo debug; exit 0")
    assert preflight.slurm_problems() == []
    preflight.check(_config(), [TRAIN], executor="slurm", conda=True)
