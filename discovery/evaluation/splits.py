"""Train/test splits for interpolation and extrapolation benchmarks.

Every function returns a list of `Split`s whose `train` and `test` are 0-based row positions
into the arrays it was given, and is deterministic for a given `seed` (NumPy `default_rng`).
`n_in` is the number of training rows, drawn at random from the eligible rows; `n_in=None`
takes every eligible row. Asking for more rows than are eligible raises ValueError saying how
many there are.

* `random_kfold`: shuffled k-fold cross-validation (interpolation).
* `property_range`: the extrapolation protocol of Shimakawa, Kumada & Sato (npj Comput. Mater.
  2024): train on rows from the centre of the value distribution, test on every row outside the
  training range, on both tails.
* `upper_tail`: train below a quantile, test above the largest training value (discovery).
* `structure_cluster`: hold out a KMeans cluster of the standardised descriptors.
* `dissimilar`: hold out the molecules least similar (Tanimoto) to all others.
* `explicit`: user-given positions, validated.

Each named split's parameters are a frozen dataclass (`RandomSplit`, ...; the schemas of the
`split` config group), whose defaults the functions take as theirs; `name` says which split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from discovery.config import ConfigEnum, coerce_enums
from discovery.features.fingerprints import tanimoto_similarity
from discovery.objective import Direction

__all__ = [
    "ClusterSplit",
    "DissimilarSplit",
    "IndicesSplit",
    "PropertySplit",
    "RandomSplit",
    "Split",
    "SplitKind",
    "UpperTailSplit",
    "dissimilar",
    "explicit",
    "property_range",
    "random_kfold",
    "structure_cluster",
    "upper_tail",
]


@dataclass(frozen=True, eq=False)
class Split:
    """One train/test partition.

    Attributes:
        name: Label used in outputs, e.g. "fold2", "upper_tail", "cluster0".
        train: Training row positions, sorted int64 array.
        test: Test row positions, sorted int64 array, disjoint from `train`.
        info: What defined the split (thresholds, training range, cluster sizes, ...), JSON-safe.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "train", np.sort(np.asarray(self.train, dtype=np.int64)))
        object.__setattr__(self, "test", np.sort(np.asarray(self.test, dtype=np.int64)))


# --------------------------------------------------------------------------------------------
# the named splits' parameters
# --------------------------------------------------------------------------------------------


class SplitKind(ConfigEnum):
    RANDOM = "random"
    PROPERTY = "property"
    UPPER_TAIL = "upper_tail"
    CLUSTER = "cluster"
    DISSIMILAR = "dissimilar"
    INDICES = "indices"


@dataclass(frozen=True)
class RandomSplit:
    """`random_kfold`. n_in: subsample each fold's training rows to this many (the training size
    of the extrapolation splits); None: all of them."""

    name: SplitKind = SplitKind.RANDOM
    k: int = 5
    n_in: int | None = None


@dataclass(frozen=True)
class PropertySplit:
    """`property_range`: the extrapolation protocol of Shimakawa et al. (2024)."""

    name: SplitKind = SplitKind.PROPERTY
    n_in: int | None = 200
    lower_quantile: float = 0.1
    upper_quantile: float = 0.9


@dataclass(frozen=True)
class UpperTailSplit:
    """`upper_tail`: discovery beyond the training maximum (minimum for direction "min")."""

    name: SplitKind = SplitKind.UPPER_TAIL
    n_in: int | None = 200
    quantile: float = 0.8
    direction: Direction = Direction.MAX

    def __post_init__(self) -> None:
        coerce_enums(self, "split.")


@dataclass(frozen=True)
class ClusterSplit:
    """`structure_cluster`; test_cluster: None (cluster 0, the farthest), an integer, or "all"."""

    name: SplitKind = SplitKind.CLUSTER
    n_in: int | None = 200
    n_clusters: int = 5
    test_cluster: Any = None


