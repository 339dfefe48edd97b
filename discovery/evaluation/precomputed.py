"""Descriptor columns the user already has, shaped like `featurize`'s output."""

from __future__ import annotations

import numpy as np
import pandas as pd

from discovery.chem import MoleculeError, parse_molecules
from discovery.evaluation.loading import numeric_column
from discovery.features.categories import CATEGORY_NAMES, category_frame
from discovery.features.featurize import META_COLUMNS, STATUS_COLUMNS, STATUS_INVALID, STATUS_OK

#: Row status for precomputed features with a missing / non-finite descriptor value.
STATUS_MISSING_DESCRIPTOR = "missing_descriptor"


def precomputed_features(
    smiles: pd.Series,
    values: pd.DataFrame,
    *,
    categories: bool = True,
) -> pd.DataFrame:
    """A `featurize`-shaped table from descriptor columns the user already has.

    SMILES are standardised with `discovery.chem.parse_molecules` (status "invalid" when that
    fails); chemical categories are computed from them (no QM) unless `categories=False`. Rows
    with a missing descriptor value get status "missing_descriptor".

    Args:
        smiles: SMILES / PSMILES, indexed like `values`.
        values: The descriptor columns (numeric; missing cells allowed).
        categories: Add the `CATEGORY_NAMES` columns.

    Returns:
        Columns `input, smiles, identity, is_polymer`, the descriptor columns, the category
        columns (-1 for invalid rows), `status, error, note`; indexed like `smiles`.
    """
    clash = [c for c in values.columns if c in (*META_COLUMNS, *STATUS_COLUMNS) or (categories and c in CATEGORY_NAMES)]
    if clash:
        raise ValueError(f"descriptor column name(s) {clash} clash with columns the featurised table reserves")
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
    if categories:
        by_identity = {m.identity: m for m in valid.values()}
        identities = list(by_identity)
        table = category_frame([by_identity[i] for i in identities]) if identities else pd.DataFrame(columns=list(CATEGORY_NAMES))
        lookup = dict(zip(identities, table.to_numpy(), strict=True))
        invalid = np.full(len(CATEGORY_NAMES), -1)
        flags = np.array([lookup[valid[k].identity] if k in valid else invalid for k in keys]).reshape(len(keys), -1)
        parts.append(pd.DataFrame(flags, index=smiles.index, columns=list(CATEGORY_NAMES)).astype("int8"))

    status, error = [], []
    finite = np.isfinite(numbers.to_numpy(dtype=float))
    for i, key in enumerate(keys):
        if key not in valid:
            status.append(STATUS_INVALID)
            error.append(parsed[key].reason)
        elif not finite[i].all():
            status.append(STATUS_MISSING_DESCRIPTOR)
            error.append("no value for " + ", ".join(c for c, ok in zip(values.columns, finite[i], strict=True) if not ok))
        else:
            status.append(STATUS_OK)
            error.append("")
    parts.append(pd.DataFrame({"status": status, "error": error, "note": ""}, index=smiles.index))
    return pd.concat(parts, axis=1)
