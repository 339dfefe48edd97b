import pytest
from rdkit import Chem

from discovery.chem import MoleculeError, build_oligomer, parse_molecule, parse_molecules
from discovery.chem.conformers import embed_conformers
from discovery.chem.repeat_unit import backbone_atoms


def test_same_molecule_written_differently_has_one_identity():
    a = parse_molecule("OCC")
    b = parse_molecule("C(O)C")
    assert a.smiles == b.smiles == "CCO"
    assert a.identity == b.identity == "LFQSCWFLJHTTHZ-UHFFFAOYSA-N"
    assert a.inchikey == a.identity


def test_standardisation_keeps_largest_fragment_and_neutralises():
    salt = parse_molecule("CC(=O)[O-].[Na+]")
    assert salt.smiles == "CC(=O)O"
    zwitter_free = parse_molecule("C[NH3+].[Cl-]")
    assert zwitter_free.smiles == "CN"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("C1CC", "unparsable"),
        ("not a smiles", "unparsable"),
        ("", "empty"),
        ("C[C](C)C", "radical"),
        ("[*]CC", "exactly two attachment points [*], found 1"),
        ("[*]C([*])C[*]", "found 3"),
        ("[*]=CC=[*]", "single bonds"),
    ],
)
def test_invalid_input_gives_a_clear_reason(text, reason):
    with pytest.raises(MoleculeError) as info:
        parse_molecule(text)
    assert reason in info.value.reason
    assert info.value.input == text


def test_batch_never_raises():
    out = parse_molecules(["CCO", "C1CC", "[*]CC[*]", "[*]C"])
    assert [type(x).__name__ for x in out] == ["Molecule", "MoleculeError", "Molecule", "MoleculeError"]


@pytest.mark.parametrize("text", ["[*]CC([*])c1ccccc1", "*CC(*)c1ccccc1", "[*:1]CC([*:2])c1ccccc1", "[*]C(c1ccccc1)C[*]"])
def test_both_polymer_notations_are_one_repeat_unit(text):
    m = parse_molecule(text)
    assert m.is_polymer
    assert m.smiles == "[*]CC([*])c1ccccc1"
    assert m.identity == "polymer:[*]CC([*])c1ccccc1"
    assert m.inchikey is None


def test_oligomer_is_capped_and_has_n_units():
    pe = parse_molecule("[*]CC[*]")
    assert Chem.MolToSmiles(build_oligomer(pe, 3, "CH3")) == "CCCCCCCC"
    assert Chem.MolToSmiles(build_oligomer(pe, 2, "H")) == "CCCC"
    pet = parse_molecule("[*]OC(=O)c1ccc(cc1)C(=O)OCC[*]")
    trimer = build_oligomer(pet, 3)
    assert all(a.GetAtomicNum() > 0 for a in trimer.GetAtoms())
    # 14 heavy atoms per unit plus two methyl caps
    assert trimer.GetNumHeavyAtoms() == 3 * 14 + 2
    assert Chem.MolToSmiles(trimer).count("OC(=O)") + Chem.MolToSmiles(trimer).count("C(=O)O") >= 6


def test_backbone_path_excludes_side_groups():
    ps = parse_molecule("[*]CC([*])c1ccccc1")
    assert len(backbone_atoms(ps.mol)) == 2


def test_conformers_are_sorted_by_energy_and_deterministic():
    mol = parse_molecule("CCCCO").mol
    molh, confs = embed_conformers(mol, 4, seed=7)
    energies = [c.force_field_energy_kcal_mol for c in confs]
    assert energies == sorted(energies)
    assert confs[0].positions_angstrom.shape == (molh.GetNumAtoms(), 3)
    _, again = embed_conformers(mol, 4, seed=7)
    assert (again[0].positions_angstrom == confs[0].positions_angstrom).all()


@pytest.mark.parametrize(
    "text, minimal",
    [
        ("[*]CCCC[*]", "[*]CC[*]"),
        ("[*]CCCCCC[*]", "[*]CC[*]"),
        ("[*]CCC[*]", "[*]CC[*]"),  # three CH2 -> the two-carbon unit of polyethylene
        ("[*]C[*]", "[*]CC[*]"),  # one main-chain atom is doubled
        ("[*]C([*])(F)F", "[*]C(F)(F)C([*])(F)F"),
        ("[*]CC(C)CC(C)[*]", "[*]CC([*])C"),
        ("[*]C(c1ccccc1)CC(c1ccccc1)C[*]", "[*]CC([*])c1ccccc1"),
        ("[*]c1ccc(cc1)-c1ccc([*])cc1", "[*]c1ccc([*])cc1"),
        ("[*]Oc1ccc(cc1)Oc1ccc([*])cc1", "[*]Oc1ccc([*])cc1"),
        ("[*]CCOCCO[*]", "[*]CCO[*]"),
        ("[*]C/C=C\\CC/C=C\\C[*]", "[*]C/C=C\\C[*]"),
        ("[*]C[C@H](C)C[C@H](C)[*]", "[*]C[C@@H]([*])C"),  # isotactic: both centres alike
    ],
)
def test_repeated_repeat_units_reduce_to_the_minimal_unit(text, minimal):
    reduced = parse_molecule(text)
    assert reduced.smiles == minimal
    assert reduced.identity == parse_molecule(minimal).identity


@pytest.mark.parametrize(
    "text",
    [
        "[*]C(F)CC(F)[*]",  # head-to-head: not two head-to-tail vinyl fluoride units
        "[*]C[C@H](C)C[C@@H](C)[*]",  # syndiotactic: the two centres differ
        "[*]CCOC[*]",  # four atoms, no two equal halves
        "[*]OC(=O)c1ccc(cc1)C(=O)OCC[*]",
        "[*]c1ccc2cc([*])ccc2c1",  # main chain through a fused ring: no cut inside
    ],
)
def test_minimal_repeat_units_are_left_alone(text):
    unit = parse_molecule(text)
    assert Chem.MolToSmiles(unit.mol) == Chem.MolToSmiles(Chem.MolFromSmiles(text))


def test_chain_key_is_the_same_for_every_cut_of_a_chain():
    from discovery.chem.repeat_unit import chain_key

    peo = {chain_key(parse_molecule(s).mol) for s in ["[*]CCO[*]", "[*]COC[*]", "[*]OCC[*]", "[*]COCCOC[*]"]}
    assert len(peo) == 1
    nylon6 = {chain_key(parse_molecule(s).mol) for s in ["[*]NCCCCCC([*])=O", "[*]CCCNC(=O)CC[*]", "[*]C(=O)NCCCCC[*]"]}
    assert len(nylon6) == 1
    assert chain_key(parse_molecule("[*]CCO[*]").mol) != chain_key(parse_molecule("[*]CCCO[*]").mol)
