"""Score any registered property model on any dataset: loading, featurising, splitting, scoring.

Plain functions, no Hydra; `python -m discovery.evaluate` is a thin command-line wrapper. A
benchmark script prepares each dataset once and reuses it for every model, split and seed:

    from discovery.evaluation import evaluate, make_splits, model_factory, prepare_dataset, write_outputs

    data = prepare_dataset("logp.csv", "smiles", "logp", qm="fast", cache="default")  # featurised once
    # or: prepare_dataset(frame, "smiles", "y", descriptors=["a", "b"])  (precomputed columns)
    for seed in range(5):
        splits = make_splits(data, "upper_tail", seed=seed, n_in=200)
        result = evaluate(data.table, data.y, model_factory("pls_ilr", seed=seed), splits,
                          sigma_all=data.sigma_all)
        print(result.mean["rmse_over_sigma_all"], result.mean["coverage_90"])
        write_outputs(result, f"out/logp/pls_ilr/{seed}", {"dataset": data.summary()})

Row bookkeeping: `Dataset.table` holds only the usable rows (a numeric target and featurisation
status "ok"), indexed by the row's 0-based position in the source file. Splits hold positions
into `Dataset.table` (0 .. len(table)-1); `make_splits(..., "indices", train=..., test=...)`
takes *file* rows and maps them. `predictions.csv` reports file rows in its `row` column.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import logging
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.chem import MoleculeError, parse_molecules
from discovery.evaluation.metrics import METRIC_NAMES, json_safe, mean_metrics, score
from discovery.evaluation.splits import (
    Split,
    dissimilar,
    explicit,
    max_similarity_to_others,
    property_range,
    random_kfold,
    structure_cluster,
    upper_tail,
)
from discovery.features import QMSettings, descriptor_names, featurize
from discovery.features.categories import CATEGORY_NAMES, category_frame
from discovery.features.featurize import META_COLUMNS, STATUS_COLUMNS, STATUS_INVALID, STATUS_OK
from discovery.features.fingerprints import morgan_fingerprints
from discovery.features.qm import DESCRIPTORS
from discovery.model import MODELS, make_model
from discovery.paths import resolve_input_file

log = logging.getLogger("discovery.evaluation")

__all__ = [
    "METRIC_NAMES",
    "SPLIT_KINDS",
    "Dataset",
    "EvaluationResult",
    "ModelFactory",
    "Split",
    "dissimilar",
    "evaluate",
    "explicit",
    "json_safe",
    "load_table",
    "make_splits",
    "max_similarity_to_others",
    "mean_metrics",
    "model_factory",
    "precomputed_features",
    "prepare_dataset",
    "property_range",
    "random_kfold",
    "score",
    "structure_cluster",
    "upper_tail",
    "write_outputs",
]

#: Row status for precomputed features with a missing / non-finite descriptor value.
STATUS_MISSING_DESCRIPTOR = "missing_descriptor"
#: Drop reason for rows without a target value.
REASON_MISSING_TARGET = "missing_target"



# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


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


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: no column(s) {missing} in the dataset (columns: {list(frame.columns)})")


def _numeric(frame: pd.DataFrame, column: str, what: str) -> pd.Series:
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


# --------------------------------------------------------------------------------------------
# featurisation
# --------------------------------------------------------------------------------------------


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

    numbers = pd.DataFrame({c: _numeric(values, c, "descriptor") for c in values.columns}, index=values.index)
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


# --------------------------------------------------------------------------------------------
# the dataset
# --------------------------------------------------------------------------------------------


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
        n_rows: Rows in the source file.
        dropped: Reason -> number of rows dropped ("missing_target", or a featurisation status
            such as "invalid", "failed", "timeout", "missing_descriptor").
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
            "features": self.feature_kind, "descriptors": list(self.descriptors), "qm": self.qm,
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
        categories: Include chemical-category columns (computed from the SMILES, no QM).
        qm: `QMSettings` or a preset name, for computed descriptors.
        cache, n_workers, dask_client, progress: Passed to `featurize`.
        features: An already featurised table (`featurize`'s output for this dataset's SMILES,
            indexed by file row or in file order); skips featurisation entirely.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: missing columns, non-numeric target/descriptor values, no usable rows.
    """
    raw = load_table(source)
    source_name = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(resolve_input_file(source, "dataset file"))
    _require(raw, [smiles_col, target_col], "dataset")
    target = _numeric(raw, target_col, "target")
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
        _require(table, ["smiles", "status", "error"], "features")
        if descriptors is not None:
            names = list(descriptors)
            _require(table, names, "features")
        else:
            names = [d.name for d in DESCRIPTORS if d.name in table.columns]
        kind = "precomputed" if descriptors is not None else "qm"
        if "input" not in table:
            table.insert(0, "input", raw.loc[table.index, smiles_col])
    elif descriptors is not None:
        names = list(descriptors)
        if not names:
            raise ValueError("descriptors=[] names no columns; list the dataset's descriptor columns")
        _require(raw, names, "precomputed features")
        if target_col in names:
            raise ValueError(f"the target column {target_col!r} cannot also be a descriptor")
        table = precomputed_features(smiles, raw.loc[has_target, names], categories=categories)
        kind = "precomputed"
    else:
        settings = QMSettings.preset_named(qm or "fast") if isinstance(qm, str) or qm is None else qm
        settings_dict = dataclasses.asdict(settings)
        table = featurize(smiles, settings, cache=cache, n_workers=n_workers, dask_client=dask_client, progress=progress)
        stats = dict(table.attrs.get("featurize", {}))
        names = descriptor_names(settings)
        kind = "qm"
    if not categories:
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
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# splits on a dataset
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFactory:
    """Zero-argument callable building a fresh model: `make_model(name, **kwargs)`."""

    name: str
    kwargs: dict[str, Any]

    def __call__(self) -> Any:
        return make_model(self.name, **self.kwargs)


