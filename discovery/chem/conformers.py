"""3D structures: RDKit ETKDG conformers relaxed with MMFF94 (UFF where MMFF has no parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import AllChem


class EmbeddingError(RuntimeError):
    """No 3D structure could be generated for a molecule."""


@dataclass(frozen=True)
class Conformer:
    """One 3D structure of a molecule with explicit hydrogens.

    Attributes:
        numbers: Atomic numbers, shape (n_atoms,).
        positions_angstrom: Cartesian coordinates in Å, shape (n_atoms, 3).
        force_field_energy_kcal_mol: MMFF94 (or UFF) energy of this conformer.
    """

    numbers: np.ndarray
    positions_angstrom: np.ndarray
    force_field_energy_kcal_mol: float


def embed_conformers(
    mol: Chem.Mol, n_conformers: int, seed: int, max_force_field_iterations: int = 500
) -> tuple[Chem.Mol, list[Conformer]]:
    """Generate conformers, relax them with a force field and sort them by energy.

    Args:
        mol: Molecule without `*` atoms (implicit or explicit hydrogens).
        n_conformers: How many ETKDG conformers to embed (>= 1).
        seed: Random seed for ETKDG.
        max_force_field_iterations: Force-field optimisation steps per conformer.

    Returns:
        The molecule with explicit hydrogens (atom order matches the conformers), and its
        conformers, lowest force-field energy first.

    Raises:
        EmbeddingError: when ETKDG fails even with random starting coordinates.
    """
    molh = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    params.pruneRmsThresh = 0.1
    params.numThreads = 1  # parallelism happens across molecules, not inside one
    conf_ids = list(AllChem.EmbedMultipleConfs(molh, numConfs=n_conformers, params=params))
    if not conf_ids:  # fall-backs: random start, then drop ETKDG's geometric knowledge
        params.useRandomCoords = True  # (strained rings such as cyclooctyne defeat it)
        conf_ids = list(AllChem.EmbedMultipleConfs(molh, numConfs=n_conformers, params=params))
    if not conf_ids:
        params.useBasicKnowledge = False
        params.useExpTorsionAnglePrefs = False
        params.enforceChirality = False
        params.ignoreSmoothingFailures = True
        conf_ids = list(AllChem.EmbedMultipleConfs(molh, numConfs=n_conformers, params=params))
    if not conf_ids:
        raise EmbeddingError("RDKit ETKDG could not embed a 3D structure")

    if AllChem.MMFFHasAllMoleculeParams(molh):
        results = AllChem.MMFFOptimizeMoleculeConfs(molh, maxIters=max_force_field_iterations, numThreads=1)
    elif AllChem.UFFHasAllMoleculeParams(molh):
        results = AllChem.UFFOptimizeMoleculeConfs(molh, maxIters=max_force_field_iterations, numThreads=1)
    else:  # keep the ETKDG geometry; xTB relaxes it if geometry optimisation is on
        results = [(0, 0.0)] * len(conf_ids)

    numbers = np.array([atom.GetAtomicNum() for atom in molh.GetAtoms()], dtype=np.int32)
    conformers = [
        Conformer(
            numbers=numbers,
            positions_angstrom=np.array(molh.GetConformer(cid).GetPositions(), dtype=float),
            force_field_energy_kcal_mol=float(energy),
        )
        for cid, (_, energy) in zip(conf_ids, results, strict=True)
    ]
    conformers.sort(key=lambda c: c.force_field_energy_kcal_mol)
    return molh, conformers
