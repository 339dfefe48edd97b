import numpy as np
import pandas as pd
import pytest

from discovery.features import InteractionFeatures


def _frame(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "polarizability_au": rng.normal(50, 10, n),
            "homo_ev": rng.normal(-10, 1, n),
            "aromatic_ring": (np.arange(n) % 2).astype(int),
            "has_N": (np.arange(n) < 6).astype(int),  # 30 %
            "has_Si": (np.arange(n) < 1).astype(int),  # 5 %: below the 10 % threshold
        },
        index=[f"m{i}" for i in range(n)],
    )


def test_names_and_values_follow_the_paper_design():
    X = _frame()
    f = InteractionFeatures(descriptors=["polarizability_au", "homo_ev"], categories=["aromatic_ring", "has_N", "has_Si"])
    Z = f.fit_transform(X)
    assert f.categories_ == ["aromatic_ring", "has_N"]
    assert f.dropped_categories_ == ["has_Si"]
    assert "polarizability_au*aromatic_ring=1" in Z.columns
    assert "homo_ev*has_N=0" in Z.columns and "aromatic_ring=1" in Z.columns
    assert Z.shape[1] == 2 + 2 * 2 + 2 * 2 * 2
    z = (X["polarizability_au"] - X["polarizability_au"].mean()) / X["polarizability_au"].std(ddof=0)
    assert np.allclose(Z["polarizability_au"], z)
    assert np.allclose(Z["polarizability_au*aromatic_ring=1"], z * X["aromatic_ring"])
    assert np.allclose(Z["polarizability_au*aromatic_ring=0"], z * (1 - X["aromatic_ring"]))
    assert list(Z.index) == list(X.index)


def test_threshold_is_configurable():
    f = InteractionFeatures(descriptors=["homo_ev"], categories=["has_N", "has_Si"], min_fraction=0.4).fit(_frame())
    assert f.categories_ == []  # 30 % and 5 % both below 40 %


def test_new_candidates_use_training_statistics():
    train, new = _frame(seed=0), _frame(n=5, seed=1)
    f = InteractionFeatures(descriptors=["homo_ev"], categories=["aromatic_ring"]).fit(train)
    Z = f.transform(new)
    expected = (new["homo_ev"] - train["homo_ev"].mean()) / train["homo_ev"].std(ddof=0)
    assert np.allclose(Z["homo_ev"], expected)


def test_nan_and_invalid_categories_are_refused_clearly():
    X = _frame()
    f = InteractionFeatures(descriptors=["homo_ev"], categories=["aromatic_ring"]).fit(X)
    bad = X.copy()
    bad.loc["m3", "homo_ev"] = np.nan
    with pytest.raises(ValueError, match=r"non-finite descriptor values in 1 row.*m3"):
        f.transform(bad)
    bad = X.copy()
    bad.loc["m2", "aromatic_ring"] = -1
    with pytest.raises(ValueError, match="0/1"):
        f.transform(bad)


def test_json_round_trip_reproduces_the_matrix():
    import json

    X = _frame()
    f = InteractionFeatures(descriptors=["homo_ev", "polarizability_au"], categories=["aromatic_ring", "has_N"]).fit(X)
    g = InteractionFeatures.from_dict(json.loads(json.dumps(f.to_dict())))
    pd.testing.assert_frame_equal(f.transform(X), g.transform(X))


def test_constant_descriptor_is_dropped():
    X = _frame()
    X["electrons_per_atom"] = 3.0
    f = InteractionFeatures(descriptors=["homo_ev", "electrons_per_atom"], categories=["aromatic_ring"]).fit(X)
    assert f.dropped_descriptors_ == ["electrons_per_atom"]
    assert not any(c.startswith("electrons_per_atom") for c in f.get_feature_names_out())


def test_categories_the_data_cannot_tell_apart_are_merged():
    X = _frame()
    X["aromatic_bond"] = X["aromatic_ring"]  # the same column
    X["has_O"] = 1 - X["has_N"]  # the complement: in reference coding the same functions
    X["ring"] = X["aromatic_ring"]
    X.loc["m0", "ring"] = 1 - X.loc["m0", "ring"]  # differs on 1 row: merged
    X["carbonyl"] = X["aromatic_ring"]
    X.loc[["m0", "m2"], "carbonyl"] = 1 - X.loc[["m0", "m2"], "carbonyl"]  # differs on 2 rows: kept
    categories = ["aromatic_ring", "has_N", "aromatic_bond", "has_O", "ring", "carbonyl"]
    f = InteractionFeatures(descriptors=["homo_ev"], categories=categories, complement=False, min_contrast_rows=2).fit(X)
    assert f.categories_ == ["aromatic_ring", "has_N", "carbonyl"]
    assert f.aliases_ == {"aromatic_bond": "aromatic_ring", "has_O": "has_N", "ring": "aromatic_ring"}
    Z = f.transform(X)
    assert np.linalg.matrix_rank(Z.to_numpy()) == Z.shape[1]
    restored = InteractionFeatures.from_dict(f.to_dict())
    assert restored.aliases_ == f.aliases_ and restored.min_contrast_rows == 2
    pd.testing.assert_frame_equal(restored.transform(X), Z)
    # off by default (the paper's PLS design keeps every category)
    assert len(InteractionFeatures(descriptors=["homo_ev"], categories=categories).fit(X).categories_) == 6
