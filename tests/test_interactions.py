import inspect

import numpy as np
import pandas as pd
import pytest

from discovery.features import InteractionFeatures
from discovery.features.interactions import MinorityRule, choose_categories


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


def _paper_table() -> pd.DataFrame:
    """Ten molecules: the first four are measured, the rest candidates."""
    return pd.DataFrame(
        {
            "d1": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "d2": [-1.0, 0.5, 2.0, 10.0, -2.0, 0.0, 1.0, 1.0, 1.0, 1.0],
            "a": [1, 0, 1, 0, 1, 0, 0, 0, 0, 0],  # 3 in 10
            "b": [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],  # 1 in 10: exactly the 10 % threshold
            "c": [0] * 10,  # constant
            "e": [0, 0, 0, 0, 1, 1, 1, 0, 0, 0],  # 3 in 10, but never among the measured four
            "y": [0.3, -1.2, 4.0, 2.2, 9.9, 0.0, 1.0, 2.0, 3.0, 4.0],
        },
        index=[f"m{i}" for i in range(10)],
    )


def test_paper_design_reproduces_a_hand_computed_design():
    table = _paper_table()
    # categories chosen on all ten molecules; "at most 10 %" drops b, the other rule keeps it
    assert choose_categories(table, ["a", "b", "c", "e"], 0.1, MinorityRule.MORE_THAN) == ["a", "e"]
    assert choose_categories(table, ["a", "b", "c", "e"], 0.1, MinorityRule.AT_LEAST) == ["a", "b", "e"]

    measured = table.iloc[:4]
    f = InteractionFeatures(["d1", "d2"], ["a", "e"], standardize=False, minority_rule="more_than",
                            screen_categories=False).fit(measured)
    columns = ["d1", "d2", "a=1", "a=0", "e=1", "e=0", "d1*a=1", "d1*a=0", "d1*e=1", "d1*e=0",
               "d2*a=1", "d2*a=0", "d2*e=1", "d2*e=0"]
    # raw descriptors, an intercept and each descriptor times both levels of a and of e (e is
    # constant on the measured rows but chosen on all ten, so it stays): 2 + 3 x 4 columns
    expected = [
        [1.0, -1.0, 1, 0, 0, 1, 1.0, 0, 0, 1.0, -1.0, 0, 0, -1.0],
        [2.0, 0.5, 0, 1, 0, 1, 0, 2.0, 0, 2.0, 0, 0.5, 0, 0.5],
        [3.0, 2.0, 1, 0, 0, 1, 3.0, 0, 0, 3.0, 2.0, 0, 0, 2.0],
        [4.0, 10.0, 0, 1, 0, 1, 0, 4.0, 0, 4.0, 0, 10.0, 0, 10.0],
        [5.0, -2.0, 1, 0, 1, 0, 5.0, 0, 5.0, 0, -2.0, 0, -2.0, 0],
    ]
    Z = f.transform(table.iloc[:5])
    assert list(Z.columns) == columns
    assert np.array_equal(Z.to_numpy(), np.array(expected, dtype=float))

    # the same design without the descriptors themselves
    g = InteractionFeatures(["d1", "d2"], ["a", "e"], standardize=False, screen_categories=False,
                            keep_descriptors=False).fit(measured)
    assert g.get_feature_names_out() == columns[2:]
    assert np.array_equal(g.transform(table.iloc[:5]).to_numpy(), np.array(expected)[:, 2:])


def test_choosing_categories_never_reads_a_target():
    table = _paper_table()
    categories = ["a", "b", "c", "e"]
    chosen = choose_categories(table, categories, 0.1, MinorityRule.MORE_THAN)
    rng = np.random.default_rng(0)
    for target in (rng.normal(size=10), np.nan, "not a number", table["a"]):
        assert choose_categories(table.assign(y=target), categories, 0.1, MinorityRule.MORE_THAN) == chosen
    assert choose_categories(table.drop(columns="y"), categories, 0.1, MinorityRule.MORE_THAN) == chosen
    assert list(inspect.signature(choose_categories).parameters) == ["molecules", "categories", "min_fraction", "rule"]
    with pytest.raises(TypeError):
        choose_categories(table, categories, y=table["y"])  # there is no way to pass one
    # chosen categories are then kept as given, whatever the measured rows and their targets
    for seed in (1, 2):
        measured = table.iloc[:4].assign(y=np.random.default_rng(seed).normal(size=4))
        f = InteractionFeatures(["d1"], chosen, screen_categories=False).fit(measured, measured["y"])
        assert f.categories_ == ["a", "e"] and f.dropped_categories_ == []


def test_given_categories_the_measured_rows_cannot_resolve_are_dropped_on_request():
    measured = _paper_table().iloc[:4]
    # e never occurs among the measured molecules: e=1 is all zero and e=0 the intercept
    f = InteractionFeatures(["d1"], ["a", "e"], screen_categories=False, complement=False, min_contrast_rows=1).fit(measured)
    assert f.categories_ == ["a"] and f.dropped_categories_ == ["e"]
    restored = InteractionFeatures.from_dict(f.to_dict())
    assert restored.screen_categories is False and restored.minority_rule is MinorityRule.AT_LEAST
    pd.testing.assert_frame_equal(restored.transform(measured), f.transform(measured))
    with pytest.raises(ValueError, match="pass the chosen categories="):
        InteractionFeatures(["d1"], screen_categories=False)
    with pytest.raises(ValueError, match="0/1"):
        choose_categories(_paper_table().assign(a=np.nan), ["a"])


def test_the_bayesian_design_passes_the_category_choice_through():
    from discovery.model.bayes import BayesianILR
    from discovery.model.bayes.design import InteractionDesign

    measured = _paper_table().iloc[:4]
    design = InteractionDesign.fit(measured, ["d1"], ["a", "b", "e"], 0.1, 1, MinorityRule.MORE_THAN, screen_categories=False)
    assert design.features.categories_ == ["a"] and design.features.dropped_categories_ == ["b", "e"]
    assert design.columns == ("d1", "a=1", "d1*a=1")
    model = BayesianILR(categories=["a"], minority_rule="more_than", screen_categories=False)
    assert model.get_params()["minority_rule"] is MinorityRule.MORE_THAN and model.screen_categories is False
