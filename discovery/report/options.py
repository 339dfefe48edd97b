"""Report options: what the round report shows and how large (the `report` config group)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from discovery.config import from_mapping
from discovery.paths import PROJECT_ROOT

DEFAULT_CONFIG = PROJECT_ROOT / "conf" / "report" / "default.yaml"


@dataclass(frozen=True)
class ReportOptions:
    """What the report shows and how large.

    Attributes:
        top_terms: Terms shown in the "what the model learned" forest plot, strongest first.
        max_pool_points_scatter: Pools up to this size are drawn point by point; larger ones as
            a hexbin density with the proposals on top (keeps 100k-candidate reports small).
        figure_dpi: Resolution of the embedded PNG plots (dots per inch at their drawn size).
        structure_width, structure_height: Size in pixels of the 2D drawings of proposals.
        neighbour_width, neighbour_height: ... and of their nearest measured neighbours.
    """

    top_terms: int = 15
    max_pool_points_scatter: int = 5000
    figure_dpi: int = 110
    structure_width: int = 210
    structure_height: int = 150
    neighbour_width: int = 150
    neighbour_height: int = 105

    def __post_init__(self) -> None:
        if self.top_terms < 1 or self.max_pool_points_scatter < 1 or self.figure_dpi < 30:
            raise ValueError(f"report options out of range: {self}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ReportOptions:
        """Options from a mapping; unknown keys raise (a typo must not be silently ignored)."""
        return from_mapping(cls, values, "report")

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_CONFIG) -> ReportOptions:
        """Options from a `report` group file (its `enabled` steers the campaign run, not the rendering)."""
        values = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        assert isinstance(values, dict)
        return cls.from_dict({str(k): v for k, v in values.items() if k != "enabled"})
