"""Assemble the round's `ReportData` from the campaign state and render `report.html`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from discovery.model import TargetTransform
from discovery.report import ReportData, ReportOptions, loo_summary, render_report

if TYPE_CHECKING:
    from discovery.campaign.loop import Campaign, FittedRound


def write_report(campaign: Campaign, round_number: int, fitted: FittedRound) -> Path:
    """Render the report of the round `campaign.propose()` just ran; returns its path."""
    s = campaign.settings
    store = campaign.store
    model = fitted.model
    measured = store.measurements()
    pool = fitted.pool
    prediction = fitted.pool_prediction
    pool_table = pd.DataFrame({"candidate_id": pool["candidate_id"], "mean": prediction.mean,
                               "std": prediction.latent_std})
    proposals = store.proposals(round_number)
    previous = store.proposals(round_number - 1) if round_number > 1 else pd.DataFrame()
    last_round = None
    if len(previous):
        values = measured[measured["round"] == round_number - 1].groupby("candidate_id")["value"].mean()
        answered = previous[previous["candidate_id"].isin(values.index)]
        if len(answered):
            last_round = pd.DataFrame({
                "smiles": answered["smiles"], "mean": answered["mean"], "lower_90": answered["lower_90"],
                "upper_90": answered["upper_90"], "measured": values.loc[answered["candidate_id"]].to_numpy(),
            })
    failures = store.failures()
    warnings = []
    if len(failures):
        warnings.append(f"{len(failures)} molecule(s) could not be used (unparsable or QM failure); see the "
                        f"failures table in {store.path}")
    coefficients = model.coefficients() if model.capabilities.coefficients else _empty_coefficients()
    data = ReportData(
        campaign=s.campaign.name,
        round=round_number,
        target=s.campaign.target,
        direction=s.campaign.direction,
        measured=measured[["smiles", "value", "round", "candidate_id"]],
        proposals=proposals,
        pool=pool_table,
        coefficients=coefficients,
        diagnostics=model.diagnostics_,
        cv=loo_summary(model, fitted.X, fitted.y, s.campaign.limits),
        last_round=last_round,
        warnings=warnings,
        pool_summary=store.pool_summary(round_number),
        unit=s.campaign.unit,
        model_name=s.model_name,
        model_scale=(f"ln {s.campaign.target}" if model.target_transform is TargetTransform.LOG else None),
    )
    options = ReportOptions.from_dict(dict(s.report.options))
    out = render_report(data, campaign.folder / "report.html", options)
    store.log_event("report", f"report written to {out}", round_number)
    return out


def _empty_coefficients() -> pd.DataFrame:
    return pd.DataFrame({"term": [], "label": [], "mean": np.array([]), "lower_5": np.array([]),
                         "upper_95": np.array([]), "excludes_zero": np.array([], dtype=bool)})
