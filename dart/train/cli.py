"""``dart train``: fine-tune a base model folder on a dataset into a model folder.

With ``gpus >= 1`` the verb re-runs itself under ``torchrun --standalone`` over exactly
that many GPUs (DeepSpeed ZeRO-3 from ``dart/train/zero3.json``); with ``gpus: 0`` it
trains on CPU in this process, or, with ``ranks >= 2``, over that many CPU processes
under torchrun with DeepSpeed ZeRO-3 and the gloo backend (the GPU path, without GPUs).
See :mod:`dart.train.finetune` for checkpoints and resume.

    dart --rule train --wildcards model=smollm2-135m--uniform train \\
        --dataset results/datasets/uniform.parquet --base data/models/smollm2-135m \\
        --hyperparams-json '{"max_length": 512, "global_batch": 4}' --seed 42 --threads 2 \\
        --name smollm2-135m--uniform -o results/models/smollm2-135m--uniform
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dart.errors import DartError
from dart.inputs import read_arrow
from dart.lineage import records as provenance
from dart.options import RANGES
from dart.prompts import get_template
from dart.signals import Interrupted
from dart.train import card
from dart.train import finetune as ft
from dart.train.data import load_samples, make_rows
from dart.train.finetune import (
    make_plan,
    peak_rss_mb,
    publish,
    resolve_runtime,
    weights_unchanged,
)
from dart.train.hyperparams import Hyperparams
from dart.train.launch import is_launched, relaunch, report_rank_error, torchrun_argv

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", required=True, type=Path, help="dataset parquet (query, response)"
    )
    parser.add_argument("--base", required=True, type=Path, help="base model folder (HF format)")
    parser.add_argument(
        "--hyperparams-json", default="{}",
        help="JSON object of training settings (keys: dart.train.hyperparams.Hyperparams)",
    )  # fmt: skip
    parser.add_argument("--seed", type=RANGES["seed"], default=42, help="training and packing seed")
    parser.add_argument(
        "--threads", type=RANGES["threads"], default=1, help="CPU threads for torch"
    )
    parser.add_argument(
        "--report-to", nargs="*", default=[], choices=sorted(ft.REPORTERS), metavar="TOOL",
        help="also log training to these tools (config train.report_to): tensorboard (event "
        "files in the model folder's runs/, offline), wandb, mlflow; default none",
    )  # fmt: skip
    parser.add_argument("--name", help="model name for the card (default: output folder name)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="model folder to create")


def run(args: argparse.Namespace) -> int:
    hp = Hyperparams.from_json(args.hyperparams_json)
    ft.check_reporters(args.report_to)
    args.name = args.name or args.output.name
    if args.output.exists() or args.output.is_symlink():
        what = "folder" if args.output.is_dir() else "file"
        raise DartError(
            f"{args.output}: already exists (a {what}); remove it or choose another -o "
            "(nothing was trained)"
        )
    if hp.distributed and not is_launched():
        resolve_runtime(hp)  # no CUDA or no DeepSpeed: one error here, not one per rank
        context = provenance._CONTEXT  # the rule and wildcards this call runs for
        argv = torchrun_argv(
            args, processes=hp.world_size, rule=context["rule"], wildcards=context["wildcards"],
            python=sys.executable,
        )  # fmt: skip
        return relaunch(argv)
    refuse_simulated(args.dataset, hp)
    try:
        fine_tune(args, hp)
    except DartError as exc:
        if report_rank_error(exc):  # a rank: the launcher says it once, for every rank
            return 2
        raise
    except Interrupted as exc:
        work = work_folder(args.output)
        log.error("%s; checkpoints kept in %s; rerun to resume", exc, work)
        return exc.exit_code
    return 0


def refuse_simulated(dataset: Path, hp: Hyperparams) -> None:
    """A dataset cut from a simulated pool (its record, or a row's ``model``, says so) is
    a rehearsal, not data: refused unless ``allow_simulated`` is set."""
    simulated = provenance.is_simulated(dataset)
    if not simulated and dataset.is_file():
        try:
            models = set(read_arrow(dataset, ["model"], "dataset").column("model").to_pylist())
        except DartError:  # no model column; an unreadable file is named by load_samples
            models = set()
        simulated = any(str(m).startswith("simulated") for m in models if m is not None)
    if simulated and not hp.allow_simulated:
        raise DartError(
            f"{dataset}: cut from a simulated pool (a rehearsal: engine simulated, no model); "
            "set allow_simulated: true in the fine-tune's settings to train on it anyway"
        )


def work_folder(output: Path) -> Path:
    """The stable folder beside the output where checkpoints live until training ends."""
    return output.with_name(output.name + ".work")


def load_tokenizer(base: Path):
    from transformers import AutoTokenizer

    if not (base / "config.json").is_file():
        raise DartError(f"{base}: not a model folder (no config.json)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
    except Exception as exc:  # transformers raises OSError, ValueError, TypeError here
        raise DartError(f"{base}: no usable tokenizer ({type(exc).__name__}: {exc})") from None
    if not getattr(tokenizer, "chat_template", None):
        raise DartError(f"{base}: tokenizer has no chat template (the output must carry one)")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def weights_hash(folder: Path) -> str:
    """The weights' own hash (:func:`dart.lineage.records.weights_sha256`)."""
    digest = provenance.weights_sha256(folder)
    if digest is None:
        raise DartError(f"{folder}: no weights (*.safetensors or *.bin)")
    return digest


def load_base_model(base: Path, runtime: dict[str, Any], tokenizer):
    """The base model, or a DartError naming its folder (truncated or missing weights)."""
    try:
        return ft.load_model(base, runtime, tokenizer)
    except (DartError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # transformers/safetensors raise many kinds on a broken folder
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DartError(
            f"{base}: cannot load the base model ({type(exc).__name__}: {reason})"
        ) from None


def base_info(base: Path) -> dict[str, Any]:
    """Base model id, revision and weight hash, from its provenance record when it has one."""
    record = provenance.read_record(base) or {}
    model = record.get("model", {})
    info = {
        "path": str(base),
        "model_id": model.get("model_id") or base.name,
        "revision": model.get("revision"),
        "weights_sha256": model.get("weights_sha256") or weights_hash(base),
        "license": None,
    }
    card = base / "README.md"
    if card.is_file():
        from huggingface_hub import ModelCard

        info["license"] = ModelCard.load(card).data.to_dict().get("license")
    return info


def prepare(args: argparse.Namespace, hp: Hyperparams):
    """Everything that can fail on bad input, before anything is written."""
    tokenizer = load_tokenizer(args.base)
    template = get_template(hp.template)
    samples, counts = load_samples(args.dataset, tokenizer, template, hp.max_length, hp.overlong)
    rows = make_rows(samples, hp.max_length, hp.batch_unit, args.seed)
    plan = make_plan(hp, rows)
    plan.extra = {k: counts[k] for k in ("rows", "truncated", "dropped", "target_tokens")}
    return tokenizer, template, rows, plan, resolve_runtime(hp)


def fine_tune(args: argparse.Namespace, hp: Hyperparams) -> None:
    import torch

    began = time.perf_counter()
    # CPU ranks share the job's threads; a GPU rank keeps them all for its host-side work.
    cpu_ranks = hp.world_size if hp.gpus == 0 else 1
    torch.set_num_threads(max(1, args.threads // cpu_ranks))
    if not sys.stderr.isatty():  # the rule's log gets log lines, not progress bars
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    if is_launched() and os.environ.get("RANK", "0") != "0":  # rank 0 tells the story
        logging.getLogger("dart").setLevel(logging.WARNING)
    if hp.distributed:  # DeepSpeed's collectives warn once per call: ~1,500 lines a run
        warnings.filterwarnings(
            "ignore", r"`torch\.distributed\.(reduce_scatter|all_gather_into)_tensor` is deprecated",
            FutureWarning,
        )  # fmt: skip
    tokenizer, template, rows, plan, runtime = prepare(args, hp)
    log.info(
        "%s: %d samples in %d rows, %d tokens; %d steps (%d per epoch, accumulation %d); %s %s %s",
        args.dataset, plan.samples, plan.packed_rows, plan.tokens, plan.total_steps,
        plan.steps_per_epoch, plan.accumulation, runtime["device"], runtime["precision"],
        runtime["attn_implementation"],
    )  # fmt: skip
    base = base_info(args.base)
    dataset = {"path": str(args.dataset), "name": args.dataset.stem,
               "sha256": provenance.sha256_file(args.dataset)}  # fmt: skip
    fingerprint = {"hyperparams": hp.to_dict(), "seed": args.seed, "dataset": dataset["sha256"],
                   "base": base["weights_sha256"], "template": template.describe()}  # fmt: skip
    work = work_folder(args.output)
    targs = ft.training_arguments(hp, plan, runtime, work, args.seed, args.report_to)
    model = load_base_model(args.base, runtime, tokenizer)
    had_work = work.exists()
    resume = ft.prepare_work(work, fingerprint, targs.process_index == 0)
    try:
        with writing_into(work):
            trainer = ft.build_trainer(
                model, rows, hp, plan, runtime, targs, tokenizer.pad_token_id
            )
            result = ft.run_training(trainer, plan, resume)
    except DartError:
        # refused before the first checkpoint: leave no work folder behind
        if not had_work and not ft.complete_checkpoints(work) and targs.process_index == 0:
            shutil.rmtree(work, ignore_errors=True)
        raise
    final = work / "final"
    with writing_into(final):
        ft.save_final(trainer, tokenizer, final)
    if not trainer.is_world_process_zero():
        return
    training = {
        "name": args.name, "base": base, "dataset": dataset, "template": template.describe(),
        "hyperparams": hp.to_dict(), "seed": args.seed, "plan": asdict(plan), "runtime": runtime,
        "result": result,
    }  # fmt: skip
    with writing_into(final):
        finish(training, trainer.state.log_history, final, work, args.output, began)


@contextlib.contextmanager
def writing_into(folder: Path):
    """A write error that names no file (a full disk under a checkpoint or the final
    weights: torch, safetensors and transformers each raise their own kind) becomes an
    OSError naming ``folder``: one line, checkpoints kept for a rerun."""
    try:
        yield
    except DartError:
        raise
    except Exception as exc:
        named = provenance.os_error_for(exc, folder)
        if named is None:
            raise
        raise named from exc


def check_weights_changed(base: Path, final: Path, work: Path, training: dict[str, Any]) -> None:
    """Refuse to publish a fine-tune whose weights are exactly its base's (a silent no-op).

    Its work folder goes too: a rerun with the same settings would only repeat the no-op.
    """
    unchanged = weights_unchanged(base, final)
    if unchanged is None:
        log.warning("%s: no safetensors to compare with the base; weight change not checked", base)
    elif unchanged:
        hp, plan = training["hyperparams"], training["plan"]
        shutil.rmtree(work, ignore_errors=True)
        raise DartError(
            f"train: the trained weights equal the base model's ({base}) after "
            f"{plan['total_steps']} optimizer step(s) at learning_rate={hp['learning_rate']} "
            f"(warm-up {plan['warmup_steps']} step(s)); refusing to publish a copy of the base"
        )


def finish(training: dict[str, Any], history, final: Path, work: Path, output: Path, began: float):
    """Write the curves, record and card into the finished folder, publish it, record provenance."""
    check_weights_changed(Path(training["base"]["path"]), final, work, training)
    losses = card.loss_rows(history)
    result = training["result"]
    result["final_loss"] = losses[-1]["loss"] if losses else None
    result["peak_rss_mb"] = peak_rss_mb()
    result["wall_seconds"] = round(time.perf_counter() - began, 3)
    card.write_loss(losses, final, training["name"])
    out_hash = weights_hash(final)
    card.write_training_json({**training, "weights_sha256": out_hash}, final)
    card.write_card(training, final)
    publish(final, output, work)
    plan = training["plan"]
    base = training["base"]
    provenance.write_record(
        output,
        step="train",
        params={**training["hyperparams"], "template": training["template"], "plan": plan,
                "runtime": training["runtime"]},
        inputs=[training["dataset"]["path"], base["path"]],
        rows={"samples": plan["samples"], "packed_rows": plan["packed_rows"],
              "tokens": plan["tokens"], "steps": plan["total_steps"]},
        seeds={"seed": training["seed"]},
        model={"base_model_id": base["model_id"], "base_revision": base["revision"],
               "base_weights_sha256": base["weights_sha256"], "weights_sha256": out_hash},
        extra={k: result.get(k) for k in ("final_loss", "train_seconds", "wall_seconds",
                                          "tokens_per_s", "peak_rss_mb", "peak_gpu_mb",
                                          "resumed_from_step")},
    )  # fmt: skip
    log.info("%s: model ready; final loss %s, %.1f s, %s tokens/s", output, result["final_loss"],
             result["wall_seconds"], result["tokens_per_s"])  # fmt: skip
