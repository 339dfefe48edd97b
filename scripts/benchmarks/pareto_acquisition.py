"""Several properties: choosing q = 8 from 100,000 candidates with 3 properties and 512 draws (issue 17).

    python scripts/benchmarks/pareto_acquisition.py [--pool 100000] [--draws 512] [--q 8]
        [--compare-pool 1000] [--compare-draws 128] [--out scripts/benchmarks/results/pareto_acquisition.json]

Synthetic joint draws (timings depend on shapes, not values): per molecule a mean vector of the
3 properties (the first two anti-correlated, so the Pareto front is a real trade-off), draws = mean
+ 0.3 N(0, 1); 100 measured molecules sit 0.5 below the pool on every property, as in an
out-of-range campaign. Cases: 3 objectives; 2 objectives + 1 constraint (>= 0); 1 objective + 2
constraints. Strategies `ehvi`, `pareto_pi` and `chebyshev` (`discovery.acquisition.pareto`), wall
seconds and peak resident memory of the process.

Side by side on a smaller problem (`--compare-pool` candidates, `--compare-draws` draws, 3
objectives): ours against BoTorch's qLogNEHVI with the same draws (`DrawTableModel`,
`AllDrawsSampler`, sequential greedy `optimize_acqf_discrete`), seconds and how many of the 8 picks
agree (BoTorch smooths the hypervolume; ours is exact on the draws).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from discovery.acquisition.pareto import Criterion, OutcomeDraws, select_pareto_batch
from discovery.files import atomic_write_text
from discovery.objective import Constraint, Objective

ROOT = Path(__file__).resolve().parents[2]
N_MEASURED = 100
CASES = {"3 objectives": (3, 0), "2 objectives + 1 constraint": (2, 1), "1 objective + 2 constraints": (1, 2)}


def _draws(n_pool: int, s: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(n_pool + N_MEASURED, m))
    if m > 1:
        mean[:, 1] = -0.6 * mean[:, 0] + 0.8 * mean[:, 1]
    mean[n_pool:] -= 0.5
    draws = (mean[None] + 0.3 * rng.normal(size=(s, n_pool + N_MEASURED, m))).astype(np.float32)
    return draws, mean


def _problem(n_pool: int, s: int, k: int, c: int):
    draws, mean = _draws(n_pool, s, k + c)
    objectives = [Objective(f"y{j}", "max") for j in range(k)]
    constraints = [Constraint(f"g{j}", "at_least", 0.0) for j in range(c)]
    split = (lambda rows: OutcomeDraws(draws[:, rows, :k], draws[:, rows, k:] if c else None))
    return split(slice(0, n_pool)), split(slice(n_pool, None)), mean[n_pool:, :k], objectives, constraints


CRITERIA = {"ehvi": Criterion.HYPERVOLUME, "pareto_pi": Criterion.PROBABILITY, "chebyshev": Criterion.CHEBYSHEV}


def ours(n_pool: int, s: int, q: int) -> dict:
    out = {}
    for name, (k, c) in CASES.items():
        pool, measured, values, objectives, constraints = _problem(n_pool, s, k, c)
        for strategy, criterion in CRITERIA.items():
            start = time.perf_counter()
            choice = select_pareto_batch(pool, measured, values, objectives, constraints, batch_size=q,
                                         criterion=criterion)
            out[f"{name}, {strategy}"] = {"seconds": round(time.perf_counter() - start, 1),
                                         "p_feasible": [round(float(p), 2) for p in choice.p_feasible],
                                         "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)}
            print(name, strategy, out[f"{name}, {strategy}"], flush=True)
    return out


def side_by_side(n_pool: int, s: int, q: int) -> dict:
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.optim import optimize_acqf_discrete

    from discovery.acquisition.model import DrawTableModel
    from discovery.acquisition.sampler import AllDrawsSampler

    pool, measured, values, objectives, _ = _problem(n_pool, s, 3, 0)
    start = time.perf_counter()
    choice = select_pareto_batch(pool, measured, values, objectives, [], batch_size=q)
    ours_s = time.perf_counter() - start

    # the same standardisation and reference point as ours, so both maximise the same hypervolume
    center, scale = values.mean(axis=0), values.std(axis=0)
    table = (np.concatenate([pool.objectives, measured.objectives], axis=1) - center) / scale
    reference = (values.min(axis=0) - center) / scale - 0.1 * np.ptp((values - center) / scale, axis=0)
    model = DrawTableModel(table)
    start = time.perf_counter()
    acqf = qLogNoisyExpectedHypervolumeImprovement(
        model, ref_point=reference.tolist(), X_baseline=model.choices(np.arange(n_pool, n_pool + N_MEASURED)),
        sampler=AllDrawsSampler(s), objective=IdentityMCMultiOutputObjective(outcomes=[0, 1, 2]),
        prune_baseline=False, cache_root=False)
    picks, _ = optimize_acqf_discrete(acqf, q=q, choices=model.choices(np.arange(n_pool)), max_batch_size=256)
    botorch_s = time.perf_counter() - start
    theirs = sorted(int(i) for i in picks[:, 0].round())
    return {"pool": n_pool, "draws": s, "ours_s": round(ours_s, 1), "botorch_qlognehvi_s": round(botorch_s, 1),
            "speedup": round(botorch_s / ours_s, 1), "same_picks": len(set(theirs) & set(choice.indices.tolist())),
            "ours": sorted(choice.indices.tolist()), "botorch": theirs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=512)
    parser.add_argument("--q", type=int, default=8)
    parser.add_argument("--compare-pool", type=int, default=1000)
    parser.add_argument("--compare-draws", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pareto_acquisition.json")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "torch_threads": torch.get_num_threads()},
              "commit": commit, "date": time.strftime("%Y-%m-%d"), "pool": args.pool, "draws": args.draws, "q": args.q}
    report["side_by_side"] = side_by_side(args.compare_pool, args.compare_draws, args.q)
    print(report["side_by_side"], flush=True)
    report["cases"] = ours(args.pool, args.draws, args.q)
    atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
