"""The isolated worker pool: a crash or a hang loses only its own item."""

import os
import time

from discovery.features.parallel import TaskFailure, run_isolated


def _square_or_misbehave(item):
    if item == "crash":
        os._exit(3)  # a segfaulting native library looks like this to the parent
    if item == "hang":
        time.sleep(60)
    if item == "raise":
        raise ValueError("bad item")
    return item * item


def _factory():
    return _square_or_misbehave


def test_crash_hang_and_error_are_isolated():
    items = [1, "crash", 2, "hang", 3, "raise", 4]
    seen = []
    start = time.monotonic()
    results = run_isolated(_factory, items, n_workers=2, timeout_s=3.0, on_result=lambda i, r: seen.append(i))
    assert time.monotonic() - start < 30
    assert results[0] == 1 and results[2] == 4 and results[4] == 9 and results[6] == 16
    assert isinstance(results[1], TaskFailure) and results[1].kind == "crashed"
    assert "exit code 3" in results[1].reason
    assert isinstance(results[3], TaskFailure) and results[3].kind == "timeout"
    assert isinstance(results[5], TaskFailure) and results[5].kind == "error"
    assert "bad item" in results[5].reason
    assert sorted(seen) == list(range(len(items)))


def test_workers_are_single_threaded():
    results = run_isolated(_env_factory, ["OMP_NUM_THREADS"], n_workers=1, timeout_s=30)
    assert results == ["1"]


def _read_env(name):
    return os.environ.get(name)


def _env_factory():
    return _read_env
