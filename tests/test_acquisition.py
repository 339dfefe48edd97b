"""Acquisition over a discrete pool: real BoTorch acquisition functions on posterior draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import qProbabilityOfImprovement

from discovery.acquisition import (
    STRATEGIES,
    AcquisitionSettings,
    AllDrawsSampler,
    DrawTableModel,
    proposal_table,
    select_batch,
)
from discovery.features.fingerprints import morgan_fingerprints
from discovery.model.base import Prediction


def linear_problem(seed: int, n_pool: int = 1500, n_train: int = 30, d: int = 6, n_draws: int = 256):
    """A linear property whose best candidates lie far above the training range.

    Training molecules come from the lower half of the property; the posterior is the exact
    conjugate posterior of Bayesian linear regression (known noise, N(0, 1) prior on weights).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_pool + 4 * n_train, d))
    w = rng.normal(size=d)
    y = X @ w
    low = np.flatnonzero(y < np.median(y))
    train = rng.choice(low, n_train, replace=False)
    pool = np.setdiff1d(np.arange(len(y)), train)[:n_pool]
    noise = 0.1
    y_train = y[train] + noise * rng.normal(size=n_train)
    Xt = X[train]
    precision = np.eye(d) + Xt.T @ Xt / noise**2
    cov = np.linalg.inv(precision)
    mean_w = cov @ Xt.T @ y_train / noise**2
    w_draws = rng.multivariate_normal(mean_w, cov, size=n_draws)
    return {
        "pool_draws": w_draws @ X[pool].T,
        "measured_draws": w_draws @ Xt.T,
        "measured_values": y_train,
        "true_pool": y[pool],
    }


def top_hits(selection, true_pool: np.ndarray, direction: str = "max", top: float = 0.01) -> int:
    k = max(1, int(round(top * len(true_pool))))
    order = np.argsort(-true_pool if direction == "max" else true_pool)
    return len(set(order[:k]) & set(selection.indices.tolist()))


@pytest.mark.parametrize("strategy", ["qlognei", "exceed_target", "ehvi", "pareto_pi"])
def test_finds_the_out_of_range_optimum_far_more_often_than_random(strategy):
    hits, random_hits = 0, 0
    for seed in range(6):
        p = linear_problem(seed)
        kwargs = dict(direction="max", seed=seed)
        args = (p["pool_draws"], p["measured_draws"], p["measured_values"])
        hits += top_hits(select_batch(*args, settings=AcquisitionSettings(strategy=strategy, batch_size=8), **kwargs), p["true_pool"])
        random_hits += top_hits(select_batch(*args, settings=AcquisitionSettings(strategy="random", batch_size=8), **kwargs), p["true_pool"])
    # 6 batches of 8 from 1500 candidates with 15 in the top 1 %: random expects ~0.5 hits in all
    assert hits >= 15, hits
    assert hits >= 5 * max(random_hits, 1)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_same_posterior_same_batch_no_duplicates_nothing_unavailable(strategy):
    p = linear_problem(1, n_pool=400)
    available = np.ones(400, dtype=bool)
    available[np.argsort(-p["true_pool"])[:5]] = False  # e.g. already measured / proposed
    settings = AcquisitionSettings(strategy=strategy, batch_size=6)
    args = (p["pool_draws"], p["measured_draws"], p["measured_values"], "max", settings)
    first = select_batch(*args, available=available, seed=3)
    second = select_batch(*args, available=available, seed=3)
    np.testing.assert_array_equal(first.indices, second.indices)
    np.testing.assert_array_equal(first.acquisition_values, second.acquisition_values)
    assert len(first.indices) == 6 == len(set(first.indices.tolist()))
    assert available[first.indices].all()


def test_minimisation_mirrors_maximisation():
    p = linear_problem(2, n_pool=500)
    for strategy in ("qlognei", "exceed_target", "thompson"):
        settings = AcquisitionSettings(strategy=strategy, batch_size=5)
        up = select_batch(p["pool_draws"], p["measured_draws"], p["measured_values"], "max", settings)
        down = select_batch(-p["pool_draws"], -p["measured_draws"], -p["measured_values"], "min", settings)
        np.testing.assert_array_equal(up.indices, down.indices)
    assert top_hits(select_batch(-p["pool_draws"], -p["measured_draws"], -p["measured_values"], "min",
                                 AcquisitionSettings(batch_size=8)), -p["true_pool"], "min") >= 2


