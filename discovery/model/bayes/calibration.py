"""Model-error calibration: an extrapolation rehearsal on the training data (see
`CalibrationSettings`) and the law it learns."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

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


class LawForm(str, enum.Enum):
    """Which corrections a `tail_refit` law uses (chosen by the nested rehearsal)."""

    INFLATION = "inflation"  # the posterior's spread stretched, no model error added
    EDGE_AND_INFLATION = "edge_and_inflation"  # ... and the edge law σ_d = a + b·d added


@dataclass(frozen=True)
class Rehearsal:
    """The held-out predictions of one extrapolation rehearsal, on the model's scale.

    Attributes:
        y, mean, std, latent_std: Held-out values, their predictive mean, SD of a new measurement
            and latent SD, each shape (m,).
        fit_min, fit_max: Range of the targets the rehearsal was fitted on (scalars, or shape (m,)
            when each point was left out alone).
    """

    y: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    latent_std: np.ndarray
    fit_min: float | np.ndarray
    fit_max: float | np.ndarray

    def needed(self, coverage: float) -> np.ndarray:
        """The model error (SD) each point needs for its central `coverage` interval to reach it, shape (m,)."""
        z = float(stats.norm.ppf(0.5 + coverage / 2))
        return np.sqrt(np.maximum(((self.y - self.mean) / z) ** 2 - self.std**2, 0.0))

    @property
    def distance(self) -> np.ndarray:
        """How far each predicted mean lies beyond the fitted range, shape (m,)."""
        return beyond(self.mean, self.fit_min, self.fit_max)

    def covered(self, inflation: float, constant: float, per_distance: float, coverage: float,
                max_error: float) -> tuple[float, float]:
        """(Share of the points inside, mean width) of the central `coverage` intervals with these
        corrections (normal approximation of the predictive; width on the model's scale)."""
        z = float(stats.norm.ppf(0.5 + coverage / 2))
        model_error = np.minimum(constant + per_distance * self.distance, max_error)
        sd = np.sqrt(self.std**2 + (inflation**2 - 1.0) * self.latent_std**2 + model_error**2)
        return float(np.mean(np.abs(self.y - self.mean) <= z * sd * (1 + 1e-12))), float(np.mean(2 * z * sd))


def size_law(r: Rehearsal, form: LawForm, quantile: float, settings: CalibrationSettings) -> tuple[float, float, float]:
    """(inflation, a, b) learned from rehearsal `r`: the edge law covering `settings.coverage` of
    its points (EDGE_AND_INFLATION only), the inflation covering `quantile` of them on its own."""
    needed = r.needed(settings.coverage)
    a, b = edge_law(needed, r.distance, settings.coverage, settings.max_per_distance) if form is LawForm.EDGE_AND_INFLATION else (0.0, 0.0)
    return epistemic_inflation(needed, r.latent_std, quantile, settings.max_inflation), a, b


def nested_choice(outer: Rehearsal, inner: Rehearsal, max_error: float,
                  settings: CalibrationSettings) -> tuple[LawForm, float, bool]:
    """The law form and inflation quantile that extrapolate one jump further, learned by
    rehearsing the rehearsal: each form is sized on `inner` (fitted inside the `outer`
    rehearsal's core, predicting that core's tails) at the smallest quantile, not below the
    nominal coverage, whose law covers `settings.coverage` of the `outer` points; of the forms
    that reach it, the one with the narrower intervals there. Returns (form, quantile, reached);
    if no form reaches it, the form that covers most, at quantile 1 (the inner rehearsal's worst point)."""
    m = len(inner.y)
    first = int(np.ceil(settings.coverage * (m - 1) - 1e-9))
    # the levels at which the inner inflation steps, each just below its order statistic so that
    # np.quantile(..., method="higher") lands on it despite rounding
    quantiles = [max(j - 1e-9, 0.0) / (m - 1) for j in range(first, m)] if m > 1 else [1.0]
    found: dict[LawForm, tuple[float, float, float]] = {}  # form: (quantile, coverage, width) on outer
    for form in LawForm:
        for q in quantiles:
            share, width = outer.covered(*size_law(inner, form, q, settings), coverage=settings.coverage,
                                         max_error=max_error)
            if share >= settings.coverage or q is quantiles[-1]:
                found[form] = (q, share, width)
                break
    reached = [f for f in found if found[f][1] >= settings.coverage]
    if reached:
        form = min(reached, key=lambda f: found[f][2])
        return form, found[form][0], True
    form = max(found, key=lambda f: found[f][1])
    return form, 1.0, False


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
