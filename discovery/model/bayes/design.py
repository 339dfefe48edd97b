"""The regression problem BayesianILR samples: a standardised interaction design and target.

`InteractionDesign` turns a molecule table into the design matrix Z (n, P): the interaction
features of the training rows (`InteractionFeatures`, reference coding), minus columns that are
constant there. `Standardisation` centres and scales Z and the (transformed) target on the
training rows, so one prior fits every property. `RegressionProblem` is what a sampler sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from discovery.features.interactions import InteractionFeatures, MinorityRule
from discovery.model.bayes.settings import HorseshoePrior


@dataclass(frozen=True)
class InteractionDesign:
    """Design columns fitted on the training rows.

    Attributes:
        features: The fitted `InteractionFeatures`.
        keep: Which of its output columns are used (the others are constant in training), shape (P_all,).
        columns: Names of the used columns, length P.
        n_main: The first `n_main` columns are descriptor main effects; the rest are category
            terms and descriptor × category interactions.
    """

    features: InteractionFeatures
    keep: np.ndarray
    columns: tuple[str, ...]
    n_main: int

    @classmethod
    def fit(cls, X: pd.DataFrame, descriptors: Sequence[str] | None, categories: Sequence[str] | None,
            min_fraction: float, min_contrast_rows: int, minority_rule: MinorityRule = MinorityRule.AT_LEAST,
            screen_categories: bool = True) -> InteractionDesign:
        features = InteractionFeatures(
            descriptors, categories, min_fraction, complement=False, min_contrast_rows=min_contrast_rows,
            minority_rule=minority_rule, screen_categories=screen_categories,
        ).fit(X)
        Z = features.transform(X).to_numpy()
        keep = Z.std(axis=0) > 1e-9  # e.g. an interaction that is all zero in training
        columns = tuple(c for c, k in zip(features.feature_names_out_, keep) if k)
        n_main = sum(1 for c in columns if c in features.descriptors_)
        return cls(features, keep, columns, n_main)

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Z, shape (n, P): the used design columns of the rows of X."""
        return self.features.transform(X).to_numpy()[:, self.keep]

    def to_dict(self) -> dict[str, Any]:
        return {"features": self.features.to_dict(), "keep": [bool(k) for k in self.keep],
                "columns": list(self.columns), "n_main": self.n_main}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InteractionDesign:
        return cls(InteractionFeatures.from_dict(data["features"]), np.array(data["keep"], dtype=bool),
                   tuple(data["columns"]), int(data["n_main"]))


@dataclass(frozen=True)
class Standardisation:
    """Centre and scale of the design columns and the target on the training rows.

    Main effects are scaled to unit SD. Category indicators and descriptor × category terms are
    only centred: they keep the units they already have (a category's shift, the change of a
    standardised descriptor's slope within the category), so the prior on their coefficients is
    the same whatever the category's prevalence. Scaled by their own SD, the terms of a category
    few training molecules have would get a prior 1/sqrt(prevalence) times wider, and a candidate
    of that category a standardised value of ~100 (a polymer pool showed both), hence absurd
    intervals.

    Attributes:
        x_mean, x_scale: Per design column, shape (P,) (scale 1 for a column constant in these rows).
        y_mean, y_scale: Of the target on the model's scale (log y for a log-target model).
    """

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float
    y_scale: float

    @classmethod
    def fit(cls, Z: np.ndarray, t: np.ndarray, n_main: int) -> Standardisation:
        """From the training design Z (n, P) whose first `n_main` columns are main effects, and the
        target t (n,) on the model's scale."""
        scale = Z.std(axis=0)
        scale = np.where(scale > 1e-9, scale, 1.0)
        scale[n_main:] = 1.0
        return cls(Z.mean(axis=0), scale, float(t.mean()), float(t.std()))

    def design(self, Z: np.ndarray) -> np.ndarray:
        return (Z - self.x_mean) / self.x_scale

    def target(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t, dtype=float) - self.y_mean) / self.y_scale

    def to_dict(self) -> dict[str, Any]:
        return {"x_mean": self.x_mean.tolist(), "x_scale": self.x_scale.tolist(), "y_mean": self.y_mean,
                "y_scale": self.y_scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Standardisation:
        return cls(np.array(data["x_mean"], dtype=float), np.array(data["x_scale"], dtype=float),
                   float(data["y_mean"]), float(data["y_scale"]))


@dataclass(frozen=True)
class RegressionProblem:
    """What a sampler sees: y_s = α + Z_s β + ε on the standardised scale.

    Attributes:
        Z: Standardised design, shape (n, P).
        y: Standardised target, shape (n,).
        groups: Shrinkage group of each column, shape (P,) (0 main effects, 1 the rest).
        prior: The prior settings.
        noise_floor: Lower bound on the noise SD on the standardised scale.
        tau_scale: Prior scale of each group's global shrinkage τ_g per unit of σ, shape (2,):
            p0_g / (P_g − p0_g) / √n (Piironen & Vehtari 2017, eq. 3.12), with p0_g the prior
            guess of how many terms of group g matter.
        known_sd: Known SD of each measurement on the standardised scale, shape (n,) (0 where
            unknown), or None: the likelihood's variance of row i is σ² + known_sd_i².
    """

    Z: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    prior: HorseshoePrior
    noise_floor: float
    tau_scale: np.ndarray
    known_sd: np.ndarray | None = None

    @classmethod
    def build(cls, Z: np.ndarray, y: np.ndarray, n_main: int, prior: HorseshoePrior, noise_floor: float,
              known_sd: np.ndarray | None = None) -> RegressionProblem:
        n, P = Z.shape
        n_inter = P - n_main
        groups = np.r_[np.zeros(n_main, dtype=int), np.ones(n_inter, dtype=int)]
        p0 = np.array([min(prior.expected_main_terms, max(n_main - 1, 0.5)),
                       min(prior.expected_interaction_terms, max(n_inter - 1, 0.5))])
        sizes = np.array([max(n_main, 1), max(n_inter, 1)])
        known = None if known_sd is None or not np.any(known_sd > 0) else np.asarray(known_sd, dtype=float)
        return cls(Z, y, groups, prior, noise_floor, p0 / np.maximum(sizes - p0, 1.0) / np.sqrt(n), known)

    @property
    def n_rows(self) -> int:
        return int(self.Z.shape[0])

    @property
    def n_columns(self) -> int:
        return int(self.Z.shape[1])
