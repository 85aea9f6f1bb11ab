"""``dart config``: validate a config file, and write the merged config (defaults filled).

dart config config.yaml                 # validate, print nothing, exit 0
dart config config.yaml -o merged.yaml  # also write the merged config
dart config config.yaml --paper-diff    # also list every setting that differs from the paper's
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from dart.config import load
from dart.config.paper import paper_diff_text
from dart.lineage.records import write_text_atomic


def add_arguments(parser: Any) -> None:
    parser.add_argument("config", help="config file to validate")
    parser.add_argument("-o", "--output", help="write the merged config (defaults filled) here")
    parser.add_argument(
        "--paper-diff",
        action="store_true",
        help="print, per fine-tuned base model, every training and evaluation setting that "
        "differs from the DART-Math paper's (dart/paper.py)",
    )


def run(args: Any) -> int:
    merged = load(args.config)
    if args.output:
        write_text_atomic(yaml.safe_dump(merged, sort_keys=False), args.output)
    if args.paper_diff:
        sys.stdout.write(paper_diff_text(merged, args.config))
    return 0
