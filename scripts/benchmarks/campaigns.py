"""Backtest campaigns on public `chemicals` properties: our engine against baselines.

    python scripts/benchmarks/campaigns.py [--seeds 10] [--first-seed 0] [--rounds 10] [--batch 5]
        [--properties relative_permittivity boiling_point_k refractive_index] [--initial-n 30]
        [--initial-quantile 0.7]
        [--methods ours random gp_qlognei rf_greedy] [--out scripts/benchmarks/results/campaigns.json]
        [--ours-override KEY=VALUE ...]

Each (property, method, seed) runs the backtest protocol through the real command line
(`python -m discovery.run campaign=backtest ...`): `--initial-n` initial molecules from below the
`--initial-quantile` quantile, the rest of the table as the pool, `rounds` rounds of `batch`
picks, maximising. A property is a `chemicals` table, or `polymer_dielectric`: the campaign's 45
seed polymers as the lookup, and our engine with that campaign's model parameters (issue 20's
protocol: `--properties polymer_dielectric --initial-n 15 --initial-quantile 0.5 --rounds 6 --batch 3`).
Methods: ours = BayesianILR (defaults; log target for the permittivity) + qLogNEI; random;
gp_qlognei = Tanimoto GP + qLogNEI; rf_greedy = random forest on Morgan bits, highest mean.
`--ours-override` passes extra Hydra overrides to our engine's runs only (ablations, e.g.
`model.params.calibration.max_inflation=1`); use a separate --out for each variant.
Runs already in --out (same rounds and batch) are skipped, so an interrupted benchmark resumes;
`--merge A.json B.json` joins runs made in parallel (different --first-seed) into --out. Descriptors come from the shared cache (`discovery.features.default_cache_path()`).
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

import pandas as pd
import yaml

from discovery.datasets import load_property
from discovery.features import default_cache_path

METHODS = {
    "ours": ["model=bayes_ilr", "acquisition=qlognei"],
    "random": ["model=rf_morgan", "acquisition=random"],
    "gp_qlognei": ["model=gp_tanimoto", "acquisition=qlognei"],
    "rf_greedy": ["model=rf_morgan", "acquisition=greedy_mean"],
}
LOG_TARGET = {"relative_permittivity"}
ROOT = Path(__file__).resolve().parents[2]
CAMPAIGNS = {"polymer_dielectric"}  # shipped campaigns whose seed table is the lookup


def lookup_table(prop: str) -> pd.DataFrame:
    """The table that plays the lab (smiles, value): a `chemicals` property or a campaign's seeds."""
    if prop in CAMPAIGNS:
        config = yaml.safe_load((ROOT / "conf" / "campaign" / f"{prop}.yaml").read_text())["campaign"]
        table = pd.read_csv(ROOT / config["seed_data"])
        return pd.DataFrame({"smiles": table[config["smiles_column"]], "value": table[config["target_column"]]})
    return load_property(prop)[["smiles", "value"]]


def campaign_model_override(prop: str) -> list[str]:
    """A shipped campaign's `model.params`, as one Hydra override (our engine as that campaign runs it)."""
    if prop not in CAMPAIGNS:
        return []
    params = yaml.safe_load((ROOT / "conf" / "campaign" / f"{prop}.yaml").read_text())["model"]["params"]
    return ["model.params=" + yaml.safe_dump(params, default_flow_style=True, width=10**6).strip()]


def run_one(lookup: Path, prop: str, method: str, seed: int, rounds: int, batch: int, initial: tuple[int, float],
            state: Path, ours_overrides: list[str]) -> dict:
    args = [
        sys.executable, "-m", "discovery.run", "campaign=backtest", *METHODS[method],
        f"campaign.lookup.path={lookup}", "campaign.lookup.target_column=value", f"campaign.rounds={rounds}",
        f"campaign.initial.n={initial[0]}", f"campaign.initial.max_quantile={initial[1]}", f"acquisition.batch_size={batch}",
        f"seed={seed}", f"state_dir={state}", f"campaign.name={prop}_{method}_{seed}",
        f"cache_path={default_cache_path()}", "progress=false",
    ]
    if method == "ours" and prop in LOG_TARGET:
        args.append("model.params.target_transform=log")
    if method == "ours":
        args += campaign_model_override(prop) + ours_overrides
    start = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if result.returncode != 0:
        raise RuntimeError(f"{prop}/{method}/{seed} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    metrics = json.loads((state / f"{prop}_{method}_{seed}" / "backtest_metrics.json").read_text())
    metrics["seconds"] = time.perf_counter() - start
    return metrics


def source_commit() -> str | None:
    """The git commit of the discovery package these runs use (None outside a git checkout)."""
    import discovery

    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(discovery.__file__).parent)
    return result.stdout.strip() or None


