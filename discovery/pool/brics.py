"""Fragment recombination: cut seeds at BRICS bonds and join fragments into new molecules.

Seeds are cut with RDKit's BRICS rules (retrosynthetically meaningful bonds: amides, esters,
ethers, aryl-alkyl, ...). A product starts from a random fragment; each open BRICS end is
closed with a random fragment whose end is BRICS-compatible, until no end is open or
`max_fragments` fragments are used (then only one-ended fragments may close the remaining ends).
RDKit's own `BRICSBuild` is not used: it enumerates exhaustively and shuffles with Python's
global random state.

Polymer repeat units: BRICS never cuts the bond of a `[*]` (its rules start at real atoms), so
the attachment points travel inside their fragments. A product is kept only with exactly two
of them, e.g. a vinyl backbone fragment with a new side group, or two halves of different
polyesters joined at the ester.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from rdkit import Chem
from rdkit.Chem import BRICS

from discovery.chem import Molecule
from discovery.pool.proposal import Proposal, Proposer
from discovery.pool.settings import BricsSettings

#: Attempts per wanted product before giving up (most random joins are duplicates late on).
_ATTEMPTS_PER_PRODUCT = 20
#: Consecutive attempts without a new product after which the fragments count as exhausted
#: (few seeds have only a few hundred distinct products).
_MAX_MISSES_IN_A_ROW = 200


def _compatible_labels() -> dict[int, dict[int, Chem.BondType]]:
    """BRICS end label -> {label it may join: bond type}, from RDKit's reaction definitions."""
    table: dict[int, dict[int, Chem.BondType]] = {}
    for group in BRICS.reactionDefs:
        for a, b, bond in group:
            la, lb = int(a.rstrip("ab")), int(b.rstrip("ab"))
            order = Chem.BondType.DOUBLE if bond == "=" else Chem.BondType.SINGLE
            table.setdefault(la, {})[lb] = order
            table.setdefault(lb, {})[la] = order
    return table


_COMPATIBLE = _compatible_labels()


class _Fragment(NamedTuple):
    mol: Chem.Mol
    seed: str
    ends: tuple[tuple[int, int], ...]  # (atom index, BRICS label) of its open ends
    n_stars: int  # polymer attachment points (unlabelled `*`)


def _fragments(seeds: Sequence[Molecule]) -> list[_Fragment]:
    """Unique BRICS fragments of the seeds, sorted by SMILES; each remembers its first seed."""
    first_seed: dict[str, str] = {}
    for seed in seeds:
        for smiles in sorted(BRICS.BRICSDecompose(seed.mol)):
            first_seed.setdefault(smiles, seed.smiles)
    fragments = []
    for smiles in sorted(first_seed):
        mol = Chem.MolFromSmiles(smiles)
        ends = tuple((a.GetIdx(), a.GetIsotope()) for a in mol.GetAtoms() if a.GetAtomicNum() == 0 and a.GetIsotope())
        n_stars = sum(1 for a in mol.GetAtoms() if a.GetAtomicNum() == 0 and not a.GetIsotope())
        if ends:  # an uncut seed cannot be joined to anything
            fragments.append(_Fragment(mol, first_seed[smiles], ends, n_stars))
    return fragments


def _join(product: Chem.Mol, end: int, fragment: Chem.Mol, fragment_end: int, order: Chem.BondType) -> Chem.Mol:
    """Bond the atoms behind two BRICS ends and drop both end markers."""
    rw = Chem.RWMol(Chem.CombineMols(product, fragment))
    offset = product.GetNumAtoms()
    left = product.GetAtomWithIdx(end).GetNeighbors()[0].GetIdx()
    right = fragment.GetAtomWithIdx(fragment_end).GetNeighbors()[0].GetIdx() + offset
    rw.AddBond(left, right, order)
    for idx in sorted((end, fragment_end + offset), reverse=True):
        rw.RemoveAtom(idx)
    return rw.GetMol()


def brics_proposals(
    seeds: Sequence[Molecule],
    settings: BricsSettings,
    rng: np.random.Generator,
    failures: dict[str, int],
    *,
    polymer: bool,
) -> Proposer:
    """Propose up to `settings.max_products` distinct recombined molecules.

    Args:
        seeds: Standardised seeds (all small molecules or all repeat units).
        settings: BRICS settings.
        rng: Source of every random choice.
        failures: Counter, updated in place, of attempts that gave no valid structure.
        polymer: Keep only products with exactly two attachment points (else none).
    """
    fragments = _fragments(seeds)
    wanted_stars = 2 if polymer else 0
    starts = [f for f in fragments if f.n_stars > 0] if polymer else fragments
    if not starts:
        return
    seen: set[str] = set()
    misses = 0
    for _ in range(_ATTEMPTS_PER_PRODUCT * settings.max_products):
        if len(seen) >= settings.max_products or misses >= _MAX_MISSES_IN_A_ROW:
            return
        misses += 1
        built = _build(fragments, starts, settings.max_fragments, wanted_stars, rng)
        if built is None:
            failures["brics"] = failures.get("brics", 0) + 1
            continue
        smiles, parents = built
        if smiles in seen:
            continue
        seen.add(smiles)
        misses = 0
        yield Proposal(smiles, "brics", ".".join(parents))


def _build(
    fragments: list[_Fragment],
    starts: list[_Fragment],
    max_fragments: int,
    wanted_stars: int,
    rng: np.random.Generator,
) -> tuple[str, list[str]] | None:
    """One random product: its canonical SMILES and the seeds it drew on, or None."""
    first = starts[rng.integers(len(starts))]
    product, stars, used = first.mol, first.n_stars, 1
    parents = [first.seed]
    while True:
        open_ends = [a.GetIdx() for a in product.GetAtoms() if a.GetAtomicNum() == 0 and a.GetIsotope()]
        if not open_ends:
            break
        end = open_ends[0]
        label = product.GetAtomWithIdx(end).GetIsotope()
        partners = _COMPATIBLE.get(label, {})
        last = used + 1 >= max_fragments
        options = [
            f
            for f in fragments
            if any(label in partners for _, label in f.ends)
            and stars + f.n_stars <= wanted_stars
            and (not last or len(f.ends) == 1)
        ]
        if not options:
            return None
        fragment = options[rng.integers(len(options))]
        fitting = [(idx, label) for idx, label in fragment.ends if label in partners]
        fragment_end, fragment_label = fitting[rng.integers(len(fitting))]
        order = partners[fragment_label]
        product = _join(product, end, fragment.mol, fragment_end, order)
        stars += fragment.n_stars
        used += 1
        if fragment.seed not in parents:
            parents.append(fragment.seed)
    if stars != wanted_stars:
        return None
    try:
        Chem.SanitizeMol(product)
    except Exception:  # RDKit raises several types for impossible valences or aromaticity
        return None
    return Chem.MolToSmiles(product), parents
