"""Files exchanged with the wet lab: proposals go out, measured values come back.

Column convention (one file makes the whole round trip):

- `write_proposals` writes `round_NNN.csv` (and `round_NNN.xlsx`) with one row per proposal:
  the columns of `discovery.tables.PROPOSALS` with `target` after `smiles`, any extra columns the
  caller passed, then four empty columns for the lab: `value, uncertainty, date, notes`. `target` repeats the measured property's name on every row, so the file says what
  `value` means without a comment line that would break CSV readers.
- The lab fills `value` (and optionally `uncertainty` as an SD in property units, `date` as
  YYYY-MM-DD, `notes`) and sends the same file back; `read_results` reads it unchanged. Rows left
  without a value were not measured and are skipped.
- A campaign with further measured properties (`campaign.properties`) adds, for each, the columns
  `<name>_measured` and `<name>_uncertainty` for the lab. A row may give any of the values: each
  one given is stored, the others stay pending. `status`, `reason` and `measurement_id` are about
  `value` (the target), except that a retraction naming a record retracts it, whatever its
  property, and a correction corrects each value the row gives. An experiment that failed has `status`
  "failed" and a `reason` ("decomposed"), no value. Rows may be added for molecules that were
  not proposed: give their SMILES/PSMILES and leave `candidate_id` empty.
- Any results file may also correct or retract a stored measurement: `action` "correct" (with
  the right value, or status failed) or "retract", a `reason`, and a `measurement_id` when the
  molecule has several (see `discovery.campaign.ledger`). A `confirmed` column (yes) lets a value
  through that the plausibility check would refuse.

`read_results` validates the whole file before returning anything and raises `ResultsFileError`
listing every problem by spreadsheet row number (header = row 1), so a bad file stores nothing.

Every cell written (`write_proposals`, `write_table`) is spreadsheet-safe: text that a spreadsheet
would run as a formula (starting with = + - @ or a tab / carriage return) is written with a
leading apostrophe, as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import logging
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from discovery.campaign.ledger import STORED_COLUMNS, Action, IngestRules, Outcome, ResultRow, plan
from discovery.chem.molecule import Molecule, MoleculeError, parse_molecule
from discovery.files import atomic_write
from discovery.tables import PROPOSALS

log = logging.getLogger(__name__)

#: Empty columns added for the lab to fill; `read_results` reads them back.
LAB_COLUMNS: tuple[str, ...] = ("value", "uncertainty", "status", "reason", "date", "notes")
#: Columns a results file may add to correct, retract or confirm (not written in proposal files).
EDIT_COLUMNS: tuple[str, ...] = ("action", "measurement_id", "confirmed")
#: Column holding the measured property's name on every row.
TARGET_COLUMN = "target"
#: Suffixes of a further measured property's lab columns: `<name>_measured`, `<name>_uncertainty`.
MEASURED_SUFFIX, UNCERTAINTY_SUFFIX = "_measured", "_uncertainty"


def lab_columns(property_name: str) -> tuple[str, str]:
    """The columns the lab fills for a further measured property: its value and its SD."""
    return f"{property_name}{MEASURED_SUFFIX}", f"{property_name}{UNCERTAINTY_SUFFIX}"
#: Larger results files are refused before they are read: a campaign's round has tens of rows.
MAX_FILE_BYTES = 50_000_000
#: Data rows a results file may have (split a larger one).
MAX_ROWS = 100_000
#: Problems listed in one message (the count of the rest follows).
MAX_PROBLEMS_SHOWN = 50

_SIGNIFICANT_FIGURES = 4
_REL_TOL = 1e-9  # two values this close are the same measurement
_MAX_WIDTH = 60  # xlsx column width cap, in characters
# A spreadsheet runs a cell starting with these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0"}
_STATUS = {"": Outcome.MEASURED, "ok": Outcome.MEASURED, "measured": Outcome.MEASURED, "failed": Outcome.FAILED}
_ACTIONS = {"": Action.MEASURE, "measure": Action.MEASURE, "correct": Action.CORRECT, "retract": Action.RETRACT}
_SEPARATORS = {".csv": ",", ".tsv": "\t"}
_NOT_UTF8 = "not UTF-8 text; save the file as CSV UTF-8"
# Strict on purpose: float() also accepts "1_000", "infinity" and surrounding junk.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ResultsFileError(ValueError):
    """A results file that cannot be ingested.

    Attributes:
        problems: Every problem found, e.g. "row 7: value 'abc' is not a number"; file-level
            problems (encoding, columns) have no row number.
        path: The file, when known.
    """

    def __init__(self, problems: Sequence[str], path: Path | None = None) -> None:
        # a hostile file's control characters (terminal escapes) are shown escaped, never sent to a terminal
        self.problems = [_printable(p) for p in problems]
        self.path = path
        where = f"{path.name}: " if path is not None else ""
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        lines = "\n".join(f"  - {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN])
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            lines += f"\n  - ... and {len(self.problems) - MAX_PROBLEMS_SHOWN} more"
        super().__init__(f"{where}{count}, nothing ingested:\n{lines}")


# --------------------------------------------------------------------------- proposals out


def write_proposals(
    proposals: pd.DataFrame, directory: Path, round_number: int, *, target: str,
    measured_properties: Sequence[str] = (), xlsx: bool = True,
) -> list[Path]:
    """Write one round's proposals for the lab as `round_NNN.csv` and, optionally, `.xlsx`.

    Args:
        proposals: One row per proposal with the `PROPOSALS` columns; other columns are kept
            after them. Rows are written in the given order.
        directory: Where to write (created if missing). Existing files of the round are
            replaced atomically: readers never see a half-written file.
        round_number: Round number, written zero-padded to three digits.
        target: Name of the measured property, written in the `target` column.
        measured_properties: Further properties the lab measures: each adds the empty columns
            `lab_columns(name)` after the lab's own.
        xlsx: Also write the Excel file (bold header, fitted column widths, frozen header row).

    Returns:
        The written paths, CSV first.

    Raises:
        ValueError: on missing proposal columns, columns that clash with the lab's columns, a
            negative round number or an empty target name.
    """
    PROPOSALS.check(proposals)
    further = [c for name in measured_properties for c in lab_columns(name)]
    reserved = set(LAB_COLUMNS) | {TARGET_COLUMN} | {_normalise_header(c) for c in further}
    clash = [str(c) for c in proposals.columns if _normalise_header(c) in reserved]
    if clash:
        raise ValueError(f"proposals must not have column(s) {', '.join(clash)}: they are written for the lab")
    if round_number < 0:
        raise ValueError(f"round_number must be >= 0, got {round_number}")
    if not target.strip():
        raise ValueError("target must name the measured property")

    extras = [c for c in proposals.columns if c not in PROPOSALS.names]
    table = proposals[[*PROPOSALS.names, *extras]].copy()
    for column in table.columns:
        if pd.api.types.is_float_dtype(table[column]):
            table[column] = table[column].map(_round_significant)
    table.insert(PROPOSALS.names.index("smiles") + 1, TARGET_COLUMN, target)
    for column in (*LAB_COLUMNS, *further):
        table[column] = None

    stem = f"round_{round_number:03d}"
    return write_table(table, Path(directory) / f"{stem}.csv", xlsx=xlsx)


def write_table(table: pd.DataFrame, path: Path, *, xlsx: bool = False) -> list[Path]:
    """Write `table` as CSV (UTF-8) at `path` and, optionally, as `.xlsx` beside it, atomically
    and spreadsheet-safe (no cell runs as a formula). Returns the written paths, CSV first."""
    table = table.rename(columns=lambda c: safe_cell(str(c))).map(safe_cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    paths = [atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8"))]
    if xlsx:
        xlsx_path = path.with_suffix(".xlsx")
        paths.append(atomic_write(xlsx_path, lambda tmp: _write_xlsx(table, tmp, sheet=path.stem[:31])))
    return paths


def safe_cell(value: object) -> object:
    """`value`, or for text a spreadsheet would run as a formula, the same text after an apostrophe.
    A carriage return becomes a line break: the CSV writer quotes cells with line breaks, but a bare
    carriage return would start a new row in a spreadsheet, whose first cell could be a formula."""
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def _round_significant(x: float) -> float:
    if not math.isfinite(x):
        return x
    return float(f"{x:.{_SIGNIFICANT_FIGURES}g}")


def _write_xlsx(table: pd.DataFrame, path: Path, *, sheet: str) -> None:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    header = [str(c) for c in table.columns]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in header]
    for values in table.itertuples(index=False, name=None):
        cells = [_xlsx_cell(v) for v in values]
        ws.append(cells)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # openpyxl takes text starting with "=" as a formula
                cell.data_type = "s"
        widths = [max(w, len(str(c)) if c is not None else 0) for w, c in zip(widths, cells)]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(width + 2, _MAX_WIDTH)
    ws.freeze_panes = "A2"
    workbook.save(path)


def _xlsx_cell(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):  # control characters a worksheet cannot hold
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    # NaN, None, pd.NA and NaT become empty cells.
    return None if pd.api.types.is_scalar(value) and pd.isna(value) else value


# --------------------------------------------------------------------------- results in


def read_results(
    path: Path, *, candidates: pd.DataFrame, measured: pd.DataFrame, rules: IngestRules = IngestRules(),
    properties: Sequence[str] = (),
) -> tuple[list[ResultRow], int]:
    """Read and validate a results file sent back by the lab.

    Accepts `.csv` and `.tsv` (UTF-8, with or without BOM) and `.xlsx` (first sheet), up to
    `MAX_FILE_BYTES` and `MAX_ROWS` data rows. Column names are case-insensitive, surrounding
    whitespace is ignored and inner spaces or hyphens count as `_` ("Candidate ID" is
    `candidate_id`; `psmiles` is accepted for `smiles`). Needed: `value` and at least one of
    `candidate_id` / `smiles`; optional: `uncertainty` (SD, property units), `status` (empty, ok
    or failed), `reason`, `date` (YYYY-MM-DD), `notes`, `action` (empty, correct or retract),
    `measurement_id` and `confirmed` (yes/no); for each further measured property in
    `properties`, `<name>_measured` and `<name>_uncertainty` (`lab_columns`); any other column
    (the proposal columns, the lab's own) is ignored.

    A row identifies its molecule by `candidate_id`, by SMILES/PSMILES, or by both (which must
    then be the same molecule). A SMILES that is not a known candidate is a new molecule the lab
    chose to measure: it is accepted with `candidate_id` None. A row gives one record per value it
    holds (the target's `value`, each further property's); rows with no value (and no status
    failed nor action) were not measured and are skipped (counted in the log).

    Repeats: one file may give each molecule only once (average replicates first), unless its
    rows correct or retract different `measurement_id`s. What a row does to the stored records
    (replicates, corrections, retractions, the plausibility check, files ingested twice) is
    `discovery.campaign.ledger.plan`.

    Args:
        path: The results file.
        candidates: Known candidates, columns `candidate_id`, `smiles`, `identity`.
        measured: Every stored record (`CampaignStore.history()`), columns `ledger.STORED_COLUMNS`.
        rules: Physical limits (of the target), the plausibility check and confirmation.
        properties: The campaign's further measured properties, by name.

    Returns:
        The records to store (one per value, failure, correction or retraction), and how many
        were skipped as already stored.

    Raises:
        ResultsFileError: listing every problem found in the file; nothing is returned then.
        ValueError: if `candidates` or `measured` lack their columns.
    """
    path = Path(path)
    _require_columns(candidates, ("candidate_id", "smiles", "identity"), "candidates")
    _require_columns(measured, STORED_COLUMNS, "measured")

    rows = _read_rows(path)
    header_row, header = next(((n, cells) for n, cells in rows if not _is_blank(cells)), (None, None))
    if header is None:
        raise ResultsFileError(["the file is empty: expected a header row with value and candidate_id or smiles"], path)
    columns = _map_columns(header, path, properties)

    by_id = {
        str(cid): (str(smiles), str(identity))
        for cid, smiles, identity in candidates[["candidate_id", "smiles", "identity"]].itertuples(index=False)
    }
    id_by_identity: dict[str, str] = {}
    for cid, (_, identity) in by_id.items():
        id_by_identity.setdefault(identity, cid)

    problems: list[str] = []
    accepted: list[ResultRow] = []
    first_row: dict[tuple[str, int | None], ResultRow] = {}
    n_results = n_unmeasured = 0
    for number, cells in rows:
        if number <= header_row or _is_blank(cells):
            continue
        results = _read_row(number, cells, columns, rules, properties, by_id, id_by_identity, problems)
        if results is None:
            n_unmeasured += 1
            continue
        n_results += 1
        for result in results:
            key = (result.identity, result.property_name, result.measurement_id if result.action is not Action.MEASURE else None)
            earlier = first_row.get(key)
            if earlier is None:
                first_row[key] = result
                accepted.append(result)
            elif earlier.value is not None and result.value is not None and not _same_value(earlier.value, result.value):
                of = f" of {result.property_name}" if result.property_name else ""
                problems.append(
                    f"conflicting repeat: rows {earlier.row} and {number} give {earlier.value:.10g} and "
                    f"{result.value:.10g}{of} for {result.name} (average replicates into one row, or send them in "
                    "separate files)"
                )
            else:
                shown = f"{result.value:.10g}" if result.value is not None else result.outcome.value
                shown = f"{result.property_name} {shown}" if result.property_name else shown
                problems.append(f"row {number} repeats row {earlier.row} ({result.name}, {shown})")

    if n_results == 0 and not problems:
        problems.append("no measured values: every row has an empty value column")
    if problems:
        raise ResultsFileError(problems, path)
    new, already, problems = plan(accepted, measured, rules)
    if problems:
        raise ResultsFileError(problems, path)
    if n_unmeasured:
        log.info("%s: %d row(s) without a value (not measured) skipped", path.name, n_unmeasured)
    return new, already


def _read_row(number: int, cells: list[object], columns: dict[str, int], rules: IngestRules,
              properties: Sequence[str], by_id: dict[str, tuple[str, str]], id_by_identity: dict[str, str],
              problems: list[str]) -> list[ResultRow] | None:
    """The row's records (the target's, then each further property's it gives); None for a row
    that was not measured; an empty list after adding its problems."""
    names = ("candidate_id", "smiles", *LAB_COLUMNS, *EDIT_COLUMNS,
             *(c for name in properties for c in lab_columns(name)))
    field = {name: _cell(cells, columns, _normalise_header(name)) for name in names}
    row_problems: list[str] = []
    action = _choice(field["action"], _ACTIONS, "action", row_problems)
    outcome = _choice(field["status"], _STATUS, "status", row_problems)
    reason = _text(field["reason"]) or None
    further = _further_values(field, properties, rules, row_problems)
    target_given = not _is_empty(field["value"]) or action is not Action.MEASURE or outcome is not Outcome.MEASURED
    if not target_given and not row_problems:
        if not _is_empty(field["uncertainty"]):
            problems.append(f"row {number}: uncertainty given but value is empty")
            return []
        if not further:
            return None

    value = None
    if not _is_empty(field["value"]):
        value = _parse_value(field["value"], "value", rules.limits, "the property's physical limits",
                             "campaign.target_min/target_max", row_problems)
        if outcome is Outcome.FAILED or action is Action.RETRACT:
            what = "a failed experiment" if outcome is Outcome.FAILED else "a retraction"
            row_problems.append(f"{what} has no value: leave value empty")
    elif action is Action.CORRECT and outcome is Outcome.MEASURED and not further:
        row_problems.append("a correction needs the right value, or status failed")
    if action is Action.RETRACT:
        outcome = Outcome.RETRACTED
        if not _is_empty(field["status"]):
            row_problems.append("a retraction has no status: leave status empty")
        if further:
            row_problems.append(f"a retraction has no value: leave {', '.join(lab_columns(n)[0] for n in further)} "
                                "empty (a record of a further property is retracted by its measurement_id)")
    if reason is None and (outcome is not Outcome.MEASURED or action is not Action.MEASURE):
        what = {Action.CORRECT: "a correction", Action.RETRACT: "a retraction"}.get(action, "a failed experiment")
        row_problems.append(f"{what} needs a reason (e.g. 'typo' or 'decomposed on drying')")
    uncertainty = _parse_sd(field["uncertainty"], "uncertainty", row_problems)
    measurement_id = None
    if not _is_empty(field["measurement_id"]):
        text = _text(field["measurement_id"])
        acted_on = (not _is_empty(field["value"]) or outcome is Outcome.FAILED) + len(further)
        if not text.isdigit():
            row_problems.append(f"measurement_id {text!r} is not a measurement number")
        elif action is Action.MEASURE:
            row_problems.append("measurement_id is only for action correct or retract")
        elif action is Action.CORRECT and acted_on > 1:
            row_problems.append("a measurement_id names one record: correct one property per row")
        else:
            measurement_id = int(text)
    confirmed = _choice(field["confirmed"], {**dict.fromkeys(_YES, True), **dict.fromkeys(_NO, False), "": False},
                        "confirmed", row_problems)
    date = _parse_date(field["date"], row_problems)
    molecule = _resolve(_text(field["candidate_id"]), _text(field["smiles"]), by_id, id_by_identity, row_problems)
    if row_problems or molecule is None:
        problems.extend(f"row {number}: {p}" for p in row_problems)
        return []
    candidate_id, smiles, identity = molecule
    shared = dict(row=number, candidate_id=candidate_id, smiles=smiles, identity=identity, date=date,
                  notes=_text(field["notes"]) or None, action=action, confirmed=bool(confirmed))
    rows = []
    # a correction giving only further properties' values leaves the target alone
    if target_given and not (action is Action.CORRECT and value is None and outcome is Outcome.MEASURED):
        rows.append(ResultRow(**shared, value=value, uncertainty=uncertainty, outcome=outcome, reason=reason,
                              measurement_id=measurement_id))
    for name, (further_value, sd) in further.items():
        rows.append(ResultRow(**shared, value=further_value, uncertainty=sd, property_name=name,
                              reason=reason if action is Action.CORRECT else None,
                              measurement_id=None if rows else measurement_id))
    return rows


def _further_values(field: dict[str, object], properties: Sequence[str], rules: IngestRules,
                    problems: list[str]) -> dict[str, tuple[float, float | None]]:
    """{property: (value, uncertainty)} of the further measured properties the row gives."""
    given = {}
    for name in properties:
        value_column, sd_column = lab_columns(name)
        if _is_empty(field[value_column]):
            if not _is_empty(field[sd_column]):
                problems.append(f"{sd_column} given but {value_column} is empty")
            continue
        value = _parse_value(field[value_column], value_column, rules.property_limits.get(name, (None, None)),
                             f"{name}'s physical limits", "campaign.properties: minimum/maximum", problems)
        sd = _parse_sd(field[sd_column], sd_column, problems)
        if value is not None:  # a bad SD has its problem listed: the row is refused whole
            given[name] = (value, sd)
    return given


def _choice(raw: object, choices: dict[str, object], column: str, problems: list[str]) -> object:
    """The meaning of a cell that holds one of a few words (case-insensitive)."""
    text = _text(raw).lower()
    if text not in choices:
        words = ", ".join(repr(w) for w in choices if w)
        problems.append(f"{column} {_text(raw)!r} is not one of {words} (or empty)")
        return next(iter(choices.values()))
    return choices[text]


def _cell(cells: list[object], columns: dict[str, int], name: str) -> object:
    """The row's cell in column `name`; None when the file has no such column or the row is short."""
    index = columns.get(name)
    return cells[index] if index is not None and index < len(cells) else None


def _require_columns(frame: pd.DataFrame, needed: Sequence[str], name: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {', '.join(missing)}")


def _read_rows(path: Path) -> list[tuple[int, list[object]]]:
    """All rows of the file with their spreadsheet row numbers (1-based, blank rows included)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx_rows(path)
    if suffix not in _SEPARATORS:
        raise ResultsFileError([f"unsupported file type {path.suffix!r}: send .csv (UTF-8), .tsv or .xlsx"], path)
    _check_size(path)
    data = path.read_bytes()
    # UTF-16 text is mostly valid UTF-8 byte-wise; its NUL bytes give it away.
    if b"\x00" in data:
        raise ResultsFileError([_NOT_UTF8], path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ResultsFileError([_NOT_UTF8], path) from None
    try:
        # Excel shows each CSV record (even one with a quoted line break) as one row.
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_SEPARATORS[suffix])
        return _numbered(reader, path)
    except csv.Error as exc:
        raise ResultsFileError([f"not a readable CSV file: {exc}"], path) from None


def _read_xlsx_rows(path: Path) -> list[tuple[int, list[object]]]:
    _check_size(path)
    try:
        # read_only streams the sheet; data_only: a formula's computed value, never the formula
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ResultsFileError([f"not a readable .xlsx file ({exc})"], path) from None
    except Exception as exc:  # a hostile workbook can break the XML parser in many ways
        raise ResultsFileError([f"not a readable .xlsx file ({type(exc).__name__}: {exc})"], path) from None
    try:
        if not workbook.worksheets:
            raise ResultsFileError(["the workbook has no sheet"], path)
        return _numbered((list(values) for values in workbook.worksheets[0].iter_rows(values_only=True)), path)
    except ResultsFileError:
        raise
    except Exception as exc:
        raise ResultsFileError([f"not a readable .xlsx file ({type(exc).__name__}: {exc})"], path) from None
    finally:
        workbook.close()


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ResultsFileError([f"the file is {size / 1e6:.0f} MB; a results file may have at most "
                                f"{MAX_FILE_BYTES / 1e6:.0f} MB (a round has tens of rows: is it the right file?)"], path)


def _numbered(rows: Iterable[list[object]], path: Path) -> list[tuple[int, list[object]]]:
    """The rows with their spreadsheet numbers (1-based); refuses more than `MAX_ROWS` + a header."""
    numbered = list(itertools.islice(enumerate(rows, start=1), MAX_ROWS + 2))
    if len(numbered) > MAX_ROWS + 1:
        raise ResultsFileError([f"the file has more than {MAX_ROWS} rows; a results file may have at most "
                                f"{MAX_ROWS} (split it, or is it the right file?)"], path)
    return numbered


def _normalise_header(name: object) -> str:
    key = re.sub(r"[\s\-]+", "_", _text(name).lower())
    return "smiles" if key == "psmiles" else key


def _map_columns(header: list[object], path: Path, properties: Sequence[str] = ()) -> dict[str, int]:
    """Column name -> index for the columns `read_results` uses."""
    further = [_normalise_header(c) for name in properties for c in lab_columns(name)]
    wanted = ("candidate_id", "smiles", *LAB_COLUMNS, *EDIT_COLUMNS, *further)
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        key = _normalise_header(name)
        if key in wanted:
            positions.setdefault(key, []).append(index)
    problems = [
        f"column {key!r} appears more than once (columns {', '.join(get_column_letter(i + 1) for i in found)})"
        for key, found in positions.items()
        if len(found) > 1
    ]
    # a file of failures or retractions only may have no value column
    if not ({"value", "status", "action", *further} & positions.keys()) or not ({"candidate_id", "smiles"} & positions.keys()):
        found = ", ".join(repr(_text(h)) for h in header if not _is_empty(h)) or "none"
        hint = ""
        if len(header) == 1 and any(sep in _text(header[0]) for sep in ";\t"):
            hint = "; the file looks separated by ';' or tabs, save it as comma-separated CSV"
        problems.append(
            f"missing column(s): expected 'value' (or 'status' / 'action') and at least one of 'candidate_id', "
            f"'smiles'; found {found}{hint}"
        )
    if problems:
        raise ResultsFileError(problems, path)
    return {key: found[0] for key, found in positions.items()}


def _resolve(
    candidate_id: str,
    smiles: str,
    by_id: dict[str, tuple[str, str]],
    id_by_identity: dict[str, str],
    problems: list[str],
) -> tuple[str | None, str, str] | None:
    """(candidate_id, smiles, identity) of a row's molecule, or None after adding the problem."""
    if not candidate_id and not smiles:
        problems.append("value given but neither candidate_id nor smiles")
        return None
    if candidate_id:
        if candidate_id not in by_id:
            problems.append(f"unknown candidate_id {candidate_id!r}")
            return None
        known_smiles, identity = by_id[candidate_id]
        # The file we wrote repeats the candidate's SMILES verbatim: no need to parse it again.
        if smiles and smiles != known_smiles:
            molecule = _parse(smiles, problems)
            if molecule is None:
                return None
            if molecule.identity != identity:
                problems.append(
                    f"candidate_id {candidate_id} is {known_smiles} but the smiles column has {smiles!r}, "
                    "a different molecule"
                )
                return None
        return candidate_id, known_smiles, identity
    molecule = _parse(smiles, problems)
    if molecule is None:
        return None
    known = id_by_identity.get(molecule.identity)
    if known is not None:
        return known, by_id[known][0], molecule.identity
    return None, molecule.smiles, molecule.identity


def _parse(smiles: str, problems: list[str]) -> Molecule | None:
    try:
        return parse_molecule(smiles)
    except MoleculeError as exc:
        problems.append(f"SMILES {smiles!r} cannot be used: {exc.reason}")
        return None


def within(value: float, limits: tuple[float | None, float | None]) -> bool:
    """Whether `value` lies inside the (inclusive) limits; None is no limit."""
    low, high = limits
    return (low is None or value >= low) and (high is None or value <= high)


def format_limits(limits: tuple[float | None, float | None]) -> str:
    low, high = limits
    return f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"


def _parse_value(raw: object, column: str, limits: tuple[float | None, float | None], what: str, setting: str,
                 problems: list[str]) -> float | None:
    """A measured value: a number within the property's physical `limits` (`what`, set by `setting`)."""
    value = _parse_number(raw, column, problems)
    if value is not None and not within(value, limits):
        problems.append(f"{column} {_text(raw)!r} is outside {what} {format_limits(limits)} ({setting})")
        return None
    return value


def _parse_sd(raw: object, column: str, problems: list[str]) -> float | None:
    """A measurement's SD, >= 0; None when the cell is empty or bad (then with its problem)."""
    if _is_empty(raw):
        return None
    sd = _parse_number(raw, column, problems)
    if sd is not None and sd < 0:
        problems.append(f"{column} {_text(raw)!r} is negative")
        return None
    return sd


def _parse_number(raw: object, column: str, problems: list[str]) -> float | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        number = float(raw)
    else:
        text = _text(raw)
        if _DECIMAL_COMMA.fullmatch(text):
            problems.append(f"{column} {text!r} is not a number (use a decimal point and no thousands separator)")
            return None
        if _NON_FINITE.fullmatch(text):
            problems.append(f"{column} {text!r} is not a finite number")
            return None
        if not _NUMBER.fullmatch(text):
            problems.append(f"{column} {text!r} is not a number")
            return None
        number = float(text)
    if not math.isfinite(number):
        problems.append(f"{column} {_text(raw)!r} is not a finite number")
        return None
    return number


def _parse_date(raw: object, problems: list[str]) -> str | None:
    if _is_empty(raw):
        return None
    # Excel turns a typed date into a date cell.
    if isinstance(raw, (dt.date, dt.datetime)):
        return (raw.date() if isinstance(raw, dt.datetime) else raw).isoformat()
    text = _text(raw)
    if _ISO_DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    problems.append(f"date {text!r} is not a date written YYYY-MM-DD")
    return None


def _same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_TOL)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def _text(raw: object) -> str:
    if raw is None:
        return ""
    # An id typed as a number comes back from Excel as 12.0.
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _is_empty(raw: object) -> bool:
    return _text(raw) == ""


def _is_blank(cells: list[object]) -> bool:
    return all(_is_empty(c) for c in cells)
