"""Exact blocked Gibbs sampling of the regularised-horseshoe regression (the model of
`pymc_model`, same prior, same likelihood), without gradients or step sizes to tune.

The model is linear-Gaussian given its scales, so most of it has exact conditionals. One sweep:

1. (σ, τ_0, τ_1) by random-walk Metropolis on their logarithms with the coefficients integrated
   out: p(y | σ, τ, λ, c²) = N(y; 0, R + X D Xᵀ), R the noise covariance, X = [1, Z], D the prior
   variances of (α, β). Updating the global scales jointly with the coefficients instead of
   given them is what makes the horseshoe's Gibbs sampler mix (Johndrow, Orenstein &
   Bhattacharya 2020, "Scalable approximate MCMC algorithms for the horseshoe prior", JMLR 21, 73).
   The proposal's covariance is learnt during warm-up (Haario, Saksman & Tamminen 2001).
2. (α, β) from their Gaussian conditional, exactly: with fewer molecules than columns by
   Bhattacharya, Chakraborty & Mallick (2016, Biometrika 103, 985; O(n²P)), else by a Cholesky
   factor of the P × P precision (Rue 2001). Both reuse the factor step 1 computed.
3. λ_j by the Makalic & Schmidt (2016, IEEE Signal Process. Lett. 23, 179) auxiliary variables
   ν_j: λ_j² | ν_j, β_j is proposed from the plain horseshoe's inverse-gamma conditional and
   accepted with the ratio of the slab factor, √(1 + τ²λ'²/c²) / √(1 + τ²λ²/c²), which makes
   it exact for the regularised horseshoe (β_j ~ N(0, c²τ²λ_j²/(c² + τ²λ_j²))).
4. c² by slice sampling on log c² (Neal 2003) given β, λ, τ.
5. Student-t likelihood only: the per-molecule precision weights ω_i from their gamma conditional.

Everything runs on the standardised scale of `RegressionProblem`; chains run one after another
or in worker processes. This module imports only numpy and scipy, so a worker starts fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg

#: Smallest prior variance of a coefficient: below it a term is zero for every purpose, and
#: Cholesky factors of 1/variance stay finite.
_MIN_VARIANCE = 1e-24
#: Warm-up of the Metropolis step: acceptance it aims at (Roberts & Rosenthal 2001 for a few
#: dimensions) and how often its proposal covariance is re-estimated.
_TARGET_ACCEPTANCE = 0.3
_ADAPT_EVERY = 25


@dataclass(frozen=True)
class GibbsProblem:
    """The standardised regression and its prior, as plain arrays (picklable for workers).

    Attributes:
        Z: Design, shape (n, P). y: target, shape (n,).
        groups: Shrinkage group of each column, shape (P,).
        tau_scale: Prior scale of τ_g per unit of σ, shape (2,).
        intercept_scale, noise_scale, noise_floor, slab_scale, slab_df: The prior's constants.
        student_t_nu: Degrees of freedom of a Student-t likelihood, or None for a normal one.
    """

    Z: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    tau_scale: np.ndarray
    intercept_scale: float
    noise_scale: float
    noise_floor: float
    slab_scale: float
    slab_df: float
    student_t_nu: float | None


@dataclass(frozen=True)
class ChainDraws:
    """One chain's draws after warm-up: alpha (S,), beta (S, P), sigma (S,), tau (S, 2), c2 (S,),
    and the Metropolis step's acceptance rate after warm-up."""

    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    tau: np.ndarray
    c2: np.ndarray
    acceptance: float


