"""Benchmark datasets built offline from public sources.

`chemicals_suite`: 12 experimental molecular properties assembled from the data files shipped with the
`chemicals` package (optional dependency `discovery[benchmarks]`). Names are imported lazily so that
`python -m discovery.datasets.chemicals_suite` runs cleanly.

`seed_paper`: the seed paper's own FreeSolv benchmark (data, headline splits, figures), read from
`../shared/benchmarks/qmex_dgs/` beside the checkout (`load_seed_paper_benchmark`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["PROPERTIES", "PropertySpec", "build_suite", "diverse_molecules", "load_property"]

if TYPE_CHECKING:  # pragma: no cover
    from discovery.datasets.chemicals_suite import (
        PROPERTIES,
        PropertySpec,
        build_suite,
        diverse_molecules,
        load_property,
    )


def __getattr__(name: str) -> Any:
    if name in __all__:
        from discovery.datasets import chemicals_suite

        return getattr(chemicals_suite, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
