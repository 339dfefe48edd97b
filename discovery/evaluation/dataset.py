"""A dataset loaded, featurised once and reduced to its usable rows.

Row bookkeeping: `Dataset.table` holds only the usable rows (a numeric target and featurisation
status "ok"), indexed by the row's 0-based position in the source file. Splits hold positions
into `Dataset.table` (0 .. len(table)-1); `make_splits(..., "indices", train=..., test=...)`
takes *file* rows and maps them. `predictions.csv` reports file rows in its `row` column.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.evaluation.loading import load_table, numeric_column, require_columns
from discovery.evaluation.metrics import json_safe
from discovery.evaluation.precomputed import precomputed_features
from discovery.features import QMSettings, descriptor_names, featurize
from discovery.features.categories import CATEGORY_NAMES
from discovery.features.featurize import STATUS_OK
from discovery.features.qm import DESCRIPTORS
from discovery.paths import resolve_input_file

#: Drop reason for rows without a target value.
REASON_MISSING_TARGET = "missing_target"


@dataclass
class Dataset:
    """A dataset ready for evaluation.

    Attributes:
        table: Usable rows only (numeric target, featurisation status "ok"), featurised: the
            `featurize` columns (`input` is the SMILES as written in the file, `smiles` the
            standardised one). Index: 0-based row position in the source file.
        y: Target values of `table`'s rows, float array.
        sigma_all: Population standard deviation (ddof=0) of the target over every row of the
            file that has a target value (before featurisation drops), the σ_all of
            `rmse_over_sigma_all`.
        descriptors: The continuous descriptor columns of `table` (QM or precomputed).
        categories: The 0/1 chemical-category columns of `table` (computed, or the dataset's own).
        n_rows: Rows in the source file.
        dropped: Reason -> number of rows dropped ("missing_target", or a featurisation status
            such as "invalid", "failed", "timeout", "missing_descriptor", "undefined_category").
        dropped_rows: One row per dropped file row (index: file row): `smiles`, `reason`, `error`.
        source, smiles_col, target_col, feature_kind ("qm" or "precomputed"), qm (settings dict
        for "qm"), featurize_stats (`featurize`'s counts).
    """

    table: pd.DataFrame
    y: np.ndarray
    sigma_all: float
    descriptors: list[str]
    n_rows: int
    dropped: dict[str, int]
    dropped_rows: pd.DataFrame
    source: str
    smiles_col: str
    target_col: str
    feature_kind: str
    qm: dict[str, Any] | None = None
    featurize_stats: dict[str, Any] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)

    @property
    def n_usable(self) -> int:
        return len(self.table)

    def file_rows(self, positions: np.ndarray) -> np.ndarray:
        """File rows of positions into `table`."""
        return self.table.index.to_numpy()[np.asarray(positions, dtype=np.int64)]

    def summary(self, max_examples: int = 20) -> dict[str, Any]:
        """JSON-safe description (for metrics.json)."""
        identities = self.table["identity"] if "identity" in self.table else pd.Series(dtype=str)
        examples = [
            {"row": int(r), "smiles": str(d["smiles"]), "reason": str(d["reason"]), "error": str(d["error"])}
            for r, d in self.dropped_rows.head(max_examples).iterrows()
        ]
        return json_safe({
            "path": self.source, "smiles_col": self.smiles_col, "target_col": self.target_col,
            "n_rows": self.n_rows, "n_usable": self.n_usable, "sigma_all": self.sigma_all,
            "target_min": float(self.y.min()) if len(self.y) else None,
            "target_max": float(self.y.max()) if len(self.y) else None,
            "n_duplicate_molecules": int(identities.duplicated().sum()),
            "features": self.feature_kind, "descriptors": list(self.descriptors),
            "categories": list(self.categories), "qm": self.qm,
            "dropped": dict(self.dropped), "dropped_examples": examples, "featurize": self.featurize_stats,
        })  # fmt: skip

    def describe_drops(self, max_messages: int = 3) -> list[str]:
        """Human-readable lines: rows dropped per reason with the commonest messages."""
        lines = []
        for reason, count in self.dropped.items():
            errors = Counter(e for e in self.dropped_rows.loc[self.dropped_rows["reason"] == reason, "error"] if e)
            common = "; ".join(f"{msg} (x{k})" for msg, k in errors.most_common(max_messages))
            lines.append(f"dropped {count} row(s): {reason}" + (f" - {common}" if common else ""))
        return lines


def prepare_dataset(
    source: str | Path | pd.DataFrame,
    smiles_col: str = "smiles",
    target_col: str = "y",
    *,
    descriptors: Sequence[str] | None = None,
    categories: bool = True,
    category_columns: Sequence[str] | None = None,
    qm: Any = "fast",
    cache: Any = "default",
    n_workers: int | None = None,
    dask_client: Any | None = None,
    progress: bool = True,
    features: pd.DataFrame | None = None,
) -> Dataset:
    """Load a dataset, featurise it once, and keep the usable rows.

    Args:
        source: CSV path (or .tsv / .parquet), or a DataFrame (rows are numbered 0..n-1 in order).
        smiles_col: Column of SMILES / polymer PSMILES.
        target_col: Column of the numeric target. Rows with no value are dropped (counted as
            "missing_target"); any non-numeric value raises ValueError.
        descriptors: Use these dataset columns as the descriptors instead of computing
            GFN2-xTB descriptors ("precomputed" features).
        categories: Include chemical-category columns computed from the SMILES (no QM), unless
            the dataset gives its own (`category_columns`).
        category_columns: Use these dataset columns as the chemical categories (0/1; an empty
            or NaN cell means undefined, and its row is dropped as "undefined_category"); with
            `descriptors` only.
        qm: `QMSettings` or a preset name, for computed descriptors.
        cache, n_workers, dask_client, progress: Passed to `featurize`.
        features: An already featurised table (`featurize`'s output for this dataset's SMILES,
            indexed by file row or in file order); skips featurisation entirely.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: missing columns, non-numeric target/descriptor values, no usable rows.
    """
    if category_columns is not None and (descriptors is None or features is not None):
        raise ValueError("category_columns (the dataset's own categories) need precomputed descriptors (descriptors=)")
    raw = load_table(source)
    source_name = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(resolve_input_file(source, "dataset file"))
    require_columns(raw, [smiles_col, target_col], "dataset")
    target = numeric_column(raw, target_col, "target")
    has_target = target.notna()
    n_rows = len(raw)
    if not has_target.any():
        raise ValueError(f"target column {target_col!r} has no values")
    sigma_all = float(np.std(target[has_target].to_numpy(), ddof=0))
    smiles = raw.loc[has_target, smiles_col]

    settings_dict: dict[str, Any] | None = None
    stats: dict[str, Any] = {}
    if features is not None:
        table = features.copy()
        if len(table) == n_rows and not table.index.equals(raw.index):
            table.index = raw.index
        missing = raw.index[has_target].difference(table.index)
        if len(missing):
            raise ValueError(f"`features` has no rows for file rows {list(missing[:10])}")
        table = table.loc[raw.index[has_target]]
        require_columns(table, ["smiles", "status", "error"], "features")
        if descriptors is not None:
            names = list(descriptors)
            require_columns(table, names, "features")
        else:
            names = [d.name for d in DESCRIPTORS if d.name in table.columns]
        kind = "precomputed" if descriptors is not None else "qm"
        if "input" not in table:
            table.insert(0, "input", raw.loc[table.index, smiles_col])
    elif descriptors is not None:
        names = list(descriptors)
        if not names:
            raise ValueError("descriptors=[] names no columns; list the dataset's descriptor columns")
        require_columns(raw, names, "precomputed features")
        if target_col in names:
            raise ValueError(f"the target column {target_col!r} cannot also be a descriptor")
        given = None
        if category_columns is not None:
            require_columns(raw, list(category_columns), "precomputed categories")
            if target_col in category_columns:
                raise ValueError(f"the target column {target_col!r} cannot also be a category")
            given = raw.loc[has_target, list(category_columns)]
        table = precomputed_features(smiles, raw.loc[has_target, names], categories=categories, category_values=given)
        kind = "precomputed"
    else:
        settings = QMSettings(preset=qm or "fast") if isinstance(qm, str) or qm is None else qm
        settings_dict = dataclasses.asdict(settings)
        table = featurize(smiles, settings, cache=cache, n_workers=n_workers, dask_client=dask_client, progress=progress)
        stats = dict(table.attrs.get("featurize", {}))
        names = descriptor_names(settings)
        kind = "qm"
    if category_columns is not None:
        category_names = list(category_columns)
    elif categories:
        category_names = [c for c in CATEGORY_NAMES if c in table.columns]
    else:
        category_names = []
        table = table.drop(columns=[c for c in CATEGORY_NAMES if c in table.columns])

    # Bookkeeping of what is dropped and why.
    ok = (table["status"] == STATUS_OK).to_numpy()
    drops = []
    for row in raw.index[~has_target]:
        drops.append((row, raw.at[row, smiles_col], REASON_MISSING_TARGET, f"no value in {target_col!r}"))
    for row, status, err in zip(table.index[~ok], table["status"][~ok], table["error"][~ok], strict=True):
        drops.append((row, raw.at[row, smiles_col], str(status), str(err)))
    dropped_rows = pd.DataFrame(drops, columns=["row", "smiles", "reason", "error"]).set_index("row").sort_index()
    dropped = dict(Counter(dropped_rows["reason"]).most_common())

    usable = table.loc[ok].copy()
    usable.index.name = "row"
    if usable.empty:
        raise ValueError(f"no usable rows in {source_name}: " + ", ".join(f"{k}: {v}" for k, v in dropped.items()))
    return Dataset(
        table=usable, y=target.loc[usable.index].to_numpy(dtype=float), sigma_all=sigma_all,
        descriptors=names, n_rows=n_rows, dropped=dropped, dropped_rows=dropped_rows, source=source_name,
        smiles_col=smiles_col, target_col=target_col, feature_kind=kind, qm=settings_dict, featurize_stats=stats,
        categories=category_names,
    )  # fmt: skip
