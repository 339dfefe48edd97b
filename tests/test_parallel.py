"""The isolated worker pool: a crash or a hang loses only its own item."""

import os
import time

from discovery.workers import TaskFailure, WorkerTask, run_isolated


def square_or_misbehave(config):
    def task(item):
        if item == "crash":
            os._exit(3)  # a segfaulting native library looks like this to the parent
        if item == "hang":
            time.sleep(60)
        if item == "raise":
            raise ValueError("bad item")
        if item == "env":
            return os.environ.get("OMP_NUM_THREADS")
        return item * item + config["offset"]

    return task


def test_crash_hang_and_error_are_isolated():
    items = [1, "crash", 2, "hang", 3, "raise", 4]
    seen = []
    start = time.monotonic()
    results = run_isolated(
        WorkerTask("test_parallel:square_or_misbehave", {"offset": 0}), items,
        n_workers=2, timeout_s=3.0, on_result=lambda i, r: seen.append(i),
    )
    assert time.monotonic() - start < 30
    assert results[0] == 1 and results[2] == 4 and results[4] == 9 and results[6] == 16
    assert isinstance(results[1], TaskFailure) and results[1].kind == "crashed"
    assert "exit code 3" in results[1].reason
    assert isinstance(results[3], TaskFailure) and results[3].kind == "timeout"
    assert isinstance(results[5], TaskFailure) and results[5].kind == "error"
    assert "bad item" in results[5].reason
    assert sorted(seen) == list(range(len(items)))


def test_config_reaches_workers_and_they_are_single_threaded():
    task = WorkerTask("test_parallel:square_or_misbehave", {"offset": 10})
    assert run_isolated(task, [2, "env"], n_workers=1, timeout_s=30) == [14, "1"]


def test_setup_failure_is_reported_per_item():
    results = run_isolated(WorkerTask("test_parallel:no_such_function"), [1, 2], n_workers=1, timeout_s=30)
    assert all(isinstance(r, TaskFailure) and "set-up failed" in r.reason for r in results)
