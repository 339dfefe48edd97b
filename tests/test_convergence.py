"""The vectorised convergence diagnostics agree with ArviZ's, parameter by parameter."""

import arviz as az
import numpy as np
import pytest

from discovery.model.convergence import bulk_ess, rank_rhat


def _chains(seed: int, chains: int, draws: int) -> np.ndarray:
    """AR(1) chains of several mixing speeds and offsets, plus a constant and a heavy-tailed
    parameter: shape (chains, draws, 6)."""
    rng = np.random.default_rng(seed)
    rhos = np.array([0.0, 0.5, 0.9, 0.99])
    out = np.empty((chains, draws, 6))
    x = rng.normal(size=(chains, 4))
    for t in range(draws):
        x = rhos * x + np.sqrt(1 - rhos**2) * rng.normal(size=(chains, 4))
        out[:, t, :4] = x
    out[:, :, 3] += np.arange(chains)[:, None] * 0.5  # chains that disagree
    out[:, :, 4] = 2.0
    out[:, :, 5] = rng.standard_cauchy(size=(chains, draws))
    return out


@pytest.mark.parametrize(("chains", "draws"), [(4, 1000), (2, 301), (1, 64)])
def test_rhat_and_bulk_ess_match_arviz(chains, draws):
    draws_ = _chains(chains * draws, chains, draws)
    ours_rhat, ours_ess = rank_rhat(draws_), bulk_ess(draws_)
    for k in range(draws_.shape[-1]):
        theirs_rhat = az.rhat(draws_[..., k], method="rank")
        theirs_ess = az.ess(draws_[..., k], method="bulk")
        if np.isnan(theirs_rhat):
            assert np.isnan(ours_rhat[k]) or chains == 1
        else:
            np.testing.assert_allclose(ours_rhat[k], theirs_rhat, rtol=1e-9)
        np.testing.assert_allclose(ours_ess[k], theirs_ess, rtol=1e-9)
