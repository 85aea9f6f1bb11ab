"""One fine-tune: base model folder + dataset -> model folder, resumable, on CPU or GPUs.

The Hugging Face ``Trainer`` runs in a stable work folder ``<output>.work/`` that keeps
resumable checkpoints (optimizer, scheduler, RNG state; never ``save_only_model``). A
rerun after a kill resumes from the newest complete checkpoint; a rerun with other
hyperparameters, data or base model starts afresh. The finished model is written into
the work folder and renamed onto ``<output>`` only when complete; then the work folder
(checkpoints included) is removed. SIGTERM/SIGINT stop the run at once and keep the
checkpoints.

    dart train --dataset results/datasets/uniform.parquet --base data/models/smollm2-135m \\
        --hyperparams-json '{"max_length": 512, "global_batch": 4}' --seed 42 \\
        --name smollm2-135m--uniform -o results/models/smollm2-135m--uniform
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dart.errors import DartError
from dart.train.data import PackedCollator, PaddedCollator, Sample
from dart.train.hyperparams import Hyperparams

log = logging.getLogger(__name__)

ZERO3 = Path(__file__).with_name("zero3.json")
#: Seconds a rank waits in a collective (transformers' default), e.g. on a rank that died.
DDP_TIMEOUT_S = 1800
STATE = "trainer_state.json"


@dataclass
class Plan:
    """What will run: resolved counts that go into training.json and the provenance record."""

    samples: int
    packed_rows: int
    tokens: int
    world_size: int
    accumulation: int
    epochs: float
    batches_per_epoch: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int
    extra: dict[str, Any] = field(default_factory=dict)


def make_plan(hp: Hyperparams, rows: list[list[Sample]]) -> Plan:
    """Steps exactly as the Trainer counts them (per-rank batches, last accumulation short)."""
    world = hp.world_size
    batches = math.ceil(math.ceil(len(rows) / world) / hp.micro_batch)
    per_epoch = max(math.ceil(batches / hp.accumulation), 1)
    total = math.ceil(hp.epochs * per_epoch)
    return Plan(
        samples=sum(len(r) for r in rows),
        packed_rows=len(rows),
        tokens=sum(len(s) for r in rows for s in r),
        world_size=world,
        accumulation=hp.accumulation,
        epochs=hp.epochs,
        batches_per_epoch=batches,
        steps_per_epoch=per_epoch,
        total_steps=total,
        # Rounded down: the schedule's step 0 runs at learning rate 0 whenever there is a
        # warm-up step, so a run shorter than 1 / warmup_ratio steps gets none (its first
        # step counts) and a longer one loses at most that one step.
        warmup_steps=math.floor(hp.warmup_ratio * total),
    )


def complete_checkpoints(work: Path) -> list[Path]:
    """Checkpoints whose trainer state (written last) parses, oldest first."""
    found = []
    for path in work.glob("checkpoint-*"):
        try:
            step = int(path.name.rsplit("-", 1)[1])
            json.loads((path / STATE).read_text())
        except (ValueError, OSError):
            continue
        found.append((step, path))
    return [p for _, p in sorted(found)]


def prepare_work(work: Path, fingerprint: dict[str, Any], is_main: bool) -> Path | None:
    """Make the work folder; return the checkpoint to resume from, if a matching run left one."""
    stamp = work / "run.json"
    if work.exists() and is_main:
        try:
            same = json.loads(stamp.read_text()) == fingerprint
        except (OSError, ValueError):
            same = False
        if not same:
            log.warning("%s: left by a run with other inputs or settings; starting afresh", work)
            shutil.rmtree(work)
    if is_main:
        work.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(fingerprint, indent=2, sort_keys=True))
    _barrier()
    done = complete_checkpoints(work)
    if is_main:
        for path in work.glob("checkpoint-*"):
            if path not in done:
                log.warning("%s: incomplete checkpoint (killed while saving); removed", path)
                shutil.rmtree(path, ignore_errors=True)
    return done[-1] if done else None


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def resolve_runtime(hp: Hyperparams) -> dict[str, Any]:
    """Precision and attention kernel actually used (recorded)."""
    import torch

    gpu = hp.gpus >= 1
    if gpu and not torch.cuda.is_available():
        raise DartError(f"train hyperparams: gpus={hp.gpus} but no CUDA device is visible")
    precision = hp.precision
    if precision == "auto":
        precision = "bf16" if gpu and torch.cuda.is_bf16_supported() else "fp32"
    attn = hp.attn_implementation
    if attn == "auto":
        attn = "flash_attention_2" if gpu and precision != "fp32" and _has_flash() else "sdpa"
    if attn == "flash_attention_2" and not _has_flash():
        raise DartError(
            "train hyperparams: attn_implementation='flash_attention_2' but flash_attn is not installed"
        )
    deepspeed = None
    if hp.distributed and hp.deepspeed == "zero3":
        try:
            import deepspeed  # noqa: F401
        except ImportError:
            if gpu:
                raise DartError(
                    "DeepSpeed is not installed: install the 'gpu' extra (pip install "
                    "'dart-pipeline[gpu]') or set the hyperparameter deepspeed='none'"
                ) from None
            raise DartError(
                f"train hyperparams: ranks={hp.ranks} runs DeepSpeed on CPU, which is not "
                f"installed for {sys.executable}; use .venv-ds/bin/python (make deepspeed-env)"
            ) from None
        deepspeed = str(ZERO3)
    return {"device": "cuda" if gpu else "cpu", "precision": precision,
            "attn_implementation": attn, "deepspeed_config": deepspeed,
            "world_size": hp.world_size}  # fmt: skip


def _has_flash() -> bool:
    import importlib.util

    return importlib.util.find_spec("flash_attn") is not None


def configure_deepspeed_state(runtime: dict[str, Any], timeout_s: int = DDP_TIMEOUT_S) -> None:
    """Set up the process group and accelerate's state for a DeepSpeed run, GPUs or CPU ranks.

    This is what ``TrainingArguments`` does itself for a DeepSpeed run (accelerate's
    ``PartialState`` with ``ACCELERATE_USE_DEEPSPEED`` set while it initialises), with
    one difference: the backend is named. accelerate picks it from the device and knows
    none for DeepSpeed on CPU, so it would treat each CPU rank as a world of one; on CPU
    we name ``gloo`` (DeepSpeed's CPU accelerator's own backend). On GPUs the backend is
    left to accelerate (nccl), exactly as before. The Trainer then reuses this state
    (``accelerator_config={"use_configured_state": True}``), so GPU runs and CPU ranks
    take the same path through the Trainer and DeepSpeed from here on.
    """
    from datetime import timedelta

    from accelerate import PartialState

    backend = "gloo" if runtime["device"] == "cpu" else None
    os.environ["ACCELERATE_USE_DEEPSPEED"] = "true"
    try:
        state = PartialState(backend=backend, timeout=timedelta(seconds=timeout_s))
    finally:
        del os.environ["ACCELERATE_USE_DEEPSPEED"]
    if state.num_processes != runtime["world_size"]:
        raise DartError(
            f"train: {state.num_processes} process(es) joined, the hyperparameters ask for "
            f"{runtime['world_size']}; start the run with `dart train`, which launches torchrun"
        )


#: ``--report-to`` name -> the module the Trainer's integration imports (checked at start).
REPORTERS = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}
#: Where the tensorboard event files go in the work folder, and then in the model folder
#: (``runs/``, where the Hugging Face Hub shows them under "Training metrics").
TENSORBOARD_DIR = "runs"


def check_reporters(report_to: Sequence[str]) -> None:
    """Refuse a ``--report-to`` whose package is not installed, before anything runs
    (the Trainer would fail only after the base model is loaded)."""
    import importlib.util

    for name in report_to:
        if name not in REPORTERS:
            raise DartError(f"train.report_to: unknown {name!r}; one of {sorted(REPORTERS)}")
        if importlib.util.find_spec(REPORTERS[name]) is None:
            raise DartError(
                f"train.report_to: {name} is not installed for {sys.executable} "
                f"(pip install {REPORTERS[name]}), or remove it from train.report_to"
            )


def training_arguments(
    hp: Hyperparams, plan: Plan, runtime: dict[str, Any], work: Path, seed: int,
    report_to: Sequence[str] = (),
):  # fmt: skip
    """The Trainer's arguments. ``report_to`` names the tools the Trainer also logs to
    (none by default); tensorboard writes event files (offline) into ``work/runs``,
    which the finished model folder keeps; wandb and mlflow read their own environment
    variables (``WANDB_PROJECT``, ``MLFLOW_TRACKING_URI``, ...)."""
    from transformers import TrainingArguments

    if "tensorboard" in report_to:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(work / TENSORBOARD_DIR)

    deepspeed = runtime["deepspeed_config"] is not None
    if deepspeed:
        configure_deepspeed_state(runtime)
    return TrainingArguments(
        output_dir=str(work),
        num_train_epochs=hp.epochs,
        per_device_train_batch_size=hp.micro_batch,
        gradient_accumulation_steps=hp.accumulation,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler,
        warmup_steps=plan.warmup_steps,
        weight_decay=hp.weight_decay,
        max_grad_norm=hp.max_grad_norm,
        bf16=runtime["precision"] == "bf16",
        fp16=runtime["precision"] == "fp16",
        use_cpu=runtime["device"] == "cpu",
        deepspeed=runtime["deepspeed_config"],
        accelerator_config={"use_configured_state": deepspeed},
        ddp_timeout=DDP_TIMEOUT_S,
        logging_steps=hp.logging_steps,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=hp.save_steps,
        save_total_limit=2,
        save_only_model=False,
        seed=seed,
        data_seed=seed,
        report_to=list(report_to) or "none",
        disable_tqdm=not sys.stderr.isatty(),
        remove_unused_columns=False,
        dataloader_num_workers=0,
        dataloader_drop_last=False,
        **({"gradient_checkpointing": True} if hp.gradient_checkpointing else {}),
    )


def load_model(base: Path, runtime: dict[str, Any], tokenizer: Any):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        base, dtype=torch.float32, attn_implementation=runtime["attn_implementation"]
    )
    if getattr(model, "hf_quantizer", None) is not None:  # a dequantised GGUF keeps its config
        model.hf_quantizer.remove_quantization_config(model)
    # With a KV cache transformers builds no per-sample mask from the position ids and
    # packed samples attend to each other; the Trainer sets this too, we do not rely on it.
    model.config.use_cache = False
    gen = model.generation_config
    if gen is not None:
        gen.eos_token_id = tokenizer.eos_token_id
        if gen.pad_token_id is None:
            gen.pad_token_id = tokenizer.pad_token_id
    return model


def _progress_callback(plan: Plan):
    from transformers import TrainerCallback

    class ProgressLog(TrainerCallback):
        """One log line per logging step (the rule's log); the tqdm bar shows on a terminal."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs and "loss" in logs:
                log.info(
                    "step %d/%d epoch %.3f loss %.4f lr %.3g",
                    state.global_step, plan.total_steps, logs.get("epoch", state.epoch or 0.0),
                    logs["loss"], logs.get("learning_rate", float("nan")),
                )  # fmt: skip

    return ProgressLog()


def build_trainer(model, rows, hp: Hyperparams, plan: Plan, runtime, args, pad_id):
    """A Trainer over the rows (one row = one unit of global_batch) with our collator."""
    from transformers import PrinterCallback, Trainer

    flash = runtime["attn_implementation"].startswith("flash")
    collator = PackedCollator(flash_kwargs=flash) if hp.packing else PaddedCollator(pad_id)
    trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator)
    trainer.remove_callback(PrinterCallback)  # prints dicts to stdout; we log instead
    trainer.add_callback(_progress_callback(plan))
    return trainer


