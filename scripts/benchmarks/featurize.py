"""Featurisation throughput: `fast` and `full` presets on diverse molecules, and cache hits.

    python scripts/benchmarks/featurize.py [--n 200] [--workers 2] [--out scripts/benchmarks/results/featurize.json]

Molecules: `diverse_molecules(n, seed=0, max_heavy_atoms=20)` from the public `chemicals` suite
(MaxMin-diverse). Each preset runs on a fresh cache with all workers; throughput per core is the
number of molecules divided by (wall time × workers), so worker start-up counts against us. The
per-molecule QM time (inside workers) is reported too. The warm-cache figures repeat the call
with the filled cache: `featurize` end to end (parse + categories + lookup) and the bare SQLite
lookup.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from discovery.datasets.chemicals_suite import diverse_molecules
from discovery.features import DescriptorCache, QMSettings, featurize


def _machine() -> dict[str, object]:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(), "processor": platform.processor()}


def run(n: int, workers: int) -> dict[str, object]:
    molecules = diverse_molecules(n, seed=0, max_heavy_atoms=20)
    report: dict[str, object] = {"molecules": len(molecules), "workers": workers, "machine": _machine(), "presets": {}}
    for preset in ("fast", "full"):
        with tempfile.TemporaryDirectory() as tmp:
            cache_path = Path(tmp) / "descriptors.sqlite"
            settings = QMSettings.preset_named(preset)
            start = time.perf_counter()
            cold = featurize(molecules, settings, cache=cache_path, n_workers=workers, progress=False)
            cold_s = time.perf_counter() - start
            with DescriptorCache(cache_path) as cache:
                rows = cache._conn.execute("SELECT seconds FROM descriptors").fetchall()
                per_molecule = [r[0] for r in rows]
                identities = [r[0] for r in cache._conn.execute("SELECT identity FROM descriptors")]
                token = settings.cache_token()
                start = time.perf_counter()
                for _ in range(20):
                    cache.get_descriptors(identities, token)
                lookup_s = (time.perf_counter() - start) / 20
            start = time.perf_counter()
            warm = featurize(molecules, settings, cache=cache_path, n_workers=workers, progress=False)
            warm_s = time.perf_counter() - start
        statuses = cold["status"].value_counts().to_dict()
        report["presets"][preset] = {
            "wall_s": round(cold_s, 2),
            "molecules_per_s_per_core": round(len(molecules) / cold_s / workers, 2),
            "qm_s_per_molecule_median": round(statistics.median(per_molecule), 3),
            "qm_s_per_molecule_mean": round(statistics.fmean(per_molecule), 3),
            "qm_molecules_per_s_per_core": round(1.0 / statistics.fmean(per_molecule), 2),
            "statuses": statuses,
            "failures": cold.loc[cold["status"] != "ok", ["input", "status", "error"]].to_dict("records"),
            "warm_featurize_molecules_per_s": round(len(molecules) / warm_s, 1),
            "warm_cache_hits": warm.attrs["featurize"]["cache_hits"],
            "cache_lookup_molecules_per_s": round(len(identities) / lookup_s, 1),
        }
        print(preset, json.dumps({k: v for k, v in report["presets"][preset].items() if k != "failures"}))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "featurize.json")
    args = parser.parse_args()
    report = run(args.n, args.workers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
