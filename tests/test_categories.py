"""Chemical-category features: real molecules and polymers with known chemistry."""

from __future__ import annotations

import pytest
from rdkit import Chem

from discovery.chem import parse_molecule
from discovery.features.categories import (
    CATEGORY_NAMES,
    POLYMER_CATEGORY_NAMES,
    SMARTS_TABLE,
    category_features,
    category_frame,
)

PET = "[*]OC(=O)c1ccc(cc1)C(=O)OCC[*]"
POLYETHYLENE = "[*]CC[*]"
POLYSTYRENE = "[*]CC([*])c1ccccc1"
PVA = "[*]CC([*])O"
NYLON_66 = "[*]C(=O)NCCCCCCNC(=O)CCCCC[*]"
NYLON_6 = "[*]NCCCCCC(=O)[*]"
PDMS = "[*]O[Si](C)(C)[*]"
PTFE = "[*]C(F)(F)C(F)(F)[*]"
BPA_POLYCARBONATE = "[*]Oc1ccc(cc1)C(C)(C)c1ccc(cc1)OC(=O)[*]"
KAPTON = "[*]N1C(=O)c2cc3C(=O)N(c4ccc(Oc5ccc([*])cc5)cc4)C(=O)c3cc2C1=O"

#: One molecule that must hit each SMARTS category (so no pattern is dead).
SMARTS_EXAMPLES: dict[str, str] = {
    "acidic_site": "CC(=O)O",
    "basic_site": "c1ccncc1",
    "alcohol": "CCO",
    "phenol": "Oc1ccccc1",
    "ether": "CCOCC",
    "aldehyde": "CC=O",
    "ketone": "CC(C)=O",
    "carbonyl": "CC(C)=O",
    "carboxylic_acid": "CC(=O)O",
    "ester": "CCOC(C)=O",
    "lactone": "O=C1CCCO1",
    "amide": "CC(=O)NC",
    "lactam": "O=C1CCCCCN1",
    "imide": "O=C1NC(=O)c2ccccc12",
    "amine": "CCN",
    "amine_primary": "CCN",
    "amine_secondary": "CCNCC",
    "amine_tertiary": "CCN(CC)CC",
    "aniline": "Nc1ccccc1",
    "nitrile": "CC#N",
    "nitro": "O=[N+]([O-])c1ccccc1",
    "sulfone": "CS(C)(=O)=O",
    "sulfoxide": "CS(C)=O",
    "thioether": "CSC",
    "thiol": "CCS",
    "sulfonamide": "Cc1ccc(cc1)S(N)(=O)=O",
    "sulfonic_acid": "CS(=O)(=O)O",
    "urea": "NC(N)=O",
    "carbamate": "CCOC(N)=O",
    "carbonate": "COC(=O)OC",
    "anhydride": "CC(=O)OC(C)=O",
    "imine": "CC(C)=NC",
    "azo": "c1ccc(cc1)N=Nc1ccccc1",
    "epoxide": "CC1CO1",
    "alkene": "C=CC",
    "alkyne": "CC#C",
    "haloalkane": "CCCl",
    "haloarene": "Clc1ccccc1",
    "trifluoromethyl": "FC(F)(F)c1ccccc1",
    "siloxane": "C[Si](C)(C)O[Si](C)(C)C",
    "phosphate": "COP(=O)(OC)OC",
    "phosphonate": "CP(=O)(OC)OC",
}


def features(smiles: str) -> dict[str, int]:
    return category_features(parse_molecule(smiles))


def on(smiles: str) -> set[str]:
    """Names of the categories that are 1."""
    return {name for name, value in features(smiles).items() if value}


# --- shape -----------------------------------------------------------------------------------


def test_names_are_many_unique_snake_case() -> None:
    assert len(CATEGORY_NAMES) >= 45
    assert len(set(CATEGORY_NAMES)) == len(CATEGORY_NAMES)
    for name in CATEGORY_NAMES:
        # element symbols keep their case (has_Cl); everything else is lower_snake_case
        stem = name.split("_", 1)[1] if name.startswith("has_") else name
        assert name.startswith("has_") or name == name.lower(), name
        assert stem.replace("_", "").isalnum(), name
    assert set(POLYMER_CATEGORY_NAMES) <= set(CATEGORY_NAMES)
    assert {name for name, _, _ in SMARTS_TABLE} <= set(CATEGORY_NAMES)


def test_smarts_table_compiles() -> None:
    for name, smarts, description in SMARTS_TABLE:
        assert Chem.MolFromSmarts(smarts) is not None, name
        assert description