def run_training(trainer, plan: Plan, resume: Path | None) -> dict[str, Any]:
    """Train (resuming when a checkpoint exists); check the step count; return timings."""
    start_step = 0
    if resume is not None:
        start_step = json.loads((resume / STATE).read_text())["global_step"]
        log.info("resuming from %s (step %d of %d)", resume, start_step, plan.total_steps)
    import torch

    cuda = trainer.args.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    began = time.perf_counter()
    # SIGTERM/SIGINT raise dart.signals.Interrupted in here (the `dart` command's one signal
    # path); the checkpoints written so far stay for a resume
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - began
    state = trainer.state
    if state.global_step != plan.total_steps:
        raise DartError(
            f"training ran {state.global_step} optimizer steps, planned {plan.total_steps}; "
            "refusing to save a model trained other than configured"
        )
    steps_run = state.global_step - start_step
    tokens_run = plan.tokens * plan.epochs * steps_run / plan.total_steps
    return {
        "resumed_from_step": start_step,
        "train_seconds": round(seconds, 3),
        "tokens_per_s": round(tokens_run / seconds, 2) if seconds > 0 else None,
        "train_loss_mean": result.training_loss,
        "final_epoch": state.epoch,
        "global_step": state.global_step,
        # this rank's peak GPU memory while training (MiB); None on CPU
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None,
    }


