"""Sampler backends: each computes the posterior of a `RegressionProblem` its own way and returns
chains of the same variables, which `diagnose` judges the same way for all."""

from __future__ import annotations

import logging
import os
import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from discovery.model.bayes.pymc_model import build_model, ridge_start
from discovery.model.bayes.design import RegressionProblem
from discovery.model.bayes.settings import Likelihood, SamplerMethod, SamplerSettings
from discovery.model.convergence import bulk_ess, rank_rhat
from discovery.model.diagnostics import FitDiagnostics, HealthThresholds, ModelDiagnosticsWarning

log = logging.getLogger(__name__)

#: The variables whose R-hat and ESS judge a fit: everything a prediction depends on.
JUDGED = ("alpha", "sigma", "tau", "beta")

_MIXING_HINT = ("; or try sampler.grad_mass_matrix=false (variance-based mass matrix adaptation: better mixing "
                "at about twice the time; BENCHMARKS.md, \"BayesianILR fit time\")")


@dataclass(frozen=True)
class PosteriorDraws:
    """Posterior draws on the standardised scale, chains stacked.

    Attributes:
        alpha: Intercept, shape (S,).
        beta: Coefficients of the design columns, shape (S, P).
        sigma: Noise SD, shape (S,).
    """

    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray

    def __len__(self) -> int:
        return len(self.alpha)

    def thinned(self, n_draws: int | None) -> PosteriorDraws:
        """`n_draws` draws evenly spaced over the chains (all of them when None or more)."""
        if n_draws is None or n_draws >= len(self):
            return self
        take = np.linspace(0, len(self) - 1, n_draws).round().astype(int)
        return PosteriorDraws(self.alpha[take], self.beta[take], self.sigma[take])

    @classmethod
    def from_idata(cls, idata: Any) -> PosteriorDraws:
        posterior = idata.posterior
        n_columns = posterior["beta"].shape[-1]
        return cls(posterior["alpha"].values.reshape(-1), posterior["beta"].values.reshape(-1, n_columns),
                   posterior["sigma"].values.reshape(-1))


@dataclass(frozen=True)
class SamplerRun:
    """What a backend returns.

    Attributes:
        idata: ArviZ InferenceData with chains of at least `JUDGED` in its posterior.
        divergences: Divergent transitions (None: the sampler has none).
        steps_per_draw: Gradient steps (NUTS) or sweeps per draw; NaN when not meaningful.
        compile_seconds, sampling_seconds: Where the time went.
    """

    idata: Any
    divergences: int | None
    steps_per_draw: float
    compile_seconds: float
    sampling_seconds: float

    @property
    def draws(self) -> PosteriorDraws:
        return PosteriorDraws.from_idata(self.idata)


class PosteriorSampler(ABC):
    """A way of computing the posterior of a `RegressionProblem`.

    Attributes:
        label: What the report calls it.
        exact: Whether it samples the exact posterior (with convergence checks) or approximates it.
    """

    label: ClassVar[str]
    exact: ClassVar[bool] = True

    def __init__(self, settings: SamplerSettings, seed: int, health: HealthThresholds | None = None) -> None:
        self.settings = settings
        self.seed = seed
        self.health = health  # when given, a sampler that can may sample longer to meet it

    @abstractmethod
    def run(self, problem: RegressionProblem) -> SamplerRun:
        """Sample the posterior of `problem`."""

    def advise(self, problem: RegressionProblem) -> None:  # noqa: B027 (a hook: most samplers have no advice)
        """Log a warning when this sampler is a poor choice for the problem's size."""


