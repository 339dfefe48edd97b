"""Several properties at once: Pareto and constrained batches, exact from joint posterior draws.

The properties of a candidate are `k` objectives (each maximised or minimised) and `c`
constraints (each at least or at most a threshold), given as joint posterior draws: draw `d` of
every property of every molecule comes from one posterior sample. A constraint on a computed
property (known for every candidate, e.g. the GFN2-xTB gap) is a draw table with one row.

In draw `d` the feasible measured molecules form a Pareto front; a candidate that is feasible in
`d` adds the hypervolume of the objective space it dominates and the front does not (its
hypervolume improvement, HVI; zero when it is infeasible or dominated). Two strategies:

- `Strategy.EHVI`: the expected HVI over the draws, of the batch: each pick joins every draw's
  front (where it is feasible) before the next is chosen, so the batch's value is the expected
  hypervolume it adds jointly. With one objective it is the expected improvement over the best
  feasible measured value. (qNEHVI of Daulton et al. 2021, NeurIPS, computed exactly from the
  given draws instead of by BoTorch's smoothed Monte Carlo: the draws are all there is.)
- `Strategy.PARETO_PI`: the probability that at least one batch member is feasible and not
  dominated by the feasible measured front; with one objective, the probability that one beats
  the best feasible measured value while meeting every constraint.
- `Strategy.CHEBYSHEV`: for a chemist who knows the trade-off. Each draw's objectives are
  measured from the reference point in units of the measured range (z_j) and scalarised by the
  augmented Chebyshev function min_j z_j / w_j + 0.05 sum_j z_j / w_j (Knowles 2006, ParEGO,
  IEEE Trans. Evol. Comput. 10, 50, with the weights dividing: the score's contours have their
  corners on the ray z proportional to w, so the batch aims at the front where it crosses that
  ray, and weights 2:1 ask for twice the progress in the first objective, in measured ranges).
  An ideal-point form (shortfall from the best measured values) would turn the weights around
  for candidates beyond them, which are the ones a campaign looks for. The batch maximises the
  expected improvement of the score over the best feasible measured one, jointly (each pick
  raises the level in the draws where it is feasible).

Objectives are standardised by the measured values' mean and SD and oriented so that larger is
better; the hypervolume's reference point is, per objective, the worst measured value less a
tenth of the measured range (BoTorch's `infer_reference_point` rule). Both strategies are
submodular in the batch, so picks after the first are found by lazy greedy evaluation: a
candidate's value can only shrink as the batch grows, and candidates whose last value is below
the best found need no new evaluation. Choices are exact and deterministic for given draws.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning
from botorch.utils.multi_objective.pareto import is_non_dominated

from discovery.objective import Constraint, Objective

#: candidates per block of the lazy greedy search
_BLOCK = 256
#: elements per intermediate tensor of the hypervolume computations (bounds memory: ~64 MB)
_ELEMENTS = 16_000_000
#: precision of the hypervolume computations: the draws' spread dwarfs float32's rounding
_DTYPE = torch.float32
#: fraction of the measured range the reference point lies below the worst measured value
_REFERENCE_MARGIN = 0.1
#: weight of the sum in the augmented Chebyshev score (Knowles 2006): it breaks ties between
#: points the min term cannot tell apart, so no weakly dominated point scores best
_AUGMENTATION = 0.05


class Criterion(enum.Enum):
    """What a batch of several properties maximises (see the module docstring)."""

    HYPERVOLUME = "expected hypervolume improvement"
    PROBABILITY = "probability of extending the front"
    CHEBYSHEV = "expected improvement of the weighted Chebyshev score"


@dataclass(frozen=True)
class OutcomeDraws:
    """Joint posterior draws of the objectives and constraint properties of some molecules.

    Attributes:
        objectives: Shape (s, n, k), property units, in the order of the `Objective`s.
        constraints: Shape (s, n, c) or (1, n, c) for properties known exactly (computed ones,
            or a mix padded to s rows), in the order of the `Constraint`s; None when c = 0.
    """

    objectives: np.ndarray
    constraints: np.ndarray | None = None

    def __post_init__(self) -> None:
        objectives = np.asarray(self.objectives, dtype=np.float64)
        if objectives.ndim == 2:
            objectives = objectives[:, :, None]
        if objectives.ndim != 3 or objectives.shape[0] < 1:
            raise ValueError(f"objective draws must have shape (s, n, k), got {objectives.shape}")
        if not np.isfinite(objectives).all():
            raise ValueError("objective draws contain NaN or infinite values")
        object.__setattr__(self, "objectives", objectives)
        if self.constraints is not None:
            constraints = np.asarray(self.constraints, dtype=np.float64)
            s, n, _ = objectives.shape
            if constraints.ndim != 3 or constraints.shape[1] != n or constraints.shape[0] not in (1, s):
                raise ValueError(f"constraint draws must have shape ({s} or 1, {n}, c), got {constraints.shape}")
            if not np.isfinite(constraints).all():
                raise ValueError("constraint draws contain NaN or infinite values")
            object.__setattr__(self, "constraints", constraints)

    @property
    def n_draws(self) -> int:
        return int(self.objectives.shape[0])

    @property
    def n_molecules(self) -> int:
        return int(self.objectives.shape[1])

    def feasible(self, constraints: Sequence[Constraint]) -> np.ndarray:
        """Whether each molecule meets every constraint in each draw, shape (s, n)."""
        n_given = 0 if self.constraints is None else self.constraints.shape[2]
        if n_given != len(constraints):
            raise ValueError(f"{len(constraints)} constraints but draws of {n_given} constraint properties")
        ok = np.ones((self.n_draws, self.n_molecules), dtype=bool)
        for j, constraint in enumerate(constraints):
            ok &= constraint.bound.satisfied(self.constraints[:, :, j], constraint.threshold)
        return ok


@dataclass(frozen=True)
class FurtherOutcomes:
    """Properties weighed besides the modelled one: objectives and constraints, each either
    computed (known exactly for every molecule, e.g. a GFN2-xTB gap) or measured and modelled
    (posterior draws from a model of its own).

    Attributes:
        objectives: Further objectives (maximised or minimised with the modelled one).
        constraints: Constraints.
        pool: Each named property for the pool: exact values, shape (n_pool,), or posterior
            draws, shape (s, n_pool), joint across molecules; property units.
        measured: The same for the measured molecules, (n_measured,) or (s, n_measured).
        measured_values: Each objective's measured (or computed) value of the measured
            molecules, shape (n_measured,), NaN where not measured: they set its scale and the
            hypervolume's reference point.
    """

    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    pool: Mapping[str, np.ndarray]
    measured: Mapping[str, np.ndarray]
    measured_values: Mapping[str, np.ndarray]

    def draws(self, which: str, names: Sequence[str], n_draws: int) -> np.ndarray | None:
        """The named properties of the pool or the measured molecules as draws, shape
        (s, n, len(names)), or (1, n, len(names)) when all are exact; None for no names."""
        if not names:
            return None
        values = self.pool if which == "pool" else self.measured
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"further properties {missing} have no values for the {which} molecules")
        # draws beyond the modelled property's `n_draws` are dropped, as `select_batch` drops its own
        columns = [np.atleast_2d(np.asarray(values[name], dtype=np.float64))[:n_draws] for name in names]
        rows = max(c.shape[0] for c in columns)
        if rows not in (1, n_draws) or any(c.shape[0] not in (1, rows) for c in columns):
            raise ValueError(f"further properties of the {which} molecules must be exact or have {n_draws} draws")
        table = np.stack([np.broadcast_to(c, (rows, c.shape[1])) for c in columns], axis=-1)
        if not np.isfinite(table).all():
            raise ValueError(f"further properties {list(names)} are not finite for every {which} molecule")
        return table


class InfeasibleBatchError(ValueError):
    """No available candidate meets the constraints in any posterior draw."""


@dataclass(frozen=True)
class ParetoChoice:
    """A batch chosen by `select_pareto_batch`.

    Attributes:
        indices: Pool positions of the picks, in pick order, shape (q,).
        gains: What each pick adds given the earlier picks: expected hypervolume improvement in
            standardised objective units (EHVI), probability (PARETO_PI), or expected improvement
            of the Chebyshev score (CHEBYSHEV, in measured ranges), shape (q,).
        p_feasible: Each pick's probability of meeting every constraint, shape (q,).
        p_improve: Each pick's probability of being feasible and not dominated by the feasible
            measured front, on its own, shape (q,).
        reference_point: The hypervolume's reference point, property units, shape (k,).
    """

    indices: np.ndarray
    gains: np.ndarray
    p_feasible: np.ndarray
    p_improve: np.ndarray
    reference_point: np.ndarray


def select_pareto_batch(
    pool: OutcomeDraws,
    measured: OutcomeDraws,
    measured_objective_values: np.ndarray,
    objectives: Sequence[Objective],
    constraints: Sequence[Constraint],
    *,
    batch_size: int,
    criterion: Criterion = Criterion.HYPERVOLUME,
    weights: Sequence[float] | None = None,
    available: np.ndarray | None = None,
    synthesis_feasibility: np.ndarray | None = None,
    after_pick: Callable[[int, np.ndarray], None] | None = None,
) -> ParetoChoice:
    """Choose `batch_size` candidates by `criterion`.

    Args:
        pool: Joint draws of the candidates' properties.
        measured: The same draws for the measured molecules (the front in each draw is theirs).
        measured_objective_values: Measured objective values, shape (n_measured, k), NaN where
            a property was not measured; they set the standardisation and the reference point.
        objectives: The k objectives, in the draws' order.
        constraints: The c constraints, in the draws' order (may be empty).
        batch_size: q.
        criterion: What the batch maximises.
        weights: The objectives' weights for `Criterion.CHEBYSHEV`, > 0, shape (k,); None: equal.
        available: Boolean mask (n_pool,) of candidates that may be chosen; None = all.
        synthesis_feasibility: Probability (n_pool,) in (0, 1] that a candidate can be made and
            measured; it multiplies each pick's gain (None: all can).
        after_pick: Called with each pick and the availability mask, which it may narrow
            further (e.g. a diversity rule); the pick itself is made unavailable first.

    Returns:
        The `ParetoChoice`; fewer than q picks only when fewer are available.

    Raises:
        InfeasibleBatchError: when no available candidate is feasible in any draw.
    """
    k = len(objectives)
    if k == 0:
        raise ValueError("at least one objective is needed")
    if pool.objectives.shape[2] != k or measured.objectives.shape[2] != k:
        raise ValueError(f"{k} objectives but draws of {pool.objectives.shape[2]} (pool) and "
                         f"{measured.objectives.shape[2]} (measured) objective properties")
    if pool.n_draws != measured.n_draws:
        raise ValueError(f"pool and measured draws differ in number: {pool.n_draws} and {measured.n_draws}")
    values = np.asarray(measured_objective_values, dtype=np.float64).reshape(measured.n_molecules, k)
    n_pool = pool.n_molecules
    available = np.ones(n_pool, dtype=bool) if available is None else np.asarray(available, dtype=bool).copy()
    weight = np.ones(n_pool) if synthesis_feasibility is None else np.asarray(synthesis_feasibility, dtype=np.float64)
    if weight.shape != (n_pool,) or not ((weight > 0) & (weight <= 1)).all():
        raise ValueError(f"synthesis_feasibility must be {n_pool} probabilities in (0, 1]")

    signs = np.array([o.direction.sign for o in objectives])
    center, scale = np.zeros(k), np.ones(k)
    for j, objective in enumerate(objectives):
        column = values[:, j][np.isfinite(values[:, j])]
        if len(column) == 0:
            raise ValueError(f"objective {objective.name!r} has no measured value")
        center[j], scale[j] = column.mean(), column.std() or 1.0
    oriented = (signs * (values - center) / scale)
    worst, best = np.nanmin(oriented, axis=0), np.nanmax(oriented, axis=0)
    reference = worst - _REFERENCE_MARGIN * np.where(best > worst, best - worst, 1.0)

    def to_unit(draws: np.ndarray) -> torch.Tensor:
        scaled = torch.as_tensor(draws, dtype=_DTYPE) - torch.as_tensor(center, dtype=_DTYPE)
        return scaled.mul_(torch.as_tensor(signs / scale, dtype=_DTYPE))

    pool_feasible = pool.feasible(constraints)  # (s, n_pool)
    p_feasible = pool_feasible.mean(axis=0)
    measured_feasible = measured.feasible(constraints)
    if pool_feasible.shape[0] == 1:
        pool_feasible = np.broadcast_to(pool_feasible, (pool.n_draws, n_pool))
    if measured_feasible.shape[0] == 1:
        measured_feasible = np.broadcast_to(measured_feasible, (measured.n_draws, measured.n_molecules))
    was_available = available.any()
    available &= pool_feasible.any(axis=0)  # never propose what breaks a constraint in every draw
    if not was_available:
        empty = np.array([], dtype=int)
        return ParetoChoice(empty, np.array([]), np.array([]), np.array([]), np.full(k, np.nan))
    if not available.any():
        raise InfeasibleBatchError(
            f"no available candidate meets the constraints ({', '.join(map(str, constraints))}) in any of "
            f"{pool.n_draws} posterior draws: "
            "relax a threshold or widen the pool")

    fronts = _Fronts(to_unit(measured.objectives), measured_feasible, reference)
    unit_pool = to_unit(pool.objectives)  # (s, n_pool, k)
    feasible_t = torch.as_tensor(np.ascontiguousarray(pool_feasible))
    # beyond the measured front: exactly where the bound is positive (zero iff a member dominates)
    bound_draws = fronts.hvi_bound(unit_pool, feasible_t)  # (s, n_pool)
    improve = bound_draws > 0
    p_improve = improve.double().mean(dim=0).numpy()

    # ties (a saturated probability, zero gains) go to the likeliest to improve the measured
    # front on its own, then to the best mean (summed over the standardised objectives)
    tie_order = np.lexsort((-unit_pool.mean(dim=0).sum(dim=-1).double().numpy(), -p_improve))
    picks: list[int] = []
    gains: list[float] = []
    if criterion is Criterion.CHEBYSHEV:
        w = np.ones(k) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (k,) or not (w > 0).all():
            raise ValueError(f"weights must be {k} positive numbers, one per objective, got {weights}")
        # z / w: objectives from the reference point in measured ranges, each divided by its weight
        divisor = torch.as_tensor(np.where(best > worst, best - worst, 1.0) * w / w.sum(), dtype=_DTYPE)

        def score(draws: torch.Tensor) -> torch.Tensor:  # (s, n, k) -> (s, n); 0 at the reference point
            z = (draws - torch.as_tensor(reference, dtype=_DTYPE)) / divisor
            return z.amin(dim=-1) + _AUGMENTATION * z.sum(dim=-1)

        # the level to beat in each draw: the best feasible measured score (0 when none is feasible)
        measured_score = score(to_unit(measured.objectives)).masked_fill(~torch.as_tensor(measured_feasible), 0.0)
        level = measured_score.amax(dim=1).clamp_min(0.0)
        pool_score = score(unit_pool).masked_fill(~feasible_t, -torch.inf)
        picks, gains = _greedy(
            batch_size, available, tie_order, after_pick,
            gain_of=lambda rows: weight[rows] * (pool_score[:, rows] - level[:, None]).clamp_min(0.0)
            .mean(dim=0).double().numpy(),
            picked=lambda pick: torch.maximum(level, pool_score[:, pick], out=level))
    elif criterion is Criterion.HYPERVOLUME:
        # lazy greedy: every candidate's bound is an upper bound of its gain, tightened to the
        # gain itself when computed; gains only shrink as the batch grows
        bound = weight * bound_draws.mean(dim=0).double().numpy()
        for _ in range(batch_size):
            if not available.any():
                break
            pick, gain = _lazy_pick(lambda rows: weight[rows] * fronts.hvi(unit_pool[:, rows], feasible_t[:, rows])
                                    .mean(dim=0).double().numpy(), bound, available, tie_order)
            picks.append(pick)
            gains.append(gain)
            available[pick] = False
            if after_pick is not None:
                after_pick(pick, available)
            if len(picks) < batch_size:
                improves = fronts.hvi_bound(unit_pool[:, pick : pick + 1], feasible_t[:, pick : pick + 1])[:, 0] > 0
                fronts.add(unit_pool[:, pick], improves)
    else:
        open_draws = torch.ones(pool.n_draws, dtype=torch.bool)  # draws no pick has improved yet
        picks, gains = _greedy(
            batch_size, available, tie_order, after_pick,
            gain_of=lambda rows: weight[rows] * (improve[:, rows] & open_draws[:, None]).double().mean(dim=0).numpy(),
            picked=lambda pick: open_draws.logical_and_(~improve[:, pick]))
    rows = np.asarray(picks, dtype=int)
    return ParetoChoice(rows, np.asarray(gains), p_feasible[rows], p_improve[rows], center + signs * scale * reference)


def _greedy(batch_size: int, available: np.ndarray, tie_order: np.ndarray,
            after_pick: Callable[[int, np.ndarray], None] | None, *, gain_of: Callable[[np.ndarray], np.ndarray],
            picked: Callable[[int], object]) -> tuple[list[int], list[float]]:
    """Plain greedy batch: each pick is the available candidate of the largest `gain_of(rows)`
    (first in `tie_order` among equals); `picked(pick)` updates the state the gains depend on."""
    picks: list[int] = []
    gains: list[float] = []
    for _ in range(batch_size):
        candidates = tie_order[available[tie_order]]
        if len(candidates) == 0:
            break
        gain = gain_of(candidates)
        best = int(np.argmax(gain))
        pick = int(candidates[best])
        picks.append(pick)
        gains.append(float(gain[best]))
        available[pick] = False
        if after_pick is not None:
            after_pick(pick, available)
        picked(pick)
    return picks, gains


def _lazy_pick(gain_of, bound: np.ndarray, available: np.ndarray, tie_order: np.ndarray) -> tuple[int, float]:
    """Best available candidate by `gain_of(rows)`, evaluating candidates in order of their bound."""
    order = tie_order[available[tie_order]]
    order = order[np.argsort(-bound[order], kind="stable")]
    best_row, best_gain = int(order[0]), -np.inf
    for start in range(0, len(order), _BLOCK):
        block = order[start:start + _BLOCK]
        if bound[block[0]] <= best_gain:
            break  # nothing left can beat the best found (gains only shrink as the batch grows)
        gains = gain_of(block)
        bound[block] = gains
        top = int(np.argmax(gains))  # first of equal gains: the better bound, then the better mean
        if gains[top] > best_gain:
            best_row, best_gain = int(block[top]), float(gains[top])
    return best_row, best_gain


class _Fronts:
    """The feasible Pareto front of each draw, as cells of the region it does not dominate.

    HVI(y) in a draw is the volume of the cells' parts below y. One objective: one cell above
    the best value. Two: the staircase of the sorted front, all draws at once. Three or more:
    BoTorch's `FastNondominatedPartitioning`, one draw at a time.
    """

    def __init__(self, points: np.ndarray, feasible: np.ndarray, reference: np.ndarray) -> None:
        self.reference = torch.as_tensor(reference, dtype=_DTYPE)
        self.k = len(reference)
        table = torch.as_tensor(points, dtype=_DTYPE)
        self.fronts = [self._front(table[d][torch.as_tensor(feasible[d])]) for d in range(table.shape[0])]
        self._cells = [self._partition(front) for front in self.fronts]
        self._stack()

    def _front(self, points: torch.Tensor) -> torch.Tensor:
        points = points[(points > self.reference).all(dim=-1)]  # the others dominate nothing
        return points[is_non_dominated(points)] if len(points) > 1 else points

    def _partition(self, front: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(lower, upper) corners of the non-dominated cells, each (n_cells, k)."""
        r, k = self.reference, self.k
        if k == 1:
            level = front.max() if len(front) else r[0]
            return level.reshape(1, 1), torch.full((1, 1), torch.inf, dtype=_DTYPE)
        if k == 2:
            order = torch.argsort(front[:, 0])
            x = torch.cat([r[:1], front[order, 0]])
            y = torch.cat([front[order, 1], r[1:]])
            lower = torch.stack([x, y], dim=-1)
            upper = torch.stack([torch.cat([front[order, 0], torch.tensor([torch.inf], dtype=_DTYPE)]),
                                 torch.full_like(y, torch.inf)], dim=-1)
            return lower, upper
        bounds = FastNondominatedPartitioning(ref_point=r.double(), Y=front.double()).get_hypercell_bounds()
        return bounds[0].to(_DTYPE), bounds[1].to(_DTYPE)

    def _stack(self) -> None:
        """Pad every draw's cells and front to common sizes (empty cells; points at the reference)."""
        s, k = len(self._cells), self.k
        width = max(lo.shape[0] for lo, _ in self._cells)
        self.lower = torch.zeros(s, width, k, dtype=_DTYPE)
        self.upper = torch.zeros(s, width, k, dtype=_DTYPE)  # lower = upper = 0: an empty cell
        size = max(1, max(len(f) for f in self.fronts))
        self.members = self.reference.expand(s, size, k).clone()
        for d, ((lo, up), front) in enumerate(zip(self._cells, self.fronts, strict=True)):
            self.lower[d, : len(lo)] = lo
            self.upper[d, : len(up)] = up
            self.members[d, : len(front)] = front

    def hvi(self, values: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
        """Hypervolume improvement of each molecule alone in each draw, shape (s, n).

        Args:
            values: Standardised, oriented objective draws, shape (s, n, k).
            feasible: Whether each meets the constraints in each draw, shape (s, n).
        """
        values = values.to(_DTYPE)
        out = torch.empty(values.shape[:2], dtype=_DTYPE)
        block = max(1, _ELEMENTS // (values.shape[0] * self.lower.shape[1] * self.k))
        for start in range(0, values.shape[1], block):
            part = values[:, start:start + block, None, :]  # s x b x 1 x k
            top = torch.minimum(part, self.upper[:, None])  # s x b x cells x k
            out[:, start:start + block] = (top - self.lower[:, None]).clamp_min(0.0).prod(dim=-1).sum(dim=-1)
        return out * feasible

    def hvi_bound(self, values: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
        """An upper bound of `hvi`, cheaper: the box from the reference point to y, less the
        largest box of one front member clipped to y (zero when a member dominates y)."""
        values = values.to(_DTYPE)
        r = self.reference
        out = torch.empty(values.shape[:2], dtype=_DTYPE)
        block = max(1, _ELEMENTS // (values.shape[0] * self.members.shape[1] * self.k))
        # min(p, y) - r clipped at 0 is the minimum of p - r and y - r, each clipped at 0
        members = (self.members - r).clamp_min(0.0)[:, None]  # s x 1 x f x k
        for start in range(0, values.shape[1], block):
            part = (values[:, start:start + block] - r).clamp_min(0.0)  # s x b x k
            clipped = torch.minimum(part[:, :, None], members).prod(dim=-1).amax(dim=-1)
            out[:, start:start + block] = (part.prod(dim=-1) - clipped).clamp_min(0.0)
        return out * feasible

    def add(self, values: torch.Tensor, improves: torch.Tensor) -> None:
        """Join a pick (draws (s, k)) to the fronts of the draws where it improves them (s,)."""
        for d in torch.nonzero(improves).flatten().tolist():
            self.fronts[d] = self._front(torch.cat([self.fronts[d], values[d : d + 1].to(_DTYPE)]))
            self._cells[d] = self._partition(self.fronts[d])
        self._stack()
