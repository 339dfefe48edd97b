"""Run work items (molecules to featurise, sampler chains) in isolated worker processes, with a
timeout and crash isolation.

`concurrent.futures.ProcessPoolExecutor` breaks the whole pool when one worker dies and cannot
stop a task stuck in native code. Here each worker is a fresh `python -m discovery.worker`
process fed JSON lines on stdin and answering JSON lines on a dedicated pipe (native libraries
may print to stdout); `discovery.worker` is its main. The parent waits on every worker's pipe,
kills a worker that exceeds the per-item timeout, records that item as failed and starts a new
worker: a crash (segfault, OOM kill) or a hang loses only the item that was running. Workers are
not forked from the caller, so user scripts need no `if __name__ == "__main__"` guard.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

#: Threads per worker: tblite's OpenMP oversubscribes badly with several worker processes.
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class TaskFailure:
    """An item that produced no result: kind is "timeout", "crashed" or "error"."""

    kind: str
    reason: str


@dataclass(frozen=True)
class WorkerTask:
    """What workers run.

    Attributes:
        function: "package.module:name" of a function `f(config) -> task`, called once per
            worker; `task(item)` maps one JSON item to a JSON result.
        config: JSON-serialisable configuration passed to `function`.
    """

    function: str
    config: dict[str, Any] = field(default_factory=dict)


class _Worker:
    def __init__(self, task: WorkerTask) -> None:
        read_fd, write_fd = os.pipe()
        env = {**os.environ, **SINGLE_THREAD_ENV}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "discovery.worker", str(write_fd)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(write_fd,), env=env,
        )
        os.close(write_fd)
        self.results = os.fdopen(read_fd, "rb")
        header = {"function": task.function, "config": task.config, "sys_path": sys.path}
        self._send(header)
        self.item_index: int | None = None
        self.started = 0.0

    def _send(self, message: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def submit(self, index: int, item: Any) -> None:
        self.item_index = index
        self.started = time.monotonic()
        try:
            self._send({"index": index, "item": item})
        except (BrokenPipeError, OSError):
            pass  # the worker is gone; the parent sees EOF on its result pipe

    def close(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()  # lets an idle worker exit on its own
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.results.close()


def run_isolated(
    task: WorkerTask,
    items: Sequence[Any],
    *,
    n_workers: int,
    timeout_s: float,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """Apply `task` to every item in worker processes.

    Args:
        task: The function workers run (see `WorkerTask`).
        items: JSON-serialisable work items.
        n_workers: Worker processes (>= 1).
        timeout_s: Wall-clock limit per item; a worker over it is killed and replaced.
        on_result: Called in the parent as (index, result_or_failure) when each item finishes,
            e.g. to write it to a cache or advance a progress bar.

    Returns:
        One entry per item, in input order: the task's JSON result or a `TaskFailure`.
    """
    results: list[Any] = [None] * len(items)
    if not items:
        return results
    pending = list(range(len(items)))[::-1]
    workers = [_Worker(task) for _ in range(max(1, min(n_workers, len(items))))]
    remaining = len(items)
    try:
        for worker in workers:
            index = pending.pop()
            worker.submit(index, items[index])
        while remaining:
            busy = [w for w in workers if w.item_index is not None]
            deadline = min(w.started for w in busy) + timeout_s
            ready = wait([w.results for w in busy], timeout=max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            for slot, worker in enumerate(workers):
                if worker.item_index is None:
                    continue
                outcome: Any = None
                replace = False
                if worker.results in ready:
                    line = worker.results.readline()
                    if line:
                        message = json.loads(line)
                        outcome = message["result"] if message["ok"] else TaskFailure("error", message["error"])
                    else:  # EOF: the process died
                        code = worker.process.wait(timeout=5)
                        outcome = TaskFailure("crashed", f"worker process died (exit code {code})")
                        replace = True
                elif now - worker.started >= timeout_s:
                    outcome = TaskFailure("timeout", f"exceeded the per-item timeout of {timeout_s:g} s")
                    replace = True
                if outcome is None:
                    continue
                index = worker.item_index
                results[index] = outcome
                worker.item_index = None
                remaining -= 1
                if on_result is not None:
                    on_result(index, outcome)
                if replace:
                    worker.close(kill=True)
                    worker = workers[slot] = _Worker(task)
                if pending:
                    next_index = pending.pop()
                    worker.submit(next_index, items[next_index])
    finally:
        for worker in workers:
            worker.close(kill=worker.item_index is not None)
    return results
