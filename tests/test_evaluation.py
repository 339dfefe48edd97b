"""Extrapolation benchmark: splits, metrics, the evaluation loop and the `discovery.evaluate` app."""

import importlib.util
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from discovery.evaluation import (
    evaluate,
    make_splits,
    model_factory,
    prepare_dataset,
    write_outputs,
)
from discovery.evaluation.metrics import json_safe, mean_metrics, score
from discovery.evaluation.splits import (
    Split,
    dissimilar,
    explicit,
    max_similarity_to_others,
    property_range,
    random_kfold,
    structure_cluster,
    upper_tail,
)
from discovery.features.fingerprints import tanimoto_similarity
from discovery.model import Prediction, PropertyModel

ROOT = Path(__file__).resolve().parent.parent
HAVE_BASELINES = importlib.util.find_spec("discovery.model.baselines") is not None
needs_baselines = pytest.mark.skipif(not HAVE_BASELINES, reason="discovery/model/baselines.py (pls_ilr) not written yet")


def _same(a: list[Split], b: list[Split]) -> bool:
    return len(a) == len(b) and all(
        x.name == y.name and np.array_equal(x.train, y.train) and np.array_equal(x.test, y.test) for x, y in zip(a, b)
    )


# --------------------------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------------------------


def test_random_kfold_partitions_rows():
    splits = random_kfold(103, k=5, seed=1)
    assert [s.name for s in splits] == [f"fold{i}" for i in range(5)]
    tested = np.concatenate([s.test for s in splits])
    assert np.array_equal(np.sort(tested), np.arange(103))
    for s in splits:
        assert np.intersect1d(s.train, s.test).size == 0
        assert s.train.size + s.test.size == 103
    assert _same(splits, random_kfold(103, k=5, seed=1))
    assert not _same(splits, random_kfold(103, k=5, seed=2))
    sub = random_kfold(103, k=5, seed=1, n_in=30)
    assert all(s.train.size == 30 and np.intersect1d(s.train, s.test).size == 0 for s in sub)
    with pytest.raises(ValueError, match="only 3"):
        random_kfold(3, k=5)


def test_property_range_tests_both_tails_outside_training_range():
    y = np.random.default_rng(0).normal(size=500)
    (split,) = property_range(y, n_in=100, seed=3)
    lo, hi = np.quantile(y, [0.1, 0.9])
    train, test = y[split.train], y[split.test]
    assert split.train.size == 100
    assert np.all((train >= lo) & (train <= hi))
    assert np.all((test < train.min()) | (test > train.max()))
    assert (test < train.min()).any() and (test > train.max()).any()
    # every row outside the training range is tested
    outside = np.flatnonzero((y < train.min()) | (y > train.max()))
    assert np.array_equal(split.test, outside)
    assert split.info["n_test_below"] + split.info["n_test_above"] == split.test.size
    assert _same([split], property_range(y, n_in=100, seed=3))
    assert not _same([split], property_range(y, n_in=100, seed=4))
    central = int(((y >= lo) & (y <= hi)).sum())
    with pytest.raises(ValueError, match=f"only {central} are available"):
        property_range(y, n_in=central + 1, seed=0)


def test_upper_tail_tests_above_training_max():
    y = np.random.default_rng(1).gamma(2.0, size=400)
    (split,) = upper_tail(y, n_in=120, seed=0, quantile=0.8)
    q = np.quantile(y, 0.8)
    assert split.train.size == 120 and np.all(y[split.train] < q)
    assert np.all(y[split.test] > y[split.train].max())
    assert np.array_equal(split.test, np.flatnonzero(y > y[split.train].max()))
    assert _same([split], upper_tail(y, n_in=120, seed=0, quantile=0.8))

    (low,) = upper_tail(y, n_in=120, seed=0, quantile=0.8, direction="min")
    assert np.all(y[low.train] > np.quantile(y, 0.2))
    assert np.all(y[low.test] < y[low.train].min())
    assert low.info["direction"] == "min"

    below = int((y < q).sum())
    with pytest.raises(ValueError, match=f"only {below} are available"):
        upper_tail(y, n_in=below + 1, seed=0)
    with pytest.raises(ValueError, match="direction"):
        upper_tail(y, n_in=10, direction="up")


