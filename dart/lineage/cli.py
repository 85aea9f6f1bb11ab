"""``dart audit FILE``: check a file's lineage (:mod:`audit`), or follow one dataset row to
the call that generated it (``--row N``, :mod:`audit_row`).

The exit status is 0 when everything is ok, 1 otherwise; the last line names the first
file at fault, or the Snakemake params check that could not be made (a failed check is not
OK; ``--no-snakemake`` skips it).

    dart audit results/datasets/uniform.parquet
    dart audit data/queries/generated.parquet --json
    dart audit results/datasets/uniform.parquet --row 1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dart.lineage.audit import audit_with, first_problem, render, stale_nodes, to_json
from dart.lineage.audit_row import render_row, row_lineage
from dart.options import at_least


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="a dataset, model folder, result or any recorded file")
    parser.add_argument("--json", action="store_true", help="print the lineage as JSON")
    parser.add_argument(
        "--row",
        type=at_least(1),
        metavar="N",
        help="follow row N (1-based, as error messages count) of a dataset to its trial",
    )
    parser.add_argument(
        "--no-snakemake",
        action="store_true",
        help="skip asking Snakemake whether rule params changed (code versions are still checked)",
    )


def run(args: argparse.Namespace) -> int:
    if args.row is not None:
        return run_row(args)
    tree, auditor = audit_with(args.file, ask_snakemake=not args.no_snakemake)
    problem = first_problem(tree)
    if tree.record is None and tree.status != "missing":
        sys.stdout.write(f"{args.file}: no provenance record ({args.file}.prov.json)\n")
        return 1
    root, why = auditor.top_root or (Path.cwd(), "the current directory")
    stale = stale_nodes(tree)
    unchecked = auditor.snakemake_failures()
    if args.json:
        doc = {
            "root": str(root),
            "root_from": why,
            "lineage": to_json(tree),
            "stale": [{"path": n.path, "why": n.stale} for n in stale],
            "snakemake": auditor.snakemake_notes(),
            "ok": problem is None and not unchecked,
        }
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
        return 0 if doc["ok"] else 1
    lines = [f"root: {root} ({why})", *render(tree), *auditor.snakemake_notes()]
    if stale:
        lines.append(f"STALE: {len(stale)} record(s) made with other code versions or params:")
        lines += [f"  {n.path}: {'; '.join(n.stale)}" for n in stale]
    sys.stdout.write("\n".join(lines) + "\n")
    if problem is not None:
        sys.stdout.write(f"FAILED: {problem.path}: {problem.status}: {problem.detail}\n")
        return 1
    if unchecked:
        sys.stdout.write(
            f"FAILED: the rule-params check could not be made ({'; '.join(unchecked)}); "
            "fix it, or skip that check with --no-snakemake\n"
        )
        return 1
    sys.stdout.write("OK: every file on the way matches its record\n")
    return 0


def run_row(args: argparse.Namespace) -> int:
    info = row_lineage(args.file, args.row)
    if args.json:
        sys.stdout.write(json.dumps(info, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(render_row(info))
    return 0 if info["response_matches_dataset"] else 1
