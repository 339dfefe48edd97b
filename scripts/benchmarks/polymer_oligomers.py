"""Oligomer by size: featurisation time of 300 mixed-size polymers, and what it costs the model (issue 20).

    python scripts/benchmarks/polymer_oligomers.py [--n 300] [--large-fraction 0.2] [--sample 30]
        [--workers 2] [--out scripts/benchmarks/results/polymer_oligomers.json]

Polymers: a pool generated from the 45 seeds of `polymer_dielectric` with the campaign's polymer
pool settings, widened to 50 heavy atoms per repeat unit and BRICS products of up to 4 fragments
(seed 0); `--n` of them drawn at random (seed 0), a `--large-fraction` with 35-50 heavy atoms per
repeat unit and the rest below 35.

- `timing`: all of them featurised cold (fresh cache) with the default `fast` preset, whose
  oligomer is chosen by size (`qm.oligomer_max_heavy_atoms`), on `--workers` processes: wall time,
  per-molecule QM seconds by size class, outcomes.
- `agreement`: the 45 seeds plus `--sample` generated units of 14-34 heavy atoms (where the
  policy builds fewer than three units) also featurised as trimers (`oligomer_max_heavy_atoms`
  null): Spearman rank correlation of every descriptor between the two, QM seconds of each.
- `loo`: the campaign's model (`conf/campaign/polymer_dielectric.yaml`: log target, `qm+derived`
  descriptors, `loo_tails` calibration) on the 45 seeds with each featurisation: PSIS leave-one-out
  RMSE, 90 % coverage and median upper/lower ratio of the 90 % interval.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from discovery.chem import parse_molecule
from discovery.chem.polymer import oligomer_units, repeat_unit_heavy_atoms
from discovery.features import DescriptorCache, QMSettings, descriptor_names, featurize
from discovery.features.derived import DERIVED_NAMES
from discovery.files import atomic_write_text
from discovery.pool import PoolSettings, generate_pool

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "campaigns" / "polymer_dielectric" / "seed.csv"
LARGE = (35, 50)  # heavy atoms per repeat unit of the "large" class the issue names


def mixed_polymers(n: int, large_fraction: float, seed: int = 0) -> pd.DataFrame:
    """`n` generated repeat units, `large_fraction` of them with 35-50 heavy atoms (columns smiles, heavy_atoms)."""
    config = yaml.safe_load((ROOT / "conf" / "pool" / "polymer.yaml").read_text())
    config.pop("defaults", None)
    config["filters"]["max_heavy_atoms"] = LARGE[1]
    config["brics"].update(max_fragments=4, max_products=3000)
    config["max_candidates"] = 6000
    config.pop("screening", None)
    pool = generate_pool(list(pd.read_csv(SEEDS)["psmiles"]), PoolSettings.from_dict(config), seed=seed)
    smiles = list(pool.candidates["smiles"])
    sizes = np.array([repeat_unit_heavy_atoms(parse_molecule(s)) for s in smiles])
    rng = np.random.default_rng(seed)
    n_large = round(n * large_fraction)
    large = np.flatnonzero((sizes >= LARGE[0]) & (sizes <= LARGE[1]))
    small = np.flatnonzero(sizes < LARGE[0])
    if len(large) < n_large or len(small) < n - n_large:
        raise SystemExit(f"the generated pool has {len(large)} large and {len(small)} other units; need {n_large} and {n - n_large}")
    rows = np.concatenate([rng.choice(large, n_large, replace=False), rng.choice(small, n - n_large, replace=False)])
    return pd.DataFrame({"smiles": [smiles[i] for i in rows], "heavy_atoms": sizes[rows]})


def _size_class(heavy_atoms: int) -> str:
    return "2-13" if heavy_atoms <= 13 else "14-20" if heavy_atoms <= 20 else "21-34" if heavy_atoms < LARGE[0] else "35-50"


def _qm_seconds(cache_path: Path, settings: QMSettings) -> dict[str, float]:
    """QM seconds per polymer identity, from the cache rows these settings wrote."""
    with DescriptorCache(cache_path) as cache:
        rows = cache._conn.execute("SELECT identity, seconds FROM descriptors WHERE settings_token = ?",
                                   (settings.cache_token(polymer=True),)).fetchall()
    return dict(rows)


def timing(polymers: pd.DataFrame, cache_path: Path, workers: int) -> dict:
    settings = QMSettings()
    start = time.perf_counter()
    frame = featurize(list(polymers["smiles"]), settings, cache=cache_path, n_workers=workers, progress=False)
    wall = time.perf_counter() - start
    seconds = _qm_seconds(cache_path, settings)
    classes = [_size_class(h) for h in polymers["heavy_atoms"]]
    by_class = {}
    units = [oligomer_units(parse_molecule(s), settings.oligomer_length, settings.oligomer_max_heavy_atoms)
             for s in polymers["smiles"]]
    for label in ("2-13", "14-20", "21-34", "35-50"):
        rows = [k for k, c in enumerate(classes) if c == label]
        own = [seconds[i] for i in frame["identity"].iloc[rows] if i in seconds]
        if own:
            by_class[label] = {"n": len(rows), "units": sorted({units[k] for k in rows}),
                               "qm_s_median": round(statistics.median(own), 2), "qm_s_max": round(max(own), 2),
                               "qm_s_total": round(sum(own), 1)}
    return {"n": int(len(polymers)), "workers": workers, "wall_s": round(wall, 1),
            "oligomer_max_heavy_atoms": settings.oligomer_max_heavy_atoms,
            "status": frame["status"].value_counts().to_dict(), "by_size": by_class}


def agreement(smiles: list[str], cache_path: Path, workers: int) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    by_size, trimers = QMSettings(), QMSettings(oligomer_max_heavy_atoms=None)
    frames = {}
    for label, settings in (("by_size", by_size), ("trimer", trimers)):
        frames[label] = featurize(smiles, settings, cache=cache_path, n_workers=workers, progress=False)
    ok = (frames["by_size"]["status"] == "ok").to_numpy() & (frames["trimer"]["status"] == "ok").to_numpy()
    units = np.array([oligomer_units(parse_molecule(s), 3, by_size.oligomer_max_heavy_atoms) for s in smiles])
    differ = ok & (units < 3)
    names = descriptor_names(by_size) + list(DERIVED_NAMES)
    spearman = {}
    for name in names:
        a, b = frames["by_size"][name][differ], frames["trimer"][name][differ]
        whole_a, whole_b = frames["by_size"][name][ok], frames["trimer"][name][ok]
        spearman[name] = {"where_shorter": round(float(a.corr(b, method="spearman")), 3),
                          "all": round(float(whole_a.corr(whole_b, method="spearman")), 3)}
    seconds = {label: _qm_seconds(cache_path, s) for label, s in (("by_size", by_size), ("trimer", trimers))}
    shorter = [i for i, d in zip(frames["by_size"]["identity"], differ, strict=True) if d]
    qm = {label: round(sum(seconds[label].get(i, 0.0) for i in shorter), 1) for label in seconds}
    return ({"n": int(ok.sum()), "n_shorter": int(differ.sum()), "qm_s_of_the_shorter": qm, "spearman": spearman},
            frames["by_size"], frames["trimer"])


def loo(frames: dict[str, pd.DataFrame], n_seeds: int) -> dict:
    from discovery.model.bayes import BayesianILR
    from discovery.report import loo_summary

    params = yaml.safe_load((ROOT / "conf" / "campaign" / "polymer_dielectric.yaml").read_text())["model"]["params"]
    y = pd.read_csv(SEEDS)["dielectric_constant"].to_numpy(float)
    out = {}
    for label, frame in frames.items():
        X = frame.iloc[:n_seeds].reset_index(drop=True)
        ok = (X["status"] == "ok").to_numpy()
        model = BayesianILR(**params, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[ok], y[ok])
        cv = loo_summary(model, X[ok], y[ok], (1.0, None))
        truth = y[ok]
        out[label] = {"n": int(ok.sum()),
                      "rmse": round(float(np.sqrt(np.mean((cv["mean"] - truth) ** 2))), 3),
                      "coverage_90": round(float(np.mean((truth >= cv["lower_90"]) & (truth <= cv["upper_90"]))), 2),
                      "median_ratio_90": round(float(np.median(cv["upper_90"] / cv["lower_90"])), 2),
                      "max_rhat": round(model.diagnostics_.max_rhat, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--large-fraction", type=float, default=0.2)
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "polymer_oligomers.json")
    args = parser.parse_args()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report: dict = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
                    "commit": commit, "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv)}
    polymers = mixed_polymers(args.n, args.large_fraction)
    with tempfile.TemporaryDirectory() as tmp:
        cache_path = Path(tmp) / "descriptors.sqlite"
        if not args.skip_timing:
            report["timing"] = timing(polymers, cache_path, args.workers)
            print(json.dumps(report["timing"], indent=1), flush=True)
        medium = polymers[(polymers["heavy_atoms"] >= 14) & (polymers["heavy_atoms"] < LARGE[0])]
        sample = medium.sample(n=min(args.sample, len(medium)), random_state=0)
        seeds = list(pd.read_csv(SEEDS)["psmiles"])
        report["agreement"], by_size, trimer = agreement(seeds + list(sample["smiles"]), cache_path, args.workers)
        print(json.dumps({k: v for k, v in report["agreement"].items() if k != "spearman"}), flush=True)
        report["loo"] = loo({"by_size": by_size, "trimer": trimer}, len(seeds))
        print(json.dumps(report["loo"]), flush=True)
    atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