def test_all_draws_sampler_gives_the_exact_posterior_average():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(64, 10))
    model = DrawTableModel(draws, dtype=torch.float64)
    pi = qProbabilityOfImprovement(model, best_f=0.5, sampler=AllDrawsSampler(64), tau=1e-6)
    with torch.no_grad():
        values = pi(model.choices().unsqueeze(-2)).numpy()
        pair = float(pi(model.choices(np.array([2, 7])).unsqueeze(0)))
    np.testing.assert_allclose(values, (draws > 0.5).mean(axis=0), atol=1e-6)
    # joint: the same draw index for both members of the batch
    assert pair == pytest.approx((np.maximum(draws[:, 2], draws[:, 7]) > 0.5).mean(), abs=1e-6)
    with pytest.raises(ValueError, match="draws"):
        DrawTableModel(np.array([[np.nan, 1.0], [0.0, 1.0]]))


def test_exceed_target_defaults_beyond_the_best_and_accepts_an_explicit_target():
    p = linear_problem(4, n_pool=300)
    y = p["measured_values"]
    auto = select_batch(p["pool_draws"], p["measured_draws"], y, "max", AcquisitionSettings(strategy="exceed_target", target_margin=0.2))
    assert auto.target_value == pytest.approx(y.max() + 0.2 * np.ptp(y))
    down = select_batch(p["pool_draws"], p["measured_draws"], y, "min", AcquisitionSettings(strategy="exceed_target", target_margin=0.2))
    assert down.target_value == pytest.approx(y.min() - 0.2 * np.ptp(y))
    fixed = select_batch(p["pool_draws"], p["measured_draws"], y, "max", AcquisitionSettings(strategy="exceed_target", target=42.0))
    assert fixed.target_value == 42.0
    assert np.all((fixed.acquisition_values >= 0) & (fixed.acquisition_values <= 1))


SMILES = ["c1ccccc1O", "c1ccccc1N", "c1ccccc1C", "c1ccccc1Cl", "CCCCO", "CCCCN", "CCCCCl", "O=C1CCCCC1",
          "CC(=O)OC", "CCOCC", "N#CCC#N", "c1ccncc1", "C1CCOC1", "CS(C)=O", "OCCO", "CC(C)=O"]


def test_diversity_rule_keeps_batch_members_apart():
    fps = morgan_fingerprints(SMILES)
    rng = np.random.default_rng(0)
    # the phenyl compounds are predicted best: without the rule they fill the batch
    mean = np.array([3.0, 2.9, 2.8, 2.7] + [0.0] * (len(SMILES) - 4))
    draws = mean[None] + 0.1 * rng.normal(size=(128, len(SMILES)))
    measured = rng.normal(size=(128, 3))
    values = np.zeros(3)
    plain = select_batch(draws, measured, values, "max", AcquisitionSettings(strategy="greedy_mean", batch_size=4))
    assert set(plain.indices.tolist()) == {0, 1, 2, 3}
    for strategy in ("greedy_mean", "qlognei"):
        diverse = select_batch(draws, measured, values, "max",
                               AcquisitionSettings(strategy=strategy, batch_size=4, min_tanimoto_distance=0.6), fingerprints=fps)
        from discovery.features.fingerprints import tanimoto_similarity

        sim = tanimoto_similarity(fps[diverse.indices], fps[diverse.indices])
        assert (sim[np.triu_indices(4, 1)] <= 0.4).all()
        assert diverse.indices[0] == 0
    with pytest.raises(ValueError, match="fingerprints"):
        select_batch(draws, measured, values, "max", AcquisitionSettings(min_tanimoto_distance=0.5))


def test_settings_are_validated():
    with pytest.raises(ValueError, match="strategy"):
        AcquisitionSettings(strategy="qEI")
    with pytest.raises(ValueError, match="unknown acquisition setting"):
        AcquisitionSettings.from_dict({"strategy": "qlognei", "batchsize": 4})
    assert AcquisitionSettings.from_dict({"strategy": "qucb", "ucb_beta": 2.0}).ucb_beta == 2.0