@dataclass(frozen=True)
class DissimilarSplit:
    """`dissimilar`, on Morgan fingerprints of this radius and length."""

    name: SplitKind = SplitKind.DISSIMILAR
    n_in: int | None = 200
    test_fraction: float = 0.1
    radius: int = 2
    n_bits: int = 2048


@dataclass(frozen=True)
class IndicesSplit:
    """`explicit`: 0-based row positions of the dataset file, given inline (train, test) or as a
    JSON file {"train": [...], "test": [...]}."""

    name: SplitKind = SplitKind.INDICES
    train: tuple[int, ...] | None = None
    test: tuple[int, ...] | None = None
    file: str | None = None


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _values(y: Sequence[float] | np.ndarray, what: str = "y") -> np.ndarray:
    values = np.asarray(y, dtype=float).ravel()
    if values.size == 0:
        raise ValueError(f"{what} is empty")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(f"{what} has {bad.size} non-finite value(s), first at positions {bad[:10].tolist()}")
    return values


def _draw(eligible: np.ndarray, n_in: int | None, rng: np.random.Generator, what: str) -> np.ndarray:
    """`n_in` positions drawn without replacement from `eligible` (all of them for None)."""
    if n_in is None:
        return np.sort(eligible)
    if isinstance(n_in, bool) or int(n_in) != n_in or n_in < 1:
        raise ValueError(f"n_in must be a positive integer or None, got {n_in!r}")
    n_in = int(n_in)
    if n_in > eligible.size:
        raise ValueError(f"n_in={n_in} training rows requested but only {eligible.size} are available ({what})")
    return np.sort(rng.choice(eligible, size=n_in, replace=False))


def _require_test(test: np.ndarray, what: str) -> None:
    if test.size == 0:
        raise ValueError(f"the test set is empty: {what}")


# --------------------------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------------------------


def random_kfold(n: int, k: int = RandomSplit.k, seed: int = 0, n_in: int | None = RandomSplit.n_in) -> list[Split]:
    """Shuffled k-fold cross-validation over `n` rows: k splits named "fold0" ... "fold{k-1}".

    Every row is a test row exactly once. With `n_in`, each fold's training set is a random
    subset of `n_in` of its training rows (same training size as the extrapolation splits).
    """
    n, k = int(n), int(k)
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    if n < k:
        raise ValueError(f"{k}-fold cross-validation needs at least {k} rows, only {n} are available")
    rng = np.random.default_rng(seed)
    folds = np.array_split(rng.permutation(n), k)
    out = []
    for i, test in enumerate(folds):
        rest = np.setdiff1d(np.arange(n), test)
        train = _draw(rest, n_in, rng, f"rows outside fold {i} of {k}")
        out.append(Split(f"fold{i}", train, test, {"k": k, "fold": i}))
    return out


def property_range(
    y: Sequence[float] | np.ndarray,
    n_in: int | None,
    seed: int = 0,
    lower_quantile: float = PropertySplit.lower_quantile,
    upper_quantile: float = PropertySplit.upper_quantile,
) -> list[Split]:
    """Train on `n_in` random rows whose value lies between two quantiles; test on both tails.

    Test = every row whose value is below the smallest or above the largest training value, so
    every test value lies outside the training range.
    """
    values = _values(y)
    if not 0.0 <= lower_quantile < upper_quantile <= 1.0:
        raise ValueError(f"need 0 <= lower_quantile < upper_quantile <= 1, got {lower_quantile}, {upper_quantile}")
    lo, hi = np.quantile(values, [lower_quantile, upper_quantile])
    central = np.flatnonzero((values >= lo) & (values <= hi))
    rng = np.random.default_rng(seed)
    train = _draw(central, n_in, rng, f"values between the {lower_quantile:g} and {upper_quantile:g} quantiles")
    t_lo, t_hi = values[train].min(), values[train].max()
    test = np.flatnonzero((values < t_lo) | (values > t_hi))
    _require_test(test, f"no value lies outside the training range [{t_lo:g}, {t_hi:g}]")
    info = {
        "lower_quantile": lower_quantile, "upper_quantile": upper_quantile,
        "lower_value": float(lo), "upper_value": float(hi),
        "train_min": float(t_lo), "train_max": float(t_hi),
        "n_test_below": int((values[test] < t_lo).sum()), "n_test_above": int((values[test] > t_hi).sum()),
    }  # fmt: skip
    return [Split("property_range", train, test, info)]


