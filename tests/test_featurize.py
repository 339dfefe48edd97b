"""`featurize` end to end: real RDKit + GFN2-xTB, the SQLite cache, local and Dask execution."""

import numpy as np
import pandas as pd
import pytest

from discovery.features import CATEGORY_NAMES, DescriptorCache, QMSettings, descriptor_names, featurize

BATCH = pd.Series(
    ["CCO", "not-a-smiles", "[*]CC[*]", "[*]CC", "OCC", "c1ccccc1C#N"],
    index=["ethanol", "junk", "PE", "one-star", "ethanol-again", "benzonitrile"],
)


@pytest.fixture(scope="module")
def featurized(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache") / "descriptors.sqlite"
    first = featurize(BATCH, "fast", cache=path, n_workers=2, progress=False)
    second = featurize(BATCH, "fast", cache=path, n_workers=2, progress=False)
    return path, first, second


def test_rows_keep_the_input_index_and_say_their_status(featurized):
    _, df, _ = featurized
    assert list(df.index) == list(BATCH.index)
    assert df.loc["ethanol", "status"] == "ok"
    assert df.loc["PE", "status"] == "ok" and bool(df.loc["PE", "is_polymer"])
    assert df.loc["junk", "status"] == "invalid" and "unparsable" in df.loc["junk", "error"]
    assert df.loc["one-star", "status"] == "invalid"
    assert "exactly two attachment points" in df.loc["one-star", "error"]


def test_nan_only_where_status_says_so(featurized):
    _, df, _ = featurized
    names = descriptor_names(QMSettings())
    ok = df["status"] == "ok"
    assert np.isfinite(df.loc[ok, names].to_numpy()).all()
    assert df.loc[~ok, names].isna().all().all()
    assert set(CATEGORY_NAMES) <= set(df.columns)
    assert (df.loc[ok, list(CATEGORY_NAMES)].isin([0, 1])).all().all()


def test_duplicates_are_computed_once_and_agree(featurized):
    _, df, _ = featurized
    names = descriptor_names(QMSettings())
    assert df.attrs["featurize"]["unique"] == 3
    assert df.loc["ethanol", names].tolist() == df.loc["ethanol-again", names].tolist()


def test_cache_hit_equals_miss_and_costs_no_qm(featurized):
    path, first, second = featurized
    assert first.attrs["featurize"]["computed"] == 3
    assert second.attrs["featurize"]["cache_hits"] == 3
    assert second.attrs["featurize"]["computed"] == 0
    pd.testing.assert_frame_equal(first, second)
    with DescriptorCache(path) as cache:
        assert len(cache) == 3


def test_changed_settings_do_not_reuse_the_cache(featurized):
    path, _, _ = featurized
    other = featurize(["CCO"], QMSettings(n_conformers=2), cache=path, n_workers=1, progress=False)
    assert other.attrs["featurize"]["computed"] == 1


def test_a_polymer_only_setting_recomputes_polymers_and_keeps_molecules(featurized):
    path, _, _ = featurized
    other = featurize(["CCO", "[*]CC[*]"], QMSettings(oligomer_max_heavy_atoms=4), cache=path, n_workers=1, progress=False)
    assert other.attrs["featurize"]["cache_hits"] == 1  # ethanol
    assert other.attrs["featurize"]["computed"] == 1  # polyethylene, now a dimer


def test_qm_failure_is_recorded_and_cached(cache_path):
    settings = QMSettings(max_scf_iterations=1)
    df = featurize(["c1ccccc1O", "C"], settings, cache=cache_path, n_workers=1, progress=False)
    assert (df["status"] == "failed").all()
    assert df["error"].str.contains("SCF failed").all()
    again = featurize(["c1ccccc1O"], settings, cache=cache_path, n_workers=1, progress=False)
    assert again.attrs["featurize"]["cache_hits"] == 1 and again.loc[0, "status"] == "failed"


def test_timeout_loses_only_that_molecule_and_is_not_cached(cache_path):
    settings = QMSettings(timeout_s=0.5)
    df = featurize(["CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"], settings, cache=cache_path, n_workers=1, progress=False)
    assert df.loc[0, "status"] == "timeout"
    assert "timeout" in df.loc[0, "error"]
    with DescriptorCache(cache_path) as cache:
        assert len(cache) == 0


def test_dask_path_equals_local_path(cache_path):
    distributed = pytest.importorskip("distributed")
    smiles = ["CCO", "[*]CC([*])C", "c1ccncc1"]
    local = featurize(smiles, "fast", cache=None, n_workers=1, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  env={"OMP_NUM_THREADS": "1"}) as cluster, distributed.Client(cluster) as client:
        remote = featurize(smiles, "fast", cache=None, dask_client=client, progress=False)
    names = descriptor_names(QMSettings())
    assert (remote["status"] == "ok").all()
    np.testing.assert_allclose(remote[names].to_numpy(), local[names].to_numpy(), rtol=1e-8, atol=1e-10)
