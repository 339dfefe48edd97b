"""Mutation of seed molecules: small edits a chemist would make, applied over generations.

Operators (each picks a random site; a child is kept only if RDKit can sanitise it):

* ``atom_swap``: a singly bonded or aromatic atom becomes another of the swap elements (C, N,
  O, S by default) where its valence allows (CH2 -> O, CH -> N, aromatic CH -> N, amide N ->
  ester O, ...).
* ``add_substituent``: a group from the substituent table replaces a hydrogen.
* ``remove_substituent``: a small side group (at most ``max_substituent_atoms`` heavy atoms) is
  cut off at an acyclic bond and replaced by hydrogen.
* ``replace_substituent``: both of the above at the same atom.
* ``chain_insert``: a chain unit (CH2, O, C(=O)O, ...) is inserted into an acyclic single bond.
* ``chain_delete``: an acyclic two-connected atom is cut out and its neighbours joined.
* ``ring_resize``: a saturated ring grows or shrinks by one CH2 (5- to 7-membered rings).
* ``ring_saturation``: an isolated benzene ring becomes cyclohexane, or the reverse.

Polymer repeat units: the two ``[*]`` atoms and their bonds are never edited, deleted or
given new neighbours, and no side group containing a ``[*]`` is removed, so every child keeps
exactly two attachment points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rdkit import Chem

from discovery.chem import Molecule
from discovery.pool.proposal import Proposer, evolve
from discovery.pool.settings import CHAIN_UNITS, SUBSTITUENTS, MutationSettings

#: Ring sizes that `ring_resize` may produce; outside 5-7, rings get strained or floppy.
RING_SIZES = range(5, 8)

_MAX_SITE_TRIES = 5


def _is_star(atom: Chem.Atom) -> bool:
    return atom.GetAtomicNum() == 0


def _editable_atoms(mol: Chem.Mol) -> list[Chem.Atom]:
    """Neutral heavy atoms other than attachment points."""
    return [a for a in mol.GetAtoms() if not _is_star(a) and a.GetFormalCharge() == 0]


def _editable_bonds(mol: Chem.Mol) -> list[Chem.Bond]:
    """Acyclic single bonds between neutral non-star atoms."""
    return [
        b
        for b in mol.GetBonds()
        if not b.IsInRing()
        and b.GetBondType() == Chem.BondType.SINGLE
        and not (_is_star(b.GetBeginAtom()) or _is_star(b.GetEndAtom()))
        and b.GetBeginAtom().GetFormalCharge() == 0
        and b.GetEndAtom().GetFormalCharge() == 0
    ]


def _group(smiles: str) -> tuple[Chem.Mol, list[tuple[int, int, Chem.BondType]]]:
    """A substituent or chain unit and its attachment points as (star, neighbour, bond type)."""
    mol = Chem.MolFromSmiles(smiles)
    points = []
    for atom in mol.GetAtoms():
        if _is_star(atom):
            bond = atom.GetBonds()[0]
            points.append((atom.GetIdx(), bond.GetOtherAtomIdx(atom.GetIdx()), bond.GetBondType()))
    return mol, points


def _side(mol: Chem.Mol, start: int, blocked: int) -> set[int]:
    """Atoms reachable from `start` without passing through `blocked`."""
    seen = {start}
    stack = [start]
    while stack:
        for nbr in mol.GetAtomWithIdx(stack.pop()).GetNeighbors():
            j = nbr.GetIdx()
            if j != blocked and j not in seen:
                seen.add(j)
                stack.append(j)
    return seen


def _fill_hydrogens(atom: Chem.Atom) -> None:
    """Let RDKit give `atom` the hydrogens its lost bond leaves open (aromatic N/P gets an explicit H)."""
    atom.SetNoImplicit(False)
    atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
    if atom.GetIsAromatic() and atom.GetAtomicNum() in (7, 15):
        atom.SetNumExplicitHs(atom.GetNumExplicitHs() + 1)


def _take_hydrogens(atom: Chem.Atom, n: int) -> None:
    """Account for `n` hydrogens replaced by a new bond."""
    atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
    if atom.GetNumExplicitHs():
        atom.SetNumExplicitHs(max(0, atom.GetNumExplicitHs() - n))


class Mutator:
    """Applies one random mutation operator to a molecule or repeat unit.

    Args:
        settings: Operator weights, substituents, chain units and swap elements.
    """

    def __init__(self, settings: MutationSettings) -> None:
        self.settings = settings
        table = Chem.GetPeriodicTable()
        self._swap_numbers = sorted(table.GetAtomicNumber(el) for el in settings.swap_elements)
        self._substituents = [_group(SUBSTITUENTS[name]) for name in settings.substituents]
        self._chain_units = [_group(CHAIN_UNITS[name]) for name in settings.chain_units]
        weighted = [(getattr(self, f"_{name}"), weight) for name, weight in settings.operators.items() if weight > 0]
        self._operators = [op for op, _ in weighted]
        weights = np.array([w for _, w in weighted], dtype=float)
        self._probabilities = weights / weights.sum()

    def mutate(self, mol: Chem.Mol, rng: np.random.Generator) -> str | None:
        """Canonical SMILES of one random mutant of `mol`, or None when the edit was impossible.

        Args:
            mol: Sanitised molecule (implicit hydrogens; `*` atoms for a repeat unit).
            rng: Source of every random choice.
        """
        operator = self._operators[rng.choice(len(self._operators), p=self._probabilities)]
        child = operator(mol, rng)
        if child is None:
            return None
        try:
            Chem.SanitizeMol(child)
        except Exception:  # RDKit raises several types for impossible valences or aromaticity
            return None
        return Chem.MolToSmiles(child)

    # --- operators: each returns an unsanitised edited copy, or None when there is no site ---

    def _atom_swap(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        table = Chem.GetPeriodicTable()
        sites = []
        for atom in _editable_atoms(mol):
            # Carbonyl O -> CH2 or N gives enol ethers and imines: only singly bonded or
            # aromatic atoms are swapped.
            if atom.GetAtomicNum() not in self._swap_numbers or any(
                b.GetBondType() not in (Chem.BondType.SINGLE, Chem.BondType.AROMATIC) for b in atom.GetBonds()
            ):
                continue
            for number in self._swap_numbers:
                if number == atom.GetAtomicNum():
                    continue
                # Aromatic rings only trade CH for N (pyridine-like); five-ring O/S swaps rarely kekulise.
                if atom.GetIsAromatic() and {number, atom.GetAtomicNum()} != {6, 7}:
                    continue
                if table.GetDefaultValence(number) >= atom.GetValence(Chem.ValenceType.EXPLICIT) - atom.GetNumExplicitHs():
                    sites.append((atom.GetIdx(), number))
        if not sites:
            return None
        idx, number = sites[rng.integers(len(sites))]
        rw = Chem.RWMol(mol)
        atom = rw.GetAtomWithIdx(idx)
        atom.SetAtomicNum(number)
        atom.SetNoImplicit(False)
        atom.SetNumExplicitHs(0)
        atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        return rw

    def _add_substituent(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        group, [(star, partner, order)] = self._substituents[rng.integers(len(self._substituents))]
        needed = int(order)
        sites = [
            a.GetIdx()
            for a in _editable_atoms(mol)
            if a.GetTotalNumHs() >= needed and not (needed > 1 and a.GetIsAromatic())
        ]
        if not sites:
            return None
        return self._attach(mol, sites[rng.integers(len(sites))], group, star, partner, order)

    @staticmethod
    def _attach(
        mol: Chem.Mol, anchor: int, group: Chem.Mol, star: int, partner: int, order: Chem.BondType
    ) -> Chem.RWMol:
        rw = Chem.RWMol(mol)
        offset = rw.GetNumAtoms()
        rw.InsertMol(group)
        rw.AddBond(anchor, offset + partner, order)
        rw.RemoveAtom(offset + star)
        _take_hydrogens(rw.GetAtomWithIdx(anchor), int(order))
        return rw

    def _removable(self, mol: Chem.Mol) -> list[tuple[int, set[int]]]:
        """(anchor atom, side-group atoms) for every side group that may be cut off."""
        stars = {a.GetIdx() for a in mol.GetAtoms() if _is_star(a)}
        limit = self.settings.max_substituent_atoms
        options = []
        for bond in mol.GetBonds():
            if bond.IsInRing() or bond.GetBondType() not in (Chem.BondType.SINGLE, Chem.BondType.DOUBLE):
                continue
            a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            if a in stars or b in stars:
                continue
            for anchor, start in ((a, b), (b, a)):
                atom = mol.GetAtomWithIdx(anchor)
                if atom.GetFormalCharge() or (atom.GetIsAromatic() and bond.GetBondType() != Chem.BondType.SINGLE):
                    continue
                side = _side(mol, start, anchor)
                if len(side) > limit or side & stars:
                    continue
                if not stars and len(side) >= mol.GetNumAtoms() - len(side):
                    continue  # in a small molecule only the smaller side is a substituent
                options.append((anchor, side))
        return options

    def _cut(self, mol: Chem.Mol, anchor: int, side: set[int]) -> tuple[Chem.RWMol, int]:
        """Remove `side`; return the edited copy and the anchor's new index."""
        rw = Chem.RWMol(mol)
        _fill_hydrogens(rw.GetAtomWithIdx(anchor))
        for idx in sorted(side, reverse=True):
            rw.RemoveAtom(idx)
        return rw, anchor - sum(1 for idx in side if idx < anchor)

    def _remove_substituent(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        options = self._removable(mol)
        if not options:
            return None
        anchor, side = options[rng.integers(len(options))]
        return self._cut(mol, anchor, side)[0]

    def _replace_substituent(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        options = self._removable(mol)
        if not options:
            return None
        anchor, side = options[rng.integers(len(options))]
        cut, anchor = self._cut(mol, anchor, side)
        try:
            Chem.SanitizeMol(cut)
        except Exception:
            return None
        group, [(star, partner, order)] = self._substituents[rng.integers(len(self._substituents))]
        atom = cut.GetAtomWithIdx(anchor)
        if atom.GetTotalNumHs() < int(order) or (int(order) > 1 and atom.GetIsAromatic()):
            return None
        return self._attach(cut, anchor, group, star, partner, order)

    def _chain_insert(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        bonds = _editable_bonds(mol)
        if not bonds:
            return None
        bond = bonds[rng.integers(len(bonds))]
        unit, points = self._chain_units[rng.integers(len(self._chain_units))]
        ends = [bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()]
        if rng.integers(2):  # asymmetric units (ester, amide) go in either way round
            ends.reverse()
        rw = Chem.RWMol(mol)
        rw.RemoveBond(*ends)
        offset = rw.GetNumAtoms()
        rw.InsertMol(unit)
        for end, (_, partner, order) in zip(ends, points):
            rw.AddBond(end, offset + partner, order)
            rw.GetAtomWithIdx(end).SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        for star, _, _ in sorted(points, reverse=True):
            rw.RemoveAtom(offset + star)
        return rw

    def _chain_delete(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        sites = []
        for atom in _editable_atoms(mol):
            neighbours = atom.GetNeighbors()
            if (
                atom.IsInRing()
                or len(neighbours) != 2
                or any(_is_star(n) for n in neighbours)
                or any(b.GetBondType() != Chem.BondType.SINGLE for b in atom.GetBonds())
            ):
                continue
            sites.append((atom.GetIdx(), neighbours[0].GetIdx(), neighbours[1].GetIdx()))
        if not sites:
            return None
        idx, left, right = sites[rng.integers(len(sites))]
        rw = Chem.RWMol(mol)
        rw.AddBond(left, right, Chem.BondType.SINGLE)
        for end in (left, right):
            rw.GetAtomWithIdx(end).SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        rw.RemoveAtom(idx)
        return rw

    def _ring_resize(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        ring_info = mol.GetRingInfo()
        grow, shrink = [], []
        for ring in ring_info.BondRings():
            bonds = [mol.GetBondWithIdx(i) for i in ring]
            if any(b.GetBondType() != Chem.BondType.SINGLE for b in bonds):
                continue  # aromatic or unsaturated rings keep their size
            if len(ring) + 1 in RING_SIZES:
                grow.extend(b.GetIdx() for b in bonds if ring_info.NumBondRings(b.GetIdx()) == 1)
            if len(ring) - 1 in RING_SIZES:
                atoms = {b.GetBeginAtomIdx() for b in bonds} | {b.GetEndAtomIdx() for b in bonds}
                shrink.extend(i for i in sorted(atoms) if mol.GetAtomWithIdx(i).GetDegree() == 2)
        sites = [("grow", i) for i in sorted(set(grow))] + [("shrink", i) for i in sorted(set(shrink))]
        if not sites:
            return None
        kind, idx = sites[rng.integers(len(sites))]
        rw = Chem.RWMol(mol)
        if kind == "grow":
            bond = mol.GetBondWithIdx(idx)
            a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            rw.RemoveBond(a, b)
            carbon = rw.AddAtom(Chem.Atom(6))
            rw.AddBond(a, carbon, Chem.BondType.SINGLE)
            rw.AddBond(carbon, b, Chem.BondType.SINGLE)
            ends = (a, b)
        else:
            left, right = (n.GetIdx() for n in mol.GetAtomWithIdx(idx).GetNeighbors())
            rw.AddBond(left, right, Chem.BondType.SINGLE)
            rw.RemoveAtom(idx)
            ends = (left - (left > idx), right - (right > idx))
        for end in ends:
            rw.GetAtomWithIdx(end).SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        return rw

    def _ring_saturation(self, mol: Chem.Mol, rng: np.random.Generator) -> Chem.Mol | None:
        ring_info = mol.GetRingInfo()
        sites = []
        for ring in ring_info.AtomRings():
            atoms = [mol.GetAtomWithIdx(i) for i in ring]
            if len(ring) != 6 or any(a.GetAtomicNum() != 6 or ring_info.NumAtomRings(a.GetIdx()) != 1 for a in atoms):
                continue  # isolated carbocyclic six-rings only
            if all(a.GetIsAromatic() for a in atoms):
                sites.append((ring, "saturate"))
            elif all(not a.GetIsAromatic() and a.GetDegree() <= 3 and a.GetTotalNumHs() >= 1 for a in atoms) and all(
                mol.GetBondBetweenAtoms(ring[i], ring[(i + 1) % 6]).GetBondType() == Chem.BondType.SINGLE
                for i in range(6)
            ):
                sites.append((ring, "aromatise"))
        if not sites:
            return None
        ring, kind = sites[rng.integers(len(sites))]
        rw = Chem.RWMol(mol)
        aromatic = kind == "aromatise"
        for i in range(6):
            bond = rw.GetBondBetweenAtoms(ring[i], ring[(i + 1) % 6])
            bond.SetBondType(Chem.BondType.AROMATIC if aromatic else Chem.BondType.SINGLE)
            bond.SetIsAromatic(aromatic)
        for i in ring:
            atom = rw.GetAtomWithIdx(i)
            atom.SetIsAromatic(aromatic)
            atom.SetNoImplicit(False)
            atom.SetNumExplicitHs(0)
            atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        return rw


def mutation_proposals(
    seeds: Sequence[Molecule],
    settings: MutationSettings,
    rng: np.random.Generator,
    failures: dict[str, int],
) -> Proposer:
    """Propose mutants generation by generation; accepted children are the next parents.

    Each parent gets up to `children_per_parent` distinct mutants (at most
    `_MAX_SITE_TRIES` times as many attempts). `parent` of every proposal is the seed the line
    of mutations started from.

    Args:
        seeds: Standardised seed molecules (all small molecules or all repeat units).
        settings: Mutation settings.
        rng: Source of every random choice.
        failures: Counter, updated in place, of attempts that gave no valid structure.
    """
    mutator = Mutator(settings)

    def mutator_for(smiles: str) -> Callable[[], str | None]:
        mol = Chem.MolFromSmiles(smiles)
        return lambda: mutator.mutate(mol, rng)

    return (yield from evolve(seeds, "mutation", settings.generations, settings.children_per_parent,
                              _MAX_SITE_TRIES, mutator_for, failures))
