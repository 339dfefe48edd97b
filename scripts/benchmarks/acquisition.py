"""Choosing q = 8 from 100,000 candidates with 512 posterior draws: draw table vs features.

    python scripts/benchmarks/acquisition.py [--pool 100000] [--draws 512] [--features 860] [--q 8]
        [--strategy qlognei] [--out scripts/benchmarks/results/acquisition.json]

Both approaches run BoTorch's qLogNEI with `optimize_acqf_discrete` (sequential greedy) on the
same linear posterior (alpha (s,), beta (s, P)) over the same design matrix Z (pool, P):
- `draw_table` (ours, `discovery.acquisition.select_batch`): the latent draws of the whole pool
  are one product Z @ beta.T, computed once; BoTorch looks candidates up by index.
- `features`: the straightforward BoTorch model, whose `forward` takes the candidates' feature
  rows and computes alpha + x @ beta.T at every acquisition evaluation.
Posterior draws are synthetic (sparse beta, as a horseshoe fit gives): timings depend on shapes,
not values. Both pick the same batch; the script checks it. Featurisation is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch
from botorch.acquisition import qLogNoisyExpectedImprovement
from botorch.models.ensemble import EnsembleModel
from botorch.optim import optimize_acqf_discrete

from discovery.acquisition import AcquisitionSettings, AllDrawsSampler, select_batch


class FeatureLinearModel(EnsembleModel):
    """The straightforward adapter: inputs are feature rows, batch x q x P."""

    def __init__(self, alpha: np.ndarray, beta: np.ndarray) -> None:
        super().__init__()
        self.alpha = torch.as_tensor(alpha, dtype=torch.float32)
        self.beta = torch.as_tensor(beta, dtype=torch.float32)  # s x P
        self._num_outputs = 1

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        values = torch.einsum("...qp,sp->...sq", X, self.beta) + self.alpha[:, None]
        return values.unsqueeze(-1)  # batch x s x q x 1


def features_approach(Z, Z_measured, alpha, beta, y, q):
    model = FeatureLinearModel(alpha, beta)
    Zt = torch.as_tensor(Z, dtype=torch.float32)
    with torch.no_grad():  # latent draws of the measured molecules
        measured_draws = model(torch.as_tensor(Z_measured, dtype=torch.float32).unsqueeze(0))[0, :, :, 0]
    # the measured molecules that are best in some draw: pruning as BoTorch's, but exact
    keep = torch.unique(measured_draws.argmax(dim=1))
    acqf = qLogNoisyExpectedImprovement(
        model, X_baseline=torch.as_tensor(Z_measured[keep.numpy()], dtype=torch.float32),
        sampler=AllDrawsSampler(len(alpha)), prune_baseline=False, cache_root=False,
    )
    available = np.ones(len(Z), dtype=bool)
    picks = []
    for _ in range(q):
        idx = np.flatnonzero(available)
        choice, _ = optimize_acqf_discrete(acqf, q=1, choices=Zt[idx], max_batch_size=2048)
        # map the chosen row back to its index (exact float match of the same tensor row)
        match = idx[int(torch.nonzero((Zt[idx] == choice[0]).all(dim=1))[0, 0])]
        picks.append(int(match))
        available[match] = False
        acqf.set_X_pending(Zt[np.array(picks)])
    return picks, len(keep)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=512)
    parser.add_argument("--features", type=int, default=860)
    parser.add_argument("--measured", type=int, default=200)
    parser.add_argument("--q", type=int, default=8)
    parser.add_argument("--strategy", default="qlognei")
    parser.add_argument("--skip-features", action="store_true", help="time only the draw-table approach")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "acquisition.json")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    P = args.features
    Z = rng.normal(size=(args.pool, P)).astype(np.float32)
    Z_measured = rng.normal(size=(args.measured, P)).astype(np.float32)
    # a horseshoe-like posterior: a few clear terms, the rest shrunk to near zero
    beta_mean = rng.normal(size=P) * (rng.random(P) < 0.05) * 0.3
    beta = beta_mean + 0.03 * rng.normal(size=(args.draws, P))
    alpha = 0.05 * rng.normal(size=args.draws)
    y = Z_measured @ beta.mean(axis=0) + alpha.mean()
    torch.set_num_threads(os.cpu_count() or 1)

    report = {
        "pool": args.pool, "draws": args.draws, "features": P, "measured": args.measured, "q": args.q,
        "strategy": args.strategy, "torch_threads": torch.get_num_threads(),
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
    }
    start = time.perf_counter()
    pool_draws = beta @ Z.T.astype(np.float64) + alpha[:, None]  # s x pool: the one product
    measured_draws = beta @ Z_measured.T.astype(np.float64) + alpha[:, None]
    table_seconds = time.perf_counter() - start
    selection = select_batch(pool_draws, measured_draws, y, "max",
                             AcquisitionSettings(strategy=args.strategy, batch_size=args.q, n_draws=None))
    report["draw_table"] = {
        "seconds": time.perf_counter() - start, "table_seconds": table_seconds,
        "picks": selection.indices.tolist(),
    }
    print(f"draw table: {report['draw_table']['seconds']:.1f} s (of which table {table_seconds:.1f} s)")
    if not args.skip_features and args.strategy == "qlognei":
        start = time.perf_counter()
        picks, kept = features_approach(Z, Z_measured, alpha, beta, y, args.q)
        report["feature_rows"] = {"seconds": time.perf_counter() - start, "picks": picks, "baseline_kept": kept}
        report["baseline_kept"] = int(report["feature_rows"].pop("baseline_kept"))
        report["speedup"] = report["feature_rows"]["seconds"] / report["draw_table"]["seconds"]
        report["same_batch"] = picks == selection.indices.tolist()
        print(f"features: {report['feature_rows']['seconds']:.1f} s; speed-up {report['speedup']:.1f}x; "
              f"same batch: {report['same_batch']}")
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
