"""`model_factory`: a zero-argument builder of a fresh registered model, for each split."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discovery.model import MODELS, make_model


@dataclass(frozen=True)
class ModelFactory:
    """Zero-argument callable building a fresh model: `make_model(name, **kwargs)`."""

    name: str
    kwargs: dict[str, Any]

    def __call__(self) -> Any:
        return make_model(self.name, **self.kwargs)


def _model_class(name: str) -> type:

    try:
        target = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def model_factory(
    name: str,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    descriptors: Sequence[str] | None = None,
) -> ModelFactory:
    """A factory for the registered model `name` with constructor `params`.

    `seed` and `descriptors` are added only if the model's constructor accepts them (checked
    with `inspect.signature`) and `params` does not already set them.

    Raises:
        ValueError: unknown model, or a parameter the constructor does not accept.
    """
    cls = _model_class(name)
    kwargs = dict(params or {})
    signature = inspect.signature(cls)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    unknown = [k for k in kwargs if k not in signature.parameters and not accepts_any]
    if unknown:
        raise ValueError(f"model {name!r} does not accept parameter(s) {unknown}; it takes {list(signature.parameters)}")
    for key, value in (("seed", seed), ("descriptors", None if descriptors is None else list(descriptors))):
        if value is not None and key not in kwargs and (key in signature.parameters or accepts_any):
            kwargs[key] = value
    return ModelFactory(name, kwargs)
