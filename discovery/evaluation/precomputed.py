"""Descriptor (and category) columns the user already has, shaped like `featurize`'s output."""

from __future__ import annotations

import numpy as np
import pandas as pd

from discovery.chem import MoleculeError, parse_molecules
from discovery.evaluation.loading import numeric_column
from discovery.features.categories import CATEGORY_NAMES, category_frame
from discovery.features.featurize import META_COLUMNS, STATUS_COLUMNS, STATUS_INVALID, STATUS_OK

#: Row status for precomputed features with a missing / non-finite descriptor value.
STATUS_MISSING_DESCRIPTOR = "missing_descriptor"
#: Row status for a molecule with an undefined (empty / NaN) cell in a given category column.
STATUS_UNDEFINED_CATEGORY = "undefined_category"


def precomputed_features(
    smiles: pd.Series,
    values: pd.DataFrame,
    *,
    categories: bool = True,
    category_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A `featurize`-shaped table from descriptor (and category) columns the user already has.

    SMILES are standardised with `discovery.chem.parse_molecules` (status "invalid" when that
    fails); chemical categories are computed from them (no QM) unless `categories=False` or the
    dataset gives its own (`category_values`). Rows with a missing descriptor value get status
    "missing_descriptor", rows with an undefined category "undefined_category": Shimakawa et
    al.'s code turns every category and interaction term of such a molecule into NaN, which
    their PLS cannot fit or predict, so the molecule is left out here too (their category choice
    still counts it, as present in both levels; here it is out of that choice as well).

    Args:
        smiles: SMILES / PSMILES, indexed like `values`.
        values: The descriptor columns (numeric; missing cells allowed).
        categories: Add the computed `CATEGORY_NAMES` columns (when `category_values` is None).
        category_values: The dataset's own category columns: 0/1, empty or NaN where undefined.

    Returns:
        Columns `input, smiles, identity, is_polymer`, the descriptor columns, the category
        columns (computed: -1 for invalid rows; given: float 0/1, NaN where undefined),
        `status, error, note`; indexed like `smiles`.
    """
    given = [] if category_values is None else list(category_values.columns)
    computed = categories and category_values is None
    reserved = (*META_COLUMNS, *STATUS_COLUMNS, *(CATEGORY_NAMES if computed else ()))
    clash = [c for c in [*values.columns, *given] if c in reserved]
    if clash:
        raise ValueError(f"column name(s) {clash} clash with columns the featurised table reserves")
    both = [c for c in given if c in values.columns]
    if both:
        raise ValueError(f"column(s) {both} cannot be both a descriptor and a category")
    texts = list(smiles)
    keys = [t if isinstance(t, str) else repr(t) for t in texts]
    distinct = list(dict.fromkeys(keys))
    first = {k: t for k, t in zip(keys, texts, strict=True)}
    parsed = dict(zip(distinct, parse_molecules([first[k] for k in distinct]), strict=True))
    valid = {k: m for k, m in parsed.items() if not isinstance(m, MoleculeError)}

    meta = pd.DataFrame(index=smiles.index)
    meta["input"] = texts
    meta["smiles"] = [valid[k].smiles if k in valid else "" for k in keys]
    meta["identity"] = [valid[k].identity if k in valid else "" for k in keys]
    meta["is_polymer"] = [valid[k].is_polymer if k in valid else False for k in keys]

    numbers = pd.DataFrame({c: numeric_column(values, c, "descriptor") for c in values.columns}, index=values.index)
    parts = [meta, numbers]
    given_flags = pd.DataFrame({c: _category_column(category_values, c) for c in given}, index=smiles.index)
    if given:
        parts.append(given_flags)
    if computed:
        by_identity = {m.identity: m for m in valid.values()}
        identities = list(by_identity)
        table = category_frame([by_identity[i] for i in identities]) if identities else pd.DataFrame(columns=list(CATEGORY_NAMES))
        lookup = dict(zip(identities, table.to_numpy(), strict=True))
        invalid = np.full(len(CATEGORY_NAMES), -1)
        flags = np.array([lookup[valid[k].identity] if k in valid else invalid for k in keys]).reshape(len(keys), -1)
        parts.append(pd.DataFrame(flags, index=smiles.index, columns=list(CATEGORY_NAMES)).astype("int8"))

    status, error = [], []
    finite = np.isfinite(numbers.to_numpy(dtype=float))
    undefined = given_flags.isna().to_numpy()
    for i, key in enumerate(keys):
        if key not in valid:
            status.append(STATUS_INVALID)
            error.append(parsed[key].reason)
        elif not finite[i].all():
            status.append(STATUS_MISSING_DESCRIPTOR)
            error.append("no value for " + ", ".join(c for c, ok in zip(values.columns, finite[i], strict=True) if not ok))
        elif undefined[i].any():
            status.append(STATUS_UNDEFINED_CATEGORY)
            error.append("undefined category " + ", ".join(c for c, u in zip(given, undefined[i], strict=True) if u))
        else:
            status.append(STATUS_OK)
            error.append("")
    parts.append(pd.DataFrame({"status": status, "error": error, "note": ""}, index=smiles.index))
    return pd.concat(parts, axis=1)


def _category_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A given category column as float 0/1, NaN where empty; any other value raises ValueError."""
    flags = numeric_column(frame, column, "category")
    bad = flags.notna() & ~flags.isin((0.0, 1.0))
    if bad.any():
        rows = list(frame.index[bad][:10])
        raise ValueError(f"category column {column!r} must hold 0 or 1 (empty where undefined); rows {rows} "
                         f"hold {sorted(set(flags[bad]))[:5]}")
    return flags
