"""Checking a config against its JSON schema (``schema/config.schema.yaml``, draft
2020-12): the schema itself, defaults filled in, values given as strings (``--config``)
coerced to the schema's types, one spelling per number, and messages that name the key.

    from dart.config.validation import check_schema
    check_schema({"seed": "x"}, source="config.yaml")   # DartError: key seed: ...
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
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


def _coerce(value: Any, node: dict[str, Any], root: dict[str, Any]) -> Any:
    """Strings where the schema wants a number, integer or boolean, converted.

    ``snakemake --config 'grader={"memory_mb": 2048}'`` hands nested values over as
    strings; a string that reads as the schema's type becomes that type, anything else
    is left for the validator to name.
    """
    node = _resolve(node, root)
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = _coerce(item, sub, root)
        return value
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_coerce(v, node["items"], root) for v in value]
    types = node.get("type", [])
    types = [types] if isinstance(types, str) else types
    if not isinstance(value, str):
        return _canonical_number(value, types)
    text = value.strip()
    if "integer" in types:
        with contextlib.suppress(ValueError):
            return int(text)
        with contextlib.suppress(ValueError):
            return _canonical_number(float(text), types)
    if "number" in types:
        with contextlib.suppress(ValueError):
            return float(text)
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value  # "none", "null", "~": text (only a real YAML null is null)


#: How YAML spells a null (``yaml.safe_load`` of each is None); an empty value is
#: taken as the empty text (``--config 'x={description: ""}'``).
YAML_NULLS = ("~", "null", "Null", "NULL")


def command_line_nulls(config: dict[str, Any], command_line: Mapping[str, Any]) -> None:
    """Set to None, in place, each value of ``config`` that ``snakemake --config`` gave as a
    YAML null. Snakemake reads ``--config`` with YAML's base loader, which keeps every
    scalar as text (``subset=null`` arrives as ``"null"``); a config file's values are
    left alone (only a real YAML null is null there: ``subset: "none"`` is the text)."""
    for key, given in command_line.items():
        if key not in config:
            continue
        if isinstance(given, Mapping) and isinstance(config[key], dict):
            command_line_nulls(config[key], given)
        elif isinstance(given, str) and given in YAML_NULLS and config[key] == given:
            config[key] = None


def _refuse_non_finite(value: Any, source: str, path: tuple[str, ...] = ()) -> None:
    """NaN and infinities pass JSON-schema bounds (``nan > 0`` and ``nan <= 0`` are both
    false): refuse them by key (YAML ``.nan``/``.inf``, ``--config train={lr: .inf}``)."""
    if isinstance(value, float) and not math.isfinite(value):
        key = ".".join(path) or "<top level>"
        raise DartError(f"{source}: key {key}: must be a finite number, got {value}")
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        _refuse_non_finite(item, source, (*path, str(key)))


def _canonical_number(value: Any, types: list[str]) -> Any:
    """One spelling per number, so that params compare equal whatever the spelling.

    A number where the schema wants an integer becomes an int when whole (``2.0`` -> 2;
    a fraction is left for the validator to name); where it wants any number, a float
    (``5`` and ``5.0`` both 5.0). Booleans and other values are returned as they are.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if "integer" in types and (isinstance(value, int) or value.is_integer()):
        return int(value)
    if "number" in types and "integer" not in types:
        return float(value)
    return value


def check_schema(config: Any, *, source: str = "config") -> dict[str, Any]:
    """A copy of ``config`` that fits the schema, with defaults filled in and values in
    the schema's types; raises DartError naming ``source`` and the first key at fault."""
    from jsonschema import Draft202012Validator

    root = schema()
    merged = _coerce(copy.deepcopy(dict(config)), root, root)
    _refuse_non_finite(merged, source)
    validator = Draft202012Validator(root)
    errors = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
    if errors:
        raise DartError(f"{source}: {_message(errors[0])}")
    _fill_defaults(merged, root, root)
    for spec in merged.get("synth", {}).values():  # null: an overlay cleared the options
        if spec.get("engine_options") is None:
            spec["engine_options"] = {}
    merged = _coerce(merged, root, root)  # the defaults' numbers in their one spelling too
    errors = list(validator.iter_errors(merged))
    if errors:  # a default that does not fit its own schema is our bug, but say where
        raise DartError(f"{source}: {_message(errors[0])}")
    return merged