def upper_tail(
    y: Sequence[float] | np.ndarray,
    n_in: int | None,
    seed: int = 0,
    quantile: float = UpperTailSplit.quantile,
    direction: Direction | str = UpperTailSplit.direction,
) -> list[Split]:
    """Train on `n_in` random rows below the `quantile`; test on every row above the training max.

    `direction="min"` mirrors it: train on rows above the (1 - quantile) quantile and test on
    every row below the smallest training value (searching for low values).
    """
    direction = Direction(direction)
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    values = _values(y)
    sign = direction.sign
    signed = sign * values
    threshold = np.quantile(signed, quantile)
    eligible = np.flatnonzero(signed < threshold)
    rng = np.random.default_rng(seed)
    where = f"below the {quantile:g} quantile" if direction is Direction.MAX else f"above the {1 - quantile:g} quantile"
    train = _draw(eligible, n_in, rng, f"values {where}")
    edge = signed[train].max()
    test = np.flatnonzero(signed > edge)
    _require_test(test, f"no value lies {'above' if direction is Direction.MAX else 'below'} the training extreme {sign * edge:g}")
    info = {
        "quantile": quantile, "direction": direction, "threshold": float(sign * threshold),
        "train_min": float(values[train].min()), "train_max": float(values[train].max()),
    }  # fmt: skip
    return [Split("upper_tail", train, test, info)]


def _standardise(matrix: np.ndarray) -> np.ndarray:
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"descriptor_matrix must be a non-empty 2-D array, got shape {x.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if bad_rows.size:
        raise ValueError(f"descriptor_matrix has non-finite values in {bad_rows.size} row(s), first {bad_rows[:10].tolist()}")
    std = x.std(axis=0)
    keep = std > 1e-12 * np.maximum(1.0, np.abs(x.mean(axis=0)))
    if not keep.any():
        raise ValueError("every descriptor is constant; nothing to cluster on")
    return (x[:, keep] - x[:, keep].mean(axis=0)) / std[keep]


def structure_cluster(
    descriptor_matrix: np.ndarray,
    n_in: int | None,
    seed: int = 0,
    n_clusters: int = ClusterSplit.n_clusters,
    test_cluster: int | str | None = ClusterSplit.test_cluster,
) -> list[Split]:
    """Hold out a KMeans cluster of the standardised descriptors; train on the other clusters.

    Clusters are numbered by the distance of their centroid from the global mean, farthest
    first, so cluster 0 is the most atypical region of descriptor space.

    Args:
        descriptor_matrix: Shape (n, d); constant columns are ignored.
        n_in: Training rows drawn at random from the other clusters.
        seed: Seeds KMeans and the draw.
        n_clusters: Number of KMeans clusters.
        test_cluster: None (default) holds out cluster 0 (farthest centroid); an integer that
            cluster; "all" returns one split per cluster, "cluster0" ... in turn.
    """
    from sklearn.cluster import KMeans

    z = _standardise(descriptor_matrix)
    n_clusters = int(n_clusters)
    if not 2 <= n_clusters <= len(z):
        raise ValueError(f"n_clusters must be between 2 and the number of rows ({len(z)}), got {n_clusters}")
    km = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit(z)
    distance = np.linalg.norm(km.cluster_centers_, axis=1)  # global mean of z is 0
    order = np.argsort(-distance, kind="stable")
    rank = np.empty(n_clusters, dtype=int)
    rank[order] = np.arange(n_clusters)
    labels = rank[km.labels_]
    sizes = np.bincount(labels, minlength=n_clusters)

    if test_cluster is None:
        held = [0]
    elif isinstance(test_cluster, str) and test_cluster == "all":
        held = list(range(n_clusters))
    elif not isinstance(test_cluster, bool) and isinstance(test_cluster, (int, np.integer)) and 0 <= test_cluster < n_clusters:
        held = [int(test_cluster)]
    else:
        raise ValueError(f"test_cluster must be None, 'all' or an integer in [0, {n_clusters}), got {test_cluster!r}")

    rng = np.random.default_rng(seed)
    out = []
    for c in held:
        test = np.flatnonzero(labels == c)
        train = _draw(np.flatnonzero(labels != c), n_in, rng, f"rows outside cluster {c} of {n_clusters}")
        info = {
            "n_clusters": n_clusters, "test_cluster": c, "cluster_sizes": sizes.tolist(),
            "centroid_distances": [float(d) for d in distance[order]],
        }  # fmt: skip
        out.append(Split(f"cluster{c}", train, test, info))
    return out


