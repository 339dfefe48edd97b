"""Choosing a batch from a candidate pool with BoTorch acquisition functions.

The model's posterior draws of the property for the measured molecules and the pool become a
BoTorch `EnsembleModel` that looks candidates up by index (`DrawTableModel`); every draw is used
jointly across the batch and the baseline (`AllDrawsSampler`), so a ranking is a deterministic
function of the posterior. `select_batch` runs the configured strategy and `proposal_table`
describes the chosen candidates for the lab. Several properties (objectives and constraints):
`select_pareto_batch`, exact from the joint draws.
"""

from discovery.acquisition.model import DrawTableModel
from discovery.acquisition.pareto import (
    FurtherOutcomes,
    InfeasibleBatchError,
    OutcomeDraws,
    ParetoChoice,
    select_pareto_batch,
)
from discovery.acquisition.proposals import nearest_measured, proposal_table
from discovery.acquisition.sampler import AllDrawsSampler
from discovery.acquisition.strategies import (
    FEASIBILITY_WEIGHTED,
    PARETO_STRATEGIES,
    STRATEGIES,
    AcquisitionSettings,
    Selection,
    Strategy,
    select_batch,
)

__all__ = [
    "FEASIBILITY_WEIGHTED",
    "FurtherOutcomes",
    "InfeasibleBatchError",
    "PARETO_STRATEGIES",
    "OutcomeDraws",
    "ParetoChoice",
    "STRATEGIES",
    "AcquisitionSettings",
    "AllDrawsSampler",
    "DrawTableModel",
    "Selection",
    "Strategy",
    "nearest_measured",
    "proposal_table",
    "select_batch",
    "select_pareto_batch",
]
