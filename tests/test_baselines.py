"""Baseline models on a small real table: RDKit categories, synthetic descriptors, known targets."""

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from discovery.chem import parse_molecule
from discovery.features.categories import category_frame
from discovery.model import ModelConfig, Prediction, make_model
from discovery.model.baselines import PLSILR, PLSQM, KernelRidgeQM, RandomForestMorgan, TanimotoGP

DESCRIPTOR_COLUMNS = ["molecular_weight_g_mol", "polarizability_au", "homo_ev", "dipole_debye"]


def _smiles() -> list[str]:
    """~60 molecules in homologous series: alkanes, alcohols, amines, acids, ketones, aromatics."""
    out = ["C" * n for n in range(1, 13)]
    out += ["C" * n + "O" for n in range(1, 11)]
    out += ["C" * n + "N" for n in range(1, 11)]
    out += ["C" * n + "C(=O)O" for n in range(0, 9)]
    out += ["C" * a + "C(=O)" + "C" * b for a, b in [(1, 1), (1, 2), (2, 2), (1, 3), (2, 3), (3, 3), (1, 5), (4, 4)]]
    out += ["c1ccccc1" + "C" * k for k in range(0, 8)]
    out += ["Nc1ccccc1", "Oc1ccccc1", "Cc1ccc(C)cc1", "c1ccc2ccccc2c1", "Cc1ccncc1", "c1ccncc1"]
    return out


def _table(seed: int = 0) -> pd.DataFrame:
    smiles = _smiles()
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    cats = category_frame([parse_molecule(s) for s in smiles]).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    heavy = np.array([m.GetNumHeavyAtoms() for m in mols], float)
    aromatic = cats["aromatic_ring"].to_numpy(float)
    desc = pd.DataFrame(
        {
            "molecular_weight_g_mol": [Descriptors.MolWt(m) for m in mols],
            "polarizability_au": 12.0 * heavy + 15.0 * aromatic + rng.normal(0, 3, len(mols)),
            "homo_ev": -10.5 + 0.03 * heavy + 1.2 * aromatic + rng.normal(0, 0.3, len(mols)),
            "dipole_debye": rng.gamma(2.0, 0.8, len(mols)),
        }
    )
    table = pd.concat([pd.DataFrame({"smiles": smiles}), desc, cats], axis=1)
    table.index = [f"m{i}" for i in range(len(table))]
    return table


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _table()


def _linear_target(X: pd.DataFrame, seed: int = 1) -> np.ndarray:
    """Descriptors, a category offset and a descriptor × category interaction, plus small noise."""
    rng = np.random.default_rng(seed)
    z = (X["homo_ev"] - X["homo_ev"].mean()) / X["homo_ev"].std()
    return (
        0.04 * X["molecular_weight_g_mol"].to_numpy()
        + 1.5 * X["has_N"].to_numpy()
        + 2.0 * (z * X["aromatic_ring"]).to_numpy()
        + rng.normal(0, 0.1, len(X))
    )


def _carbons(X: pd.DataFrame) -> np.ndarray:
    return np.array([sum(a.GetSymbol() == "C" for a in Chem.MolFromSmiles(s).GetAtoms()) for s in X["smiles"]], float)