def summarise(runs: list[dict], budget: int) -> dict:
    # a run that never found a top-1 % molecule counts as the whole budget (a lower bound)
    first = [r["experiments_to_first_top"] or budget for r in runs]
    return {
        "runs": len(runs),
        "experiments_to_first_top_mean": float(np.mean(first)),
        "found_top_in_runs": sum(r["experiments_to_first_top"] is not None for r in runs),
        "top_found_fraction_mean": float(np.mean([r["top_found_fraction"] for r in runs])),
        "normalised_best_mean": float(np.mean([r["normalised_best"] for r in runs])),
        **picks_calibration(runs),
        "seconds_mean": float(np.mean([r["seconds"] for r in runs])),
    }


def picks_calibration(runs: list[dict]) -> dict:
    """Calibration over rounds, pooled over all picks with a revealed value: the fraction inside
    the 90 % interval the campaign predicted when it proposed them, and the median interval width
    (target units)."""
    inside, width = [], []
    for run in runs:
        for r in run["rounds"]:
            lower, upper, value = (np.asarray(r[k], float) for k in ("lower_90", "upper_90", "revealed"))
            known = np.isfinite(value) & np.isfinite(lower) & np.isfinite(upper)
            inside += list(((lower <= value) & (value <= upper))[known])
            width += list((upper - lower)[known])
    return {"picks_revealed": len(inside), "picks_coverage_90": float(np.mean(inside)) if inside else None,
            "picks_median_width_90": float(np.median(width)) if width else None}


def random_first_top(n_pool: int, n_top: int, budget: int) -> dict:
    """Exact expected experiments to the first top-1 % pick for uniform random picks without
    replacement from `n_pool` candidates holding all `n_top` top molecules: uncapped
    ((n_pool + 1) / (n_top + 1)) and capped at `budget` as the table counts a never-found run."""
    t = np.arange(budget - 1)
    survive = np.r_[1.0, np.cumprod((n_pool - n_top - t) / (n_pool - t))]  # P(first hit after pick t), t = 0..budget-1
    return {"n_pool": n_pool, "n_top": n_top, "expected": (n_pool + 1) / (n_top + 1), "expected_capped": float(survive.sum())}


def load_done(out: Path, rounds: int, batch: int, initial: tuple[int, float] = (30, 0.7)) -> dict:
    """Runs already in `out` for the same protocol, so an interrupted benchmark resumes (files from
    before the initial set was an option used 30 molecules below the 0.7 quantile)."""
    if not out.exists():
        return {}
    previous = json.loads(out.read_text())
    c = previous["config"]
    if (c["rounds"], c["batch"], c.get("initial_n", 30), c.get("initial_quantile", 0.7)) != (rounds, batch, *initial):
        raise SystemExit(f"{out} holds runs of another protocol; choose another --out")
    # runs from before per-run commits take their file's (a merged file's runs keep their own)
    commit = previous["config"].get("commit")
    return {(prop, method, run["seed"]): {"commit": commit, **run}
            for prop, methods in previous["results"].items()
            for method, entry in methods.items() for run in entry["runs"]}


