"""BayesianILR with real samplers (exact Gibbs, nutpie NUTS, PyMC ADVI) on small synthetic problems."""

import dataclasses
import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from discovery.model import make_model
from discovery.model.bayes import BayesianILR, CalibrationSettings, readable_term
from discovery.model.bayes.calibration import tail_split
from discovery.report import loo_summary

CATEGORIES = ["aromatic_ring", "has_N", "has_O", "halogen"]


def _table(n, seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "polarizability_au": rng.normal(50, 10, n),
        "homo_ev": rng.normal(-10, 1, n),
        "dipole_debye": rng.gamma(2.0, 1.0, n),
        "volume_a3": rng.normal(100, 20, n),
        **{c: rng.integers(0, 2, n) for c in CATEGORIES},
    })
    z = (X["polarizability_au"] - 50) / 10
    # sparse truth: two main effects and one interaction
    f = 3.0 * z + 2.0 * z * X["aromatic_ring"] - 1.5 * (X["homo_ev"] + 10)
    return X, f.to_numpy()


@pytest.fixture(scope="module")
def fitted():
    X, f = _table(120, seed=0)
    y = f + np.random.default_rng(1).normal(0, 0.3, len(f))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianILR(seed=3).fit(X, y)  # exact Gibbs, the default
    return model, X, y


def test_recovers_known_sparse_coefficients(fitted):
    model, _, _ = fitted
    table = model.coefficients().set_index("term")
    strong = {"polarizability_au", "polarizability_au*aromatic_ring=1", "homo_ev"}
    assert set(table.index[:3]) == strong
    assert table.loc[list(strong), "excludes_zero"].all()
    # the rest shrink towards zero: none of the null terms is confidently non-zero
    null = table.drop(index=list(strong))
    assert null["excludes_zero"].sum() <= 1
    assert null["mean"].abs().max() < 0.5
    # the interaction effect per SD is about 2 * SD(z * aromatic) in target units
    assert table.loc["homo_ev", "mean"] < 0
    # a category that stands in for merged ones says so
    model.features_.aliases_ = {"aromatic_bond": "aromatic_ring", "ring": "aromatic_ring"}
    try:
        labels = model.coefficients().set_index("term")["label"]
    finally:
        model.features_.aliases_ = {}
    assert labels["polarizability_au*aromatic_ring=1"] == "polarizability × aromatic ring (also aromatic bond, ring)"
    assert labels["homo_ev"] == "homo"


def test_gibbs_and_nuts_sample_the_same_posterior(fitted):
    """Two exact samplers of one model: posterior means and 90 % interval ends of every
    coefficient and of σ agree within their Monte Carlo errors."""
    import arviz as az

    model, X, y = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nuts = BayesianILR(seed=3, sampler={"method": "nutpie", "draws": 1000, "tune": 1000},
                           calibration={"method": "none"}).fit(X, y)
    assert nuts.diagnostics_.sampler == "NUTS (nutpie)" and nuts.columns_ == model.columns_
    for name in ("beta", "sigma"):
        draws = {m: fit.idata_.posterior[name] for m, fit in (("gibbs", model), ("nuts", nuts))}
        for statistic, mcse in (
            (lambda d: d.mean(("chain", "draw")), lambda d: az.mcse(d, method="mean")),
            (lambda d: d.quantile(0.05, ("chain", "draw")), lambda d: az.mcse(d, method="quantile", prob=0.05)),
            (lambda d: d.quantile(0.95, ("chain", "draw")), lambda d: az.mcse(d, method="quantile", prob=0.95)),
        ):
            gap = np.abs(statistic(draws["gibbs"]).values - statistic(draws["nuts"]).values)
            error = np.hypot(mcse(draws["gibbs"].to_dataset())[name].values, mcse(draws["nuts"].to_dataset())[name].values)
            # 4 Monte Carlo SEs, plus a floor for coefficients both samplers put at zero
            assert (gap <= 4 * error + 0.002).all(), (name, np.max(gap - 4 * error))


