"""Backtests on a lookup table of measured values: the initial set and the protocol's metrics.

Protocol (keys of `conf/campaign/backtest.yaml`, stable for external evaluation):
`campaign.initial.n` molecules (default 30) drawn with the seed from those below the
`campaign.initial.max_quantile` quantile (default 0.7; above 1 - q for minimisation); the rest
of the table is the pool; `campaign.rounds` rounds of `acquisition.batch_size` picks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.chem.molecule import MoleculeError, parse_molecule
from discovery.files import atomic_write_text
from discovery.objective import Constraint, Direction, Objective


def read_lookup(path: Path, smiles_column: str, target_column: str) -> pd.DataFrame:
    """A lookup table as smiles, identity, value: unparsable or non-numeric rows are dropped,
    replicates of one molecule averaged.

    Raises:
        ValueError: a column is missing or no usable row remains.
    """
    table = pd.read_csv(path)
    for column in (smiles_column, target_column):
        if column not in table.columns:
            raise ValueError(f"{path} has no column {column!r} (columns: {list(table.columns)})")
    rows = []
    for text, value in zip(table[smiles_column], pd.to_numeric(table[target_column], errors="coerce")):
        if not np.isfinite(value):
            continue
        try:
            molecule = parse_molecule(str(text))
        except MoleculeError:
            continue
        rows.append((molecule.smiles, molecule.identity, float(value)))
    if not rows:
        raise ValueError(f"{path}: no row with a parsable SMILES and a numeric {target_column!r}")
    frame = pd.DataFrame(rows, columns=["smiles", "identity", "value"])
    return frame.groupby("identity", sort=True).agg(smiles=("smiles", "first"), value=("value", "mean")).reset_index()


def initial_set(lookup: pd.DataFrame, n: int, max_quantile: float, direction: Direction | str, seed: int) -> pd.DataFrame:
    """`n` rows drawn with `seed` from the worse `max_quantile` of the values (the lower part when
    maximising, the upper when minimising)."""
    values = lookup["value"]
    if Direction(direction) is Direction.MAX:
        eligible = lookup[values <= values.quantile(max_quantile)]
    else:
        eligible = lookup[values >= values.quantile(1 - max_quantile)]
    if len(eligible) < n:
        raise ValueError(f"only {len(eligible)} molecules below the {max_quantile} quantile; initial.n is {n}")
    rows = np.random.default_rng(seed).choice(len(eligible), n, replace=False)
    return eligible.iloc[np.sort(rows)].reset_index(drop=True)


def backtest_metrics(lookup: pd.DataFrame, measurements: pd.DataFrame, proposals: pd.DataFrame,
                     direction: Direction | str, top_fraction: float = 0.01) -> dict[str, Any]:
    """The protocol's metrics.

    Args:
        lookup: smiles, identity, value of the whole table.
        measurements: The campaign's measurements (identity, value, round; round 0 = initial).
        proposals: All proposals (round, rank, identity, mean, lower_90, upper_90).
        direction: Which way is better.

    Returns:
        experiments_to_first_top (proposals made until the first top-1 % molecule, None if never),
        top_found_fraction, normalised_best ((best - best_initial) / (best_all - best_initial),
        sign-aware), and per-round predictions against the revealed values with their coverage.
    """
    direction = Direction(direction)
    sign = direction.sign
    oriented = sign * lookup["value"].to_numpy()
    k = max(1, int(round(top_fraction * len(lookup))))
    top = set(lookup["identity"].to_numpy()[np.argsort(-oriented)[:k]])
    initial = measurements[measurements["round"] == 0]
    ordered = proposals.sort_values(["round", "rank"])
    first = next((i + 1 for i, identity in enumerate(ordered["identity"]) if identity in top), None)
    found = top & set(measurements.loc[measurements["round"] > 0, "identity"])
    best_initial = float((sign * initial["value"]).max())
    best_after = float((sign * measurements["value"]).max())
    best_all = float(oriented.max())
    span = best_all - best_initial
    revealed = ordered.merge(lookup[["identity", "value"]], on="identity", how="left")
    per_round = []
    for round_number, group in revealed.groupby("round"):
        answered = group.dropna(subset=["value"])
        inside = (answered["value"] >= answered["lower_90"]) & (answered["value"] <= answered["upper_90"])
        per_round.append({
            "round": int(round_number),
            "predicted": [float(v) for v in answered["mean"]],
            "lower_90": [float(v) for v in answered["lower_90"]],
            "upper_90": [float(v) for v in answered["upper_90"]],
            "revealed": [float(v) for v in answered["value"]],
            "coverage_90": float(inside.mean()) if len(answered) else None,
        })
    return {
        "n_table": int(len(lookup)), "n_top": k, "direction": direction.value,
        "experiments": int(len(ordered)),
        "experiments_to_first_top": first,
        "top_found_fraction": len(found) / k,
        "best_initial": sign * best_initial, "best_found": sign * best_after, "best_all": sign * best_all,
        "normalised_best": (best_after - best_initial) / span if span > 0 else 1.0,
        "rounds": per_round,
    }


def pareto_metrics(truth: pd.DataFrame, measured: pd.DataFrame, proposals: pd.DataFrame,
                   objectives: list[Objective], constraints: list[Constraint],
                   top_fraction: float = 0.01) -> dict[str, Any]:
    """The protocol's metrics with several properties (issue 17).

    Args:
        truth: One row per molecule of the lookup table with every property known: identity,
            then a column per objective and constraint name (property units).
        measured: identity and round of each molecule the campaign measured (round 0 = initial).
        proposals: All proposals (round, rank, identity).
        objectives: The objectives (the first is the target); constraints: the constraints.

    Returns:
        n_feasible (table molecules meeting every constraint), experiments_to_first_feasible_top
        (proposals made until the first feasible molecule in the top `top_fraction` of the first
        objective among the feasible ones; None if never), and hypervolume_fraction: per round,
        the hypervolume of the feasible molecules measured so far over that of the whole table's
        feasible front (objectives standardised by the table's SD; reference point the table's
        worst feasible value of each).
    """
    from botorch.utils.multi_objective.hypervolume import Hypervolume
    from botorch.utils.multi_objective.pareto import is_non_dominated
    import torch

    feasible = np.ones(len(truth), dtype=bool)
    for c in constraints:
        feasible &= c.bound.satisfied(truth[c.name].to_numpy(float), c.threshold)
    names = [o.name for o in objectives]
    signs = np.array([o.direction.sign for o in objectives])
    oriented = signs * truth[names].to_numpy(float) / truth[names].to_numpy(float).std(axis=0).clip(1e-12)
    out: dict[str, Any] = {"n_feasible": int(feasible.sum())}
    if not feasible.any():
        return {**out, "experiments_to_first_feasible_top": None, "hypervolume_fraction": []}
    reference = torch.as_tensor(oriented[feasible].min(axis=0) - 1e-9)
    hypervolume = Hypervolume(reference)

    def volume(rows: np.ndarray) -> float:
        points = torch.as_tensor(oriented[rows & feasible])
        return float(hypervolume.compute(points[is_non_dominated(points)])) if len(points) else 0.0

    whole = volume(np.ones(len(truth), dtype=bool))
    k = max(1, int(round(top_fraction * feasible.sum())))
    first_objective = np.where(feasible, oriented[:, 0], -np.inf)
    top = set(truth["identity"].to_numpy()[np.argsort(-first_objective)[:k]])
    ordered = proposals.sort_values(["round", "rank"])
    out["experiments_to_first_feasible_top"] = next(
        (i + 1 for i, identity in enumerate(ordered["identity"]) if identity in top), None)
    out["n_feasible_top"] = k
    fractions = []
    for round_number in sorted(measured["round"].unique()):
        known = truth["identity"].isin(measured.loc[measured["round"] <= round_number, "identity"]).to_numpy()
        fractions.append({"round": int(round_number), "experiments": int((measured["round"].between(1, round_number)).sum()),
                          "fraction": volume(known) / whole if whole > 0 else 1.0})
    out["hypervolume_fraction"] = fractions
    return out


def write_metrics(path: Path, metrics: dict[str, Any]) -> Path:
    return atomic_write_text(path, json.dumps(metrics, indent=2))
