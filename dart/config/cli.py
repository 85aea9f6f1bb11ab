"""``dart config``: validate a config file, and write the merged config (defaults filled).

dart config config.yaml                 # validate, print nothing, exit 0
dart config config.yaml -o merged.yaml  # also write the merged config
"""

from __future__ import annotations

from typing import Any

import yaml

from dart.config import load
from dart.lineage.records import write_text_atomic


def add_arguments(parser: Any) -> None:
    parser.add_argument("config", help="config file to validate")
    parser.add_argument("-o", "--output", help="write the merged config (defaults filled) here")


def run(args: Any) -> int:
    merged = load(args.config)
    if args.output:
        write_text_atomic(yaml.safe_dump(merged, sort_keys=False), args.output)
    return 0
