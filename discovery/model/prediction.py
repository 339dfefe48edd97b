"""`Prediction`: what every property model says about n molecules, in the units of the target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Prediction:
    """Predictive distribution for n molecules, in the units of the target.

    Attributes:
        mean: Point prediction, shape (n,) (the posterior median for a log-target model).
        std: Standard deviation of a new observation (epistemic + noise), shape (n,).
        latent_std: Standard deviation of the noise-free property (epistemic only), shape (n,).
        latent_draws: Posterior draws of the noise-free property, shape (s, n), or None for a
            model without a posterior sample (acquisition needs them).
        observation_draws: Posterior predictive draws of an observation, shape (s, n), or None
            (then intervals come from a normal with `mean` and `std`).

    Draws may be float32 (large pools); summaries computed here are float64.
    """

    mean: np.ndarray
    std: np.ndarray
    latent_std: np.ndarray
    latent_draws: np.ndarray | None = None
    observation_draws: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.mean)

    @property
    def n_draws(self) -> int:
        """Posterior draws kept (0 without draws)."""
        return 0 if self.latent_draws is None else int(self.latent_draws.shape[0])

    # -- summaries ----------------------------------------------------------------------------
    def quantiles(self, q: float | Sequence[float] | np.ndarray) -> np.ndarray:
        """Quantiles of a new observation, shape (len(q), n) (or (n,) for scalar q).

        From the posterior predictive draws when present, else from a normal with `mean`/`std`.
        """
        q_arr = np.atleast_1d(np.asarray(q, dtype=float))
        if self.observation_draws is not None:  # in the draws' own precision: a large pool's float32 table is not copied
            out = np.quantile(self.observation_draws, q_arr, axis=0).astype(np.float64)
        else:
            out = self.mean[None, :] + stats.norm.ppf(q_arr)[:, None] * self.std[None, :]
        return out[0] if np.ndim(q) == 0 else out

    def interval(self, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval (lower, upper) of a new observation at `level`."""
        lower, upper = self.quantiles(np.array([(1 - level) / 2, (1 + level) / 2]))
        return lower, upper

    def log_density(self, y: np.ndarray) -> np.ndarray:
        """Log predictive density of observed values y, shape (n,), under a normal approximation."""
        return stats.norm.logpdf(np.asarray(y, float), loc=self.mean, scale=self.std)

    def probability_beyond(self, value: float, sign: float) -> np.ndarray:
        """P(the property itself lies beyond `value`) per molecule, shape (n,): above it for
        sign +1 (maximising), below it for sign -1. From the latent draws when present, else
        from a normal with `mean` and `latent_std`."""
        if self.latent_draws is not None:
            return (sign * (np.asarray(self.latent_draws, dtype=np.float64) - value) > 0).mean(axis=0)
        z = sign * (self.mean - value) / np.maximum(self.latent_std, 1e-12)
        return stats.norm.cdf(z)

    def finite(self) -> np.ndarray:
        """Mask (n,) of molecules whose summaries and every draw are finite (float32 draws of a
        wild extrapolation by a log-scale model can overflow)."""
        ok = np.isfinite(self.mean) & np.isfinite(self.std) & np.isfinite(self.latent_std)
        for draws in (self.latent_draws, self.observation_draws):
            if draws is not None:
                ok &= np.isfinite(draws).all(axis=0)
        return ok

    # -- new predictions from this one ----------------------------------------------------------
    def take(self, index: np.ndarray) -> Prediction:
        """The prediction for the molecules at `index` (positions or a boolean mask), in its order."""
        index = np.asarray(index)
        return Prediction(
            mean=self.mean[index], std=self.std[index], latent_std=self.latent_std[index],
            latent_draws=None if self.latent_draws is None else self.latent_draws[:, index],
            observation_draws=None if self.observation_draws is None else self.observation_draws[:, index],
        )

    def clipped(self, low: float | None, high: float | None) -> Prediction:
        """Every draw and the point prediction clipped to the property's physical limits (None:
        no limit), spreads recomputed from the clipped draws; itself when there are no limits."""
        if low is None and high is None:
            return self
        latent = None if self.latent_draws is None else np.clip(self.latent_draws, low, high)
        obs = None if self.observation_draws is None else np.clip(self.observation_draws, low, high)
        return Prediction(
            mean=np.clip(self.mean, low, high),
            std=self.std if obs is None else obs.std(axis=0, dtype=np.float64),
            latent_std=self.latent_std if latent is None else latent.std(axis=0, dtype=np.float64),
            latent_draws=latent, observation_draws=obs,
        )

    @classmethod
    def concat(cls, pieces: Sequence[Prediction]) -> Prediction:
        """One prediction of the molecules of `pieces` in order (all with draws or all without)."""
        if not pieces:
            raise ValueError("nothing to concatenate")

        def draws(name: str) -> np.ndarray | None:
            parts = [getattr(p, name) for p in pieces]
            if any(part is None for part in parts):
                return None
            return np.concatenate(parts, axis=1)

        return cls(
            mean=np.concatenate([p.mean for p in pieces]), std=np.concatenate([p.std for p in pieces]),
            latent_std=np.concatenate([p.latent_std for p in pieces]),
            latent_draws=draws("latent_draws"), observation_draws=draws("observation_draws"),
        )

    @classmethod
    def gaussian(cls, mean: np.ndarray, latent_std: np.ndarray | float, noise_std: float | np.ndarray) -> Prediction:
        """A prediction from a mean, an epistemic std and a noise std (models without draws)."""
        mean = np.asarray(mean, float)
        latent_std = np.broadcast_to(np.asarray(latent_std, float), mean.shape).copy()
        std = np.sqrt(latent_std**2 + np.asarray(noise_std, float) ** 2)
        return cls(mean=mean, std=np.broadcast_to(std, mean.shape).copy(), latent_std=latent_std)
