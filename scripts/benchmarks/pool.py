"""Candidate-pool throughput and memory: 100,000 small-molecule candidates from 50 seeds.

    python scripts/benchmarks/pool.py [--n 100000] [--seed 0] [--out scripts/benchmarks/results/pool.json]

Seeds: the 50 diverse molecules below (solvents, monomers, heterocycles, drugs; fixed, so no
optional dependency is needed). Settings: `conf/pool/default.yaml` with more generations and
children per parent and a larger BRICS budget, so the generators can reach `--n` accepted
candidates. Reported: wall time, accepted candidates per second, peak RSS of the process
(`resource.getrusage`, which includes the ~150 MB of imported libraries) and the summary with
rejections by reason.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

from discovery.chem import parse_molecule
from discovery.pool import PoolSettings, generate_pool

ROOT = Path(__file__).resolve().parents[2]

SEEDS = [
    # solvents and small building blocks
    "CCO", "CC(C)=O", "CCOC(C)=O", "ClCCl", "CN(C)C=O", "CS(C)=O", "C1CCOC1", "CC#N", "OCCO",
    "c1ccccc1", "Cc1ccccc1", "Clc1ccccc1", "c1ccncc1", "Oc1ccccc1", "Nc1ccccc1",
    # monomers and materials building blocks
    "C=CC(=O)OC", "C=C(C)C(=O)OC", "C=Cc1ccccc1", "C=CC#N", "O=C(O)c1ccc(C(=O)O)cc1",
    "Nc1ccc(Oc2ccc(N)cc2)cc1", "O=C1OC(=O)c2ccccc21", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1",
    "NCCCCCCN", "O=C(O)CCCCC(=O)O", "O=C1CCCCCN1", "FC(F)=C(F)F", "C=CCl",
    # heterocycles and functional variety
    "c1ccc2[nH]ccc2c1", "c1ccc2ncccc2c1", "c1cnc[nH]1", "c1ccsc1", "c1ccoc1", "C1CCNCC1",
    "C1COCCN1", "O=C1CCCC1", "CC(=O)Nc1ccc(O)cc1", "COc1ccc(C=O)cc1", "N#Cc1ccccc1",
    "O=[N+]([O-])c1ccccc1", "CSc1ccccc1", "FC(F)(F)c1ccccc1",
    # drugs
    "CC(=O)Oc1ccccc1C(=O)O", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "CN1CCC[C@H]1c1cccnc1", "OC(=O)c1ccccc1O", "CC(C)NCC(O)COc1cccc2ccccc12",
    "Clc1ccc(cc1)C(c1ccccc1)N1CCNCC1", "COc1ccc2nc(S(=O)Cc3ncc(C)c(OC)c3C)[nH]c2c1",
]  # fmt: skip


def run(n: int, seed: int) -> dict[str, object]:
    # conf/pool/default.yaml is PoolSettings' defaults
    settings = PoolSettings.from_dict({
        "max_candidates": n, "mutation": {"generations": 4, "children_per_parent": 25}, "brics": {"max_products": n // 2},
    })
    measured = [parse_molecule(s).identity for s in SEEDS]
    start = time.perf_counter()
    pool = generate_pool(SEEDS, settings, exclude=measured, seed=seed)
    seconds = time.perf_counter() - start
    # ru_maxrss is in kB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    summary = pool.summary.to_dict()
    return {
        "seeds": len(SEEDS),
        "wanted": n,
        "accepted": summary["accepted"],
        "proposed": summary["proposed"],
        "seconds": round(seconds, 1),
        "candidates_per_s": round(summary["accepted"] / seconds, 1),
        "proposals_per_s": round(summary["proposed"] / seconds, 1),
        "peak_rss_mb": round(peak, 1),
        "candidates_dataframe_mb": round(pool.candidates.memory_usage(deep=True).sum() / 2**20, 1),
        "rejected": summary["rejected"],
        "summary": summary,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "scripts" / "benchmarks" / "results" / "pool.json")
    args = parser.parse_args()
    report = run(args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "summary"}, indent=2))


if __name__ == "__main__":
    main()
