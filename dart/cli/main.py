"""The ``dart`` command: one verb per pipeline stage.

Each verb lives in its own module, which exposes ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported only when their verb is used, so
``dart grade`` never imports torch and ``dart queries`` never imports a model.

    dart queries 7 --format generated -o data/queries/generated.parquet
    dart audit results/datasets/uniform.parquet
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from dart.errors import DartError
from dart.lineage import records as provenance
from dart.signals import Interrupted, stop_on_signals

# verb -> (module, one-line help). Later stages add their verbs here.
VERBS: dict[str, tuple[str, str]] = {
    "queries": ("dart.queries.cli", "ingest raw queries into a queries parquet file"),
    "model": ("dart.models.cli", "materialise the embedded SmolLM2 model as a HF folder"),
    "grade": ("dart.grade.cli", "grade responses against reference answers"),
    "recipes": ("dart.pool.recipes_cli", "validate and write the recipes a pool serves"),
    "plan": ("dart.pool.plan_cli", "plan one sampling round from the tally of earlier rounds"),
    "generate": ("dart.pool.generate_cli", "generate one shard of a round's trials"),
    "verify": ("dart.pool.verify_cli", "grade one generation shard of the pool"),
    "tally": ("dart.pool.tally_cli", "add a round's verified shards to the per-query tally"),
    "pool": ("dart.pool.pool_cli", "summarise a finished pool"),
    "estimate": ("dart.pool.estimate_cli", "forecast a pool's cost from its first round"),
    "assemble": ("dart.datasets.cli", "assemble a dataset from a pool with a recipe"),
    "train": ("dart.train.cli", "fine-tune a base model on a dataset (CPU, or GPUs via torchrun)"),
    "decontam": (
        "dart.decontam.cli",
        "flag queries that overlap benchmark items (exact, n-gram)",
    ),
    "summarize": ("dart.summary.cli", "the results table and chart, beside the paper's"),
    "benchmark": ("dart.evaluate.benchmark_cli", "read a benchmark into the common item table"),
    "evaluate": ("dart.evaluate.cli", "evaluate a model on a benchmark: generate, then score"),
    "audit": ("dart.lineage.cli", "walk and check the provenance of a file"),
    "config": ("dart.config.cli", "validate a config file and write the merged config"),
}


def build_parser() -> argparse.ArgumentParser:
    verbs = "\n".join(f"  {verb:<10} {help_text}" for verb, (_, help_text) in VERBS.items())
    parser = argparse.ArgumentParser(
        prog="dart",
        description=__doc__.split("\n\n")[0],
        epilog=f"verbs:\n{verbs}\n\n'dart VERB --help' shows a verb's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--rule", help="the Snakemake rule this call runs for (provenance)")
    parser.add_argument(
        "--wildcards", default="", metavar="K=V,K=V", help="its wildcards (provenance)"
    )
    parser.add_argument("verb", choices=VERBS, metavar="VERB", help="one of the verbs below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    top = build_parser().parse_args(argv)
    module_name, help_text = VERBS[top.verb]
    module = importlib.import_module(module_name)
    sub = argparse.ArgumentParser(prog=f"dart {top.verb}", description=help_text)
    module.add_arguments(sub)
    args = sub.parse_args(top.args)
    logging.basicConfig(
        level=logging.DEBUG if top.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    wildcards = dict(i.partition("=")[::2] for i in top.wildcards.split(",") if i)
    provenance.set_context(rule=top.rule, wildcards=wildcards)
    try:
        with stop_on_signals():
            return int(module.run(args) or 0)
    except DartError as exc:
        logging.getLogger("dart").error("%s", exc)
        return 2
    except OSError as exc:
        # a full disk, an output under a file, a folder where a file belongs: one line that
        # names the file; temporary outputs were removed on the way out (atomic writes)
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or str(exc) or type(exc).__name__
        logging.getLogger("dart").error("dart %s: %s%s", top.verb, where, reason)
        return 1
    except Interrupted as stop:
        # SIGINT, or SIGTERM (what Slurm sends at a time limit and Snakemake on cancel):
        # the `finally` blocks and context managers on the way have stopped child processes
        # and removed temporary outputs; resumable parts are kept (see each verb).
        logging.getLogger("dart").error("dart %s: %s", top.verb, stop)
        return stop.exit_code


if __name__ == "__main__":
    sys.exit(main())
