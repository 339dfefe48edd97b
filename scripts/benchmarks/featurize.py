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


def step_breakdown(molecules: list[str], n_conformers: int) -> dict[str, float]:
    """Milliseconds per molecule of each step of the `fast` preset, in this process (1 thread)."""
    from contextlib import contextmanager

    import numpy as np

    from discovery.chem import parse_molecule
    from discovery.chem.conformers import embed_conformers
    from discovery.features.backends import BOHR_PER_ANGSTROM, TBLiteBackend

    backend = TBLiteBackend()
    totals: dict[str, float] = {}

    @contextmanager
    def step(name: str):
        start = time.perf_counter()
        yield
        totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

    for smiles in molecules:
        mol = parse_molecule(smiles).mol
        with step(f"embed_{n_conformers}_conformers_mmff"):
            _, conformers = embed_conformers(mol, n_conformers, 0)
        z, xyz = conformers[0].numbers, conformers[0].positions_angstrom * BOHR_PER_ANGSTROM
        with step("scf_gas"):
            gas = backend.singlepoint(z, xyz)
        with step("scf_cation_anion"):
            backend.singlepoint(z, xyz, charge=1, uhf=1)
            backend.singlepoint(z, xyz, charge=-1, uhf=1)
        with step("scf_3_fields"):
            for axis in range(3):
                backend.singlepoint(z, xyz, field_au=np.eye(3)[axis] * 5e-4, guess=gas)
        with step("scf_alpb_water_octanol"):
            for solvent in ("water", "octanol"):
                backend.singlepoint(z, xyz, solvent=solvent, guess=gas)
    return {k: round(1000 * v / len(molecules), 1) for k, v in totals.items()}


def run(n: int, workers: int) -> dict[str, object]:
    molecules = diverse_molecules(n, seed=0, max_heavy_atoms=20)
    report: dict[str, object] = {"molecules": len(molecules), "workers": workers, "machine": _machine(), "presets": {}}
    for preset in ("fast", "full"):
        with tempfile.TemporaryDirectory() as tmp:
            cache_path = Path(tmp) / "descriptors.sqlite"
            settings = QMSettings(preset=preset)
            start = time.perf_counter()
            cold = featurize(molecules, settings, cache=cache_path, n_workers=workers, progress=False)
            cold_s = time.perf_counter() - start
            with DescriptorCache(cache_path) as cache:
                rows = cache._conn.execute("SELECT seconds FROM descriptors").fetchall()
                per_molecule = [r[0] for r in rows]
                identities = [r[0] for r in cache._conn.execute("SELECT identity FROM descriptors")]
                token = settings.cache_token(polymer=False)
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
    os.environ["OMP_NUM_THREADS"] = "1"
    report["fast_step_ms_per_molecule"] = step_breakdown(molecules, QMSettings(preset="fast").n_conformers)
    print("fast steps (ms/molecule):", report["fast_step_ms_per_molecule"])
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
