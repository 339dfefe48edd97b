"""Parse and standardise SMILES and polymer repeat units (PSMILES) into a `Molecule`.

Small molecules: RDKit parse and sanitise, keep the largest organic fragment, neutralise
charges where a neutral form exists, canonical SMILES, InChIKey as identity.

Polymers: a repeat unit with exactly two attachment points written `[*]` or bare `*`
(`[*]CC([*])c1ccccc1`, `*CC(*)c1ccccc1`). Atom maps and isotopes on the attachment points are
dropped; the canonical form writes them as `[*]`. A repeat unit that repeats itself
(`[*]CCCC[*]`) is reduced to its minimal repeat unit (`[*]CC[*]`), so one polymer has one identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from rdkit import Chem, RDLogger
from rdkit.Chem.MolStandardize import rdMolStandardize

from discovery.chem.repeat_unit import minimal_repeat_unit

# RDKit prints parse errors to stderr; we report them per molecule instead.
RDLogger.DisableLog("rdApp.*")

#: Bump when standardisation changes what a given input maps to (invalidates cached parses).
STANDARDISATION_VERSION = "2"

_DUMMY_IN_SMILES = re.compile(r"\[\*(?::\d+)?\]|\[\d+\*(?::\d+)?\]|\*")


class MoleculeError(ValueError):
    """A molecule that cannot be used, with a human-readable reason.

    Attributes:
        input: The text the user gave.
        reason: Why it was rejected, e.g. "unparsable SMILES" or "polymer needs exactly two
            attachment points [*], found 1".
    """

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input!r}: {reason}")
        self.input = input
        self.reason = reason


@dataclass(frozen=True)
class Molecule:
    """A standardised molecule or polymer repeat unit.

    Attributes:
        input: The text as given.
        smiles: Canonical standardised SMILES; for a polymer the canonical PSMILES with `[*]`.
        identity: Stable identity used for caching and de-duplication: the InChIKey of a small
            molecule, or `polymer:<canonical PSMILES>` for a repeat unit.
        is_polymer: True for a repeat unit with two attachment points.
    """

    input: str
    smiles: str
    identity: str
    is_polymer: bool

    @cached_property
    def mol(self) -> Chem.Mol:
        """RDKit molecule of the canonical SMILES (implicit hydrogens; attachment points as atomic number 0)."""
        mol = Chem.MolFromSmiles(self.smiles)
        if mol is None:  # pragma: no cover - canonical SMILES always re-parses
            raise MoleculeError(self.input, "canonical SMILES failed to re-parse")
        return mol

    @property
    def inchikey(self) -> str | None:
        """InChIKey of a small molecule; None for a polymer repeat unit (InChI has no `*`)."""
        return None if self.is_polymer else self.identity


def _count_dummies(text: str) -> int:
    return len(_DUMMY_IN_SMILES.findall(text))


def _clean_attachment_points(mol: Chem.Mol) -> Chem.Mol:
    """Drop atom maps, isotopes and charges on `*` so `[*:1]`, `[1*]` and `*` are the same."""
    rw = Chem.RWMol(mol)
    for atom in rw.GetAtoms():
        if atom.GetAtomicNum() == 0:
            atom.SetAtomMapNum(0)
            atom.SetIsotope(0)
            atom.SetFormalCharge(0)
            atom.SetNoImplicit(True)
            atom.SetNumExplicitHs(0)
    return rw.GetMol()


def _canonical_psmiles(mol: Chem.Mol) -> str:
    # RDKit writes a bare `*`; PSMILES writes `[*]`.
    return Chem.MolToSmiles(mol).replace("*", "[*]")


_largest_fragment = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_uncharger = rdMolStandardize.Uncharger(canonicalOrder=True)


def parse_molecule(text: str) -> Molecule:
    """Parse and standardise one SMILES or PSMILES.

    Args:
        text: SMILES of a molecule, or a polymer repeat unit with two `[*]` / `*`.

    Returns:
        The standardised `Molecule`.

    Raises:
        MoleculeError: with the reason when the input cannot be used.
    """
    if not isinstance(text, str):
        raise MoleculeError(str(text), f"expected a SMILES string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise MoleculeError(text, "empty SMILES")
    n_dummy = _count_dummies(stripped)
    mol = Chem.MolFromSmiles(stripped)
    if mol is None:
        raise MoleculeError(text, "unparsable SMILES (RDKit could not parse or sanitise it)")
    if mol.GetNumAtoms() == 0:
        raise MoleculeError(text, "SMILES has no atoms")

    if n_dummy == 0:
        return _standardise_small_molecule(text, mol)
    return _standardise_repeat_unit(text, mol, n_dummy)


def _standardise_small_molecule(text: str, mol: Chem.Mol) -> Molecule:
    try:
        mol = _largest_fragment.choose(mol)
        mol = _uncharger.uncharge(mol)
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises several exception types on exotic input
        raise MoleculeError(text, f"standardisation failed: {exc}") from None
    if any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        raise MoleculeError(text, "radicals are not supported (closed-shell molecules only)")
    smiles = Chem.MolToSmiles(mol)
    inchikey = Chem.MolToInchiKey(mol)
    if not inchikey:
        raise MoleculeError(text, "no InChIKey could be generated")
    return Molecule(input=text, smiles=smiles, identity=inchikey, is_polymer=False)


def _standardise_repeat_unit(text: str, mol: Chem.Mol, n_dummy: int) -> Molecule:
    if n_dummy != 2:
        raise MoleculeError(
            text, f"polymer repeat unit needs exactly two attachment points [*], found {n_dummy}"
        )
    if len(Chem.GetMolFrags(mol)) != 1:
        raise MoleculeError(text, "polymer repeat unit must be one connected fragment")
    mol = _clean_attachment_points(mol)
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() != 0:
            continue
        if atom.GetDegree() != 1:
            raise MoleculeError(text, "each attachment point [*] must have exactly one bond")
        if atom.GetBonds()[0].GetBondType() != Chem.BondType.SINGLE:
            raise MoleculeError(text, "attachment points [*] must be joined by single bonds")
    stars = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 0]
    if mol.GetBondBetweenAtoms(*stars) is not None:
        raise MoleculeError(text, "the two attachment points are bonded to each other")
    if any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        raise MoleculeError(text, "radicals are not supported (closed-shell molecules only)")
    if mol.GetNumAtoms() < 3:
        raise MoleculeError(text, "repeat unit has no atoms besides the attachment points")
    smiles = _canonical_psmiles(minimal_repeat_unit(mol))
    return Molecule(input=text, smiles=smiles, identity=f"polymer:{smiles}", is_polymer=True)


def parse_molecules(texts: Iterable[str]) -> list[Molecule | MoleculeError]:
    """Parse a batch; every item becomes a `Molecule` or a `MoleculeError`, nothing raises."""
    out: list[Molecule | MoleculeError] = []
    for text in texts:
        try:
            out.append(parse_molecule(text))
        except MoleculeError as exc:
            out.append(exc)
    return out

