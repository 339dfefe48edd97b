"""Model-error calibration: an extrapolation rehearsal on the training data (see
`CalibrationSettings`) and the law it learns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from discovery.model.bayes.settings import CalibrationSettings


@dataclass(frozen=True)
class ModelErrorLaw:
    """How wrong the model itself is, on the model's scale (log units for a log-target model).

    Attributes:
        constant, per_distance: σ_d(x) = constant + per_distance · d(x), d the distance of the
            predicted mean outside [y_min, y_max], capped at `max_error`.
        y_min, y_max: Range of the training targets.
        max_error: Cap on σ_d.
        epistemic_inflation: Stretch of the posterior spread in the reported intervals (≥ 1).
    """

    constant: float
    per_distance: float
    y_min: float
    y_max: float
    max_error: float
    epistemic_inflation: float

    @classmethod
    def none(cls, t: np.ndarray, settings: CalibrationSettings) -> ModelErrorLaw:
        """No correction, for training targets `t` (model's scale)."""
        return cls(0.0, 0.0, float(t.min()), float(t.max()), float(settings.max_error_ranges * np.ptp(t)), 1.0)

    def error_std(self, centre: np.ndarray) -> np.ndarray:
        """σ_d at predicted means `centre` (model's scale), same shape."""
        return np.minimum(self.constant + self.per_distance * beyond(centre, self.y_min, self.y_max), self.max_error)

    def to_dict(self) -> dict[str, float]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelErrorLaw:
        return cls(**{k: float(v) for k, v in data.items()})


def tail_split(y: np.ndarray, tail_fraction: float, groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the rehearsal: (held = the lowest and highest `tail_fraction` of y, core = the rest).

    With `groups` (molecule of each row, shape (n,)) the split is by molecule, ranked by its mean:
    a replicate left in the core would tell the refit the held-out value it is meant to extrapolate to.
    """
    y = np.asarray(y, dtype=float)
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    labels, index = np.unique(groups, return_inverse=True)
    means = np.bincount(index, weights=y) / np.bincount(index)
    order = np.argsort(means, kind="stable")
    k = max(2, int(round(tail_fraction * len(labels))))
    held = np.isin(index, np.r_[order[:k], order[-k:]])
    return np.flatnonzero(held), np.flatnonzero(~held)


def edge_law(needed: np.ndarray, distance: np.ndarray, coverage: float, max_slope: float) -> tuple[float, float]:
    """(a, b) of σ_d = a + b·distance from the model error each held-out point needs to be covered
    and its distance beyond the fitted range: a covers `coverage` of the points predicted inside
    the range, then b covers `coverage` of those predicted beyond it (each group, so both overall)."""
    inside = distance <= 0
    a = float(np.quantile(needed[inside], coverage, method="higher")) if inside.any() else 0.0
    slopes = np.maximum(needed[~inside] - a, 0.0) / distance[~inside]
    b = float(min(np.quantile(slopes, coverage, method="higher"), max_slope)) if slopes.size else 0.0
    return a, b


def epistemic_inflation(needed: np.ndarray, latent_std: np.ndarray, coverage: float, max_inflation: float) -> float:
    """f = sqrt(1 + k²), k the smallest ratio model error / latent SD that covers `coverage` of the
    held-out points on its own (`needed`: the model error each point needs, same units as latent_std)."""
    k = float(np.quantile(needed / np.maximum(latent_std, 1e-12), coverage, method="higher"))
    return float(min(np.sqrt(1.0 + k * k), max_inflation))


def beyond(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """How far each value lies outside [low, high] (0 inside), same units."""
    return np.maximum(0.0, np.maximum(values - high, low - values))
