"""What a fit says about its own health: one frozen record, judged against one set of thresholds.

The model writes a `FitDiagnostics` when it fits; the campaign stores it (`to_dict`) and the
report shows its `checks()`: the thresholds live here only, so the warning a fit raises and the
badge the report shows cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any


class ModelDiagnosticsWarning(UserWarning):
    """The sampler's diagnostics say the posterior may not be trustworthy."""


@dataclass(frozen=True)
class HealthThresholds:
    """When a posterior sample counts as healthy. Vehtari et al. (2021, "Rank-normalization,
    folding, and localization: an improved R-hat", Bayesian Analysis 16, 667) recommend R-hat
    below 1.01 and a bulk ESS above 400; the defaults are looser, what NUTS could afford here.

    Attributes:
        max_rhat: Largest rank-normalised split R-hat over the model's parameters.
        min_ess_bulk: Smallest bulk effective sample size.
        max_divergent_fraction: Largest tolerated fraction of divergent NUTS transitions.
    """

    max_rhat: float = 1.05
    min_ess_bulk: float = 100.0
    max_divergent_fraction: float = 0.01

    def __post_init__(self) -> None:
        if self.max_rhat <= 1.0 or self.min_ess_bulk <= 0 or not 0 <= self.max_divergent_fraction < 1:
            raise ValueError(f"health thresholds out of range: {self}")


@dataclass(frozen=True)
class HealthCheck:
    """One line of the report's model-health table.

    Attributes:
        name: What is checked ("Largest R-hat").
        value: The figure (a number, or text such as "0 of 2000" and the sampler's name).
        ok: Within its threshold; None when it cannot be judged (no value).
        meaning: One sentence for the chemist, naming the threshold.
    """

    name: str
    value: float | str
    ok: bool | None
    meaning: str


@dataclass(frozen=True)
class CalibrationRecord:
    """What the extrapolation rehearsal learned (see `discovery.model.bayes.calibration`).

    Attributes:
        method: "tail_refit", "loo_tails", "none", or "skipped: <reason>".
        held_out: Training rows held out as the extremes.
        model_error_constant, model_error_per_distance: The edge law σ_d = a + b·distance (SD, on
            the model's scale).
        epistemic_inflation: Stretch of the posterior spread in the reported intervals.
        held_out_coverage_before: Coverage of the held-out values' 90 % intervals before any correction.
        held_out_rmse: RMSE of the rehearsal on the held-out rows (model's scale).
        rehearsal_max_rhat, rehearsal_min_ess_bulk, rehearsal_seconds: The rehearsal fit's own health and time.
    """

    method: str
    held_out: int = 0
    model_error_constant: float = 0.0
    model_error_per_distance: float = 0.0
    epistemic_inflation: float = 1.0
    held_out_coverage_before: float = math.nan
    held_out_rmse: float = math.nan
    rehearsal_max_rhat: float = math.nan
    rehearsal_min_ess_bulk: float = math.nan
    rehearsal_seconds: float = 0.0

    @property
    def applied(self) -> bool:
        """Whether the rehearsal ran and its corrections are in the predictions."""
        return self.method in ("tail_refit", "loo_tails")


@dataclass(frozen=True)
class FitDiagnostics:
    """How a posterior was computed and whether to trust it.

    Attributes:
        sampler: What computed it, for people ("NUTS (nutpie)", "exact Gibbs", ...).
        exact: False for approximations without convergence checks (ADVI).
        n_draws: Posterior draws kept (all chains).
        max_rhat, min_ess_bulk: Over the model's parameters (NaN when not computed).
        divergences: Divergent transitions (None: the sampler has none).
        steps_per_draw: Gradient (leapfrog) steps or sweeps per draw: what a draw cost.
        compile_seconds, sampling_seconds: Where the fit's time went.
        thresholds: What the figures were judged against.
        warnings: The messages the fit raised (as `ModelDiagnosticsWarning`).
        calibration: The extrapolation rehearsal, when the model has one.
    """

    sampler: str
    exact: bool
    n_draws: int
    max_rhat: float = math.nan
    min_ess_bulk: float = math.nan
    divergences: int | None = None
    steps_per_draw: float = math.nan
    compile_seconds: float = 0.0
    sampling_seconds: float = 0.0
    thresholds: HealthThresholds = field(default_factory=HealthThresholds)
    warnings: tuple[str, ...] = ()
    calibration: CalibrationRecord | None = None

    def checks(self) -> list[HealthCheck]:
        """The report's model-health rows."""
        t = self.thresholds
        rows = [HealthCheck(
            "Sampler", self.sampler, self.exact,
            "Samples the exact posterior." if self.exact else
            "A fast approximation without convergence checks: its intervals tend to be too narrow.",
        )]
        if not self.exact:
            return rows
        rows.append(HealthCheck(
            "Largest R-hat", self.max_rhat, None if math.isnan(self.max_rhat) else self.max_rhat <= t.max_rhat,
            f"Independent chains agree when R-hat ≤ {t.max_rhat}; larger means run the sampler longer.",
        ))
        rows.append(HealthCheck(
            "Smallest bulk ESS", self.min_ess_bulk,
            None if math.isnan(self.min_ess_bulk) else self.min_ess_bulk >= t.min_ess_bulk,
            f"Effective number of independent draws; below {t.min_ess_bulk:.0f} intervals are noisy.",
        ))
        if self.divergences is not None:
            fraction = self.divergences / self.n_draws if self.n_draws else 0.0
            rows.append(HealthCheck(
                "Divergent transitions", f"{self.divergences} of {self.n_draws}", fraction <= t.max_divergent_fraction,
                "Divergences mean parts of the posterior were not explored; a few are tolerable.",
            ))
        return rows

    # -- JSON (the campaign store and saved fits) -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FitDiagnostics:
        values = dict(values)
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"diagnostics have unknown fields {sorted(unknown)}: saved by another version")
        values["thresholds"] = HealthThresholds(**values.get("thresholds", {}))
        values["warnings"] = tuple(values.get("warnings", ()))
        calibration = values.get("calibration")
        values["calibration"] = None if calibration is None else CalibrationRecord(**calibration)
        return cls(**values)
