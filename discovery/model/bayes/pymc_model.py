"""The regularised-horseshoe interaction model as a PyMC model (for NUTS and ADVI).

On the standardised scale (`RegressionProblem`), with two groups of terms under separate global
scales, because interaction terms are many and most should vanish (Piironen & Vehtari 2017,
"Sparsity information and regularization in the horseshoe and other shrinkage priors"):

    y_i ~ Normal(α + Σ_j z_ij β_j, √(σ² + s_i²))   (s_i: known SD of measurement i, else 0)
        or, Student-t: y_i ~ Normal(μ_i, √(σ²/ω_i + s_i²)), ω_i ~ Gamma(ν/2, ν/2)
        (a t with ν degrees of freedom when s_i = 0; written as this scale mixture only when some
        noise is known, the same augmentation the Gibbs sampler uses)
    σ = σ_floor + HalfNormal(s_noise)      (σ_floor: the lab's repeatability, default 0)
    β_j = u_j · τ_g(j) · λ̃_j,  u_j ~ N(0, 1)              (non-centred)
    λ̃_j² = c² λ_j² / (c² + τ_g² λ_j²),  λ_j ~ HalfCauchy(1)
    τ_g ~ HalfStudentT(ν=1, scale = τ0_g · σ)
    c² ~ InvGamma(ν_slab / 2, ν_slab · s_slab² / 2)
    α ~ Normal(0, s_α)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from discovery.model.bayes.design import RegressionProblem
from discovery.model.bayes.settings import Likelihood


def build_model(problem: RegressionProblem) -> Any:
    """The PyMC model of `problem` (its design enters as a constant: as `pm.Data` each NUTS step
    cost more than the compile it would save)."""
    import pymc as pm
    import pytensor.tensor as pt

    p = problem.prior
    P = problem.n_columns
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0.0, p.intercept_scale)
        noise_excess = pm.HalfNormal("noise_excess", p.noise_scale)
        sigma = pm.Deterministic("sigma", problem.noise_floor + noise_excess)
        tau = pm.HalfStudentT("tau", nu=1, sigma=problem.tau_scale * sigma, shape=2)
        # λ ~ HalfCauchy(1) as N⁺(0,1)·sqrt(InvGamma(½,½)): same prior, gentler geometry for NUTS
        lam_a = pm.HalfNormal("lam_a", 1.0, shape=P)
        lam_b = pm.InverseGamma("lam_b", alpha=0.5, beta=0.5, shape=P)
        lam = lam_a * pt.sqrt(lam_b)
        c2 = pm.InverseGamma("c2", alpha=p.slab_df / 2, beta=p.slab_df * p.slab_scale**2 / 2)
        tau_j = tau[problem.groups]
        lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau_j**2 * lam**2))
        z = pm.Normal("z", 0.0, 1.0, shape=P)
        beta = pm.Deterministic("beta", z * tau_j * lam_tilde)
        mu = alpha + pt.dot(problem.Z, beta)
        known_var = None if problem.known_sd is None else problem.known_sd**2
        if p.likelihood is Likelihood.NORMAL:
            scale = sigma if known_var is None else pt.sqrt(sigma**2 + known_var)
            pm.Normal("y", mu=mu, sigma=scale, observed=problem.y)
        elif known_var is None:
            pm.StudentT("y", nu=p.student_t_nu, mu=mu, sigma=sigma, observed=problem.y)
        else:
            omega = pm.Gamma("omega", alpha=p.student_t_nu / 2, beta=p.student_t_nu / 2, shape=problem.n_rows)
            pm.Normal("y", mu=mu, sigma=pt.sqrt(sigma**2 / omega + known_var), observed=problem.y)
    return model


def ridge_start(model: Any, problem: RegressionProblem) -> dict[str, np.ndarray]:
    """A starting point for ADVI (values of the model's unconstrained variables): a ridge fit
    (GCV-chosen penalty) written in the horseshoe's coordinates, β_j = u_j·τ_g·λ̃_j with u_j = ±1.
    From PyMC's default start (all u = 0, τ at its prior scale) mean-field ADVI settles in an
    optimum that shrinks nearly every term away (BENCHMARKS.md, "Scaling")."""
    from sklearn.linear_model import RidgeCV

    Z, y = problem.Z, problem.y
    ridge = RidgeCV(alphas=np.logspace(-2, 3, 21)).fit(Z, y)
    beta = ridge.coef_
    sigma = max(float(np.std(y - ridge.predict(Z))), problem.noise_floor + 0.05)
    tau = problem.tau_scale * sigma
    c2 = problem.prior.slab_scale**2
    # |β_j| = τ_g·λ̃_j: solve λ̃_j² = c²λ_j²/(c² + τ_g²λ_j²) for λ_j² (|β_j| kept below the slab)
    size = np.clip(np.abs(beta), 1e-3, 0.9 * np.sqrt(c2))
    lam2 = size**2 * c2 / (c2 - size**2) / tau[problem.groups] ** 2
    start = {"alpha": np.array(float(ridge.intercept_)), "noise_excess_log__": np.array(np.log(sigma - problem.noise_floor)),
             "tau_log__": np.log(tau), "lam_a_log__": np.zeros_like(beta), "lam_b_log__": np.log(lam2),
             "c2_log__": np.array(np.log(c2)), "z": beta / size}
    names = {v.name for v in model.value_vars}
    if "omega_log__" in names:  # Student-t weights of known-noise rows start at 1
        start["omega_log__"] = np.zeros(problem.n_rows)
    if names != set(start):
        raise RuntimeError(f"ADVI start does not match the model's variables: {sorted(names ^ set(start))}")
    return start
