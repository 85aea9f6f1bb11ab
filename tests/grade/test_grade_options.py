"""The grader options, defined once (dart.grade.options), mean the same in every verb."""

import argparse
import importlib

import pytest

from dart.cli.main import VERBS as VERB_TABLE
from dart.grade import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT

VERBS = {
    "grade": ["grade", "in.jsonl", "-o", "out.jsonl"],
    "verify": ["verify", "shard.parquet", "-o", "verified.parquet"],
    "evaluate score": [
        "evaluate", "score", "--generations", "g.parquet", "--benchmark", "b.parquet",
        "--benchmark-name", "b", "--model-name", "m", "-o", "r.json", "--items", "i.jsonl",
    ],
}  # fmt: skip


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse argv as ``dart`` does: the verb's own parser from the verb table."""
    sub = argparse.ArgumentParser(prog=f"dart {argv[0]}")
    importlib.import_module(VERB_TABLE[argv[0]][0]).add_arguments(sub)
    return sub.parse_args(argv[1:])


@pytest.mark.parametrize("verb", VERBS)
def test_defaults_are_the_same_in_every_verb(verb):
    args = parse(VERBS[verb])
    assert (args.workers, args.timeout, args.memory_mb) == (
        None,
        DEFAULT_TIMEOUT,
        DEFAULT_MEMORY_MB,
    )


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--workers", "0", "must be at least 1"),
        ("--workers", "two", "expected an integer"),
        ("--timeout", "0", "must be above 0"),
        ("--timeout", "inf", "must be above 0"),
        ("--timeout", "nan", "must be above 0"),
        ("--memory-mb", "10", "must be at least 64"),
    ],
)
def test_bad_values_are_refused_at_parse_time_naming_the_option(
    verb, option, value, message, capsys
):
    with pytest.raises(SystemExit) as stop:
        parse([*VERBS[verb], option, value])
    assert stop.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("verb", VERBS)
def test_good_values_parse_to_the_same_types(verb):
    args = parse([*VERBS[verb], "--workers", "3", "--timeout", "2.5", "--memory-mb", "512"])
    assert (args.workers, args.timeout, args.memory_mb) == (3, 2.5, 512)
