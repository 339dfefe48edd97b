"""BayesianILR: the interaction linear model in PyMC with regularised-horseshoe priors.

Design matrix: `InteractionFeatures` (standardised QM descriptors, their products with chemical
category indicators and the indicators themselves), each column then standardised on the
training rows. Target standardised too. The model (Piironen & Vehtari 2017, regularised
horseshoe), with two groups of terms under separate global scales, because interaction terms
are many and most should vanish:

    y_i ~ Normal(α + Σ_j x_ij β_j, σ)      (or Student-t with ν degrees of freedom)
    σ = σ_floor + HalfNormal(s_noise)      (σ_floor: the lab's repeatability, default 0)
    β_j = z_j · τ_g(j) · λ̃_j,  z_j ~ N(0, 1)              (non-centred)
    λ̃_j² = c² λ_j² / (c² + τ_g² λ_j²),  λ_j ~ HalfCauchy(1)
    τ_g ~ HalfStudentT(ν=1, scale = p0_g / (P_g − p0_g) · σ / √n)
    c² ~ InvGamma(ν_slab / 2, ν_slab · s_slab² / 2)

`p0_g` is the prior guess of how many terms of group g matter. Predictions carry the posterior
draws of the latent property and of a new observation, in target units.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from discovery import __version__
from discovery.features.interactions import InteractionFeatures
from discovery.model.base import Prediction, check_training_data

log = logging.getLogger(__name__)


_MIXING_HINT = ("; or try sampler.grad_mass_matrix=false (variance-based adaptation: on 200 molecules it mixed "
                "better at about twice the time, on 45 polymers one seed in four got stuck)")


class ModelDiagnosticsWarning(UserWarning):
    """The sampler's diagnostics say the posterior may not be trustworthy."""


@dataclass(frozen=True)
class HorseshoePrior:
    """Prior settings (see module docstring); `conf/model/bayes_ilr.yaml` mirrors them."""

    expected_main_terms: float = 5.0
    expected_interaction_terms: float = 10.0
    slab_scale: float = 2.0
    slab_df: float = 4.0
    intercept_scale: float = 2.0
    noise_scale: float = 1.0
    # lower bound on the noise SD, in target units (log units with target_transform=log): the
    # lab's repeatability. With fewer molecules than terms the posterior otherwise has a second
    # mode where the model interpolates the data with a tiny σ, and NUTS chains stick there.
    noise_floor: float = 0.0
    likelihood: str = "normal"  # or "student_t"
    student_t_nu: float = 4.0

    def __post_init__(self) -> None:
        if self.likelihood not in ("normal", "student_t"):
            raise ValueError(f"likelihood must be 'normal' or 'student_t', got {self.likelihood!r}")
        if self.expected_main_terms <= 0 or self.expected_interaction_terms <= 0:
            raise ValueError("expected numbers of relevant terms must be positive")
        if self.noise_floor < 0:
            raise ValueError(f"noise_floor must be >= 0, got {self.noise_floor}")


@dataclass(frozen=True)
class SamplerSettings:
    """How the posterior is computed: NUTS via nutpie (default) or PyMC, or ADVI (fast, approximate).

    ADVI (mean-field, started from a ridge fit) is the option for screening thousands of
    molecules: on synthetic data with a known truth it matched NUTS's test error and coverage from
    N = 200 up, 5-12x faster, and fits N = 5,000 x 2,049 columns in ~2 min; at N = 20 it fails.
    On the real extrapolation suite its errors were ~1.07x NUTS's but its 90 % intervals were
    honest on 3 of 12 properties against 11 (BENCHMARKS.md "Scaling"), and it has no
    convergence diagnostics: decide on NUTS.
    """

    method: str = "nutpie"  # "nutpie" | "pymc" | "advi"
    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    target_accept: float = 0.95
    low_rank_mass_matrix: bool = False
    # nutpie's gradient-based diagonal mass matrix adaptation; False: the variance-based (Stan-like)
    # one, ~3x the bulk ESS for ~2x the time at N = 200, not better on the 45 polymers
    # (BENCHMARKS.md "BayesianILR fit time")
    grad_mass_matrix: bool = True
    advi_iterations: int = 10000
    max_rhat: float = 1.05
    min_ess_bulk: float = 100.0

    def __post_init__(self) -> None:
        if self.method not in ("nutpie", "pymc", "advi"):
            raise ValueError(f"sampler method must be 'nutpie', 'pymc' or 'advi', got {self.method!r}")