@pytest.mark.parametrize(
    "smiles",
    ["CCO", "c1ccncc1", "C[N+](C)(C)C", "C[Sn](C)(C)C", "[H][H]", "O", PET, PTFE, KAPTON,
     "[*]CC([*])C(=O)[O-]", "[*]C#C[*]", "[*]C[*]", "[*]S[*]"],
)  # fmt: skip
def test_values_are_01_ints_in_name_order(smiles: str) -> None:
    values = features(smiles)
    assert tuple(values) == CATEGORY_NAMES
    assert all(type(v) is int and v in (0, 1) for v in values.values())


# --- small molecules -------------------------------------------------------------------------


def test_acetic_acid() -> None:
    f = features("CC(=O)O")
    assert f["carboxylic_acid"] == f["acidic_site"] == f["carbonyl"] == f["hbond_donor"] == 1
    assert f["ester"] == f["basic_site"] == f["alcohol"] == f["ketone"] == 0


def test_ethyl_acetate() -> None:
    f = features("CCOC(C)=O")
    assert f["ester"] == f["carbonyl"] == f["hbond_acceptor"] == 1
    assert f["carboxylic_acid"] == f["hbond_donor"] == f["acidic_site"] == 0
    assert f["ether"] == 0  # the ester oxygen is not an ether


def test_pyridine() -> None:
    f = features("c1ccncc1")
    assert f["heteroaromatic_ring"] == f["aromatic_ring"] == f["basic_site"] == f["aromatic_bond"] == 1
    assert f["single_bond"] == f["amine"] == f["fused_rings"] == 0


def test_nitrobenzene_nitro_is_not_charged() -> None:
    f = features("O=[N+]([O-])c1ccccc1")
    assert f["nitro"] == f["aromatic_ring"] == f["has_N"] == 1
    # the charge-separated nitro group is neutral overall
    assert f["charged"] == 0
    assert f["amine"] == f["heteroaromatic_ring"] == 0


def test_triethylamine() -> None:
    f = features("CCN(CC)CC")
    assert f["amine"] == f["amine_tertiary"] == f["basic_site"] == 1
    assert f["amine_primary"] == f["amine_secondary"] == f["hbond_donor"] == f["aniline"] == 0


def test_aniline_is_not_a_basic_site_but_an_amine() -> None:
    f = features("Nc1ccccc1")
    assert f["aniline"] == f["amine_primary"] == f["amine"] == 1
    assert f["basic_site"] == 0


def test_amide_nitrogen_is_not_an_amine() -> None:
    f = features("CC(=O)N(C)C")
    assert f["amide"] == 1
    assert f["amine"] == f["amine_tertiary"] == f["basic_site"] == 0


def test_acetonitrile() -> None:
    f = features("CC#N")
    assert f["nitrile"] == f["triple_bond"] == f["pi_system"] == 1
    assert f["alkyne"] == f["aromatic_bond"] == f["ring"] == 0


def test_dmso_is_sulfoxide_not_sulfone() -> None:
    f = features("CS(C)=O")
    assert f["sulfoxide"] == f["has_S"] == 1
    assert f["sulfone"] == f["thioether"] == f["charged"] == 0


def test_chlorobenzene_is_haloarene_not_haloalkane() -> None:
    f = features("Clc1ccccc1")
    assert f["haloarene"] == f["halogen"] == f["has_Cl"] == 1
    assert f["haloalkane"] == f["has_F"] == 0


def test_spiro_fused_bridged() -> None:
    spiro = features("C1CCC2(CC1)CCCC2")  # spiro[4.5]decane
    assert spiro["spiro"] == 1 and spiro["fused_rings"] == spiro["bridged_rings"] == 0
    naphthalene = features("c1ccc2ccccc2c1")
    assert naphthalene["fused_rings"] == 1 and naphthalene["spiro"] == naphthalene["bridged_rings"] == 0
    norbornane = features("C1CC2CCC1C2")
    assert norbornane["bridged_rings"] == 1 and norbornane["spiro"] == norbornane["fused_rings"] == 0
    assert features("c1ccc(cc1)-c1ccccc1")["fused_rings"] == 0  # biphenyl: two rings, not fused


def test_elements_and_other_element() -> None:
    assert on("C[Sn](C)(C)C") >= {"has_C", "has_H", "has_other_element"}
    assert features("ClC(Cl)(Cl)Cl")["has_H"] == 0
    assert features("OB(O)c1ccccc1")["has_B"] == 1
    assert features("CCO")["has_other_element"] == 0


def test_quaternary_ammonium_is_charged() -> None:
    f = features("C[N+](C)(C)C")
    assert f["charged"] == 1
    assert f["amine"] == f["basic_site"] == 0


def test_branching() -> None:
    assert features("CCCCCC")["branched"] == 0
    assert features("CC(C)CC")["branched"] == 1


def test_aromatic_lactam_and_imide_drawn_aromatic_by_rdkit() -> None:
    # RDKit writes these rings with aromatic c(=O)/n atoms; they are still amides/imides
    assert features("O=c1cccc[nH]1")["lactam"] == 1
    assert features("O=c1ccc2ccccc2o1")["lactone"] == 1  # coumarin


