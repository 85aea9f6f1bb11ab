"""Is a recorded output stale? Its code versions, and its rule's parameters now.

Two questions, asked of each provenance record that ``dart audit`` walks:

- code versions: the record's ``versions`` (``dart.lineage.versions`` keys, e.g. ``grader``)
  against the current code (:func:`version_changes`);
- parameters: would the rule pass other ``params:`` now (a changed recipe, sampling
  setting, or version)? That is Snakemake's own question, so it is asked of Snakemake:
  ``snakemake --list-changes params`` in the record's workflow root, with the Snakefile
  and config files the record names (:class:`SnakemakeView`). ``--config`` overrides
  given on the original command line are not replayed. Jobs behind a checkpoint that
  will rerun are not in Snakemake's DAG yet, so it cannot name them; the version check
  still does.

Snakemake 9.27's own ``--list-changes params`` lists one output of every job, changed or
not (its ``ParamsChange`` iterates its files even when it holds no change), so this
module runs it with that fixed: ``python -m dart.lineage.staleness SNAKEMAKE_ARGS``. The
fix targets that one minor release (:data:`SNAKEMAKE_MINOR`, pinned in pyproject.toml;
tests/lineage/test_staleness.py fails when the upstream behaviour changes), and refuses
to run under another.

    python -m dart.lineage.staleness -s Snakefile --cores 1 --list-changes params
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dart.lineage import versions

log = logging.getLogger(__name__)
#: The Snakemake minor release whose ``ParamsChange.__iter__`` :func:`main` fixes.
SNAKEMAKE_MINOR = (9, 27)
#: Seconds a ``snakemake --list-changes`` call may take.
TIMEOUT = 300


def recorded_versions(record: Mapping[str, Any]) -> dict[str, str]:
    """The versions a record was made with (older records: from their params)."""
    if isinstance(record.get("versions"), Mapping):
        return {str(k): str(v) for k, v in record["versions"].items()}
    params = record.get("params") or {}
    found: dict[str, str] = {}
    if record.get("step") == "verify" and params.get("grader_version"):
        found["grader"] = str(params["grader_version"])
    template = params.get("template")
    if record.get("step") == "generate" and isinstance(template, Mapping):
        found[f"template:{template.get('name')}"] = str(template.get("version"))
    return found


def version_changes(record: Mapping[str, Any]) -> list[str]:
    """One line per code version of ``record`` that no longer holds (``[]`` when none)."""
    return [
        f"{key} {old} -> {new}" for key, old, new in versions.compare(recorded_versions(record))
    ]


class SnakemakeView:
    """What ``snakemake --list-changes params`` says about one workflow root."""

    def __init__(
        self, root: str | os.PathLike, snakefile: str, configfiles: Sequence[str] = ()
    ) -> None:
        self.root = Path(root)
        self.snakefile = snakefile
        self.configfiles = list(configfiles)
        self._changed: set[str] | None = None
        self.error: str | None = None

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "dart.lineage.staleness", "-s", self.snakefile]
        cmd += ["--directory", str(self.root), "--cores", "1"]
        if self.configfiles:
            cmd += ["--configfile", *self.configfiles]
        return [*cmd, "--list-changes", "params"]

    def changed(self) -> set[str]:
        """Output paths (relative to the root) whose rule's params changed; cached."""
        if self._changed is None:
            self._changed = self._ask()
        return self._changed

    def _ask(self) -> set[str]:
        files = (self.snakefile, *self.configfiles)
        missing = [f for f in files if not (self.root / f).is_file()]
        if missing:
            self.error = f"not asked: {', '.join(missing)} no longer exist(s)"
            return set()
        log.info("asking Snakemake: %s", " ".join(self.command()))
        try:
            proc = subprocess.run(
                self.command(), cwd=self.root, capture_output=True, text=True, timeout=TIMEOUT
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.error = f"snakemake --list-changes params failed: {exc}"
            return set()
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            self.error = "snakemake --list-changes params failed: " + " | ".join(tail)
            return set()
        return {os.path.normpath(line.strip()) for line in proc.stdout.splitlines() if line.strip()}

    def is_changed(self, path: str | os.PathLike) -> bool:
        """Did the params of the rule that makes ``path`` (absolute or root-relative) change?"""
        p = Path(path)
        rel = os.path.relpath(p, self.root) if p.is_absolute() else str(p)
        return os.path.normpath(rel) in self.changed()


def view_for(
    record: Mapping[str, Any], root: str | os.PathLike, cache: dict[tuple, SnakemakeView]
) -> SnakemakeView | None:
    """The (cached) Snakemake view of the workflow a record was made by, at ``root``
    (where the record's workflow lives now); None for records made outside Snakemake."""
    workflow = record.get("workflow") or {}
    if not record.get("rule") or not workflow.get("snakefile"):
        return None
    key = (str(root), workflow["snakefile"], tuple(workflow.get("configfiles") or ()))
    if key not in cache:
        cache[key] = SnakemakeView(key[0], key[1], key[2])
    return cache[key]


def main(argv: Sequence[str] | None = None) -> int:
    """Snakemake's command line, with ``--list-changes params`` listing only changes."""
    import snakemake
    from snakemake.cli import main as snakemake_main
    from snakemake.persistence import ParamsChange

    found = tuple(int(p) for p in snakemake.__version__.split(".")[:2])
    if found != SNAKEMAKE_MINOR:
        want = ".".join(map(str, SNAKEMAKE_MINOR))
        sys.stderr.write(
            f"dart.lineage.staleness: fixes Snakemake {want}.x's --list-changes params; "
            f"found Snakemake {snakemake.__version__} (install the pinned one)\n"
        )
        return 2
    # Upstream: ParamsChange.__iter__ returns iter(self.files) even when the change is
    # empty (bool(self) is False), so every job's output is listed as changed.
    ParamsChange.__iter__ = lambda self: iter(self.files if self else ())
    sys.argv = ["snakemake", *(sys.argv[1:] if argv is None else argv)]
    return snakemake_main()


if __name__ == "__main__":
    sys.exit(main())
