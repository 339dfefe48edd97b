"""BayesianILR fit time at N = 200 with ~1,000 interaction features (real descriptors).

    python scripts/benchmarks/bayes_fit.py [--n 200] [--min-fraction 0.03] [--target-accept 0.95 ...] [--seeds 0 ...]
        [--noise-floor 0.0 ...] [--polymers --cache PATH] [--calibration none tail_refit]
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
import pandas as pd

from discovery.datasets import load_property
from discovery.features import default_cache_path, featurize
from discovery.model.bayes import BayesianILR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--min-fraction", type=float, default=0.03)
    parser.add_argument("--target-accept", type=float, nargs="+", default=[0.95])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="sampler seeds")
    parser.add_argument("--noise-floor", type=float, nargs="+", default=[0.0],
                        help="prior.noise_floor values, target units (log units for the polymers)")
    parser.add_argument("--calibration", nargs="+", default=["none", "tail_refit"], choices=["none", "tail_refit"])
    parser.add_argument("--polymers", action="store_true",
                        help="fit the 45 seed polymers of polymer_dielectric instead (log target, campaign's category threshold)")
    parser.add_argument("--cache", type=Path, default=None, help="descriptor cache (default: the shared one)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "bayes_fit.json")
    args = parser.parse_args()
    if args.polymers:
        table = pd.read_csv(Path(__file__).parents[2] / "campaigns" / "polymer_dielectric" / "seed.csv")
        smiles, values, params = table["psmiles"], table["dielectric_constant"], {"target_transform": "log"}
    else:
        table = load_property("boiling_point_k")
        smiles, values, params = table["smiles"], table["value"], {"min_fraction": args.min_fraction}
    features = featurize(list(smiles), "fast", cache=args.cache or default_cache_path(), progress=False)
    ok = (features["status"] == "ok").to_numpy()
    X, y = features[ok].reset_index(drop=True), values.to_numpy()[ok]
    rows = np.arange(len(y)) if args.polymers else np.random.default_rng(0).choice(len(y), args.n, replace=False)
    report = {"data": "polymer_dielectric seed" if args.polymers else "boiling_point_k", "n": len(rows), "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "fits": []}
    runs = [(s, t, c, f) for s in args.seeds for t in args.target_accept for c in args.calibration for f in args.noise_floor]
    for seed, target_accept, calibration, noise_floor in runs:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = BayesianILR(calibration={"method": calibration}, sampler={"target_accept": target_accept},
                                prior={"noise_floor": noise_floor}, seed=seed, **params).fit(X.iloc[rows], y[rows])
        seconds = time.perf_counter() - start
        entry = {
            "seed": seed, "target_accept": target_accept, "calibration": calibration, "noise_floor": noise_floor,
            "n_features": len(model.columns_),
            "fit_s": round(seconds, 1),
            **{k: getattr(model.diagnostics_, k) for k in ("divergences", "n_draws", "max_rhat", "min_ess_bulk")},
            # where the time goes: numba compile, NUTS sampling (leapfrog steps per draw), rehearsal
            "compile_s": round(model.diagnostics_.compile_seconds, 1),
            "sampling_s": round(model.diagnostics_.sampling_seconds, 1),
            "leapfrog_steps_per_draw": round(model.diagnostics_.steps_per_draw, 1),
        }
        calibration_health = model.diagnostics_.calibration
        if calibration_health.applied:
            entry |= {k: round(getattr(calibration_health, k), 3)
                      for k in ("rehearsal_seconds", "rehearsal_max_rhat", "rehearsal_min_ess_bulk")}
        report["fits"].append(entry)
        print(json.dumps(entry), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
