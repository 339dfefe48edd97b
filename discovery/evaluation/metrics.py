"""Accuracy and calibration of a predictive distribution on a test set.

`score(y_true, prediction, sigma_all)` returns a flat dict of floats (JSON-friendly once NaN is
mapped to null, see `json_safe`):

* `rmse`, `mae`: in the units of the target.
* `rmse_over_sigma_all`: RMSE divided by σ_all, the standard deviation of the target over the
  whole dataset (not the test set), so that properties with different units and spreads compare;
  1.0 is the error of predicting a constant near the dataset mean (Shimakawa et al. 2024).
* `r2`: 1 - SSE/SST about the test-set mean. NaN when n_test < 2 or the test values are all
  equal. Can be very negative under extrapolation (test sets are narrow and shifted).
* `spearman`: rank correlation of predicted means with the truth (what matters for ranking
  candidates). NaN when n_test < 2 or either side is constant.
* `coverage_90`: fraction of test values inside the central 90 % predictive interval
  `prediction.interval(0.9)` (ideal: 0.9). `mean_interval_width_90`: its mean width.
* `nlpd`: mean negative log predictive density, `-mean(prediction.log_density(y))`: lower is
  better; it rewards accuracy and punishes over-confidence.
* `n_test`: number of test rows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from discovery.model.base import Prediction

__all__ = ["METRIC_NAMES", "json_safe", "mean_metrics", "score"]

#: Keys of `score`'s result, in order.
METRIC_NAMES = (
    "rmse",
    "rmse_over_sigma_all",
    "mae",
    "r2",
    "spearman",
    "coverage_90",
    "mean_interval_width_90",
    "nlpd",
    "n_test",
)


def score(y_true: Iterable[float] | np.ndarray, prediction: Prediction, sigma_all: float) -> dict[str, float]:
    """Metrics of `prediction` against `y_true` (shape (n,)); σ_all is the whole dataset's target std.

    Raises:
        ValueError: empty or non-finite `y_true`, a prediction of a different length, or a
            σ_all that is not a positive finite number.
    """
    y = np.asarray(y_true, dtype=float).ravel()
    n = y.size
    if n == 0:
        raise ValueError("no test values to score")
    if not np.isfinite(y).all():
        raise ValueError("y_true has non-finite values")
    mean = np.asarray(prediction.mean, dtype=float).ravel()
    if mean.shape != y.shape:
        raise ValueError(f"prediction has {mean.size} values for {n} test values")
    sigma_all = float(sigma_all)
    if not (math.isfinite(sigma_all) and sigma_all > 0):
        raise ValueError(f"sigma_all must be a positive finite number, got {sigma_all}")

    error = mean - y
    rmse = float(np.sqrt(np.mean(error**2)))
    lower, upper = prediction.interval(0.9)
    lower, upper = np.asarray(lower, float).ravel(), np.asarray(upper, float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_density = np.asarray(prediction.log_density(y), dtype=float).ravel()

    sst = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum(error**2)) / sst if n >= 2 and sst > 0 else math.nan
    if n >= 2 and np.ptp(y) > 0 and np.ptp(mean) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spearman = float(stats.spearmanr(y, mean).statistic)
    else:
        spearman = math.nan

    return {
        "rmse": rmse,
        "rmse_over_sigma_all": rmse / sigma_all,
        "mae": float(np.mean(np.abs(error))),
        "r2": r2,
        "spearman": spearman,
        "coverage_90": float(np.mean((y >= lower) & (y <= upper))),
        "mean_interval_width_90": float(np.mean(upper - lower)),
        "nlpd": float(-np.mean(log_density)),
        "n_test": n,
    }


def mean_metrics(per_split: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Mean over splits of every numeric key, ignoring NaN (NaN only if every split is NaN).

    `n_test` (total test predictions) and times (`*_seconds`) are summed instead; `n_splits` is added.
    """
    rows = list(per_split)
    keys: list[str] = []
    for row in rows:
        keys += [k for k, v in row.items() if k not in keys and isinstance(v, (int, float, np.number)) and not isinstance(v, bool)]
    out: dict[str, float] = {"n_splits": len(rows)}
    for key in keys:
        values = np.array([float(r[key]) for r in rows if key in r and r[key] is not None], dtype=float)
        if key == "n_test":
            out[key] = int(values.sum())
        elif key.endswith("_seconds"):
            out[key] = float(values.sum())
        elif values.size and np.isfinite(values).any():
            out[key] = float(np.nanmean(values))
        else:
            out[key] = math.nan
    return out


def json_safe(value: Any) -> Any:
    """Recursively turn NumPy scalars/arrays into Python values and NaN/inf into None (JSON null)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value
