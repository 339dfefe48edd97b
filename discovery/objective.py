"""Which way is better: the one place that knows what maximising or minimising a property means,
and what it means for a property to be an objective or a constraint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from discovery.config import ConfigEnum


class Direction(ConfigEnum):
    """The direction a property is optimised in (`campaign.direction`, `split.direction`)."""

    MAX = "max"
    MIN = "min"

    @property
    def sign(self) -> float:
        """+1 for MAX, -1 for MIN: `sign * value` is larger for better values."""
        return 1.0 if self is Direction.MAX else -1.0

    def best(self, values: Any) -> float:
        """The best of `values`."""
        return float(np.max(values) if self is Direction.MAX else np.min(values))

    def best_index(self, values: Any) -> int:
        """Position of the (first) best of `values`."""
        return int(np.argmax(values) if self is Direction.MAX else np.argmin(values))

    def is_better(self, a: Any, b: Any) -> Any:
        """`a` strictly better than `b` (elementwise for arrays)."""
        return a > b if self is Direction.MAX else a < b


class Bound(ConfigEnum):
    """Which side of its threshold a constraint's property must be on."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"

    @property
    def symbol(self) -> str:
        return ">=" if self is Bound.AT_LEAST else "<="

    def satisfied(self, values: np.ndarray, threshold: float) -> np.ndarray:
        return values >= threshold if self is Bound.AT_LEAST else values <= threshold


@dataclass(frozen=True)
class Constraint:
    """A property that must be at least / at most `threshold` (property units)."""

    name: str
    bound: Bound
    threshold: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "bound", Bound(self.bound))
        if not np.isfinite(self.threshold):
            raise ValueError(f"constraint {self.name!r}: threshold must be finite, got {self.threshold}")

    def __str__(self) -> str:
        return f"{self.name} {self.bound.symbol} {self.threshold:g}"


@dataclass(frozen=True)
class Objective:
    """A property to maximise or minimise."""

    name: str
    direction: Direction

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", Direction(self.direction))
