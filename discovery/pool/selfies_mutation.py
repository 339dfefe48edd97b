"""SELFIES mutation: random token edits of a seed's SELFIES string, decoded back to SMILES.

Every SELFIES string decodes to a valence-valid molecule, so random replacements, insertions
and deletions of tokens always give a structure. The edits are less "chemist-like" than the
graph operators in `mutation`, hence off by default.

Polymer repeat units: SELFIES has no `*`, so the two attachment points are written as
iodine-125 (a one-bonded atom no seed contains) and their tokens are never edited; a child is
kept only if both come back, each with one single bond.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import selfies as sf
from rdkit import Chem

from discovery.chem import Molecule
from discovery.pool.proposal import Proposer, evolve
from discovery.pool.settings import SelfiesSettings

#: Stand-in for `[*]`, written the same in SMILES and as a SELFIES token.
_PLACEHOLDER = "[125I]"
_ATTEMPTS_PER_CHILD = 5


def _alphabet(elements: Sequence[str]) -> list[str]:
    """Neutral atom tokens of the given elements plus branch and ring tokens, sorted."""
    tokens = []
    for token in sf.get_semantic_robust_alphabet():
        body = token.strip("[]").lstrip("=#")
        if body in elements or body in ("Branch1", "Ring1"):
            tokens.append(token)
    return sorted(tokens)


def _encode(smiles: str) -> list[str] | None:
    try:
        return list(sf.split_selfies(sf.encoder(smiles.replace("[*]", _PLACEHOLDER))))
    except sf.EncoderError:
        return None


def _decode(tokens: list[str], polymer: bool) -> str | None:
    try:
        smiles = sf.decoder("".join(tokens))
    except sf.DecoderError:
        return None
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return None
    placeholders = [a for a in mol.GetAtoms() if a.GetAtomicNum() == 53 and a.GetIsotope() == 125]
    if len(placeholders) != (2 if polymer else 0) or any(a.GetDegree() != 1 for a in placeholders):
        return None
    for atom in placeholders:
        atom.SetAtomicNum(0)
        atom.SetIsotope(0)
    return Chem.MolToSmiles(mol)


def selfies_proposals(
    seeds: Sequence[Molecule],
    settings: SelfiesSettings,
    rng: np.random.Generator,
    failures: dict[str, int],
    *,
    polymer: bool,
) -> Proposer:
    """Propose SELFIES mutants generation by generation; accepted children are the next parents.

    A child is its parent with 1 to `max_edits` token edits (replace, insert or delete, equally
    likely) at random positions other than the attachment points.

    Args:
        seeds: Standardised seeds (all small molecules or all repeat units).
        settings: SELFIES settings.
        rng: Source of every random choice.
        failures: Counter, updated in place, of attempts that gave no valid structure.
        polymer: Seeds are repeat units.
    """
    alphabet = _alphabet(settings.elements)

    def mutator_for(smiles: str) -> Callable[[], str | None] | None:
        tokens = _encode(smiles)
        if tokens is None:
            return None
        return lambda: _decode(_edit(tokens, alphabet, settings.max_edits, rng), polymer)

    return (yield from evolve(seeds, "selfies", settings.generations, settings.children_per_parent,
                              _ATTEMPTS_PER_CHILD, mutator_for, failures))


def _edit(tokens: list[str], alphabet: list[str], max_edits: int, rng: np.random.Generator) -> list[str]:
    edited = list(tokens)
    for _ in range(int(rng.integers(1, max_edits + 1))):
        positions = [i for i, token in enumerate(edited) if token != _PLACEHOLDER]
        kind = int(rng.integers(3))
        if kind == 1:  # insert before a position, or at the end
            edited.insert(int(rng.integers(len(edited) + 1)), alphabet[rng.integers(len(alphabet))])
        elif not positions:
            continue
        elif kind == 0:
            edited[positions[rng.integers(len(positions))]] = alphabet[rng.integers(len(alphabet))]
        else:
            del edited[positions[rng.integers(len(positions))]]
    return edited
