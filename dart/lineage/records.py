"""Sidecar provenance records, content hashing and atomic writes.

Every artifact ``X`` the pipeline writes gets a sidecar ``X.prov.json`` that says
how it was made: the rule and wildcards, parameters, every input's path, sha256
and record id, the code version (package version, git commit, dirty flag),
software versions, the versions of the code pieces that decide the output
(:mod:`dart.lineage.versions`), the workflow root, host, time, seeds, model and row counts. ``dart audit X``
walks these records back to the raw sources (see :mod:`dart.lineage.audit`).

Outputs appear atomically: they are written to a temporary name in the same
folder and renamed into place only when complete, so a killed job never leaves a
half-written file under the final name.

    from dart.lineage.records import atomic_output, write_record
    with atomic_output("data/queries/gsm8k.parquet") as tmp:
        frame.write_parquet(tmp)
    write_record("data/queries/gsm8k.parquet", step="queries", params={...},
                 inputs=["raw/gsm8k.jsonl"], rows=frame.height)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import dart
from dart.errors import DartError
from dart.lineage import versions as code_versions

SCHEMA = "dart.provenance/1"
SUFFIX = ".prov.json"
#: Libraries whose versions go into every record (read from metadata, never imported).
SOFTWARE = (
    "torch",
    "transformers",
    "vllm",
    "deepspeed",
    "datasets",
    "polars",
    "pyarrow",
    "sympy",
    "math-verify",
    "snakemake",
    "gguf",
)

#: Set by the workflow (rules/common.smk) for its jobs; recorded in ``workflow``.
SNAKEFILE_ENV = "DART_SNAKEFILE"
CONFIGFILES_ENV = "DART_CONFIGFILES"

# Set once per process by the CLI (``dart --rule R --wildcards k=v VERB ...``).
_CONTEXT: dict[str, Any] = {"rule": None, "wildcards": {}}


def set_context(rule: str | None = None, wildcards: Mapping[str, str] | None = None) -> None:
    """Record which Snakemake rule (and wildcards) this process runs for."""
    _CONTEXT["rule"] = rule
    _CONTEXT["wildcards"] = dict(wildcards or {})


def record_path(path: str | os.PathLike) -> Path:
    """The sidecar of ``path``: ``path`` + ``.prov.json`` (for files and folders alike)."""
    p = Path(path)
    return p.with_name(p.name + SUFFIX)


# --------------------------------------------------------------------------- hashing


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def hash_path(path: str | os.PathLike) -> str:
    """sha256 of a file, or of a folder as the sorted list of (relative path, file hash)."""
    p = Path(path)
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            rel = f.relative_to(p).as_posix()
            if rel.endswith(SUFFIX) or "/." in "/" + rel:  # sidecars and hidden files
                continue
            h.update(f"{rel}\0{sha256_file(f)}\n".encode())
        return h.hexdigest()
    return sha256_file(p)


#: The files that hold a model folder's weights.
WEIGHT_GLOBS = ("*.safetensors", "*.bin")


def weights_sha256(folder: str | os.PathLike) -> str | None:
    """The weights' own hash of a model folder (None when it holds no weight file).

    One weight file: its sha256; several: the sha256 of their sorted ``name\\0sha256``
    lines. Cards, configs, timing files and sidecars do not count, so bit-identical
    weights have one hash whatever else the folder holds. Model records (``dart model``,
    ``dart train``) and evaluation results record this hash; ``dart audit`` compares them.
    """
    folder = Path(folder)
    files = sorted(f for g in WEIGHT_GLOBS for f in folder.glob(g) if f.is_file())
    if not files:
        return None
    if len(files) == 1:
        return sha256_file(files[0])
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}\0{sha256_file(f)}\n".encode())
    return h.hexdigest()


def recorded_weights_sha256(folder: str | os.PathLike) -> str | None:
    """A model folder's weight hash as its record holds it, else hashed now (None: no
    weight files, or not a local folder)."""
    if not Path(folder).is_dir():
        return None
    record = read_record(folder) or {}
    return (record.get("model") or {}).get("weights_sha256") or weights_sha256(folder)


# --------------------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success.

    On any exception the temporary file or folder is removed and ``path`` is left
    as it was (absent, or the previous complete version). A SIGKILL cannot be cleaned up
    after: its hidden temporary is removed by the next successful write of ``path``.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{final.name}.tmp-"
    started = time.time()
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=final.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, dir=final.parent, suffix=final.suffix)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        # mkstemp/mkdtemp create private files; give the output the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod((0o777 if directory else 0o666) & ~umask)
        if directory and final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _remove_leftovers(final.parent, prefix, started)
    except BaseException as exc:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, Exception):
            named = os_error_for(exc, final)
            if named is not None:
                raise named from exc
        raise


def os_error_for(exc: BaseException, path: str | os.PathLike) -> OSError | None:
    """An OSError naming ``path`` for a write error that names no file: a bare OSError
    (``write()`` on a full disk), or a library's own error around one (polars, pyarrow,
    safetensors: "... (os error 28)"). None when ``exc`` is no such error."""
    if isinstance(exc, OSError):
        if exc.errno is None or exc.filename:
            return None
        return OSError(exc.errno, exc.strerror or str(exc), str(path))
    found = re.search(r"os error (\d+)|\[Errno (\d+)\]", str(exc))
    if found is None:
        return None
    number = int(found.group(1) or found.group(2))
    return OSError(number, os.strerror(number), str(path))


def _remove_leftovers(folder: Path, prefix: str, before: float) -> None:
    """Temporaries of the same output left by a killed writer (older than this write)."""
    for old in folder.glob(glob.escape(prefix) + "*"):
        with contextlib.suppress(OSError):
            if old.lstat().st_mtime < before:
                shutil.rmtree(old) if old.is_dir() else old.unlink()


def write_json_atomic(obj: Any, path: str | os.PathLike) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_text_atomic(text: str, path: str | os.PathLike) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_parquet_atomic(frame: Any, path: str | os.PathLike) -> None:
    """Write a polars DataFrame (or pyarrow Table) to parquet atomically."""
    with atomic_output(path) as tmp:
        if hasattr(frame, "write_parquet"):
            frame.write_parquet(tmp, compression="zstd", statistics=True)
        else:
            import pyarrow.parquet as pq

            pq.write_table(frame, tmp, compression="zstd")


# --------------------------------------------------------------------------- resumable parts


def parts_dir(out_path: str | os.PathLike) -> Path:
    """Where a resumable output keeps its finished parts: ``OUT.parts/`` beside ``OUT``."""
    out = Path(out_path)
    return out.with_name(out.name + ".parts")


def prepare_parts(folder: Path, manifest: Mapping[str, Any], label: str) -> None:
    """Keep ``folder``'s finished parts when they were made for this ``manifest`` (the
    inputs, settings and engine they depend on); otherwise discard them and start afresh."""
    import logging

    path = folder / "manifest.json"
    if folder.exists():
        old = json.loads(path.read_text()) if path.exists() else None
        if old == json.loads(json.dumps(manifest, default=str)):
            return
        logging.getLogger(__name__).warning(
            "%s: discarding parts in %s made for another setup", label, folder
        )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_json_atomic(manifest, path)


# --------------------------------------------------------------------------- environment


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, Any]:
    """Package version and, when the package runs from a git checkout, commit and dirty flag."""
    info: dict[str, Any] = {"package": "dart-pipeline", "version": dart.__version__}
    root = Path(dart.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        info.update(git_commit=commit, git_dirty=bool(status.strip()))
    except (OSError, subprocess.SubprocessError):
        info.update(git_commit=None, git_dirty=None)
    return info


@functools.lru_cache(maxsize=1)
def software_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def workflow_context() -> dict[str, Any]:
    """The workflow root (this process's directory) and, under Snakemake, its Snakefile
    and config files (``DART_SNAKEFILE``, ``DART_CONFIGFILES``, set by rules/common.smk)."""
    configfiles = os.environ.get(CONFIGFILES_ENV, "")
    return {
        "root": os.getcwd(),
        "snakefile": os.environ.get(SNAKEFILE_ENV) or None,
        "configfiles": [c for c in configfiles.split(os.pathsep) if c],
    }


# --------------------------------------------------------------------------- records


def read_record(path: str | os.PathLike) -> dict[str, Any] | None:
    """The sidecar record of ``path``, or None when it has none; a truncated or garbled
    sidecar is a DartError naming it."""
    rp = record_path(path)
    if not rp.exists():
        return None
    try:
        record = json.loads(rp.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DartError(f"{rp}: not a readable provenance record ({exc})") from None
    if not isinstance(record, dict):
        raise DartError(f"{rp}: not a provenance record (a JSON object)")
    return record


def _input_entry(path: str | os.PathLike) -> dict[str, Any]:
    p = Path(path)
    rec = read_record(p)
    entry = {
        "path": os.path.relpath(p) if not p.is_absolute() else str(p),
        "sha256": hash_path(p),
        "record_id": rec["record_id"] if rec else None,
    }
    if rec and rec.get("simulated"):
        entry["simulated"] = True
    return entry


def is_simulated(path: str | os.PathLike) -> bool:
    """Whether ``path`` was made from simulated responses (its record says so)."""
    record = read_record(path) or {}
    return bool(record.get("simulated"))


def write_record(
    path: str | os.PathLike,
    *,
    step: str,
    params: Mapping[str, Any] | None = None,
    inputs: Iterable[str | os.PathLike] = (),
    rows: int | Mapping[str, int] | None = None,
    seeds: Mapping[str, Any] | None = None,
    model: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    versions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Hash ``path`` and its inputs and write its sidecar record atomically.

    ``versions`` are the code versions that decide this output (``dart.lineage.versions`` keys);
    by default those that :func:`dart.lineage.versions.keys_for_step` names for ``step``.
    Relative paths are relative to the current directory, the workflow root, which the
    record keeps (``workflow.root``) so that ``dart audit`` resolves them from anywhere.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"cannot record provenance of missing output {p}")
    if versions is None:
        versions = code_versions.pick(*code_versions.keys_for_step(step, params))
    record = {
        "schema": SCHEMA,
        "record_id": uuid.uuid4().hex[:16],
        "path": str(p),
        "kind": "dir" if p.is_dir() else "file",
        "sha256": hash_path(p),
        "bytes": _size(p),
        "step": step,
        "rule": _CONTEXT["rule"],
        "wildcards": _CONTEXT["wildcards"],
        "params": dict(params or {}),
        "inputs": (entries := [_input_entry(i) for i in inputs]),
        "rows": rows,
        "seeds": dict(seeds or {}),
        "model": dict(model or {}),
        "code": code_version(),
        "versions": dict(versions),
        "workflow": workflow_context(),
        "software": software_versions(),
        "host": socket.gethostname(),
        "argv": sys.argv,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if (model or {}).get("simulated") or any(e.get("simulated") for e in entries):
        # made by the simulated engine, or from something that was: never data
        record["simulated"] = True
    if code_versions.overrides():
        record["version_overrides"] = code_versions.overrides()
    if extra:
        record["extra"] = dict(extra)
    write_json_atomic(record, record_path(p))
    return record


def _size(p: Path) -> int:
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size
