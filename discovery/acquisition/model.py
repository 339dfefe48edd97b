"""A BoTorch model whose posterior is a precomputed table of draws, looked up by candidate index."""

from __future__ import annotations

import numpy as np
import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor


class DrawTableModel(EnsembleModel):
    """Posterior draws of a property for a fixed set of molecules, as a BoTorch ensemble model.

    For a linear model the draws of the whole pool are one matrix product, computed once; BoTorch
    then only indexes this table, however often the acquisition function is evaluated.

    Args:
        draws: Posterior draws of the noise-free property, shape (s, n_molecules), in the units
            the acquisition works in (negated for minimisation).
        dtype: float32 by default: faster acquisition (BENCHMARKS.md, "Acquisition"), and seven
            significant digits are far below the spread of the draws.

    Inputs `X` are molecule indices stored as floats, shape `batch x q x 1` (BoTorch's models take
    real-valued inputs); `forward` returns the draws at those indices, `batch x s x q x 1`.
    """

    def __init__(self, draws: np.ndarray | Tensor, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        table = torch.as_tensor(np.asarray(draws), dtype=dtype)
        if table.ndim != 2 or table.shape[0] < 2:
            raise ValueError(f"draws must have shape (n_draws >= 2, n_molecules), got {tuple(table.shape)}")
        if not torch.isfinite(table).all():
            raise ValueError("draws contain NaN or infinite values")
        self.register_buffer("table", table)
        # molecule-major copy: a batch of candidates gathers contiguous rows (BENCHMARKS.md, "Acquisition")
        self.register_buffer("by_molecule", table.T.contiguous())
        self._num_outputs = 1

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
        values = self.by_molecule[index]  # batch x q x s
        return values.transpose(-1, -2).unsqueeze(-1)  # batch x s x q x 1
