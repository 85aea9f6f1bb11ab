"""The ``dart`` command (layer 6, the entry): the verb table and the one way out on errors
and signals. Every verb lives in its stage's package; this package imports them only when
their verb is used.

    dart queries 7 --format generated -o data/queries/generated.parquet
"""

from dart.cli.main import VERBS, build_parser, main

__all__ = ["VERBS", "build_parser", "main"]
