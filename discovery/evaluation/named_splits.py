"""`make_splits`: the named splits of a `Dataset` (and explicit rows from an index file)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from discovery.config import from_mapping
from discovery.evaluation.dataset import Dataset
from discovery.evaluation.splits import (
    ClusterSplit,
    DissimilarSplit,
    IndicesSplit,
    PropertySplit,
    RandomSplit,
    Split,
    SplitKind,
    UpperTailSplit,
    dissimilar,
    explicit,
    property_range,
    random_kfold,
    structure_cluster,
    upper_tail,
)
from discovery.features.fingerprints import morgan_fingerprints

log = logging.getLogger(__name__)

SplitSettings = RandomSplit | PropertySplit | UpperTailSplit | ClusterSplit | DissimilarSplit | IndicesSplit

#: The parameters of each named split (the schemas of the `split` config group).
SPLITS: dict[SplitKind, type[SplitSettings]] = {
    s.name: s for s in (RandomSplit, PropertySplit, UpperTailSplit, ClusterSplit, DissimilarSplit, IndicesSplit)
}


def split_settings(name: str, **params: Any) -> SplitSettings:
    """The parameters of the split `name`, checked (unknown keys, types) and completed with defaults."""
    try:
        kind = SplitKind(name)
    except ValueError:
        raise ValueError(f"unknown split {name!r}; choose one of {SplitKind.choices()}") from None
    return from_mapping(SPLITS[kind], {**params, "name": kind}, "split")


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


def make_splits(data: Dataset, split: SplitSettings | str, seed: int = 0, **params: Any) -> list[Split]:
    """Build the named split of `data`'s usable rows (positions into `data.table`).

    Args:
        data: The dataset.
        split: The split's settings (`RandomSplit`, `PropertySplit`, `UpperTailSplit`,
            `ClusterSplit`, `DissimilarSplit`, `IndicesSplit`: their defaults and meaning), or its
            name (`SplitKind`) with its parameters as keyword arguments. An `IndicesSplit` names
            0-based rows of the source file; rows that were dropped are left out with a warning.
        seed: Seeds the split.
    """
    if isinstance(split, str):
        split = split_settings(split, **params)
    elif params:
        raise TypeError("give the split's parameters in its settings, not as keyword arguments")
    y = data.y
    if isinstance(split, RandomSplit):
        return random_kfold(len(y), k=split.k, seed=seed, n_in=split.n_in)
    if isinstance(split, PropertySplit):
        return property_range(y, split.n_in, seed=seed, lower_quantile=split.lower_quantile,
                              upper_quantile=split.upper_quantile)
    if isinstance(split, UpperTailSplit):
        return upper_tail(y, split.n_in, seed=seed, quantile=split.quantile, direction=split.direction)
    if isinstance(split, ClusterSplit):
        matrix = data.table[data.descriptors].to_numpy(dtype=float)
        return structure_cluster(matrix, split.n_in, seed=seed, n_clusters=split.n_clusters,
                                 test_cluster=split.test_cluster)
    if isinstance(split, DissimilarSplit):
        fps = morgan_fingerprints(list(data.table["smiles"]), split.radius, split.n_bits)
        return dissimilar(fps, split.n_in, seed=seed, test_fraction=split.test_fraction)
    return _index_split(data, split.train, split.test, split.file)