def test_proposal_table_reports_interval_chance_and_nearest_neighbour():
    fps = morgan_fingerprints(SMILES)
    rng = np.random.default_rng(1)
    pool_idx, measured_idx = np.arange(10), np.arange(10, 16)
    draws = rng.normal(loc=np.linspace(0, 3, 10), size=(400, 10))
    selection = select_batch(draws, rng.normal(size=(400, 6)), np.linspace(-1, 1, 6), "max",
                             AcquisitionSettings(strategy="greedy_mean", batch_size=3))
    chosen = draws[:, selection.indices]
    prediction = Prediction(mean=chosen.mean(0), std=chosen.std(0), latent_std=chosen.std(0),
                            latent_draws=chosen, observation_draws=chosen)
    table = proposal_table(
        selection, prediction, [f"C{i:06d}" for i in pool_idx], [SMILES[i] for i in pool_idx], fps[pool_idx],
        [f"M{i}" for i in measured_idx], [SMILES[i] for i in measured_idx], fps[measured_idx],
        best_value=1.0, direction="max",
    )
    assert list(table["rank"]) == [1, 2, 3]
    assert list(table["candidate_id"]) == [f"C{i:06d}" for i in selection.indices]
    assert (table["lower_90"] < table["mean"]).all() and (table["mean"] < table["upper_90"]).all()
    np.testing.assert_allclose(table["prob_beat_best"], (chosen > 1.0).mean(0))
    assert table["nearest_similarity"].between(0, 1).all()
    assert set(table["nearest_measured_id"]) <= {f"M{i}" for i in measured_idx}


@pytest.mark.parametrize("strategy", ["qlognei", "qlogei", "qpi", "ehvi", "pareto_pi"])
def test_feasibility_multiplies_each_picks_value(strategy):
    """A candidate the lab will almost surely fail on is not the first pick, and the first pick's
    value is the unweighted value times its probability (plus its log on the log scale)."""
    problem = linear_problem(2, n_pool=300)
    settings = AcquisitionSettings(strategy=strategy, batch_size=3)
    plain = select_batch(problem["pool_draws"], problem["measured_draws"], problem["measured_values"], "max", settings)
    feasibility = np.full(300, 0.8)
    feasibility[plain.indices[0]] = 1e-6
    weighted = select_batch(problem["pool_draws"], problem["measured_draws"], problem["measured_values"], "max",
                            settings, feasibility=feasibility)
    assert weighted.indices[0] != plain.indices[0]
    again = select_batch(problem["pool_draws"], problem["measured_draws"], problem["measured_values"], "max",
                         settings, feasibility=np.full(300, 0.8))
    np.testing.assert_array_equal(again.indices, plain.indices)  # a constant probability changes no ranking
    log_scale = strategy in ("qlognei", "qlogei")
    expected = plain.acquisition_values[0] + np.log(0.8) if log_scale else plain.acquisition_values[0] * 0.8
    assert again.acquisition_values[0] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="probabilities in"):
        select_batch(problem["pool_draws"], problem["measured_draws"], problem["measured_values"], "max", settings,
                     feasibility=np.zeros(300))


def test_feasibility_model_learns_where_experiments_fail():
    import pandas as pd

    from discovery.model.feasibility import FeasibilityModel

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"size": rng.normal(0, 1, 60), "polarity": rng.normal(0, 1, 60), "ring": rng.integers(0, 2, 60),
                      "smiles": ["C"] * 60})
    feasible = X["size"].to_numpy() < 1.0  # big molecules cannot be made
    model = FeasibilityModel().fit(X, feasible)
    assert model.columns_ == ["size", "polarity"]  # 0/1 categories and text are left out
    test = pd.DataFrame({"size": [-1.0, 2.5, 30.0], "polarity": [0.0, 0.0, 0.0], "ring": [0, 0, 0], "smiles": "C"})
    p = model.predict_proba(test)
    assert p[0] > 0.9 and p[1] < 0.2 and 0 < p[2] < 0.05
    with pytest.raises(ValueError, match="both measured and failed"):
        FeasibilityModel().fit(X, np.ones(60, dtype=bool))
