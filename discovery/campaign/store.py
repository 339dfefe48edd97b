"""A campaign's state in one SQLite file: molecules, measurements, rounds, pools, fits, proposals.

Every public write is one transaction (`BEGIN IMMEDIATE` ... `COMMIT`), so a process killed at
any moment leaves the database as it was before or after that step, never in between; the loop
resumes from what is committed. Molecules get campaign-wide ids (`C000001`, ...) in order of
first appearance, so ids in proposal files stay valid for the life of the campaign.

Measurements are an append-only record (`discovery.campaign.ledger`): a correction or a
retraction is a new record that names the one it replaces, with who, when, from which file and
row, and why. Nothing is updated or deleted, so the history is complete, and a correction is one
INSERT: a process killed during it leaves the old value current or the new one, never both.
The file carries its schema version (`PRAGMA user_version`); a file of an older version is
upgraded when opened, a newer one is refused.
"""

from __future__ import annotations

import enum
import getpass
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from discovery.sqlite import connect, transaction
from discovery.tables import PROPOSALS

_SCHEMA = """
CREATE TABLE IF NOT EXISTS molecules (
    candidate_id TEXT PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    smiles TEXT NOT NULL,
    origin TEXT NOT NULL,          -- seed | mutation | brics | library | selfies | lab
    parent TEXT NOT NULL,
    first_round INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id TEXT NOT NULL REFERENCES molecules(candidate_id),
    value REAL,                    -- NULL for a failed experiment or a retraction
    uncertainty REAL,              -- SD, property units
    date TEXT,
    notes TEXT,
    source TEXT NOT NULL,          -- seed data file, results file, or oracle
    round INTEGER NOT NULL,        -- the round whose proposals it answers (0: seed data)
    recorded_unix REAL NOT NULL,
    outcome TEXT NOT NULL DEFAULT 'measured',  -- measured | failed | retracted
    reason TEXT,                   -- why it failed, or why it corrects or retracts
    replaces INTEGER UNIQUE REFERENCES measurements(id),  -- the record it corrects or retracts
    source_row INTEGER,            -- row of the results file (header = row 1)
    recorded_by TEXT,              -- the account that ingested it
    property TEXT,                 -- which property (campaign.properties) NULL: the campaign's target
    CHECK ((outcome = 'measured') = (value IS NOT NULL))
);
CREATE TABLE IF NOT EXISTS rounds (
    round INTEGER PRIMARY KEY,
    status TEXT NOT NULL,          -- started | fitted | pooled | proposed
    config_hash TEXT NOT NULL,
    n_measured INTEGER NOT NULL,
    best_value REAL,
    started_unix REAL NOT NULL,
    finished_unix REAL
);
CREATE TABLE IF NOT EXISTS fits (
    round INTEGER PRIMARY KEY,
    config_hash TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    seconds REAL NOT NULL,
    diagnostics_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pool (
    round INTEGER NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES molecules(candidate_id),
    PRIMARY KEY (round, candidate_id)
);
CREATE TABLE IF NOT EXISTS pool_summaries (
    round INTEGER PRIMARY KEY,
    summary_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS proposals (
    round INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    candidate_id TEXT NOT NULL REFERENCES molecules(candidate_id),
    mean REAL NOT NULL,
    lower_90 REAL NOT NULL,
    upper_90 REAL NOT NULL,
    prob_beat_best REAL NOT NULL,
    prob_feasible REAL,            -- NULL: no feasibility model yet
    acquisition_value REAL,
    nearest_measured_id TEXT NOT NULL,
    nearest_similarity REAL NOT NULL,
    outside_domain INTEGER NOT NULL,
    properties_json TEXT,          -- further properties (campaign.properties) as JSON, NULL: none
    PRIMARY KEY (round, rank),
    UNIQUE (round, candidate_id)
);
CREATE TABLE IF NOT EXISTS failures (
    identity TEXT PRIMARY KEY,
    smiles TEXT NOT NULL,
    stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    round INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_unix REAL NOT NULL,
    round INTEGER,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    data_json TEXT NOT NULL
);
"""


#: The schema this code writes (`PRAGMA user_version`): 1 had one value per measurement row, no
#: outcome, corrections or feasibility; 2 is the append-only record above; 3 adds the property
#: a record measures (several per molecule) and the proposals' further properties.
SCHEMA_VERSION = 3



