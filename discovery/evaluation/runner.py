"""`evaluate`: fit a fresh model per split, score it on the test rows; `write_outputs`."""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.model import PropertyModel
from discovery.evaluation.metrics import json_safe, mean_metrics, score
from discovery.evaluation.splits import Split
from discovery.files import atomic_write, atomic_write_text

log = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    """Outcome of `evaluate`.

    Attributes:
        splits: One dict per split: `split`, `n_train`, the `score` metrics, `fit_seconds`,
            `predict_seconds`, `train_min`/`train_max` (target range seen in training), `info`,
            `warnings` (distinct warnings the model raised while fitting/predicting; also logged),
            `health` (the fit's sampler, max R-hat, min bulk ESS, divergences and draws, for a
            model with a posterior sample; else absent).
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
    model_factory: Callable[[], PropertyModel],
    splits: Sequence[Split],
    *,
    sigma_all: float | None = None,
) -> EvaluationResult:
    """Fit a fresh model on each split's training rows and score it on the test rows.

    Args:
        table: Featurised rows (all usable), e.g. `Dataset.table` or a `featurize` output
            restricted to status "ok". Split positions index its rows.
        y: Targets aligned with `table`'s rows, or the name of a column of `table`.
        model_factory: Returns a new unfitted `PropertyModel`.
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
        if model.diagnostics_ is not None:
            d = model.diagnostics_
            per_split[-1]["health"] = json_safe({"sampler": d.sampler, "max_rhat": d.max_rhat, "min_ess_bulk": d.min_ess_bulk,
                                                 "divergences": d.divergences, "draws": d.n_draws})
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
    atomic_write_text(metrics_path, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    atomic_write(predictions_path, lambda tmp: result.predictions.to_csv(tmp, index=False))
    return metrics_path, predictions_path
