"""`model_factory`: a zero-argument builder of a fresh registered model, for each split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discovery.model import make_model, model_class


@dataclass(frozen=True)
class ModelFactory:
    """Zero-argument callable building a fresh model: `make_model(name, **kwargs)`."""

    name: str
    kwargs: dict[str, Any]

    def __call__(self) -> Any:
        return make_model(self.name, **self.kwargs)


def model_factory(
    name: str,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    descriptors: Sequence[str] | None = None,
) -> ModelFactory:
    """A factory for the registered model `name` with constructor `params`.

    `seed` is added unless `params` sets it (every model takes one); `descriptors` is added for
    models that take descriptor columns (`capabilities.descriptors`) unless `params` sets it.

    Raises:
        ValueError: unknown model, or a parameter the constructor does not accept.
    """
    cls = model_class(name)
    kwargs = dict(params or {})
    accepted = cls.parameter_names()
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise ValueError(f"model {name!r} does not accept parameter(s) {unknown}; it takes {accepted}")
    if seed is not None:
        kwargs.setdefault("seed", seed)
    if descriptors is not None and cls.capabilities.descriptors:
        kwargs.setdefault("descriptors", list(descriptors))
    return ModelFactory(name, kwargs)