def _split(n: int, seed: int = 0, test_fraction: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


# Small settings keep the file fast; defaults are exercised by the registry test.
FAST = {
    "pls_ilr": lambda: PLSILR(n_components=8),
    "pls_qm": lambda: PLSQM(n_components=3),
    "gp_tanimoto": lambda: TanimotoGP(n_bits=1024, n_draws=64),
    "rf_morgan": lambda: RandomForestMorgan(n_estimators=100, n_bits=1024),
    "krr_qm": lambda: KernelRidgeQM(),
}


@pytest.fixture(scope="module")
def fitted(table):
    """Every model fitted once on the training rows of the linear target."""
    train, test = _split(len(table))
    y = _linear_target(table)
    models = {name: make().fit(table.iloc[train], y[train]) for name, make in FAST.items()}
    return models, train, test, y


@pytest.mark.parametrize("name", sorted(FAST))
def test_shapes_and_intervals(fitted, table, name):
    models, train, test, y = fitted
    pred = models[name].predict(table.iloc[test])
    n = len(test)
    assert isinstance(pred, Prediction)
    assert pred.mean.shape == pred.std.shape == pred.latent_std.shape == (n,)
    assert np.isfinite(pred.mean).all() and (pred.std > 0).all()
    assert (pred.latent_std >= 0).all() and (pred.latent_std <= pred.std + 1e-12).all()
    lower, upper = pred.interval(0.9)
    assert np.isfinite(lower).all() and np.isfinite(upper).all()
    assert (lower < pred.mean).all() and (pred.mean < upper).all()
    if pred.latent_draws is not None:
        assert pred.latent_draws.shape == ((100 if name == "rf_morgan" else 64), n)  # forest: one draw per tree


def test_pls_ilr_recovers_linear_target_with_interaction(fitted, table):
    models, train, test, y = fitted
    model = models["pls_ilr"]
    pred = model.predict(table.iloc[test])
    assert _r2(y[test], pred.mean) > 0.9
    assert "homo_ev*aromatic_ring=1" in model.features_.feature_names_out_
    # CV RMSE is an honest noise level: above the true noise 0.1, well below the target spread.
    assert 0.1 < model.noise_std_ < 0.5 * y.std()
    # The CV RMSE describes molecules like the training ones: the held-out set also holds
    # one-offs (aniline, phenol, naphthalene) that it underrates, so only ask for half coverage.
    lower, upper = pred.interval(0.9)
    assert np.mean((y[test] >= lower) & (y[test] <= upper)) >= 0.5


def test_descriptor_only_models_miss_the_interaction(fitted, table):
    # PLS on descriptors alone cannot represent z(homo) × aromatic: a worse fit than PLS-ILR.
    models, train, test, y = fitted
    ilr = _r2(y[test], models["pls_ilr"].predict(table.iloc[test]).mean)
    qm = _r2(y[test], models["pls_qm"].predict(table.iloc[test]).mean)
    assert qm < ilr
    assert models["pls_qm"].noise_std_ > models["pls_ilr"].noise_std_


@pytest.mark.parametrize("name", ["gp_tanimoto", "rf_morgan"])
def test_fingerprint_models_learn_carbon_count(table, name):
    train, test = _split(len(table), seed=3)
    y = _carbons(table)
    pred = FAST[name]().fit(table.iloc[train], y[train]).predict(table.iloc[test])
    baseline = np.mean((y[test] - y[train].mean()) ** 2)
    assert np.mean((y[test] - pred.mean) ** 2) < 0.5 * baseline


def test_gp_uncertainty_grows_away_from_data(table):
    # Aliphatic training set; aromatic molecules are far in Tanimoto space.
    aliphatic = table["aromatic_ring"].to_numpy() == 0
    y = _carbons(table)
    model = TanimotoGP(n_bits=1024, n_draws=0).fit(table[aliphatic], y[aliphatic])
    near = model.predict(table[aliphatic].iloc[:10])
    far = model.predict(table[~aliphatic])
    assert far.latent_std.mean() > near.latent_std.mean()
    assert near.latent_draws is None
    assert model.noise_std_ > 0


def test_gp_draws_match_posterior_in_joint_and_marginal_modes(table, monkeypatch):
    y = _carbons(table)
    model = TanimotoGP(n_bits=1024, n_draws=2000).fit(table, y)
    joint = model.predict(table.iloc[:8])
    monkeypatch.setattr(TanimotoGP, "MAX_JOINT", 4)  # force the independent-marginal path
    marginal = model.predict(table.iloc[:8])
    for pred in (joint, marginal):
        assert pred.latent_draws.shape == (2000, 8)
        assert np.allclose(pred.latent_draws.mean(axis=0), pred.mean, atol=4 * pred.latent_std.max() / np.sqrt(2000))
        assert np.allclose(pred.latent_draws.std(axis=0), pred.latent_std, rtol=0.15)
    assert np.allclose(joint.mean, marginal.mean)


def test_rf_does_not_extrapolate(table):
    y = _carbons(table)
    small = y <= 6
    model = RandomForestMorgan(n_estimators=100, n_bits=1024).fit(table[small], y[small])
    pred = model.predict(table[~small])
    assert pred.mean.max() <= y[small].max()
    assert model.noise_std_ > 0


@pytest.mark.parametrize("name", sorted(FAST))
def test_fixed_seed_is_reproducible(table, name):
    y = _linear_target(table)
    a = FAST[name]().fit(table, y).predict(table.iloc[:7])
    b = FAST[name]().fit(table, y).predict(table.iloc[:7])
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.std, b.std)
    if a.latent_draws is not None:
        assert np.array_equal(a.latent_draws, b.latent_draws)


