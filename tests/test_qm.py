"""Real GFN2-xTB calculations on small molecules: trends a chemist knows."""

import numpy as np
import pytest

from discovery.chem import parse_molecule
from discovery.features.backends import BOHR_PER_ANGSTROM, TBLiteBackend
from discovery.features.qm import DescriptorCalculator, QMError, descriptor_names
from discovery.features.settings import QMSettings


@pytest.fixture(scope="module")
def fast():
    calc = DescriptorCalculator(QMSettings(preset="fast"))
    return lambda smiles: calc.compute(parse_molecule(smiles))[0]


@pytest.fixture(scope="module")
def full():
    calc = DescriptorCalculator(QMSettings(preset="full"))
    return lambda smiles: calc.compute(parse_molecule(smiles))[0]


def test_every_descriptor_is_finite_and_named_with_a_unit(fast):
    values = fast("CC(=O)Nc1ccc(O)cc1")
    assert list(values) == descriptor_names(QMSettings())
    assert all(np.isfinite(v) for v in values.values())
    assert values["gap_ev"] == pytest.approx(values["lumo_ev"] - values["homo_ev"])
    assert values["charge_min_e"] < 0 < values["charge_max_e"]


def test_water_solvates_more_strongly_than_octane(fast):
    water, octane = fast("O"), fast("CCCCCCCC")
    assert water["solvation_water_kcal_mol"] < -5
    assert water["solvation_water_kcal_mol"] < octane["solvation_water_kcal_mol"] - 3
    # and octane prefers octanol to water
    assert octane["solvation_octanol_kcal_mol"] < octane["solvation_water_kcal_mol"]


def test_polarisability_grows_along_the_alkane_series(fast):
    alphas = [fast("C" * n)["polarizability_au"] for n in range(1, 7)]
    assert all(b > a for a, b in zip(alphas, alphas[1:]))
    # experiment: methane ~17 Bohr^3; GFN2's minimal basis underestimates small molecules ~2-3x
    assert 3 < alphas[0] < 30
    assert alphas[-1] > 5 * alphas[0]


def test_nitro_group_lowers_the_lumo(fast):
    assert fast("c1ccccc1[N+](=O)[O-]")["lumo_ev"] < fast("c1ccccc1")["lumo_ev"] - 1.0


def test_polar_molecule_has_a_dipole_and_benzene_none(fast):
    assert fast("c1ccccc1")["dipole_debye"] < 0.05
    assert fast("CC#N")["dipole_debye"] > 2.5


def test_polymer_descriptors_are_per_repeat_unit(fast):
    pe = fast("[*]CC[*]")
    ps = fast("[*]CC([*])c1ccccc1")
    assert pe["molecular_weight_g_mol"] == pytest.approx(28.054, abs=0.01)
    assert ps["molecular_weight_g_mol"] == pytest.approx(104.152, abs=0.01)
    # a styrene unit is far more polarisable than an ethylene unit; the end groups are subtracted,
    # so a C2H4 unit is ~ethane-sized (GFN2 ~17 Bohr³ for ethane, see the alkane test)
    assert ps["polarizability_au"] > 2.5 * pe["polarizability_au"]
    assert 8 < pe["polarizability_au"] < 25


@pytest.mark.parametrize("psmiles", ["[*]CC[*]", "[*]CC([*])C", "[*]CC([*])(F)F"])
def test_a_repeat_unit_has_the_same_extensive_descriptors_as_monomer_dimer_and_trimer(psmiles):
    """End groups subtracted: additive descriptors per unit do not depend on the oligomer length."""
    by_length = [DescriptorCalculator(QMSettings(oligomer_length=n, oligomer_max_heavy_atoms=None))
                 .compute(parse_molecule(psmiles))[0] for n in (1, 2, 3)]
    for name in ("volume_a3", "polarizability_au"):
        values = [v[name] for v in by_length]
        assert max(values) < 1.05 * min(values), (name, values)
    # (the caps' share alone would make a monomer's volume per unit ~45 Å³ larger than a trimer's)
    if "F" not in psmiles:  # a polar chain's solvation follows its conformation's net dipole
        water = [v["solvation_water_kcal_mol"] for v in by_length]
        assert max(water) - min(water) < 0.5


