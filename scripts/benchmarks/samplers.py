"""BayesianILR's posterior samplers side by side: fit time (rehearsal included), health, accuracy.

    python scripts/benchmarks/samplers.py [--problems boiling freesolv polymers synthetic]
        [--methods gibbs nutpie] [--seeds 0] [--freesolv-n-in 200] [--gibbs-max-draws N]
        [--out scripts/benchmarks/results/samplers.json]

Problems (each fitted by every method in turn, so the methods share the machine's state):
- `boiling`: 200 random molecules of the public boiling-point table, GFN2-xTB `fast` descriptors
  from the cache, `min_fraction` 0.03 (~840 design columns): the fit-time target's problem.
- `freesolv`: the seed paper's FreeSolv benchmark (`../shared/benchmarks/qmex_dgs/`), its own
  descriptors and categories, the three headline splits at each `--freesolv-n-in` (default 200);
  test RMSE and coverage.
- `polymers`: the 45 seed polymers of `polymer_dielectric` with the campaign's model settings
  (`conf/campaign/polymer_dielectric.yaml`: descriptors, log target, calibration, sampler budget).
- `synthetic`: N = 5,000 x 2,000 columns with a known sparse truth (Gibbs only; NUTS would take hours).
Health is the worst figure over the judged variables (alpha, sigma, tau, beta).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from discovery.files import atomic_write_text

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "benchmarks" / "qmex_dgs"
FREESOLV_DESCRIPTORS = ["mw", "Ne/Na", "homo", "lumo", "Eiv", "Eav", "Vm", "alpha", "alpha/Vm", "log10(R2)", "G",
                        "log10(Q)", "log10(RA)", "mu", "min(esp)", "max(esp)", "min(mbo)", "max(mbo)", "dEw", "dEo",
                        "dEacid", "dEbase"]


def problems(names: list[str], freesolv_n_in: tuple[int, ...] = (200,)) -> list[dict]:
    """(name, X_train, y_train, X_test or None, y_test or None, model params) of each problem."""
    out = []
    if "boiling" in names:
        from discovery.datasets import load_property
        from discovery.features import default_cache_path, featurize

        table = load_property("boiling_point_k")
        features = featurize(list(table["smiles"]), "fast", cache=default_cache_path(), progress=False)
        ok = (features["status"] == "ok").to_numpy()
        X, y = features[ok].reset_index(drop=True), table["value"].to_numpy()[ok]
        rows = np.random.default_rng(0).choice(len(y), 200, replace=False)
        out.append({"name": "boiling point, N = 200", "X": X.iloc[rows], "y": y[rows], "params": {"min_fraction": 0.03}})
    if "freesolv" in names:
        q = pd.read_csv(SHARED / "bench_dGs_with_qmex_predict.csv")
        c = pd.read_csv(SHARED / "bench_dGs_with_category.csv")
        categories = list(c.columns[c.columns.get_loc("polar"):])
        X = pd.concat([q[["smiles", *FREESOLV_DESCRIPTORS]], c[categories].fillna(0).astype(int)], axis=1)
        y = q["dGs"].to_numpy(float)
        splits = pd.read_csv(SHARED / "idx_bench_dGs.csv")
        for n_in in freesolv_n_in:
            for kind in ("property", "cluster", "similarity"):
                row = splits[(splits["extra"] == kind) & (splits["n_inter"] == n_in)].iloc[0]
                train, test = (np.array(ast.literal_eval(row[k])) for k in ("idx_inter", "idx_extra"))
                out.append({"name": f"FreeSolv {kind}, n_in = {n_in}", "X": X.iloc[train], "y": y[train],
                            "X_test": X.iloc[test], "y_test": y[test],
                            "params": {"descriptors": FREESOLV_DESCRIPTORS, "categories": categories}})
    if "polymers" in names:
        from discovery.features import featurize

        table = pd.read_csv(ROOT / "campaigns" / "polymer_dielectric" / "seed.csv")
        features = featurize(list(table["psmiles"]), "fast", cache=ROOT / "discovery-runs" / "cache" / "descriptors.sqlite",
                             progress=False)
        ok = (features["status"] == "ok").to_numpy()
        params = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "campaign" / "polymer_dielectric.yaml"))
        out.append({"name": "45 seed polymers", "X": features[ok].reset_index(drop=True),
                    "y": table["dielectric_constant"].to_numpy(float)[ok], "params": params["model"]["params"]})
    if "synthetic" in names:
        rng = np.random.default_rng(0)
        n, n_descriptors, n_categories = 5000, 40, 48
        D = rng.normal(size=(n, n_descriptors))
        C = (rng.random((n, n_categories)) < 0.4).astype(int)
        X = pd.concat([pd.DataFrame(D, columns=[f"d{i}" for i in range(n_descriptors)]),
                       pd.DataFrame(C, columns=[f"c{j}" for j in range(n_categories)])], axis=1)
        y = 2.0 * D[:, 0] - 1.0 * D[:, 1] + 1.5 * D[:, 2] * C[:, 0] + rng.normal(0, 0.5, n)
        out.append({"name": "synthetic, N = 5,000", "X": X, "y": y, "only": ["gibbs"],
                    "params": {"descriptors": [f"d{i}" for i in range(n_descriptors)],
                               "categories": [f"c{j}" for j in range(n_categories)]}})
    return out


def fit(problem: dict, method: str, seed: int, max_draws: int | None) -> dict:
    from discovery.model.bayes import BayesianILR

    params = dict(problem["params"])
    sampler = params.pop("sampler", {}) | {"method": method}
    if max_draws is not None and method == "gibbs":
        sampler["max_draws"] = max_draws
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianILR(seed=seed, sampler=sampler, **params).fit(problem["X"], problem["y"])
    seconds = time.perf_counter() - start
    d = model.diagnostics_
    c = d.calibration
    entry = {
        "problem": problem["name"], "method": method, "max_draws": model.sampler.max_draws, "seed": seed, "n": len(problem["y"]),
        "design_columns": len(model.columns_), "fit_s": round(seconds, 1),
        "sampling_s": round(d.compile_seconds + d.sampling_seconds, 1), "rehearsal_s": round(c.rehearsal_seconds, 1),
        "draws": d.n_draws, "max_rhat": round(d.max_rhat, 3), "min_ess_bulk": round(d.min_ess_bulk, 1),
        "divergences": d.divergences, "rehearsal_max_rhat": round(c.rehearsal_max_rhat, 3),
        "epistemic_inflation": round(c.epistemic_inflation, 2),
    }
    if "X_test" in problem:
        prediction = model.predict(problem["X_test"])
        low, high = prediction.interval(0.9)
        truth = problem["y_test"]
        entry |= {"test_rmse": round(float(np.sqrt(np.mean((prediction.mean - truth) ** 2))), 3),
                  "coverage_90": round(float(np.mean((truth >= low) & (truth <= high))), 3)}
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="+", default=["boiling", "freesolv", "polymers", "synthetic"])
    parser.add_argument("--methods", nargs="+", default=["gibbs", "nutpie"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--gibbs-max-draws", type=int, default=None,
                        help="cap on Gibbs draws per chain (default: the sampler's, 4 x draws; 1000: no extension)")
    parser.add_argument("--freesolv-n-in", type=int, nargs="+", default=[200],
                        help="FreeSolv headline splits to fit (the paper's 500 200 100 50)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "samplers.json")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    report = {"command": "python scripts/benchmarks/samplers.py " + " ".join(os.sys.argv[1:]), "commit": commit,
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "fits": []}
    for problem in problems(args.problems, tuple(args.freesolv_n_in)):
        for seed in args.seeds:
            for method in args.methods:
                if method not in problem.get("only", [method]):
                    continue
                entry = fit(problem, method, seed, args.gibbs_max_draws)
                report["fits"].append(entry)
                print(json.dumps(entry), flush=True)
                atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")  # partial results after every fit


if __name__ == "__main__":
    main()
