"""Physically derived descriptors: Clausius–Mossotti and Debye from the QM columns."""

import math

import numpy as np
import pandas as pd
from ase import units

from discovery.features.derived import DERIVED_NAMES, PACKING_COEFFICIENT, add_derived


def _table(alpha, volume, dipole):
    return pd.DataFrame({"smiles": ["C"] * len(alpha), "volume_a3": volume, "polarizability_au": alpha,
                         "dipole_debye": dipole, "gap_ev": 1.0, "aromatic_ring": 0, "status": "ok"})


def test_clausius_mossotti_and_debye_by_hand():
    out = add_derived(_table([24.0, 24.0, np.nan], [40.0, 40.0, 40.0], [0.0, 2.0, 1.0]))
    eps = np.exp(out["ln_static_permittivity"])
    # descriptor columns stay together: the derived ones follow the last descriptor column
    assert list(out.columns[:8]) == ["smiles", "volume_a3", "polarizability_au", "dipole_debye", "gap_ev", *DERIVED_NAMES]
    volume_bohr3 = 40.0 / units.Bohr**3 / PACKING_COEFFICIENT
    x = 4 * math.pi / 3 * 24.0 / volume_bohr3
    assert out.loc[0, "ln_electronic_permittivity"] == math.log((1 + 2 * x) / (1 - x))
    # no dipole, no orientational part: static = electronic
    assert out.loc[0, "orientational_polarization"] == 0.0
    assert out.loc[0, "ln_static_permittivity"] == out.loc[0, "ln_electronic_permittivity"]
    mu_au = 2.0 * units.Debye / units.Bohr
    kt = units.kB * 298.15 / units.Hartree
    y = 4 * math.pi / 3 * mu_au**2 / (3 * kt * volume_bohr3)
    assert math.isclose(out.loc[1, "orientational_polarization"], y, rel_tol=1e-12)
    # Onsager's equation holds, and a 2 D dipole in 40 Å³ raises ε far above ε∞ without diverging
    eps_inf = (1 + 2 * x) / (1 - x)
    assert math.isclose((eps[1] - eps_inf) * (2 * eps[1] + eps_inf), y * (eps_inf + 2) ** 2 * eps[1], rel_tol=1e-9)
    assert 5 * eps_inf < eps[1] < 100
    # a missing input gives NaN where it is needed, not an error
    assert out.loc[2, ["ln_electronic_permittivity", "ln_static_permittivity"]].isna().all()
    assert np.isfinite(out.loc[2, "orientational_polarization"])


def test_the_polarisation_catastrophe_is_capped_and_tables_without_inputs_pass_through():
    out = add_derived(_table([1e4], [10.0], [0.0]))
    assert np.isfinite(out["ln_electronic_permittivity"]).all()
    assert out.loc[0, "ln_electronic_permittivity"] == math.log((1 + 2 * 0.95) / (1 - 0.95))
    plain = pd.DataFrame({"smiles": ["C"], "homo_ev": [-10.0]})
    assert add_derived(plain) is plain
