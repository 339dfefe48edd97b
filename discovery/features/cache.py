"""Persistent descriptor cache in SQLite.

Two tables: `descriptors`, keyed by molecule identity + QM settings token (which includes the
descriptor code version), so a cache hit costs no QM and a changed method never reuses stale
values; and `molecules`, keyed by the input text + parser/category version, so a warm lookup
skips RDKit parsing and category matching too. WAL journal and a
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

from discovery.sqlite import connect, transaction

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
);
CREATE TABLE IF NOT EXISTS molecules (
    input TEXT NOT NULL,
    token TEXT NOT NULL,
    smiles TEXT NOT NULL,
    identity TEXT NOT NULL,
    is_polymer INTEGER NOT NULL,
    error TEXT NOT NULL,
    categories_json TEXT NOT NULL,
    PRIMARY KEY (input, token)
);
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


@dataclass(frozen=True)
class MoleculeRecord:
    """A parsed input as stored: standardised form (or the parse error) and its categories.

    Attributes:
        smiles, identity, is_polymer: The standardised molecule ("" / False when invalid).
        error: Why the input is invalid, "" when valid.
        categories: 0/1 values in `CATEGORY_NAMES` order (empty when invalid).
    """

    smiles: str
    identity: str
    is_polymer: bool
    error: str
    categories: tuple[int, ...]


class DescriptorCache:
    """SQLite-backed descriptor store. Open one per process; it is cheap."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        # No sync per commit: a power cut may lose the last rows (never corrupt them); they are recomputed.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> DescriptorCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_descriptors(self, identities: Sequence[str], settings_token: str) -> dict[str, CachedResult]:
        """QM outcomes of many molecules at once; missing ones are absent from the result."""
        return {
            identity: CachedResult(status, error, note, json.loads(values_json), seconds)
            for identity, status, error, note, values_json, seconds in self._select(
                "SELECT identity, status, error, note, values_json, seconds FROM descriptors "
                "WHERE settings_token = ? AND identity IN ({marks})", settings_token, identities,
            )
        }

    def put_descriptors(self, rows: Iterable[tuple[str, str, str, CachedResult]]) -> None:
        """Store (identity, settings_token, smiles, result) rows in one transaction."""
        self._insert(
            "descriptors",
            [
                (identity, token, smiles, r.status, r.error, r.note, json.dumps(r.values), r.seconds, time.time())
                for identity, token, smiles, r in rows
            ],
        )

    def get_molecules(self, texts: Sequence[str], token: str) -> dict[str, MoleculeRecord]:
        """Parsed inputs (standardised molecule or parse error, and categories) by input text."""
        return {
            text: MoleculeRecord(smiles, identity, bool(is_polymer), error, tuple(json.loads(categories)))
            for text, smiles, identity, is_polymer, error, categories in self._select(
                "SELECT input, smiles, identity, is_polymer, error, categories_json FROM molecules "
                "WHERE token = ? AND input IN ({marks})", token, texts,
            )
        }

    def put_molecules(self, rows: Iterable[tuple[str, str, MoleculeRecord]]) -> None:
        """Store (input text, token, record) rows in one transaction."""
        self._insert(
            "molecules",
            [
                (text, token, r.smiles, r.identity, int(r.is_polymer), r.error, json.dumps(list(r.categories)))
                for text, token, r in rows
            ],
        )

    def _select(self, query: str, token: str, keys: Sequence[str]) -> Iterable[tuple]:
        unique = list(dict.fromkeys(keys))
        chunk = 500  # stay below SQLite's bound-parameter limit
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            yield from self._conn.execute(query.format(marks=",".join("?" * len(part))), [token, *part])

    def _insert(self, table: str, payload: list[tuple]) -> None:
        if not payload:
            return
        marks = ",".join("?" * len(payload[0]))
        for attempt in range(5):
            try:
                with transaction(self._conn):
                    self._conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", payload)
                return
            except sqlite3.OperationalError as exc:  # "database is locked" beyond the timeout
                if "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM descriptors").fetchone()[0])