class _Factor:
    """N(y; 0, R + X D Xᵀ) for given prior variances d (P+1,) and noise variances r (n,): its log
    density and exact draws of θ = (α, β) from their Gaussian conditional."""

    def __init__(self, X: np.ndarray, y: np.ndarray, d: np.ndarray, r: np.ndarray, gram: np.ndarray | None,
                 Xty: np.ndarray | None) -> None:
        self.X, self.y, self.d, self.r = X, y, d, r
        n, p = X.shape
        self.n_space = gram is None
        if self.n_space:  # Σ = R^½ (I + Φ D Φᵀ) R^½, Φ = R^-½ X
            self.phi = X / np.sqrt(r)[:, None]
            scaled = self.phi * np.sqrt(d)
            M = scaled @ scaled.T
            M[np.diag_indices(n)] += 1.0
            self.L = linalg.cholesky(M, lower=True, check_finite=False)
            self.y_tilde = y / np.sqrt(r)
            half = linalg.solve_triangular(self.L, self.y_tilde, lower=True, check_finite=False)
            log_det = np.log(r).sum() + 2.0 * np.log(np.diag(self.L)).sum()
            quadratic = float(half @ half)
        else:  # Woodbury: Q = D⁻¹ + Xᵀ R⁻¹ X, homoscedastic R = r·I (gram = XᵀX, Xty = Xᵀy)
            Q = gram / r[0]
            Q[np.diag_indices(p)] += 1.0 / d
            self.L = linalg.cholesky(Q, lower=True, check_finite=False)
            self.b = Xty / r[0]
            half = linalg.solve_triangular(self.L, self.b, lower=True, check_finite=False)
            self.half = half
            log_det = n * np.log(r[0]) + np.log(d).sum() + 2.0 * np.log(np.diag(self.L)).sum()
            quadratic = float(y @ y) / r[0] - float(half @ half)
        self.log_likelihood = -0.5 * (log_det + quadratic)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """θ ~ N(Q⁻¹b, Q⁻¹), Q = D⁻¹ + Xᵀ R⁻¹ X."""
        p = len(self.d)
        if self.n_space:
            u = np.sqrt(self.d) * rng.standard_normal(p)
            v = self.phi @ u + rng.standard_normal(len(self.y))
            w = linalg.cho_solve((self.L, True), self.y_tilde - v, check_finite=False)
            return u + self.d * (self.phi.T @ w)
        z = self.half + rng.standard_normal(p)
        return linalg.solve_triangular(self.L, z, lower=True, trans="T", check_finite=False)


def _prior_variances(tau_j: np.ndarray, lam2: np.ndarray, c2: float) -> np.ndarray:
    """v_j = c² τ² λ_j² / (c² + τ² λ_j²): the regularised horseshoe's variance of β_j."""
    t = tau_j**2 * lam2
    return np.maximum(c2 * t / (c2 + t), _MIN_VARIANCE)


