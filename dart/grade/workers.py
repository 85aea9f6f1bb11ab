"""Grade a stream of rows in a persistent pool of bounded worker processes.

The parent prepares each row (``dart.grade.grader.prepare``: invalid text, extraction and
refusals, pure string work) and sends only the equivalence decisions to the workers, each
distinct (answer, reference, kind) once per run: identical pairs wait for, or reuse, the
first one's outcome (a cache keyed by the grader version), so 5,000 copies of a
pathological answer cost one timeout. Each worker decides chunks of tasks under a
per-task timer (``setitimer``) and an address-space limit (``RLIMIT_AS``) and reports
every task as it finishes. The parent keeps a bounded window of rows in flight, yields
results in input order, and kills and replaces a worker that stops answering (a task stuck
in C code) or dies (out of memory): that task becomes ``timeout``/``error`` and the rest
of its chunk is re-sent.

    python -c "from dart.grade import grade_rows; print(list(grade_rows([{'response': '\\\\boxed{2}', 'gold': '2'}], workers=1)))"
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import wait

from dart.errors import DartError
from dart.grade.compare import math_verify_grade
from dart.grade.equivalence import canonical_kind
from dart.grade.grader import (
    TRUNCATED_REASONS,
    Decision,
    GradeTimeout,
    Prepared,
    decide,
    grade,
    prepare,
    time_bound,
    verdict_of,
)
from dart.grade.symbolic import _library
from dart.grade.verdict import ERROR, TIMEOUT, Verdict

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 5.0
DEFAULT_MEMORY_MB = 2048
CHUNK_SIZE = 32
GRACE_SECONDS = 2.0  # how long past its own timer a silent worker is given before the kill
ITEM_FIELDS = ("response", "gold", "kind", "query", "finish_reason")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


GRADERS = {"dart": "dart.grade.grader", "math-verify": "dart.grade.compare"}
MAX_CACHED = 100_000  # decisions remembered per run (least recently used dropped)


def _task_function(name: str, timeout: float, lenient: bool):
    """What a worker runs on one task: a Decision's fields (dart) or a row (math-verify);
    it returns the fields ``verdict`` and ``reason`` (and, for math-verify, the rest)."""
    if name == "dart":

        def run(task: dict) -> dict:
            outcome, detail = decide(Decision(**task), timeout)
            return {"verdict": outcome, "reason": detail}

        return run
    return lambda task: math_verify_grade(**task, lenient=lenient, timeout=timeout).as_fields()


def _limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its size now plus memory_mb (a forked worker
    inherits its parent's mappings, which may already be large)."""
    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        current = 0
    limit = current + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker_main(conn, timeout: float, memory_mb: int | None, lenient: bool, grader: str) -> None:
    """Worker loop: receive a chunk of (seq, item), send (seq, fields) per item."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # A SIGTERM sent to the whole process group (Slurm, Snakemake) ends a worker at once;
    # the handler inherited from `dart` would raise in the middle of an item instead.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if memory_mb:
        _limit_memory(memory_mb)
    _library()  # import and guard before the first timed item
    run_task = _task_function(grader, timeout, lenient)
    while True:
        try:
            chunk = conn.recv()
        except EOFError:
            return
        if chunk is None:
            return
        for seq, task in chunk:
            conn.send((seq, run_task(task)))


class _Worker:
    """One worker process and the items it has been given but not yet answered."""

    def __init__(self, context, timeout: float, memory_mb, lenient: bool, grader: str):
        parent_end, child_end = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child_end, timeout, memory_mb, lenient, grader), daemon=True
        )
        self.process.start()
        child_end.close()
        self.conn = parent_end
        self.pending: collections.OrderedDict[int, dict] = collections.OrderedDict()
        self.deadline = 0.0

    def give(self, chunk: list[tuple[int, dict]], limit: float) -> None:
        self.pending.update(chunk)
        self.deadline = time.monotonic() + limit
        self.conn.send(chunk)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.process.join(timeout=None if kill else 5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _item(row: dict, index: int) -> dict:
    """The fields a worker needs from row ``index`` (1-based); DartError when unusable."""
    if not isinstance(row, dict):
        raise DartError(f"row {index}: not an object")
    for key in ("response", "gold"):
        if key not in row:
            raise DartError(f"row {index}: no {key!r} field")
    try:
        canonical_kind(row.get("kind"))
    except ValueError as exc:
        raise DartError(f"row {index}: {exc}") from None
    # response and gold travel even when null: that row gets an `error` verdict of its own
    return {
        key: row[key]
        for key in ITEM_FIELDS
        if key in ("response", "gold") or row.get(key) is not None
    }


class _Pool:
    """The workers, the work waiting for one, and the results waiting to be yielded."""

    def __init__(self, workers: int, timeout: float, memory_mb, lenient: bool, grader: str):
        # Import and warm the parsers here, once, so that forked workers start warm (each
        # worker warming its own copy cost seconds per worker per shard: at the paper's
        # 64 shards x 8 rounds, the largest fixed cost of the pool's verification). The
        # guard it installs changes nothing here: the parent only prepares (string work).
        _library()

        self.context = multiprocessing.get_context("fork")
        self.settings = (timeout, memory_mb, lenient, grader)
        self.limit = timeout + GRACE_SECONDS
        self.workers = [self._spawn() for _ in range(workers)]
        self.retry: collections.deque[tuple[int, dict]] = collections.deque()
        self.results: dict[int, dict] = {}
        # the readiness line: tests (and people) wait for it before interrupting a run
        log.info("grading with %d worker process(es)", len(self.workers))

    def _spawn(self) -> _Worker:
        worker = _Worker(self.context, *self.settings)
        worker.fresh = True
        return worker

    def dispatch(self, todo: collections.deque) -> None:
        """Give a chunk (re-sent items first) to each idle worker."""
        for worker in self.workers:
            if worker.pending:
                continue
            queue = self.retry if self.retry else todo
            chunk = [queue.popleft() for _ in range(min(CHUNK_SIZE, len(queue)))]
            if chunk:
                worker.give(chunk, self.limit + (30.0 if worker.fresh else 0.0))
                worker.fresh = False

    def busy(self) -> bool:
        return bool(self.retry) or any(w.pending for w in self.workers)

    def collect(self) -> None:
        """Wait for results; replace a worker that died or overran its item's bound."""
        busy = [w for w in self.workers if w.pending]
        if not busy:
            return
        now = time.monotonic()
        ready = wait([w.conn for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - now))
        for worker in busy:
            if worker.conn in ready:
                self._receive(worker)
            elif time.monotonic() > worker.deadline:
                self._replace(worker, Verdict(TIMEOUT, f"timeout after {self.limit:g}s (killed)"))

    def _receive(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                seq, fields = worker.conn.recv()
                worker.pending.pop(seq, None)
                self.results[seq] = fields
                worker.deadline = time.monotonic() + self.limit
        except (EOFError, OSError):
            self._replace(worker, Verdict(ERROR, "error: grader process died (memory?)"))

    def _replace(self, worker: _Worker, verdict: Verdict) -> None:
        """Record the stuck item, re-queue the rest of its chunk, start a new worker."""
        if worker.pending:
            seq, _ = worker.pending.popitem(last=False)
            self.results[seq] = verdict.as_fields()
            log.warning("item %d: %s; replacing its worker", seq, verdict.reason)
        self.retry.extendleft(reversed(list(worker.pending.items())))
        worker.stop(kill=True)
        self.workers[self.workers.index(worker)] = self._spawn()

    def close(self) -> None:
        for worker in self.workers:
            worker.stop(kill=bool(worker.pending))


def _progress_bar(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: workers are forked
    return tqdm(unit="rows", desc="grading", smoothing=0.1)


class _Decisions:
    """The dart grader's per-run bookkeeping: prepared rows, decisions in flight, and the
    outcomes already decided (keyed by ``Decision.key``, which holds the grader version)."""

    def __init__(self, lenient: bool, timeout: float):
        self.lenient, self.timeout = lenient, timeout
        self.decided: collections.OrderedDict[tuple, tuple[str, str]] = collections.OrderedDict()
        self.waiting: dict[tuple, list[tuple[int, Prepared]]] = {}
        self.task_keys: dict[int, tuple] = {}

    def admit(self, seq: int, item: dict, finished: dict, todo: collections.deque) -> None:
        """Prepare row seq: finish it now, attach it to a decision, or queue a decision."""
        try:
            with time_bound(self.timeout):
                prepared = prepare(**item, lenient=self.lenient)
        except GradeTimeout:
            prepared = Verdict(TIMEOUT, f"timeout after {self.timeout:g}s (extraction)")
        if isinstance(prepared, Verdict):
            finished[seq] = prepared.as_fields()
            return
        key = prepared.decision.key
        if key in self.decided:
            self.decided.move_to_end(key)
            finished[seq] = verdict_of(prepared, *self.decided[key]).as_fields()
        elif key in self.waiting:
            self.waiting[key].append((seq, prepared))
        else:
            self.waiting[key] = [(seq, prepared)]
            self.task_keys[seq] = key
            todo.append((seq, dataclasses.asdict(prepared.decision)))

    def resolve(self, task: int, fields: dict, finished: dict) -> None:
        """Record a decision and finish every row that waits for it."""
        key = self.task_keys.pop(task)
        outcome = (fields["verdict"], fields["reason"])
        self.decided[key] = outcome
        if len(self.decided) > MAX_CACHED:
            self.decided.popitem(last=False)
        for seq, prepared in self.waiting.pop(key):
            finished[seq] = verdict_of(prepared, *outcome).as_fields()


def _admit_plain(seq: int, item: dict, finished: dict, todo: collections.deque) -> None:
    """math-verify: every row is a task (truncated rows excepted)."""
    if item.get("finish_reason") in TRUNCATED_REASONS:
        finished[seq] = grade("", "", finish_reason=item["finish_reason"]).as_fields()
    else:
        todo.append((seq, item))


def grade_rows(
    rows: Iterable[dict],
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int | None = DEFAULT_MEMORY_MB,
    progress: bool = False,
    lenient: bool = False,
    grader: str = "dart",
) -> Iterator[dict]:
    """Yield each row, in input order, with ``extracted``, ``verdict``, ``reason`` and
    ``grader_version`` added. Streams: at most a few chunks per worker are in memory.

    Raises DartError for a row without ``response`` or ``gold`` or with an unknown kind.
    ``memory_mb`` is each worker's address-space headroom above its size at start.
    ``grader="math-verify"`` grades with math-verify instead (``dart grade --compare``).
    """
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; known: {', '.join(GRADERS)}")
    workers = workers or default_workers()
    window = workers * CHUNK_SIZE * 4
    pool = _Pool(workers, timeout, memory_mb, lenient, grader)
    decisions = _Decisions(lenient, timeout) if grader == "dart" else None
    source = iter(rows)
    held: dict[int, dict] = {}
    finished: dict[int, dict] = {}
    todo: collections.deque[tuple[int, dict]] = collections.deque()
    bar = _progress_bar(progress)
    seq = next_out = tasks = 0
    exhausted = False
    end = object()  # not None: a None row is a bad row (``_item`` says so), not the end
    try:
        while True:
            while not exhausted and len(held) < window and len(todo) < workers * CHUNK_SIZE:
                row = next(source, end)
                if row is end:
                    exhausted = True
                    break
                item = _item(row, seq + 1)  # rows count from 1 in every message
                held[seq] = row
                admit = decisions.admit if decisions is not None else _admit_plain
                queued = len(todo)
                admit(seq, item, finished, todo)
                tasks += len(todo) - queued
                seq += 1
            pool.dispatch(todo)
            for task in list(pool.results):
                fields = pool.results.pop(task)
                if decisions is not None:
                    decisions.resolve(task, fields, finished)
                else:
                    finished[task] = fields
            while next_out in finished:
                row = held.pop(next_out)
                row.update(finished.pop(next_out))
                next_out += 1
                if bar is not None:
                    bar.update()
                yield row
            if exhausted and not todo and not pool.busy() and not held:
                log.info("graded %d row(s) with %d decision(s) by the workers", seq, tasks)
                return
            pool.collect()
    finally:
        pool.close()
        if bar is not None:
            bar.close()