@dataclass(frozen=True)
class CalibrationSettings:
    """Model-error calibration for predictions beyond the measured range.

    A linear model's posterior knows its parameter uncertainty, not how wrong the model itself
    is when it extrapolates: far outside the data its intervals come out too narrow. With
    `method="tail_refit"` the fit rehearses extrapolation on the training data: it holds out
    the `tail_fraction` highest and lowest targets, fits the same model (same design columns,
    fewer draws) on the rest, and learns from the held-out tails two corrections, each the
    smallest that lets the central intervals of the held-out values cover a set fraction of them
    on its own:

    - an epistemic inflation f = sqrt(1 + k²), covering `inflation_coverage` of the held-out
      values: the posterior's spread around its mean is stretched by f, so the model error
      k·(latent SD) grows where the data say least about a molecule and the draws keep their
      correlations across molecules. It widens the reported intervals only: acquisition ranks on
      the unstretched posterior (`predict`);
    - an edge law σ_d(x) = a + b·d(x), covering `coverage` of them, with d the distance of the
      predicted mean outside [min, max] of the training targets (target units), added as an
      independent error of the property itself and capped at `max_error_ranges` widths of the
      training targets' range.

    Both are applied together, and the inflation covers more of the rehearsal than the nominal
    `coverage`, which over-covers the rehearsal on purpose: it extrapolates less far than the
    test tail of the public suite or a campaign does (there the held-out truths lie 0.1–0.2
    widths of the range beyond it, the suite's test tails up to 0.9). On the suite (3 seeds,
    BENCHMARKS.md "Shipped model") this puts 90 % coverage in [0.80, 0.97] on 7, 10 and 10 of 12
    properties (11 on the mean over seeds), against 8 on seed 0 with the inflation at `coverage`
    (8, 8 and 8 in the law comparison, "Model-error law"). Laws that grow from the
    centre of the data instead blow up on small, heavy-tailed data (90 % intervals spanning four
    decades on the 45 polymers of `polymer_dielectric`).
    """

    method: str = "tail_refit"  # or "none"
    tail_fraction: float = 0.15
    coverage: float = 0.9
    inflation_coverage: float = 0.97  # above `coverage`: the rehearsal extrapolates less far than a campaign
    draws: int = 300
    tune: int = 500
    min_rows: int = 20  # below this, no rehearsal (too few rows to hold any out)
    max_per_distance: float = 10.0  # cap on b when few held-out points lie beyond the range
    max_inflation: float = 10.0  # cap on f when the rehearsal's posterior is nearly certain
    # cap on σ_d, in widths of the training targets' range: further out a number means nothing,
    # and a log-scale model's draws would overflow
    max_error_ranges: float = 2.0

    def __post_init__(self) -> None:
        if self.method not in ("tail_refit", "none"):
            raise ValueError(f"calibration method must be 'tail_refit' or 'none', got {self.method!r}")
        if not 0 < self.tail_fraction < 0.5:
            raise ValueError("calibration.tail_fraction must be in (0, 0.5)")
        if not 0 < self.coverage <= self.inflation_coverage < 1:
            raise ValueError("calibration needs 0 < coverage <= inflation_coverage < 1, got "
                             f"{self.coverage} and {self.inflation_coverage}")


