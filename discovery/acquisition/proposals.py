"""What the lab sees for each chosen candidate: prediction, chances, and its nearest measured neighbour."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from discovery.acquisition.strategies import Selection
from discovery.features.fingerprints import tanimoto_similarity
from discovery.model import Prediction
from discovery.objective import Direction
from discovery.tables import PROPOSALS

#: Below this Tanimoto similarity to every measured molecule a candidate is flagged as outside
#: the structural domain of the data (its prediction rests on the linear model alone).
DOMAIN_SIMILARITY = 0.3


def nearest_measured(candidate_fps: np.ndarray, measured_fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the most similar measured molecule and its Tanimoto similarity, each shape (n,)."""
    if len(measured_fps) == 0:
        n = len(candidate_fps)
        return np.full(n, -1), np.zeros(n)
    sim = tanimoto_similarity(candidate_fps, measured_fps)
    index = sim.argmax(axis=1)
    return index, sim[np.arange(len(index)), index]


def proposal_table(
    selection: Selection,
    prediction: Prediction,
    candidate_ids: Sequence[str],
    candidate_smiles: Sequence[str],
    candidate_fps: np.ndarray,
    measured_ids: Sequence[str],
    measured_smiles: Sequence[str],
    measured_fps: np.ndarray,
    best_value: float,
    direction: Direction | str,
    prob_feasible: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per chosen candidate, in pick order.

    Args:
        selection: The chosen batch (indices into the candidate arrays).
        prediction: The model's prediction for the chosen candidates only, in pick order (its
            draws give the interval and the probability of beating the best).
        candidate_ids, candidate_smiles, candidate_fps: The whole pool (fingerprints (n_pool, bits)).
        measured_ids, measured_smiles, measured_fps: The measured molecules.
        best_value: The best measured value (property units).
        direction: Which way is better ("max" or "min").
        prob_feasible: The whole pool's probability of being feasible, shape (n_pool,), or None
            before there is a feasibility model (the column is then empty).

    Returns:
        The `discovery.tables.PROPOSALS` table.
    """
    idx = selection.indices
    if len(prediction.mean) != len(idx):
        raise ValueError(f"prediction has {len(prediction.mean)} rows for {len(idx)} chosen candidates")
    direction = Direction(direction)
    lower, upper = prediction.interval(0.9)
    prob = prediction.probability_beyond(best_value, direction.sign)
    near, similarity = nearest_measured(candidate_fps[idx], measured_fps)
    return PROPOSALS.select(pd.DataFrame({
        "rank": np.arange(1, len(idx) + 1),
        "candidate_id": [candidate_ids[i] for i in idx],
        "smiles": [candidate_smiles[i] for i in idx],
        "mean": prediction.mean,
        "lower_90": lower,
        "upper_90": upper,
        "prob_beat_best": prob,
        "prob_feasible": np.full(len(idx), np.nan) if prob_feasible is None else np.asarray(prob_feasible)[idx],
        "acquisition_value": selection.acquisition_values,
        "nearest_measured_id": [measured_ids[j] if j >= 0 else "" for j in near],
        "nearest_measured_smiles": [measured_smiles[j] if j >= 0 else "" for j in near],
        "nearest_similarity": similarity,
        "outside_domain": similarity < DOMAIN_SIMILARITY,
    }))