def _model_class(name: str) -> type:

    try:
        target = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def model_factory(
    name: str,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    descriptors: Sequence[str] | None = None,
) -> ModelFactory:
    """A factory for the registered model `name` with constructor `params`.

    `seed` and `descriptors` are added only if the model's constructor accepts them (checked
    with `inspect.signature`) and `params` does not already set them.

    Raises:
        ValueError: unknown model, or a parameter the constructor does not accept.
    """
    cls = _model_class(name)
    kwargs = dict(params or {})
    signature = inspect.signature(cls)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    unknown = [k for k in kwargs if k not in signature.parameters and not accepts_any]
    if unknown:
        raise ValueError(f"model {name!r} does not accept parameter(s) {unknown}; it takes {list(signature.parameters)}")
    for key, value in (("seed", seed), ("descriptors", None if descriptors is None else list(descriptors))):
        if value is not None and key not in kwargs and (key in signature.parameters or accepts_any):
            kwargs[key] = value
    return ModelFactory(name, kwargs)


# --------------------------------------------------------------------------------------------
# the evaluation loop
# --------------------------------------------------------------------------------------------


@dataclass
class EvaluationResult:
    """Outcome of `evaluate`.

    Attributes:
        splits: One dict per split: `split`, `n_train`, the `score` metrics, `fit_seconds`,
            `predict_seconds`, `train_min`/`train_max` (target range seen in training), `info`,
            `warnings` (distinct warnings the model raised while fitting/predicting; also logged).
        mean: `mean_metrics(splits)`: the mean over splits (`n_test` and seconds summed), plus
            `sigma_all`.
        predictions: One row per (split, test row): `row` (index label of the table, i.e. the
            file row for a `Dataset`), `smiles`, `y_true`, `mean`, `std`, `lower_90`,
            `upper_90`, `split`.
        fit_seconds: Total model fitting time.
    """

    splits: list[dict[str, Any]]
    mean: dict[str, Any]
    predictions: pd.DataFrame
    fit_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return json_safe({"fit_seconds": self.fit_seconds, "splits": self.splits, "mean": self.mean})


