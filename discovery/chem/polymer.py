"""Capped oligomers of a polymer repeat unit, the structures quantum chemistry runs on."""

from __future__ import annotations

from rdkit import Chem

from discovery.chem.molecule import Molecule, MoleculeError
from discovery.chem.repeat_unit import attachment_atoms

#: Longest oligomer built. A trimer gives the central repeat unit real neighbours on both
#: sides (conformation, conjugation and polar groups of the adjacent units).
DEFAULT_OLIGOMER_LENGTH = 3

#: Heavy-atom budget of the oligomer's repeat units (caps excluded): large repeat units get
#: fewer copies. GFN2-xTB's cost grows steeply with the atom count, so a polyimide
#: trimer (90-135 heavy atoms) costs minutes where its single capped unit costs a second or two;
#: 60 keeps a trimer for units up to 20 heavy atoms and a dimer up to 30 (BENCHMARKS.md,
#: "Oligomer by size").
DEFAULT_OLIGOMER_MAX_HEAVY_ATOMS = 60

#: Chain-end caps. Methyl mimics a saturated chain continuation; hydrogen is the minimal cap
#: but turns ends of condensation polymers into acids, alcohols or aldehydes, whose polar end
#: groups then dominate dipole and acid/base descriptors of a short oligomer.
CAPS = {"CH3": 6, "H": 1}

#: The two caps bonded to each other: the oligomer minus its repeat units. Its extensive
#: descriptors are subtracted before dividing by the number of units, so a monomer, a dimer and
#: a trimer give the same per-unit value for an additive property.
END_GROUP_SMILES = {"CH3": "CC", "H": "[H][H]"}


def repeat_unit_heavy_atoms(repeat_unit: Molecule) -> int:
    """Heavy atoms of one repeat unit, the two attachment points excluded."""
    return sum(1 for atom in repeat_unit.mol.GetAtoms() if atom.GetAtomicNum() > 1)


def oligomer_units(repeat_unit: Molecule, max_units: int, max_heavy_atoms: int | None) -> int:
    """Repeat units in the oligomer: the most, up to `max_units`, within the heavy-atom budget.

    Args:
        repeat_unit: A polymer `Molecule`.
        max_units: Longest oligomer (>= 1).
        max_heavy_atoms: Budget for the repeat units' heavy atoms (caps excluded); None for no
            budget. A unit larger than the budget still gets one copy.
    """
    if max_heavy_atoms is None:
        return max_units
    return max(1, min(max_units, max_heavy_atoms // max(1, repeat_unit_heavy_atoms(repeat_unit))))


def build_oligomer(repeat_unit: Molecule, n_units: int = DEFAULT_OLIGOMER_LENGTH, cap: str = "CH3") -> Chem.Mol:
    """Join `n_units` copies head to tail and cap both ends.

    Args:
        repeat_unit: A polymer `Molecule` (two attachment points).
        n_units: Oligomer length (>= 1).
        cap: "CH3" or "H".

    Returns:
        A sanitised RDKit molecule with implicit hydrogens and no `*` atoms.
    """
    if not repeat_unit.is_polymer:
        raise MoleculeError(repeat_unit.input, "build_oligomer needs a polymer repeat unit")
    if n_units < 1:
        raise ValueError("oligomer length must be at least 1")
    if cap not in CAPS:
        raise ValueError(f"unknown cap {cap!r}; choose one of {sorted(CAPS)}")
    unit = repeat_unit.mol
    (head_star, head_atom), (tail_star, tail_atom) = attachment_atoms(unit)
    size = unit.GetNumAtoms()

    combined = Chem.RWMol()
    for k in range(n_units):
        combined.InsertMol(unit)
        if k > 0:
            # tail of the previous unit bonds to the head of this one
            combined.AddBond((k - 1) * size + tail_atom, k * size + head_atom, Chem.BondType.SINGLE)
    # Stars at the junctions are removed; the two chain-end stars become caps.
    first_head = head_star
    last_tail = (n_units - 1) * size + tail_star
    for star in (first_head, last_tail):
        atom = combined.GetAtomWithIdx(star)
        atom.SetAtomicNum(CAPS[cap])
        atom.SetNoImplicit(False)
    junction_stars = [k * size + tail_star for k in range(n_units - 1)] + [
        k * size + head_star for k in range(1, n_units)
    ]
    for idx in sorted(junction_stars, reverse=True):
        combined.RemoveAtom(idx)
    mol = combined.GetMol()
    if cap == "H":
        mol = Chem.RemoveHs(mol, sanitize=False)
    Chem.SanitizeMol(mol)
    return mol
