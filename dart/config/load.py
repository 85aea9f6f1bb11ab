"""Loading a config file, validating a config mapping (the schema, then the checks
across sections), and writing the merged config of a run.

    from dart.config.load import load
    cfg = load("config.yaml")     # validated, defaults filled in
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dart.config.references import check_engine_options, check_references
from dart.config.validation import check_schema
from dart.errors import DartError
from dart.lineage.records import code_version, write_text_atomic


def validate(config: Mapping[str, Any], *, source: str = "config") -> dict[str, Any]:
    """Return a validated copy of ``config`` with defaults filled in.

    Raises DartError naming ``source`` and the offending key, also when one section
    names something another section does not define (a synth's model, a dataset's
    pool, a fine-tune's base model, an evaluated model or benchmark).
    """
    merged = check_schema(config, source=source)
    check_references(merged, source=source)
    check_engine_options(merged, source=source)
    return merged


def load(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise DartError(f"{p}: cannot read the config: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DartError(f"{p}: not valid YAML: {problem}{where}") from None
    if not isinstance(raw, dict):
        raise DartError(f"{p}: the config must be a mapping of keys")
    return validate(raw, source=str(p))


def write_merged(config: Mapping[str, Any], results_dir: str | os.PathLike) -> Path:
    """Write the merged config of this run to results/config.yaml and results/runs/<time>.yaml."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    header = f"# merged config of the run at {stamp}; code {code_version()}\n"
    text = header + yaml.safe_dump(dict(config), sort_keys=False)
    results = Path(results_dir)
    write_text_atomic(text, results / "runs" / f"{stamp}-config.yaml")
    write_text_atomic(text, results / "config.yaml")
    return results / "config.yaml"
