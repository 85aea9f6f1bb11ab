"""``dart evaluate``: generate a model's responses to a benchmark, then score them.

    dart evaluate generate --benchmark data/benchmarks/gsm8k.parquet \\
        --model results/models/llama3-8b--prop2diff --engine vllm --template alpaca \\
        --max-new-tokens 2048 --gpus 1 -o results/eval/llama3-8b--prop2diff/gsm8k.gen.parquet
    dart evaluate score --generations results/eval/M/gsm8k.gen.parquet \\
        --benchmark data/benchmarks/gsm8k.parquet --benchmark-name gsm8k --model-name M \\
        -o results/eval/M/gsm8k.json --items results/eval/M/gsm8k.items.jsonl

On SIGTERM or SIGINT both stop within seconds with exit status 128 + signal and no
traceback: ``generate`` keeps its finished chunks in ``OUT.parts/`` (a rerun resumes
from them) and writes no OUT; ``score`` stops its grader workers and writes nothing.
"""

from __future__ import annotations

import argparse
import logging

from dart.evaluate import commands
from dart.evaluate.scoring import SECOND_OPINIONS
from dart.grade.options import add_grader_options
from dart.options import at_least
from dart.signals import Interrupted

log = logging.getLogger(__name__)


def _generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--benchmark", required=True, help="benchmark parquet (dart benchmark)")
    parser.add_argument("--model", required=True, help="model folder or hub id")
    parser.add_argument("--revision", help="model revision (hub models)")
    parser.add_argument("--engine", default="transformers", help="transformers, vllm or openai")
    parser.add_argument("--template", required=True, help="prompt template (dart/prompts.py)")
    parser.add_argument(
        "--max-new-tokens",
        type=at_least(1, "--max-new-tokens"),
        default=2048,
        help="generation limit",
    )
    parser.add_argument("--engine-options-json", default="{}", help="engine options as JSON")
    parser.add_argument(
        "--threads", type=at_least(1, "--threads"), help="CPU threads (transformers engine)"
    )
    parser.add_argument("--gpus", type=at_least(0, "--gpus"), help="tensor-parallel GPUs (vllm)")
    parser.add_argument(
        "--batch-size", type=at_least(1, "--batch-size"), default=64,
        help="batch slots (transformers)",
    )  # fmt: skip
    parser.add_argument(
        "--chunk-size", type=at_least(1, "--chunk-size"), default=64,
        help="items per resumable chunk",
    )  # fmt: skip
    parser.add_argument("-o", "--output", required=True, help="output .gen.parquet")


def _score_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generations", required=True, help="the .gen.parquet of generate")
    parser.add_argument("--benchmark", required=True, help="benchmark parquet (dart benchmark)")
    parser.add_argument("--benchmark-name", required=True, help="benchmark name in the result")
    parser.add_argument("--model-name", required=True, help="model name in the result")
    parser.add_argument(
        "--options-json", default="{}", help='scoring options, e.g. {"tolerance": "relative-4pct"}'
    )
    add_grader_options(parser)
    parser.add_argument(
        "--second-opinion",
        choices=SECOND_OPINIONS,
        default="math-verify",
        help="also grade every item with math-verify (same bounds); the result counts where "
        "the graders disagree and the items file marks each such item ('disagree')",
    )
    parser.add_argument("-o", "--output", required=True, help="result JSON")
    parser.add_argument("--items", required=True, help="per-item JSONL")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    _generate_arguments(steps.add_parser("generate", help="greedy responses to a benchmark"))
    _score_arguments(steps.add_parser("score", help="grade responses into a result file"))


def run(args: argparse.Namespace) -> int:
    step = commands.generate if args.step == "generate" else commands.score
    try:
        step(args)
    except Interrupted as stop:  # `dart` turns SIGTERM/SIGINT into this (dart.signals)
        kept = " (finished chunks kept for a rerun)" if args.step == "generate" else ""
        log.error("evaluate %s: %s; no output written%s", args.step, stop, kept)
        return stop.exit_code
    return 0
