"""Binary chemical-category features for the interaction linear model.

Shimakawa, Kumada & Sato (npj Comput. Mater. 10, 11, 2024) multiply quantum-chemical descriptors
by 0/1 "chemical category" indicators so that one descriptor can act differently in, say, acids
and amines. This module computes those indicators: elements, bond types, ring topology, H-bond
donors/acceptors, acidic/basic sites, SMARTS functional groups and, for polymer repeat units, a
few backbone features.

Polymers: every category is evaluated on the infinite chain, not on the repeat unit with its
`[*]` atoms. Each feature is a count (atoms, bonds, rings or SMARTS matches), and the count per
repeat unit is count(n+1-mer) - count(n-mer) of methyl-capped oligomers (`build_oligomer`). The
cap atoms and the chain-end units appear identically in both oligomers and cancel, so
  * `[*]` never counts as an element, and caps add no carbon or hydrogen (PTFE has no H);
  * groups formed across the junction between units are found: nylon-6 `[*]NCCCCCC(=O)[*]` is an
    amide and PDMS `[*]O[Si](C)(C)[*]` a siloxane; capping each `[*]` with a methyl would instead
    give an amine plus a ketone, and a Si-O-C ether.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from discovery.chem.molecule import Molecule
from discovery.chem.polymer import build_oligomer
from discovery.chem.repeat_unit import backbone_atoms

__all__ = [
    "CATEGORY_NAMES",
    "POLYMER_CATEGORY_NAMES",
    "SMARTS_TABLE",
    "category_features",
    "category_frame",
]

# --- SMARTS ----------------------------------------------------------------------------------

# Amine nitrogen: neutral sp3 N bonded only to C/H, and not to a C=X or C#X carbon (that would be
# an amide, amidine, thioamide or cyanamide). Aromatic n is excluded by the aliphatic `N`. Kept
# without brackets so primary/secondary/tertiary and "aliphatic" can AND more conditions on.
_AMINE_N = "NX3;+0;!$(N-[!#6]);!$(N-[#6]=[!#6]);!$(N-[#6]#[!#6])"
# Carbonyl groups use element numbers (#6, #7, #8) rather than aliphatic C/N/O because RDKit
# aromatises some of them: the imide ring of pyromellitimide (Kapton) is c(=O)n, 2-pyridone is a
# c(=O)[nH] lactam and coumarin a c(=O)o lactone.
# Carbonyl carbon of an acyl group R-C(=O)- or formyl H-C(=O)- (not carbonate/carbamate/urea C).
_ACYL_C = "[#6X3;$([#6X3][#6]),$([#6X3H1])]"
# Amide N that is not an imide N.
_NOT_IMIDE_N = "[#7X3;!$([#7]([#6X3]=[OX1])[#6X3]=[OX1])]"
# Ester/lactone alkoxy carbon: not a second acyl carbon (that would be an anhydride).
_ALKOXY_C = "[#6;!$([#6]=[OX1])]"


def _any_of(*smarts: str) -> str:
    """One-atom SMARTS matching the first atom of any of the given patterns."""
    return "[" + ",".join(f"$({s})" for s in smarts) + "]"


# Acidic sites: the atom that gives up the proton (pKa roughly <= 11 in water).
_ACIDIC = _any_of(
    "[OX2H1][#6X3]=[OX1]",  # carboxylic (also carbonic/carbamic) acid
    "[OX2H1]c",  # phenol
    "[OX2H1][#16]=[OX1]",  # sulfonic / sulfinic acid
    "[OX2H1][#15]=[OX1]",  # phosphoric / phosphonic / phosphinic acid
    "[OX2H1][BX3]",  # boronic acid (Lewis acid, pKa ~9 like phenol)
    "[SX2H1]",  # thiol / thiophenol
    "[#7X3H1]([#6X3]=[OX1])[#6X3]=[OX1]",  # imide NH
    "[NX3;H1,H2][SX4](=[OX1])=[OX1]",  # sulfonamide NH
    "[nH1]1nnnc1",  # 1H-tetrazole
    "[nH1]1nncn1",  # 2H-tetrazole
)
# Basic sites, by nitrogen type rather than by pKa: aliphatic amines (pKaH ~9-11), amidines and
# guanidines (~12-13), and pyridine-type ring N with an in-plane lone pair (~1-7). Anilines and
# amides are left out: their lone pair is delocalised into the ring or the carbonyl.
_BASIC = _any_of(
    f"[{_AMINE_N};!$(N-a)]",  # aliphatic amine
    "[NX2;+0;$(N=[CX3]-[NX3]);!$(N-[#6,#16]=[OX1])]",  # amidine / guanidine imino N
    "[nX2;+0]",  # pyridine-type aromatic N (pyridine, imidazole N3, azines, azoles)
)

#: (name, SMARTS, description) of every SMARTS-defined category, in column order. A category is
#: 1 when the SMARTS matches at least once (per repeat unit for a polymer).
SMARTS_TABLE: tuple[tuple[str, str, str], ...] = (
    ("acidic_site", _ACIDIC,
     "acidic H: COOH, phenol, SO3H/SO2H, P-OH, B(OH), SH, imide/sulfonamide NH, tetrazole NH"),
    ("basic_site", _BASIC, "basic N: aliphatic amine, amidine/guanidine, pyridine-type ring N"),
    ("alcohol", "[OX2H1][CX4]", "hydroxyl on sp3 carbon"),
    ("phenol", "[OX2H1]c", "hydroxyl on aromatic carbon"),
    ("ether", "[O;X2;+0]([#6;!$([#6]=[O,S,N])])[#6;!$([#6]=[O,S,N])]",
     "C-O-C with no acyl carbon (aryl ethers, epoxides, acetals; not furan)"),
    ("aldehyde", "[$([CX3H1](=[OX1])[#6]),$([CX3H2]=[OX1])]", "R-CHO or formaldehyde"),
    ("ketone", "[#6][#6X3](=[OX1])[#6]", "C-C(=O)-C"),
    ("carbonyl", "[#6]=[OX1]", "any C=O"),
    ("carboxylic_acid", f"{_ACYL_C}(=[OX1])[OX2H1,OX1-]", "R-C(=O)OH or carboxylate"),
    ("ester", f"{_ACYL_C}(=[OX1])[#8X2]{_ALKOXY_C}", "R-C(=O)-O-C (not anhydride, carbonate)"),
    ("lactone", f"{_ACYL_C}(=[OX1])@[#8X2]{_ALKOXY_C}", "cyclic ester (C(=O)-O bond in a ring)"),
    ("amide", f"{_ACYL_C}(=[OX1]){_NOT_IMIDE_N}",
     "R-C(=O)-N incl. lactams (not urea, carbamate, imide)"),
    ("lactam", f"{_ACYL_C}(=[OX1])@{_NOT_IMIDE_N}", "cyclic amide (C(=O)-N bond in a ring)"),
    ("imide", "[#6X3](=[OX1])[#7X3][#6X3](=[OX1])", "C(=O)-N-C(=O), also when drawn aromatic"),
    ("amine", f"[{_AMINE_N}]", "amine N with alkyl or aryl substituents"),
    ("amine_primary", f"[{_AMINE_N};H2]", "R-NH2"),
    ("amine_secondary", f"[{_AMINE_N};H1]", "R2NH"),
    ("amine_tertiary", f"[{_AMINE_N};H0]", "R3N"),
    ("aniline", f"[{_AMINE_N}]-c", "amine N on an aromatic carbon"),
    ("nitrile", "[CX2]#[NX1]", "C#N"),
    ("nitro", "[$([NX3+](=[OX1])[OX1-]),$([NX3](=[OX1])=[OX1])]-[#6]", "C-nitro group"),
    ("sulfone", "[#6][SX4](=[OX1])(=[OX1])[#6]", "C-SO2-C"),
    ("sulfoxide", "[$([SX3](=[OX1])([#6])[#6]),$([SX3+]([OX1-])([#6])[#6])]", "C-S(=O)-C"),
    ("thioether", "[#6;!$([#6]=[O,S])][S;X2;+0][#6;!$([#6]=[O,S])]",
     "C-S-C sulfide (not thiophene, thioester)"),
    ("thiol", "[#6][SX2H1]", "C-SH"),
    ("sulfonamide", "[SX4](=[OX1])(=[OX1])[NX3]", "S(=O)(=O)-N"),
    ("sulfonic_acid", "[SX4](=[OX1])(=[OX1])[OX2H1,OX1-]", "S(=O)(=O)OH or sulfonate"),
    ("urea", "[#7X3][#6X3](=[OX1])[#7X3]", "N-C(=O)-N"),
    ("carbamate", "[#7X3][#6X3](=[OX1])[#8X2]", "N-C(=O)-O (urethane)"),
    ("carbonate", "[#8X2][#6X3](=[OX1])[#8X2]", "O-C(=O)-O"),
    ("anhydride", "[#6X3](=[OX1])[#8X2][#6X3](=[OX1])", "C(=O)-O-C(=O)"),
    ("imine", "[CX3;!$(C-[!#6;!#1])]=[NX2;+0]",
     "C=N on a carbon with only C/H substituents (incl. oximes, hydrazones; not amidines)"),
    ("azo", "[#6][NX2]=[NX2][#6]", "C-N=N-C"),
    ("epoxide", "C1OC1", "oxirane ring"),
    ("alkene", "C=C", "non-aromatic C=C"),
    ("alkyne", "C#C", "C#C"),
    ("haloalkane", "[CX4][F,Cl,Br,I]", "halogen on sp3 carbon"),
    ("haloarene", "c[F,Cl,Br,I]", "halogen on aromatic carbon"),
    ("trifluoromethyl", "[CX4](F)(F)F", "CF3"),
    ("siloxane", "[Si][OX2][Si]", "Si-O-Si"),
    ("phosphate", "[PX4](=[OX1])([OX2])([OX2])[OX2]", "P(=O)(O)3 acid or ester"),
    ("phosphonate", "[PX4](=[OX1])([#6])([OX2])[OX2]", "C-P(=O)(O)2 acid or ester"),
)  # fmt: skip

# Compiled once at import; a SMARTS typo fails loudly here rather than giving silent zeros.
_PATTERNS: dict[str, Chem.Mol] = {}
for _name, _smarts, _ in SMARTS_TABLE:
    _pattern = Chem.MolFromSmarts(_smarts)
    if _pattern is None:  # pragma: no cover - guarded by tests
        raise ValueError(f"invalid SMARTS for category {_name!r}: {_smarts}")
    _PATTERNS[_name] = _pattern

# --- counters --------------------------------------------------------------------------------

Counter = Callable[[Chem.Mol], int]

_ELEMENTS: tuple[tuple[str, int], ...] = (
    ("B", 5), ("C", 6), ("N", 7), ("O", 8), ("F", 9), ("Si", 14), ("P", 15), ("S", 16),
    ("Cl", 17), ("Br", 35), ("I", 53),
)  # fmt: skip
_NAMED_Z = frozenset(z for _, z in _ELEMENTS) | {0, 1}  # 0 = attachment point, never an element
_HALOGEN_Z = frozenset({9, 17, 35, 53, 85})


def _count_element(z: int) -> Counter:
    return lambda mol: sum(1 for a in mol.GetAtoms() if a.GetAtomicNum() == z)


def _count_hydrogens(mol: Chem.Mol) -> int:
    return sum(a.GetTotalNumHs() + (a.GetAtomicNum() == 1) for a in mol.GetAtoms())


def _count_charged(mol: Chem.Mol) -> int:
    # Formal charges of a neutral charge-separated group drawn as a bonded +/- pair (nitro,
    # N-oxide, azide, sulfoxide as [S+][O-]) are bookkeeping, not an ionic site; skip them.
    count = 0
    for atom in mol.GetAtoms():
        q = atom.GetFormalCharge()
        if q and not any(n.GetFormalCharge() * q < 0 for n in atom.GetNeighbors()):
            count += 1
    return count


def _count_bonds(*types: Chem.BondType) -> Counter:
    return lambda mol: sum(1 for b in mol.GetBonds() if b.GetBondType() in types)


def _ring_pairs(mol: Chem.Mol) -> tuple[int, int]:
    """(fused, bridged) ring pairs: rings sharing exactly two atoms, or more than two."""
    rings = [set(r) for r in mol.GetRingInfo().AtomRings()]
    fused = bridged = 0
    for i, ring in enumerate(rings):
        for other in rings[i + 1 :]:
            shared = len(ring & other)
            fused += shared == 2
            bridged += shared > 2
    return fused, bridged


def _count_branch_points(mol: Chem.Mol) -> int:
    # Heavy atoms with >= 3 heavy neighbours. Oligomers supply real neighbours at the chain
    # junctions, so a linear backbone is not branched but a substituted one is.
    return sum(
        1
        for a in mol.GetAtoms()
        if a.GetAtomicNum() > 1 and sum(n.GetAtomicNum() > 1 for n in a.GetNeighbors()) >= 3
    )


def _count_smarts(pattern: Chem.Mol) -> Counter:
    return lambda mol: len(mol.GetSubstructMatches(pattern, uniquify=True, maxMatches=1_000_000))


_COUNTERS: dict[str, Counter] = {
    "has_H": _count_hydrogens,
    **{f"has_{symbol}": _count_element(z) for symbol, z in _ELEMENTS},
    "has_other_element": lambda m: sum(1 for a in m.GetAtoms() if a.GetAtomicNum() not in _NAMED_Z),
    "halogen": lambda m: sum(1 for a in m.GetAtoms() if a.GetAtomicNum() in _HALOGEN_Z),
    "charged": _count_charged,
    "single_bond": _count_bonds(Chem.BondType.SINGLE),
    "double_bond": _count_bonds(Chem.BondType.DOUBLE),
    "triple_bond": _count_bonds(Chem.BondType.TRIPLE),
    "aromatic_bond": _count_bonds(Chem.BondType.AROMATIC),
    "pi_system": _count_bonds(Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC),
    "conjugated": lambda m: sum(1 for b in m.GetBonds() if b.GetIsConjugated()),
    "ring": rdMolDescriptors.CalcNumRings,
    "aromatic_ring": rdMolDescriptors.CalcNumAromaticRings,
    "heteroaromatic_ring": rdMolDescriptors.CalcNumAromaticHeterocycles,
    "fused_rings": lambda m: _ring_pairs(m)[0],
    "bridged_rings": lambda m: _ring_pairs(m)[1],
    "spiro": rdMolDescriptors.CalcNumSpiroAtoms,
    "branched": _count_branch_points,
    "rotatable_bond": rdMolDescriptors.CalcNumRotatableBonds,  # RDKit default (strict) definition
    "hbond_acceptor": rdMolDescriptors.CalcNumHBA,
    "hbond_donor": rdMolDescriptors.CalcNumHBD,
    **{name: _count_smarts(pattern) for name, pattern in _PATTERNS.items()},
}

#: Polymer-only categories, computed on the repeat unit's backbone path; 0 for small molecules.
POLYMER_CATEGORY_NAMES: tuple[str, ...] = (
    "aromatic_backbone",
    "heteroatom_backbone",
    "ring_in_backbone",
    "side_group",
)

#: Bump when any category definition changes (invalidates cached categories).
CATEGORY_VERSION = "1"

#: Column names, in order.
CATEGORY_NAMES: tuple[str, ...] = (*_COUNTERS, *POLYMER_CATEGORY_NAMES)

# --- evaluation ------------------------------------------------------------------------------

# Oligomer length per counting step: the end units of the shorter oligomer must be far enough
# (in bonds along the chain) from each other that the longest-reaching pattern (recursive SMARTS,
# strict rotatable-bond rule: about 3 bonds either way) sees the same surroundings in both.
_PATTERN_REACH_BONDS = 6


def _counts(mol: Chem.Mol) -> dict[str, int]:
    return {name: int(fn(mol)) for name, fn in _COUNTERS.items()}


def _per_repeat_unit_counts(molecule: Molecule) -> dict[str, int]:
    """Counts per repeat unit of the infinite chain: count(n+1-mer) - count(n-mer)."""
    try:
        chain_bonds = max(1, len(backbone_atoms(molecule.mol)))  # chain bonds added per unit
        n = max(2, math.ceil(_PATTERN_REACH_BONDS / chain_bonds))
        short, long = _counts(build_oligomer(molecule, n)), _counts(build_oligomer(molecule, n + 1))
        return {name: long[name] - short[name] for name in long}
    except Exception:  # RDKit sanitisation of an exotic oligomer; fall back to one capped unit
        try:
            return _counts(build_oligomer(molecule, 1))
        except Exception:
            return _counts(molecule.mol)


def _polymer_extras(mol: Chem.Mol) -> dict[str, int]:
    """Backbone features of a repeat unit (see POLYMER_CATEGORY_NAMES)."""
    path = backbone_atoms(mol)
    backbone = set(path)
    ring_bonds = [
        (a, b)
        for a, b in zip(path, path[1:])
        if (bond := mol.GetBondBetweenAtoms(a, b)) is not None and bond.IsInRing()
    ]
    # The main chain is the backbone path plus every ring system the path runs through (both
    # sides of a para-phenylene, a whole imide-benzene system), not just the shortest path.
    main_chain = set(backbone)
    for system in _ring_systems(mol):
        if any(a in system and b in system for a, b in ring_bonds):
            main_chain |= system
    side_atoms = [
        atom
        for atom in mol.GetAtoms()
        if atom.GetAtomicNum() > 1
        and atom.GetIdx() not in main_chain
        and not _is_oxo_on(atom, main_chain)
    ]
    return {
        "aromatic_backbone": int(any(mol.GetAtomWithIdx(i).GetIsAromatic() for i in path)),
        "heteroatom_backbone": int(any(mol.GetAtomWithIdx(i).GetAtomicNum() != 6 for i in path)),
        "ring_in_backbone": int(bool(ring_bonds)),
        "side_group": int(bool(side_atoms)),
    }


def _is_oxo_on(atom: Chem.Atom, main_chain: set[int]) -> bool:
    # =O, =S, =NH on a main-chain atom belong to the linkage (ester, amide, sulfone), so PET and
    # nylons have no side group, while -OH (PVA) or -CH3 (polypropylene) do.
    if atom.GetAtomicNum() not in (7, 8, 16) or atom.GetDegree() != 1:
        return False
    bond = atom.GetBonds()[0]
    multiple = bond.GetBondType() != Chem.BondType.SINGLE
    return multiple and bond.GetOtherAtomIdx(atom.GetIdx()) in main_chain


def _ring_systems(mol: Chem.Mol) -> list[set[int]]:
    """Atom sets of ring systems (rings merged when they share a bond: fused or bridged)."""
    systems: list[set[int]] = []
    for ring in mol.GetRingInfo().AtomRings():
        merged = set(ring)
        for system in [s for s in systems if len(s & merged) >= 2]:
            systems.remove(system)
            merged |= system
        systems.append(merged)
    return systems


@lru_cache(maxsize=16384)
def _feature_values(molecule: Molecule) -> tuple[int, ...]:
    if molecule.is_polymer:
        counts = _per_repeat_unit_counts(molecule)
        try:
            extras = _polymer_extras(molecule.mol)
        except Exception:  # malformed attachment points cannot reach here via parse_molecule
            extras = dict.fromkeys(POLYMER_CATEGORY_NAMES, 0)
    else:
        counts = _counts(molecule.mol)
        extras = dict.fromkeys(POLYMER_CATEGORY_NAMES, 0)
    values = {**{name: int(c > 0) for name, c in counts.items()}, **extras}
    return tuple(values[name] for name in CATEGORY_NAMES)


def category_features(molecule: Molecule) -> dict[str, int]:
    """0/1 chemical categories of a molecule or repeat unit, keyed in CATEGORY_NAMES order."""
    return dict(zip(CATEGORY_NAMES, _feature_values(molecule)))


def category_frame(molecules: Sequence[Molecule]) -> pd.DataFrame:
    """Categories as an int8 DataFrame: one row per molecule, CATEGORY_NAMES columns."""
    rows = [_feature_values(m) for m in molecules]
    return pd.DataFrame(rows, columns=list(CATEGORY_NAMES), dtype="int8")
