"""How well the screening funnel's first stage agrees with the main model (issue 20).

    python scripts/benchmarks/screening.py [--problems polymers liquids] [--polymer-sample 120]
        [--seed 0] [--out scripts/benchmarks/results/screening.json]

The first stage (`pool.screening.method=fingerprint_gp`: a Tanimoto GP on Morgan fingerprints, no
QM) and the second (BayesianILR on GFN2-xTB descriptors, as the campaign fits it) each score the
same candidates; per problem:
- Spearman rank correlation between the first stage's ln P(beat the best measured value) and the
  second stage's P(beat the best) and expected improvement (both from its acquisition draws);
- recall: of the second stage's 10 best candidates, how many a shortlist of the first stage's best
  k % contains (k = 10, 25, 50), against k % for a random shortlist;
- seconds of the first stage (fingerprints, GP fit, prediction) for the whole generated pool.

Problems:
- `polymers`: the 45 seeds of `polymer_dielectric` measured; the campaign's pool settings generate
  2,000 repeat units; the first stage scores all of them, and a random sample of
  `--polymer-sample` is featurised (methyl-capped trimers, GFN2-xTB, `make run`'s cache) so that
  the second stage can score it too.
- `liquids`: each of three `chemicals` tables (relative permittivity, boiling point, refractive
  index): 200 molecules drawn at random from below the 0.9 quantile are measured, every other
  molecule is the pool (descriptors from the shared cache, `discovery.features.default_cache_path()`).
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
import yaml

from discovery.acquisition.screening import screen
from discovery.features import default_cache_path, featurize
from discovery.files import atomic_write_text
from discovery.objective import Direction
from discovery.pool import PoolSettings, ScreeningSettings, generate_pool

ROOT = Path(__file__).resolve().parents[2]
POLYMER_CACHE = ROOT / "discovery-runs" / "cache" / "descriptors.sqlite"  # `make run`'s
FRACTIONS = (0.10, 0.25, 0.50)
TOP = 10


def _campaign_model_params() -> dict:
    """`model.params` of the polymer campaign (its descriptors and log target)."""
    config = yaml.safe_load((ROOT / "conf" / "campaign" / "polymer_dielectric.yaml").read_text())
    return dict(config["model"]["params"])


def _first_stage(pool: list[str], measured: list[str], values: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    settings = ScreeningSettings(method="fingerprint_gp", shortlist=1, explore_fraction=0.0)
    result = screen(pool, measured, values, Direction.MAX, settings, seed)
    return result.log_probability, time.perf_counter() - start


def _second_stage(X_measured: pd.DataFrame, values: np.ndarray, X_pool: pd.DataFrame, params: dict,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    from discovery.model.bayes import BayesianILR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BayesianILR(seed=seed, **params).fit(X_measured, values)
    draws = model.predict(X_pool, for_acquisition=True).latent_draws
    best = float(values.max())
    return (draws > best).mean(axis=0), np.maximum(draws - best, 0.0).mean(axis=0)


def _agreement(first: np.ndarray, p_beat: np.ndarray, improvement: np.ndarray) -> dict:
    ranks = pd.DataFrame({"first": first, "p_beat": p_beat, "ei": improvement})
    best = set(np.argsort(-improvement, kind="stable")[:TOP])
    order = np.argsort(-first, kind="stable")
    recall = {f"top_{int(f * 100)}pct": len(best & set(order[: int(round(f * len(first)))])) / TOP for f in FRACTIONS}
    return {
        "spearman_p_beat": round(float(ranks["first"].corr(ranks["p_beat"], method="spearman")), 3),
        "spearman_expected_improvement": round(float(ranks["first"].corr(ranks["ei"], method="spearman")), 3),
        "recall_of_second_stage_top10": recall,
    }


def polymers(sample: int, seed: int) -> dict:
    seeds = pd.read_csv(ROOT / "campaigns" / "polymer_dielectric" / "seed.csv")
    config = yaml.safe_load((ROOT / "conf" / "pool" / "polymer.yaml").read_text())
    config.pop("defaults", None)
    config["max_candidates"] = 2000
    measured = featurize(list(seeds["psmiles"]), "fast", cache=POLYMER_CACHE, progress=False)
    ok = (measured["status"] == "ok").to_numpy()
    X_measured, values = measured[ok].reset_index(drop=True), seeds["dielectric_constant"].to_numpy(float)[ok]
    start = time.perf_counter()
    pool = generate_pool(list(X_measured["smiles"]), PoolSettings.from_dict(config), exclude=set(X_measured["identity"]),
                         seed=seed).candidates
    generation_s = time.perf_counter() - start
    first, first_s = _first_stage(list(pool["smiles"]), list(X_measured["smiles"]), values, seed)
    rows = np.sort(np.random.default_rng(seed).choice(len(pool), size=min(sample, len(pool)), replace=False))
    start = time.perf_counter()
    features = featurize(list(pool["smiles"].iloc[rows]), "fast", cache=POLYMER_CACHE, progress=False,
                         n_workers=os.cpu_count() or 1)
    featurise_s = time.perf_counter() - start
    usable = (features["status"] == "ok").to_numpy()
    p_beat, improvement = _second_stage(X_measured, values, features[usable].reset_index(drop=True),
                                        _campaign_model_params(), seed)
    return {"n_measured": int(len(values)), "n_pool": int(len(pool)), "pool_generation_s": round(generation_s, 1),
            "first_stage_s": round(first_s, 2), "n_featurised": int(usable.sum()), "featurise_s": round(featurise_s, 1),
            **_agreement(first[rows][usable], p_beat, improvement)}


def liquids(name: str, seed: int, n_measured: int = 200) -> dict:
    from discovery.datasets import load_property

    table = load_property(name)
    features = featurize(list(table["smiles"]), "fast", cache=default_cache_path(), progress=False)
    y = table["value"].to_numpy(float)
    ok = (features["status"] == "ok").to_numpy() & np.isfinite(y)
    X, y = features[ok].reset_index(drop=True), y[ok]
    below = np.flatnonzero(y < np.quantile(y, 0.9))
    train = np.random.default_rng(seed).choice(below, size=min(n_measured, len(below)), replace=False)
    pool = np.setdiff1d(np.arange(len(y)), train)
    first, first_s = _first_stage(list(X["smiles"].iloc[pool]), list(X["smiles"].iloc[train]), y[train], seed)
    p_beat, improvement = _second_stage(X.iloc[train], y[train], X.iloc[pool], {}, seed)
    return {"n_measured": int(len(train)), "n_pool": int(len(pool)), "first_stage_s": round(first_s, 2),
            **_agreement(first, p_beat, improvement)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="+", default=["polymers", "liquids"], choices=["polymers", "liquids"])
    parser.add_argument("--polymer-sample", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "screening.json")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    report: dict = {"command": "python scripts/benchmarks/screening.py " + " ".join(sys.argv[1:]), "commit": commit,
                    "seed": args.seed, "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
                    "problems": {}}
    jobs = []
    if "liquids" in args.problems:
        jobs += [(name, lambda name=name: liquids(name, args.seed))
                 for name in ("relative_permittivity", "boiling_point_k", "refractive_index")]
    if "polymers" in args.problems:
        jobs.append(("polymers", lambda: polymers(args.polymer_sample, args.seed)))
    for name, job in jobs:
        report["problems"][name] = job()
        print(name, json.dumps(report["problems"][name]), flush=True)
        atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")  # partial results after every problem


if __name__ == "__main__":
    main()
