"""Graph operations on a polymer repeat unit (an RDKit molecule with two `*` atoms).

Attachment points, the backbone, the minimal repeat unit and a cut-independent chain key; they
work on RDKit molecules only, so `molecule` (standardisation) and `polymer` (oligomers) both
build on them.
"""

from __future__ import annotations

from rdkit import Chem


def attachment_atoms(mol: Chem.Mol) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return ((star_1, neighbour_1), (star_2, neighbour_2)) atom indices of a repeat unit.

    Raises:
        ValueError: unless there are exactly two `*` atoms, each with one neighbour.
    """
    pairs = []
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 0:
            neighbours = atom.GetNeighbors()
            if len(neighbours) != 1:
                raise ValueError("each attachment point [*] must have exactly one bond")
            pairs.append((atom.GetIdx(), neighbours[0].GetIdx()))
    if len(pairs) != 2:
        raise ValueError(f"repeat unit needs exactly two attachment points, found {len(pairs)}")
    return pairs[0], pairs[1]


def backbone_atoms(mol: Chem.Mol) -> list[int]:
    """Atom indices on the shortest path between the two attachment points (stars excluded)."""
    (s1, _), (s2, _) = attachment_atoms(mol)
    path = Chem.GetShortestPath(mol, s1, s2)
    return [i for i in path if i not in (s1, s2)]


def _main_chain_cuts(mol: Chem.Mol) -> list[tuple[int, int]]:
    """Main-chain bonds where a repeat unit could end: acyclic single bonds between non-star atoms.

    Returns (head-side atom, tail-side atom) pairs in order from the head attachment point.
    """
    (head_star, _), (tail_star, _) = attachment_atoms(mol)
    path = Chem.GetShortestPath(mol, head_star, tail_star)
    cuts = []
    for a, b in zip(path[1:-2], path[2:-1]):
        bond = mol.GetBondBetweenAtoms(a, b)
        if not bond.IsInRing() and bond.GetBondType() == Chem.BondType.SINGLE:
            cuts.append((a, b))
    return cuts


def _head_side_size(mol: Chem.Mol, cut: tuple[int, int], head_star: int) -> int:
    """Atoms (stars excluded) on the head side of a main-chain bond."""
    a, b = cut
    seen = {a}
    stack = [a]
    while stack:
        for nbr in mol.GetAtomWithIdx(stack.pop()).GetNeighbors():
            j = nbr.GetIdx()
            if j not in seen and j != b and j != head_star:
                seen.add(j)
                stack.append(j)
    return len(seen)


def minimal_repeat_unit(mol: Chem.Mol) -> Chem.Mol:
    """Smallest repeat unit with at least two main-chain atoms whose repetition is `mol`.

    `[*]CCCC[*]` -> `[*]CC[*]`; `[*]CC(C)CC(C)[*]` -> `[*]CC([*])C`. Head-to-head sequences such
    as `[*]C(F)CC(F)[*]` are different polymers and stay as they are. Units with one main-chain
    atom are doubled (`[*]C[*]` -> `[*]CC[*]`, `[*]C([*])(F)F` -> PTFE's `[*]C(F)(F)C([*])(F)F`):
    chemists draw vinyl polymers from their two-carbon monomers, and one convention per
    polymer is what makes identities agree.

    Args:
        mol: Repeat unit with exactly two `*` atoms (atomic number 0) bonded by single bonds.

    Returns:
        The minimal repeat unit with unlabelled `*` atoms (`mol` itself when it is minimal).
    """
    unit = _shortest_repetition(mol)
    (head_star, _), (tail_star, _) = attachment_atoms(unit)
    if len(Chem.GetShortestPath(unit, head_star, tail_star)) > 3:
        return unit
    # molzip joins the copies at the mapped stars and keeps stereocentres intact.
    first, second = Chem.RWMol(unit), Chem.RWMol(unit)
    first.GetAtomWithIdx(tail_star).SetAtomMapNum(1)
    second.GetAtomWithIdx(head_star).SetAtomMapNum(1)
    return Chem.molzip(first, second)


def _shortest_repetition(mol: Chem.Mol) -> Chem.Mol:
    """Shortest piece whose head-to-tail repetition is `mol`, or `mol` itself.

    The unit is cut on its main chain into k pieces of equal size (k dividing the number of
    non-star atoms); it is a k-fold repetition when all pieces, with their head and tail
    attachment points labelled, have the same canonical SMILES (same structure, direction and
    stereo).
    """
    (head_star, _), (tail_star, _) = attachment_atoms(mol)
    n_atoms = mol.GetNumAtoms() - 2
    cut_at_size = {_head_side_size(mol, cut, head_star): cut for cut in _main_chain_cuts(mol)}
    for size in range(1, n_atoms // 2 + 1):
        if n_atoms % size or not all(size * i in cut_at_size for i in range(1, n_atoms // size)):
            continue
        labelled = Chem.RWMol(mol)
        # Isotope 1 marks the head of every piece and 2 its tail, so pieces only match when
        # they point the same way along the chain.
        labelled.GetAtomWithIdx(head_star).SetIsotope(1)
        labelled.GetAtomWithIdx(tail_star).SetIsotope(2)
        bonds, labels = [], []
        for a, b in (cut_at_size[size * i] for i in range(1, n_atoms // size)):
            bond = labelled.GetBondBetweenAtoms(a, b)
            bonds.append(bond.GetIdx())
            # FragmentOnBonds gives the dummy on the bond's begin atom the second label.
            labels.append((1, 2) if bond.GetBeginAtomIdx() == a else (2, 1))
        pieces = Chem.GetMolFrags(
            Chem.FragmentOnBonds(labelled, bonds, addDummies=True, dummyLabels=labels), asMols=True
        )
        if len({Chem.MolToSmiles(piece) for piece in pieces}) == 1:
            unit = Chem.RWMol(pieces[0])
            for atom in unit.GetAtoms():
                if atom.GetAtomicNum() == 0:
                    atom.SetIsotope(0)
            Chem.SanitizeMol(unit)
            return unit.GetMol()
    return mol


def chain_key(mol: Chem.Mol) -> str:
    """Canonical PSMILES of the chain, whatever main-chain bond the repeat unit was cut at.

    `[*]CCO[*]` and `[*]COC[*]` draw the same polymer, poly(ethylene oxide), cut at different
    bonds; both give `[*]CCO[*]`. Every acyclic single main-chain bond is tried as the cut and
    the alphabetically first canonical PSMILES is the key. Units with stereo keep their own
    PSMILES: re-bonding would scramble the parity of their stereocentres.

    Args:
        mol: A minimal repeat unit (see `minimal_repeat_unit`) with two `*` atoms.

    Returns:
        PSMILES with `[*]`, equal for all cuts of the same chain.
    """
    frames = [Chem.MolToSmiles(mol)]
    stereo = any(a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED for a in mol.GetAtoms()) or any(
        b.GetStereo() != Chem.BondStereo.STEREONONE for b in mol.GetBonds()
    )
    if not stereo:
        (head_star, head), (tail_star, tail) = attachment_atoms(mol)
        for a, b in _main_chain_cuts(mol):
            shifted = Chem.RWMol(mol)
            for bond in ((head_star, head), (tail_star, tail), (a, b)):
                shifted.RemoveBond(*bond)
            # The old junction between units becomes an ordinary main-chain bond.
            shifted.AddBond(tail, head, Chem.BondType.SINGLE)
            shifted.AddBond(head_star, b, Chem.BondType.SINGLE)
            shifted.AddBond(tail_star, a, Chem.BondType.SINGLE)
            Chem.SanitizeMol(shifted)
            frames.append(Chem.MolToSmiles(shifted))
    return min(frames).replace("*", "[*]")
