"""What a round's report shows: the `ReportData` contract between the campaign loop and the report.

Column contracts (extra columns are ignored; missing ones raise a ValueError naming them):

- `measured`: smiles, value, round (0 = seed data), candidate_id; optional name (shown for the best)
- `proposals`: the `discovery.tables.PROPOSALS` table
- `pool`: mean, lower_90, upper_90 (the 90 % interval of a new measurement), one row per pool
  candidate (100k rows are fine); optional candidate_id
- `coefficients`: term, label, mean, lower_5, upper_95, excludes_zero (as `BayesianILR.coefficients()`)
- `cv`: smiles, y, mean, lower_90, upper_90, pit — cross-validated predictive summaries of the
  measured molecules (`mean` is the point prediction, a median for skewed predictives); `pit` is the probability integral transform P(Y_pred <= y) under the
  held-out predictive, so the coverage of any central interval follows from it (a central
  p-interval covers y exactly when |pit - 0.5| <= p/2). `predictive_summary` builds this table
  from predictive draws.
- `last_round`: smiles, mean, lower_90, upper_90, measured — the previous round's proposals,
  as predicted then, with the value the lab measured.
- `failed`: candidate_id, smiles, reason, round — experiments the lab could not carry out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from discovery.model import FitDiagnostics, PropertyModel, TargetTransform, molecule_groups
from discovery.objective import Constraint, Direction
from discovery.tables import PROPOSALS

MEASURED_COLUMNS = ("smiles", "value", "round", "candidate_id")
POOL_COLUMNS = ("mean", "lower_90", "upper_90")
COEFFICIENT_COLUMNS = ("term", "label", "mean", "lower_5", "upper_95", "excludes_zero")
CV_COLUMNS = ("smiles", "y", "mean", "lower_90", "upper_90", "pit")
LAST_ROUND_COLUMNS = ("smiles", "mean", "lower_90", "upper_90", "measured")
FAILED_COLUMNS = ("candidate_id", "smiles", "reason", "round")


@dataclass(frozen=True)
class FurtherProperty:
    """A property the batch was chosen on besides the target (`campaign.properties`).

    Attributes:
        name: Its proposal column: a descriptor column, or a measured property's name (then
            `<name>_lower_90` and `<name>_upper_90` hold the 90 % interval).
        description: In words, e.g. "gap_ev >= 3 eV" or "boiling_point_k: maximised".
        unit: For axis labels ("" when dimensionless).
        direction: Max or min for a further objective; None for a constraint.
        constraints: The property's constraints (none for an objective), property units.
        measured: Its value for the measured molecules, indexed by candidate_id (computed for
            every one; measured only for some).
        modelled: Measured by the lab and predicted by a model of its own.
        health: That model's sampler warnings in words ("": none, or not modelled).
        cv: That model's leave-one-out predictions of its measured molecules (the `cv` table,
            `CV_COLUMNS`), or None.
    """

    name: str
    description: str
    unit: str = ""
    direction: Direction | None = None
    constraints: tuple[Constraint, ...] = ()
    measured: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    modelled: bool = False
    health: str = ""
    cv: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.cv is not None:
            missing = [c for c in CV_COLUMNS if c not in self.cv.columns]
            if missing:
                raise ValueError(f"FurtherProperty.cv lacks columns {missing} (has {list(self.cv.columns)})")

    @property
    def label(self) -> str:
        name = self.name.replace("_", " ")
        return f"{name} ({self.unit})" if self.unit else name

    @property
    def is_constraint(self) -> bool:
        return self.direction is None

    def meets(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Whether each value meets every constraint (always True for an objective; False for NaN)."""
        values = np.asarray(values, dtype=np.float64)
        ok = np.isfinite(values) | (not self.is_constraint)
        for constraint in self.constraints:
            ok &= constraint.bound.satisfied(values, constraint.threshold)
        return ok


