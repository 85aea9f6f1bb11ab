"""Distributed launch: ``dart train`` with ``gpus >= 1`` (or ``ranks >= 2`` on CPU) re-runs
itself under torchrun, one process per GPU (or per CPU rank).

``torchrun --standalone`` picks a free rendezvous port, so two jobs on one node do not
clash. A rank that stops on bad input (a ``DartError``: a bad row, a broken base model)
writes its message to a folder the launcher gives it (``DART_RANK_ERRORS``) instead of
logging it; the launcher then drops torchrun's failure report (its ``ChildFailedError``
traceback) and raises that message once, so that ``ranks: 2`` fails as ``ranks: 0`` does:
one line, exit 2. Any other failure (a crash, a kill) keeps torchrun's full report. The command is built by a pure function from the parsed arguments (never from
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
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from dart.errors import DartError

log = logging.getLogger(__name__)

#: Set in every process torchrun starts; its presence means "already launched".
RANK_ENV = "LOCAL_RANK"
#: The folder where a rank leaves the message of the DartError that stopped it.
ERRORS_ENV = "DART_RANK_ERRORS"


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


def report_rank_error(error: DartError, environ: Mapping[str, str] | None = None) -> bool:
    """In a launched rank: leave ``error``'s message for the launcher (``rank-N.txt`` in
    its folder) and return True; False where no launcher asked for it (log it then)."""
    environ = os.environ if environ is None else environ
    folder = environ.get(ERRORS_ENV)
    if not folder or not is_launched(environ):
        return False
    path = Path(folder) / f"rank-{environ.get('RANK', environ[RANK_ENV])}.txt"
    partial = path.with_suffix(".tmp")
    partial.write_text(str(error))
    partial.replace(path)  # the launcher sees whole messages only
    return True


def rank_errors(folder: Path) -> list[str]:
    """The distinct messages the ranks left in ``folder``, by rank."""
    files = sorted(folder.glob("rank-*.txt"), key=lambda p: int(p.stem.split("-")[1]))
    return list(dict.fromkeys(p.read_text() for p in files))


def _pass_stderr(stream, folder: Path) -> None:
    """Copy torchrun's stderr to ours until a rank has left an error message: what follows
    is torchrun's failure report and the other ranks being stopped, which the launcher
    replaces by that one message."""
    out = sys.stderr.buffer if hasattr(sys.stderr, "buffer") else None
    for line in iter(stream.readline, b""):
        if any(folder.glob("rank-*.txt")):
            continue
        if out is not None:
            out.write(line)
            out.flush()
        else:
            sys.stderr.write(line.decode(errors="replace"))


def relaunch(argv: list[str]) -> int:
    """Run ``argv`` (torchrun) to the end; SIGTERM/SIGINT are passed on to it. Its exit
    code; a DartError with the ranks' message when a rank stopped on one."""
    log.info("launching: %s", " ".join(argv))
    with tempfile.TemporaryDirectory(prefix="dart-ranks-") as name:
        folder = Path(name)
        proc = subprocess.Popen(argv, env={**os.environ, ERRORS_ENV: name}, stderr=subprocess.PIPE)
        copier = threading.Thread(target=_pass_stderr, args=(proc.stderr, folder), daemon=True)
        copier.start()

        def forward(signum, _frame):
            proc.send_signal(signum)

        previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            code = proc.wait()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        copier.join(timeout=10)
        messages = rank_errors(folder)
    if messages:
        raise DartError("\n".join(messages))
    return code
