"""`python -m discovery.evaluate`: score a configured model on a dataset file (extrapolation benchmark).

    python -m discovery.evaluate dataset.path=FILE dataset.smiles_col=smiles dataset.target_col=y \\
        split=upper_tail split.n_in=200 model=bayes_ilr seed=0

Config keys (a stable interface; `conf/evaluate.yaml` and its groups, schema
`discovery.evaluation.settings.EvaluateSettings`):

    dataset.path          CSV file (.tsv / .parquet too); relative: working dir, then the checkout
    dataset.smiles_col    column of SMILES or polymer PSMILES (default "smiles")
    dataset.target_col    column of the numeric target (rows without a value are dropped and
                          counted; any non-numeric value is an error)
    seed                  seeds the split and the model (passed as `seed=` if the model takes it)
    model=NAME            bayes_ilr | pls_ilr | pls_qm | gp_tanimoto | rf_morgan | krr_qm
    model.params          constructor kwargs, e.g. `model.params.n_components=4` (checked when the
                          config is loaded)
    features=qm           GFN2-xTB descriptors from the SMILES with the `qm` settings, cached
    features=precomputed  features.columns=[a,b,c]: these dataset columns are the descriptors
                          (no QM); passed to the model as `descriptors=` if it accepts that
    features.category_columns
                          precomputed: [c1,c2]: these dataset columns (0/1, empty where undefined:
                          the row is dropped) are the chemical categories instead of computed
                          ones; passed to the model as `categories=` if it accepts that
    features.categories   chemical-category columns from the SMILES (default true; no QM)
    qm=fast|full          QM preset; qm.<field> overrides a `QMSettings` field
    split=random          split.k=5, split.n_in=null (subsample each fold's training rows)
    split=property        split.n_in=200, split.lower_quantile=0.1, split.upper_quantile=0.9
    split=upper_tail      split.n_in=200, split.quantile=0.8, split.direction=max|min
    split=cluster         split.n_in=200, split.n_clusters=5, split.test_cluster=null|INT|all
    split=dissimilar      split.n_in=200, split.test_fraction=0.1, split.radius=2, split.n_bits=2048
    split=indices         split.train=[...] split.test=[...] (0-based row positions of the file)
                          or split.file=PATH to JSON {"train": [...], "test": [...]}
    output_dir            where metrics.json and predictions.csv go (default: Hydra's run dir)
    cache_path            descriptor cache (default: <state_dir>/cache/descriptors.sqlite)
    n_workers             local featurisation processes (null: all cores)
    dask_address          Dask scheduler to featurise on a cluster (null: local)
    progress              featurisation progress bar
    state_dir             root of default run directories and cache (default discovery-runs)

Outputs in `output_dir`:

* `metrics.json`: `dataset` (path, columns, rows, usable rows, σ_all, rows dropped by reason
  with examples), `model` (name, params, effective constructor kwargs), `split` (the config),
  `features`, `qm` (for features=qm), `seed`, `fit_seconds` (total), `splits` (one entry per
  split: `split`, `n_train`, `n_test`, rmse, rmse_over_sigma_all, mae, r2, spearman,
  coverage_90, mean_interval_width_90, nlpd, fit/predict seconds, training target range,
  split info, model warnings) and `mean` (over splits; n_test and seconds summed). NaN is written as null.
* `predictions.csv`: row (0-based file row), smiles (as in the file), y_true, mean, std,
  lower_90, upper_90, split.

Exit status 2 with a one-line error for bad configuration (naming the key) or bad input (missing
file/column, non-numeric target, impossible split).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from discovery.config import run_app
from discovery.evaluation import evaluate, make_splits, model_factory, prepare_dataset, write_outputs
from discovery.evaluation.settings import EvaluateSettings, FeatureKind

log = logging.getLogger("discovery.evaluate")


def _fmt(value: float | None) -> str:
    return "nan" if value is None or value != value else f"{value:.3g}"


def run(cfg: DictConfig) -> Path:
    """Evaluate as configured; returns the path of metrics.json."""
    s = EvaluateSettings.from_config(cfg)
    precomputed = s.features.name is FeatureKind.PRECOMPUTED
    columns = list(s.features.columns) if precomputed else None
    category_columns = None if s.features.category_columns is None else list(s.features.category_columns)
    data = prepare_dataset(
        s.dataset.path, s.dataset.smiles_col, s.dataset.target_col, descriptors=columns,
        categories=s.features.categories, category_columns=category_columns, qm=None if precomputed else s.qm,
        cache=s.cache_path, n_workers=s.n_workers, dask_client=s.dask_address, progress=s.progress,
    )  # fmt: skip
    print(f"dataset {data.source}: {data.n_rows} rows, {data.n_usable} usable")
    for line in data.describe_drops():
        print(f"  {line}")

    splits = make_splits(data, s.split, seed=s.seed)
    factory = model_factory(s.model, seed=s.seed, descriptors=columns, categories=category_columns)
    result = evaluate(data.table, data.y, factory, splits, sigma_all=data.sigma_all)

    config = {
        "dataset": data.summary(),
        "model": {"name": factory.name, "params": s.model.params, "kwargs": factory.kwargs},
        "split": dataclasses.asdict(s.split),
        "features": {"name": s.features.name, "columns": columns, "category_columns": category_columns,
                     "categories": s.features.categories},
        "qm": data.qm,
        "seed": s.seed,
    }
    metrics_path, _ = write_outputs(result, s.output_dir, config)
    mean = result.mean
    print(
        f"{factory.name} on {Path(data.source).name} [{s.split.name}, seed {s.seed}]: "
        f"{mean['n_splits']} split(s), n_train {result.splits[0]['n_train']}, n_test {mean['n_test']}, "
        f"RMSE/σ_all {_fmt(mean['rmse_over_sigma_all'])}, spearman {_fmt(mean['spearman'])}, "
        f"coverage_90 {_fmt(mean['coverage_90'])}, NLPD {_fmt(mean['nlpd'])}, "
        f"fit {result.fit_seconds:.1f} s -> {metrics_path}"
    )
    return metrics_path


@hydra.main(config_path="../conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except (ValueError, FileNotFoundError) as exc:
        log.error("%s", exc)
        sys.exit(2)


if __name__ == "__main__":
    run_app(main)
