"""Persistent descriptor cache in SQLite.

Keyed by molecule identity + QM settings token (which includes the descriptor code version),
so a cache hit costs no QM and a changed method never reuses stale values. WAL journal and a
busy timeout make it safe for several processes writing at once; every write is one
transaction, so a killed process leaves either the whole row or nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS descriptors (
    identity TEXT NOT NULL,
    settings_token TEXT NOT NULL,
    smiles TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    note TEXT NOT NULL,
    values_json TEXT NOT NULL,
    seconds REAL NOT NULL,
    created_unix REAL NOT NULL,
    PRIMARY KEY (identity, settings_token)
)
"""


@dataclass(frozen=True)
class CachedResult:
    """One molecule's QM outcome as stored.

    Attributes:
        status: "ok" or "failed" (deterministic failures are cached so they are not retried).
        error: The reason for a failure, "" when ok.
        note: Remarks on a success (e.g. recovered on retry).
        values: Descriptor name -> value (empty when failed).
        seconds: Wall time the calculation took.
    """

    status: str
    error: str
    note: str
    values: dict[str, float]
    seconds: float


class DescriptorCache:
    """SQLite-backed descriptor store. Open one per process; it is cheap."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> DescriptorCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, identities: Sequence[str], settings_token: str) -> dict[str, CachedResult]:
        """Look up many molecules at once; missing ones are absent from the result."""
        found: dict[str, CachedResult] = {}
        unique = list(dict.fromkeys(identities))
        chunk = 500  # stay below SQLite's bound-parameter limit
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(
                f"SELECT identity, status, error, note, values_json, seconds FROM descriptors "
                f"WHERE settings_token = ? AND identity IN ({marks})",
                [settings_token, *part],
            )
            for identity, status, error, note, values_json, seconds in rows:
                found[identity] = CachedResult(status, error, note, json.loads(values_json), seconds)
        return found

    def put_many(self, rows: Iterable[tuple[str, str, str, CachedResult]]) -> None:
        """Store (identity, settings_token, smiles, result) rows in one transaction."""
        payload = [
            (identity, token, smiles, r.status, r.error, r.note, json.dumps(r.values), r.seconds, time.time())
            for identity, token, smiles, r in rows
        ]
        if not payload:
            return
        for attempt in range(5):
            try:
                with self._conn:  # BEGIN ... COMMIT, or ROLLBACK on error
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO descriptors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", payload
                    )
                return
            except sqlite3.OperationalError as exc:  # "database is locked" beyond the timeout
                if "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM descriptors").fetchone()[0])