def save_final(trainer, tokenizer, final: Path) -> None:
    """Consolidated weights (ZeRO-3 gathers 16-bit weights on save), tokenizer, generation config."""
    if final.exists() and trainer.is_world_process_zero():
        shutil.rmtree(final)
    _barrier()
    trainer.model.config.use_cache = True  # the saved model generates with a cache
    trainer.save_model(str(final))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(final)
        trainer.state.save_to_json(str(final / STATE))  # steps, epoch and log history as run
        model = trainer.model
        if model.generation_config is not None and not (final / "generation_config.json").exists():
            model.generation_config.save_pretrained(final)
        for stray in ("training_args.bin",):
            (final / stray).unlink(missing_ok=True)


def weights_unchanged(base: Path, final: Path) -> bool | None:
    """Whether every tensor saved in ``final`` equals the base model's tensor of that name.

    Compared value by value in float32 (a bf16 base saved back as fp32 is unchanged), one
    tensor at a time, stopping at the first difference (normally the first tensor). None
    when either folder has no safetensors to compare.
    """
    from contextlib import ExitStack

    import torch
    from safetensors import safe_open

    base_files, final_files = (
        sorted(base.glob("*.safetensors")),
        sorted(final.glob("*.safetensors")),
    )
    if not base_files or not final_files:
        return None
    with ExitStack() as stack:
        where = {}
        for f in base_files:
            handle = stack.enter_context(safe_open(f, framework="pt"))
            where.update(dict.fromkeys(handle.keys(), handle))
        for f in final_files:
            trained = stack.enter_context(safe_open(f, framework="pt"))
            for key in trained.keys():  # noqa: SIM118 (a safetensors handle, not a dict)
                if key not in where:
                    return False
                a, b = trained.get_tensor(key), where[key].get_tensor(key)
                if a.shape != b.shape or not torch.equal(a.float(), b.float()):
                    return False
    return True


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def publish(final: Path, output: Path, work: Path) -> None:
    """Rename the finished folder onto ``output`` and remove the work folder and checkpoints
    (the tensorboard event files, when any, move into the model folder's ``runs/``)."""
    events = work / TENSORBOARD_DIR
    if events.is_dir():
        os.replace(events, final / TENSORBOARD_DIR)
    if output.exists():
        shutil.rmtree(output)
    os.replace(final, output)
    shutil.rmtree(work, ignore_errors=True)
