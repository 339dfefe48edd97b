"""Which way is better: the one place that knows what maximising or minimising a property means."""

from __future__ import annotations

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