class NutpieNUTS(PosteriorSampler):
    """NUTS on the PyMC model, compiled by nutpie (numba); falls back to PyMC's NUTS without nutpie."""

    label = "NUTS (nutpie)"

    def run(self, problem: RegressionProblem) -> SamplerRun:
        try:
            import nutpie
        except ImportError:
            log.warning("nutpie is not installed; using PyMC's NUTS")
            return PymcNUTS(self.settings, self.seed, self.health).run(problem)
        s = self.settings
        start = time.perf_counter()
        compiled = nutpie.compile_pymc_model(build_model(problem))
        compiled_at = time.perf_counter()
        idata = nutpie.sample(
            compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=s.chains, seed=self.seed,
            progress_bar=False, target_accept=s.target_accept,
            low_rank_modified_mass_matrix=s.low_rank_mass_matrix, use_grad_based_mass_matrix=s.grad_mass_matrix,
        )
        return _nuts_run(idata, compiled_at - start, time.perf_counter() - compiled_at)

    def advise(self, problem: RegressionProblem) -> None:
        _advise_nuts(problem)


class PymcNUTS(PosteriorSampler):
    """PyMC's own NUTS (compiles inside its sampler: all of it counts as sampling)."""

    label = "NUTS (PyMC)"

    def run(self, problem: RegressionProblem) -> SamplerRun:
        import pymc as pm

        s = self.settings
        start = time.perf_counter()
        with build_model(problem):
            idata = pm.sample(
                draws=s.draws, tune=s.tune, chains=s.chains, cores=1, random_seed=self.seed,
                target_accept=s.target_accept, progressbar=False, compute_convergence_checks=False,
            )
        return _nuts_run(idata, 0.0, time.perf_counter() - start)

    def advise(self, problem: RegressionProblem) -> None:
        _advise_nuts(problem)


class MeanFieldADVI(PosteriorSampler):
    """Mean-field ADVI from a ridge start: fast, approximate, no convergence checks."""

    label = "ADVI (variational approximation)"
    exact = False

    def run(self, problem: RegressionProblem) -> SamplerRun:
        import pymc as pm

        s = self.settings
        start = time.perf_counter()
        with build_model(problem) as model:
            advi_start = ridge_start(model, problem)
            # a narrow start (SD 0.1) keeps the first noisy gradients near the ridge point
            approx = pm.fit(n=s.advi_iterations, method="advi", random_seed=self.seed, progressbar=False,
                            start=advi_start, obj_optimizer=pm.adam(learning_rate=0.01),
                            start_sigma={k: np.full(np.shape(v), 0.1) for k, v in advi_start.items()})
            idata = approx.sample(s.draws * s.chains, random_seed=self.seed)
        return SamplerRun(idata, None, float("nan"), 0.0, time.perf_counter() - start)

    def advise(self, problem: RegressionProblem) -> None:
        if problem.n_rows < 100:
            log.warning(
                "ADVI on %d molecules: on small data the horseshoe posterior is far from Gaussian and ADVI "
                "misses badly (BENCHMARKS.md, \"Scaling\"); use the exact sampler, sampler.method=gibbs", problem.n_rows,
            )


