"""BayesianILR from N = 20 to N = 5,000 molecules and up to ~2,000 design columns: fit time and
accuracy of each inference method on synthetic data with a known sparse truth.

    python scripts/benchmarks/bayes_scaling.py [--sizes 20x100 200x1000 1000x2000 5000x2000]
        [--methods nutpie advi] [--nutpie-max-rows 1000] [--out scripts/benchmarks/results/bayes_scaling.json]

Each size NxP draws N training rows of correlated descriptors and binary categories (P design
columns = descriptors + descriptors x categories) and a target with two main effects, two
interactions and noise SD 0.5; 1,000 test rows come from the same distribution. Reported per
fit: wall time (numba compile included, no extrapolation rehearsal: this measures inference),
test RMSE (0.5 is the noise floor, i.e. perfect), 90 % interval coverage and sampler health.
NUTS is skipped above --nutpie-max-rows (its cost per step grows with N x P).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.evaluation import json_safe
from discovery.files import atomic_write_text
from discovery.model.bayes import BayesianILR

NOISE_SD = 0.5


def synthetic(n: int, n_descriptors: int, n_categories: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """(table of descriptors d0.. and 0/1 categories c0.., noise-free target) for n rows; the
    descriptors share 5 latent factors, like correlated QM descriptors do."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(12345).normal(size=(5, n_descriptors))  # same structure for train and test
    rates = np.random.default_rng(54321).uniform(0.15, 0.6, n_categories)
    D = rng.normal(size=(n, 5)) @ mixing + rng.normal(size=(n, n_descriptors))
    C = (rng.random((n, n_categories)) < rates).astype(int)
    X = pd.concat([pd.DataFrame(D, columns=[f"d{i}" for i in range(n_descriptors)]),
                   pd.DataFrame(C, columns=[f"c{j}" for j in range(n_categories)])], axis=1)
    f = 2.0 * D[:, 0] - 1.0 * D[:, 1] + 1.5 * D[:, 2] * C[:, 0] - 1.0 * D[:, 3] * C[:, 1]
    return X, f


def shape_for(columns: int) -> tuple[int, int]:
    """(descriptors, categories) giving about `columns` design columns (d + d*c)."""
    n_descriptors = 10 if columns <= 200 else 20 if columns <= 1000 else 40
    return n_descriptors, max(1, round(columns / n_descriptors) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["20x100", "200x1000", "1000x2000", "5000x2000"])
    parser.add_argument("--methods", nargs="+", default=["nutpie", "advi"], choices=["nutpie", "advi", "pymc"])
    parser.add_argument("--nutpie-max-rows", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bayes_scaling.json")
    args = parser.parse_args()
    report = {"noise_sd": NOISE_SD, "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "fits": []}
    for size in args.sizes:
        n, columns = (int(v) for v in size.split("x"))
        n_descriptors, n_categories = shape_for(columns)
        X, f = synthetic(n, n_descriptors, n_categories, seed=0)
        y = f + np.random.default_rng(1).normal(0, NOISE_SD, n)
        X_test, f_test = synthetic(1000, n_descriptors, n_categories, seed=2)
        y_test = f_test + np.random.default_rng(3).normal(0, NOISE_SD, len(f_test))
        for method in args.methods:
            if method != "advi" and n > args.nutpie_max_rows:
                continue
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = BayesianILR(
                    descriptors=[f"d{i}" for i in range(n_descriptors)], categories=[f"c{j}" for j in range(n_categories)],
                    sampler={"method": method}, calibration={"method": "none"}, seed=0,
                ).fit(X, y)
            seconds = time.perf_counter() - start
            prediction = model.predict(X_test)
            low, high = prediction.quantiles([0.05, 0.95])
            d = model.diagnostics_
            entry = {
                "n": n, "design_columns": len(model.columns_), "method": method, "fit_s": round(seconds, 1),
                "test_rmse": round(float(np.sqrt(np.mean((prediction.mean - y_test) ** 2))), 3),
                "coverage_90": round(float(np.mean((y_test >= low) & (y_test <= high))), 3),
                "target_sd": round(float(np.std(y_test)), 2),
                **{k: getattr(d, k) for k in ("max_rhat", "min_ess_bulk", "divergences")},
            }
            entry = json_safe(entry)
            report["fits"].append(entry)
            print(json.dumps(entry), flush=True)
            atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")  # partial results after every fit


if __name__ == "__main__":
    main()
