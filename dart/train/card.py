"""What a finished model folder says about itself: loss curve, training record, model card.

``loss.csv`` (step, epoch, loss, learning_rate) and ``loss.png`` come from the
Trainer's log history; ``training.json`` holds the resolved hyperparameters and counts;
``README.md`` is a Hugging Face model card (YAML metadata: base model, datasets,
license, tags, hyperparameters) written with ``huggingface_hub``'s card classes. The
evaluation stage adds its accuracies with :func:`update_model_card`.

    from dart.train.card import update_model_card
    update_model_card("results/models/smollm2-135m--uniform",
                      [{"benchmark": "math500", "accuracy": 0.12, "n": 500}],
                      out="results/eval/smollm2-135m--uniform/README.md")
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dart.lineage.records import atomic_output, write_json_atomic, write_text_atomic

LOSS_FIELDS = ("step", "epoch", "loss", "learning_rate")
TAGS = ["dart-math", "math", "sft", "dart-pipeline"]
CARD_TEMPLATE = "---\n{{ card_data }}\n---\n\n{{ body }}\n"


def loss_rows(log_history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The Trainer's logged training steps (those with a loss), in step order."""
    rows = [
        {"step": e["step"], "epoch": e.get("epoch"), "loss": e["loss"],
         "learning_rate": e.get("learning_rate")}
        for e in log_history if "loss" in e and "step" in e
    ]  # fmt: skip
    return sorted({r["step"]: r for r in rows}.values(), key=lambda r: r["step"])


def write_loss(rows: list[dict[str, Any]], folder: Path, title: str) -> None:
    """``loss.csv`` and ``loss.png`` (loss and learning rate against the optimizer step)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=LOSS_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(buf.getvalue(), folder / "loss.csv")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["loss"] for r in rows], color="tab:blue", marker=".", label="loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    ax.set_title(title, fontsize=10)
    lr = ax.twinx()
    lr.plot(steps, [r["learning_rate"] for r in rows], color="tab:orange", label="learning rate")
    lr.set_ylabel("learning rate")
    fig.tight_layout()
    with atomic_output(folder / "loss.png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def write_training_json(record: Mapping[str, Any], folder: Path) -> None:
    write_json_atomic(dict(record), folder / "training.json")


def _card_data(training: Mapping[str, Any], eval_results: Sequence[Mapping[str, Any]] = ()):
    from huggingface_hub import EvalResult, ModelCardData

    results = [
        EvalResult(
            task_type="text-generation",
            dataset_type=str(r["benchmark"]),
            dataset_name=str(r.get("name", r["benchmark"])),
            metric_type="accuracy",
            metric_value=float(r["accuracy"]),
        )
        for r in eval_results
    ]
    return ModelCardData(
        model_name=training["name"],
        base_model=training["base"]["model_id"],
        datasets=[training["dataset"]["name"]],
        license=training["base"].get("license") or "other",
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=TAGS,
        eval_results=results or None,
        hyperparameters=dict(training["hyperparams"]),
    )


def card_text(training: Mapping[str, Any], eval_results: Sequence[Mapping[str, Any]] = ()) -> str:
    """The model card (YAML front matter and markdown) as text."""
    from huggingface_hub import ModelCard

    hp, counts = training["hyperparams"], training["plan"]
    lines = [
        f"# {training['name']}",
        "",
        f"`{training['base']['model_id']}` fine-tuned on the DART-Math dataset "
        f"`{training['dataset']['name']}` ({counts['samples']:,} samples, "
        f"{counts['tokens']:,} tokens) with the `{hp['template']}` prompt template "
        f"(version {training['template']['version']}); prompt tokens are masked from the loss "
        "and EOS is appended to every response.",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in training["plan"].items() if not isinstance(v, dict)],
        *[f"| {k} | {v} |" for k, v in training["runtime"].items()],
        "",
        f"Final loss {training['result'].get('final_loss')}, wall time "
        f"{training['result'].get('train_seconds')} s. Loss curve: `loss.png`, `loss.csv`.",
        "",
        "## Evaluation",
        "",
    ]
    if eval_results:
        lines += ["| benchmark | accuracy | n |", "|---|---|---|"]
        lines += [
            f"| {r['benchmark']} | {float(r['accuracy']):.4f} | {r.get('n', '-')} |"
            for r in eval_results
        ]
    else:
        lines.append("Not evaluated yet.")
    card = ModelCard.from_template(
        _card_data(training, eval_results), template_str=CARD_TEMPLATE, body="\n".join(lines)
    )
    return str(card).rstrip("\n") + "\n"


def write_card(training: Mapping[str, Any], folder: Path) -> None:
    write_text_atomic(card_text(training), folder / "README.md")


def update_model_card(
    folder: str | Path, eval_results: Sequence[Mapping[str, Any]], out: str | Path | None = None
) -> Path:
    """Rewrite a model folder's card with evaluation results (``benchmark``, ``accuracy``, ``n``).

    Writes ``out`` when given, else ``<folder>/README.md``. Writing into the folder changes
    its hash, so ``dart audit`` will report the model folder as modified: a rule that
    records provenance should pass its own ``out``.
    """
    folder = Path(folder)
    training = json.loads((folder / "training.json").read_text())
    target = Path(out) if out is not None else folder / "README.md"
    write_text_atomic(card_text(training, eval_results), target)
    return target
