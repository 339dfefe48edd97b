"""Exact blocked Gibbs sampling of the regularised-horseshoe regression (the model of
`pymc_model`: same prior, same likelihood), without gradients, divergences or compilation.

Given its scales the model is linear-Gaussian, so most of it has exact conditionals. One sweep:

1. σ, τ_0 and τ_1, each by random-walk Metropolis on its logarithm with the coefficients
   integrated out: p(y | σ, τ, λ, c²) = N(y; 0, R + X D Xᵀ), R the noise covariance, X = [1, Z],
   D the prior variances of θ = (α, β). Updating the global scales with the coefficients
   integrated out, not given them, is what lets the horseshoe's Gibbs sampler mix (Johndrow,
   Orenstein & Bhattacharya 2020, JMLR 21, 73). Step sizes adapt during warm-up only.
2. θ from its Gaussian conditional, exactly: by Bhattacharya, Chakraborty & Mallick (2016,
   Biometrika 103, 985; O(n²P)) with the factor of R + X D Xᵀ step 1 used, or, with more
   molecules than columns, from a block Cholesky factor of the P × P precision (Rue 2001).
3. τ_g against its λ_j: the likelihood sees only the products τ_g·λ_j, so a slice-sampling
   move along that ridge (τ_g·e^s, λ_j·e^-s) is exact and cheap.
4. λ_j through the auxiliary variables ν_j of Makalic & Schmidt (2016, IEEE Signal Process.
   Lett. 23, 179): λ_j² | ν_j, β_j is proposed from the plain horseshoe's inverse-gamma
   conditional and accepted with the slab's ratio √(1 + τ²λ'²/c²) / √(1 + τ²λ²/c²), which makes
   it exact for the regularised horseshoe (β_j ~ N(0, c²τ²λ_j²/(c² + τ²λ_j²))).
5. c² by slice sampling on log c² (Neal 2003).
6. Student-t likelihood only: each molecule's precision weight ω_i from its gamma conditional.

Known measurement noise (`GibbsProblem.known_sd`, s_i) adds to the noise variance of its row:
r_i = σ²/ω_i + s_i². The rows are then heteroscedastic, so the n-space form is used. With a
Student-t likelihood the residual is split first: its t part e_i given the residual and ω_i is
Gaussian, and ω_i given e_i is the usual gamma (exact data augmentation).

With many more molecules than columns (n²P > P³, the P-space form) the precision is factorised
in two blocks, the interaction columns first: a step of τ_1 (or the new λ, c² and σ of each
sweep) costs a factorisation of the interaction block, a step of τ_0 only that of the intercept
and main effects' Schur complement. There the data pin σ down given θ, so σ is slice-sampled
from that conditional after step 2 and only the τ_g take Metropolis steps.

Everything runs on the standardised scale of `RegressionProblem`. This module imports only
numpy and scipy, so a worker process running chains starts fast.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg

#: Smallest prior variance of a coefficient: below it a term is zero for every purpose, and
#: Cholesky factors of 1/variance stay finite.
_MIN_VARIANCE = 1e-24
#: Acceptance the one-dimensional Metropolis steps aim at during warm-up (Roberts & Rosenthal
#: 2001, "Optimal scaling for various Metropolis-Hastings algorithms", Statist. Sci. 16, 351).
_TARGET_ACCEPTANCE = 0.44


@dataclass(frozen=True)
class GibbsProblem:
    """The standardised regression and its prior, as plain arrays (picklable for workers).

    Attributes:
        Z: Design, shape (n, P). y: target, shape (n,).
        groups: Shrinkage group of each column, shape (P,), 0 or 1.
        tau_scale: Prior scale of τ_g per unit of σ, shape (2,).
        intercept_scale, noise_scale, noise_floor, slab_scale, slab_df: The prior's constants.
        student_t_nu: Degrees of freedom of a Student-t likelihood, or None for a normal one.
        known_sd: Known SD of each measurement, shape (n,) (0: not known), or None.
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
    known_sd: np.ndarray | None = None


@dataclass(frozen=True)
class ChainDraws:
    """One chain's draws after warm-up: alpha (S,), beta (S, P), sigma (S,), tau (S, 2), c2 (S,),
    and the acceptance rate of each scale's Metropolis step after warm-up (σ, τ_0, τ_1)."""

    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    tau: np.ndarray
    c2: np.ndarray
    acceptance: np.ndarray


