"""Rank-normalised split R-hat and bulk effective sample size of many parameters at once.

The same estimators as ArviZ's `rhat(method="rank")` and `ess(method="bulk")` (Vehtari, Gelman,
Simpson, Carpenter & Bürkner 2021, "Rank-normalization, folding, and localization: an improved
R-hat for assessing convergence of MCMC", Bayesian Analysis 16, 667), vectorised over parameters:
ArviZ evaluates them one scalar parameter at a time in Python, which for the ~1,000 coefficients
of an interaction model took seconds per fit. `tests/test_convergence.py` checks both against
ArviZ to rounding.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.fft import next_fast_len


def rank_rhat(draws: np.ndarray) -> np.ndarray:
    """max(bulk, tail) rank-normalised split R-hat, shape (K,), of draws shaped (chains, draws, K);
    NaN for a parameter that never changes."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _rank_rhat(draws)


def bulk_ess(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size, shape (K,), of draws shaped (chains, draws, K)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _ess(_z_scale(_split_chains(draws)))


def _rank_rhat(draws: np.ndarray) -> np.ndarray:
    split = _split_chains(draws)
    bulk = _rhat(_z_scale(split))
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[-1]), axis=0))
    return np.maximum(bulk, _rhat(_z_scale(folded)))


def _split_chains(draws: np.ndarray) -> np.ndarray:
    """Each chain's first and last halves as separate chains: (2·chains, draws // 2, K)."""
    half = draws.shape[1] // 2
    return np.concatenate([draws[:, :half], draws[:, -half:]], axis=0)


def _z_scale(draws: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks (fractional offset 3/8, as ArviZ), per parameter."""
    chains, n, k = draws.shape
    flat = draws.reshape(-1, k)
    rank = stats.rankdata(flat, method="average", axis=0)
    size = flat.shape[0]
    return stats.norm.ppf((rank - 0.375) / (size + 0.25)).reshape(chains, n, k)


def _rhat(draws: np.ndarray) -> np.ndarray:
    n = draws.shape[1]
    chain_mean = draws.mean(axis=1)
    within = draws.var(axis=1, ddof=1).mean(axis=0)
    between = n * chain_mean.var(axis=0, ddof=1)
    return np.sqrt((between / within + n - 1) / n)


def _ess(draws: np.ndarray) -> np.ndarray:
    """Geyer's initial monotone sequence estimator on (chains, draws, K), as ArviZ's `_ess`."""
    chains, n, k = draws.shape
    centred = draws - draws.mean(axis=1, keepdims=True)
    size = next_fast_len(2 * n)  # zero padding: no circular wrap-around
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conjugate(spectrum), n=size, axis=1)[:, :n] / n  # (chains, lags, K)
    mean_acov = acov.mean(axis=0)  # (lags, K)
    mean_var = mean_acov[0] * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if chains > 1:
        var_plus = var_plus + draws.mean(axis=1).var(axis=0, ddof=1)
    rho = 1.0 - (mean_var - mean_acov) / var_plus  # (lags, K); rho[0] is 1
    rho[0] = 1.0
    # pairs m = (rho[2m], rho[2m+1]); ArviZ reads pairs 0..last (its loop stops before lag n - 2)
    # and treats the last one it reads like the first with a negative sum: only its even lag counts
    last = (n - 4 if (n - 4) % 2 else n - 5) // 2 + 1
    even, odd = rho[0 : 2 * last + 1 : 2], rho[1 : 2 * last + 2 : 2]
    sums = even + odd
    # initial positive sequence: the pairs before the first with a negative sum
    negative = sums < 0.0
    negative[0] = False
    negative[last] = True
    first_negative = negative.argmax(axis=0)
    keep = np.arange(last + 1)[:, None] < first_negative[None, :]
    # initial monotone sequence: each kept pair sum no larger than the one before
    monotone = np.minimum.accumulate(np.where(keep, sums, np.inf), axis=0)
    total = np.where(keep, monotone, 0.0).sum(axis=0)
    # the lag just past the kept pairs adds its even autocorrelation when positive (ArviZ's
    # "improve estimation" step)
    stop_even = np.take_along_axis(even, first_negative[None, :], axis=0)[0]
    extra = np.where(stop_even > 0, stop_even, 0.0)
    tau = -1.0 + 2.0 * total + extra
    size_total = chains * n
    tau = np.maximum(tau, 1.0 / np.log10(size_total))
    ess = size_total / tau
    constant = (draws.max(axis=(0, 1)) - draws.min(axis=(0, 1))) < np.finfo(float).resolution
    return np.where(constant, float(size_total), ess)
