"""Settings of `BayesianILR`: prior, sampler and calibration (`model.params.prior`, `.sampler`, `.calibration`)."""

from __future__ import annotations

from dataclasses import dataclass

from discovery.config import ConfigEnum


class Likelihood(ConfigEnum):
    NORMAL = "normal"
    STUDENT_T = "student_t"  # outlier-prone lab data


class SamplerMethod(ConfigEnum):
    GIBBS = "gibbs"  # exact blocked Gibbs (`discovery.model.bayes.gibbs`)
    NUTPIE = "nutpie"  # NUTS, compiled by nutpie
    PYMC = "pymc"  # PyMC's own NUTS
    ADVI = "advi"  # mean-field variational approximation: fast, less honest intervals


class CalibrationMethod(ConfigEnum):
    TAIL_REFIT = "tail_refit"  # refit without the extremes, predict them: extrapolation by a jump
    LOO_TAILS = "loo_tails"  # each extreme left out alone (PSIS-LOO, no refit): by one step
    NONE = "none"


@dataclass(frozen=True)
class HorseshoePrior:
    """Prior settings (see `discovery.model.bayes.pymc_model`).

    Attributes:
        expected_main_terms: Prior guess of how many QM descriptors matter.
        expected_interaction_terms: ... and how many descriptor × category terms.
        slab_scale: Largest plausible effect, in SDs of the target per SD of a term.
        slab_df, intercept_scale, noise_scale: The slab's degrees of freedom, the scales of the
            intercept and of the noise (standardised target).
        noise_floor: Lower bound on the noise SD in target units, the lab's repeatability (see the field).
        likelihood: normal, or student_t (with `student_t_nu`) for outlier-prone lab data.
    """

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
    likelihood: Likelihood = Likelihood.NORMAL
    student_t_nu: float = 4.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "likelihood", Likelihood(self.likelihood))
        if self.expected_main_terms <= 0 or self.expected_interaction_terms <= 0:
            raise ValueError("expected numbers of relevant terms must be positive")
        if self.noise_floor < 0:
            raise ValueError(f"noise_floor must be >= 0, got {self.noise_floor}")
        if min(self.slab_scale, self.slab_df, self.intercept_scale, self.noise_scale, self.student_t_nu) <= 0:
            raise ValueError(f"prior scales and degrees of freedom must be positive: {self}")


#: Warm-up and chains each method needs when the settings leave them open.
_DEFAULT_TUNE = {SamplerMethod.GIBBS: 300, SamplerMethod.NUTPIE: 1000, SamplerMethod.PYMC: 1000, SamplerMethod.ADVI: 0}
_DEFAULT_CHAINS = {SamplerMethod.GIBBS: 4, SamplerMethod.NUTPIE: 2, SamplerMethod.PYMC: 2, SamplerMethod.ADVI: 2}


@dataclass(frozen=True)
class SamplerSettings:
    """How the posterior is computed: exact blocked Gibbs (default), NUTS via nutpie or PyMC, or
    ADVI (fast, approximate: less honest intervals and no convergence diagnostics; BENCHMARKS.md,
    "Scaling").

    `tune` (warm-up draws per chain) and `chains` left at None take the method's own defaults
    (Gibbs: 300 and 4, chains in worker processes; NUTS: 1000 and 2). `draws` are per chain.
    Gibbs chains run at least `draws` each and are continued, up to `max_draws` each (None: 4 x
    `draws`), until R-hat and bulk ESS meet the model's health thresholds; the other methods draw
    `draws` exactly. `target_accept`, `low_rank_mass_matrix` (better mixing for strongly
    correlated terms, much slower) and `grad_mass_matrix` are NUTS settings, `advi_iterations` ADVI's.
    """

    method: SamplerMethod = SamplerMethod.GIBBS
    draws: int = 1000
    tune: int | None = None
    chains: int | None = None
    max_draws: int | None = None
    target_accept: float = 0.95
    low_rank_mass_matrix: bool = False
    # nutpie's gradient-based diagonal mass matrix adaptation; False: the variance-based
    # (Stan-like) one (BENCHMARKS.md, "BayesianILR fit time")
    grad_mass_matrix: bool = True
    advi_iterations: int = 10000

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", SamplerMethod(self.method))
        if self.tune is None:
            object.__setattr__(self, "tune", _DEFAULT_TUNE[self.method])
        if self.chains is None:
            object.__setattr__(self, "chains", _DEFAULT_CHAINS[self.method])
        if self.max_draws is None:
            object.__setattr__(self, "max_draws", 4 * self.draws if self.method is SamplerMethod.GIBBS else self.draws)
        if self.draws < 1 or self.tune < 0 or self.chains < 1 or self.max_draws < self.draws:
            raise ValueError(f"sampler needs draws >= 1, tune >= 0, chains >= 1 and max_draws >= draws, got {self}")
        if not 0 < self.target_accept < 1:
            raise ValueError(f"sampler.target_accept must be in (0, 1), got {self.target_accept}")


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
      the unstretched posterior;
    - an edge law σ_d(x) = a + b·d(x), covering `coverage` of them, with d the distance of the
      predicted mean outside [min, max] of the training targets (target units), added as an
      independent error of the property itself and capped at `max_error_ranges` widths of the
      training targets' range.

    The inflation covers more of the rehearsal than the nominal `coverage` on purpose: the
    rehearsal extrapolates less far than a campaign or a benchmark's test tail does
    (BENCHMARKS.md, "Model-error law"). Laws that grow from the centre of the data instead blow
    up on small, heavy-tailed data.

    With `method="loo_tails"` the same extremes are each left out alone instead, by Pareto-smoothed
    importance sampling of the main fit's draws (PSIS-LOO: no second fit): each is predicted from
    all the other molecules, the other extremes included. That rehearses extrapolation by one step
    beyond the data, which is what a campaign round asks of the model, where `tail_refit` rehearses
    a jump over the whole tail, which is what an upper-tail benchmark asks. On small data the
    difference is large: a refit without its tails may have no molecule left of the class that
    makes the extremes extreme (BENCHMARKS.md, "Descriptors for permittivity"). Because this
    rehearsal is the campaign's own step, its two corrections are sized together at the nominal
    `coverage`: the edge law first, then the inflation for what the edge law leaves uncovered
    (sizing each to cover on its own and adding both over-covers: BENCHMARKS.md, "Polymer
    intervals").
    """

    method: CalibrationMethod = CalibrationMethod.TAIL_REFIT
    tail_fraction: float = 0.15
    coverage: float = 0.9
    inflation_coverage: float = 0.97  # above `coverage`: the rehearsal extrapolates less far than a campaign
    draws: int = 300
    tune: int | None = None  # None: the sampler's own warm-up, at most 500
    min_rows: int = 20  # below this, no rehearsal (too few rows to hold any out)
    max_per_distance: float = 10.0  # cap on b when few held-out points lie beyond the range
    max_inflation: float = 10.0  # cap on f when the rehearsal's posterior is nearly certain
    # cap on σ_d, in widths of the training targets' range: further out a number means nothing,
    # and a log-scale model's draws would overflow
    max_error_ranges: float = 2.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", CalibrationMethod(self.method))
        if not 0 < self.tail_fraction < 0.5:
            raise ValueError("calibration.tail_fraction must be in (0, 0.5)")
        if not 0 < self.coverage <= self.inflation_coverage < 1:
            raise ValueError("calibration needs 0 < coverage <= inflation_coverage < 1, got "
                             f"{self.coverage} and {self.inflation_coverage}")