class _NSpaceMarginal:
    """N(y; 0, Σ), Σ = R + X D Xᵀ, with R = diag(r) the noise variances and D = diag(d) the prior
    variances of θ = (α, β): its log density (constant dropped) and exact draws of θ given y, in
    the n-space form: Σ (n × n) factorised itself, K = X D Xᵀ given."""

    def __init__(self, X: np.ndarray, y: np.ndarray, d: np.ndarray, r: np.ndarray, K: np.ndarray) -> None:
        self.X, self.y, self.d, self.r = X, y, d, r
        sigma_matrix = K.copy()
        sigma_matrix[np.diag_indices(len(y))] += r
        self.L = linalg.cholesky(sigma_matrix, lower=True, check_finite=False)
        half = linalg.solve_triangular(self.L, y, lower=True, check_finite=False)
        self.log_likelihood = -0.5 * (2.0 * np.log(np.diag(self.L)).sum() + float(half @ half))

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """θ ~ N(Q⁻¹XᵀR⁻¹y, Q⁻¹), Q = D⁻¹ + XᵀR⁻¹X, by Bhattacharya et al.: u ~ N(0, D),
        v = Xu + δ, δ ~ N(0, R)."""
        u = np.sqrt(self.d) * rng.standard_normal(len(self.d))
        v = self.X @ u + np.sqrt(self.r) * rng.standard_normal(len(self.y))
        w = linalg.cho_solve((self.L, True), self.y - v, check_finite=False)
        return u + self.d * (self.X.T @ w)


