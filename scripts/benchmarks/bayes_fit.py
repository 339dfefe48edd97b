"""BayesianILR fit time at N = 200 with ~1,000 interaction features (real descriptors).

    python scripts/benchmarks/bayes_fit.py [--n 200] [--min-fraction 0.03] [--target-accept 0.95 0.99]
        [--out scripts/benchmarks/results/bayes_fit.json]

Data: 200 random molecules of the public boiling-point table (GFN2-xTB `fast` descriptors, from
the cache). A low category threshold keeps enough categories for ~1,000 design columns. Times
are whole fits in one process (2 NUTS chains on the 2 cores): for each NUTS target acceptance
rate, without and with the extrapolation rehearsal; every fit includes nutpie's numba compilation.
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

from discovery.datasets import load_property
from discovery.features import featurize
from discovery.model.bayes_ilr import BayesianILR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--min-fraction", type=float, default=0.03)
    parser.add_argument("--target-accept", type=float, nargs="+", default=[0.95, 0.99])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bayes_fit.json")
    args = parser.parse_args()
    table = load_property("boiling_point_k")
    features = featurize(table["smiles"], "fast", progress=False)
    ok = (features["status"] == "ok").to_numpy()
    X, y = features[ok].reset_index(drop=True), table["value"].to_numpy()[ok]
    rows = np.random.default_rng(0).choice(len(y), args.n, replace=False)
    report = {"n": args.n, "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "fits": []}
    for target_accept, calibration in [(t, c) for t in args.target_accept for c in ("none", "tail_refit")]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BayesianILR(min_fraction=args.min_fraction, calibration={"method": calibration},
                                sampler={"target_accept": target_accept}).fit(X.iloc[rows], y[rows])
        seconds = time.perf_counter() - start
        entry = {
            "target_accept": target_accept, "calibration": calibration, "n_features": len(model.columns_),
            "fit_s": round(seconds, 1),
            **{k: model.diagnostics_[k] for k in ("divergences", "n_draws", "max_rhat", "min_ess_bulk")},
        }
        report["fits"].append(entry)
        print(json.dumps(entry), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