def max_similarity_to_others(fingerprints: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """For each row, the largest Tanimoto similarity to any *other* row, shape (n,)."""
    fps = np.asarray(fingerprints)
    n = len(fps)
    if n < 2:
        raise ValueError(f"need at least 2 molecules to compare, got {n}")
    out = np.empty(n)
    for start in range(0, n, chunk):
        block = tanimoto_similarity(fps[start : start + chunk], fps)
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = -np.inf
        out[start : start + chunk] = block.max(axis=1)
    return out


def dissimilar(
    fingerprints: np.ndarray,
    n_in: int | None,
    seed: int = 0,
    test_fraction: float = DissimilarSplit.test_fraction,
) -> list[Split]:
    """Test on the `test_fraction` of molecules least similar to the rest; train on the others.

    Dissimilarity is the maximum Tanimoto similarity of a molecule's fingerprint to any other
    molecule in the set (lowest first; ties broken by position). The test set holds
    `max(1, round(test_fraction * n))` molecules and does not depend on the seed; training is
    `n_in` random rows from the remainder.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    nearest = max_similarity_to_others(fingerprints)
    n = len(nearest)
    n_test = max(1, int(round(test_fraction * n)))
    if n_test >= n:
        raise ValueError(f"test_fraction={test_fraction} leaves no training rows among {n}")
    order = np.argsort(nearest, kind="stable")
    test, rest = order[:n_test], order[n_test:]
    train = _draw(rest, n_in, np.random.default_rng(seed), "molecules outside the dissimilar test set")
    info = {
        "test_fraction": test_fraction,
        "test_max_similarity": float(nearest[test].max()),
        "train_min_max_similarity": float(nearest[train].min()),
    }
    return [Split("dissimilar", train, test, info)]


def _positions(values: Any, n: int, what: str) -> np.ndarray:
    items = list(values) if values is not None else []
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer, float, np.floating)):
            raise ValueError(f"{what} indices must be integers, got {item!r}")
        if int(item) != item:
            raise ValueError(f"{what} indices must be integers, got {item!r}")
        out.append(int(item))
    positions = np.asarray(out, dtype=np.int64)
    if positions.size == 0:
        raise ValueError(f"{what} indices are empty")
    outside = positions[(positions < 0) | (positions >= n)]
    if outside.size:
        raise ValueError(
            f"{what} indices out of range [0, {n - 1}] (0-based row positions of {n} rows): {sorted(set(outside.tolist()))[:10]}"
        )
    unique, counts = np.unique(positions, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{what} indices contain duplicates: {unique[counts > 1][:10].tolist()}")
    return positions


def explicit(train: Sequence[int], test: Sequence[int], n: int, seed: int | None = None) -> list[Split]:
    """A split given as 0-based row positions, validated: integers, in [0, n), no duplicates,
    train and test disjoint and non-empty. `seed` is accepted for uniformity and ignored.
    """
    train_pos = _positions(train, int(n), "train")
    test_pos = _positions(test, int(n), "test")
    overlap = np.intersect1d(train_pos, test_pos)
    if overlap.size:
        raise ValueError(f"{overlap.size} row(s) are in both train and test: {overlap[:10].tolist()}")
    return [Split("indices", train_pos, test_pos, {})]
