"""A BoTorch model whose posterior is a precomputed table of draws, looked up by candidate index."""

from __future__ import annotations

import numpy as np
import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor


class DrawTableModel(EnsembleModel):
    """Posterior draws of one or more properties for a fixed set of molecules, as a BoTorch
    ensemble model.

    For a linear model the draws of the whole pool are one matrix product, computed once; BoTorch
    then only indexes this table, however often the acquisition function is evaluated.

    Args:
        draws: Joint posterior draws of the noise-free properties, shape (s, n_molecules) for one
            property or (s, n_molecules, m) for m; draw i of every property comes from the same
            posterior sample (joint across molecules, and across properties as far as their
            models share one). Units: those the acquisition works in.
        dtype: float32 by default: faster acquisition (BENCHMARKS.md, "Acquisition"), and seven
            significant digits are far below the spread of the draws.

    Inputs `X` are molecule indices stored as floats, shape `batch x q x 1` (BoTorch's models take
    real-valued inputs); `forward` returns the draws at those indices, `batch x s x q x m`.
    """

    def __init__(self, draws: np.ndarray | Tensor, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        table = torch.as_tensor(np.asarray(draws), dtype=dtype)
        if table.ndim == 2:
            table = table.unsqueeze(-1)
        if table.ndim != 3 or table.shape[0] < 2 or table.shape[2] < 1:
            raise ValueError(f"draws must have shape (n_draws >= 2, n_molecules[, m]), got {tuple(table.shape)}")
        if not torch.isfinite(table).all():
            raise ValueError("draws contain NaN or infinite values")
        self.register_buffer("table", table)
        # molecule-major copy: a batch of candidates gathers contiguous rows (BENCHMARKS.md, "Acquisition")
        self.register_buffer("by_molecule", table.transpose(0, 1).contiguous())  # n x s x m
        self._num_outputs = int(table.shape[2])

    @property
    def n_draws(self) -> int:
        return int(self.table.shape[0])

    @property
    def n_molecules(self) -> int:
        return int(self.table.shape[1])

    def choices(self, indices: np.ndarray | None = None) -> Tensor:
        """Candidate inputs for `optimize_acqf_discrete`, shape (n, 1): all molecules or `indices`."""
        idx = torch.arange(self.n_molecules) if indices is None else torch.as_tensor(np.asarray(indices))
        return idx.to(self.table.dtype).unsqueeze(-1)

    def forward(self, X: Tensor) -> Tensor:
        index = X[..., 0].round().long()  # batch x q
        values = self.by_molecule[index]  # batch x q x s x m
        return values.transpose(-2, -3)  # batch x s x q x m
