"""Loading and validating the pipeline config against its JSON schema (draft 2020-12).

Defaults from the schema are filled in, and every error names the key at fault:

    dart config config.yaml                 # validate, print nothing, exit 0
    dart config config.yaml -o merged.yaml  # also write the merged config
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from dart.errors import DartError

SCHEMA_PATH = Path(__file__).parent / "schema" / "config.schema.yaml"


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        assert ref.startswith("#/$defs/"), ref
        return root["$defs"][ref.removeprefix("#/$defs/")]
    return node


def _fill_defaults(value: Any, node: dict[str, Any], root: dict[str, Any]) -> None:
    """Set missing keys from ``default`` in place, recursing into named maps."""
    node = _resolve(node, root)
    if not isinstance(value, dict) or node.get("type") not in ("object", None):
        return
    for key, sub in node.get("properties", {}).items():
        sub = _resolve(sub, root)
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _fill_defaults(value[key], sub, root)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        for key, item in value.items():
            if key not in node.get("properties", {}):
                _fill_defaults(item, extra, root)


def _key_path(error: Any) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(_resolve(error.schema, schema()).get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        where = _key_path(error)
        keys = ", ".join(f"{where}.{k}" if where != "<top level>" else k for k in unknown)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {keys}{hint}"
    return f"key {_key_path(error)}: {error.message}"


def validate(config: Mapping[str, Any], *, source: str = "config") -> dict[str, Any]:
    """Return a validated copy of ``config`` with defaults filled in.

    Raises DartError naming ``source`` and the offending key.
    """
    from jsonschema import Draft202012Validator

    root = schema()
    merged = copy.deepcopy(dict(config))
    validator = Draft202012Validator(root)
    errors = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
    if errors:
        raise DartError(f"{source}: {_message(errors[0])}")
    _fill_defaults(merged, root, root)
    errors = list(validator.iter_errors(merged))
    if errors:  # a default that does not fit its own schema is our bug, but say where
        raise DartError(f"{source}: {_message(errors[0])}")
    return merged


def load(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DartError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise DartError(f"{p}: the config must be a mapping of keys")
    return validate(raw, source=str(p))


def write_merged(config: Mapping[str, Any], results_dir: str | os.PathLike) -> Path:
    """Write the merged config of this run to results/config.yaml and results/runs/<time>.yaml."""
    from dart.provenance import code_version, write_text_atomic

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    header = f"# merged config of the run at {stamp}; code {code_version()}\n"
    text = header + yaml.safe_dump(dict(config), sort_keys=False)
    results = Path(results_dir)
    write_text_atomic(text, results / "runs" / f"{stamp}-config.yaml")
    write_text_atomic(text, results / "config.yaml")
    return results / "config.yaml"


def add_arguments(parser: Any) -> None:
    parser.add_argument("config", help="config file to validate")
    parser.add_argument("-o", "--output", help="write the merged config (defaults filled) here")


def run(args: Any) -> int:
    merged = load(args.config)
    if args.output:
        from dart.provenance import write_text_atomic

        write_text_atomic(yaml.safe_dump(merged, sort_keys=False), args.output)
    return 0
