"""Main of a worker process started by `discovery.workers.run_isolated`.

Protocol: the first stdin line is {"function", "config", "sys_path"}; every further line is
{"index", "item"}; each answer is one JSON line {"index", "ok", "result" | "error"} written to
the file descriptor given as the only argument.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any


def _load(function: str) -> Callable[[dict[str, Any]], Callable[[Any], Any]]:
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


def _worker_main(result_fd: int) -> None:
    out = os.fdopen(result_fd, "w")
    header = json.loads(sys.stdin.readline())
    for path in header["sys_path"]:
        if path not in sys.path:
            sys.path.append(path)
    try:
        task = _load(header["function"])(header["config"])
        setup_error = None
    except Exception as exc:  # report it for every item rather than dying silently
        task, setup_error = None, f"worker set-up failed: {type(exc).__name__}: {exc}"
    for line in sys.stdin:
        message = json.loads(line)
        if task is None:
            reply = {"index": message["index"], "ok": False, "error": setup_error}
        else:
            try:
                reply = {"index": message["index"], "ok": True, "result": task(message["item"])}
            except Exception as exc:  # one item's bug must not end the worker
                reply = {"index": message["index"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    _worker_main(int(sys.argv[1]))