class ExactGibbs(PosteriorSampler):
    """Blocked Gibbs with exact Gaussian draws of the coefficients (`discovery.model.bayes.gibbs`).

    Chains run in isolated worker processes, one per core, when the fit is large enough to repay
    starting them (`_PARALLEL_WORK`); each chain is seeded by its number, so the draws are the
    same either way, and a chain whose worker fails runs again here. Given health thresholds, the
    chains are continued (up to `max_draws` each) until their R-hat and bulk ESS meet them.
    """

    label = "exact Gibbs"

    def run(self, problem: RegressionProblem) -> SamplerRun:
        import arviz as az

        from discovery.model.bayes.gibbs import GibbsProblem

        s = self.settings
        p = problem.prior
        plain = GibbsProblem(
            Z=problem.Z, y=problem.y, groups=problem.groups, tau_scale=problem.tau_scale,
            intercept_scale=p.intercept_scale, noise_scale=p.noise_scale, noise_floor=problem.noise_floor,
            slab_scale=p.slab_scale, slab_df=p.slab_df,
            student_t_nu=p.student_t_nu if p.likelihood is Likelihood.STUDENT_T else None, known_sd=problem.known_sd,
        )
        start = time.perf_counter()
        results = self._chains(plain, problem, s.draws, s.tune, [None] * s.chains)
        parts = [[draws] for draws, _ in results]
        while self.health is not None:
            more = self._more_draws(parts)
            if more == 0:
                break
            results = self._chains(plain, problem, more, 0, [state for _, state in results])
            for part, (draws, _) in zip(parts, results):
                part.append(draws)
        names = ("alpha", "beta", "sigma", "tau", "c2")
        posterior = {name: np.stack([np.concatenate([getattr(d, name) for d in part]) for part in parts]) for name in names}
        self.acceptance_ = np.mean([draws.acceptance for draws, _ in results], axis=0)
        return SamplerRun(az.from_dict(posterior=posterior), None, 1.0, 0.0, time.perf_counter() - start)

    def _chains(self, plain: Any, problem: RegressionProblem, draws: int, tune: int, states: list[Any]) -> list[Any]:
        """Run (or continue, from `states`) every chain for `draws` kept sweeps."""
        from threadpoolctl import threadpool_limits

        from discovery.model.bayes.gibbs import run_chain

        s = self.settings
        seeds = [[self.seed, chain] for chain in range(s.chains)]
        workers = min(s.chains, os.cpu_count() or 1)
        work = problem.n_rows**2 * problem.n_columns * (draws + tune) * s.chains
        results: list[Any] = [None] * s.chains
        if workers > 1 and work > _PARALLEL_WORK:
            results = _run_in_workers(plain, draws, tune, seeds, states, workers)
        # small factorisations: BLAS threads cost more than they save at these sizes
        with threadpool_limits(1):
            return [r if r is not None else run_chain(plain, draws, tune, seed, state)
                    for r, seed, state in zip(results, seeds, states)]

    def _more_draws(self, parts: list[list[Any]]) -> int:
        """Draws per chain to add so that R-hat and bulk ESS meet the thresholds (0: they do, or
        the chains are at `max_draws`): ESS grows about in proportion to the draws."""
        s, health = self.settings, self.health
        done = sum(len(d.alpha) for d in parts[0])
        room = s.max_draws - done
        if room <= 0:
            return 0
        judged = np.stack([np.concatenate([np.column_stack([d.alpha, d.sigma, d.tau, d.beta]) for d in part])
                           for part in parts])
        rhat = float(np.nanmax(rank_rhat(judged))) if len(parts) > 1 else 1.0
        ess = float(np.nanmin(bulk_ess(judged)))
        if rhat <= health.max_rhat and ess >= health.min_ess_bulk:
            return 0
        # 10 % to spare, at least half as many draws again, in steps of 100
        wanted = done * max(1.1 * health.min_ess_bulk / max(ess, 1.0) - 1.0, 0.5)
        return int(min(room, 100 * np.ceil(wanted / 100)))


#: n² · P · sweeps · chains above which chains run in worker processes: a few seconds of
#: sweeps, more than starting a worker (a Python with numpy and scipy) costs.
_PARALLEL_WORK = 2e10


def _run_in_workers(problem: Any, draws: int, tune: int, seeds: list[list[int]], states: list[Any],
                    workers: int) -> list[Any]:
    """Chains in isolated worker processes (`discovery.workers`); None for a chain that failed.
    Arrays travel as .npz files in a temporary folder, read back without pickle."""
    import tempfile

    from discovery.model.bayes.gibbs import load_chain, save_chain, save_problem
    from discovery.workers import TaskFailure, WorkerTask, run_isolated

    with tempfile.TemporaryDirectory(prefix="discovery-gibbs-") as folder:
        task = WorkerTask("discovery.model.bayes.gibbs:chain_task", {"problem": save_problem(problem, folder)})
        items = []
        for i, (seed, state) in enumerate(zip(seeds, states)):
            state_path = None
            if state is not None:
                state_path = f"{folder}/state_{i}.npz"
                save_chain(state_path, None, state)
            items.append({"draws": draws, "tune": tune, "seed": seed, "state": state_path, "out": f"{folder}/chain_{i}.npz"})
        results = run_isolated(task, items, n_workers=workers, timeout_s=24 * 3600.0)
        chains = []
        for seed, result in zip(seeds, results):
            if isinstance(result, TaskFailure):
                log.warning("Gibbs chain %s failed in its worker (%s); running it here", seed, result.reason)
                chains.append(None)
            else:
                chains.append(load_chain(result))
    return chains