def test_structure_cluster_holds_out_the_far_blob():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 25]], float)
    sizes = [60, 60, 60, 25]
    x = np.vstack([c + rng.normal(scale=0.5, size=(n, 3)) for c, n in zip(centres, sizes)])
    blob = np.repeat(np.arange(4), sizes)

    (split,) = structure_cluster(x, n_in=50, seed=0, n_clusters=4)
    assert split.name == "cluster0"
    assert np.array_equal(split.test, np.flatnonzero(blob == 3))  # farthest centroid held out
    assert split.train.size == 50 and np.intersect1d(split.train, split.test).size == 0
    assert _same([split], structure_cluster(x, n_in=50, seed=0, n_clusters=4))

    every = structure_cluster(x, n_in=20, seed=0, n_clusters=4, test_cluster="all")
    assert [s.name for s in every] == ["cluster0", "cluster1", "cluster2", "cluster3"]
    tests = np.concatenate([s.test for s in every])
    assert np.array_equal(np.sort(tests), np.arange(len(x)))  # clusters are disjoint and cover all rows
    for s in every:
        assert np.intersect1d(s.train, s.test).size == 0
        assert len(set(blob[s.test])) == 1  # each cluster is one blob
    with pytest.raises(ValueError, match="only 145 are available"):
        structure_cluster(x, n_in=146, seed=0, n_clusters=4, test_cluster=1)


def test_dissimilar_holds_out_lowest_max_similarity():
    rng = np.random.default_rng(2)
    base = rng.random((10, 256)) < 0.2
    # 90 near-copies of 10 prototypes, plus 10 unrelated random fingerprints
    near = np.array([np.logical_xor(base[i % 10], rng.random(256) < 0.02) for i in range(90)])
    odd = rng.random((10, 256)) < 0.2
    fps = np.vstack([near, odd]).astype(np.uint8)

    nearest = max_similarity_to_others(fps, chunk=7)
    sim = tanimoto_similarity(fps, fps)
    np.fill_diagonal(sim, -np.inf)
    assert np.allclose(nearest, sim.max(axis=1))

    (split,) = dissimilar(fps, n_in=40, seed=0, test_fraction=0.1)
    assert split.test.size == 10
    assert nearest[split.test].max() <= nearest[np.setdiff1d(np.arange(100), split.test)].min()
    assert set(split.test) == set(range(90, 100))
    assert split.train.size == 40 and np.intersect1d(split.train, split.test).size == 0
    assert _same([split], dissimilar(fps, n_in=40, seed=0))
    with pytest.raises(ValueError, match="only 90 are available"):
        dissimilar(fps, n_in=91, seed=0)


def test_explicit_validates_indices():
    (split,) = explicit([3, 0, 1], [4, 2], n=5)
    assert split.name == "indices"
    assert split.train.tolist() == [0, 1, 3] and split.test.tolist() == [2, 4]
    with pytest.raises(ValueError, match="out of range"):
        explicit([0, 1], [5], n=5)
    with pytest.raises(ValueError, match="out of range"):
        explicit([-1, 1], [2], n=5)
    with pytest.raises(ValueError, match="both train and test: \\[1\\]"):
        explicit([0, 1], [1, 2], n=5)
    with pytest.raises(ValueError, match="duplicates: \\[0\\]"):
        explicit([0, 0, 1], [2], n=5)
    with pytest.raises(ValueError, match="integers"):
        explicit([0, 1.5], [2], n=5)
    with pytest.raises(ValueError, match="empty"):
        explicit([], [2], n=5)


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def test_score_hand_computed_gaussian():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    pred = Prediction.gaussian(np.array([0.5, 1.0, 2.0, 5.0]), 0.0, 1.0)  # errors 0.5, 0, 0, 2; std 1
    m = score(y, pred, sigma_all=2.0)
    z90 = stats.norm.ppf(0.95)  # 1.6449
    assert m["rmse"] == pytest.approx(math.sqrt((0.25 + 4.0) / 4))
    assert m["rmse_over_sigma_all"] == pytest.approx(m["rmse"] / 2.0)
    assert m["mae"] == pytest.approx(0.625)
    assert m["coverage_90"] == pytest.approx(0.75)  # the error of 2 > 1.645 falls outside
    assert m["mean_interval_width_90"] == pytest.approx(2 * z90)
    assert m["nlpd"] == pytest.approx(0.5 * math.log(2 * math.pi) + 0.5 * (0.25 + 4.0) / 4)
    assert m["r2"] == pytest.approx(1 - 4.25 / 5.0)
    assert m["spearman"] == pytest.approx(1.0)
    assert m["n_test"] == 4

    one = score([1.0], Prediction.gaussian(np.array([1.5]), 0.0, 1.0), sigma_all=1.0)
    assert math.isnan(one["r2"]) and math.isnan(one["spearman"]) and one["n_test"] == 1
    assert one["rmse"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="sigma_all"):
        score(y, pred, sigma_all=0.0)
    with pytest.raises(ValueError, match="4 test values"):
        score(y, Prediction.gaussian(np.zeros(3), 0.0, 1.0), sigma_all=1.0)