def _current(alias: str) -> str:
    """SQL: the record `alias` is current (no later record replaces it, and it is not a retraction)."""
    return (f"{alias}.outcome != 'retracted' AND NOT EXISTS "
            f"(SELECT 1 FROM measurements later WHERE later.replaces = {alias}.id)")



class RoundStatus(str, enum.Enum):
    """How far a round got; each step's write moves it on, never back (a resumed run redoes the
    steps after it, which are deterministic)."""

    STARTED = "started"
    FITTED = "fitted"  # the model is fitted (and saved, if it can be)
    POOLED = "pooled"  # the candidate pool is generated and stored
    PROPOSED = "proposed"  # the proposals are stored: the round waits for the lab

    @property
    def step(self) -> int:
        return list(RoundStatus).index(self)

    def reached(self, other: RoundStatus) -> bool:
        """Whether this status is `other` or later."""
        return self.step >= other.step


@dataclass(frozen=True)
class RoundRecord:
    """A row of the rounds table.

    Attributes:
        round: The round's number (1, 2, ...).
        status: How far it got.
        config_hash: Of the run configuration that started it.
        n_measured: Measurements stored when it started (new ones mean the lab answered).
        best_value: Best measured value when it started.
    """

    round: int
    status: RoundStatus
    config_hash: str
    n_measured: int
    best_value: float | None


#: Proposal columns the store keeps; the SMILES come from the molecules table.
_STORED_PROPOSAL_COLUMNS = tuple(c for c in PROPOSALS.names if c not in ("smiles", "nearest_measured_smiles"))


