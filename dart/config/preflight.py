"""Pre-flight: what the jobs about to run need from the environment, checked before any starts.

``dart config`` and the Snakefile refuse a bad value before any job runs; this does the
same for the environment (issue 22 item 2). Snakemake deletes a job's old outputs when it
starts the job, so a job that then fails on a missing package or an unreachable Slurm
controller has lost a finished output. The workflow's ``onstart`` hook (after the DAG is
built, before the first job) hands the jobs about to run to :func:`check`
(:func:`check_workflow`), which refuses,
naming every problem and the jobs behind it, when

- a fine-tune uses DeepSpeed (``ranks >= 2``, or ``gpus >= 1`` with ``deepspeed: zero3``)
  and ``deepspeed`` is not importable, or logs to a tool of ``train.report_to`` that is not;
- a job run on this machine samples or evaluates with ``engine: vllm`` (a ``plan`` job
  stands for the ``generate`` shards that follow it) and ``vllm`` is not importable;
- the jobs go to Slurm and ``sbatch`` is not on PATH or the controller does not answer
  (``sinfo``).

Packages are not checked when the jobs run in their conda environments (the env files
provide them: envs/train.yaml DeepSpeed, envs/vllm.yaml vLLM).

    check(cfg, [("train", {"tuned": "smollm2--uniform"})], executor="local", conda=False)
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dart.config.names import finetuned_models
from dart.errors import DartError

#: requirement -> (the module that must be importable, what installs it)
PACKAGES = {
    "deepspeed": ("deepspeed", "the 'train' extra (envs/train.yaml; `make deepspeed-env`)"),
    "vllm": ("vllm", "envs/vllm.yaml (or run with --sdm conda)"),
    "tensorboard": ("tensorboard", "tensorboard, or remove it from train.report_to"),
    "wandb": ("wandb", "wandb, or remove it from train.report_to"),
    "mlflow": ("mlflow", "mlflow, or remove it from train.report_to"),
}
#: Executors whose jobs run on this machine.
LOCAL_EXECUTORS = ("local", "touch", "dryrun")
#: Seconds ``sinfo`` may take to reach the controller.
SLURM_TIMEOUT = 30

Job = tuple[str, Mapping[str, str]]


def _label(rule: str, wildcards: Mapping[str, str]) -> str:
    shown = ",".join(f"{k}={v}" for k, v in wildcards.items())
    return f"{rule}[{shown}]" if shown else rule


def _uses_deepspeed(hparams: Mapping[str, Any]) -> bool:
    distributed = hparams.get("gpus", 0) >= 1 or hparams.get("ranks", 0) >= 2
    return distributed and hparams.get("deepspeed", "zero3") == "zero3"


def needs(cfg: Mapping[str, Any], jobs: Iterable[Job]) -> dict[str, list[str]]:
    """Requirement (a :data:`PACKAGES` key) -> the jobs (``rule[wildcards]``) that need it."""
    finetuned = finetuned_models(cfg)
    found: dict[str, list[str]] = {}
    for rule, wildcards in jobs:
        need = None
        if rule == "train":
            base = finetuned[wildcards["tuned"]]["base"]
            for tool in cfg["train"].get("report_to", []):
                found.setdefault(tool, []).append(_label(rule, wildcards))
            if _uses_deepspeed(cfg["train"]["models"][base]):
                need = "deepspeed"
        elif rule in ("plan", "generate"):
            if cfg["synth"][wildcards["synth"]]["engine"] == "vllm":
                need = "vllm"
        elif rule == "eval_generate" and cfg["eval"]["engine"] == "vllm":
            need = "vllm"
        if need:
            found.setdefault(need, []).append(_label(rule, wildcards))
    return found


def package_problems(
    needed: Mapping[str, list[str]], find_spec: Callable[[str], Any] = importlib.util.find_spec
) -> list[str]:
    """One line per needed package that is not importable here."""
    problems = []
    for need, jobs in sorted(needed.items()):
        module, install = PACKAGES[need]
        if find_spec(module) is None:
            shown = ", ".join(jobs[:3]) + (f" and {len(jobs) - 3} more" if len(jobs) > 3 else "")
            problems.append(
                f"{module} is not importable here, and {shown} need(s) it: install {install}"
            )
    return problems


def slurm_problems(timeout: float = SLURM_TIMEOUT) -> list[str]:
    """Why jobs cannot be submitted to Slurm from here (``[]`` when they can)."""
    if shutil.which("sbatch") is None:
        return ["sbatch is not on PATH: the Slurm executor cannot submit any job from here"]
    if shutil.which("sinfo") is None:
        return ["sinfo is not on PATH: cannot tell whether the Slurm controller answers"]
    try:
        proc = subprocess.run(
            ["sinfo", "--noheader", "--format=%P"], capture_output=True, text=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"the Slurm controller did not answer sinfo ({type(exc).__name__}: {exc})"]
    if proc.returncode != 0:
        said = (proc.stderr or proc.stdout).strip().splitlines()
        return [f"the Slurm controller did not answer sinfo: {said[-1] if said else 'no output'}"]
    return []


def check(
    cfg: Mapping[str, Any],
    jobs: Iterable[Job],
    *,
    executor: str,
    conda: bool,
) -> None:
    """Raise one DartError naming every problem when the jobs cannot run here."""
    jobs = list(jobs)
    needed = needs(cfg, jobs)
    if executor not in LOCAL_EXECUTORS:  # vLLM is the GPU nodes' business
        needed.pop("vllm", None)
    problems = [] if conda else package_problems(needed)
    if executor == "slurm" and jobs:
        problems += slurm_problems()
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DartError(
            f"pre-flight: {len(problems)} problem(s) before any job ran (no output was "
            f"deleted):\n{lines}"
        )


def check_workflow(cfg: Mapping[str, Any], workflow: Any) -> None:
    """:func:`check` for the jobs a running Snakemake workflow is about to start (the
    Snakefile's ``onstart``, where the DAG is built and no job has started)."""
    from snakemake.settings.types import DeploymentMethod

    jobs = [(job.rule.name, dict(job.wildcards.items())) for job in workflow.dag.needrun_jobs()]
    plugin = workflow.executor_plugin
    executor = plugin.name if plugin is not None else "local"
    conda = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
    check(cfg, jobs, executor=executor, conda=conda)
