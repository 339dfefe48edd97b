"""Backtest campaigns on public `chemicals` properties: our engine against baselines.

    python scripts/benchmarks/campaigns.py [--seeds 10] [--rounds 10] [--batch 5]
        [--properties relative_permittivity boiling_point_k refractive_index]
        [--methods ours random gp_qlognei rf_greedy] [--out scripts/benchmarks/results/campaigns.json]

Each (property, method, seed) runs the backtest protocol through the real command line
(`python -m discovery.run campaign=backtest ...`): 30 initial molecules from below the 0.7
quantile, the rest of the table as the pool, `rounds` rounds of `batch` picks, maximising.
Methods: ours = BayesianILR (defaults; log target for the permittivity) + qLogNEI; random;
gp_qlognei = Tanimoto GP + qLogNEI; rf_greedy = random forest on Morgan bits, highest mean.
Descriptors come from the shared cache (`discovery.features.default_cache_path()`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from discovery.datasets import load_property
from discovery.features import default_cache_path

METHODS = {
    "ours": ["model=bayes_ilr", "acquisition=qlognei"],
    "random": ["model=rf_morgan", "acquisition=random"],
    "gp_qlognei": ["model=gp_tanimoto", "acquisition=qlognei"],
    "rf_greedy": ["model=rf_morgan", "acquisition=greedy_mean"],
}
LOG_TARGET = {"relative_permittivity"}


def run_one(lookup: Path, prop: str, method: str, seed: int, rounds: int, batch: int, state: Path) -> dict:
    args = [
        sys.executable, "-m", "discovery.run", "campaign=backtest", *METHODS[method],
        f"campaign.lookup.path={lookup}", "campaign.lookup.target_column=value", f"campaign.rounds={rounds}",
        f"acquisition.batch_size={batch}", f"seed={seed}", f"state_dir={state}", f"campaign.name={prop}_{method}_{seed}",
        f"cache_path={default_cache_path()}", "progress=false",
    ]
    if method == "ours" and prop in LOG_TARGET:
        args.append("model.params.target_transform=log")
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if result.returncode != 0:
        raise RuntimeError(f"{prop}/{method}/{seed} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    metrics = json.loads((state / f"{prop}_{method}_{seed}" / "backtest_metrics.json").read_text())
    metrics["seconds"] = time.perf_counter() - start
    return metrics


def summarise(runs: list[dict], budget: int) -> dict:
    # a run that never found a top-1 % molecule counts as the whole budget (a lower bound)
    first = [r["experiments_to_first_top"] or budget for r in runs]
    return {
        "runs": len(runs),
        "experiments_to_first_top_mean": float(np.mean(first)),
        "found_top_in_runs": sum(r["experiments_to_first_top"] is not None for r in runs),
        "top_found_fraction_mean": float(np.mean([r["top_found_fraction"] for r in runs])),
        "normalised_best_mean": float(np.mean([r["normalised_best"] for r in runs])),
        "seconds_mean": float(np.mean([r["seconds"] for r in runs])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--properties", nargs="+", default=["relative_permittivity", "boiling_point_k", "refractive_index"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "campaigns.json")
    args = parser.parse_args()
    report = {"config": vars(args) | {"out": str(args.out)},
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for prop in args.properties:
            table = load_property(prop)[["smiles", "value"]]
            lookup = Path(tmp) / f"{prop}.csv"
            table.to_csv(lookup, index=False)
            for method in args.methods:
                runs = [run_one(lookup, prop, method, seed, args.rounds, args.batch, Path(tmp) / "state")
                        for seed in range(args.seeds)]
                summary = summarise(runs, args.rounds * args.batch)
                report["results"].setdefault(prop, {})[method] = {"summary": summary, "runs": runs}
                print(f"{prop:24s} {method:11s} first top-1 % after {summary['experiments_to_first_top_mean']:5.1f} "
                      f"(found in {summary['found_top_in_runs']}/{len(runs)}), top found "
                      f"{summary['top_found_fraction_mean']:.2f}, normalised best {summary['normalised_best_mean']:.2f}",
                      flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(report, indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