class CampaignStore:
    """The SQLite state of one campaign (`state.sqlite` in its folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path)
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ValueError(f"{self.path} was written by a newer version of discovery (schema {version}; this "
                                 f"one reads up to {SCHEMA_VERSION}): upgrade discovery to continue this campaign")
            if version < SCHEMA_VERSION and _tables(db):
                _upgrade(db, version, self.path)
            else:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CampaignStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """All writes inside commit together or not at all."""
        return transaction(self._db)

    # -- molecules ----------------------------------------------------------------------------
    def register_molecules(
        self, rows: Iterable[tuple[str, str, str, str]], round_number: int, db: sqlite3.Connection | None = None,
    ) -> dict[str, str]:
        """Give ids to new molecules; rows are (identity, smiles, origin, parent).

        Returns identity -> candidate_id for every row (existing molecules keep their id).
        Pass `db` to join an open transaction.
        """
        rows = list(rows)
        if db is None:
            with self.transaction() as conn:
                return self.register_molecules(rows, round_number, conn)
        known = dict(db.execute("SELECT identity, candidate_id FROM molecules").fetchall())
        next_number = db.execute("SELECT COUNT(*) FROM molecules").fetchone()[0] + 1
        new = []
        for identity, smiles, origin, parent in rows:
            if identity in known:
                continue
            known[identity] = f"C{next_number:06d}"
            new.append((known[identity], identity, smiles, origin, parent, round_number))
            next_number += 1
        db.executemany("INSERT INTO molecules VALUES (?, ?, ?, ?, ?, ?)", new)
        return {row[0]: known[row[0]] for row in rows}

    def molecules(self) -> pd.DataFrame:
        """Columns candidate_id, identity, smiles, origin, parent, first_round."""
        return self._frame("SELECT * FROM molecules ORDER BY candidate_id")

    # -- measurements ----------------------------------------------------------------------------
    def add_measurements(self, rows: Sequence[dict[str, Any]], db: sqlite3.Connection | None = None) -> int:
        """Store records: dicts with candidate_id, source, round, and value (None for a failed
        experiment or a retraction) and optionally property (None: the campaign's target),
        outcome ("measured"), uncertainty, date, notes, reason, replaces (the record corrected or
        retracted, of the same property), source_row. Returns how many."""
        if db is None:
            with self.transaction() as conn:
                return self.add_measurements(rows, conn)
        now, user = time.time(), _user()
        db.executemany(
            "INSERT INTO measurements (candidate_id, value, uncertainty, date, notes, source, round, recorded_unix,"
            " outcome, reason, replaces, source_row, recorded_by, property)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r["candidate_id"], None if r["value"] is None else float(r["value"]), r.get("uncertainty"),
              r.get("date"), r.get("notes"), r["source"], int(r["round"]), now, str(r.get("outcome", "measured")),
              r.get("reason"), r.get("replaces"), r.get("source_row"), user, r.get("property")) for r in rows],
        )
        return len(rows)

    def measurements(self, property_name: str | None = None) -> pd.DataFrame:
        """The current measured values of one property (None: the campaign's target), one row per
        measurement (replicates are separate rows): measurement_id, candidate_id, identity, smiles,
        value, uncertainty, date, notes, source, round."""
        return self._frame(
            "SELECT m.id AS measurement_id, m.candidate_id, mol.identity, mol.smiles, m.value, m.uncertainty, m.date,"
            " m.notes, m.source, m.round FROM measurements m JOIN molecules mol USING (candidate_id)"
            f" WHERE m.outcome = 'measured' AND m.property IS ? AND {_current('m')} ORDER BY m.id", (property_name,)
        )

    def failed_experiments(self) -> pd.DataFrame:
        """The current failed experiments of molecules with no current value: measurement_id,
        candidate_id, identity, smiles, reason, date, notes, round (one row per molecule, its latest)."""
        return self._frame(
            "SELECT m.id AS measurement_id, m.candidate_id, mol.identity, mol.smiles, m.reason, m.date, m.notes, m.round"
            f" FROM measurements m JOIN molecules mol USING (candidate_id) WHERE m.outcome = 'failed' AND {_current('m')}"
            " AND m.id = (SELECT MAX(f.id) FROM measurements f WHERE f.candidate_id = m.candidate_id"
            f"             AND f.outcome = 'failed' AND {_current('f')})"
            " AND NOT EXISTS (SELECT 1 FROM measurements v WHERE v.candidate_id = m.candidate_id"
            f"                AND v.outcome = 'measured' AND v.property IS NULL AND {_current('v')})"
            " ORDER BY m.candidate_id"
        )

    def history(self) -> pd.DataFrame:
        """Every record ever stored, oldest first, with its molecule and fate: measurement_id,
        candidate_id, identity, smiles, property (empty: the target), outcome, value, uncertainty,
        date, notes, reason, replaces, replaced_by, current, round, source, source_row,
        recorded_by, recorded_at (UTC, ISO 8601)."""
        frame = self._frame(
            "SELECT m.id AS measurement_id, m.candidate_id, mol.identity, mol.smiles, COALESCE(m.property, '') AS property,"
            " m.outcome, m.value,"
            " m.uncertainty, m.date, m.notes, m.reason, m.replaces,"
            " (SELECT later.id FROM measurements later WHERE later.replaces = m.id) AS replaced_by,"
            f" ({_current('m')}) AS current, m.round, m.source, m.source_row, m.recorded_by, m.recorded_unix"
            " FROM measurements m JOIN molecules mol USING (candidate_id) ORDER BY m.id"
        )
        frame["current"] = frame["current"].astype(bool)
        for column in ("replaces", "replaced_by", "source_row"):
            frame[column] = frame[column].astype("Int64")
        stamps = pd.to_datetime(frame.pop("recorded_unix"), unit="s", utc=True)
        frame["recorded_at"] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        return frame

    def n_records(self) -> int:
        """Records stored so far: any new measurement, failure, correction or retraction changes it."""
        return int(self._db.execute("SELECT COUNT(*) FROM measurements").fetchone()[0])

    def has_records(self, round_number: int) -> bool:
        """Whether any record (current or not) answers round `round_number` (0: seed data)."""
        return self._db.execute("SELECT 1 FROM measurements WHERE round = ? LIMIT 1", (round_number,)).fetchone() is not None

    def measured_molecules(self, property_name: str | None = None) -> pd.DataFrame:
        """One row per molecule measured for a property (None: the campaign's target), current
        replicates averaged: candidate_id, smiles, identity, value, round (of its first
        measurement), n_measurements; ordered by candidate_id."""
        return self.measurements(property_name).groupby("candidate_id", sort=True).agg(
            smiles=("smiles", "first"), identity=("identity", "first"), value=("value", "mean"),
            round=("round", "min"), n_measurements=("value", "size"),
        ).reset_index()

    # -- rounds -------------------------------------------------------------------------------
    def rounds(self) -> pd.DataFrame:
        return self._frame("SELECT * FROM rounds ORDER BY round")

    def latest_round(self) -> RoundRecord | None:
        row = self._db.execute(
            "SELECT round, status, config_hash, n_measured, best_value FROM rounds ORDER BY round DESC LIMIT 1"
        ).fetchone()
        return None if row is None else RoundRecord(int(row[0]), RoundStatus(row[1]), row[2], int(row[3]), row[4])

    def start_round(self, round_number: int, config_hash: str, n_measured: int, best_value: float) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO rounds (round, status, config_hash, n_measured, best_value, started_unix) VALUES (?, ?, ?, ?, ?, ?)",
                (round_number, RoundStatus.STARTED.value, config_hash, n_measured, best_value, time.time()),
            )
            self._event(db, round_number, "round_started", f"round {round_number} started with {n_measured} measured")

    def _advance(self, round_number: int, status: RoundStatus, db: sqlite3.Connection) -> None:
        """Move the round on to `status`; a step redone on resume does not move it back."""
        row = db.execute("SELECT status FROM rounds WHERE round = ?", (round_number,)).fetchone()
        if row is None:
            raise ValueError(f"round {round_number} was never started")
        if RoundStatus(row[0]).reached(status):
            return
        finished = time.time() if status is RoundStatus.PROPOSED else None
        db.execute("UPDATE rounds SET status = ?, finished_unix = ? WHERE round = ?", (status.value, finished, round_number))

    # -- fits ---------------------------------------------------------------------------------
    def record_fit(self, round_number: int, config_hash: str, data_hash: str, path: str, seconds: float,
                   diagnostics: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO fits VALUES (?, ?, ?, ?, ?, ?)",
                       (round_number, config_hash, data_hash, path, seconds, json.dumps(diagnostics, default=_jsonable)))
            self._advance(round_number, RoundStatus.FITTED, db)
            self._event(db, round_number, "model_fitted", f"model fitted in {seconds:.0f} s", {"path": path})

    def fit(self, round_number: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM fits WHERE round = ?", (round_number,)).fetchone()
        if row is None:
            return None
        out = dict(zip(self._columns("fits"), row))
        out["diagnostics"] = json.loads(out.pop("diagnostics_json"))
        return out

    # -- pool ---------------------------------------------------------------------------------
    def record_pool(self, round_number: int, molecules: Sequence[tuple[str, str, str, str]], summary: dict[str, Any]) -> None:
        """Register the round's pool (rows as in `register_molecules`) and its generation summary."""
        with self.transaction() as db:
            ids = self.register_molecules(molecules, round_number, db)
            db.execute("DELETE FROM pool WHERE round = ?", (round_number,))
            db.executemany("INSERT INTO pool VALUES (?, ?)", [(round_number, cid) for cid in dict.fromkeys(ids.values())])
            db.execute("INSERT OR REPLACE INTO pool_summaries VALUES (?, ?)", (round_number, json.dumps(summary, default=_jsonable)))
            self._advance(round_number, RoundStatus.POOLED, db)
            self._event(db, round_number, "pool_generated", f"{len(ids)} candidates in the pool")

    def pool(self, round_number: int) -> pd.DataFrame:
        """The round's candidates: candidate_id, identity, smiles, origin, parent."""
        return self._frame(
            "SELECT mol.candidate_id, mol.identity, mol.smiles, mol.origin, mol.parent FROM pool p"
            " JOIN molecules mol USING (candidate_id) WHERE p.round = ? ORDER BY mol.candidate_id", (round_number,),
        )

    def pool_summary(self, round_number: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT summary_json FROM pool_summaries WHERE round = ?", (round_number,)).fetchone()
        return None if row is None else json.loads(row[0])

    # -- proposals ----------------------------------------------------------------------------
    def record_proposals(self, round_number: int, table: pd.DataFrame) -> None:
        """Store the round's proposals (the `PROPOSALS` table, then any further properties'
        columns, numbers) and close the round."""
        PROPOSALS.check(table)
        extras = [c for c in table.columns if c not in PROPOSALS.names]
        rows = [
            (round_number, int(r["rank"]), r["candidate_id"], float(r["mean"]), float(r["lower_90"]),
             float(r["upper_90"]), float(r["prob_beat_best"]), _float_or_none(r["prob_feasible"]),
             _float_or_none(r["acquisition_value"]), str(r["nearest_measured_id"]), float(r["nearest_similarity"]),
             int(bool(r["outside_domain"])),
             json.dumps({c: _float_or_none(r[c]) for c in extras}) if extras else None)
            for _, r in table.iterrows()
        ]
        columns = ", ".join(("round", *_STORED_PROPOSAL_COLUMNS, "properties_json"))
        with self.transaction() as db:
            db.execute("DELETE FROM proposals WHERE round = ?", (round_number,))
            db.executemany(f"INSERT INTO proposals ({columns}) VALUES ({', '.join('?' * (2 + len(_STORED_PROPOSAL_COLUMNS)))})",
                           rows)
            self._advance(round_number, RoundStatus.PROPOSED, db)
            self._event(db, round_number, "proposed", f"{len(rows)} candidates proposed")

    def proposals(self, round_number: int | None = None) -> pd.DataFrame:
        """The `PROPOSALS` table of one round (or all, with a `round` column), plus `identity`, then
        the further properties' columns (`campaign.properties`) where there are any."""
        query = (
            "SELECT p.*, mol.smiles, mol.identity, near.smiles AS nearest_measured_smiles FROM proposals p"
            " JOIN molecules mol USING (candidate_id)"
            " LEFT JOIN molecules near ON near.candidate_id = p.nearest_measured_id"
        )
        if round_number is None:
            frame = self._frame(query + " ORDER BY p.round, p.rank")
        else:
            frame = self._frame(query + " WHERE p.round = ? ORDER BY p.rank", (round_number,))
        stored = frame.pop("properties_json")
        extras = pd.DataFrame([json.loads(v) if isinstance(v, str) else {} for v in stored], index=frame.index)
        return pd.concat([frame, extras.astype(float)], axis=1) if len(extras.columns) else frame

    # -- failures and events ------------------------------------------------------------------
    def record_failures(self, rows: Iterable[tuple[str, str, str, str]], round_number: int) -> None:
        """Molecules that could not be used: (identity, smiles, stage, reason)."""
        rows = [(*r, round_number) for r in rows]
        if rows:
            with self.transaction() as db:
                db.executemany("INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?)", rows)

    def failures(self) -> pd.DataFrame:
        return self._frame("SELECT * FROM failures ORDER BY round, identity")

    def log_event(self, kind: str, message: str, round_number: int | None = None, data: dict[str, Any] | None = None,
                  db: sqlite3.Connection | None = None) -> None:
        """Record an event; pass `db` to join an open transaction."""
        if db is None:
            with self.transaction() as conn:
                self._event(conn, round_number, kind, message, data)
        else:
            self._event(db, round_number, kind, message, data)

    def events(self) -> pd.DataFrame:
        return self._frame("SELECT * FROM events ORDER BY id")

    # -- helpers ------------------------------------------------------------------------------
    def _event(self, db: sqlite3.Connection, round_number: int | None, kind: str, message: str,
               data: dict[str, Any] | None = None) -> None:
        db.execute(
            "INSERT INTO events (at_unix, round, kind, message, data_json) VALUES (?, ?, ?, ?, ?)",
            (time.time(), round_number, kind, message, json.dumps(data or {}, default=_jsonable)),
        )

    def _columns(self, table: str) -> list[str]:
        return [row[1] for row in self._db.execute(f"PRAGMA table_info({table})")]

    def _frame(self, query: str, params: tuple = ()) -> pd.DataFrame:
        cursor = self._db.execute(query, params)
        return pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _upgrade(db: sqlite3.Connection, version: int, path: Path) -> None:
    """Bring a campaign file of an older schema to `SCHEMA_VERSION`, inside the caller's transaction."""
    if version not in (0, 2) or not {"measurements", "proposals"} <= _tables(db):
        raise ValueError(f"{path} is not a campaign state file this version of discovery knows (schema {version})")
    if version == 2:  # 2 -> 3: records name their property, proposals gain their further properties
        db.execute("ALTER TABLE measurements ADD COLUMN property TEXT")
        db.execute("ALTER TABLE proposals ADD COLUMN properties_json TEXT")
        return
    # 1 (user_version 0) -> 3: measurements become the append-only record (value may be NULL, so
    # the table is rebuilt: SQLite cannot drop a NOT NULL); proposals gain prob_feasible and
    # properties_json
    db.execute("ALTER TABLE measurements RENAME TO measurements_v1")
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO measurements (id, candidate_id, value, uncertainty, date, notes, source, round,"
               " recorded_unix) SELECT id, candidate_id, value, uncertainty, date, notes, source, round, recorded_unix"
               " FROM measurements_v1")
    db.execute("DROP TABLE measurements_v1")
    db.execute("ALTER TABLE proposals ADD COLUMN prob_feasible REAL")
    db.execute("ALTER TABLE proposals ADD COLUMN properties_json TEXT")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container's unnamed uid)
        return "unknown"


def _float_or_none(value: Any) -> float | None:
    value = float(value)
    return None if value != value else value  # NaN (e.g. random strategy) is stored as NULL


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