def test_gibbs_is_deterministic_for_a_seed_in_workers_or_not(monkeypatch):
    from discovery.model.bayes import HorseshoePrior, SamplerSettings, samplers
    from discovery.model.bayes.design import RegressionProblem

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 60))
    y = Z[:, 0] - Z[:, 1] + rng.normal(0, 0.3, 40)
    problem = RegressionProblem.build((Z - Z.mean(0)) / Z.std(0), (y - y.mean()) / y.std(), 10, HorseshoePrior(), 0.0)
    settings = SamplerSettings(method="gibbs", draws=50, tune=20, chains=2)
    runs = []
    for parallel_above in (float("inf"), float("inf"), 0.0):  # twice here, then in worker processes
        monkeypatch.setattr(samplers, "_PARALLEL_WORK", parallel_above)
        runs.append(samplers.make_sampler(settings, 7).run(problem).draws)
    for run in runs[1:]:
        np.testing.assert_array_equal(run.beta, runs[0].beta)
        np.testing.assert_array_equal(run.sigma, runs[0].sigma)
    other = samplers.make_sampler(settings, 8).run(problem).draws
    assert not np.array_equal(other.beta, runs[0].beta)
    # a chain continued from where it stopped is the chain that never stopped
    from discovery.model.bayes.gibbs import GibbsProblem, run_chain

    plain = GibbsProblem(problem.Z, problem.y, problem.groups, problem.tau_scale, 2.0, 1.0, 0.0, 2.0, 4.0, None)
    whole, _ = run_chain(plain, 60, 20, [7, 0])
    first, state = run_chain(plain, 25, 20, [7, 0])
    rest, _ = run_chain(plain, 35, 0, None, state)
    np.testing.assert_array_equal(np.r_[first.beta, rest.beta], whole.beta)
    np.testing.assert_array_equal(np.r_[first.tau, rest.tau], whole.tau)


@pytest.mark.parametrize("n_main", [6, 31])  # 31: every column a main effect, no interaction block
def test_gibbs_two_forms_of_the_marginal_agree(n_main):
    """The P-space form (precision factorised in blocks, the small block alone refactorised after a
    step of τ_0) gives the n-space form's marginal likelihood, and draws θ from its exact conditional."""
    from discovery.model.bayes.gibbs import _Gram, _NSpaceMarginal, _PSpaceMarginal

    rng = np.random.default_rng(0)
    n, P = 80, 31
    X = np.column_stack([np.ones(n), rng.normal(size=(n, P))])
    y, d, r = rng.normal(size=n), rng.gamma(1.0, 1.0, P + 1), 0.3
    gram = _Gram.build(X, y, np.r_[np.zeros(n_main, dtype=int), np.ones(P - n_main, dtype=int)])
    before = _PSpaceMarginal(gram, d, r)
    assert before.log_likelihood == pytest.approx(_NSpaceMarginal(X, y, d, np.full(n, r), (X * d) @ X.T).log_likelihood,
                                                  rel=1e-10)
    d_small = d.copy()
    d_small[gram.small] *= 3.0  # a step of τ_0: only the intercept and main effects' variances move
    reused = _PSpaceMarginal(gram, d_small, r, same_big=before)
    assert reused.log_likelihood == pytest.approx(_PSpaceMarginal(gram, d_small, r).log_likelihood, rel=1e-12)
    assert reused.log_likelihood == pytest.approx(
        _NSpaceMarginal(X, y, d_small, np.full(n, r), (X * d_small) @ X.T).log_likelihood, rel=1e-10)
    Q = X.T @ X / r + np.diag(1.0 / d_small)
    draws = np.array([reused.draw(rng) for _ in range(20000)])
    covariance = np.linalg.inv(Q)
    error = np.sqrt(np.diag(covariance) / len(draws))
    assert (np.abs(draws.mean(axis=0) - np.linalg.solve(Q, X.T @ y / r)) <= 5 * error).all()
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.05 * np.abs(covariance).max())


def test_gibbs_samples_longer_until_the_health_thresholds_are_met():
    from discovery.model.bayes import HorseshoePrior, SamplerSettings, samplers
    from discovery.model.bayes.design import RegressionProblem
    from discovery.model.diagnostics import HealthThresholds

    rng = np.random.default_rng(1)
    Z = rng.normal(size=(30, 40))
    y = Z[:, 0] + rng.normal(0, 0.5, 30)
    problem = RegressionProblem.build((Z - Z.mean(0)) / Z.std(0), (y - y.mean()) / y.std(), 5, HorseshoePrior(), 0.0)
    settings = SamplerSettings(method="gibbs", draws=100, tune=50, chains=2, max_draws=1000)
    short = samplers.make_sampler(settings, 0).run(problem)  # no thresholds: exactly `draws`
    assert len(short.draws) == 200
    strict = HealthThresholds(max_rhat=1.01, min_ess_bulk=400)
    longer = samplers.make_sampler(settings, 0, strict).run(problem)
    assert 200 < len(longer.draws) <= 2000
    np.testing.assert_array_equal(longer.idata.posterior["beta"].values[:, :100], short.idata.posterior["beta"].values)