def test_mean_metrics_and_json_safe():
    rows = [{"rmse": 1.0, "r2": math.nan, "n_test": 3, "n_train": 10, "fit_seconds": 0.5},
            {"rmse": 3.0, "r2": 0.5, "n_test": 4, "n_train": 20, "fit_seconds": 1.0}]  # fmt: skip
    mean = mean_metrics(rows)
    assert mean == {"n_splits": 2, "rmse": 2.0, "r2": 0.5, "n_test": 7, "n_train": 15.0, "fit_seconds": 1.5}
    assert json_safe({"a": math.nan, "b": np.float32(2.0), "c": [np.int64(1), math.inf]}) == {"a": None, "b": 2.0, "c": [1, None]}


# --------------------------------------------------------------------------------------------
# the evaluation loop (Python API, no Hydra)
# --------------------------------------------------------------------------------------------


class _LeastSquares(PropertyModel):
    """Tiny model: ordinary least squares on given columns, residual std as the noise."""

    def __init__(self, columns, seed=0):
        self.columns = columns
        self.seed = seed

    def _fit(self, X, y, noise_sd):
        A = np.column_stack([np.ones(len(X)), X[list(self.columns)].to_numpy(float)])
        self.coef_, *_ = np.linalg.lstsq(A, y, rcond=None)
        self.noise_ = float(np.std(y - A @ self.coef_)) + 1e-3

    def _predict(self, X, n_draws, noise_seed, for_acquisition):
        A = np.column_stack([np.ones(len(X)), X[list(self.columns)].to_numpy(float)])
        return Prediction.gaussian(A @ self.coef_, 0.0, self.noise_)


def _smiles() -> list[str]:
    out = ["C" * n for n in range(1, 13)]
    out += ["C" * n + "O" for n in range(1, 11)]
    out += ["C" * n + "N" for n in range(1, 11)]
    out += ["C" * n + "C(=O)O" for n in range(0, 9)]
    out += ["c1ccccc1" + "C" * k for k in range(0, 8)]
    out += ["[*]CC([*])C", "[*]CC([*])c1ccccc1", "[*]CCO[*]"]
    return out


def _frame(seed: int = 0) -> pd.DataFrame:
    """A dataset file with three descriptor columns, a linear target and a few bad rows."""
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    smiles = _smiles()
    mols = [Chem.MolFromSmiles(s.replace("[*]", "[H]")) for s in smiles]
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "smiles": smiles,
        "mw": [Descriptors.MolWt(m) for m in mols],
        "tpsa": [Descriptors.TPSA(m) for m in mols],
        "logp": [Descriptors.MolLogP(m) for m in mols],
    })  # fmt: skip
    frame["y"] = 0.05 * frame["mw"] + 0.03 * frame["tpsa"] - 0.3 * frame["logp"] + rng.normal(0, 0.2, len(frame))
    frame.loc[3, "y"] = np.nan  # missing target
    frame.loc[5, "tpsa"] = np.nan  # missing descriptor
    frame.loc[7, "smiles"] = "C1CC"  # invalid SMILES (unclosed ring)
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def data(frame):
    return prepare_dataset(frame, "smiles", "y", descriptors=["mw", "tpsa", "logp"], progress=False)


def test_prepare_dataset_precomputed_drops_and_counts(frame, data):
    assert data.n_rows == len(frame)
    assert data.dropped == {"missing_target": 1, "missing_descriptor": 1, "invalid": 1}
    assert sorted(data.dropped_rows.index) == [3, 5, 7]
    assert data.n_usable == len(frame) - 3
    assert 3 not in data.table.index and 8 in data.table.index  # index = file row
    assert np.allclose(data.y, frame.loc[data.table.index, "y"])
    assert data.sigma_all == pytest.approx(frame["y"].dropna().std(ddof=0))
    assert {"has_O", "aromatic_ring"} <= set(data.table.columns)  # categories from SMILES
    assert data.table.loc[data.table["input"] == "[*]CC([*])C", "is_polymer"].all()
    no_cats = prepare_dataset(frame, "smiles", "y", descriptors=["mw"], categories=False)
    assert "has_O" not in no_cats.table.columns and no_cats.dropped == {"missing_target": 1, "invalid": 1}


