"""The one signal path: SIGTERM (what Slurm sends at a time limit, and Snakemake on
cancel) and SIGINT stop a verb cleanly. ``dart`` (:mod:`dart.cli.main`) runs every verb
inside ``stop_on_signals()``; a verb catches :class:`Interrupted` only to say what it kept.

Inside ``stop_on_signals()`` either signal raises ``Interrupted`` (a BaseException, so
that library code catching ``Exception`` cannot swallow it) at the next Python
instruction; ``finally`` blocks and ``atomic_output`` clean-ups run on the way out, so
atomic outputs are not written and worker pools are closed. Further signals are ignored
while that clean-up runs. The command exits with 128 + the signal's number.

    with stop_on_signals():
        long_running_work()
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """The process was asked to stop; ``signum`` says by which signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into ``Interrupted`` for the duration of the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        for sig in SIGNALS:  # a second signal while unwinding must not interrupt clean-up
            signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
