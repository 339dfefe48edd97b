"""BayesianILR: the interaction linear model with regularised-horseshoe priors.

The pieces: `design` (interaction columns and standardisation), `pymc_model` (the prior and
likelihood), `samplers` (how the posterior is computed), `calibration` (how wrong the model is
when it extrapolates) and persistence through the `PropertyModel` base class. Predictions carry
the posterior draws of the latent property and of a new observation, in target units.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from discovery.config import from_mapping
from discovery.features.interactions import MinorityRule
from discovery.model.base import (
    Capabilities,
    LeaveOneOut,
    PropertyModel,
    TargetTransform,
    check_noise_sd,
    molecule_groups,
)
from discovery.model.bayes.calibration import ModelErrorLaw, beyond, edge_law, epistemic_inflation, tail_split
from discovery.model.bayes.design import InteractionDesign, RegressionProblem, Standardisation
from discovery.model.bayes.samplers import PosteriorDraws, diagnose, make_sampler
from discovery.model.bayes.settings import (
    CalibrationMethod,
    CalibrationSettings,
    HorseshoePrior,
    Likelihood,
    SamplerSettings,
)
from discovery.model.diagnostics import CalibrationRecord, FitDiagnostics, HealthThresholds
from discovery.model.prediction import Prediction


class BayesianILR(PropertyModel):
    """Bayesian interaction linear regression (scikit-learn style).

    Args:
        descriptors, categories, min_fraction, min_contrast_rows, minority_rule, screen_categories:
            passed to `InteractionFeatures` (None: all known QM descriptors / categories present
            in X). Categories that differ from a more general one on fewer than
            `min_contrast_rows` training rows are merged into it (their labels in
            `coefficients()` say so). `screen_categories=False`: `categories` were chosen
            beforehand (`choose_categories`, e.g. on measured ∪ candidate molecules).
        prior: `HorseshoePrior` fields as a dict or the dataclass.
        sampler: `SamplerSettings` fields as a dict or the dataclass.
        calibration: `CalibrationSettings` fields as a dict or the dataclass.
        health: `HealthThresholds` the fit's diagnostics are judged against (warnings and report).
        target_transform: "none", or "log" for positive properties spanning orders of magnitude
            (permittivity, viscosity, ...): the model is linear in log y, and its draws are
            transformed back, so predictions and intervals are in the units of y; the point
            prediction (`Prediction.mean`) is then the posterior median.
        seed: Seed of the sampler and of predictive noise draws.

    Fitted attributes: `design_` (InteractionDesign), `columns_` (design column names),
    `scaling_` (Standardisation), `posterior_` (PosteriorDraws on the standardised scale, at
    most `sampler.chains × sampler.draws`, evenly spaced over chains extended until healthy),
    `idata_` (ArviZ InferenceData of the fit; not saved), `model_error_` (ModelErrorLaw),
    `diagnostics_` (FitDiagnostics), `fit_seconds_`, `rehearsal_` (the rehearsal's held-out
    predictions, for benchmarks; not saved).
    """

    capabilities = Capabilities(posterior_draws=True, persistence=True, coefficients=True, leave_one_out=True,
                                descriptors=True, categories=True, known_noise=True)

    def __init__(
        self,
        descriptors: Sequence[str] | None = None,
        categories: Sequence[str] | None = None,
        min_fraction: float = 0.1,
        min_contrast_rows: int = 5,
        minority_rule: MinorityRule | str = MinorityRule.AT_LEAST,
        screen_categories: bool = True,
        prior: HorseshoePrior | dict[str, Any] | None = None,
        sampler: SamplerSettings | dict[str, Any] | None = None,
        calibration: CalibrationSettings | dict[str, Any] | None = None,
        health: HealthThresholds | dict[str, Any] | None = None,
        target_transform: TargetTransform | str = TargetTransform.NONE,
        seed: int = 0,
    ) -> None:
        self.descriptors = descriptors
        self.categories = categories
        self.min_fraction = min_fraction
        self.min_contrast_rows = min_contrast_rows
        self.minority_rule = MinorityRule(minority_rule)
        self.screen_categories = screen_categories
        self.prior = _settings(HorseshoePrior, prior, "model.params.prior")
        self.sampler = _settings(SamplerSettings, sampler, "model.params.sampler")
        self.calibration = _settings(CalibrationSettings, calibration, "model.params.calibration")
        self.health = _settings(HealthThresholds, health, "model.params.health")
        try:
            self.target_transform = TargetTransform(target_transform)
        except ValueError:
            raise ValueError(f"target_transform must be 'none' or 'log', got {target_transform!r}") from None
        self.seed = seed

    @property
    def columns_(self) -> list[str]:
        return list(self.design_.columns)

    @property
    def features_(self) -> Any:
        """The fitted `InteractionFeatures`."""
        return self.design_.features

    # -- fitting --------------------------------------------------------------------------------
    def _fit(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None) -> None:
        if self.target_transform is TargetTransform.LOG:
            if (y <= 0).any():
                bad = list(X.index[y <= 0][:10])
                raise ValueError(f"target_transform='log' needs positive values; rows {bad} are <= 0")
        t = self._to_model_scale(y)  # everything below, the rehearsal included, works on this scale
        known = self._known_sd(y, noise_sd)
        self.design_ = InteractionDesign.fit(X, self.descriptors, self.categories, self.min_fraction,
                                             self.min_contrast_rows, self.minority_rule, self.screen_categories)
        Z = self.design_.matrix(X)
        sampler = make_sampler(self.sampler, self.seed, self.health)
        self.scaling_, posterior, self.idata_, diagnostics = self._sample(Z, t, known, sampler, warn=True)
        # chains extended until healthy are autocorrelated: evenly spaced, the draws asked for
        # (chains x draws) carry nearly all they know, and a saved fit stays small
        self.posterior_ = posterior.thinned(self.sampler.chains * self.sampler.draws)
        self.model_error_, record = self._calibrate(Z, t, known, molecule_groups(X))
        self.diagnostics_ = dataclasses.replace(diagnostics, calibration=record)

    def _known_sd(self, y: np.ndarray, noise_sd: np.ndarray | None) -> np.ndarray:
        """Known measurement SDs on the model's scale, shape (n,) (0: unknown); with a log target
        an SD s of y is s/y in log units (first order)."""
        if noise_sd is None:
            return np.zeros(len(y))
        return noise_sd / y if self.target_transform is TargetTransform.LOG else noise_sd

    def _sample(self, Z: np.ndarray, t: np.ndarray, known: np.ndarray, sampler: Any,
                warn: bool) -> tuple[Standardisation, PosteriorDraws, Any, FitDiagnostics]:
        """Standardise the design Z (n, P) and target t (n,) (known SDs `known` on t's scale),
        sample the posterior, diagnose it."""
        scaling = Standardisation.fit(Z, t, self.design_.n_main)
        problem = RegressionProblem.build(scaling.design(Z), scaling.target(t), self.design_.n_main, self.prior,
                                          self.prior.noise_floor / scaling.y_scale, known / scaling.y_scale)
        if warn:
            sampler.advise(problem)
        run = sampler.run(problem)
        return scaling, run.draws, run.idata, diagnose(run, sampler, self.health, warn=warn)

    def _calibrate(self, Z: np.ndarray, t: np.ndarray, known: np.ndarray,
                   groups: np.ndarray) -> tuple[ModelErrorLaw, CalibrationRecord]:
        """Epistemic inflation and edge law σ_d(x) = a + b·d(x) from an extrapolation rehearsal
        (CalibrationSettings) on the extreme molecules of t: refitted without them (`tail_refit`),
        or each left out alone by PSIS-LOO of the main fit (`loo_tails`). Replicates (same
        `groups`) stay together."""
        c = self.calibration
        law = ModelErrorLaw.none(t, c)
        if c.method is CalibrationMethod.NONE:
            return law, CalibrationRecord(method="none")
        if len(np.unique(groups)) < c.min_rows:
            return law, CalibrationRecord(method=f"skipped: fewer than {c.min_rows} molecules")
        held, core = tail_split(t, c.tail_fraction, groups)
        start = time.perf_counter()
        if c.method is CalibrationMethod.LOO_TAILS:
            mean, std, latent_std = self._loo_moments(Z, t, known, groups, held)
            # each held-out molecule extrapolates from all the others: its own range leaves it out
            others = [np.delete(t, np.flatnonzero(groups == groups[i])) for i in held]
            fit_min, fit_max = np.array([o.min() for o in others]), np.array([o.max() for o in others])
            health = dict(rehearsal_seconds=time.perf_counter() - start)
        else:
            tune = min(self.sampler.tune, 500) if c.tune is None else c.tune
            sampler = make_sampler(dataclasses.replace(self.sampler, draws=c.draws, tune=tune), self.seed)
            with warnings.catch_warnings():  # the rehearsal's own diagnostics are not the user's concern
                warnings.simplefilter("ignore")
                scaling, posterior, _, fitted = self._sample(Z[core], t[core], known[core], sampler, warn=False)
            prediction = self._predictive(Z[held], scaling, posterior, ModelErrorLaw.none(t[core], c),
                                          TargetTransform.NONE, self.seed, inflate=False)
            mean, std, latent_std = prediction.mean, prediction.std, prediction.latent_std
            fit_min, fit_max = float(t[core].min()), float(t[core].max())
            health = dict(rehearsal_max_rhat=fitted.max_rhat, rehearsal_min_ess_bulk=fitted.min_ess_bulk,
                          rehearsal_seconds=fitted.compile_seconds + fitted.sampling_seconds)
        z = float(stats.norm.ppf(0.5 + c.coverage / 2))
        error = t[held] - mean
        needed = np.sqrt(np.maximum((error / z) ** 2 - std**2, 0.0))  # σ_d that covers point i
        distance = beyond(mean, fit_min, fit_max)
        a, b = edge_law(needed, distance, c.coverage, c.max_per_distance)
        if c.method is CalibrationMethod.LOO_TAILS:
            # one step beyond the data, as a campaign round: the inflation covers what the edge
            # law leaves uncovered, at the nominal coverage (the two are not each sized alone)
            residual = np.sqrt(np.maximum(needed**2 - (a + b * distance) ** 2, 0.0))
            inflation = epistemic_inflation(residual, latent_std, c.coverage, c.max_inflation)
        else:
            inflation = epistemic_inflation(needed, latent_std, c.inflation_coverage, c.max_inflation)
        # kept in memory (not saved) for benchmarks that study the law
        self.rehearsal_ = {"y": t[held], "mean": mean, "std": std, "latent_std": latent_std, "fit_min": fit_min,
                           "fit_max": fit_max}
        law = dataclasses.replace(law, constant=a, per_distance=b, epistemic_inflation=inflation)
        return law, CalibrationRecord(
            method=c.method.value, held_out=int(len(held)), model_error_constant=a, model_error_per_distance=b,
            epistemic_inflation=inflation, held_out_coverage_before=float(np.mean(np.abs(error) <= z * std)),
            held_out_rmse=float(np.sqrt(np.mean(error**2))), **health,
        )

    def _loo_weights(self, Z: np.ndarray, t: np.ndarray, known: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Pareto-smoothed importance weights of the posterior draws that leave out each row's
        molecule (PSIS-LOO), shape (S, n), columns summing to 1. `t`, `known`: targets and known
        SDs on the model's scale, shape (n,); `groups`: the molecule of each row."""
        import arviz as az

        d, s = self.posterior_, self.scaling_
        latent = (d.alpha[:, None] + d.beta @ s.design(Z).T) * s.y_scale + s.y_mean
        scale = np.sqrt((d.sigma[:, None] * s.y_scale) ** 2 + known[None, :] ** 2)
        if self.prior.likelihood is Likelihood.NORMAL:
            log_lik = stats.norm.logpdf(t[None, :], latent, scale)
        else:
            log_lik = stats.t.logpdf(t[None, :], self.prior.student_t_nu, latent, scale)
        per_molecule = log_lik @ np.eye(groups.max() + 1)[groups]  # (S, molecules): replicates' sum
        log_weights, _ = az.psislw(-per_molecule.T)
        return np.exp(log_weights).T[:, groups]

    def _loo_moments(self, Z: np.ndarray, t: np.ndarray, known: np.ndarray, groups: np.ndarray,
                     rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Leave-one-molecule-out predictive mean, SD of a new measurement and latent SD of `rows`
        (model's scale, each shape (len(rows),)), from the main fit's draws reweighted by PSIS."""
        weights = self._loo_weights(Z, t, known, groups)[:, rows]
        d, s = self.posterior_, self.scaling_
        latent = (d.alpha[:, None] + d.beta @ s.design(Z[rows]).T) * s.y_scale + s.y_mean
        mean = (weights * latent).sum(axis=0)
        latent_var = (weights * (latent - mean) ** 2).sum(axis=0)
        noise_var = (weights * (d.sigma[:, None] * s.y_scale) ** 2).sum(axis=0)
        nu = self.prior.student_t_nu
        if self.prior.likelihood is Likelihood.STUDENT_T and nu > 2:  # variance of a t of scale σ (none for ν ≤ 2:
            noise_var *= nu / (nu - 2.0)                                # the scale stands in)
        return mean, np.sqrt(latent_var + noise_var), np.sqrt(latent_var)

    # -- prediction -----------------------------------------------------------------------------
    def _predict(self, X: pd.DataFrame, n_draws: int | None, noise_seed: int, for_acquisition: bool) -> Prediction:
        return self._predictive(self.design_.matrix(X), self.scaling_, self.posterior_.thinned(n_draws),
                                self.model_error_, self.target_transform, noise_seed, inflate=not for_acquisition)

    def _predictive(
        self, Z: np.ndarray, scaling: Standardisation, posterior: PosteriorDraws, law: ModelErrorLaw,
        transform: TargetTransform, seed: int, inflate: bool, draw_weights: np.ndarray | None = None,
    ) -> Prediction:
        """Posterior predictive of design rows Z (n, P); draws have shape (S, n).

        `inflate`: stretch the posterior's spread by the calibrated inflation, as the reported
        intervals do (acquisition ranks without it: as an exploration bonus the stretch
        over-explores; BENCHMARKS.md, "Campaign backtests"). `draw_weights` (S, n), columns
        summing to 1 (leave-one-out weights): the stretch is then around each column's weighted
        mean, so a reweighted predictive stays centred where the weights put it.
        """
        latent_s = posterior.alpha[:, None] + posterior.beta @ scaling.design(Z).T
        if draw_weights is not None and np.shape(draw_weights) != latent_s.shape:
            raise ValueError(f"draw_weights must have shape {latent_s.shape} (draws, rows), got {np.shape(draw_weights)}")
        centre = latent_s.mean(axis=0) if draw_weights is None else (draw_weights * latent_s).sum(axis=0)
        if inflate:
            latent_s = centre + law.epistemic_inflation * (latent_s - centre)
        rng = np.random.default_rng(seed)
        if self.prior.likelihood is Likelihood.NORMAL:
            noise = rng.standard_normal(latent_s.shape)
        else:
            noise = rng.standard_t(self.prior.student_t_nu, latent_s.shape)
        observed_s = latent_s + posterior.sigma[:, None] * noise
        latent = latent_s * scaling.y_scale + scaling.y_mean
        error_std = law.error_std(centre * scaling.y_scale + scaling.y_mean)
        # calibrated model error: uncertainty about the property itself, so it enters the latent draws
        model_error = error_std[None, :] * np.random.default_rng([seed, 1]).standard_normal(latent.shape)
        latent = latent + model_error
        observed = observed_s * scaling.y_scale + scaling.y_mean + model_error
        point = latent.mean(axis=0)
        if transform is TargetTransform.LOG:
            # exp of the log-scale mean is the posterior median; the mean of a log-normal is
            # dominated by its far tail and makes a poor point prediction
            point = np.exp(point)
            latent, observed = np.exp(latent), np.exp(observed)
        return Prediction(mean=point, std=observed.std(axis=0), latent_std=latent.std(axis=0),
                          latent_draws=latent, observation_draws=observed)

    def leave_one_out(self, X: pd.DataFrame, y: np.ndarray, noise_sd: np.ndarray | None = None) -> LeaveOneOut:
        """Leave-one-molecule-out predictives of the training rows from one fit: Pareto-smoothed
        importance weights (PSIS-LOO) of all posterior draws, and the predictive draws of a new
        measurement stretched around each row's own leave-one-out mean (so the calibrated
        inflation does not also stretch the shift from the full-data mean). Replicates of a
        molecule (same `identity`) are left out together, so their rows share one set of weights.

        The weights use the likelihood of the posterior draws alone: the calibrated model error is
        fresh noise in each predictive draw, not a parameter, so it is left out here. With known
        noise and a Student-t likelihood the row's density is taken as a t of scale √(σ² + s²)
        (the exact one, a t convolved with a normal, has no closed form).
        """
        self._check_fitted()
        y = np.asarray(y, dtype=float)
        t = self._to_model_scale(y)
        known = self._known_sd(y, check_noise_sd(noise_sd, len(y)))
        Z = self.design_.matrix(X)
        weights = self._loo_weights(Z, t, known, molecule_groups(X))
        prediction = self._predictive(Z, self.scaling_, self.posterior_, self.model_error_, self.target_transform,
                                      self.seed, inflate=True, draw_weights=weights)
        return LeaveOneOut(observation_draws=prediction.observation_draws, weights=weights)

    def coefficients(self, level: float = 0.9) -> pd.DataFrame:
        """Terms with posterior mean and central interval of their effect in target units (model
        scale), strongest first: a descriptor's per standard deviation of it (training rows), a
        descriptor × category term's the change of that effect within the category, a category's
        the shift it brings (`Standardisation`). A category that stands in for merged ones says so
        in its label ("… × F (also haloalkane)")."""
        self._check_fitted()
        stands_for: dict[str, list[str]] = {}
        for merged, kept in self.features_.aliases_.items():
            stands_for.setdefault(kept, []).append(readable_term(f"{merged}=1"))

        def label(term: str) -> str:
            category = term.split("*", 1)[-1].partition("=")[0] if "=" in term else ""
            also = stands_for.get(category)
            return readable_term(term) + (f" (also {', '.join(also)})" if also else "")

        beta = self.posterior_.beta * self.scaling_.y_scale
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

    def _to_model_scale(self, y: np.ndarray) -> np.ndarray:
        return np.log(y) if self.target_transform is TargetTransform.LOG else y

    # -- persistence: posterior as ArviZ NetCDF, the rest in the base's JSON sidecar -------------
    def _save_state(self, directory: Path) -> dict[str, Any]:
        import arviz as az

        d = self.posterior_
        idata = az.from_dict(posterior={"alpha": d.alpha[None], "beta": d.beta[None], "sigma": d.sigma[None]})
        tmp = directory / "posterior.nc.tmp"
        idata.to_netcdf(str(tmp))
        tmp.replace(directory / "posterior.nc")
        return {"design": self.design_.to_dict(), "scaling": self.scaling_.to_dict(),
                "model_error": self.model_error_.to_dict()}

    def _load_state(self, directory: Path, state: dict[str, Any]) -> None:
        import arviz as az

        self.design_ = InteractionDesign.from_dict(state["design"])
        self.scaling_ = Standardisation.from_dict(state["scaling"])
        self.model_error_ = ModelErrorLaw.from_dict(state["model_error"])
        posterior = az.from_netcdf(str(directory / "posterior.nc")).posterior
        self.posterior_ = PosteriorDraws(*(posterior[k].values[0] for k in ("alpha", "beta", "sigma")))


def _settings(cls: type, value: Any, where: str) -> Any:
    if isinstance(value, cls):
        return value
    return from_mapping(cls, value or {}, prefix=f"{where}.")


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
