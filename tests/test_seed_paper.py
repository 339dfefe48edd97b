"""PLS-ILR with the paper's design reproduces the seed paper's FreeSolv figures (its own data and splits)."""

import numpy as np
import pytest

from discovery.datasets.seed_paper import DEFAULT_DIRECTORY, TARGET, load_seed_paper_benchmark
from discovery.evaluation import prepare_dataset
from discovery.features.interactions import MinorityRule, choose_categories
from discovery.model.baselines import PLSILR

pytestmark = pytest.mark.skipif(not DEFAULT_DIRECTORY.is_dir(),
                                reason=f"the seed paper's benchmark files are not at {DEFAULT_DIRECTORY}")


@pytest.fixture(scope="module")
def benchmark():
    return load_seed_paper_benchmark()


def test_the_benchmark_reads_as_the_paper_describes_it(benchmark):
    assert len(benchmark.table) == 631 and len(benchmark.descriptors) == 22 and len(benchmark.categories) == 44
    assert benchmark.descriptors[0] == "mw" and benchmark.categories[0] == "polar"
    assert [s.name for s in benchmark.splits][:4] == ["property/500", "property/200", "property/100", "property/50"]
    # the 22 raw descriptors, and an intercept and each descriptor times the 36 kept category levels
    kept = choose_categories(benchmark.table, benchmark.categories, 0.1, MinorityRule.MORE_THAN)
    assert len(kept) == 18
    design = PLSILR(descriptors=benchmark.descriptors, categories=kept, screen_categories=False, standardize=False)
    design.fit(benchmark.table.iloc[:100], benchmark.table[TARGET].to_numpy()[:100])
    assert len(design.features_.feature_names_out_) == 22 + 23 * 36 == 850
    with pytest.raises(FileNotFoundError, match="shared/benchmarks/qmex_dgs beside the checkout"):
        load_seed_paper_benchmark(DEFAULT_DIRECTORY / "absent")


def test_pls_ilr_with_the_paper_design_reproduces_the_papers_rmse(benchmark):
    data = prepare_dataset(benchmark.table, "smiles", TARGET, descriptors=benchmark.descriptors,
                           category_columns=benchmark.categories)
    assert data.n_usable == 631  # every molecule parses and every category is defined
    # chosen on all 631 molecules (their structures, not their targets), as the paper does
    kept = choose_categories(data.table, data.categories, 0.1, MinorityRule.MORE_THAN)
    for split in benchmark.splits:
        model = PLSILR(descriptors=data.descriptors, categories=kept, screen_categories=False, standardize=False)
        model.fit(data.table.iloc[split.train], data.y[split.train])
        error = model.predict(data.table.iloc[split.test]).mean - data.y[split.test]
        rmse = float(np.sqrt(np.mean(error**2)))
        assert rmse == pytest.approx(split.paper_rmse, abs=0.01), split.name
