"""SQLite as the package uses it: WAL journal, a busy timeout, explicit `BEGIN IMMEDIATE` transactions.

WAL lets readers go on while one process writes; the timeout makes a second writer wait for the
lock instead of failing at once. Connections are in autocommit mode, so nothing is written
outside `transaction`, and a process killed mid-transaction leaves the whole of it or nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Seconds a writer waits for another process's lock before "database is locked".
BUSY_TIMEOUT_S = 60.0


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and create, with its folder) the database at `path`, foreign keys enforced."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """All writes inside commit together or not at all.

    `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that reads first
    could fail to upgrade its lock when another process writes in between.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