@dataclass(frozen=True)
class _Gram:
    """XᵀX and Xᵀy split into two blocks of θ: `big`, the interaction columns (one global scale,
    τ_1), and `small`, the intercept and main effects (τ_0). Index arrays into θ; blocks bb, bs, ss."""

    big: np.ndarray
    small: np.ndarray
    bb: np.ndarray
    bs: np.ndarray
    ss: np.ndarray
    Xty_big: np.ndarray
    Xty_small: np.ndarray
    yty: float
    n: int

    @classmethod
    def build(cls, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> _Gram:
        big, small = 1 + np.flatnonzero(groups == 1), np.r_[0, 1 + np.flatnonzero(groups == 0)]
        Xb, Xs = X[:, big], X[:, small]
        return cls(big, small, Xb.T @ Xb, Xb.T @ Xs, Xs.T @ Xs, Xb.T @ y, Xs.T @ y, float(y @ y), len(y))


class _PSpaceMarginal:
    """The same density and draws in the P-space form, for homoscedastic noise r (a scalar): Q =
    D⁻¹ + XᵀX/r factorised by blocks, the interaction block first, L = [[L_bb, 0], [Wᵀ, L_s]]
    with W = L_bb⁻¹ Q_bs and L_s the factor of the Schur complement Q_ss − WᵀW (Rue 2001 for
    the draws). A step of τ_0 changes only Q_ss's diagonal, so given `same_big` (a marginal at
    the same r and interaction variances) it refactorises the small block alone."""

    def __init__(self, gram: _Gram, d: np.ndarray, r: float, same_big: _PSpaceMarginal | None = None) -> None:
        self.gram = gram
        if same_big is None:
            Q_bb = gram.bb / r
            Q_bb[np.diag_indices(len(gram.big))] += 1.0 / d[gram.big]
            self.L_bb = _cholesky(Q_bb)
            self.W = linalg.solve_triangular(self.L_bb, gram.bs / r, lower=True, check_finite=False)
            self.z_big = linalg.solve_triangular(self.L_bb, gram.Xty_big / r, lower=True, check_finite=False)
            self.log_det_big = 2.0 * np.log(np.diag(self.L_bb)).sum() + np.log(d[gram.big]).sum()
        else:
            self.L_bb, self.W, self.z_big, self.log_det_big = same_big.L_bb, same_big.W, same_big.z_big, same_big.log_det_big
        S = gram.ss / r - self.W.T @ self.W
        S[np.diag_indices(len(gram.small))] += 1.0 / d[gram.small]
        self.L_s = _cholesky(S)
        self.z_small = linalg.solve_triangular(self.L_s, gram.Xty_small / r - self.W.T @ self.z_big, lower=True,
                                               check_finite=False)
        log_det = (gram.n * np.log(r) + self.log_det_big + np.log(d[gram.small]).sum()
                   + 2.0 * np.log(np.diag(self.L_s)).sum())
        quadratic = gram.yty / r - float(self.z_big @ self.z_big) - float(self.z_small @ self.z_small)
        self.log_likelihood = -0.5 * (log_det + quadratic)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """θ ~ N(Q⁻¹XᵀR⁻¹y, Q⁻¹): θ = L⁻ᵀ(z + ε), z = L⁻¹XᵀR⁻¹y, solved block by block."""
        g = self.gram
        noise = rng.standard_normal(len(g.big) + len(g.small))
        theta = np.empty(len(noise))
        small = linalg.solve_triangular(self.L_s, self.z_small + noise[len(g.big):], lower=True, trans="T",
                                        check_finite=False)
        theta[g.small] = small
        theta[g.big] = linalg.solve_triangular(self.L_bb, self.z_big + noise[:len(g.big)] - self.W @ small, lower=True,
                                               trans="T", check_finite=False)
        return theta


def _cholesky(A: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor; an empty block (no columns in a group) has an empty factor."""
    return linalg.cholesky(A, lower=True, check_finite=False) if len(A) else A


def _prior_variances(tau_j: np.ndarray, lam2: np.ndarray, c2: float) -> np.ndarray:
    """v_j = c² τ² λ_j² / (c² + τ² λ_j²): the regularised horseshoe's variance of β_j."""
    t = tau_j**2 * lam2
    return np.maximum(c2 * t / (c2 + t), _MIN_VARIANCE)


def _log_half_cauchy(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return -np.log(scale) - np.log1p((x / scale) ** 2)


class _Chain:
    """The state of one chain and the sweep that updates it.

    The scales are stored on the log scale: u = (log(σ − σ_floor), log τ_0, log τ_1).
    """

    #: Metropolis steps per sweep for σ, τ_0, τ_1 in the n-space form: σ's reuse X D Xᵀ (one
    #: Cholesky each) and τ_0's recompute only the few main-effect columns' part, so they are cheap
    #: to repeat. In the P-space form a τ_1 step costs a factorisation of the interaction block,
    #: and σ is drawn given θ.
    STEPS = (3, 2, 1)
    P_SPACE_STEPS = (0, 1, 1)

    def __init__(self, problem: GibbsProblem, rng: np.random.Generator) -> None:
        pr = self.problem = problem
        n, P = pr.Z.shape
        self.X = np.column_stack([np.ones(n), pr.Z])
        p = P + 1
        self.known_var = np.zeros(n) if pr.known_sd is None else np.asarray(pr.known_sd, dtype=float) ** 2
        # factorise in the smaller space; a Student-t likelihood reweights rows every sweep, which
        # the P-space form would pay for with a new Gram matrix, and known noise makes the rows
        # heteroscedastic, which the P-space form (one noise variance) cannot take: both use n-space
        self.n_space = (pr.student_t_nu is not None or bool(self.known_var.any())
                        or n * n * p + n**3 / 3 <= p**3 / 3)
        self.steps = self.STEPS if self.n_space else self.P_SPACE_STEPS
        self.gram = None if self.n_space else _Gram.build(self.X, pr.y, pr.groups)
        self.columns = [np.flatnonzero(pr.groups == g) for g in range(2)]
        self.Z_groups = [pr.Z[:, c] for c in self.columns]
        self.K_intercept = np.full((n, n), pr.intercept_scale**2)
        # dispersed start: σ near half the target's SD, global scales and λ from their priors
        sigma0 = max(0.5 * float(np.std(pr.y)), pr.noise_floor + 0.05)
        excess = max(sigma0 - pr.noise_floor, 1e-3) * math.exp(0.3 * rng.standard_normal())
        tau = pr.tau_scale * (pr.noise_floor + excess) * np.exp(rng.standard_normal(2))
        self.u = np.r_[math.log(excess), np.log(tau)]
        self.lam2 = np.abs(rng.standard_cauchy(P)) ** 2 + 1e-6
        self.c2 = pr.slab_scale**2
        self.omega = np.ones(n)
        self.theta = np.zeros(p)
        self.log_steps = np.log([0.3, 0.5, 0.5])
        self.accepted = np.zeros(3)
        self.K_parts = [self._K_part(g, self.u) for g in range(2)]
        self.current = self._marginal(self.u, self.K_parts)

    @property
    def sigma(self) -> float:
        return self.problem.noise_floor + math.exp(self.u[0])

    @property
    def tau(self) -> np.ndarray:
        return np.exp(self.u[1:])

    def _variances(self, u: np.ndarray) -> np.ndarray:
        return np.r_[self.problem.intercept_scale**2, _prior_variances(np.exp(u[1:])[self.problem.groups], self.lam2, self.c2)]

    def _K_part(self, g: int, u: np.ndarray) -> np.ndarray | None:
        """Z_g V_g Z_gᵀ, the group's share of X D Xᵀ (n-space only)."""
        if not self.n_space:
            return None
        v = _prior_variances(math.exp(u[1 + g]), self.lam2[self.columns[g]], self.c2)
        scaled = self.Z_groups[g] * np.sqrt(v)
        return scaled @ scaled.T

    def _marginal(self, u: np.ndarray, K_parts: list[np.ndarray | None],
                  same_big: _PSpaceMarginal | None = None) -> _NSpaceMarginal | _PSpaceMarginal:
        sigma = self.problem.noise_floor + math.exp(u[0])
        if self.n_space:
            r = sigma**2 / self.omega + self.known_var
            return _NSpaceMarginal(self.X, self.problem.y, self._variances(u), r, K=self.K_intercept + K_parts[0] + K_parts[1])
        return _PSpaceMarginal(self.gram, self._variances(u), sigma**2, same_big)

    def _log_scales_prior(self, u: np.ndarray) -> float:
        pr = self.problem
        excess, tau = math.exp(u[0]), np.exp(u[1:])
        return (-0.5 * (excess / pr.noise_scale) ** 2 + u[0]
                + float((_log_half_cauchy(tau, pr.tau_scale * (pr.noise_floor + excess)) + u[1:]).sum()))

    def _marginal_scales(self, rng: np.random.Generator, warm_up: int | None, steps_per_scale: tuple[int, ...]) -> None:
        """σ, τ_0, τ_1 by one-dimensional Metropolis steps on their logarithms, (α, β) integrated out."""
        for k, steps in enumerate(steps_per_scale):
            for _ in range(steps):
                u_new = self.u.copy()
                u_new[k] += math.exp(self.log_steps[k]) * rng.standard_normal()
                parts = list(self.K_parts)
                if k > 0:
                    parts[k - 1] = self._K_part(k - 1, u_new)
                # in the P-space form a step of τ_0 keeps the interaction block's factor
                same_big = self.current if k == 1 and not self.n_space else None
                candidate = self._marginal(u_new, parts, same_big)
                log_ratio = (candidate.log_likelihood + self._log_scales_prior(u_new)
                             - self.current.log_likelihood - self._log_scales_prior(self.u))
                accept = math.log(rng.random()) < log_ratio
                if accept:
                    self.u, self.current, self.K_parts = u_new, candidate, parts
                if warm_up is not None:
                    self.log_steps[k] += (float(accept) - _TARGET_ACCEPTANCE) / math.sqrt(warm_up + 1.0)
                else:
                    self.accepted[k] += accept

    def _conditional_sigma(self, rng: np.random.Generator) -> None:
        """σ given (α, β), by slice sampling on its logarithm."""
        pr = self.problem
        weighted_rss = float(np.sum(self.omega * (pr.y - self.X @ self.theta) ** 2))
        n = len(pr.y)

        def log_sigma(log_excess: float) -> float:
            u = self.u.copy()
            u[0] = log_excess
            sigma = pr.noise_floor + math.exp(log_excess)
            return self._log_scales_prior(u) - n * math.log(sigma) - 0.5 * weighted_rss / sigma**2

        self.u[0] = _slice(rng, self.u[0], log_sigma)

    def sweep(self, rng: np.random.Generator, warm_up: int | None) -> None:
        """One sweep; `warm_up` is the warm-up sweep's number (adapting the step sizes), or None."""
        pr = self.problem
        # 1. σ, τ_0, τ_1, each by Metropolis on its logarithm with (α, β) integrated out
        self._marginal_scales(rng, warm_up, self.steps)
        # 2. (α, β) exactly
        self.theta = self.current.draw(rng)
        if not self.n_space:
            # with many more molecules than columns the data pin σ down given the coefficients,
            # and each Metropolis step of σ would refactorise the whole precision
            self._conditional_sigma(rng)
        sigma, tau = self.sigma, self.tau
        beta = self.theta[1:]
        # 3. τ_g against its λ_j: the likelihood sees only τ_g·λ_j, so slide along that ridge exactly
        for g in range(2):
            lam, scale = np.sqrt(self.lam2[self.columns[g]]), pr.tau_scale[g] * sigma
            shift = _slice(rng, 0.0, lambda s, t=tau[g], lam=lam, scale=scale: _log_rescaled(s, t, lam, scale))
            tau[g] *= math.exp(shift)
            self.lam2[self.columns[g]] *= math.exp(-2.0 * shift)
        self.u[1:] = np.log(tau)
        # 4. λ² through ν, with the slab's acceptance ratio
        tau_j = tau[pr.groups]
        lam2 = self.lam2
        nu_aux = 1.0 / rng.gamma(1.0, 1.0 / (1.0 + 1.0 / lam2))
        lam2_new = (1.0 / nu_aux + beta**2 / (2.0 * tau_j**2)) / rng.gamma(1.0, 1.0, len(lam2))
        slab = np.sqrt((1.0 + tau_j**2 * lam2_new / self.c2) / (1.0 + tau_j**2 * lam2 / self.c2))
        self.lam2 = np.where(rng.random(len(lam2)) < slab, lam2_new, lam2)
        # 5. c² by slice sampling on log c²
        self.c2 = _slice_log_c2(rng, self.c2, beta, tau_j**2 * self.lam2, pr.slab_df / 2.0,
                                pr.slab_df * pr.slab_scale**2 / 2.0)
        # 6. Student-t weights
        if pr.student_t_nu is not None:
            residual = pr.y - self.X @ self.theta
            if self.known_var.any():  # the t part e_i of residual_i = e_i + known noise, given ω_i
                t_var = sigma**2 / self.omega
                share = t_var / (t_var + self.known_var)
                residual = share * residual + np.sqrt(share * self.known_var) * rng.standard_normal(len(residual))
            nu = pr.student_t_nu
            self.omega = rng.gamma((nu + 1.0) / 2.0, 2.0 / (nu + (residual / sigma) ** 2))
        self.K_parts = [self._K_part(g, self.u) for g in range(2)]
        self.current = self._marginal(self.u, self.K_parts)


@dataclass(frozen=True)
class ChainState:
    """Where a chain stopped, to continue it later exactly as if it had not stopped.

    Attributes:
        u, lam2, c2, omega, theta: The sampler's state (see `_Chain`).
        log_steps: The Metropolis step sizes learnt in warm-up.
        accepted: Metropolis acceptances counted after warm-up, per scale.
        kept: Draws kept so far.
        rng: The random generator's state, as JSON.
    """

    u: np.ndarray
    lam2: np.ndarray
    c2: float
    omega: np.ndarray
    theta: np.ndarray
    log_steps: np.ndarray
    accepted: np.ndarray
    kept: int
    rng: str


def run_chain(problem: GibbsProblem, draws: int, tune: int, seed: int | list[int],
              state: ChainState | None = None) -> tuple[ChainDraws, ChainState]:
    """One chain: `tune` warm-up sweeps (adapting the Metropolis step sizes), then `draws` sweeps
    kept; or, from `state`, `draws` more sweeps of a chain that stopped there (`seed`, `tune` unused)."""
    if state is None:
        rng = np.random.default_rng(seed)
        chain = _Chain(problem, rng)
        kept = 0
    else:
        chain = _Chain(problem, np.random.default_rng(0))  # its start is overwritten below
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = json.loads(state.rng)
        for name in ("u", "lam2", "omega", "theta", "log_steps", "accepted"):
            setattr(chain, name, np.array(getattr(state, name), dtype=float))
        chain.c2 = float(state.c2)
        chain.K_parts = [chain._K_part(g, chain.u) for g in range(2)]
        chain.current = chain._marginal(chain.u, chain.K_parts)
        tune, kept = 0, state.kept
    P = problem.Z.shape[1]
    out = {"alpha": np.empty(draws), "beta": np.empty((draws, P)), "sigma": np.empty(draws),
           "tau": np.empty((draws, 2)), "c2": np.empty(draws)}
    for sweep in range(tune + draws):
        chain.sweep(rng, sweep if sweep < tune else None)
        if sweep >= tune:
            i = sweep - tune
            out["alpha"][i], out["beta"][i], out["sigma"][i] = chain.theta[0], chain.theta[1:], chain.sigma
            out["tau"][i], out["c2"][i] = chain.tau, chain.c2
    kept += draws
    with np.errstate(invalid="ignore"):
        acceptance = chain.accepted / (max(kept, 1) * np.array(chain.steps))
    after = ChainState(u=chain.u.copy(), lam2=chain.lam2.copy(), c2=float(chain.c2), omega=chain.omega.copy(),
                       theta=chain.theta.copy(), log_steps=chain.log_steps.copy(), accepted=chain.accepted.copy(),
                       kept=kept, rng=json.dumps(rng.bit_generator.state))
    return ChainDraws(**out, acceptance=acceptance), after


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


# -- worker processes (`discovery.workers`): arrays in .npz files, read without pickle ----------

def save_problem(problem: GibbsProblem, folder: str) -> str:
    """Write `problem` to `folder/problem.npz`; returns the path."""
    path = f"{folder}/problem.npz"
    scalars = {k: np.asarray(np.nan if v is None else v, dtype=float) for k, v in problem.__dict__.items()
               if not isinstance(v, np.ndarray) and k != "known_sd"}
    known = np.zeros(len(problem.y)) if problem.known_sd is None else problem.known_sd
    np.savez(path, Z=problem.Z, y=problem.y, groups=problem.groups, tau_scale=problem.tau_scale, known_sd=known,
             **scalars)
    return path


def _load_problem(path: str) -> GibbsProblem:
    with np.load(path, allow_pickle=False) as data:
        values = {k: data[k] for k in data.files}
    scalars = {k: float(v) for k, v in values.items() if v.ndim == 0}
    nu = scalars.pop("student_t_nu")
    known = values["known_sd"]
    return GibbsProblem(Z=values["Z"], y=values["y"], groups=values["groups"], tau_scale=values["tau_scale"],
                        student_t_nu=None if math.isnan(nu) else nu, known_sd=known if known.any() else None,
                        **scalars)


def chain_task(config: dict) -> object:
    """A worker's task: run one chain per item {draws, tune, seed, state (a path or None), out},
    write its draws and final state to `out` (.npz) and answer with that path."""
    from threadpoolctl import threadpool_limits

    problem = _load_problem(config["problem"])

    def task(item: dict) -> str:
        state = None if item["state"] is None else load_state(item["state"])
        with threadpool_limits(1):
            draws, after = run_chain(problem, int(item["draws"]), int(item["tune"]), item["seed"], state)
        save_chain(item["out"], draws, after)
        return item["out"]

    return task


def save_chain(path: str, draws: ChainDraws | None, state: ChainState) -> None:
    """A chain's draws (if any) and state in one .npz file."""
    arrays = {} if draws is None else dict(draws.__dict__)
    np.savez(path, **arrays, **{f"state_{k}": np.asarray(v) for k, v in state.__dict__.items()})


def load_chain(path: str) -> tuple[ChainDraws, ChainState]:
    with np.load(path, allow_pickle=False) as data:
        values = {k: data[k] for k in data.files}
    state = {k.removeprefix("state_"): values.pop(k) for k in list(values) if k.startswith("state_")}
    state["c2"], state["kept"], state["rng"] = float(state["c2"]), int(state["kept"]), str(state["rng"])
    return ChainDraws(**values), ChainState(**state)


def load_state(path: str) -> ChainState:
    with np.load(path, allow_pickle=False) as data:
        state = {k.removeprefix("state_"): data[k] for k in data.files}
    state["c2"], state["kept"], state["rng"] = float(state["c2"]), int(state["kept"]), str(state["rng"])
    return ChainState(**state)
