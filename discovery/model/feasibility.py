"""Will the lab be able to make and measure it? A Bayesian logistic model of failed experiments.

A failed experiment ("could not be synthesised", "decomposed", "insoluble") is a result too: the
molecule and the measured ones are labelled infeasible / feasible, and `FeasibilityModel` learns
P(feasible | descriptors) by Bayesian logistic regression on the standardised descriptor columns
(those with more than two distinct values; 0/1 categories are left out): N(0, `prior_scale`²) on
each slope, N(0, 2²) on the intercept, posterior by Laplace's approximation (Newton's method to
the mode, the Hessian there as the precision). The probability of a candidate is the posterior
mean of the logistic over draws of the coefficients, so a candidate far from every labelled
molecule gets a probability near the base rate rather than a confident 0 or 1.

Enough failures (`MIN_FAILURES`, 3): with one or two, a logistic model separates them from
everything measured along almost any descriptor, and which one the fit picks is chance; the
probability would then push acquisition away from a region on the strength of a single
experiment. From three failures on, a direction they share starts to outweigh the prior. Below
it the campaign only excludes the failed molecules themselves from proposals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

#: Failed experiments needed before the feasibility model is fitted (see the module docstring).
MIN_FAILURES = 3


@dataclass(frozen=True)
class FeasibilitySettings:
    """The `campaign.feasibility` config group.

    Attributes:
        enabled: Learn from failed experiments (failed molecules are never proposed again either way).
        min_failures: Failed molecules needed before the model is fitted and its probability
            multiplies the acquisition (see `MIN_FAILURES`).
        prior_scale: Prior SD of each slope, in log-odds per SD of the descriptor.
        n_draws: Posterior draws the probability is averaged over.
    """

    enabled: bool = True
    min_failures: int = MIN_FAILURES
    prior_scale: float = 1.0
    n_draws: int = 512

    def __post_init__(self) -> None:
        if self.min_failures < 1 or self.prior_scale <= 0 or self.n_draws < 1:
            raise ValueError("campaign.feasibility: min_failures and n_draws must be >= 1, prior_scale > 0")


class FeasibilityModel:
    """P(feasible) from descriptor columns: Bayesian logistic regression, Laplace approximation.

    Args:
        prior_scale: Prior SD of each standardised slope (log-odds per SD).
        n_draws: Draws of the coefficients a probability is averaged over.
        seed: Seed of those draws.

    Fitted attributes: `columns_`, `x_mean_`, `x_scale_`, `mode_` (intercept first), `covariance_`.
    """

    intercept_scale = 2.0

    def __init__(self, prior_scale: float = 1.0, n_draws: int = 512, seed: int = 0) -> None:
        self.prior_scale, self.n_draws, self.seed = prior_scale, n_draws, seed

    def fit(self, X: pd.DataFrame, feasible: np.ndarray) -> FeasibilityModel:
        """Fit on molecules X (featurised rows) and their labels (True: measured, False: failed)."""
        labels = np.asarray(feasible, dtype=bool)
        if len(labels) != len(X):
            raise ValueError(f"X has {len(X)} rows but there are {len(labels)} labels")
        if labels.all() or not labels.any():
            raise ValueError("the feasibility model needs both measured and failed molecules")
        self.columns_ = descriptor_columns(X)
        Z = X[self.columns_].to_numpy(float)
        self.x_mean_ = Z.mean(axis=0)
        scale = Z.std(axis=0)
        self.x_scale_ = np.where(scale > 1e-12, scale, 1.0)
        A = self._design(X)
        prior_precision = np.r_[1.0 / self.intercept_scale**2, np.full(len(self.columns_), 1.0 / self.prior_scale**2)]
        w = np.zeros(A.shape[1])
        for _ in range(100):  # Newton's method: the log posterior is concave
            p = expit(A @ w)
            gradient = A.T @ (labels - p) - prior_precision * w
            hessian = (A * (p * (1 - p))[:, None]).T @ A + np.diag(prior_precision)
            step = np.linalg.solve(hessian, gradient)
            w += step
            if np.max(np.abs(step)) < 1e-10:
                break
        p = expit(A @ w)
        hessian = (A * (p * (1 - p))[:, None]).T @ A + np.diag(prior_precision)
        self.mode_, self.covariance_ = w, np.linalg.inv(hessian)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """P(feasible) of each row of X, shape (n,): the posterior mean of the logistic."""
        draws = np.random.default_rng(self.seed).multivariate_normal(self.mode_, self.covariance_, self.n_draws)
        return expit(self._design(X) @ draws.T).mean(axis=1)

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        Z = (X[self.columns_].to_numpy(float) - self.x_mean_) / self.x_scale_
        return np.column_stack([np.ones(len(X)), Z])


def descriptor_columns(X: pd.DataFrame) -> list[str]:
    """The continuous descriptor columns of a featurised table: numeric, no NaN, more than two
    distinct values (0/1 categories and bookkeeping columns are left out)."""
    columns = []
    for name in X.columns:
        column = X[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            if column.notna().all() and column.nunique() > 2:
                columns.append(str(name))
    if not columns:
        raise ValueError("the feasibility model found no descriptor columns (numeric, more than two values)")
    return columns
