"""Descriptors derived from the GFN2-xTB ones by physics: the permittivity a molecule's
polarisability and dipole imply, through Clausius–Mossotti and Onsager.

A relative permittivity has an electronic part, set by the polarisability per volume
(Clausius–Mossotti: (ε∞ − 1)/(ε∞ + 2) = (4π/3)·α/V), and an orientational part growing with the
squared dipole per volume, y = (4π/3)·μ²/(3 k_B T V) (Debye); both in Gaussian atomic units.
Debye's equation diverges for polar liquids and polymers at these y; Onsager's (J. Am. Chem. Soc.
58, 1486 (1936): (ε − ε∞)(2ε + ε∞) / (ε (ε∞ + 2)²) = y) does not, and gives ε∞ at y = 0. A
model on a log target can use the logarithm of the implied permittivity directly. The volume is
the van der Waals volume divided by the packing coefficient of amorphous polymers at room
temperature, 0.681 (van Krevelen & te Nijenhuis, Properties of Polymers, 4th ed., ch. 4), so it
approximates the volume a repeat unit (or molecule) occupies in the bulk.

These are computed from the cached descriptors when a table is featurised (no QM, not cached
themselves), so adding them changes no cache key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import units

from discovery.features.qm import DESCRIPTORS, Descriptor

#: V_w / V of amorphous polymers at 298 K (van Krevelen & te Nijenhuis, ch. 4).
PACKING_COEFFICIENT = 0.681
TEMPERATURE_K = 298.15
#: Above this, Clausius–Mossotti diverges (the "polarisation catastrophe"): GFN2-xTB overestimates
#: the polarisability of strongly conjugated units, and the ratio is capped rather than inverted.
_MAX_RATIO = 0.95

_BOHR3_PER_A3 = 1.0 / units.Bohr**3
_KT_HARTREE = units.kB * TEMPERATURE_K / units.Hartree
_DEBYE_IN_AU = units.Debye / units.Bohr  # e·Bohr per Debye

DERIVED: tuple[Descriptor, ...] = (
    Descriptor("ln_electronic_permittivity", "ln(1)",
               "ln ε∞ with ε∞ = (1 + 2x)/(1 − x), x = (4π/3)·α/V (Clausius–Mossotti), α = polarizability_au, "
               "V = volume_a3 / 0.681 in Bohr³; x capped at 0.95"),
    Descriptor("orientational_polarization", "1",
               "y = (4π/3)·μ²/(3 k_B T V) at 298.15 K (Debye), μ = dipole_debye in e·Bohr, V as above"),
    Descriptor("ln_static_permittivity", "ln(1)",
               "ln ε, ε the root ≥ ε∞ of Onsager's (ε − ε∞)(2ε + ε∞) = y (ε∞ + 2)² ε"),
)
DERIVED_NAMES: tuple[str, ...] = tuple(d.name for d in DERIVED)
#: The descriptors they are computed from.
INPUTS = ("polarizability_au", "volume_a3", "dipole_debye")


def add_derived(table: pd.DataFrame) -> pd.DataFrame:
    """`table` with the `DERIVED` columns added after its descriptor columns (NaN where an input
    is missing); unchanged if it lacks an input column."""
    if any(c not in table.columns for c in INPUTS):
        return table
    volume = table["volume_a3"].to_numpy(float) * _BOHR3_PER_A3 / PACKING_COEFFICIENT
    with np.errstate(invalid="ignore", divide="ignore"):
        electronic = 4.0 * np.pi / 3.0 * table["polarizability_au"].to_numpy(float) / volume
        orientational = 4.0 * np.pi / 3.0 * (table["dipole_debye"].to_numpy(float) * _DEBYE_IN_AU) ** 2 / (3.0 * _KT_HARTREE * volume)
        values = {
            "ln_electronic_permittivity": np.log(_clausius_mossotti(electronic)),
            "orientational_polarization": orientational,
            "ln_static_permittivity": np.log(_onsager(_clausius_mossotti(electronic), orientational)),
        }
    out = table.drop(columns=[n for n in DERIVED_NAMES if n in table.columns])
    after = max(out.columns.get_loc(d.name) for d in DESCRIPTORS if d.name in out.columns) + 1
    for offset, name in enumerate(DERIVED_NAMES):
        out.insert(after + offset, name, values[name])
    return out


def _onsager(eps_inf: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The root ε ≥ ε∞ of 2ε² − (ε∞ + y(ε∞ + 2)²)·ε − ε∞² = 0 (Onsager's equation)."""
    b = eps_inf + y * (eps_inf + 2.0) ** 2
    return (b + np.sqrt(b * b + 8.0 * eps_inf * eps_inf)) / 4.0


def _clausius_mossotti(ratio: np.ndarray) -> np.ndarray:
    """ε = (1 + 2r)/(1 − r), r capped at `_MAX_RATIO`; NaN stays NaN."""
    r = np.minimum(ratio, _MAX_RATIO)
    return (1.0 + 2.0 * r) / (1.0 - r)