SAMPLERS: dict[SamplerMethod, type[PosteriorSampler]] = {
    SamplerMethod.GIBBS: ExactGibbs,
    SamplerMethod.NUTPIE: NutpieNUTS,
    SamplerMethod.PYMC: PymcNUTS,
    SamplerMethod.ADVI: MeanFieldADVI,
}


def make_sampler(settings: SamplerSettings, seed: int, health: HealthThresholds | None = None) -> PosteriorSampler:
    return SAMPLERS[settings.method](settings, seed, health)


def diagnose(run: SamplerRun, sampler: PosteriorSampler, thresholds: HealthThresholds, warn: bool = True) -> FitDiagnostics:
    """Judge a run: R-hat and bulk ESS over `JUDGED`, divergences; warn (`ModelDiagnosticsWarning`)
    about whatever is outside `thresholds`."""
    n_draws = len(run.draws)
    common = dict(sampler=sampler.label, exact=sampler.exact, n_draws=n_draws, divergences=run.divergences,
                  steps_per_draw=run.steps_per_draw, compile_seconds=run.compile_seconds,
                  sampling_seconds=run.sampling_seconds, thresholds=thresholds)
    if not sampler.exact:
        return FitDiagnostics(**common)
    posterior = run.idata.posterior
    judged = np.concatenate([posterior[name].values.reshape(*posterior[name].shape[:2], -1) for name in JUDGED], axis=2)
    max_rhat = float(np.nanmax(rank_rhat(judged))) if judged.shape[0] > 1 else float("nan")
    min_ess = float(np.nanmin(bulk_ess(judged)))
    hint = _MIXING_HINT if isinstance(sampler, NutpieNUTS) and sampler.settings.grad_mass_matrix else ""
    messages = []
    if run.divergences is not None and run.divergences > thresholds.max_divergent_fraction * n_draws:
        messages.append(
            f"{run.divergences} of {n_draws} NUTS transitions diverged: parts of the posterior were not "
            f"explored; raise sampler.target_accept (now {sampler.settings.target_accept}) and treat intervals with care"
        )
    if max_rhat > thresholds.max_rhat:
        messages.append(f"chains disagree (max R-hat {max_rhat:.3f} > {thresholds.max_rhat}): run longer "
                        f"(sampler.draws/tune){hint}")
    if min_ess < thresholds.min_ess_bulk:
        messages.append(f"few effective draws (min bulk ESS {min_ess:.0f} < {thresholds.min_ess_bulk:.0f}): "
                        f"intervals are noisy{hint}")
    if warn:
        for message in messages:
            warnings.warn(message, ModelDiagnosticsWarning, stacklevel=4)
    return FitDiagnostics(**common, max_rhat=max_rhat, min_ess_bulk=min_ess, warnings=tuple(messages))


def _nuts_run(idata: Any, compile_seconds: float, sampling_seconds: float) -> SamplerRun:
    stats = idata.sample_stats
    # trajectory length: what a NUTS draw costs (deep trees = a hard posterior geometry)
    steps = float(stats["n_steps"].values.mean()) if "n_steps" in stats else float("nan")
    return SamplerRun(idata, int(stats["diverging"].values.sum()), steps, compile_seconds, sampling_seconds)


def _advise_nuts(problem: RegressionProblem) -> None:
    if problem.Z.size > 2_000_000:
        log.warning(
            "NUTS on %d molecules x %d design columns will take many minutes (the cost grows with both; "
            "BENCHMARKS.md, \"Scaling\"); sampler.method=advi is much faster, with less honest intervals",
            problem.n_rows, problem.n_columns,
        )
