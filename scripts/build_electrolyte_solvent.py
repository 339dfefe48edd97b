"""Build the lookup table of the `electrolyte_solvent` backtest from the `chemicals` package.

    python scripts/build_electrolyte_solvent.py

Writes `campaigns/electrolyte_solvent/lookup.csv`: every liquid of up to 20 heavy atoms with both a
CRC relative permittivity at 298.15 K and a normal boiling point (K) in `chemicals`, one row each.
"""

from __future__ import annotations

from pathlib import Path

from discovery.datasets import load_property

OUT = Path(__file__).resolve().parent.parent / "campaigns" / "electrolyte_solvent"


def main() -> None:
    permittivity = load_property("relative_permittivity", max_heavy_atoms=20)[["smiles", "value"]]
    boiling = load_property("boiling_point_k", max_heavy_atoms=20)[["smiles", "value"]]
    table = permittivity.rename(columns={"value": "relative_permittivity"}).merge(
        boiling.rename(columns={"value": "boiling_point_k"}), on="smiles")
    OUT.mkdir(parents=True, exist_ok=True)
    table.sort_values("smiles").to_csv(OUT / "lookup.csv", index=False)
    print(f"{len(table)} liquids -> {OUT / 'lookup.csv'}")


if __name__ == "__main__":
    main()