def _log_half_cauchy(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return -np.log(scale) - np.log1p((x / scale) ** 2)


def run_chain(problem: GibbsProblem, draws: int, tune: int, seed: int | list[int], scale_steps: int = 1,
              collapsed: int | None = 0, local_scales: bool = True) -> ChainDraws:
    """One chain: `tune` warm-up sweeps (adapting the Metropolis proposal), then `draws` sweeps kept.

    Args:
        problem: The regression and its prior.
        draws, tune: Sweeps kept and warm-up sweeps.
        seed: Seed of this chain (chains get distinct seeds).
        scale_steps: Metropolis updates of (σ, τ) per sweep (each costs one factorisation).
    """
    rng = np.random.default_rng(seed)
    pr = problem
    Z, y = pr.Z, pr.y
    n, P = Z.shape
    X = np.column_stack([np.ones(n), Z])
    p = P + 1
    student = pr.student_t_nu is not None
    # factorise in the smaller space; a Student-t likelihood reweights rows every sweep, which the
    # P-space form would pay for with a new Gram matrix, and the collapsed λ updates need the
    # n-space factor: with more columns than molecules, where they matter, it is as cheap
    n_space = student or n <= p or n * n * p + n**3 / 3 <= p**3 / 3
    gram = None if n_space else X.T @ X
    Xty = None if n_space else X.T @ y
    groups = pr.groups
    a_slab, b_slab = pr.slab_df / 2.0, pr.slab_df * pr.slab_scale**2 / 2.0

    # -- dispersed start: a ridge-like scale for σ, global scales and λ from their priors ----------
    sigma0 = max(0.5 * float(np.std(y)), pr.noise_floor + 0.05)
    excess = max(sigma0 - pr.noise_floor, 1e-3) * math.exp(0.3 * rng.standard_normal())
    tau = pr.tau_scale * (pr.noise_floor + excess) * np.exp(rng.standard_normal(2))
    lam2 = np.abs(rng.standard_cauchy(P)) ** 2 + 1e-6 if local_scales else np.ones(P)
    nu_aux = 1.0 / rng.gamma(0.5, 1.0, P)
    c2 = pr.slab_scale**2
    omega = np.ones(n)

    def factor(excess: float, tau: np.ndarray, lam2: np.ndarray, c2: float, omega: np.ndarray) -> _Factor:
        sigma = pr.noise_floor + excess
        d = np.r_[pr.intercept_scale**2, _prior_variances(tau[groups], lam2, c2)]
        return _Factor(X, y, d, sigma**2 / omega, gram, Xty)

    def log_scales_prior(u: np.ndarray) -> float:
        excess, tau = math.exp(u[0]), np.exp(u[1:])
        sigma = pr.noise_floor + excess
        return (-0.5 * (excess / pr.noise_scale) ** 2 + u[0]
                + float((_log_half_cauchy(tau, pr.tau_scale * sigma) + u[1:]).sum()))

    u = np.r_[math.log(excess), np.log(tau)]
    proposal = np.diag([0.3, 0.5, 0.5]) ** 2
    log_step = math.log(2.38**2 / 3)
    history: list[np.ndarray] = []
    accepted = 0
    total = tune + draws
    out = {"alpha": np.empty(draws), "beta": np.empty((draws, P)), "sigma": np.empty(draws),
           "tau": np.empty((draws, 2)), "c2": np.empty(draws)}
    current = factor(math.exp(u[0]), np.exp(u[1:]), lam2, c2, omega)
    for sweep in range(total):
        # 1. (σ, τ) with (α, β) integrated out
        chol = np.linalg.cholesky(proposal * math.exp(log_step))
        for _ in range(scale_steps):
            u_new = u + chol @ rng.standard_normal(3)
            candidate = factor(math.exp(u_new[0]), np.exp(u_new[1:]), lam2, c2, omega)
            log_ratio = (candidate.log_likelihood + log_scales_prior(u_new)
                         - current.log_likelihood - log_scales_prior(u))
            accept = math.log(rng.random()) < log_ratio
            if accept:
                u, current = u_new, candidate
            if sweep < tune:
                log_step += (float(accept) - _TARGET_ACCEPTANCE) / math.sqrt(sweep + 1.0)
            elif accept:
                accepted += 1
        if sweep < tune:
            history.append(u.copy())
            if len(history) >= 2 * _ADAPT_EVERY and sweep % _ADAPT_EVERY == 0:
                recent = np.array(history[len(history) // 2 :])
                proposal = np.cov(recent.T) + 1e-6 * np.eye(3)
        excess, tau = math.exp(u[0]), np.exp(u[1:])
        sigma = pr.noise_floor + excess
        if current.n_space and collapsed != 0:
            subset = np.arange(P) if collapsed is None else rng.choice(P, min(collapsed, P), replace=False)
            lam2 = _collapsed_lambdas(rng, current, subset, lam2, tau[groups], c2)
            current = factor(excess, tau, lam2, c2, omega)
        # 2. (α, β) exactly
        theta = current.draw(rng)
        beta = theta[1:]
        # 3. τ_g against its λ_j: the likelihood sees only τ_g·λ_j, so slide along that ridge exactly
        for g in range(2 if local_scales else 0):
            in_group = groups == g
            lam, scale = np.sqrt(lam2[in_group]), pr.tau_scale[g] * sigma
            shift = _slice(rng, 0.0, lambda s, t=tau[g], lam=lam, scale=scale: _log_rescaled(s, t, lam, scale))
            tau[g] *= math.exp(shift)
            lam2[in_group] *= math.exp(-2.0 * shift)
        u[1:] = np.log(tau)
        # 4. λ² through ν, with the slab's acceptance ratio
        tau_j = tau[groups]
        nu_aux = 1.0 / rng.gamma(1.0, 1.0 / (1.0 + 1.0 / lam2))
        rate = 1.0 / nu_aux + beta**2 / (2.0 * tau_j**2)
        lam2_new = rate / rng.gamma(1.0, 1.0, P)
        slab = np.sqrt((1.0 + tau_j**2 * lam2_new / c2) / (1.0 + tau_j**2 * lam2 / c2))
        if local_scales:
            lam2 = np.where(rng.random(P) < slab, lam2_new, lam2)
        # 5. c² by slice sampling on log c²
        c2 = _slice_log_c2(rng, c2, beta, tau_j**2 * lam2, a_slab, b_slab)
        # 6. Student-t weights
        if student:
            residual = y - X @ theta
            nu = pr.student_t_nu
            omega = rng.gamma((nu + 1.0) / 2.0, 2.0 / (nu + (residual / sigma) ** 2))
        current = factor(excess, tau, lam2, c2, omega)
        if sweep >= tune:
            i = sweep - tune
            out["alpha"][i], out["beta"][i], out["sigma"][i] = theta[0], beta, sigma
            out["tau"][i], out["c2"][i] = tau, c2
    return ChainDraws(**out, acceptance=accepted / max(draws * scale_steps, 1))


def _collapsed_lambdas(rng: np.random.Generator, factor: _Factor, subset: np.ndarray, lam2: np.ndarray,
                       tau_j: np.ndarray, c2: float) -> np.ndarray:
    """λ_j for j in `subset`, one at a time, each from its conditional with all coefficients
    integrated out (rank-one updates of the n-space factor)."""
    lam2 = lam2.copy()
    n = factor.L.shape[0]
    inverse = linalg.cho_solve((factor.L, True), np.eye(n), check_finite=False)
    d = factor.d.copy()
    for j in subset:
        f = factor.phi[:, j + 1]
        g = inverse @ f
        a, b = float(f @ g), float(g @ factor.y_tilde)
        shrink = 1.0 - d[j + 1] * a
        a0, b0 = a / shrink, b / shrink  # with column j's prior variance set to zero
        t_scale = tau_j[j] ** 2

        def log_density(eta: float, a0=a0, b0=b0, t_scale=t_scale) -> float:
            lam2_j = math.exp(2.0 * eta)
            t = t_scale * lam2_j
            w = max(c2 * t / (c2 + t), _MIN_VARIANCE)
            return -math.log1p(lam2_j) + eta - 0.5 * math.log1p(w * a0) + 0.5 * w * b0**2 / (1.0 + w * a0)

        eta = _slice(rng, 0.5 * math.log(lam2[j]), log_density)
        lam2[j] = math.exp(2.0 * eta)
        t = t_scale * lam2[j]
        w = max(c2 * t / (c2 + t), _MIN_VARIANCE)
        delta = w - d[j + 1]
        if delta != 0.0:
            inverse -= (delta / (1.0 + delta * a)) * np.outer(g, g)
            d[j + 1] = w
    return lam2


def _log_rescaled(shift: float, tau: float, lam: np.ndarray, scale: float) -> float:
    """Log density (up to a constant) of moving to τ·e^s and λ_j·e^-s (half-Cauchy priors, in
    log coordinates): the likelihood and the coefficients' prior see only τ·λ_j, so they cancel."""
    tau_new, lam_new = tau * math.exp(shift), lam * math.exp(-shift)
    return float(_log_half_cauchy(np.array(tau_new), np.array(scale)) + math.log(tau_new)
                 + np.sum(-np.log1p(lam_new**2) + np.log(lam_new)))


def _slice_log_c2(rng: np.random.Generator, c2: float, beta: np.ndarray, t: np.ndarray, a: float, b: float) -> float:
    """c² updated under InvGamma(c²; a, b) · Π_j N(β_j; 0, c² t_j / (c² + t_j)), sliced in log c²."""

    def log_density(eta: float) -> float:
        c2 = math.exp(eta)
        v = np.maximum(c2 * t / (c2 + t), _MIN_VARIANCE)
        # the inverse-gamma in log coordinates: -(a + 1)·η - b/c² + η (Jacobian)
        return -a * eta - b / c2 - 0.5 * float(np.sum(np.log(v) + beta**2 / v))

    return math.exp(_slice(rng, math.log(c2), log_density))


def _slice(rng: np.random.Generator, x: float, log_density, width: float = 1.0, max_steps: int = 50) -> float:
    """One slice-sampling update of a scalar x (Neal 2003: stepping out, then shrinkage)."""
    level = log_density(x) + math.log(rng.random())
    left = x - width * rng.random()
    right = left + width
    for _ in range(max_steps):
        if log_density(left) <= level:
            break
        left -= width
    for _ in range(max_steps):
        if log_density(right) <= level:
            break
        right += width
    while True:
        proposal = left + (right - left) * rng.random()
        if log_density(proposal) > level:
            return proposal
        if proposal < x:
            left = proposal
        else:
            right = proposal
