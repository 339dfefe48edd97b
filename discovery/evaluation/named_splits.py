"""`make_splits`: the named splits of a `Dataset` (and explicit rows from an index file)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from discovery.evaluation.dataset import Dataset
from discovery.evaluation.splits import (
    Split,
    dissimilar,
    explicit,
    property_range,
    random_kfold,
    structure_cluster,
    upper_tail,
)
from discovery.features.fingerprints import morgan_fingerprints

log = logging.getLogger(__name__)

#: Split names accepted by `make_splits` (and `split.name` of the command line).
SPLIT_KINDS = ("random", "property", "upper_tail", "cluster", "dissimilar", "indices")


def _check_params(kind: str, params: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(f"split {kind!r}: unknown parameter(s) {unknown}; known: {sorted(allowed)}")


def _read_index_file(path: str | Path) -> tuple[list[Any], list[Any]]:
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"split index file not found: {path}")
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"split index file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not {"train", "test"} <= set(data):
        raise ValueError(f'split index file {path} must be a JSON object {{"train": [...], "test": [...]}}')
    return data["train"], data["test"]


def _index_split(data: Dataset, train: Any, test: Any, file: Any) -> list[Split]:
    if file is not None and (train is not None or test is not None):
        raise ValueError("split 'indices': give either split.file or split.train/split.test, not both")
    if file is not None:
        train, test = _read_index_file(file)
    if train is None or test is None:
        raise ValueError("split 'indices' needs split.train and split.test (0-based file rows) or split.file")
    (given,) = explicit(train, test, data.n_rows)
    where = pd.Index(data.table.index)
    info: dict[str, Any] = {"n_train_given": int(given.train.size), "n_test_given": int(given.test.size)}
    mapped = []
    for part, rows in (("train", given.train), ("test", given.test)):
        positions = where.get_indexer(rows)
        lost = rows[positions < 0]
        if lost.size:
            reasons = data.dropped_rows.loc[data.dropped_rows.index.intersection(lost), "reason"]
            log.warning(
                "%d %s row(s) are not usable and are left out (%s): %s", lost.size, part,
                dict(Counter(reasons)), lost[:20].tolist(),
            )
            info[f"dropped_{part}_rows"] = lost.tolist()
        if (positions >= 0).sum() == 0:
            raise ValueError(f"split 'indices': none of the {part} rows is usable (all dropped: {dict(data.dropped)})")
        mapped.append(positions[positions >= 0])
    return [Split("indices", mapped[0], mapped[1], info)]


def make_splits(data: Dataset, name: str, seed: int = 0, **params: Any) -> list[Split]:
    """Build the named split of `data`'s usable rows (positions into `data.table`).

    Names and parameters (defaults as in `discovery.evaluation.splits`):
        random: k=5, n_in=None.  property: n_in, lower_quantile=0.1, upper_quantile=0.9.
        upper_tail: n_in, quantile=0.8, direction="max".
        cluster: n_in, n_clusters=5, test_cluster=None|int|"all" (on the standardised descriptors).
        dissimilar: n_in, test_fraction=0.1, radius=2, n_bits=2048 (Morgan fingerprints).
        indices: train=[...], test=[...] (0-based rows of the source file) or file=PATH to a
            JSON {"train": [...], "test": [...]}; rows that were dropped are left out with a warning.
    """
    y = data.y
    if name == "random":
        _check_params(name, params, ("k", "n_in"))
        return random_kfold(len(y), seed=seed, **params)
    if name == "property":
        _check_params(name, params, ("n_in", "lower_quantile", "upper_quantile"))
        return property_range(y, params.pop("n_in", None), seed=seed, **params)
    if name == "upper_tail":
        _check_params(name, params, ("n_in", "quantile", "direction"))
        return upper_tail(y, params.pop("n_in", None), seed=seed, **params)
    if name == "cluster":
        _check_params(name, params, ("n_in", "n_clusters", "test_cluster"))
        matrix = data.table[data.descriptors].to_numpy(dtype=float)
        return structure_cluster(matrix, params.pop("n_in", None), seed=seed, **params)
    if name == "dissimilar":
        _check_params(name, params, ("n_in", "test_fraction", "radius", "n_bits"))
        fps = morgan_fingerprints(list(data.table["smiles"]), int(params.pop("radius", 2)), int(params.pop("n_bits", 2048)))
        return dissimilar(fps, params.pop("n_in", None), seed=seed, **params)
    if name == "indices":
        _check_params(name, params, ("train", "test", "file"))
        return _index_split(data, params.get("train"), params.get("test"), params.get("file"))
    raise ValueError(f"unknown split {name!r}; choose one of {list(SPLIT_KINDS)}")
