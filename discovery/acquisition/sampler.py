"""An MC sampler that uses every posterior draw of an ensemble exactly once, jointly."""

from __future__ import annotations

import torch
from botorch.posteriors.ensemble import EnsemblePosterior
from botorch.sampling.base import MCSampler
from torch import Tensor


class AllDrawsSampler(MCSampler):
    """Returns all `s` ensemble members of an `EnsemblePosterior` as the MC samples.

    BoTorch's `IndexSampler` draws member indices with replacement, independently of the
    posterior's content, so two evaluations of the same batch can see different members and
    rankings become noisy. Here sample i is member i for every point of the joint batch (the
    q candidates, pending points and baseline alike): the acquisition value is the exact
    average over the posterior sample, a deterministic function of it.

    Args:
        n_draws: The ensemble size `s` the posteriors will have (the sample shape).
    """

    def __init__(self, n_draws: int) -> None:
        super().__init__(sample_shape=torch.Size([n_draws]))

    def forward(self, posterior: EnsemblePosterior) -> Tensor:
        """Samples of shape `s x batch_shape x q x m` from values `batch_shape x s x q x m`."""
        values = posterior.values
        if values.shape[-3] != self.sample_shape[0]:
            raise ValueError(
                f"AllDrawsSampler was built for {self.sample_shape[0]} draws, the posterior has {values.shape[-3]}"
            )
        return values.movedim(-3, 0)

    def _update_base_samples(self, posterior: EnsemblePosterior, base_sampler: MCSampler) -> None:
        """Nothing to share: the samples are the members themselves."""
