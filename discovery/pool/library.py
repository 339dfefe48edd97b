"""User library: candidates read from a CSV or SMILES file (e.g. a vendor catalogue), streamed.

* `.csv` (or `.tsv`): the SMILES column named by `smiles_column`.
* `.smi` / `.smiles` / `.txt`: the first whitespace-separated token of each line; blank lines
  and lines starting with `#` are skipped.

Rows are yielded one at a time, so catalogues of millions of lines are never held in memory.
A bad row (empty cell, unparsable SMILES) is proposed as it is and rejected by the pool with
its reason; only an unreadable file or a missing column stops generation.
"""

from __future__ import annotations

import csv
from pathlib import Path

from discovery.paths import resolve_input_file
from discovery.pool.proposal import Proposal, Proposer
from discovery.pool.settings import LibrarySettings

_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_LINE_SUFFIXES = {".smi", ".smiles", ".txt"}


def library_file(settings: LibrarySettings) -> Path:
    """The library file, checked before generation starts.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: for an unknown suffix or a CSV without the SMILES column.
    """
    assert settings.path is not None
    path = resolve_input_file(settings.path, "candidate library")
    suffix = path.suffix.lower()
    if suffix in _TABLE_SUFFIXES:
        with path.open(newline="") as handle:
            header = next(csv.reader(handle, delimiter=_TABLE_SUFFIXES[suffix]), [])
        if settings.smiles_column not in header:
            raise ValueError(
                f"candidate library {path}: no column {settings.smiles_column!r} "
                f"(columns: {', '.join(header) or 'none'}); set pool.library.smiles_column"
            )
    elif suffix not in _LINE_SUFFIXES:
        raise ValueError(
            f"candidate library {path}: unknown file type {suffix!r}; "
            f"use one of {', '.join(sorted([*_TABLE_SUFFIXES, *_LINE_SUFFIXES]))}"
        )
    return path


def library_proposals(path: Path, smiles_column: str) -> Proposer:
    """Yield every row of the library as a proposal with origin "library" and no parent."""
    suffix = path.suffix.lower()
    with path.open(newline="") as handle:
        if suffix in _TABLE_SUFFIXES:
            for row in csv.DictReader(handle, delimiter=_TABLE_SUFFIXES[suffix]):
                yield Proposal((row.get(smiles_column) or "").strip(), "library", "")
        else:
            for line in handle:
                text = line.strip()
                if text and not text.startswith("#"):
                    yield Proposal(text.split()[0], "library", "")
