"""Molecules and polymer repeat units: parsing, standardisation, oligomers and 3D structures."""

from discovery.chem.molecule import Molecule, MoleculeError, parse_molecule, parse_molecules
from discovery.chem.polymer import build_oligomer
from discovery.chem.repeat_unit import attachment_atoms

__all__ = [
    "Molecule",
    "MoleculeError",
    "parse_molecule",
    "parse_molecules",
    "build_oligomer",
    "attachment_atoms",
]
