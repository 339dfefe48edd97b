"""Reading a dataset file and checking its columns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.paths import resolve_input_file


def load_table(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The dataset as a DataFrame indexed 0..n-1 by row position (CSV; .tsv and .parquet too)."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        path = resolve_input_file(source, "dataset file")
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
    return frame.reset_index(drop=True)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: no column(s) {missing} in the dataset (columns: {list(frame.columns)})")


def numeric_column(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
    """Column as float; missing cells become NaN; any other non-numeric cell raises ValueError."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    text = raw.astype("string").str.strip()
    present = raw.notna() & (text.fillna("") != "")
    bad = present & (values.isna() | np.isinf(values))
    if bad.any():
        rows = list(frame.index[bad][:10])
        examples = [str(raw[r]) for r in rows[:5]]
        raise ValueError(
            f"{what} column {column!r} has {int(bad.sum())} non-numeric value(s) at rows {rows} "
            f"(e.g. {examples}); fix or remove them"
        )
    return values