def write_report(out: Path, config: dict, done: dict, rounds: int, batch: int) -> dict:
    results: dict = {}
    for (prop, method, _), run in sorted(done.items()):
        results.setdefault(prop, {}).setdefault(method, []).append(run)
    tables = {prop: next(iter(methods.values()))[0] for prop, methods in results.items()}
    report = {"config": config, "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
              "results": {prop: {method: {"summary": summarise(runs, rounds * batch), "runs": runs}
                                 for method, runs in methods.items()} for prop, methods in results.items()},
              # what the random baseline's runs estimate, computed exactly (its mean is censored at the budget)
              "random_expectation": {prop: random_first_top(run["n_table"] - config["initial_n"], run["n_top"], rounds * batch)
                                     for prop, run in tables.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(out)
    return report


def _fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def markdown_table(report: dict) -> str:
    """One row per (property, method): the protocol's metrics, mean over seeds."""
    budget = report["config"]["rounds"] * report["config"]["batch"]
    lines = [f"| property | method | seeds | experiments to first top-1 % (mean; {budget} = never) | found in "
             "| top-1 % found | normalised best | picks in their 90 % interval | median 90 % width |",
             "|---|---|---|---|---|---|---|---|---|"]
    for prop, methods in report["results"].items():
        for method in sorted(methods, key=list(METHODS).index):
            s = methods[method]["summary"]
            lines.append(f"| {prop} | {method} | {s['runs']} | {s['experiments_to_first_top_mean']:.1f} | "
                         f"{s['found_top_in_runs']}/{s['runs']} | {s['top_found_fraction_mean']:.2f} | "
                         f"{s['normalised_best_mean']:.2f} | {_fmt(s['picks_coverage_90'], '.2f')} | "
                         f"{_fmt(s['picks_median_width_90'], '.3g')} |")
    lines += ["", "Random picks, exact expectation of experiments to the first top-1 %:", "",
              f"| property | pool | top-1 % molecules | expected | expected, capped at {budget} |", "|---|---|---|---|---|"]
    for prop, e in report["random_expectation"].items():
        lines.append(f"| {prop} | {e['n_pool']} | {e['n_top']} | {e['expected']:.1f} | {e['expected_capped']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--properties", nargs="+", default=["relative_permittivity", "boiling_point_k", "refractive_index"])
    parser.add_argument("--initial-n", type=int, default=30, help="initial measured molecules")
    parser.add_argument("--initial-quantile", type=float, default=0.7, help="drawn from below this quantile")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "campaigns.json")
    parser.add_argument("--ours-override", nargs="+", default=[], metavar="KEY=VALUE",
                        help="extra Hydra overrides for our engine's runs (ablations)")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON",
                        help="merge the runs of these result files into --out, print its table, and stop")
    args = parser.parse_args()
    commit = source_commit()
    config = vars(args) | {"out": str(args.out), "merge": None, "commit": commit}
    if args.merge:  # the merged runs keep the commits they ran with; this checkout's means nothing
        config |= {"merge": [str(path) for path in args.merge], "commit": None}
        initial = (args.initial_n, args.initial_quantile)
        done = {key: run for path in args.merge for key, run in load_done(path, args.rounds, args.batch, initial).items()}
        print(markdown_table(write_report(args.out, config, done, args.rounds, args.batch)))
        return
    done = load_done(args.out, args.rounds, args.batch, (args.initial_n, args.initial_quantile))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        lookups = {}
        for prop in args.properties:
            lookups[prop] = Path(tmp) / f"{prop}.csv"
            lookup_table(prop).to_csv(lookups[prop], index=False)
        # seeds outermost: an interrupted run leaves complete seeds for every property and method
        for seed in seeds:
            for prop in args.properties:
                for method in args.methods:
                    if (prop, method, seed) in done:
                        continue
                    run = run_one(lookups[prop], prop, method, seed, args.rounds, args.batch,
                                  (args.initial_n, args.initial_quantile), Path(tmp) / "state", args.ours_override)
                    done[(prop, method, seed)] = run | {"seed": seed, "commit": commit}  # resumed files mix commits
                    write_report(args.out, config, done, args.rounds, args.batch)
                    print(f"{prop:24s} {method:11s} seed {seed}: first top-1 % after "
                          f"{run['experiments_to_first_top']}, normalised best {run['normalised_best']:.2f}, "
                          f"{run['seconds']:.0f} s", flush=True)
    print(markdown_table(write_report(args.out, config, done, args.rounds, args.batch)))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