def _with_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The dataset with two category columns of its own; row 9's `acidic` is undefined."""
    out = frame.copy()
    out["ring_flag"] = out["smiles"].str.contains("c1").astype(int)
    out["acidic"] = out["smiles"].str.contains("C(=O)O", regex=False).astype(float)
    out.loc[9, "acidic"] = np.nan
    return out


def test_prepare_dataset_takes_the_datasets_own_category_columns(frame):
    own = _with_categories(frame)
    data = prepare_dataset(own, "smiles", "y", descriptors=["mw", "tpsa"], category_columns=["ring_flag", "acidic"])
    assert data.categories == ["ring_flag", "acidic"] and data.summary()["categories"] == ["ring_flag", "acidic"]
    assert not {"has_O", "aromatic_ring"} & set(data.table.columns)  # instead of the computed ones
    # an undefined category leaves the molecule out, as the paper's code does (NaN terms)
    assert data.dropped == {"missing_target": 1, "missing_descriptor": 1, "invalid": 1, "undefined_category": 1}
    assert data.dropped_rows.loc[9, "error"] == "undefined category acidic"
    usable = own.loc[data.table.index]
    assert data.table["acidic"].tolist() == usable["acidic"].tolist() and set(data.table["acidic"]) == {0.0, 1.0}
    assert data.table["ring_flag"].tolist() == usable["ring_flag"].tolist()

    # the model is told which columns are the categories
    factory = model_factory("pls_ilr", seed=0, descriptors=data.descriptors, categories=data.categories)
    assert factory.kwargs["categories"] == ["ring_flag", "acidic"]
    assert "categories" not in model_factory("pls_qm", seed=0, categories=data.categories).kwargs
    model = factory().fit(data.table, data.y)
    assert model.features_.categories_ == ["ring_flag", "acidic"]

    bad = own.copy()
    bad.loc[4, "ring_flag"] = 2
    with pytest.raises(ValueError, match=r"category column 'ring_flag' must hold 0 or 1.*rows \[4\]"):
        prepare_dataset(bad, "smiles", "y", descriptors=["mw"], category_columns=["ring_flag"])
    with pytest.raises(ValueError, match="both a descriptor and a category"):
        prepare_dataset(own, "smiles", "y", descriptors=["mw", "acidic"], category_columns=["acidic"])
    with pytest.raises(ValueError, match="cannot also be a category"):
        prepare_dataset(own, "smiles", "y", descriptors=["mw"], category_columns=["y"])
    with pytest.raises(ValueError, match="need precomputed descriptors"):
        prepare_dataset(own, "smiles", "y", category_columns=["acidic"])


def test_prepare_dataset_errors(frame, tmp_path):
    bad = frame.copy()
    bad["y"] = bad["y"].astype(object)
    bad.loc[10, "y"] = "n/a"
    with pytest.raises(ValueError, match=r"non-numeric value\(s\) at rows \[10\]"):
        prepare_dataset(bad, "smiles", "y", descriptors=["mw"])
    with pytest.raises(ValueError, match="no column"):
        prepare_dataset(frame, "smiles", "nope", descriptors=["mw"])
    with pytest.raises(ValueError, match="no column"):
        prepare_dataset(frame, "smiles", "y", descriptors=["mw", "missing"])
    with pytest.raises(ValueError, match="cannot also be a descriptor"):
        prepare_dataset(frame, "smiles", "y", descriptors=["mw", "y"])
    with pytest.raises(FileNotFoundError):
        prepare_dataset(tmp_path / "absent.csv", "smiles", "y", descriptors=["mw"])


