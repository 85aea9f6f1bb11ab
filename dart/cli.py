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

# verb -> (module, one-line help). Later stages add their verbs here.
VERBS: dict[str, tuple[str, str]] = {
    "queries": ("dart.queries.cli", "ingest raw queries into a queries parquet file"),
    "model": ("dart.embedded_model", "materialise the embedded SmolLM2 model as a HF folder"),
    "grade": ("dart.grade.cli", "grade responses against reference answers"),
    "audit": ("dart.audit", "walk and check the provenance of a file"),
    "config": ("dart.config", "validate a config file and write the merged config"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dart", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb, (module, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        # Only the chosen verb's module is imported (see main).
        p.set_defaults(_verb=verb)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # First pass finds the verb; then its module adds its own arguments.
    verb = next((a for a in argv if a in VERBS), None)
    if verb is not None:
        module = importlib.import_module(VERBS[verb][0])
        sub = parser._subparsers._group_actions[0].choices[verb]  # noqa: SLF001
        module.add_arguments(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except DartError as exc:
        logging.getLogger("dart").error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
