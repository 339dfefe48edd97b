"""Candidate pool: generate molecules or polymer repeat units from seeds, filter and count.

    from discovery.pool import PoolSettings, generate_pool
    pool = generate_pool(seeds, PoolSettings.from_dict(yaml_mapping), exclude=measured, seed=0)
    pool.candidates  # smiles, identity, origin, parent, sa_score
    pool.summary.to_dict()
"""

from discovery.pool.generate import COLUMNS, Pool, PoolSummary, generate_pool
from discovery.pool.settings import (
    BricsSettings,
    FilterSettings,
    LibrarySettings,
    MutationSettings,
    PoolKind,
    PoolSettings,
    ScreeningMethod,
    ScreeningSettings,
    SelfiesSettings,
)

__all__ = [
    "COLUMNS",
    "Pool",
    "PoolSummary",
    "generate_pool",
    "PoolKind",
    "PoolSettings",
    "MutationSettings",
    "BricsSettings",
    "LibrarySettings",
    "SelfiesSettings",
    "FilterSettings",
    "ScreeningMethod",
    "ScreeningSettings",
]