def test_groups_do_not_leak_into_neighbours() -> None:
    assert on("CC(=O)OC(C)=O") & {"ester", "carboxylic_acid"} == set()  # acetic anhydride
    assert on("COC(=O)OC") & {"ester", "ether"} == set()  # dimethyl carbonate
    assert on("NC(N)=O") & {"amide", "amine"} == set()  # urea
    assert features("c1ccoc1")["ether"] == 0  # furan is heteroaromatic, not an ether
    assert features("c1ccsc1")["thioether"] == 0


@pytest.mark.parametrize("name", [name for name, _, _ in SMARTS_TABLE])
def test_every_smarts_category_is_hit(name: str) -> None:
    assert features(SMARTS_EXAMPLES[name])[name] == 1


def test_small_molecules_have_no_polymer_features() -> None:
    for smiles in ["c1ccccc1", "CCOC(C)=O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "OCCO"]:
        f = features(smiles)
        assert all(f[name] == 0 for name in POLYMER_CATEGORY_NAMES), smiles


# --- polymers --------------------------------------------------------------------------------


def test_pet() -> None:
    f = features(PET)
    assert f["ester"] == f["carbonyl"] == f["aromatic_ring"] == 1
    assert f["aromatic_backbone"] == f["heteroatom_backbone"] == f["ring_in_backbone"] == 1
    # the attachment points must not turn the chain-end ester oxygen into an acid or alcohol
    assert f["carboxylic_acid"] == f["acidic_site"] == f["alcohol"] == f["hbond_donor"] == 0
    assert f["ether"] == 0
    assert f["side_group"] == 0  # carbonyl O and the phenylene ring are part of the main chain


def test_polyethylene_is_plain() -> None:
    assert on(POLYETHYLENE) <= {"has_C", "has_H", "single_bond", "rotatable_bond"}
    assert {"has_C", "has_H", "single_bond"} <= on(POLYETHYLENE)


def test_polystyrene() -> None:
    f = features(POLYSTYRENE)
    assert f["side_group"] == f["aromatic_ring"] == f["branched"] == 1
    assert f["aromatic_backbone"] == f["ring_in_backbone"] == f["heteroatom_backbone"] == 0


def test_pva_is_alcohol() -> None:
    f = features(PVA)
    assert f["alcohol"] == f["hbond_donor"] == f["side_group"] == 1
    assert f["ether"] == f["carboxylic_acid"] == 0


def test_nylons_are_amides_across_the_junction() -> None:
    for smiles in (NYLON_66, NYLON_6):  # nylon-6 forms its amide only between repeat units
        f = features(smiles)
        assert f["amide"] == f["hbond_donor"] == f["heteroatom_backbone"] == 1, smiles
        assert f["amine"] == f["ketone"] == f["basic_site"] == f["side_group"] == 0, smiles


def test_pdms_siloxane_across_the_junction() -> None:
    f = features(PDMS)
    assert f["siloxane"] == f["has_Si"] == f["heteroatom_backbone"] == f["side_group"] == 1
    assert f["ether"] == 0


def test_ptfe_has_no_hydrogen_from_caps() -> None:
    f = features(PTFE)
    assert f["has_H"] == 0
    assert f["has_C"] == f["has_F"] == f["haloalkane"] == 1
    assert f["trifluoromethyl"] == 0  # CF2 chain; a CF3 would only come from an end cap


def test_bpa_polycarbonate() -> None:
    f = features(BPA_POLYCARBONATE)
    assert f["carbonate"] == f["aromatic_backbone"] == f["side_group"] == 1  # the gem-dimethyl
    assert f["ester"] == f["ether"] == f["phenol"] == 0


def test_kapton_imide() -> None:
    f = features(KAPTON)
    assert f["imide"] == f["ether"] == f["ring_in_backbone"] == f["fused_rings"] == 1
    assert f["side_group"] == 0


def test_dummy_atoms_are_never_an_element() -> None:
    f = features("[*]S[*]")  # poly(sulfur): no carbon, no hydrogen
    assert f["has_other_element"] == f["has_C"] == f["has_H"] == 0
    assert f["has_S"] == 1


# --- frame -----------------------------------------------------------------------------------


def test_category_frame() -> None:
    molecules = [parse_molecule(s) for s in ("CCO", PET, "c1ccncc1")]
    frame = category_frame(molecules)
    assert list(frame.columns) == list(CATEGORY_NAMES)
    assert frame.shape == (3, len(CATEGORY_NAMES))
    assert all(str(dtype) == "int8" for dtype in frame.dtypes)
    assert frame.loc[1].to_dict() == category_features(molecules[1])
    assert category_frame([]).shape == (0, len(CATEGORY_NAMES))