def test_a_large_repeat_unit_is_computed_on_fewer_units_within_the_budget(fast):
    from discovery.chem.polymer import oligomer_units

    budget = QMSettings().oligomer_max_heavy_atoms  # 60
    assert oligomer_units(parse_molecule("[*]CC([*])c1ccccc1"), 3, budget) == 3
    peek = parse_molecule("[*]Oc1ccc(cc1)Oc1ccc(cc1)C(=O)c1ccc([*])cc1")  # 22 heavy atoms
    assert oligomer_units(peek, 3, budget) == 2
    assert oligomer_units(peek, 3, None) == 3
    assert oligomer_units(peek, 3, 40) == 1
    assert oligomer_units(peek, 3, 5) == 1  # larger than the budget: still one unit
    pei = "[*]N1C(=O)c2ccc(cc2C1=O)Oc1ccc(cc1)C(C)(C)c1ccc(cc1)Oc1ccc2C(=O)N(C(=O)c2c1)c1cccc([*])c1"
    assert oligomer_units(parse_molecule(pei), 3, budget) == 1
    # and the descriptors are still per repeat unit (volume of C19H12O3 ~ 250 Å³)
    assert 200 < fast(peek.input)["volume_a3"] < 300


def test_acid_base_energies_follow_chemistry(full):
    acid, alkane, amine, arene = full("CC(=O)O"), full("CC"), full("CCN(CC)CC"), full("c1ccccc1")
    for values in (acid, alkane, amine, arene):
        assert set(values) == set(descriptor_names(QMSettings(preset="full")))
    assert acid["deprotonation_energy_ev"] < alkane["deprotonation_energy_ev"] - 1.0
    assert amine["protonation_energy_ev"] < arene["protonation_energy_ev"] - 1.0


def test_scf_failure_is_reported_with_its_reason():
    calc = DescriptorCalculator(QMSettings(max_scf_iterations=1))
    with pytest.raises(QMError) as info:
        calc.compute(parse_molecule("c1ccccc1O"))
    assert "SCF failed on every retry" in info.value.reason
    assert "conformer 0" in info.value.reason


def test_oversized_molecule_is_refused_before_any_qm():
    calc = DescriptorCalculator(QMSettings(max_atoms=10))
    with pytest.raises(QMError, match="exceed the limit"):
        calc.compute(parse_molecule("CCCCCC"))


def test_xtb_backend_agrees_with_tblite_on_energies():
    pytest.importorskip("xtb.interface")
    from discovery.features.backends import XTBBackend
    from discovery.chem.conformers import embed_conformers

    tblite, xtb = TBLiteBackend(), XTBBackend()
    for smiles in ("O", "CC(=O)Nc1ccc(O)cc1", "FC(F)(F)c1ccncc1"):
        _, confs = embed_conformers(parse_molecule(smiles).mol, 1, seed=0)
        numbers, positions = confs[0].numbers, confs[0].positions_angstrom * BOHR_PER_ANGSTROM
        a = tblite.singlepoint(numbers, positions)
        b = xtb.singlepoint(numbers, positions)
        assert a.energy_hartree == pytest.approx(b.energy_hartree, abs=1e-5)
        assert np.allclose(a.dipole_au, b.dipole_au, atol=1e-3)
        cation_a = tblite.singlepoint(numbers, positions, charge=1, uhf=1)
        cation_b = xtb.singlepoint(numbers, positions, charge=1, uhf=1)
        assert cation_a.energy_hartree == pytest.approx(cation_b.energy_hartree, abs=1e-4)


def test_xtb_backend_produces_the_same_columns():
    pytest.importorskip("xtb.interface")
    values, _ = DescriptorCalculator(QMSettings(backend="xtb")).compute(parse_molecule("CCO"))
    reference, _ = DescriptorCalculator(QMSettings()).compute(parse_molecule("CCO"))
    assert list(values) == list(reference)
    assert values["homo_ev"] == pytest.approx(reference["homo_ev"], abs=0.01)
    assert values["polarizability_au"] == pytest.approx(reference["polarizability_au"], rel=0.2)
