"""``dart model``: materialise a base model as a local Hugging Face folder (see :mod:`embedded`).

dart model embedded:smollm2 -o data/models/smollm2-135m
"""

from __future__ import annotations

import argparse
import logging

from dart.lineage.records import write_record
from dart.models.embedded import materialise

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="embedded:smollm2, a local HF folder, or a hub model id")
    parser.add_argument("-o", "--output", required=True, help="model folder to create")
    parser.add_argument(
        "--revision", type=lambda s: s or None, help="hub revision (commit, tag or branch)"
    )


def run(args: argparse.Namespace) -> int:
    info = materialise(args.source, args.output, revision=args.revision)
    inputs = [info["gguf_file"]] if "gguf_file" in info else []
    params = {"source": args.source, "revision": args.revision}
    write_record(args.output, step="model", params=params, inputs=inputs, model=info)
    log.info("%s: model ready (weights sha256 %s)", args.output, info["weights_sha256"][:16])
    return 0
