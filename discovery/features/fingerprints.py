"""Morgan (ECFP-like) bit fingerprints, for similarity, diversity and fingerprint baselines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator


def morgan_fingerprints(smiles: Sequence[str], radius: int = 2, n_bits: int = 2048) -> np.ndarray:
    """Bit vectors, shape (n, n_bits), dtype uint8.

    Polymer repeat units are fingerprinted as written: the `[*]` atoms mark the chain ends.

    Raises:
        ValueError: naming the first SMILES RDKit cannot parse.
    """
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    out = np.zeros((len(smiles), n_bits), dtype=np.uint8)
    for i, text in enumerate(smiles):
        mol = Chem.MolFromSmiles(text)
        if mol is None:
            raise ValueError(f"cannot fingerprint unparsable SMILES {text!r}")
        out[i] = generator.GetFingerprintAsNumPy(mol)
    return out


def tanimoto_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tanimoto similarity between rows of two bit matrices, shape (len(a), len(b))."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    inter = a @ b.T
    union = a.sum(axis=1)[:, None] + b.sum(axis=1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.where(union > 0, inter / union, 1.0)
    return sim


__all__ = ["morgan_fingerprints", "tanimoto_similarity"]
