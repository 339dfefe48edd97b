"""Files exchanged with the wet lab: proposals go out, measured values come back.

Column convention (one file makes the whole round trip):

- `write_proposals` writes `round_NNN.csv` (and `round_NNN.xlsx`) with one row per proposal:
  the columns of `discovery.tables.PROPOSALS` with `target` after `smiles`, any extra columns the
  caller passed, then four empty columns for the lab: `value, uncertainty, date, notes`. `target` repeats the measured property's name on every row, so the file says what
  `value` means without a comment line that would break CSV readers.
- The lab fills `value` (and optionally `uncertainty`, `date` as YYYY-MM-DD, `notes`) and sends
  the same file back; `read_results` reads it unchanged. Rows left without a value were not
  measured and are skipped. Rows may be added for molecules that were not proposed: give their
  SMILES/PSMILES and leave `candidate_id` empty.

`read_results` validates the whole file before returning anything and raises `ResultsFileError`
listing every problem by spreadsheet row number (header = row 1), so a bad file stores nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from discovery.chem.molecule import Molecule, MoleculeError, parse_molecule
from discovery.files import atomic_write
from discovery.tables import PROPOSALS

log = logging.getLogger(__name__)

#: Empty columns added for the lab to fill; `read_results` reads them back.
LAB_COLUMNS: tuple[str, ...] = ("value", "uncertainty", "date", "notes")
#: Column holding the measured property's name on every row.
TARGET_COLUMN = "target"

_SIGNIFICANT_FIGURES = 4
_REL_TOL = 1e-9  # two values this close are the same measurement
_MAX_WIDTH = 60  # xlsx column width cap, in characters
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
        self.problems = list(problems)
        self.path = path
        where = f"{path.name}: " if path is not None else ""
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{where}{count}, nothing ingested:\n{lines}")


@dataclass(frozen=True)
class ResultRow:
    """One validated measurement from a results file.

    Attributes:
        row: Row number as a spreadsheet shows it (header is row 1, first data row is row 2).
        candidate_id: The known candidate measured, or None for a molecule that was not proposed.
        smiles: The candidate's SMILES/PSMILES, or the canonical one for an unknown molecule.
        identity: `Molecule.identity` (InChIKey, or `polymer:<PSMILES>`).
        value: Measured value.
        uncertainty: Measurement uncertainty (>= 0) if given.
        date: Measurement date as YYYY-MM-DD if given.
        notes: Free text if given.
    """

    row: int
    candidate_id: str | None
    smiles: str
    identity: str
    value: float
    uncertainty: float | None
    date: str | None
    notes: str | None


# --------------------------------------------------------------------------- proposals out


def write_proposals(
    proposals: pd.DataFrame, directory: Path, round_number: int, *, target: str, xlsx: bool = True
) -> list[Path]:
    """Write one round's proposals for the lab as `round_NNN.csv` and, optionally, `.xlsx`.

    Args:
        proposals: One row per proposal with the `PROPOSALS` columns; other columns are kept
            after them. Rows are written in the given order.
        directory: Where to write (created if missing). Existing files of the round are
            replaced atomically: readers never see a half-written file.
        round_number: Round number, written zero-padded to three digits.
        target: Name of the measured property, written in the `target` column.
        xlsx: Also write the Excel file (bold header, fitted column widths, frozen header row).

    Returns:
        The written paths, CSV first.

    Raises:
        ValueError: on missing proposal columns, columns that clash with the lab's columns, a
            negative round number or an empty target name.
    """
    PROPOSALS.check(proposals)
    reserved = set(LAB_COLUMNS) | {TARGET_COLUMN}
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
    for column in LAB_COLUMNS:
        table[column] = None

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"round_{round_number:03d}"
    paths = [directory / f"{stem}.csv"]
    atomic_write(paths[0], lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8"))
    if xlsx:
        paths.append(directory / f"{stem}.xlsx")
        atomic_write(paths[1], lambda tmp: _write_xlsx(table, tmp, sheet=stem))
    return paths


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
        widths = [max(w, len(str(c)) if c is not None else 0) for w, c in zip(widths, cells)]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(width + 2, _MAX_WIDTH)
    ws.freeze_panes = "A2"
    workbook.save(path)


def _xlsx_cell(value: object) -> object:
    if isinstance(value, np.generic):
        value = value.item()
    # NaN, None, pd.NA and NaT become empty cells.
    return None if pd.api.types.is_scalar(value) and pd.isna(value) else value


# --------------------------------------------------------------------------- results in


def read_results(
    path: Path, *, candidates: pd.DataFrame, measured: pd.DataFrame,
    limits: tuple[float | None, float | None] = (None, None),
) -> tuple[list[ResultRow], int]:
    """Read and validate a results file sent back by the lab.

    Accepts `.csv` and `.tsv` (UTF-8, with or without BOM) and `.xlsx` (first sheet). Column
    names are case-insensitive, surrounding whitespace is ignored and inner spaces or hyphens
    count as `_` ("Candidate ID" is `candidate_id`; `psmiles` is accepted for `smiles`). Needed:
    `value` and at least one of `candidate_id` / `smiles`; `uncertainty`, `date` (YYYY-MM-DD) and
    `notes` are optional; any other column (the proposal columns, the lab's own) is ignored.

    A row identifies its molecule by `candidate_id`, by SMILES/PSMILES, or by both (which must
    then be the same molecule). A SMILES that is not a known candidate is a new molecule the lab
    chose to measure: it is accepted with `candidate_id` None. Rows with an empty `value` were not
    measured and are skipped (counted in the log).

    Repeats: one file may give each molecule only once (average replicates first). A new value
    for a molecule that already has stored measurements is a replicate and is returned; a value
    equal (within 1e-9 relative) to a stored one for the same molecule is skipped, so ingesting
    the same file twice stores nothing the second time.

    Args:
        path: The results file.
        candidates: Known candidates, columns `candidate_id`, `smiles`, `identity`.
        measured: Stored measurements, columns `identity`, `value` (several rows per identity
            allowed).
        limits: The property's physical (min, max), None for no limit: a value outside them is a
            problem of its row.

    Returns:
        The new rows to store, and how many rows were skipped as already stored.

    Raises:
        ResultsFileError: listing every problem found in the file; nothing is returned then.
        ValueError: if `candidates` or `measured` lack their columns.
    """
    path = Path(path)
    _require_columns(candidates, ("candidate_id", "smiles", "identity"), "candidates")
    _require_columns(measured, ("identity", "value"), "measured")

    rows = _read_rows(path)
    header_row, header = next(((n, cells) for n, cells in rows if not _is_blank(cells)), (None, None))
    if header is None:
        raise ResultsFileError(["the file is empty: expected a header row with value and candidate_id or smiles"], path)
    columns = _map_columns(header, path)

    by_id = {
        str(cid): (str(smiles), str(identity))
        for cid, smiles, identity in candidates[["candidate_id", "smiles", "identity"]].itertuples(index=False)
    }
    id_by_identity: dict[str, str] = {}
    for cid, (_, identity) in by_id.items():
        id_by_identity.setdefault(identity, cid)

    problems: list[str] = []
    accepted: list[ResultRow] = []
    first_row: dict[str, ResultRow] = {}
    n_values = n_unmeasured = 0
    for number, cells in rows:
        if number <= header_row or _is_blank(cells):
            continue

        field = {name: _cell(cells, columns, name) for name in ("candidate_id", "smiles", *LAB_COLUMNS)}
        if _is_empty(field["value"]):
            if not _is_empty(field["uncertainty"]):
                problems.append(f"row {number}: uncertainty given but value is empty")
            n_unmeasured += 1
            continue
        n_values += 1
        row_problems: list[str] = []
        value = _parse_number(field["value"], "value", row_problems)
        if value is not None and not within(value, limits):
            row_problems.append(f"value {_text(field['value'])!r} is outside the property's physical limits "
                                f"{format_limits(limits)} (campaign.target_min/target_max)")
            value = None
        uncertainty = None
        if not _is_empty(field["uncertainty"]):
            uncertainty = _parse_number(field["uncertainty"], "uncertainty", row_problems)
            if uncertainty is not None and uncertainty < 0:
                row_problems.append(f"uncertainty {_text(field['uncertainty'])!r} is negative")
                uncertainty = None
        date = _parse_date(field["date"], row_problems)
        molecule = _resolve(_text(field["candidate_id"]), _text(field["smiles"]), by_id, id_by_identity, row_problems)
        if row_problems or value is None or molecule is None:
            problems.extend(f"row {number}: {p}" for p in row_problems)
            continue

        candidate_id, smiles, identity = molecule
        notes = _text(field["notes"]) or None
        result = ResultRow(number, candidate_id, smiles, identity, value, uncertainty, date, notes)
        earlier = first_row.get(identity)
        if earlier is None:
            first_row[identity] = result
            accepted.append(result)
        elif _same_value(earlier.value, value):
            problems.append(f"row {number} repeats row {earlier.row} ({candidate_id or smiles}, {value:.10g})")
        else:
            problems.append(
                f"conflicting repeat: rows {earlier.row} and {number} give {earlier.value:.10g} and {value:.10g} "
                f"for {candidate_id or smiles} (average replicates into one row, or send them in separate files)"
            )

    if n_values == 0:
        problems.append("no measured values: every row has an empty value column")
    if problems:
        raise ResultsFileError(problems, path)

    stored: dict[str, list[float]] = {}
    for identity, value in measured[["identity", "value"]].itertuples(index=False):
        if pd.notna(value):
            stored.setdefault(str(identity), []).append(float(value))
    new = [r for r in accepted if not any(_same_value(r.value, v) for v in stored.get(r.identity, ()))]
    if n_unmeasured:
        log.info("%s: %d row(s) without a value (not measured) skipped", path.name, n_unmeasured)
    return new, len(accepted) - len(new)


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
        return list(enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=_SEPARATORS[suffix]), start=1))
    except csv.Error as exc:
        raise ResultsFileError([f"not a readable CSV file: {exc}"], path) from None


def _read_xlsx_rows(path: Path) -> list[tuple[int, list[object]]]:
    try:
        workbook = load_workbook(path, data_only=True)  # data_only: a formula's computed value
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ResultsFileError([f"not a readable .xlsx file ({exc})"], path) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(min_row=1, values_only=True)
    return [(number, list(values)) for number, values in enumerate(rows, start=1)]


def _normalise_header(name: object) -> str:
    key = re.sub(r"[\s\-]+", "_", _text(name).lower())
    return "smiles" if key == "psmiles" else key


def _map_columns(header: list[object], path: Path) -> dict[str, int]:
    """Column name -> index for the columns `read_results` uses."""
    wanted = ("candidate_id", "smiles", *LAB_COLUMNS)
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
    if "value" not in positions or not ({"candidate_id", "smiles"} & positions.keys()):
        found = ", ".join(repr(_text(h)) for h in header if not _is_empty(h)) or "none"
        hint = ""
        if len(header) == 1 and any(sep in _text(header[0]) for sep in ";\t"):
            hint = "; the file looks separated by ';' or tabs, save it as comma-separated CSV"
        problems.append(
            f"missing column(s): expected 'value' and at least one of 'candidate_id', 'smiles'; found {found}{hint}"
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