@dataclass
class ReportData:
    """Everything one round's report shows (see the module docstring for the table columns).

    Attributes:
        campaign: Campaign name.
        round: The round these proposals are for (measured data has rounds < this).
        target: Property column name, e.g. "dielectric_constant".
        direction: Which way is better ("max" or "min").
        measured: Every measured molecule so far, one row each (replicates averaged).
        proposals: The candidates proposed for the lab, ranked.
        pool: Predicted value and 90 % interval of every pool candidate.
        coefficients: Posterior summary of the model terms, strongest first.
        diagnostics: The model's `FitDiagnostics` (None for a model without a posterior sample).
        cv: Cross-validated predictions of the measured molecules, or None.
        last_round: The previous round's proposals with their measured values, or None.
        warnings: Campaign-level warnings, shown first.
        pool_summary: Counts from pool generation: flat {name: count}, a nested dict under
            "rejected" ({reason: count}) is shown one row per reason.
        unit: Unit of the target for axis labels and tables ("" when dimensionless).
        model_name: Short description of the model, shown in the header.
        model_scale: The scale the model is linear in, when not the target itself (e.g.
            "ln dielectric constant" for a log-target model): the unit of the coefficients and of
            the calibrated model error. None: `target_label`.
        failed: Failed experiments (never proposed again), or None.
        feasibility_note: How the failures were used this round (one sentence), or "".
        further: Each further objective or constraint the batch was chosen on
            (`campaign.properties`), in the campaign's order.
    """

    campaign: str
    round: int
    target: str
    direction: Direction
    measured: pd.DataFrame
    proposals: pd.DataFrame
    pool: pd.DataFrame
    coefficients: pd.DataFrame
    diagnostics: FitDiagnostics | None
    cv: pd.DataFrame | None = None
    last_round: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    pool_summary: dict[str, Any] | None = None
    unit: str = ""
    model_name: str = "Bayesian interaction linear regression"
    model_scale: str | None = None
    failed: pd.DataFrame | None = None
    feasibility_note: str = ""
    further: tuple[FurtherProperty, ...] = ()

    def __post_init__(self) -> None:
        self.direction = Direction(self.direction)
        tables = {
            "measured": (self.measured, MEASURED_COLUMNS),
            "proposals": (self.proposals, PROPOSALS.names),
            "pool": (self.pool, POOL_COLUMNS),
            "coefficients": (self.coefficients, COEFFICIENT_COLUMNS),
            "cv": (self.cv, CV_COLUMNS),
            "last_round": (self.last_round, LAST_ROUND_COLUMNS),
            "failed": (self.failed, FAILED_COLUMNS),
        }
        for name, (table, columns) in tables.items():
            if table is None:
                continue
            missing = [c for c in columns if c not in table.columns]
            if missing:
                raise ValueError(f"ReportData.{name} lacks columns {missing} (has {list(table.columns)})")

    @property
    def best_measured(self) -> pd.Series | None:
        """The best measured row (by `direction`), or None before any measurement."""
        values = self.measured["value"].astype(float)
        if values.notna().sum() == 0:
            return None
        index = values.idxmax() if self.direction is Direction.MAX else values.idxmin()
        return self.measured.loc[index]

    @property
    def scale_label(self) -> str:
        """What the coefficients are effects on (`model_scale`, else `target_label`)."""
        return self.model_scale or self.target_label

    @property
    def target_label(self) -> str:
        """Human-readable target with unit, e.g. "dielectric constant" or "Tg (K)"."""
        name = self.target.replace("_", " ")
        return f"{name} ({self.unit})" if self.unit else name


def predictive_summary(
    smiles: list[str] | pd.Series,
    y: np.ndarray,
    draws: np.ndarray,
    weights: np.ndarray | None = None,
    point: str = "mean",
) -> pd.DataFrame:
    """The `cv` table from held-out predictive draws of new observations.

    Args:
        smiles: The measured molecules, length n.
        y: Their measured values, shape (n,).
        draws: Predictive draws of an observation, shape (S, n), each column from a model that
            did not see that molecule (K-fold refits), or from one fit with `weights`.
        weights: Optional normalised importance weights, shape (S, n), columns summing to 1
            (e.g. PSIS-LOO weights), to turn one full-data posterior into leave-one-out ones.
        point: The `mean` column's point prediction: "mean", or "median" for skewed predictives
            (a log-target model), as the model's own point prediction.
    """
    if point not in ("mean", "median"):
        raise ValueError(f"point must be 'mean' or 'median', got {point!r}")
    y = np.asarray(y, dtype=float)
    S, n = draws.shape
    w = np.full((S, n), 1.0 / S) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(draws, axis=0)
    sorted_draws = np.take_along_axis(draws, order, axis=0)
    cumulative = np.cumsum(np.take_along_axis(w, order, axis=0), axis=0)

    def quantile(q: float) -> np.ndarray:
        # first sorted draw whose cumulative weight reaches q
        rows = np.minimum((cumulative < q).sum(axis=0), S - 1)
        return sorted_draws[rows, np.arange(n)]

    return pd.DataFrame({
        "smiles": list(smiles),
        "y": y,
        "mean": (w * draws).sum(axis=0) if point == "mean" else quantile(0.5),
        "lower_90": quantile(0.05),
        "upper_90": quantile(0.95),
        "pit": (w * (draws <= y[None, :])).sum(axis=0),
    })


def observed_coverage(pit: np.ndarray, nominal: np.ndarray) -> np.ndarray:
    """Fraction of molecules inside the central predictive interval at each nominal level."""
    distance = np.abs(np.asarray(pit, dtype=float) - 0.5)
    return np.array([(distance <= level / 2).mean() for level in np.asarray(nominal, dtype=float)])


def loo_summary(
    model: PropertyModel, X: pd.DataFrame, y: np.ndarray, limits: tuple[float | None, float | None] = (None, None),
    noise_sd: np.ndarray | None = None,
) -> pd.DataFrame | None:
    """The `cv` table of the measured molecules from one fit (`model.leave_one_out`), or None for
    a model that gives no leave-one-out predictives. The draws are clipped to the property's
    physical `limits` (None: no limit), as the proposals are.

    Rows of X are measurements: replicates of a molecule (same `identity`) are left out together
    and shown as one row, the mean of its replicates against the predictive of one new
    measurement (a mean of several is less noisy, so its interval errs on the wide side).
    """
    if not model.capabilities.leave_one_out:
        return None
    loo = model.leave_one_out(X, y, noise_sd)
    groups = molecule_groups(X)
    first = np.unique(groups, return_index=True)[1]
    means = np.bincount(groups, weights=np.asarray(y, dtype=float)) / np.bincount(groups)
    draws = loo.observation_draws[:, first]
    if limits != (None, None):
        draws = np.clip(draws, *limits)
    point = "median" if model.target_transform is TargetTransform.LOG else "mean"
    return predictive_summary(X["smiles"].iloc[first], means, draws, loo.weights[:, first], point=point)
