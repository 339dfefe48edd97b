"""Predicting large pools in bounded memory, keeping the draws acquisition needs."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import pandas as pd

from discovery.model.base import Prediction, PropertyModel

#: Rows per `predict` call: with 512 draws a chunk's draws take ~17 MB.
CHUNK_ROWS = 4096


@dataclass
class PoolPrediction:
    """The model's prediction for n molecules, with a fixed number of draws kept (float32).

    Attributes:
        mean, std, latent_std: Shape (n,), property units (see `Prediction`).
        latent_draws: Draws of the noise-free property, shape (s, n).
        observation_draws: Draws of a new measurement, shape (s, n), or None.
    """

    mean: np.ndarray
    std: np.ndarray
    latent_std: np.ndarray
    latent_draws: np.ndarray
    observation_draws: np.ndarray | None

    def finite(self) -> np.ndarray:
        """Mask (n,) of molecules whose summary and every draw are finite (float32 can overflow
        for a wild extrapolation of a log-scale model)."""
        ok = np.isfinite(self.mean) & np.isfinite(self.std) & np.isfinite(self.latent_draws).all(axis=0)
        if self.observation_draws is not None:
            ok &= np.isfinite(self.observation_draws).all(axis=0)
        return ok

    def clipped(self, low: float | None, high: float | None) -> PoolPrediction:
        """The prediction with every draw and the mean clipped to the property's physical limits
        (None: no limit), spreads recomputed from the clipped draws; itself without limits."""
        if low is None and high is None:
            return self
        obs = None if self.observation_draws is None else np.clip(self.observation_draws, low, high)
        latent = np.clip(self.latent_draws, low, high)
        std = self.std if obs is None else obs.std(axis=0, dtype=np.float64)
        return PoolPrediction(np.clip(self.mean, low, high), std, latent.std(axis=0, dtype=np.float64), latent, obs)

    def take(self, mask: np.ndarray) -> PoolPrediction:
        """The same prediction for the molecules where `mask` is True."""
        obs = None if self.observation_draws is None else self.observation_draws[:, mask]
        return PoolPrediction(self.mean[mask], self.std[mask], self.latent_std[mask], self.latent_draws[:, mask], obs)

    def subset(self, index: np.ndarray) -> Prediction:
        """A `Prediction` for the molecules at `index`, built from the kept draws."""
        obs = None if self.observation_draws is None else self.observation_draws[:, index].astype(np.float64)
        return Prediction(
            mean=self.mean[index], std=self.std[index], latent_std=self.latent_std[index],
            latent_draws=self.latent_draws[:, index].astype(np.float64), observation_draws=obs,
        )


def predict_pool(
    model: PropertyModel, X: pd.DataFrame, n_draws: int, seed: int, *, for_acquisition: bool = False,
) -> PoolPrediction:
    """Predict X chunk by chunk; each chunk's noise has its own seed (independent across chunks).

    Models whose `predict` takes `n_draws` / `noise_seed` (BayesianILR) get them; for others the
    first `n_draws` of their draws are kept. `for_acquisition`: the draws acquisition ranks on,
    without the epistemic inflation of the reported intervals (models that have one) and without
    observation draws (memory).

    Raises:
        ValueError: the model gives no posterior draws (acquisition needs them).
    """
    if len(X) == 0:
        raise ValueError("nothing to predict: the table is empty")
    parameters = inspect.signature(model.predict).parameters
    pieces: list[Prediction] = []
    for number, start in enumerate(range(0, len(X), CHUNK_ROWS)):
        chunk = X.iloc[start : start + CHUNK_ROWS]
        kwargs = {}
        if "n_draws" in parameters:
            kwargs["n_draws"] = n_draws
        if "noise_seed" in parameters:
            kwargs["noise_seed"] = int(seed) * 1_000_003 + number
        if for_acquisition and "epistemic_inflation" in parameters:
            kwargs["epistemic_inflation"] = False
        prediction = model.predict(chunk, **kwargs)
        if prediction.latent_draws is None:
            raise ValueError(f"{type(model).__name__} gives no posterior draws; acquisition needs a model that does")
        pieces.append(prediction)
    has_obs = pieces[0].observation_draws is not None and not for_acquisition
    return PoolPrediction(
        mean=np.concatenate([p.mean for p in pieces]),
        std=np.concatenate([p.std for p in pieces]),
        latent_std=np.concatenate([p.latent_std for p in pieces]),
        latent_draws=np.concatenate([p.latent_draws[:n_draws].astype(np.float32) for p in pieces], axis=1),
        observation_draws=(
            np.concatenate([p.observation_draws[:n_draws].astype(np.float32) for p in pieces], axis=1)
            if has_obs else None
        ),
    )
