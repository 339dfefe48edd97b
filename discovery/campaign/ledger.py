"""What a validated results row does to the stored measurements, and whether its value is plausible.

The store never deletes nor edits a measurement: every row of a results file adds a record, and a
correction or retraction names the record it replaces (`replaces`). The records nobody replaced
are the current ones, which the model uses. Each record is of one property, the campaign's target
or a further measured property (`campaign.properties`), and a row acts on the records of its own
property only. `plan` checks each row against the stored records:

- a new measurement (or failed experiment) equal to one already recorded for the molecule is
  skipped, so ingesting a file twice stores nothing the second time, even after a correction;
- `correct` / `retract` replace the molecule's one current record, or the one named in
  `measurement_id` when it has several (replicates); a retraction naming a record retracts it,
  whatever its property; a record already replaced cannot be replaced again (correct its
  correction instead);
- a value far outside everything measured (more than `plausible_ranges` times the measured range
  beyond it) is refused unless the row or the whole ingest is confirmed: `1e308` for a
  permittivity is a typo until someone says it is not.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

_REL_TOL = 1e-9  # two values this close are the same measurement

#: Columns `plan` reads from the stored records (`CampaignStore.history()`).
STORED_COLUMNS = ("measurement_id", "identity", "property", "outcome", "value", "reason", "replaces", "current")


class Action(str, enum.Enum):
    """What a results row does."""

    MEASURE = "measure"  # a new measurement or failed experiment (the default: an empty cell)
    CORRECT = "correct"  # replaces a stored record by this row's value or failure
    RETRACT = "retract"  # withdraws a stored record; the molecule counts as not measured


class Outcome(str, enum.Enum):
    """What a stored record says about its molecule."""

    MEASURED = "measured"
    FAILED = "failed"  # could not be made or measured; `reason` says why
    RETRACTED = "retracted"  # withdraws the record it replaces


@dataclass(frozen=True)
class IngestRules:
    """How strict ingest is about values.

    Attributes:
        limits: The target's physical (min, max), None for no limit; outside them is a typo.
        property_limits: The same for further measured properties, by name (absent: none).
        plausible_ranges: A value more than this many measured ranges beyond the lowest or highest
            current value needs confirming; None: no plausibility check.
        confirm: Every value of the file is confirmed (`confirm=true` on the command line).
    """

    limits: tuple[float | None, float | None] = (None, None)
    property_limits: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    plausible_ranges: float | None = None
    confirm: bool = False


@dataclass(frozen=True)
class ResultRow:
    """One validated row of a results file.

    Attributes:
        row: Row number as a spreadsheet shows it (header is row 1, first data row is row 2).
        candidate_id: The known candidate measured, or None for a molecule that was not proposed.
        smiles: The candidate's SMILES/PSMILES, or the canonical one for an unknown molecule.
        identity: `Molecule.identity` (InChIKey, or `polymer:<PSMILES>`).
        value: Measured value; None for a failed experiment or a retraction.
        uncertainty: Measurement uncertainty (SD, >= 0, property units) if given.
        date: Measurement date as YYYY-MM-DD if given.
        notes: Free text if given.
        action: What the row does.
        outcome: `MEASURED`, `FAILED`, or `RETRACTED` (for a retraction).
        reason: Why: a failure's cause, a correction's or retraction's reason.
        measurement_id: The stored record a correction or retraction names (None: the molecule's
            only current one); after `plan`, the record it replaces.
        confirmed: The lab confirmed an implausible-looking value.
        property_name: The further measured property the value is of; None: the campaign's target.
    """

    row: int
    candidate_id: str | None
    smiles: str
    identity: str
    value: float | None
    uncertainty: float | None
    date: str | None
    notes: str | None
    action: Action = Action.MEASURE
    outcome: Outcome = Outcome.MEASURED
    reason: str | None = None
    measurement_id: int | None = None
    confirmed: bool = False
    property_name: str | None = None

    @property
    def name(self) -> str:
        return self.candidate_id or self.smiles

    @property
    def key(self) -> str:
        """The stored records' `property` this row acts on ("" for the target)."""
        return self.property_name or ""

    @property
    def what(self) -> str:
        """The value's name in messages: "value" (the target) or the property's name."""
        return self.property_name or "value"


