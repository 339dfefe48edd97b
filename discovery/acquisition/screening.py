"""The screening funnel's first stage: shortlist a large generated pool without quantum chemistry.

A Tanimoto GP on Morgan fingerprints (`discovery.model.baselines.TanimotoGP`), fitted on the
measured molecules, scores every candidate by its probability of beating the best measured value,
P(f > best) for maximisation, from its Gaussian posterior of the noise-free property. The
`shortlist` best (ties broken by pool order) go on to GFN2-xTB and the main model, except a share
`explore_fraction` drawn at random from the rest: the first stage sees structure only, so a
candidate it ranks low for want of similar measured molecules still has a chance to be judged by
the descriptors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from discovery.model.baselines import TanimotoGP
from discovery.objective import Direction
from discovery.pool.settings import ScreeningMethod, ScreeningSettings


@dataclass(frozen=True)
class Screening:
    """Which candidates the first stage passes on.

    Attributes:
        kept: Passed on, shape (n_pool,), bool.
        log_probability: ln P(beats the best measured value) from the first stage, shape (n_pool,)
            (NaN when the pool was not screened).
        n_top: Kept for their rank.
        n_explore: Kept at random from below that rank.
        method: The first stage used (NONE when the pool was small enough to keep whole).
    """

    kept: np.ndarray
    log_probability: np.ndarray
    n_top: int
    n_explore: int
    method: ScreeningMethod

    def summary(self) -> dict[str, object]:
        """JSON-safe counts for the pool summary and the report."""
        return {"method": self.method.value, "screened": int(len(self.kept)), "kept": int(self.kept.sum()),
                "kept_by_rank": self.n_top, "kept_at_random": self.n_explore}


def screen(pool_smiles: Sequence[str], measured_smiles: Sequence[str], measured_values: np.ndarray,
           direction: Direction, settings: ScreeningSettings, seed: int) -> Screening:
    """Shortlist `pool_smiles` (n_pool,) with the first stage fitted on the measured molecules
    (`measured_smiles`, `measured_values` in property units, shape (n_measured,))."""
    n = len(pool_smiles)
    if settings.method is ScreeningMethod.NONE or n <= settings.shortlist:
        return Screening(np.ones(n, dtype=bool), np.full(n, np.nan), n, 0, ScreeningMethod.NONE)
    values = np.array(measured_values, dtype=float)  # a writable copy: torch refuses read-only arrays
    model = TanimotoGP(n_draws=0, seed=seed).fit(pd.DataFrame({"smiles": list(measured_smiles)}), values)
    prediction = model.predict(pd.DataFrame({"smiles": list(pool_smiles)}))
    margin = direction.sign * (prediction.mean - direction.best(values))
    log_probability = stats.norm.logcdf(margin / np.maximum(prediction.latent_std, 1e-12))
    n_explore = int(round(settings.explore_fraction * settings.shortlist))
    n_top = settings.shortlist - n_explore
    order = np.lexsort((np.arange(n), -log_probability))  # best first, pool order among ties
    rest = order[n_top:]
    explore = np.random.default_rng([seed, 2]).choice(rest, size=min(n_explore, len(rest)), replace=False)
    kept = np.zeros(n, dtype=bool)
    kept[order[:n_top]] = True
    kept[explore] = True
    return Screening(kept, log_probability, n_top, len(explore), settings.method)
