"""Report options (`conf/report/default.yaml`): what is shown and how large."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from discovery.paths import PROJECT_ROOT
from discovery.config import from_mapping

DEFAULT_CONFIG = PROJECT_ROOT / "conf" / "report" / "default.yaml"


@dataclass(frozen=True)
class ReportOptions:
    """See `conf/report/default.yaml` for what each option does."""

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
        values = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        assert isinstance(values, dict)
        # `enabled` in the same file steers the campaign run, not the rendering
        return cls.from_dict({str(k): v for k, v in values.items() if k != "enabled"})