def evaluate(
    table: pd.DataFrame,
    y: np.ndarray | Sequence[float] | str,
    model_factory: Callable[[], Any],
    splits: Sequence[Split],
    *,
    sigma_all: float | None = None,
) -> EvaluationResult:
    """Fit a fresh model on each split's training rows and score it on the test rows.

    Args:
        table: Featurised rows (all usable), e.g. `Dataset.table` or a `featurize` output
            restricted to status "ok". Split positions index its rows.
        y: Targets aligned with `table`'s rows, or the name of a column of `table`.
        model_factory: Returns a new unfitted model (`fit(X, y)`, `predict(X) -> Prediction`).
        splits: From `make_splits` or `discovery.evaluation.splits`.
        sigma_all: σ_all for `rmse_over_sigma_all`; default: std (ddof=0) of `y`.

    Exceptions from a model's fit/predict propagate (wrapped in RuntimeError naming the split).
    """
    values = (table[y] if isinstance(y, str) else pd.Series(np.asarray(y, dtype=float))).to_numpy(dtype=float)
    if values.shape != (len(table),):
        raise ValueError(f"y has shape {values.shape} but the table has {len(table)} rows")
    if not np.isfinite(values).all():
        raise ValueError("y has non-finite values; drop those rows first")
    if not splits:
        raise ValueError("no splits to evaluate")
    sigma = float(np.std(values, ddof=0)) if sigma_all is None else float(sigma_all)
    smiles = (table["input"] if "input" in table else table["smiles"]).astype(str).to_numpy()
    labels = table.index.to_numpy()

    per_split, frames, total_fit = [], [], 0.0
    for split in splits:
        for part in (split.train, split.test):
            if part.size and (part.min() < 0 or part.max() >= len(table)):
                raise ValueError(f"split {split.name!r} has positions outside 0..{len(table) - 1}")
        if split.test.size == 0:
            raise ValueError(f"split {split.name!r} has no test rows")
        model = model_factory()
        try:
            with warnings.catch_warnings(record=True) as caught:
                start = time.perf_counter()
                model.fit(table.iloc[split.train], values[split.train])
                fit_s = time.perf_counter() - start
                start = time.perf_counter()
                prediction = model.predict(table.iloc[split.test])
                predict_s = time.perf_counter() - start
        except Exception as exc:
            raise RuntimeError(f"split {split.name!r} (n_train={split.train.size}): {type(exc).__name__}: {exc}") from exc
        messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        for message in messages:
            log.warning("split %s: %s", split.name, message)
        total_fit += fit_s
        y_test = values[split.test]
        metrics = score(y_test, prediction, sigma)
        lower, upper = prediction.interval(0.9)
        per_split.append({
            "split": split.name, "n_train": int(split.train.size), **metrics,
            "fit_seconds": fit_s, "predict_seconds": predict_s,
            "train_min": float(values[split.train].min()), "train_max": float(values[split.train].max()),
            "info": json_safe(split.info), "warnings": messages[:20],
        })  # fmt: skip
        frames.append(pd.DataFrame({
            "row": labels[split.test], "smiles": smiles[split.test], "y_true": y_test,
            "mean": np.asarray(prediction.mean, float), "std": np.asarray(prediction.std, float),
            "lower_90": np.asarray(lower, float), "upper_90": np.asarray(upper, float), "split": split.name,
        }))  # fmt: skip
    summary = mean_metrics({k: v for k, v in s.items() if k not in ("train_min", "train_max")} for s in per_split)
    summary["sigma_all"] = sigma
    return EvaluationResult(per_split, summary, pd.concat(frames, ignore_index=True), total_fit)


def write_outputs(result: EvaluationResult, output_dir: str | Path, config: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write `metrics.json` (the config echo, then `fit_seconds`, `splits`, `mean`) and
    `predictions.csv` to `output_dir` (created). NaN metrics are written as null. Atomic."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics_path, predictions_path = out / "metrics.json", out / "predictions.csv"
    payload = {**json_safe(dict(config or {})), **result.to_dict()}
    tmp = metrics_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n")
    tmp.replace(metrics_path)
    tmp = predictions_path.with_suffix(".csv.tmp")
    result.predictions.to_csv(tmp, index=False)
    tmp.replace(predictions_path)
    return metrics_path, predictions_path