def _wide_table(n, seed, n_descriptors=10, n_categories=30):
    """Correlated descriptors d*, 0/1 categories c*: 340 design columns, three of them matter."""
    rng = np.random.default_rng(seed)
    D = rng.normal(size=(n, 3)) @ np.random.default_rng(7).normal(size=(3, n_descriptors)) + rng.normal(size=(n, n_descriptors))
    C = (rng.random((n, n_categories)) < 0.4).astype(int)
    X = pd.concat([pd.DataFrame(D, columns=[f"d{i}" for i in range(n_descriptors)]),
                   pd.DataFrame(C, columns=[f"c{j}" for j in range(n_categories)])], axis=1)
    return X, 2.0 * D[:, 0] - 1.0 * D[:, 1] + 1.5 * D[:, 2] * C[:, 0]


def test_advi_fits_a_wide_sparse_problem():
    # from PyMC's default start, mean-field ADVI shrinks everything here (test RMSE 1.26 against
    # the truth, target SD 4.9); from the ridge start it fits (0.12; noise SD 0.5)
    X, f = _wide_table(100, seed=0)
    y = f + np.random.default_rng(1).normal(0, 0.5, len(f))
    model = BayesianILR(
        descriptors=[f"d{i}" for i in range(10)], categories=[f"c{j}" for j in range(30)], seed=3,
        sampler={"method": "advi", "advi_iterations": 3000}, calibration={"method": "none"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    assert len(model.columns_) == 340 and not model.diagnostics_.exact and "ADVI" in model.diagnostics_.sampler
    X_test, f_test = _wide_table(500, seed=2)
    prediction = model.predict(X_test)
    assert np.sqrt(np.mean((prediction.mean - f_test) ** 2)) < 0.4
    low, high = prediction.quantiles([0.05, 0.95])
    y_test = f_test + np.random.default_rng(3).normal(0, 0.5, len(f_test))
    assert 0.8 <= np.mean((y_test >= low) & (y_test <= high)) <= 0.99


def test_advi_on_small_data_says_to_use_nuts(caplog):
    X, f = _table(30, seed=0)
    with caplog.at_level(logging.WARNING, logger="discovery.model.bayes.samplers"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BayesianILR(seed=0, sampler={"method": "advi", "advi_iterations": 500}, calibration={"method": "none"}).fit(X, f)
    assert "ADVI on 30 molecules" in caplog.text and "sampler.method=gibbs" in caplog.text


def test_intervals_cover_at_the_nominal_rate(fitted):
    model, _, _ = fitted
    X_new, f_new = _table(400, seed=5)
    y_new = f_new + np.random.default_rng(6).normal(0, 0.3, len(f_new))
    prediction = model.predict(X_new)
    lower, upper = prediction.interval(0.9)
    coverage = np.mean((y_new >= lower) & (y_new <= upper))
    assert 0.82 <= coverage <= 0.97
    assert prediction.latent_draws.shape == (len(model.posterior_), 400)
    assert (prediction.std > prediction.latent_std).all()
    assert np.sqrt(np.mean((prediction.mean - f_new) ** 2)) < 0.3


def test_uncertainty_grows_outside_the_training_range(fitted):
    model, X, _ = fitted
    far = X.iloc[:20].copy()
    far["polarizability_au"] += 60  # six training SDs beyond the data
    near = model.predict(X.iloc[:20]).latent_std.mean()
    assert model.predict(far).latent_std.mean() > 2 * near


def test_save_load_round_trips_predictions_exactly(fitted, tmp_path):
    model, X, _ = fitted
    model.save(tmp_path / "fit")
    loaded = BayesianILR.load(tmp_path / "fit")
    a, b = model.predict(X), loaded.predict(X)
    np.testing.assert_array_equal(a.latent_draws, b.latent_draws)
    np.testing.assert_array_equal(a.observation_draws, b.observation_draws)
    assert sorted(p.name for p in (tmp_path / "fit").iterdir()) == ["model.json", "posterior.nc"]


def test_diagnostics_are_computed(fitted):
    model, _, _ = fitted
    d = model.diagnostics_
    assert d.sampler == "exact Gibbs" and d.exact and d.divergences is None  # no divergences to have
    assert d.max_rhat < 1.05 and d.min_ess_bulk > 100 and d.n_draws == 4000
    # where the fit's time went
    assert d.sampling_seconds > 0 and d.sampling_seconds < model.fit_seconds_
    # the rehearsal's sampler health is recorded next to the inflation it set
    calibration = d.calibration
    assert calibration.rehearsal_max_rhat >= 1.0 and calibration.rehearsal_min_ess_bulk > 0
    assert 0 < calibration.rehearsal_seconds < model.fit_seconds_ - d.sampling_seconds
    # the report's health table is judged against the model's own thresholds, and JSON round-trips
    checks = {c.name: c for c in d.checks()}
    assert checks["Largest R-hat"].ok == (d.max_rhat <= model.health.max_rhat)
    assert str(model.health.max_rhat) in checks["Largest R-hat"].meaning
    assert type(d).from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_extrapolation_rehearsal_calibrates_model_error(fitted):
    model, X, y = fitted
    calibration = model.diagnostics_.calibration
    assert calibration.applied and calibration.held_out == 2 * 18
    # the rehearsal was fitted on the central rows and predicted the held-out tails
    held, core = tail_split(y, model.calibration.tail_fraction)
    np.testing.assert_array_equal(model.rehearsal_["y"], y[held])
    assert (model.rehearsal_["fit_min"], model.rehearsal_["fit_max"]) == (y[core].min(), y[core].max())
    law = model.model_error_
    assert law.y_min == y.min() and law.y_max == y.max()
    # the synthetic model is well specified: the learned model error stays small next to the spread of y
    assert 0 <= law.constant < 0.5 * y.std()
    assert 1.0 <= law.epistemic_inflation <= CalibrationSettings.max_inflation
    assert calibration.epistemic_inflation == law.epistemic_inflation
    # the inflation stretches the posterior's spread around an unchanged mean
    bare = dataclasses.replace(law, per_distance=0.0, constant=0.0, epistemic_inflation=1.0)
    model.model_error_ = bare
    plain = model.predict(X.iloc[:10])
    model.model_error_ = dataclasses.replace(bare, epistemic_inflation=3.0)
    stretched = model.predict(X.iloc[:10])
    np.testing.assert_allclose(stretched.mean, plain.mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(stretched.latent_std, 3.0 * plain.latent_std, rtol=1e-6)
    # ... except for acquisition, which ranks on the posterior's own spread (same draws, same mean)
    for unstretched in (model.predict(X.iloc[:10], for_acquisition=True),
                        model.predict(X.iloc[:10], n_draws=10**6, seed=5, for_acquisition=True, draws_dtype=np.float32)):
        np.testing.assert_allclose(unstretched.latent_std, plain.latent_std, rtol=1e-5)
        np.testing.assert_allclose(unstretched.mean, plain.mean, rtol=1e-6)
        assert unstretched.observation_draws is None
    # leave-one-out summaries (the report's cross-validation) stretch around each molecule's own
    # LOO mean: their point predictions do not move with the inflation (stretching around the
    # full-data mean would multiply every LOO shift by it)
    loo_means = {}
    for f in (1.0, 5.0):
        model.model_error_ = dataclasses.replace(bare, epistemic_inflation=f)
        loo_means[f] = loo_summary(model, X.assign(smiles="C"), y)["mean"].to_numpy()
    np.testing.assert_allclose(loo_means[5.0], loo_means[1.0], rtol=1e-9, atol=1e-9)
    weights = model.leave_one_out(X, y).weights
    assert weights.shape == (len(model.posterior_), len(y)) and np.allclose(weights.sum(axis=0), 1.0)
    shifted = (weights * model.predict(X).observation_draws).sum(axis=0)
    assert np.abs(shifted - loo_means[1.0]).max() > 1e-3  # the bug this guards against
    # however steep the law, the model error stays within max_error (2 widths of the range)
    far = X.iloc[[int(np.argmax(y))]]
    model.model_error_ = bare
    without_error = model.predict(far).latent_std[0]
    model.model_error_ = dataclasses.replace(bare, constant=1e6)
    assert law.max_error == pytest.approx(2 * (y.max() - y.min()))
    assert model.predict(far).latent_std[0] < 1.1 * np.hypot(without_error, law.max_error)
    model.model_error_ = law
    uncalibrated = BayesianILR(seed=3, sampler={"draws": 200, "tune": 300}, calibration={"method": "none"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        uncalibrated.fit(X, y)
    assert uncalibrated.model_error_.constant == 0 and uncalibrated.diagnostics_.calibration.method == "none"


def test_bad_inputs_give_clear_errors():
    X, f = _table(30, seed=0)
    model = BayesianILR()
    with pytest.raises(ValueError, match="at least 5"):
        model.fit(X.iloc[:4], f[:4])
    with pytest.raises(ValueError, match="constant"):
        model.fit(X, np.full(len(X), 2.0))
    bad = X.copy()
    bad.loc[3, "homo_ev"] = np.nan
    with pytest.raises(ValueError, match="non-finite descriptor"):
        model.fit(bad, f)
    with pytest.raises(ValueError, match="non-finite values"):
        model.fit(X, np.where(np.arange(len(f)) == 2, np.nan, f))
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict(X)
    with pytest.raises(ValueError, match="noise_floor"):
        BayesianILR(prior={"noise_floor": -0.1})
    with pytest.raises(ValueError, match="coverage <= inflation_coverage"):
        BayesianILR(calibration={"coverage": 0.9, "inflation_coverage": 0.8})


def test_registry_and_readable_names():
    assert isinstance(make_model("bayes_ilr", seed=1), BayesianILR)
    assert readable_term("polarizability_per_volume*aromatic_ring=1") == "polarizability per volume × aromatic ring"
    assert readable_term("has_N=0") == "no N"
    assert readable_term("homo_ev") == "homo"


def test_log_target_gives_positive_predictions_in_target_units(tmp_path):
    X, f = _table(80, seed=2)
    y = np.exp(0.3 * f / f.std()) * 10.0  # positive, skewed
    # y has no noise: only the repeatability floor (log units) keeps σ from shrinking to nothing
    model = BayesianILR(seed=1, target_transform="log", sampler={"draws": 200, "tune": 300}, calibration={"method": "none"},
                        prior={"noise_floor": 0.05})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    noise_sd_log = model.posterior_.sigma * model.scaling_.y_scale
    assert noise_sd_log.min() >= 0.05 - 1e-9 and np.median(noise_sd_log) < 0.1
    prediction = model.predict(X)
    assert (prediction.latent_draws > 0).all() and (prediction.interval(0.9)[0] > 0).all()
    # the point prediction is the posterior median, in the units of y
    np.testing.assert_allclose(prediction.mean, np.median(prediction.latent_draws, axis=0), rtol=0.05)
    assert np.corrcoef(prediction.mean, y)[0, 1] > 0.9
    model.save(tmp_path / "log")
    np.testing.assert_array_equal(BayesianILR.load(tmp_path / "log").predict(X).mean, prediction.mean)
    with pytest.raises(ValueError, match="positive values"):
        BayesianILR(target_transform="log").fit(X, y - 20.0)


def _noisy_table(seed):
    """40 molecules, 10 of them measured twice; each measurement with its own known SD."""
    X, f = _table(40, seed)
    ids = [f"m{i}" for i in range(40)] + [f"m{i}" for i in range(10)]
    X = pd.concat([X, X.iloc[:10]], ignore_index=True).assign(identity=ids, smiles=ids)
    f = np.r_[f, f[:10]]
    rng = np.random.default_rng(seed + 1)
    known = rng.uniform(0.2, 1.5, len(f))
    return X, f + rng.normal(0, np.hypot(0.3, known)), known


@pytest.mark.parametrize("likelihood", ["normal", "student_t"])
def test_known_noise_enters_the_likelihood_and_gibbs_and_nuts_agree(likelihood):
    """Known SDs s_i: the noise the model estimates is what is left (σ ≈ 0.3, not √(0.3² + s²)),
    and the exact Gibbs sampler and NUTS sample one posterior (σ and the coefficients), with a
    normal likelihood and with a Student-t one (its scale mixture plus the known noise)."""
    X, y, known = _noisy_table(5)
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, sampler, noise in (("gibbs", {"draws": 800}, known), ("nuts", {"method": "nutpie", "draws": 800},
                                                                          known), ("ignored", {"draws": 400}, None)):
            fits[name] = BayesianILR(seed=2, sampler=sampler, calibration={"method": "none"},
                                     prior={"likelihood": likelihood}).fit(X, y, noise_sd=noise)
    sigma = {name: float(fit.posterior_.sigma.mean() * fit.scaling_.y_scale) for name, fit in fits.items()}
    assert sigma["gibbs"] < 0.6 < sigma["ignored"], sigma
    for name in ("beta", "sigma"):
        draws = {m: fits[m].idata_.posterior[name] for m in ("gibbs", "nuts")}
        gap = np.abs(draws["gibbs"].mean(("chain", "draw")).values - draws["nuts"].mean(("chain", "draw")).values)
        spread = np.maximum(draws["gibbs"].std(("chain", "draw")).values, 0.01)
        assert (gap <= 0.25 * spread + 0.005).all(), (name, np.max(gap / spread))
    # replicates are left out together: their rows share one set of leave-one-out weights
    loo = fits["gibbs"].leave_one_out(X, y, known)
    np.testing.assert_allclose(loo.weights[:, 0], loo.weights[:, 40])
    cv = loo_summary(fits["gibbs"], X, y, noise_sd=known)
    assert len(cv) == 40 and cv["y"].iloc[0] == pytest.approx((y[0] + y[40]) / 2)


def test_known_noise_is_validated_and_refused_by_models_that_cannot_use_it():
    X, y, known = _noisy_table(6)
    with pytest.raises(ValueError, match="one SD per training row"):
        BayesianILR().fit(X, y, noise_sd=known[:5])
    with pytest.raises(ValueError, match=">= 0"):
        BayesianILR().fit(X, y, noise_sd=-known)
    with pytest.raises(ValueError, match="cannot use known measurement uncertainties"):
        make_model("pls_ilr").fit(X, y, noise_sd=known)
    # NaN means not known: all-NaN is the same as none (no known noise)
    from discovery.model import check_noise_sd

    assert check_noise_sd(np.full(len(y), np.nan), len(y)) is None


def test_the_rehearsal_splits_by_molecule():
    y = np.array([1.0, 1.1, 5.0, 5.2, 3.0, 3.0, 2.0, 4.0, 2.5, 3.5])
    groups = np.array([0, 0, 1, 1, 2, 2, 3, 4, 5, 6])
    held, core = tail_split(y, 0.1, groups)
    assert set(held) == {0, 1, 2, 3, 6, 7} and set(core) == {4, 5, 8, 9}


def test_loo_tails_rehearses_each_extreme_from_all_the_other_molecules():
    X, f = _table(60, seed=4)
    y = f + np.random.default_rng(5).normal(0, 0.3, len(f))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianILR(seed=2, calibration={"method": "loo_tails"}).fit(X, y)
    record = model.diagnostics_.calibration
    held, _ = tail_split(y, model.calibration.tail_fraction)
    assert record.method == "loo_tails" and record.applied and record.held_out == len(held) == 2 * 9
    assert np.isnan(record.rehearsal_max_rhat)  # no second fit: the main fit's draws, reweighted
    assert 0 < record.rehearsal_seconds < 0.5 * model.diagnostics_.sampling_seconds
    r = model.rehearsal_
    np.testing.assert_array_equal(r["y"], y[held])
    # each extreme extrapolates from all the others: the highest from a range topped by the second highest
    top = int(np.argmax(r["y"]))
    assert r["fit_max"][top] == np.sort(y)[-2] and r["fit_min"][top] == y.min()
    # PSIS-LOO of a well-specified model: the held-out predictions track the truth
    assert np.corrcoef(r["mean"], f[held])[0, 1] > 0.95
    law = model.model_error_
    assert 1.0 <= law.epistemic_inflation <= CalibrationSettings.max_inflation and law.constant < 0.5 * y.std()

    # the edge law and the inflation are sized together: with both, the 90 % intervals cover 90 %
    # of the rehearsal; without the inflation's share, less
    def covered(inflation: float) -> float:
        distance = np.maximum(0.0, np.maximum(r["mean"] - r["fit_max"], r["fit_min"] - r["mean"]))
        sd = np.sqrt(r["std"] ** 2 + (inflation**2 - 1) * r["latent_std"] ** 2
                     + (law.constant + law.per_distance * distance) ** 2)
        return float(np.mean(np.abs(r["y"] - r["mean"]) <= 1.6448536 * sd * (1 + 1e-9)))

    assert covered(law.epistemic_inflation) >= 0.9
    if law.epistemic_inflation > 1.0:
        assert covered(1.0 + 0.9 * (law.epistemic_inflation - 1.0)) < 0.9