def plan(rows: list[ResultRow], stored: pd.DataFrame, rules: IngestRules) -> tuple[list[ResultRow], int, list[str]]:
    """The records to add for `rows` given the `stored` ones (`STORED_COLUMNS`).

    Returns the rows to store (corrections and retractions with `measurement_id` set to the record
    they replace), how many rows were already stored, and the problems found (by row).
    """
    records = {int(r.measurement_id): r for r in stored.itertuples(index=False)}
    by_molecule: dict[tuple[str, str], list] = {}
    for record in records.values():
        by_molecule.setdefault((str(record.identity), str(record.property)), []).append(record)
    replaced_by = {int(r.replaces): r for r in records.values() if pd.notna(r.replaces)}

    new: list[ResultRow] = []
    problems: list[str] = []
    for row in rows:
        if row.action is Action.RETRACT and row.measurement_id in records:
            row = replace(row, property_name=str(records[row.measurement_id].property) or None)
        history = by_molecule.get((row.identity, row.key), [])
        if row.action is Action.MEASURE:
            if not any(_same(row, r) for r in history if r.outcome != Outcome.RETRACTED):
                new.append(row)
            continue
        target, problem = _target(row, history, records, replaced_by)
        if problem:
            problems.append(f"row {row.row}: {problem}")
        elif target is not None:
            new.append(replace(row, measurement_id=target))
    problems += _implausible(new, stored, rules)
    return new, len(rows) - len(new), problems


def _target(row: ResultRow, history: list, records: dict, replaced_by: dict) -> tuple[int | None, str | None]:
    """(the record a correction or retraction replaces, None) or (None, the problem); (None, None)
    when the row is already stored."""
    verb = row.action.value
    if row.measurement_id is not None:
        record = records.get(row.measurement_id)
        if record is None or str(record.identity) != row.identity:
            whose = "" if record is None else " of another molecule"
            return None, f"measurement_id {row.measurement_id} is not a stored measurement{whose} of {row.name}"
        if str(record.property) != row.key:
            return None, (f"measurement_id {row.measurement_id} is a record of {record.property or 'the target'}, "
                          f"but the row corrects {row.property_name or 'the target (value)'}")
        successor = replaced_by.get(row.measurement_id)
        if successor is None:
            return row.measurement_id, None
        if _same(row, successor):
            return None, None  # this correction or retraction is stored already
        return None, (f"measurement {row.measurement_id} of {row.name} was already "
                      f"{_done(successor)} by measurement {int(successor.measurement_id)}; {verb} that one instead")
    current = [r for r in history if bool(r.current)]
    if len(current) == 1:
        if row.action is Action.CORRECT and _same(row, current[0]):
            return None, None
        return int(current[0].measurement_id), None
    if not current:
        if any(r.outcome == Outcome.RETRACTED for r in history) and row.action is Action.RETRACT:
            return None, None
        of = f" of {row.property_name}" if row.property_name else ""
        hint = "" if row.property_name else " (a record of a further property is retracted by its measurement_id)"
        return None, f"{row.name} has no stored measurement{of} to {verb}{hint}"
    ids = ", ".join(str(int(r.measurement_id)) for r in current)
    return None, (f"{row.name} has {len(current)} current measurements (ids {ids}): say which one to {verb} in a "
                  "measurement_id column (the audit file lists them)")


def _same(row: ResultRow, record) -> bool:
    """Whether a stored record already says what the row says."""
    if row.outcome != record.outcome:
        return False
    if row.outcome == Outcome.MEASURED:
        return math.isclose(row.value, float(record.value), rel_tol=_REL_TOL)
    return row.outcome == Outcome.RETRACTED or _words(row.reason) == _words(record.reason)


def _words(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def _done(record) -> str:
    return "retracted" if record.outcome == Outcome.RETRACTED else "corrected"


def _implausible(rows: list[ResultRow], stored: pd.DataFrame, rules: IngestRules) -> list[str]:
    """Problems of unconfirmed values more than `rules.plausible_ranges` measured ranges beyond
    the current values of their property (those this file replaces left out)."""
    if rules.plausible_ranges is None or rules.confirm:
        return []
    replaced = {r.measurement_id for r in rows if r.action is not Action.MEASURE}
    current = stored[stored["current"].astype(bool) & (stored["outcome"] == Outcome.MEASURED)
                     & ~stored["measurement_id"].isin(replaced)]
    problems = []
    for key, values in current.groupby("property")["value"]:
        problems += _beyond([r for r in rows if r.key == key], values.astype(float), rules)
    return problems


def _beyond(rows: list[ResultRow], values: pd.Series, rules: IngestRules) -> list[str]:
    """Problems of the unconfirmed `rows` whose values lie too far beyond the current `values` of their property."""
    if values.nunique() < 2:
        return []
    low, high = float(values.min()), float(values.max())
    span = high - low
    problems = []
    for row in rows:
        if row.value is None or row.confirmed:
            continue
        beyond = max(row.value - high, low - row.value) / span
        if beyond > rules.plausible_ranges:
            side = "above the highest" if row.value > high else "below the lowest"
            problems.append(
                f"row {row.row}: {row.what} {row.value:.6g} for {row.name} lies {beyond:.3g} measured ranges {side} measured "
                f"value (measured values span {low:.6g} to {high:.6g}; more than {rules.plausible_ranges:g} ranges "
                "looks like a typo); if it is right, write yes in a 'confirmed' column of the row, or ingest with "
                "confirm=true"
            )
    return problems
