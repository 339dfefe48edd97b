"""Run per-molecule work in isolated worker processes, with a timeout and crash isolation.

`concurrent.futures.ProcessPoolExecutor` breaks the whole pool when one worker dies, and it cannot
stop a task stuck in native code. Here each worker owns a pipe; the parent watches every worker's
pipe and process sentinel, kills a worker that exceeds the per-task timeout, records that task
as failed, and starts a fresh worker. A crash (segfault, OOM kill) loses only the task that ran.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

#: Threads per worker: tblite's OpenMP oversubscribes badly with several worker processes.
_SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class TaskFailure:
    """A task that produced no result: kind is "timeout", "crashed" or "error"."""

    kind: str
    reason: str


@contextmanager
def single_threaded_env() -> Iterator[None]:
    """Environment for child processes started inside the block (spawn copies os.environ)."""
    saved = {k: os.environ.get(k) for k in _SINGLE_THREAD_ENV}
    os.environ.update(_SINGLE_THREAD_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _worker_main(conn: Connection, factory: Callable[[], Callable[[Any], Any]]) -> None:
    try:
        task = factory()
    except BaseException:  # report the set-up failure on the first task, then exit
        message = traceback.format_exc(limit=3)
        while True:
            try:
                task_id, _ = conn.recv()
            except EOFError:
                return
            conn.send((task_id, False, f"worker set-up failed: {message}"))
    while True:
        try:
            task_id, item = conn.recv()
        except EOFError:
            return
        try:
            conn.send((task_id, True, task(item)))
        except Exception as exc:  # one molecule's bug must not end the worker
            conn.send((task_id, False, f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, ctx, factory) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, factory), daemon=True)
        with single_threaded_env():
            self.process.start()
        child.close()
        self.task_id: int | None = None
        self.started = 0.0

    def submit(self, task_id: int, item: Any) -> None:
        self.task_id = task_id
        self.started = time.monotonic()
        self.conn.send((task_id, item))

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


def run_isolated(
    factory: Callable[[], Callable[[Any], Any]],
    items: Sequence[Any],
    *,
    n_workers: int,
    timeout_s: float,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Apply the task made by `factory()` to every item in worker processes.

    Args:
        factory: Picklable zero-argument callable run once per worker; returns the task function.
        items: Picklable work items.
        n_workers: Worker processes (>= 1).
        timeout_s: Wall-clock limit per item; a worker over it is killed and replaced.
        on_result: Called in the parent as (index, result_or_failure) when each item finishes,
            e.g. to write it to a cache or advance a progress bar.

    Returns:
        One entry per item, in input order: the task's return value or a `TaskFailure`.
    """
    results: list[Any] = [None] * len(items)
    if not items:
        return results
    ctx = mp.get_context("spawn")  # fork is unsafe once torch/OpenMP threads exist
    pending = list(range(len(items)))[::-1]
    workers = [_Worker(ctx, factory) for _ in range(max(1, min(n_workers, len(items))))]
    remaining = len(items)

    def finish(worker: _Worker, outcome: Any) -> None:
        nonlocal remaining
        assert worker.task_id is not None
        results[worker.task_id] = outcome
        if on_result is not None:
            on_result(worker.task_id, outcome)
        worker.task_id = None
        remaining -= 1

    try:
        for worker in workers:
            task_id = pending.pop()
            worker.submit(task_id, items[task_id])
        while remaining:
            busy = [w for w in workers if w.task_id is not None]
            now = time.monotonic()
            wait_for = max(0.0, min(w.started + timeout_s - now for w in busy)) if busy else None
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=wait_for)
            now = time.monotonic()
            for index, worker in enumerate(workers):
                if worker.task_id is None:
                    continue
                outcome = None
                if worker.conn in ready:
                    try:
                        _, ok, payload = worker.conn.recv()
                        outcome = payload if ok else TaskFailure("error", payload)
                    except (EOFError, OSError):
                        pass  # died while sending; handled as a crash below
                if outcome is None and (worker.process.sentinel in ready or not worker.process.is_alive()):
                    worker.process.join(timeout=1)
                    outcome = TaskFailure("crashed", f"worker process died (exit code {worker.process.exitcode})")
                elif outcome is None and now - worker.started >= timeout_s:
                    outcome = TaskFailure("timeout", f"exceeded the per-molecule timeout of {timeout_s:g} s")
                if outcome is None:
                    continue
                finish(worker, outcome)
                if isinstance(outcome, TaskFailure) and outcome.kind in ("crashed", "timeout"):
                    worker.kill()
                    worker = workers[index] = _Worker(ctx, factory)
                if pending:
                    task_id = pending.pop()
                    worker.submit(task_id, items[task_id])
    finally:
        for worker in workers:  # closing the pipe lets an idle worker exit on its own
            worker.conn.close()
        for worker in workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5)
    return results