class BayesianILR:
    """Bayesian interaction linear regression (scikit-learn style).

    Args:
        descriptors, categories, min_fraction, min_contrast_rows: passed to `InteractionFeatures`
            (None: all known QM descriptors / categories present in X). Categories that differ
            from a more general one on fewer than `min_contrast_rows` training rows are merged
            into it (their labels in `coefficients()` say so).
        prior: `HorseshoePrior` fields as a dict or the dataclass.
        sampler: `SamplerSettings` fields as a dict or the dataclass.
        calibration: `CalibrationSettings` fields as a dict or the dataclass.
        target_transform: "none", or "log" for positive properties spanning orders of magnitude
            (permittivity, viscosity, ...): the model is linear in log y, and its draws are
            transformed back, so predictions and intervals are in the units of y; the point
            prediction (`Prediction.mean`) is then the posterior median.
        seed: Seed of the sampler and of predictive noise draws.

    Fitted attributes: `features_` (InteractionFeatures), `columns_` (design column names),
    `draws_` (dict of posterior draws: alpha (S,), beta (S, P), sigma (S,)), `diagnostics_`,
    `fit_seconds_`, `idata_` (ArviZ InferenceData of the fit), `model_error_` (the calibrated
    model-error law: constant, per_distance, y_min, y_max, max_error, epistemic_inflation; no
    error without calibration), `rehearsal_` (with calibration: the rehearsal's held-out targets
    and predictions, transformed units, in memory only).
    """

    def __init__(
        self,
        descriptors: list[str] | None = None,
        categories: list[str] | None = None,
        min_fraction: float = 0.1,
        min_contrast_rows: int = 5,
        prior: HorseshoePrior | dict[str, Any] | None = None,
        sampler: SamplerSettings | dict[str, Any] | None = None,
        calibration: CalibrationSettings | dict[str, Any] | None = None,
        target_transform: str = "none",
        seed: int = 0,
    ) -> None:
        if target_transform not in ("none", "log"):
            raise ValueError(f"target_transform must be 'none' or 'log', got {target_transform!r}")
        self.target_transform = target_transform
        self.descriptors = descriptors
        self.categories = categories
        self.min_fraction = min_fraction
        self.min_contrast_rows = min_contrast_rows
        self.prior = prior if isinstance(prior, HorseshoePrior) else HorseshoePrior(**(prior or {}))
        self.sampler = sampler if isinstance(sampler, SamplerSettings) else SamplerSettings(**(sampler or {}))
        self.calibration = (
            calibration if isinstance(calibration, CalibrationSettings) else CalibrationSettings(**(calibration or {}))
        )
        self.seed = seed

    # -- design matrix ------------------------------------------------------------------------
    def _design(self, X: pd.DataFrame) -> np.ndarray:
        Z = self.features_.transform(X).to_numpy()
        return (Z - self.x_mean_) / self.x_scale_

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: np.ndarray) -> BayesianILR:
        y = check_training_data(X, y)
        if self.target_transform == "log":
            if (y <= 0).any():
                bad = list(X.index[y <= 0][:10])
                raise ValueError(f"target_transform='log' needs positive values; rows {bad} are <= 0")
            y = np.log(y)  # everything below, the rehearsal included, works on log y
        start = time.perf_counter()
        self.features_ = InteractionFeatures(
            self.descriptors, self.categories, self.min_fraction, complement=False,
            min_contrast_rows=self.min_contrast_rows,
        ).fit(X)
        Z = self.features_.transform(X).to_numpy()
        keep = Z.std(axis=0) > 1e-9  # e.g. an interaction that is all zero in training
        self.columns_ = [c for c, k in zip(self.features_.feature_names_out_, keep) if k]
        self._keep = keep
        self.n_main_ = sum(1 for c in self.columns_ if c in self.features_.descriptors_)
        Z = Z[:, keep]
        if self.sampler.method == "advi" and len(y) < 100:
            log.warning(
                "ADVI on %d molecules: on small data the horseshoe posterior is far from Gaussian and ADVI "
                "missed badly in benchmarks (N = 20: test RMSE 5x NUTS's); use sampler.method=nutpie", len(y),
            )
        if self.sampler.method != "advi" and Z.size > 2_000_000:
            log.warning(
                "NUTS on %d molecules x %d design columns will take many minutes (1,000 x 2,049 took ~4 min "
                "on 2 cores, and the cost grows with both); sampler.method=advi is ~10x faster, with less "
                "honest intervals (BENCHMARKS.md, Scaling)", Z.shape[0], Z.shape[1],
            )
        self._fit_design(Z, y)
        self.model_error_, self.diagnostics_["calibration"] = self._calibrate(X, Z, y)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _fit_design(self, Z: np.ndarray, y: np.ndarray) -> None:
        """Standardise the design Z (n, P) and target y (n,), sample the posterior, diagnose it."""
        scale = Z.std(axis=0)
        self.x_mean_ = Z.mean(axis=0)
        self.x_scale_ = np.where(scale > 1e-9, scale, 1.0)  # constant in a rehearsal's rows: a zero column
        Zs = (Z - self.x_mean_) / self.x_scale_
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std())
        ys = (y - self.y_mean_) / self.y_scale_
        model = self._build(Zs, ys)
        self.idata_, timings = self._sample(model, Zs, ys)
        posterior = self.idata_.posterior
        self.draws_ = {
            "alpha": posterior["alpha"].values.reshape(-1),
            "beta": posterior["beta"].values.reshape(-1, Zs.shape[1]),
            "sigma": posterior["sigma"].values.reshape(-1),
        }
        self.diagnostics_ = self._diagnose() | timings
        self.model_error_ = self._no_model_error(y)

    def _sibling(self, sampler: SamplerSettings) -> BayesianILR:
        """An unfitted model on this one's design columns and prior, for `_fit_design` on other
        rows of the (already transformed) target: the rehearsal."""
        sibling = BayesianILR(
            self.descriptors, self.categories, self.min_fraction, self.min_contrast_rows, self.prior, sampler,
            CalibrationSettings(method="none"), "none", self.seed,
        )
        sibling.features_, sibling._keep, sibling.columns_, sibling.n_main_ = self.features_, self._keep, self.columns_, self.n_main_
        return sibling

    def _no_model_error(self, y: np.ndarray) -> dict[str, float]:
        c = self.calibration
        return {"constant": 0.0, "per_distance": 0.0, "y_min": float(y.min()), "y_max": float(y.max()),
                "max_error": float(c.max_error_ranges * (y.max() - y.min())), "epistemic_inflation": 1.0}

    def _calibrate(self, X: pd.DataFrame, Z: np.ndarray, y: np.ndarray) -> tuple[dict[str, float], dict[str, Any]]:
        """Epistemic inflation and edge law σ_d(x) = a + b·d(x) from an extrapolation rehearsal
        (CalibrationSettings): the same design columns Z, fitted on the central rows of y (the
        transformed target)."""
        c = self.calibration
        law = self._no_model_error(y)
        if c.method == "none" or len(y) < c.min_rows:
            return law, {"method": "none" if c.method == "none" else f"skipped: fewer than {c.min_rows} rows"}
        held, core = tail_split(y, c.tail_fraction)
        rehearsal = self._sibling(SamplerSettings(**{**asdict(self.sampler), "draws": c.draws, "tune": c.tune}))
        with warnings.catch_warnings():  # the rehearsal's own diagnostics are not the user's concern
            warnings.simplefilter("ignore")
            rehearsal._fit_design(Z[core], y[core])
            prediction = rehearsal.predict(X.iloc[held])
        z = float(stats.norm.ppf(0.5 + c.coverage / 2))
        error = y[held] - prediction.mean
        needed = np.sqrt(np.maximum((error / z) ** 2 - prediction.std**2, 0.0))  # σ_d that covers point i
        distance = _beyond(prediction.mean, float(y[core].min()), float(y[core].max()))
        a, b = edge_law(needed, distance, c.coverage, c.max_per_distance)
        inflation = epistemic_inflation(needed, prediction.latent_std, c.inflation_coverage, c.max_inflation)
        law.update(constant=a, per_distance=b, epistemic_inflation=inflation)
        # kept in memory (not saved) for benchmarks that study the law
        self.rehearsal_ = {"y": y[held], "mean": prediction.mean, "std": prediction.std,
                           "latent_std": prediction.latent_std, "fit_min": float(y[core].min()), "fit_max": float(y[core].max())}
        health = rehearsal.diagnostics_
        return law, {
            "method": c.method, "held_out": int(len(held)), "model_error_constant": a, "model_error_per_distance": b,
            "epistemic_inflation": inflation,
            # the rehearsal's own sampler: its spread sets the inflation
            "rehearsal_max_rhat": health["max_rhat"], "rehearsal_min_ess_bulk": health["min_ess_bulk"],
            "rehearsal_seconds": health["compile_seconds"] + health["sampling_seconds"],
            "held_out_coverage_before": float(np.mean(np.abs(error) <= z * prediction.std)),
            "held_out_rmse": float(np.sqrt(np.mean(error**2))),
        }

    def _global_scales(self, n: int, P: int) -> tuple[np.ndarray, np.ndarray]:
        """(group of each of the P design columns: 0 main, 1 interaction; prior scale of τ_g per
        unit of σ, shape (2,)) for n training rows."""
        p = self.prior
        n_inter = P - self.n_main_
        groups = np.r_[np.zeros(self.n_main_, dtype=int), np.ones(n_inter, dtype=int)]
        p0 = np.array([min(p.expected_main_terms, max(self.n_main_ - 1, 0.5)), min(p.expected_interaction_terms, max(n_inter - 1, 0.5))])
        sizes = np.array([max(self.n_main_, 1), max(n_inter, 1)])
        return groups, p0 / np.maximum(sizes - p0, 1.0) / np.sqrt(n)

    def _ridge_start(self, model, Zs: np.ndarray, ys: np.ndarray) -> dict[str, np.ndarray]:
        """ADVI's starting point (values of the model's unconstrained variables): a ridge fit
        (GCV-chosen penalty) written in the horseshoe's coordinates, β_j = z_j·τ_g·λ̃_j with
        z_j = ±1. From PyMC's default start (all z = 0, τ at its prior scale) mean-field ADVI
        settled in an optimum that shrinks nearly every term away (test RMSE 3-5x the noise on
        synthetic data, against NUTS's from here; BENCHMARKS.md "Scaling")."""
        from sklearn.linear_model import RidgeCV

        ridge = RidgeCV(alphas=np.logspace(-2, 3, 21)).fit(Zs, ys)
        beta = ridge.coef_
        floor = self.prior.noise_floor / self.y_scale_
        sigma = max(float(np.std(ys - ridge.predict(Zs))), floor + 0.05)
        groups, tau0 = self._global_scales(*Zs.shape)
        tau = tau0 * sigma
        c2 = self.prior.slab_scale**2
        # |β_j| = τ_g·λ̃_j: solve λ̃_j² = c²λ_j²/(c² + τ_g²λ_j²) for λ_j² (|β_j| kept below the slab)
        size = np.clip(np.abs(beta), 1e-3, 0.9 * np.sqrt(c2))
        lam2 = size**2 * c2 / (c2 - size**2) / tau[groups] ** 2
        start = {"alpha": np.array(float(ridge.intercept_)), "noise_excess_log__": np.array(np.log(sigma - floor)),
                 "tau_log__": np.log(tau), "lam_a_log__": np.zeros_like(beta), "lam_b_log__": np.log(lam2),
                 "c2_log__": np.array(np.log(c2)), "z": beta / size}
        names = {v.name for v in model.value_vars}
        assert names == set(start), f"ADVI start does not match the model's variables: {sorted(names ^ set(start))}"
        return start

    def _build(self, Zs: np.ndarray, ys: np.ndarray):
        import pymc as pm
        import pytensor.tensor as pt

        p = self.prior
        P = Zs.shape[1]
        groups, tau0 = self._global_scales(*Zs.shape)
        # the design enters as a constant: as pm.Data (to reuse one compiled sampler for the
        # rehearsal) each NUTS step cost 1.8x as much here, more than the compile it saves
        with pm.Model() as model:
            alpha = pm.Normal("alpha", 0.0, p.intercept_scale)
            noise_excess = pm.HalfNormal("noise_excess", p.noise_scale)
            sigma = pm.Deterministic("sigma", p.noise_floor / self.y_scale_ + noise_excess)
            tau = pm.HalfStudentT("tau", nu=1, sigma=tau0 * sigma, shape=2)
            # λ ~ HalfCauchy(1) as N⁺(0,1)·sqrt(InvGamma(½,½)): same prior, gentler geometry for NUTS
            lam_a = pm.HalfNormal("lam_a", 1.0, shape=P)
            lam_b = pm.InverseGamma("lam_b", alpha=0.5, beta=0.5, shape=P)
            lam = lam_a * pt.sqrt(lam_b)
            c2 = pm.InverseGamma("c2", alpha=p.slab_df / 2, beta=p.slab_df * p.slab_scale**2 / 2)
            tau_j = tau[groups]
            lam_tilde = pt.sqrt(c2 * lam**2 / (c2 + tau_j**2 * lam**2))
            z = pm.Normal("z", 0.0, 1.0, shape=P)
            beta = pm.Deterministic("beta", z * tau_j * lam_tilde)
            mu = alpha + pt.dot(Zs, beta)
            if p.likelihood == "normal":
                pm.Normal("y", mu=mu, sigma=sigma, observed=ys)
            else:
                pm.StudentT("y", nu=p.student_t_nu, mu=mu, sigma=sigma, observed=ys)
        return model

    def _sample(self, model, Zs: np.ndarray, ys: np.ndarray) -> tuple[Any, dict[str, float]]:
        """(InferenceData of the posterior of `model`, built on the standardised design Zs and target
        ys; {compile_seconds, sampling_seconds}): where a fit's time goes."""
        import pymc as pm

        s = self.sampler
        start = time.perf_counter()
        if s.method == "nutpie":
            try:
                import nutpie
            except ImportError:  # fall back to PyMC's own NUTS
                log.warning("nutpie is not installed; using PyMC's NUTS")
            else:
                compiled = nutpie.compile_pymc_model(model)
                compiled_at = time.perf_counter()
                idata = nutpie.sample(
                    compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=s.chains, seed=self.seed,
                    progress_bar=False, target_accept=s.target_accept,
                    low_rank_modified_mass_matrix=s.low_rank_mass_matrix, use_grad_based_mass_matrix=s.grad_mass_matrix,
                )
                return idata, {"compile_seconds": compiled_at - start, "sampling_seconds": time.perf_counter() - compiled_at}
        with model:  # PyMC compiles inside its sampler: all of it counts as sampling
            if s.method == "advi":
                advi_start = self._ridge_start(model, Zs, ys)
                # a narrow start (SD 0.1) keeps the first noisy gradients near the ridge point
                approx = pm.fit(n=s.advi_iterations, method="advi", random_seed=self.seed, progressbar=False,
                                start=advi_start, obj_optimizer=pm.adam(learning_rate=0.01),
                                start_sigma={k: np.full(np.shape(v), 0.1) for k, v in advi_start.items()})
                idata = approx.sample(s.draws * s.chains, random_seed=self.seed)
            else:
                idata = pm.sample(
                    draws=s.draws, tune=s.tune, chains=s.chains, cores=1, random_seed=self.seed,
                    target_accept=s.target_accept, progressbar=False, compute_convergence_checks=False,
                )
        return idata, {"compile_seconds": 0.0, "sampling_seconds": time.perf_counter() - start}

    def _diagnose(self) -> dict[str, Any]:
        import arviz as az

        s = self.sampler
        if s.method == "advi":
            return {"method": "advi", "divergences": 0, "max_rhat": float("nan"), "min_ess_bulk": float("nan"),
                    "leapfrog_steps_per_draw": float("nan"), "warnings": []}
        posterior = self.idata_.posterior[["alpha", "sigma", "tau", "beta"]]
        rhat = az.rhat(posterior)
        ess = az.ess(posterior, method="bulk")
        max_rhat = float(max(np.nanmax(rhat[v].values) for v in rhat.data_vars))
        min_ess = float(min(np.nanmin(ess[v].values) for v in ess.data_vars))
        stats_ = self.idata_.sample_stats
        divergences = int(stats_["diverging"].values.sum())
        n_draws = int(stats_["diverging"].size)
        # trajectory length: what a NUTS draw costs (deep trees = a hard posterior geometry)
        steps = float(stats_["n_steps"].values.mean()) if "n_steps" in stats_ else float("nan")
        messages = []
        hint = _MIXING_HINT if s.method == "nutpie" and s.grad_mass_matrix else ""
        if divergences > 0.01 * n_draws:
            messages.append(
                f"{divergences} of {n_draws} NUTS transitions diverged: parts of the posterior were not "
                f"explored; raise sampler.target_accept (now {s.target_accept}) and treat intervals with care"
            )
        if max_rhat > s.max_rhat:
            messages.append(f"chains disagree (max R-hat {max_rhat:.3f} > {s.max_rhat}): run longer (sampler.draws/tune){hint}")
        if min_ess < s.min_ess_bulk:
            messages.append(f"few effective draws (min bulk ESS {min_ess:.0f} < {s.min_ess_bulk:.0f}): intervals are noisy{hint}")
        for message in messages:
            warnings.warn(message, ModelDiagnosticsWarning, stacklevel=3)
        return {
            "method": s.method, "divergences": divergences, "n_draws": n_draws,
            "max_rhat": max_rhat, "min_ess_bulk": min_ess, "leapfrog_steps_per_draw": steps, "warnings": messages,
        }

    # -- prediction ---------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "draws_"):
            raise RuntimeError("BayesianILR is not fitted; call fit() first")

    def predict(
        self, X: pd.DataFrame, n_draws: int | None = None, noise_seed: int | None = None, epistemic_inflation: bool = True,
        draw_weights: np.ndarray | None = None,
    ) -> Prediction:
        """Posterior predictive for the rows of X; draws have shape (n_draws, n_rows).

        Args:
            X: Molecule table.
            n_draws: Use this many posterior draws, evenly spaced over the chains (None: all);
                bounds memory for large pools.
            noise_seed: Seed of the predictive and model-error noise (None: the model's seed).
                Give each chunk of a large pool its own so their noise is independent.
            epistemic_inflation: Stretch the posterior's spread by the calibrated inflation, as the
                reported intervals do. Acquisition ranks without it: as an exploration bonus the
                stretch (up to ~8x on the public suite) over-explored and found fewer of the best molecules (campaign
                backtests, BENCHMARKS.md). The mean and the edge-law model error are the same.
            draw_weights: Importance weights of the posterior draws, shape (n_draws, n_rows), columns
                summing to 1 (e.g. `loo_weights`): the inflation then stretches each column around its
                weighted mean, so a reweighted (leave-one-out) predictive stays centred where the
                weights put it instead of having its shift from the full-data mean stretched too.
                `Prediction.mean` and `std` stay unweighted summaries: weight the draws instead.
        """
        self._check_fitted()
        Z = self.features_.transform(X).to_numpy()[:, self._keep]
        Zs = (Z - self.x_mean_) / self.x_scale_
        d = self.draws_
        if n_draws is not None and n_draws < len(d["alpha"]):
            take = np.linspace(0, len(d["alpha"]) - 1, n_draws).round().astype(int)
            d = {name: values[take] for name, values in d.items()}
        seed = self.seed if noise_seed is None else noise_seed
        latent_s = d["alpha"][:, None] + d["beta"] @ Zs.T
        law = self.model_error_
        if draw_weights is not None and np.shape(draw_weights) != latent_s.shape:
            raise ValueError(f"draw_weights must have shape {latent_s.shape} (draws, rows), got {np.shape(draw_weights)}")
        centre = latent_s.mean(axis=0) if draw_weights is None else (draw_weights * latent_s).sum(axis=0)
        if epistemic_inflation:
            latent_s = centre + law["epistemic_inflation"] * (latent_s - centre)
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal(latent_s.shape) if self.prior.likelihood == "normal" else rng.standard_t(self.prior.student_t_nu, latent_s.shape)
        observed_s = latent_s + d["sigma"][:, None] * noise
        latent = latent_s * self.y_scale_ + self.y_mean_
        error_std = np.minimum(
            law["constant"] + law["per_distance"] * _beyond(centre * self.y_scale_ + self.y_mean_, law["y_min"], law["y_max"]),
            law["max_error"],
        )
        # calibrated model error: uncertainty about the property itself, so it enters the latent draws
        model_error = error_std[None, :] * np.random.default_rng([seed, 1]).standard_normal(latent.shape)
        latent = latent + model_error
        observed = observed_s * self.y_scale_ + self.y_mean_ + model_error
        point = latent.mean(axis=0)
        if self.target_transform == "log":
            # exp of the log-scale mean is the posterior median; the mean of a log-normal is
            # dominated by its far tail and makes a poor point prediction
            point = np.exp(point)
            latent, observed = np.exp(latent), np.exp(observed)
        return Prediction(
            mean=point, std=observed.std(axis=0), latent_std=latent.std(axis=0),
            latent_draws=latent, observation_draws=observed,
        )

    def loo_weights(self, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """Pareto-smoothed importance weights (PSIS-LOO) that turn the posterior into
        leave-one-out posteriors of the training rows, shape (n_draws, n), columns summing to 1,
        in the draw order of `predict(X)` (all draws).

        The weights use the likelihood of the posterior draws alone: the calibrated model error is
        fresh noise in each predictive draw, not a parameter, so it is left out here.
        """
        import arviz as az
        from scipy import stats

        self._check_fitted()
        y = np.asarray(y, dtype=float)
        t = np.log(y) if self.target_transform == "log" else y
        Z = self.features_.transform(X).to_numpy()[:, self._keep]
        Zs = (Z - self.x_mean_) / self.x_scale_
        d = self.draws_
        latent = (d["alpha"][:, None] + d["beta"] @ Zs.T) * self.y_scale_ + self.y_mean_
        sigma = d["sigma"][:, None] * self.y_scale_
        if self.prior.likelihood == "normal":
            log_lik = stats.norm.logpdf(t[None, :], latent, sigma)
        else:
            log_lik = stats.t.logpdf(t[None, :], self.prior.student_t_nu, latent, sigma)
        log_weights, _ = az.psislw(-log_lik.T)
        return np.exp(log_weights).T

    def coefficients(self, level: float = 0.9) -> pd.DataFrame:
        """Terms with posterior mean and central interval of their effect, in target units per
        one standard deviation of the term (training rows), strongest first. A category that
        stands in for merged ones says so in its label ("… × F (also haloalkane)")."""
        self._check_fitted()
        stands_for: dict[str, list[str]] = {}
        for merged, kept in self.features_.aliases_.items():
            stands_for.setdefault(kept, []).append(readable_term(f"{merged}=1"))

        def label(term: str) -> str:
            category = term.split("*", 1)[-1].partition("=")[0] if "=" in term else ""
            also = stands_for.get(category)
            return readable_term(term) + (f" (also {', '.join(also)})" if also else "")

        beta = self.draws_["beta"] * self.y_scale_
        lo, hi = np.quantile(beta, [(1 - level) / 2, (1 + level) / 2], axis=0)
        table = pd.DataFrame({
            "term": self.columns_,
            "label": [label(c) for c in self.columns_],
            "mean": beta.mean(axis=0),
            f"lower_{int(round(100 * (1 - level) / 2))}": lo,
            f"upper_{int(round(100 * (1 + level) / 2))}": hi,
        })
        table["excludes_zero"] = (lo > 0) | (hi < 0)
        return table.reindex(table["mean"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    # -- persistence: NetCDF posterior + JSON sidecar, no pickle --------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write `posterior.nc` (ArviZ NetCDF of alpha, beta, sigma) and `model.json`."""
        import arviz as az

        self._check_fitted()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        draws = {k: v[None, ...] for k, v in self.draws_.items()}  # one "chain" of all draws
        idata = az.from_dict(posterior=draws)
        tmp = out / "posterior.nc.tmp"
        idata.to_netcdf(str(tmp))
        tmp.replace(out / "posterior.nc")
        sidecar = {
            "format": "discovery.BayesianILR", "version": __version__,
            "config": {
                "descriptors": self.descriptors, "categories": self.categories, "min_fraction": self.min_fraction,
                "min_contrast_rows": self.min_contrast_rows, "prior": asdict(self.prior), "sampler": asdict(self.sampler),
                "calibration": asdict(self.calibration), "target_transform": self.target_transform,
                "seed": self.seed,
            },
            "features": self.features_.to_dict(), "keep": [bool(k) for k in self._keep], "columns": self.columns_,
            "x_mean": self.x_mean_.tolist(), "x_scale": self.x_scale_.tolist(),
            "y_mean": self.y_mean_, "y_scale": self.y_scale_, "n_main": self.n_main_,
            "model_error": self.model_error_,
            "diagnostics": self.diagnostics_, "fit_seconds": self.fit_seconds_,
        }
        tmp = out / "model.json.tmp"
        tmp.write_text(json.dumps(sidecar, indent=1))
        tmp.replace(out / "model.json")
        return out

    @classmethod
    def load(cls, directory: str | Path) -> BayesianILR:
        import arviz as az

        path = Path(directory)
        sidecar = json.loads((path / "model.json").read_text())
        if sidecar.get("format") != "discovery.BayesianILR":
            raise ValueError(f"{path / 'model.json'} is not a saved BayesianILR")
        config = sidecar["config"]
        model = cls(
            descriptors=config["descriptors"], categories=config["categories"], min_fraction=config["min_fraction"],
            min_contrast_rows=config.get("min_contrast_rows", 0), prior=HorseshoePrior(**config["prior"]), sampler=SamplerSettings(**config["sampler"]),
            calibration=CalibrationSettings(**config["calibration"]), target_transform=config["target_transform"],
            seed=config["seed"],
        )
        model.features_ = InteractionFeatures.from_dict(sidecar["features"])
        model._keep = np.array(sidecar["keep"], dtype=bool)
        model.columns_ = sidecar["columns"]
        model.x_mean_ = np.array(sidecar["x_mean"])
        model.x_scale_ = np.array(sidecar["x_scale"])
        model.y_mean_ = sidecar["y_mean"]
        model.y_scale_ = sidecar["y_scale"]
        model.n_main_ = sidecar["n_main"]
        model.model_error_ = sidecar["model_error"]
        if set(model.model_error_) != {"constant", "per_distance", "y_min", "y_max", "max_error", "epistemic_inflation"}:
            raise ValueError(f"{path} was saved by an older discovery with another model-error law; fit it again")
        model.diagnostics_ = sidecar["diagnostics"]
        model.fit_seconds_ = sidecar["fit_seconds"]
        posterior = az.from_netcdf(str(path / "posterior.nc")).posterior
        model.draws_ = {k: posterior[k].values[0] for k in ("alpha", "beta", "sigma")}
        return model


def tail_split(y: np.ndarray, tail_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the rehearsal: (held = the lowest and highest `tail_fraction` of y, core = the rest)."""
    order = np.argsort(y, kind="stable")
    k = max(2, int(round(tail_fraction * len(y))))
    return np.r_[order[:k], order[-k:]], order[k:-k]


def edge_law(needed: np.ndarray, distance: np.ndarray, coverage: float, max_slope: float) -> tuple[float, float]:
    """(a, b) of σ_d = a + b·distance from the model error each held-out point needs to be covered
    and its distance beyond the fitted range: a covers `coverage` of the points predicted inside
    the range, then b covers `coverage` of those predicted beyond it (each group, so both overall)."""
    inside = distance <= 0
    a = float(np.quantile(needed[inside], coverage, method="higher")) if inside.any() else 0.0
    slopes = np.maximum(needed[~inside] - a, 0.0) / distance[~inside]
    b = float(min(np.quantile(slopes, coverage, method="higher"), max_slope)) if slopes.size else 0.0
    return a, b


def epistemic_inflation(needed: np.ndarray, latent_std: np.ndarray, coverage: float, max_inflation: float) -> float:
    """f = sqrt(1 + k²), k the smallest ratio model error / latent SD that covers `coverage` of the
    held-out points on its own (`needed`: the model error each point needs, same units as latent_std)."""
    k = float(np.quantile(needed / np.maximum(latent_std, 1e-12), coverage, method="higher"))
    return float(min(np.sqrt(1.0 + k * k), max_inflation))


def _beyond(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """How far each value lies outside [low, high] (0 inside), same units."""
    return np.maximum(0.0, np.maximum(values - high, low - values))


def readable_term(term: str) -> str:
    """`polarizability_per_volume*aromatic_ring=1` -> "polarizability per volume × aromatic ring";
    `has_N=0` -> "no N"; units are dropped from the label."""
    units = ("_g_mol", "_ev", "_au", "_a3", "_a", "_debye", "_ghz", "_e", "_kcal_mol")

    def descriptor(name: str) -> str:
        for unit in units:
            if name.endswith(unit):
                name = name[: -len(unit)]
                break
        return name.replace("_", " ")

    def category(name: str) -> str:
        cat, _, value = name.partition("=")
        cat = cat.replace("has_", "").replace("_", " ")
        return cat if value == "1" else f"no {cat}"

    if "*" in term:
        left, right = term.split("*", 1)
        return f"{descriptor(left)} × {category(right)}"
    if "=" in term:
        return category(term)
    return descriptor(term)
