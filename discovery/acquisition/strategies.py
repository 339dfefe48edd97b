"""Batch selection strategies over a discrete candidate pool.

Every strategy works on posterior draws of the noise-free property: `pool_draws` (s, n_pool)
for the candidates and `measured_draws` (s, n_measured) for the molecules already measured (the
noisy-EI baseline). Draws are standardised with the measured values' mean and SD and negated for
minimisation, so the BoTorch acquisition functions always maximise on a unit scale (their
smoothing temperatures assume one) and `best_value` / `target_value` follow the same map.

BoTorch strategies choose the batch by sequential greedy conditioning with
`optimize_acqf_discrete` (one pick at a time, earlier picks as pending points), which is also where
the optional diversity rule removes candidates too similar to a pick. Thompson sampling, greedy
mean and random need no acquisition function and rank the draws directly.

A probability that each candidate can be made and measured (`feasibility`, from failed
experiments) multiplies the value of each pick, as in constrained Bayesian optimisation (Gardner
et al. 2014, "Bayesian optimization with inequality constraints", ICML): the log-scale strategies
(qLogNEI, qLogEI) add its logarithm, the probability strategies (qPI, exceed_target) multiply it.
qUCB, Thompson sampling, greedy mean and random have no scale on which a product means anything;
they rank without it (`FEASIBILITY_WEIGHTED` lists those that use it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import (
    qLogExpectedImprovement,
    qLogNoisyExpectedImprovement,
    qProbabilityOfImprovement,
    qUpperConfidenceBound,
)
from botorch.acquisition.acquisition import AcquisitionFunction
from botorch.optim import optimize_acqf_discrete

from discovery.acquisition.model import DrawTableModel
from discovery.acquisition.pareto import Criterion, FurtherOutcomes, Objective, OutcomeDraws, ParetoChoice, select_pareto_batch
from discovery.acquisition.sampler import AllDrawsSampler
from discovery.config import ConfigEnum, coerce_enums, from_mapping
from discovery.features.fingerprints import tanimoto_similarity
from discovery.objective import Direction


class Strategy(ConfigEnum):
    QLOGNEI = "qlognei"
    QLOGEI = "qlogei"
    QUCB = "qucb"
    QPI = "qpi"
    EXCEED_TARGET = "exceed_target"
    EHVI = "ehvi"
    PARETO_PI = "pareto_pi"
    CHEBYSHEV = "chebyshev"
    THOMPSON = "thompson"
    GREEDY_MEAN = "greedy_mean"
    RANDOM = "random"


#: strategy -> what it maximises
STRATEGIES: dict[Strategy, str] = {
    Strategy.QLOGNEI: "log noisy expected improvement over the measured molecules (BoTorch qLogNEI)",
    Strategy.QLOGEI: "log expected improvement over the best measured value (BoTorch qLogEI)",
    Strategy.QUCB: "upper confidence bound (BoTorch qUCB, parameter ucb_beta)",
    Strategy.QPI: "probability of improving on the best measured value (BoTorch qPI)",
    Strategy.EXCEED_TARGET: "probability that some batch member exceeds the target value (qPI at the target)",
    Strategy.EHVI: "expected improvement of the batch over the best measured value, exact from the draws "
                   "(with several properties: expected hypervolume improvement of the feasible front)",
    Strategy.PARETO_PI: "probability that some batch member beats the best measured value, exact from the draws "
                        "(with several properties: is feasible and extends the measured Pareto front)",
    Strategy.CHEBYSHEV: "expected improvement of the weighted augmented Chebyshev score of the objectives "
                        "(acquisition.weights) among candidates meeting the constraints, exact from the draws",
    Strategy.THOMPSON: "Thompson sampling: each batch slot takes the best candidate of one posterior draw",
    Strategy.GREEDY_MEAN: "highest posterior mean (pure exploitation)",
    Strategy.RANDOM: "uniformly random candidates (a control)",
}
#: strategies that rank the draws directly, without a BoTorch acquisition function
_DIRECT = (Strategy.THOMPSON, Strategy.GREEDY_MEAN, Strategy.RANDOM)
#: strategies computed exactly from the joint draws (`discovery.acquisition.pareto`); the ones
#: that weigh several properties
PARETO_STRATEGIES = (Strategy.EHVI, Strategy.PARETO_PI, Strategy.CHEBYSHEV)
_CRITERIA = {Strategy.EHVI: Criterion.HYPERVOLUME, Strategy.PARETO_PI: Criterion.PROBABILITY,
             Strategy.CHEBYSHEV: Criterion.CHEBYSHEV}
#: strategies whose values are log-scale: a probability enters as its logarithm
_LOG_SCALE = (Strategy.QLOGNEI, Strategy.QLOGEI)
#: strategies that weight each pick by the candidate's probability of being feasible
FEASIBILITY_WEIGHTED = (*_LOG_SCALE, Strategy.QPI, Strategy.EXCEED_TARGET, *PARETO_STRATEGIES)


@dataclass(frozen=True)
class AcquisitionSettings:
    """The `acquisition` config group (schema `base_acquisition`).

    Attributes:
        strategy: One of `STRATEGIES`.
        batch_size: Candidates per round (q).
        target: Value to exceed for `exceed_target`, in units of the property; None = the best
            measured value plus `target_margin` times the measured range (beyond the data).
        target_margin: See `target`.
        ucb_beta: Exploration weight of `qucb`.
        pi_temperature: Smoothing of the qPI step function, in measured-value SDs.
        min_tanimoto_distance: Batch members must differ by at least this Tanimoto distance
            (1 - similarity) of Morgan fingerprints; 0 = no diversity rule.
        max_batch_size: Candidates per acquisition evaluation (bounds memory).
        n_draws: Posterior draws used (the first n of the model's; None = all).
        weights: For `chebyshev`, each objective's weight (> 0): the campaign's target first, then
            the further objectives in the order of `campaign.properties`; None = equal weights.
    """

    strategy: Strategy = Strategy.QLOGNEI
    batch_size: int = 8
    target: float | None = None
    target_margin: float = 0.1
    ucb_beta: float = 4.0
    pi_temperature: float = 0.01
    min_tanimoto_distance: float = 0.0
    max_batch_size: int = 2048
    n_draws: int | None = 512
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        coerce_enums(self, "acquisition.")
        if self.batch_size < 1:
            raise ValueError(f"acquisition.batch_size must be >= 1, got {self.batch_size}")
        if not 0.0 <= self.min_tanimoto_distance < 1.0:
            raise ValueError(f"acquisition.min_tanimoto_distance must be in [0, 1), got {self.min_tanimoto_distance}")
        if self.target_margin < 0 or self.ucb_beta < 0 or self.pi_temperature <= 0:
            raise ValueError("acquisition.target_margin and ucb_beta must be >= 0, pi_temperature > 0")
        if self.n_draws is not None and self.n_draws < 2:
            raise ValueError(f"acquisition.n_draws must be >= 2 or null, got {self.n_draws}")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
            if self.strategy is not Strategy.CHEBYSHEV or not all(w > 0 for w in self.weights):
                raise ValueError(f"acquisition.weights are positive weights for acquisition=chebyshev, got "
                                 f"{list(self.weights)} with {self.strategy.value}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> AcquisitionSettings:
        return from_mapping(cls, values, "acquisition")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Selection:
    """A chosen batch.

    Attributes:
        indices: Positions in the pool of the chosen candidates, in pick order, shape (q,).
        acquisition_values: The strategy's value at each pick given the earlier picks (for
            BoTorch strategies and `ehvi`, on the standardised scale; `pareto_pi` a probability;
            `chebyshev` the expected improvement of its score, in measured ranges; for Thompson
            sampling the drawn value in property units; greedy mean the mean; random NaN), shape (q,).
        target_value: The value `exceed_target` aimed at (property units), else None.
        strategy: The strategy.
        pareto: For the `PARETO_STRATEGIES`, each pick's probability of meeting every constraint
            and of extending the feasible measured front on its own (`ParetoChoice`); else None.
    """

    indices: np.ndarray
    acquisition_values: np.ndarray
    target_value: float | None
    strategy: Strategy
    pareto: ParetoChoice | None = None


def select_batch(
    pool_draws: np.ndarray,
    measured_draws: np.ndarray,
    measured_values: np.ndarray,
    direction: Direction | str,
    settings: AcquisitionSettings,
    *,
    available: np.ndarray | None = None,
    fingerprints: np.ndarray | None = None,
    feasibility: np.ndarray | None = None,
    further: FurtherOutcomes | None = None,
    seed: int = 0,
) -> Selection:
    """Choose `settings.batch_size` candidates from the pool.

    Args:
        pool_draws: Posterior draws of the noise-free property for the pool, shape (s, n_pool).
        measured_draws: The same draws for the measured molecules, shape (s, n_measured).
        measured_values: Measured values, shape (n_measured,), property units.
        direction: Which way is better ("max" or "min").
        settings: Strategy and its parameters.
        available: Boolean mask (n_pool,) of candidates that may be chosen (False for measured or
            already proposed ones); None = all.
        fingerprints: Morgan bit vectors of the pool, shape (n_pool, n_bits); needed when
            `settings.min_tanimoto_distance` > 0.
        feasibility: Probability that each candidate can be made and measured, shape (n_pool,),
            in (0, 1]; multiplies each pick's value for the `FEASIBILITY_WEIGHTED` strategies
            (None: every candidate is feasible).
        further: Further objectives and constraints (computed or separately modelled
            properties), for the `PARETO_STRATEGIES` (the modelled property is the first objective).
        seed: Seed of Thompson sampling and random selection.

    Returns:
        The `Selection`; fewer than q candidates only when fewer are available.
    """
    direction = Direction(direction)
    pool_draws = np.asarray(pool_draws, dtype=np.float64)
    measured_draws = np.asarray(measured_draws, dtype=np.float64)
    measured_values = np.asarray(measured_values, dtype=np.float64)
    n_pool = pool_draws.shape[1]
    if measured_draws.shape[0] != pool_draws.shape[0] or measured_draws.shape[1] != len(measured_values):
        raise ValueError(
            f"draw shapes disagree: pool {pool_draws.shape}, measured {measured_draws.shape}, "
            f"{len(measured_values)} measured values"
        )
    if len(measured_values) == 0:
        raise ValueError("acquisition needs at least one measured value")
    if settings.n_draws is not None:
        pool_draws, measured_draws = pool_draws[: settings.n_draws], measured_draws[: settings.n_draws]
    available = np.ones(n_pool, dtype=bool) if available is None else np.asarray(available, dtype=bool).copy()
    if settings.min_tanimoto_distance > 0 and fingerprints is None:
        raise ValueError("the diversity rule (min_tanimoto_distance > 0) needs the pool's fingerprints")
    if feasibility is not None:
        feasibility = np.asarray(feasibility, dtype=np.float64)
        if feasibility.shape != (n_pool,) or not ((feasibility > 0) & (feasibility <= 1)).all():
            raise ValueError(f"feasibility must be {n_pool} probabilities in (0, 1], got shape {feasibility.shape}")

    # standardise and orient: the strategies below always maximise on a unit scale
    sign = direction.sign
    center = float(measured_values.mean())
    scale = float(measured_values.std()) or 1.0

    def to_unit(values: np.ndarray | float) -> np.ndarray | float:
        return sign * (np.asarray(values) - center) / scale

    best = direction.best(measured_values)
    value_range = float(np.ptp(measured_values))
    target = None
    if settings.strategy is Strategy.EXCEED_TARGET:
        target = settings.target if settings.target is not None else best + sign * settings.target_margin * value_range
    q = min(settings.batch_size, int(available.sum()))
    if q == 0:
        return Selection(np.array([], dtype=int), np.array([]), target, settings.strategy)

    picker = _DiversityRule(fingerprints, settings.min_tanimoto_distance)
    if settings.strategy in PARETO_STRATEGIES:
        pool, measured, values, objectives, constraints = _outcomes(pool_draws, measured_draws, measured_values,
                                                                    direction, further)
        choice = select_pareto_batch(
            pool, measured, values, objectives, constraints, batch_size=q,
            criterion=_CRITERIA[settings.strategy], weights=settings.weights, available=available,
            synthesis_feasibility=feasibility, after_pick=picker.after_pick,
        )
        return Selection(choice.indices, choice.gains, target, settings.strategy, pareto=choice)
    if further is not None:
        raise ValueError(f"further objectives and constraints need one of {[s.value for s in PARETO_STRATEGIES]}, "
                         f"not {settings.strategy.value}")
    unit_pool = to_unit(pool_draws)  # the pareto strategies standardise their draws themselves
    if settings.strategy in _DIRECT:
        picks, values = _direct(settings.strategy, unit_pool, available, q, picker, seed)
        if settings.strategy is not Strategy.RANDOM:
            values = center + sign * scale * np.asarray(values)  # back to property units
    else:
        # column 0 holds, per draw, the best measured molecule: for qLogNEI it is the whole
        # baseline (the improvement in each draw is over that draw's best measured value), so
        # each evaluation gathers 1 baseline column instead of one per measured molecule
        best_measured = to_unit(measured_draws).max(axis=1, keepdims=True)
        model = DrawTableModel(np.concatenate([best_measured, unit_pool], axis=1))
        acqf = _acquisition_function(settings, model, to_unit(best), target, to_unit)
        if feasibility is not None and settings.strategy in FEASIBILITY_WEIGHTED:
            acqf = _FeasibilityWeighted(acqf, feasibility, log_scale=settings.strategy in _LOG_SCALE,
                                        incremental=settings.strategy is Strategy.QLOGNEI)
        # per-draw level a candidate must pass to add anything (None: every candidate can)
        floor = {
            Strategy.QLOGNEI: best_measured[:, 0],
            Strategy.QLOGEI: np.full(len(best_measured), to_unit(best)),
            Strategy.QPI: np.full(len(best_measured), to_unit(best)),
            Strategy.EXCEED_TARGET: np.full(len(best_measured), to_unit(target) if target is not None else 0.0),
        }.get(settings.strategy)
        picks, values = _sequential_greedy(acqf, model, unit_pool, floor, available, q, picker, settings)
    return Selection(np.asarray(picks, dtype=int), np.asarray(values, dtype=float), target, settings.strategy)


def _outcomes(pool_draws: np.ndarray, measured_draws: np.ndarray, measured_values: np.ndarray,
              direction: Direction, further: FurtherOutcomes | None):
    """The modelled property's draws with the further properties: (pool, measured, measured
    objective values, objectives, constraints) for `select_pareto_batch`."""
    objectives = [Objective("property", direction)]
    pool = pool_draws[:, :, None]
    measured = measured_draws[:, :, None]
    values = measured_values[:, None]
    if further is None:
        return OutcomeDraws(pool), OutcomeDraws(measured), values, objectives, []
    s = pool_draws.shape[0]
    names = [o.name for o in further.objectives]
    if names:
        extra_pool, extra_measured = further.draws("pool", names, s), further.draws("measured", names, s)
        pool = np.concatenate([pool, np.broadcast_to(extra_pool, (s, *extra_pool.shape[1:]))], axis=2)
        measured = np.concatenate([measured, np.broadcast_to(extra_measured, (s, *extra_measured.shape[1:]))], axis=2)
        values = np.column_stack([values, *[np.asarray(further.measured_values[n], dtype=float) for n in names]])
    limits = [c.name for c in further.constraints]
    return (OutcomeDraws(pool, further.draws("pool", limits, s)), OutcomeDraws(measured, further.draws("measured", limits, s)),
            values, [*objectives, *further.objectives], list(further.constraints))


def _acquisition_function(
    settings: AcquisitionSettings, model: DrawTableModel, best_unit: float, target: float | None, to_unit,
) -> AcquisitionFunction:
    sampler = AllDrawsSampler(model.n_draws)
    name = settings.strategy
    if name is Strategy.QLOGNEI:
        # baseline = the per-draw best measured value (column 0); BoTorch's pruning would
        # resample draws at random and is not needed
        return qLogNoisyExpectedImprovement(
            model, X_baseline=model.choices(np.array([0])), sampler=sampler, prune_baseline=False, cache_root=False,
        )
    if name is Strategy.QLOGEI:
        return qLogExpectedImprovement(model, best_f=best_unit, sampler=sampler)
    if name is Strategy.QUCB:
        return qUpperConfidenceBound(model, beta=settings.ucb_beta, sampler=sampler)
    if name is Strategy.QPI:
        return qProbabilityOfImprovement(model, best_f=best_unit, sampler=sampler, tau=settings.pi_temperature)
    if name is Strategy.EXCEED_TARGET:
        assert target is not None
        return qProbabilityOfImprovement(
            model, best_f=float(to_unit(target)), sampler=sampler, tau=settings.pi_temperature
        )
    raise AssertionError(name)


class _FeasibilityWeighted(AcquisitionFunction):
    """The expected value of the batch when the candidate may fail: with V the strategy's value of
    a batch, B the earlier picks and p the candidate's probability of being feasible,
    p·V(B ∪ x) + (1 − p)·V(B), the candidate adding nothing when it fails. For the first pick
    (V(∅) = 0) that is p·V(x): the probability multiplies the value. On a log scale (qLogEI) the
    same is computed with logaddexp. qLogNEI is `incremental`: BoTorch folds the earlier picks
    into its baseline, so its value is already the log of what x adds, and log p is added to it.
    The candidate is the last point of each evaluated batch; the pool sits at offset 1 of the
    `DrawTableModel`."""

    def __init__(self, inner: AcquisitionFunction, feasibility: np.ndarray, log_scale: bool,
                 incremental: bool) -> None:
        super().__init__(inner.model)
        self.inner = inner
        self.log_scale = log_scale
        self.incremental = incremental
        p = torch.as_tensor(np.r_[1.0, feasibility])  # column 0: the measured baseline
        self.register_buffer("p", p)
        self.register_buffer("log_p", torch.log(p))
        self.register_buffer("log_q", torch.log1p(-p))
        self.pending_value: torch.Tensor | None = None  # V(B)

    @property
    def X_pending(self) -> torch.Tensor | None:
        return self.inner.X_pending

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
        self.inner.set_X_pending(X_pending)
        if X_pending is not None and not self.incremental:
            # the pending batch on its own: evaluating one of its points again adds nothing
            self.pending_value = self.inner(X_pending[-1:].unsqueeze(0)).detach()[0]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        value = self.inner(X)
        index = X[..., -1, 0].round().long()
        if self.log_scale:
            weighted = value + self.log_p[index].to(value.dtype)
            if self.pending_value is None:
                return weighted
            return torch.logaddexp(weighted, self.pending_value + self.log_q[index].to(value.dtype))
        p = self.p[index].to(value.dtype)
        return p * value + (1 - p) * (0.0 if self.pending_value is None else self.pending_value)


class _DiversityRule:
    """Removes candidates within the minimum Tanimoto distance of each pick."""

    def __init__(self, fingerprints: np.ndarray | None, min_distance: float) -> None:
        self.fingerprints = fingerprints
        self.max_similarity = 1.0 - min_distance
        self.active = min_distance > 0

    def after_pick(self, pick: int, available: np.ndarray) -> None:
        available[pick] = False
        if self.active:
            assert self.fingerprints is not None
            sim = tanimoto_similarity(self.fingerprints[pick : pick + 1], self.fingerprints)[0]
            available &= sim <= self.max_similarity


def _sequential_greedy(
    acqf: AcquisitionFunction, model: DrawTableModel, unit_pool: np.ndarray, floor: np.ndarray | None,
    available: np.ndarray, q: int, picker: _DiversityRule, settings: AcquisitionSettings,
) -> tuple[list[int], list[float]]:
    """Sequential greedy with `optimize_acqf_discrete`; the pool sits at offset 1 of the model.

    With a `floor`, each pick is searched among the candidates that beat, in at least one draw,
    both the floor and every earlier pick: any other candidate adds no improvement in any draw,
    so its value cannot be the largest (only if no candidate is left does the search take all).
    """
    # choices in order of decreasing posterior mean: optimize_acqf_discrete keeps the first of
    # equal values, so ties (e.g. a batch probability that has reached 1) go to the better mean
    by_mean = np.argsort(-unit_pool.mean(axis=0), kind="stable")  # pool positions
    level = None if floor is None else np.asarray(floor, dtype=unit_pool.dtype)
    picks: list[int] = []
    values: list[float] = []
    for _ in range(q):
        candidates = by_mean[available[by_mean]]
        if len(candidates) == 0:
            break
        if level is not None:
            live = (unit_pool[:, candidates] > level[:, None]).any(axis=0)
            if live.any():
                candidates = candidates[live]
        choice, value = optimize_acqf_discrete(
            acqf, q=1, choices=model.choices(candidates + 1), max_batch_size=settings.max_batch_size,
        )
        pick = int(choice[0, 0].round()) - 1
        picks.append(pick)
        values.append(float(value.reshape(-1)[0]))
        acqf.set_X_pending(model.choices(np.asarray(picks) + 1))
        picker.after_pick(pick, available)
        if level is not None:
            level = np.maximum(level, unit_pool[:, pick])
    return picks, values


def _direct(
    strategy: Strategy, unit_pool: np.ndarray, available: np.ndarray, q: int, picker: _DiversityRule, seed: int,
) -> tuple[list[int], list[float]]:
    rng = np.random.default_rng(seed)
    n_draws = unit_pool.shape[0]
    order = rng.permutation(n_draws)  # Thompson: slot k uses draw order[k % s]
    mean = unit_pool.mean(axis=0)
    picks: list[int] = []
    values: list[float] = []
    for k in range(q):
        candidates = np.flatnonzero(available)
        if len(candidates) == 0:
            break
        if strategy is Strategy.RANDOM:
            pick, value = int(rng.choice(candidates)), float("nan")
        else:
            score = unit_pool[order[k % n_draws], candidates] if strategy is Strategy.THOMPSON else mean[candidates]
            best = int(np.argmax(score))
            pick, value = int(candidates[best]), float(score[best])
        picks.append(pick)
        values.append(value)
        picker.after_pick(pick, available)
    return picks, values
