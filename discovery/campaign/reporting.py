"""From a round's explicit inputs (`RoundReport`) to `report.html`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.model import Prediction, PropertyModel, TargetTransform
from discovery.objective import Direction
from discovery.report import FurtherProperty, ReportData, ReportOptions, loo_summary, render_report


@dataclass(frozen=True)
class RoundReport:
    """What a round's report is made of.

    Attributes:
        campaign, round, target, unit, direction, limits: The campaign and its property.
        model_name: The model's configuration name; `model` the fitted model.
        X, y, noise_sd: The training measurements (featurised rows, replicates separate), their
            values and the lab's uncertainties (NaN: none given).
        measurements: The current measurements (candidate_id, smiles, value, round, ...).
        failed: The failed experiments (candidate_id, smiles, reason, round).
        notes: Campaign-level warnings for the top of the report; `feasibility_note` how the
            failures were used.
        further: Each further objective or constraint (`campaign.properties`) as the report
            shows it.
        proposals: This round's `PROPOSALS` table; `previous_proposals` the last round's, or None.
        pool: The predicted candidates (candidate_id, smiles, ...); `pool_prediction` the model's
            reported prediction for them, aligned.
        pool_summary: How the pool was generated (counts), or None.
        n_failures: Molecules that could not be used so far; `store_path` where they are listed.
    """

    campaign: str
    round: int
    target: str
    unit: str
    direction: Direction
    limits: tuple[float | None, float | None]
    model_name: str
    model: PropertyModel
    X: pd.DataFrame
    y: np.ndarray
    noise_sd: np.ndarray | None
    measurements: pd.DataFrame
    failed: pd.DataFrame
    proposals: pd.DataFrame
    previous_proposals: pd.DataFrame | None
    pool: pd.DataFrame
    pool_prediction: Prediction
    pool_summary: dict[str, Any] | None
    n_failures: int
    store_path: Path
    notes: tuple[str, ...] = ()
    feasibility_note: str = ""
    further: tuple[FurtherProperty, ...] = ()


def write_report(report: RoundReport, path: Path, options: ReportOptions) -> Path:
    """Render `report` to `path` (HTML, one file); returns the path."""
    model = report.model
    measured = report.measurements
    last_round = None
    if report.previous_proposals is not None and len(report.previous_proposals):
        previous = report.previous_proposals
        values = measured[measured["round"] == report.round - 1].groupby("candidate_id")["value"].mean()
        answered = previous[previous["candidate_id"].isin(values.index)]
        if len(answered):
            last_round = pd.DataFrame({
                "smiles": answered["smiles"], "mean": answered["mean"], "lower_90": answered["lower_90"],
                "upper_90": answered["upper_90"], "measured": values.loc[answered["candidate_id"]].to_numpy(),
            })
    warnings = list(report.notes)
    if report.n_failures:
        warnings.append(f"{report.n_failures} molecule(s) could not be used (unparsable or QM failure); see the "
                        f"failures table in {report.store_path}")
    data = ReportData(
        campaign=report.campaign,
        round=report.round,
        target=report.target,
        direction=report.direction,
        measured=measured.groupby("candidate_id", as_index=False, sort=True).agg(
            smiles=("smiles", "first"), value=("value", "mean"), round=("round", "min")),
        proposals=report.proposals,
        pool=_pool_table(report.pool, report.pool_prediction),
        coefficients=model.coefficients() if model.capabilities.coefficients else _empty_coefficients(),
        diagnostics=model.diagnostics_,
        cv=loo_summary(model, report.X, report.y, report.limits, report.noise_sd),
        last_round=last_round,
        warnings=warnings,
        pool_summary=report.pool_summary,
        unit=report.unit,
        model_name=report.model_name,
        model_scale=f"ln {report.target}" if model.target_transform is TargetTransform.LOG else None,
        failed=report.failed[["candidate_id", "smiles", "reason", "round"]],
        feasibility_note=report.feasibility_note,
        further=report.further,
    )
    return render_report(data, path, options)


def _pool_table(pool: pd.DataFrame, prediction: Prediction) -> pd.DataFrame:
    """Each candidate's point prediction and the 90 % interval of a new measurement."""
    lower, upper = prediction.interval(0.9)
    return pd.DataFrame({"candidate_id": pool["candidate_id"], "mean": prediction.mean, "lower_90": lower,
                         "upper_90": upper})


def _empty_coefficients() -> pd.DataFrame:
    return pd.DataFrame({"term": [], "label": [], "mean": np.array([]), "lower_5": np.array([]),
                         "upper_95": np.array([]), "excludes_zero": np.array([], dtype=bool)})
