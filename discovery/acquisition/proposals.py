"""What the lab sees for each chosen candidate: prediction, chances, and its nearest measured neighbour."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from discovery.acquisition.strategies import Selection
from discovery.features.fingerprints import tanimoto_similarity
from discovery.model.base import Prediction

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
    direction: str,
    level: float = 0.9,
) -> pd.DataFrame:
    """One row per chosen candidate, in pick order.

    Args:
        selection: The chosen batch (indices into the candidate arrays).
        prediction: The model's prediction for the chosen candidates only, in pick order (its
            draws give the interval and the probability of beating the best).
        candidate_ids, candidate_smiles, candidate_fps: The whole pool (fingerprints (n_pool, bits)).
        measured_ids, measured_smiles, measured_fps: The measured molecules.
        best_value: The best measured value (property units).
        direction: "max" or "min".
        level: Central interval of a new measurement, reported as lower_<100·level>/upper_<100·level>.

    Returns:
        Columns rank, candidate_id, smiles, mean, lower_90, upper_90 (a new measurement's interval),
        prob_beat_best (chance the property itself beats `best_value`), acquisition_value,
        nearest_measured_id, nearest_measured_smiles, nearest_similarity, outside_domain.
    """
    idx = selection.indices
    if len(prediction.mean) != len(idx):
        raise ValueError(f"prediction has {len(prediction.mean)} rows for {len(idx)} chosen candidates")
    lower, upper = prediction.interval(level)
    if prediction.latent_draws is not None:
        beats = prediction.latent_draws > best_value if direction == "max" else prediction.latent_draws < best_value
        prob = beats.mean(axis=0)
    else:  # a Gaussian model: the normal tail of the latent property
        from scipy import stats

        z = (prediction.mean - best_value) / np.maximum(prediction.latent_std, 1e-12)
        prob = stats.norm.cdf(z if direction == "max" else -z)
    near, similarity = nearest_measured(candidate_fps[idx], measured_fps)
    pct = int(round(100 * level))
    return pd.DataFrame({
        "rank": np.arange(1, len(idx) + 1),
        "candidate_id": [candidate_ids[i] for i in idx],
        "smiles": [candidate_smiles[i] for i in idx],
        "mean": prediction.mean,
        f"lower_{pct}": lower,
        f"upper_{pct}": upper,
        "prob_beat_best": prob,
        "acquisition_value": selection.acquisition_values,
        "nearest_measured_id": [measured_ids[j] if j >= 0 else "" for j in near],
        "nearest_measured_smiles": [measured_smiles[j] if j >= 0 else "" for j in near],
        "nearest_similarity": similarity,
        "outside_domain": similarity < DOMAIN_SIMILARITY,
    })
