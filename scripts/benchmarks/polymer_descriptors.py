"""Which descriptor set predicts and extrapolates permittivity best (issue 20)?

    python scripts/benchmarks/polymer_descriptors.py [--sets qm qm+derived derived qm+ln_static]
        [--calibrations tail_refit loo_tails none] [--seeds 0] [--skip-liquids]
        [--out scripts/benchmarks/results/polymer_descriptors.json]

For each descriptor set, BayesianILR (log target, defaults otherwise; the set `campaign` takes the
model parameters of `conf/campaign/polymer_dielectric.yaml`, its sampler budget included, with the
calibration of `--calibrations`) is measured on
- the 45 shipped polymers (`campaigns/polymer_dielectric/seed.csv`): PSIS leave-one-out from one
  fit (RMSE in permittivity units, 90 % coverage, median upper/lower ratio of the 90 % interval)
  and extrapolation to the 10 highest-permittivity polymers from a fit on the other 35 (RMSE,
  90 % coverage, Spearman rank correlation), with each model-error calibration of
  `--calibrations` (`none`: the posterior alone);
- the `chemicals` relative-permittivity table of liquids: a fit on 200 molecules drawn from below
  the 0.9 quantile, tested on the top 10 % (RMSE of ln(permittivity), 90 % coverage, Spearman).
The physically derived descriptors (`discovery/features/derived.py`): ln of the Clausius-Mossotti
electronic permittivity, the Debye orientational polarisation and ln of Onsager's static
permittivity. Descriptors of the liquids come from the shared cache
(`discovery.features.default_cache_path()`), of the polymers from `make run`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from discovery.features import DERIVED_NAMES, QMSettings, default_cache_path, descriptor_names, featurize
from discovery.files import atomic_write_text

ROOT = Path(__file__).resolve().parents[2]
QM = descriptor_names(QMSettings())
SETS = {
    "qm": QM,
    "qm+derived": QM + list(DERIVED_NAMES),
    "derived": list(DERIVED_NAMES),
    "qm+ln_static": QM + ["ln_static_permittivity"],
    # the two bounded permittivities without the Debye term they are built from (collinear with them)
    "qm+ln_permittivities": QM + ["ln_electronic_permittivity", "ln_static_permittivity"],
}
#: the model parameters `make run` fits the polymers with
CAMPAIGN_PARAMS = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "campaign" / "polymer_dielectric.yaml"))["model"]["params"]
SETS["campaign"] = list(CAMPAIGN_PARAMS["descriptors"])
POLYMER_CACHE = ROOT / "discovery-runs" / "cache" / "descriptors.sqlite"  # `make run`'s, as samplers.py
TOP = 10  # polymers held out above the rest for the extrapolation test


def _model(set_name: str, seed: int, calibration: str):
    from discovery.model.bayes import BayesianILR

    if set_name == "campaign":
        params = dict(CAMPAIGN_PARAMS)
    else:
        params = {"descriptors": SETS[set_name], "target_transform": "log"}
    params["calibration"] = dict(params.get("calibration", {})) | {"method": calibration}
    return BayesianILR(**params, seed=seed)


def _fit(model, X: pd.DataFrame, y: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


def _scores(prediction, truth: np.ndarray, log: bool = False) -> dict:
    low, high = prediction.interval(0.9)
    point = np.log(prediction.mean) if log else prediction.mean
    target = np.log(truth) if log else truth
    return {
        ("rmse_ln" if log else "rmse"): round(float(np.sqrt(np.mean((point - target) ** 2))), 3),
        "coverage_90": round(float(np.mean((truth >= low) & (truth <= high))), 2),
        "spearman": round(float(pd.Series(prediction.mean).corr(pd.Series(truth), method="spearman")), 2),
        "median_ratio_90": round(float(np.median(high / np.maximum(low, 1e-12))), 2),
    }


def polymers(set_name: str, seed: int, calibration: str) -> dict:
    from discovery.report import loo_summary

    table = pd.read_csv(ROOT / "campaigns" / "polymer_dielectric" / "seed.csv")
    X = featurize(list(table["psmiles"]), "fast", cache=POLYMER_CACHE, progress=False)
    y = table["dielectric_constant"].to_numpy(float)
    ok = (X["status"] == "ok").to_numpy()
    X, y = X[ok].reset_index(drop=True), y[ok]
    start = time.perf_counter()
    model = _fit(_model(set_name, seed, calibration), X, y)
    fit_s = time.perf_counter() - start
    cv = loo_summary(model, X, y, (1.0, None))
    out: dict = {"n": int(len(y)), "loo": {
        "rmse": round(float(np.sqrt(np.mean((cv["mean"] - y) ** 2))), 3),
        "coverage_90": round(float(np.mean((y >= cv["lower_90"]) & (y <= cv["upper_90"]))), 2),
        "median_ratio_90": round(float(np.median(cv["upper_90"] / cv["lower_90"])), 2),
        "max_rhat": round(model.diagnostics_.max_rhat, 3), "epistemic_inflation": round(model.model_error_.epistemic_inflation, 2),
        "design_columns": len(model.columns_), "fit_s": round(fit_s, 1),
    }}
    order = np.argsort(y)
    low, high = order[:-TOP], order[-TOP:]
    model = _fit(_model(set_name, seed, calibration), X.iloc[low], y[low])
    out["top10"] = _scores(model.predict(X.iloc[high]).clipped(1.0, None), y[high])
    return out


def liquids(set_name: str, seed: int, calibration: str, n_train: int = 200) -> dict:
    from discovery.datasets import load_property

    table = load_property("relative_permittivity")
    X = featurize(list(table["smiles"]), "fast", cache=default_cache_path(), progress=False)
    y = table["value"].to_numpy(float)
    ok = (X["status"] == "ok").to_numpy() & np.isfinite(y) & (y >= 1.0)
    X, y = X[ok].reset_index(drop=True), y[ok]
    cut = np.quantile(y, 0.9)
    below = np.flatnonzero(y < cut)
    train = np.random.default_rng(seed).choice(below, size=min(n_train, len(below)), replace=False)
    test = np.flatnonzero(y >= cut)
    start = time.perf_counter()
    model = _fit(_model(set_name, seed, calibration), X.iloc[train], y[train])
    scores = _scores(model.predict(X.iloc[test]).clipped(1.0, None), y[test], log=True)
    return {"n_train": int(len(train)), "n_test": int(len(test)), **scores,
            "max_rhat": round(model.diagnostics_.max_rhat, 3), "fit_s": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--calibrations", nargs="+", default=["tail_refit", "loo_tails", "none"],
                        choices=["tail_refit", "loo_tails", "none"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--skip-liquids", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "polymer_descriptors.json")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    report = {"command": "python scripts/benchmarks/polymer_descriptors.py " + " ".join(sys.argv[1:]), "commit": commit,
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "runs": []}
    for seed in args.seeds:
        for name in args.sets:
            for calibration in args.calibrations:
                entry = {"set": name, "calibration": calibration, "seed": seed, "n_descriptors": len(SETS[name]),
                         "polymers": polymers(name, seed, calibration)}
                if not args.skip_liquids:
                    entry["liquids"] = liquids(name, seed, calibration)
                report["runs"].append(entry)
                print(json.dumps(entry), flush=True)
                atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")  # partial results after every run


if __name__ == "__main__":
    main()