def test_model_configs_build_each_class_with_defaults():
    expected = {
        "pls_ilr": PLSILR,
        "pls_qm": PLSQM,
        "gp_tanimoto": TanimotoGP,
        "rf_morgan": RandomForestMorgan,
        "krr_qm": KernelRidgeQM,
    }
    for name, cls in expected.items():
        assert ModelConfig.named(name).model_class is cls
        model = make_model(name, seed=3)
        assert type(model) is cls and model.seed == 3
    assert make_model("pls_ilr", n_components=2, min_fraction=0.2).n_components == 2


def test_explicit_descriptor_list(table):
    y = _linear_target(table)
    model = PLSQM(descriptors=["molecular_weight_g_mol", "dipole_debye"]).fit(table, y)
    assert model.columns_ == ["molecular_weight_g_mol", "dipole_debye"]
    # Other descriptor columns may be absent at predict time; the chosen ones may not.
    model.predict(table.drop(columns=["homo_ev"]))
    with pytest.raises(ValueError, match="dipole_debye"):
        model.predict(table.drop(columns=["dipole_debye"]))
    with pytest.raises(ValueError, match="not_a_column"):
        KernelRidgeQM(descriptors=["not_a_column"]).fit(table, y)
    with pytest.raises(ValueError, match="QM descriptor"):
        PLSQM().fit(table.drop(columns=DESCRIPTOR_COLUMNS), y)


@pytest.mark.parametrize("name", sorted(FAST))
def test_bad_training_data_is_rejected(table, name):
    y = _linear_target(table)
    with pytest.raises(ValueError, match="at least 5"):
        FAST[name]().fit(table.iloc[:4], y[:4])
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        FAST[name]().fit(table, y_nan)
    with pytest.raises(ValueError, match="constant"):
        FAST[name]().fit(table, np.full(len(table), 2.5))


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("pls_ilr", "homo_ev"),
        ("pls_ilr", "aromatic_ring"),
        ("pls_qm", "polarizability_au"),
        ("krr_qm", "homo_ev"),
        ("gp_tanimoto", "smiles"),
        ("rf_morgan", "smiles"),
    ],
)
def test_missing_column_at_predict_time(fitted, table, name, column):
    models, *_ = fitted
    with pytest.raises(ValueError, match=rf"lacks \['{column}'\]"):
        models[name].predict(table.drop(columns=[column]))


def test_nan_descriptor_is_rejected(table):
    y = _linear_target(table)
    bad = table.copy()
    bad.loc["m3", "homo_ev"] = np.nan
    for model in (PLSILR(), PLSQM(), KernelRidgeQM()):
        with pytest.raises(ValueError, match="non-finite descriptor"):
            model.fit(bad, y)


def test_smallest_training_set_fits(table):
    # Five rows: CV folds train on four, PLS components and KRR inner folds must shrink to fit.
    y = _linear_target(table)
    rows = table.iloc[[0, 15, 30, 45, 55]]
    for make in FAST.values():
        pred = make().fit(rows, y[[0, 15, 30, 45, 55]]).predict(table.iloc[:3])
        assert np.isfinite(pred.mean).all() and np.isfinite(pred.std).all()
