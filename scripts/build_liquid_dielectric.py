"""Build the shipped seed data of the `liquid_dielectric` campaign from the `chemicals` package.

    python scripts/build_liquid_dielectric.py

Writes `campaigns/liquid_dielectric/seed.csv` (60 liquids drawn with seed 0 from those below the
70th percentile of the CRC relative permittivity at 298.15 K, so the campaign starts where the
high-permittivity liquids are unknown) and `campaigns/liquid_dielectric/lookup.csv` (the whole
table, for `campaign.mode=simulate` and backtests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from discovery.datasets import load_property

OUT = Path(__file__).resolve().parent.parent / "campaigns" / "liquid_dielectric"


def main() -> None:
    table = load_property("relative_permittivity", max_heavy_atoms=20)
    table = table[["smiles", "value"]].rename(columns={"value": "relative_permittivity"})
    low = table[table["relative_permittivity"] < table["relative_permittivity"].quantile(0.7)]
    seed = low.sample(n=60, random_state=np.random.RandomState(0)).sort_values("relative_permittivity")
    OUT.mkdir(parents=True, exist_ok=True)
    seed.to_csv(OUT / "seed.csv", index=False)
    table.to_csv(OUT / "lookup.csv", index=False)
    print(f"{len(seed)} seed rows, {len(table)} lookup rows -> {OUT}")


if __name__ == "__main__":
    main()