def test_evaluate_loop_with_tiny_model(data, tmp_path):
    splits = make_splits(data, "upper_tail", seed=0, n_in=25, quantile=0.7)
    result = evaluate(data.table, data.y, lambda: _LeastSquares(["mw", "tpsa", "logp"]), splits, sigma_all=data.sigma_all)
    (row,) = result.splits
    assert row["split"] == "upper_tail" and row["n_train"] == 25
    assert row["n_test"] == len(result.predictions) > 0
    assert row["rmse_over_sigma_all"] < 0.5  # the target is linear in the descriptors
    p = result.predictions
    assert list(p.columns) == ["row", "smiles", "y_true", "mean", "std", "lower_90", "upper_90", "split"]
    assert (p["y_true"] > row["train_max"]).all()
    assert set(p["row"]) <= set(data.table.index)
    assert np.allclose(p["y_true"], pd.Series(data.y, index=data.table.index).loc[p["row"]])
    assert (p["lower_90"] < p["mean"]).all() and (p["mean"] < p["upper_90"]).all()

    folds = make_splits(data, "random", seed=1, k=4)
    cv = evaluate(data.table, data.y, lambda: _LeastSquares(["mw", "tpsa", "logp"]), folds)
    assert cv.mean["n_splits"] == 4 and cv.mean["n_test"] == data.n_usable
    assert sorted(cv.predictions["row"]) == sorted(data.table.index)

    assert row["warnings"] == []

    class Noisy(_LeastSquares):
        def _fit(self, X, y, noise_sd):
            warnings.warn("few effective draws", UserWarning, stacklevel=1)
            super()._fit(X, y, noise_sd)

    noisy = evaluate(data.table, data.y, lambda: Noisy(["mw"]), splits)
    assert noisy.splits[0]["warnings"] == ["UserWarning: few effective draws"]

    metrics_path, predictions_path = write_outputs(result, tmp_path / "out", {"seed": 0})
    written = json.loads(metrics_path.read_text())
    assert written["seed"] == 0 and written["splits"][0]["n_test"] == row["n_test"]
    assert len(pd.read_csv(predictions_path)) == row["n_test"]


def test_make_splits_indices_maps_file_rows(data):
    (split,) = make_splits(data, "indices", train=[0, 1, 2, 3, 4, 6, 8, 9, 10, 11], test=[5, 7, 12, 13])
    assert data.file_rows(split.train).tolist() == [0, 1, 2, 4, 6, 8, 9, 10, 11]  # row 3 has no target
    assert data.file_rows(split.test).tolist() == [12, 13]  # 5 and 7 were dropped
    assert split.info["dropped_train_rows"] == [3] and split.info["dropped_test_rows"] == [5, 7]
    with pytest.raises(ValueError, match="none of the test rows is usable"):
        make_splits(data, "indices", train=[0, 1, 2], test=[3, 5])
    with pytest.raises(ValueError, match="out of range"):
        make_splits(data, "indices", train=[0, 1], test=[data.n_rows])
    with pytest.raises(ValueError, match="unknown split setting 'quantiel'"):
        make_splits(data, "upper_tail", n_in=10, quantiel=0.8)
    with pytest.raises(ValueError, match="unknown split"):
        make_splits(data, "scaffold")
    assert len(make_splits(data, "cluster", seed=0, n_in=10, n_clusters=3, test_cluster="all")) == 3
    assert make_splits(data, "dissimilar", seed=0, n_in=10)[0].test.size == round(0.1 * data.n_usable)


@needs_baselines
def test_model_factory_passes_only_accepted_kwargs():
    pls = model_factory("pls_ilr", {"n_components": 3}, seed=5, descriptors=["mw"])
    assert pls.kwargs == {"n_components": 3, "seed": 5, "descriptors": ["mw"]}
    rf = model_factory("rf_morgan", {}, seed=5, descriptors=["mw"])
    assert rf.kwargs == {"seed": 5}  # no `descriptors` parameter
    assert model_factory("pls_ilr", {"seed": 9}, seed=5).kwargs == {"seed": 9}
    with pytest.raises(ValueError, match="unknown key 'model.params.n_comp'"):
        model_factory("pls_ilr", {"n_comp": 3})
    with pytest.raises(ValueError, match="unknown model"):
        model_factory("nope")


# --------------------------------------------------------------------------------------------
# the Hydra app, end to end
# --------------------------------------------------------------------------------------------


