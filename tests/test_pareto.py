"""Pareto and constrained batches from joint posterior draws (`discovery.acquisition.pareto`)."""

import numpy as np
import pytest
import torch
from botorch.utils.multi_objective.hypervolume import Hypervolume

from discovery.acquisition.pareto import Criterion, InfeasibleBatchError, OutcomeDraws, _Fronts, select_pareto_batch
from discovery.objective import Constraint, Objective

MAX2 = [Objective("a", "max"), Objective("b", "max")]


def _quarter_circle_problem(seed: int = 0, n_front: int = 30, n_inside: int = 270, noise: float = 0.02):
    """Two objectives; the true Pareto front is the quarter circle of radius 1, every other
    candidate lies well inside it; the measured molecules sit near the origin."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.05, np.pi / 2 - 0.05, n_front)
    front = np.c_[np.cos(angle), np.sin(angle)]
    radius = rng.uniform(0.1, 0.75, n_inside)[:, None]
    angle = rng.uniform(0, np.pi / 2, n_inside)
    inside = radius * np.c_[np.cos(angle), np.sin(angle)]
    truth = np.r_[front, inside]
    measured_truth = rng.uniform(0.0, 0.3, (12, 2))
    s = 128
    pool = truth[None] + noise * rng.normal(size=(s, *truth.shape))
    measured = measured_truth[None] + noise * rng.normal(size=(s, *measured_truth.shape))
    return OutcomeDraws(pool), OutcomeDraws(measured), measured_truth, n_front


@pytest.mark.parametrize("criterion", list(Criterion))
def test_the_batch_lands_on_the_known_pareto_front(criterion):
    pool, measured, values, n_front = _quarter_circle_problem()
    choice = select_pareto_batch(pool, measured, values, MAX2, [], batch_size=6, criterion=criterion)
    on_front = int((choice.indices < n_front).sum())
    # random picks would put 10 % of the batch (0.6 of 6) on the front
    assert on_front >= (5 if criterion is Criterion.PROBABILITY else 6)
    assert len(set(choice.indices.tolist())) == 6
    if criterion is Criterion.HYPERVOLUME:  # the batch spreads along the front instead of crowding one end
        angles = np.arctan2(*pool.objectives.mean(axis=0)[choice.indices].T[::-1])
        assert np.ptp(angles) > 0.8
    # picks far beyond the measured front improve it in every draw
    assert (choice.p_improve > 0.99).all() and (choice.p_feasible == 1).all()


def test_chebyshev_weights_steer_the_batch_along_the_front():
    pool, measured, values, n_front = _quarter_circle_problem()
    mean = pool.objectives.mean(axis=0)
    angle = {}
    for weights in ((4.0, 1.0), (1.0, 1.0), (1.0, 4.0)):
        choice = select_pareto_batch(pool, measured, values, MAX2, [], batch_size=4, criterion=Criterion.CHEBYSHEV,
                                     weights=weights)
        assert (choice.indices < n_front).all()
        angle[weights] = float(np.mean(np.arctan2(mean[choice.indices, 1], mean[choice.indices, 0])))
    # more weight on the first objective: picks nearer its axis (angle 0); on the second: nearer pi/2
    assert angle[(4.0, 1.0)] < angle[(1.0, 1.0)] - 0.2 and angle[(1.0, 4.0)] > angle[(1.0, 1.0)] + 0.2
    with pytest.raises(ValueError, match="2 positive numbers"):
        select_pareto_batch(pool, measured, values, MAX2, [], batch_size=4, criterion=Criterion.CHEBYSHEV,
                            weights=(1.0, 0.0))


def test_one_objective_is_expected_improvement_over_the_best_measured_value():
    rng = np.random.default_rng(1)
    pool = rng.normal(size=(64, 40))
    measured = rng.normal(size=(64, 10))
    values = measured.mean(axis=0)
    choice = select_pareto_batch(OutcomeDraws(pool), OutcomeDraws(measured), values[:, None],
                                 [Objective("y", "max")], [], batch_size=1)
    # by hand: improvement over each draw's best measured value (above the reference point)
    reference = values.min() - 0.1 * np.ptp(values)
    best = np.maximum(measured.max(axis=1, keepdims=True), reference)
    expected_improvement = np.maximum(pool - best, 0.0).mean(axis=0)
    assert choice.indices[0] == np.argmax(expected_improvement)
    assert choice.gains[0] == pytest.approx(expected_improvement.max() / values.std(), rel=1e-4)


def test_minimisation_mirrors_maximisation():
    pool, measured, values, _ = _quarter_circle_problem(seed=2)
    up = select_pareto_batch(pool, measured, values, MAX2, [], batch_size=4)
    mirrored = select_pareto_batch(OutcomeDraws(-pool.objectives), OutcomeDraws(-measured.objectives), -values,
                                   [Objective("a", "min"), Objective("b", "min")], [], batch_size=4)
    assert up.indices.tolist() == mirrored.indices.tolist()
    np.testing.assert_allclose(up.reference_point, -mirrored.reference_point)


@pytest.mark.parametrize("k", [2, 3])
def test_hypervolume_improvement_is_exact(k):
    """Each draw's HVI equals BoTorch's hypervolume of the front with the point minus without it."""
    rng = np.random.default_rng(k)
    s, n = 6, 9
    front_points = rng.uniform(0, 1, (s, n, k))
    feasible = rng.uniform(size=(s, n)) < 0.8
    reference = np.full(k, -0.1)
    fronts = _Fronts(front_points, feasible, reference)
    candidates = torch.as_tensor(rng.uniform(-0.2, 1.2, (s, 5, k)))
    hvi = fronts.hvi(candidates, torch.ones(s, 5, dtype=torch.bool)).double()
    bound = fronts.hvi_bound(candidates, torch.ones(s, 5, dtype=torch.bool)).double()
    hypervolume = Hypervolume(torch.as_tensor(reference))
    for d in range(s):
        base = torch.as_tensor(front_points[d][feasible[d]])
        for c in range(5):
            with_it = torch.cat([base, candidates[d, c : c + 1]])
            exact = hypervolume.compute(with_it[_non_dominated(with_it)]) - hypervolume.compute(base[_non_dominated(base)])
            assert hvi[d, c].item() == pytest.approx(exact, abs=1e-5)
            assert bound[d, c].item() >= exact - 1e-5
            assert (bound[d, c].item() > 0) == (exact > 1e-9)


def _non_dominated(points: torch.Tensor) -> torch.Tensor:
    from botorch.utils.multi_objective.pareto import is_non_dominated

    return is_non_dominated(points)


def test_a_computed_constraint_excludes_the_candidates_that_break_it():
    pool, measured, values, n_front = _quarter_circle_problem(seed=3)
    n = pool.n_molecules
    # a computed property (exact, one row): the first ten front candidates fail it
    gap = np.ones((1, n, 1))
    gap[0, :10, 0] = -1.0
    constrained = OutcomeDraws(pool.objectives, gap)
    measured_gap = OutcomeDraws(measured.objectives, np.ones((1, measured.n_molecules, 1)))
    choice = select_pareto_batch(constrained, measured_gap, values, MAX2, [Constraint("gap_ev", "at_least", 0.0)],
                                 batch_size=6)
    assert not set(choice.indices.tolist()) & set(range(10))
    assert (choice.p_feasible == 1).all()
    assert int((choice.indices < n_front).sum()) >= 5


def test_feasibility_comes_from_the_joint_draws():
    """Two candidates with the same objective draws; the constraint property of one is met
    exactly in the draws where the objective is poor, of the other where it is good."""
    rng = np.random.default_rng(4)
    s = 200
    objective = rng.normal(size=(s, 1))
    pool = np.c_[objective, objective]
    good = (objective[:, 0] > 0).astype(float)
    constraint = np.stack([1 - good, good], axis=1)[:, :, None]  # (s, 2, 1)
    measured = OutcomeDraws(np.zeros((s, 3, 1)), np.ones((s, 3, 1)))
    choice = select_pareto_batch(OutcomeDraws(pool[:, :, None], constraint), measured, np.array([[-0.5], [0.0], [0.5]]),
                                 [Objective("y", "max")], [Constraint("ok", "at_least", 0.5)], batch_size=1)
    assert choice.indices[0] == 1  # both are feasible half the time; only 1 is feasible when it matters
    assert choice.p_feasible[0] == pytest.approx(good.mean())


def test_a_constraint_no_candidate_can_meet_is_a_clear_error():
    pool, measured, values, _ = _quarter_circle_problem(seed=5)
    low = OutcomeDraws(pool.objectives, np.zeros((1, pool.n_molecules, 1)))
    with pytest.raises(InfeasibleBatchError, match=r"boiling_point_k >= 400"):
        select_pareto_batch(low, OutcomeDraws(measured.objectives, np.zeros((1, measured.n_molecules, 1))), values,
                            MAX2, [Constraint("boiling_point_k", "at_least", 400.0)], batch_size=3)


def test_nothing_left_to_choose_is_an_empty_batch_not_an_error():
    pool, measured, values, _ = _quarter_circle_problem(seed=8)
    choice = select_pareto_batch(pool, measured, values, MAX2, [], batch_size=3,
                                 available=np.zeros(pool.n_molecules, dtype=bool))
    assert len(choice.indices) == 0


def test_same_draws_same_batch_and_unavailable_candidates_are_never_chosen():
    pool, measured, values, n_front = _quarter_circle_problem(seed=6)
    available = np.ones(pool.n_molecules, dtype=bool)
    available[: n_front // 2] = False
    runs = [select_pareto_batch(pool, measured, values, MAX2, [], batch_size=5, available=available) for _ in range(2)]
    assert runs[0].indices.tolist() == runs[1].indices.tolist()
    assert np.array_equal(runs[0].gains, runs[1].gains)
    assert available[runs[0].indices].all()
    assert (np.diff(runs[0].gains) <= 1e-9).all()  # each pick adds no more than the one before


def test_inputs_are_validated():
    pool, measured, values, _ = _quarter_circle_problem(seed=7)
    with pytest.raises(ValueError, match="3 objectives but draws of 2"):
        select_pareto_batch(pool, measured, values, MAX2 + [Objective("c", "max")], [], batch_size=2)
    with pytest.raises(ValueError, match="constraints"):
        select_pareto_batch(pool, measured, values, MAX2, [Constraint("g", "at_most", 1.0)], batch_size=2)
    with pytest.raises(ValueError, match="no measured value"):
        select_pareto_batch(pool, measured, np.c_[values[:, 0], np.full(len(values), np.nan)], MAX2, [], batch_size=2)
    with pytest.raises(ValueError, match="NaN"):
        OutcomeDraws(np.full((4, 3, 2), np.nan))
