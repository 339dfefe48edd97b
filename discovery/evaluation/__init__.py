"""Score any configured property model on any dataset: loading, featurising, splitting, scoring.

Plain functions, no Hydra; `python -m discovery.evaluate` is a thin command-line wrapper. A
benchmark script prepares each dataset once and reuses it for every model, split and seed:

    from discovery.evaluation import evaluate, make_splits, model_factory, prepare_dataset, write_outputs

    data = prepare_dataset("logp.csv", "smiles", "logp", qm="fast", cache="default")  # featurised once
    # or: prepare_dataset(frame, "smiles", "y", descriptors=["a", "b"])  (precomputed columns)
    for seed in range(5):
        splits = make_splits(data, "upper_tail", seed=seed, n_in=200)
        result = evaluate(data.table, data.y, model_factory("pls_ilr", seed=seed), splits,
                          sigma_all=data.sigma_all)
        print(result.mean["rmse_over_sigma_all"], result.mean["coverage_90"])
        write_outputs(result, f"out/logp/pls_ilr/{seed}", {"dataset": data.summary()})

Modules: `loading` (files, columns), `precomputed`, `dataset` (`prepare_dataset`; row bookkeeping),
`splits` (split algorithms and their parameters), `named_splits` (`make_splits`), `factory`,
`metrics`, `runner`, `settings` (the schema of the command-line app).
"""

from discovery.evaluation.dataset import Dataset, prepare_dataset
from discovery.evaluation.factory import ModelFactory, model_factory
from discovery.evaluation.loading import load_table
from discovery.evaluation.metrics import METRIC_NAMES, json_safe, mean_metrics, score
from discovery.evaluation.named_splits import make_splits
from discovery.evaluation.precomputed import precomputed_features
from discovery.evaluation.runner import EvaluationResult, evaluate, write_outputs
from discovery.evaluation.splits import (
    Split,
    SplitKind,
    dissimilar,
    explicit,
    max_similarity_to_others,
    property_range,
    random_kfold,
    structure_cluster,
    upper_tail,
)

__all__ = [
    "METRIC_NAMES", "Dataset", "EvaluationResult", "ModelFactory", "Split", "SplitKind",
    "dissimilar", "evaluate", "explicit", "json_safe", "load_table", "make_splits",
    "max_similarity_to_others", "mean_metrics", "model_factory", "precomputed_features",
    "prepare_dataset", "property_range", "random_kfold", "score", "structure_cluster",
    "upper_tail", "write_outputs",
]  # fmt: skip
