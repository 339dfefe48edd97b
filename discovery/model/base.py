"""The contract every property model follows: scikit-learn style `fit` / `predict`.

`X` is a molecule table as `discovery.features.featurize` returns it (a pandas DataFrame with a
`smiles` column, QM descriptor columns and 0/1 category columns), restricted to rows whose
status is "ok". Each model takes the columns it needs: interaction models the descriptors and
categories, fingerprint models the SMILES. So every model, ours and the baselines, runs on the
same input and is interchangeable in evaluation and campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Prediction:
    """Predictive distribution for n molecules, in the units of the target.

    Attributes:
        mean: Predictive mean, shape (n,).
        std: Predictive standard deviation of a new observation (epistemic + noise), shape (n,).
        latent_std: Standard deviation of the noise-free property (epistemic only), shape (n,).
        latent_draws: Posterior draws of the noise-free property, shape (n_draws, n), or None
            for models without a posterior sample.
        observation_draws: Posterior predictive draws of an observation, shape (n_draws, n),
            or None.
    """

    mean: np.ndarray
    std: np.ndarray
    latent_std: np.ndarray
    latent_draws: np.ndarray | None = None
    observation_draws: np.ndarray | None = None

    def quantiles(self, q: float | np.ndarray) -> np.ndarray:
        """Quantiles of a new observation, shape (len(q), n) (or (n,) for scalar q).

        From the posterior predictive draws when present, else from a normal with `mean`/`std`.
        """
        q_arr = np.atleast_1d(np.asarray(q, dtype=float))
        if self.observation_draws is not None:
            out = np.quantile(self.observation_draws, q_arr, axis=0)
        else:
            out = self.mean[None, :] + stats.norm.ppf(q_arr)[:, None] * self.std[None, :]
        return out[0] if np.ndim(q) == 0 else out

    def interval(self, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval (lower, upper) of a new observation at `level`."""
        lower, upper = self.quantiles(np.array([(1 - level) / 2, (1 + level) / 2]))
        return lower, upper

    def log_density(self, y: np.ndarray) -> np.ndarray:
        """Log predictive density of observed values y, shape (n,), under a normal approximation."""
        return stats.norm.logpdf(np.asarray(y, float), loc=self.mean, scale=self.std)

    @classmethod
    def gaussian(cls, mean: np.ndarray, latent_std: np.ndarray, noise_std: float | np.ndarray) -> Prediction:
        """A prediction from a mean, an epistemic std and a noise std (models without draws)."""
        mean = np.asarray(mean, float)
        latent_std = np.broadcast_to(np.asarray(latent_std, float), mean.shape).copy()
        std = np.sqrt(latent_std**2 + np.asarray(noise_std, float) ** 2)
        return cls(mean=mean, std=np.broadcast_to(std, mean.shape).copy(), latent_std=latent_std)


@runtime_checkable
class PropertyModel(Protocol):
    """fit(X, y) -> self; predict(X) -> Prediction (see module docstring for X)."""

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> PropertyModel: ...

    def predict(self, X: pd.DataFrame) -> Prediction: ...


def check_training_data(X: pd.DataFrame, y: np.ndarray, min_rows: int = 5) -> np.ndarray:
    """Validate a training set; returns y as a float array. Raises ValueError with the reason."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of featurised molecules, got {type(X).__name__}")
    y = np.asarray(y, dtype=float).ravel()
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} values")
    if len(y) < min_rows:
        raise ValueError(f"need at least {min_rows} measured molecules to fit, got {len(y)}")
    if not np.isfinite(y).all():
        bad = list(X.index[~np.isfinite(y)][:10])
        raise ValueError(f"target has non-finite values at rows {bad}")
    if np.ptp(y) == 0:
        raise ValueError("target is constant: every measured value equals " f"{y[0]:g}; nothing to learn")
    return y
