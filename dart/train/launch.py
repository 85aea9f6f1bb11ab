"""Distributed launch: ``dart train`` with ``gpus >= 1`` (or ``ranks >= 2`` on CPU) re-runs
itself under torchrun, one process per GPU (or per CPU rank).

``torchrun --standalone`` picks a free rendezvous port, so two jobs on one node do not
clash. The command is built by a pure function from the parsed arguments (never from
``sys.argv``), so it is unit-tested for 1 and 8 processes.

    from dart.train.launch import torchrun_argv
    torchrun_argv(args, processes=8, rule="train", wildcards={"model": "m"}, python="python3")
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
from collections.abc import Mapping

log = logging.getLogger(__name__)

#: Set in every process torchrun starts; its presence means "already launched".
RANK_ENV = "LOCAL_RANK"


def is_launched(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a torchrun worker."""
    return RANK_ENV in (os.environ if environ is None else environ)


def train_args(args: argparse.Namespace) -> list[str]:
    """The ``dart train`` options that reproduce ``args``."""
    return [
        "--dataset", str(args.dataset),
        "--base", str(args.base),
        "--hyperparams-json", args.hyperparams_json,
        "--seed", str(args.seed),
        "--threads", str(args.threads),
        *(["--report-to", *args.report_to] if args.report_to else []),
        "--name", args.name,
        "-o", str(args.output),
    ]  # fmt: skip


def torchrun_argv(
    args: argparse.Namespace,
    *,
    processes: int,
    rule: str | None,
    wildcards: Mapping[str, str],
    python: str,
) -> list[str]:
    """``python -m torch.distributed.run --standalone --nproc_per_node N -m dart.cli ... train ...``."""
    if processes < 1:
        raise ValueError(f"torchrun needs processes >= 1, got {processes}")
    top: list[str] = []
    if rule:
        top += ["--rule", rule]
    if wildcards:
        top += ["--wildcards", ",".join(f"{k}={v}" for k, v in wildcards.items())]
    return [
        python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
        "-m", "dart.cli", *top, "train", *train_args(args),
    ]  # fmt: skip


def relaunch(argv: list[str]) -> int:
    """Run ``argv`` (torchrun) to the end; SIGTERM/SIGINT are passed on to it. Its exit code."""
    log.info("launching: %s", " ".join(argv))
    proc = subprocess.Popen(argv)

    def forward(signum, _frame):
        proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
