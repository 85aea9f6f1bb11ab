"""``dart generate``: sample one shard of a round's plan with an engine.

    dart generate --plan pool/round-1/plan.parquet --shard 0 \\
        --queries data/queries/generated.parquet \\
        --engine transformers --model results/models/smollm2 --threads 2 \\
        --template chat --chunk-size 64 \\
        --sampling-json '{"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 512}' \\
        -o pool/round-1/gen-0.parquet
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from dart.engines import engine_options, open_engine
from dart.engines.base import SamplingParams
from dart.errors import DartError
from dart.inputs import table_columns
from dart.lineage.records import write_record
from dart.options import RANGES, at_least
from dart.pool.generate import generate_shard, load_plan_shard, model_inputs
from dart.prompts import get_template
from dart.queries.table import read_query_texts

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plan", required=True, help="plan parquet of the round")
    parser.add_argument("--shard", type=at_least(0), help="shard to generate (default: every row)")
    parser.add_argument("--queries", nargs="+", required=True, help="queries parquet file(s)")
    parser.add_argument("--engine", default="transformers", help="transformers, vllm or openai")
    parser.add_argument("--model", required=True, help="model folder or hub id")
    parser.add_argument("--revision", help="model revision (hub models)")
    parser.add_argument("--template", required=True, help="prompt template name")
    parser.add_argument("--sampling-json", required=True, help="sampling parameters as JSON")
    parser.add_argument(
        "--chunk-size",
        type=RANGES["chunk_size"],
        default=64,
        help="trials per resumable chunk",
    )
    parser.add_argument(
        "--threads", type=RANGES["threads"], help="CPU threads (transformers engine)"
    )
    parser.add_argument(
        "--batch-size",
        type=RANGES["batch_size"],
        default=64,
        help="batch slots (transformers)",
    )
    parser.add_argument("--dtype", help="model dtype (default: float32 / vllm auto)")
    parser.add_argument("--device", default="cpu", help="device (transformers engine)")
    parser.add_argument(
        "--gpus", type=RANGES["gpus"], help="tensor-parallel GPUs (vllm; default: visible)"
    )
    parser.add_argument(
        "--engine-options-json",
        default="{}",
        help="engine options as JSON (config `engine_options`); they override the flags above",
    )
    parser.add_argument("-o", "--output", required=True, help="output parquet")


def run(args: argparse.Namespace) -> int:
    try:
        sampling = SamplingParams.from_dict(json.loads(args.sampling_json))
    except json.JSONDecodeError as exc:
        raise DartError(f"--sampling-json is not valid JSON: {exc}") from exc
    template = get_template(args.template)
    table_columns(args.plan, "plan")
    plan = load_plan_shard(args.plan, args.shard)
    queries = read_query_texts(args.queries)  # with each query's pass rate, where known
    engine = open_engine(args.engine, args.model, engine_options(args))
    log.info("generate: %d trials with %s on %s", plan.height, args.engine, args.model)
    stats = generate_shard(
        plan, queries, engine, template, sampling, args.output, chunk_size=args.chunk_size
    )
    params = {
        "engine": args.engine,
        "template": template.describe(),
        "sampling": stats["sampling"],
        "chunk_size": args.chunk_size,
        "shard": args.shard,
    }
    write_record(
        Path(args.output),
        step="generate",
        params=params,
        inputs=[args.plan, *args.queries, *model_inputs(args.model)],
        rows=stats["rows"],
        seeds={"per_trial": "column 'seed' of the plan"},
        model=engine.describe(),
        extra={"timing": {k: v for k, v in stats.items() if k != "sampling"}},
    )
    log.info(
        "generate: wrote %d rows to %s (%s tok/s)",
        stats["rows"],
        args.output,
        stats["tokens_per_s"],
    )
    return 0