def _run_app(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "discovery.evaluate", f"hydra.run.dir={tmp_path / 'hydra'}", *overrides]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def dataset_csv(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("data") / "small.csv"
    frame.to_csv(path, index=False)
    return path


@needs_baselines
def test_app_upper_tail_precomputed(tmp_path, dataset_csv, frame):
    out = tmp_path / "out"
    proc = _run_app(
        tmp_path, f"dataset.path={dataset_csv}", "dataset.smiles_col=smiles", "dataset.target_col=y",
        "features=precomputed", "features.columns=[mw,tpsa,logp]", "split=upper_tail", "split.n_in=25",
        "model=pls_ilr", "seed=0", f"output_dir={out}",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pls_ilr on small.csv [upper_tail, seed 0]" in proc.stdout
    assert "missing_target" in proc.stdout and "invalid" in proc.stdout

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"]["name"] == "pls_ilr"
    assert metrics["model"]["kwargs"] == {"seed": 0, "descriptors": ["mw", "tpsa", "logp"]}
    assert metrics["split"] == {"name": "upper_tail", "n_in": 25, "quantile": 0.8, "direction": "max"}
    assert metrics["seed"] == 0 and metrics["fit_seconds"] >= 0
    assert metrics["dataset"]["dropped"] == {"missing_target": 1, "missing_descriptor": 1, "invalid": 1}
    assert metrics["dataset"]["sigma_all"] == pytest.approx(frame["y"].dropna().std(ddof=0))
    (split,) = metrics["splits"]
    for key in ("rmse", "rmse_over_sigma_all", "mae", "r2", "spearman", "coverage_90",
                "mean_interval_width_90", "nlpd", "n_test", "n_train"):  # fmt: skip
        assert key in split and key in metrics["mean"]
    assert split["n_train"] == 25

    pred = pd.read_csv(out / "predictions.csv")
    assert list(pred.columns) == ["row", "smiles", "y_true", "mean", "std", "lower_90", "upper_90", "split"]
    assert len(pred) == split["n_test"]
    assert (pred["smiles"] == frame.loc[pred["row"], "smiles"].to_numpy()).all()
    assert np.allclose(pred["y_true"], frame.loc[pred["row"], "y"])
    assert (pred["y_true"] > split["train_max"]).all()
    inside = ((pred["y_true"] >= pred["lower_90"]) & (pred["y_true"] <= pred["upper_90"])).mean()
    assert split["coverage_90"] == pytest.approx(inside)


@needs_baselines
def test_app_takes_category_columns_from_the_dataset(tmp_path, frame):
    path = tmp_path / "own.csv"
    _with_categories(frame).to_csv(path, index=False)
    out = tmp_path / "out"
    common = [f"dataset.path={path}", "dataset.target_col=y", "split=upper_tail", "split.n_in=25", "model=pls_ilr"]
    proc = _run_app(tmp_path, *common, "features=precomputed", "features.columns=[mw,tpsa,logp]",
                    "features.category_columns=[ring_flag,acidic]", f"output_dir={out}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"]["kwargs"]["categories"] == ["ring_flag", "acidic"]
    assert metrics["features"]["category_columns"] == ["ring_flag", "acidic"]
    assert metrics["dataset"]["dropped"]["undefined_category"] == 1

    proc = _run_app(tmp_path, *common, "features.category_columns=[acidic]", f"output_dir={tmp_path / 'qm'}")
    assert proc.returncode == 2 and "features.category_columns needs features=precomputed" in proc.stdout + proc.stderr


@needs_baselines
def test_app_explicit_indices(tmp_path, dataset_csv, frame):
    train = [i for i in range(0, 40)]
    test = [40, 41, 42, 43, 44, 45]
    index_file = tmp_path / "split.json"
    index_file.write_text(json.dumps({"train": train, "test": test}))
    common = [f"dataset.path={dataset_csv}", "dataset.target_col=y", "features=precomputed",
              "features.columns=[mw,tpsa,logp]", "model=pls_ilr", "split=indices"]  # fmt: skip

    proc = _run_app(tmp_path, *common, f"split.file={index_file}", f"output_dir={tmp_path / 'a'}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    (split,) = metrics["splits"]
    assert split["split"] == "indices" and split["n_test"] == 6
    assert split["n_train"] == 37  # rows 3, 5 and 7 were dropped
    assert split["info"]["dropped_train_rows"] == [3, 5, 7]
    pred = pd.read_csv(tmp_path / "a" / "predictions.csv")
    assert sorted(pred["row"]) == test and (pred["split"] == "indices").all()

    # the same split given inline
    proc = _run_app(tmp_path, *common, f"split.train=[{','.join(map(str, train))}]",
                    f"split.test=[{','.join(map(str, test))}]", f"output_dir={tmp_path / 'b'}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = pd.read_csv(tmp_path / "b" / "predictions.csv")
    assert np.allclose(again["mean"], pred["mean"])

    # overlapping indices: a clear error, exit status 2
    proc = _run_app(tmp_path, *common, "split.train=[0,1,2]", "split.test=[2,40]", f"output_dir={tmp_path / 'c'}")
    assert proc.returncode == 2
    assert "both train and test: [2]" in proc.stdout + proc.stderr
