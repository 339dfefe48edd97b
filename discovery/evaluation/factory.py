"""`model_factory`: a zero-argument builder of a fresh configured model, for each split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discovery.model import ModelConfig, PropertyModel


@dataclass(frozen=True)
class ModelFactory:
    """Zero-argument callable building a fresh model from `config`, with `defaults` (seed,
    descriptors, categories) for the parameters the config does not set."""

    config: ModelConfig
    defaults: dict[str, Any]

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def kwargs(self) -> dict[str, Any]:
        """The constructor's keyword arguments."""
        return {**self.defaults, **self.config.params}

    def __call__(self) -> PropertyModel:
        return self.config.build(**self.defaults)


def model_factory(
    model: ModelConfig | str,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    descriptors: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
) -> ModelFactory:
    """A factory for a model: its config, or the name of one (`conf/model/<name>.yaml`) with
    `params` on top of its own.

    `seed` is passed unless the parameters set it (every model takes one); `descriptors` is passed
    to models that take descriptor columns (`capabilities.descriptors`) and `categories` to models
    that take category columns (`capabilities.categories`), unless the parameters set them.

    Raises:
        ConfigError (a ValueError): unknown model, or a parameter it does not accept (naming the key).
    """
    config = ModelConfig.named(model, dict(params or {})) if isinstance(model, str) else model
    defaults: dict[str, Any] = {}
    if seed is not None:
        defaults["seed"] = seed
    if descriptors is not None and config.capabilities.descriptors:
        defaults["descriptors"] = list(descriptors)
    if categories is not None and config.capabilities.categories:
        defaults["categories"] = list(categories)
    return ModelFactory(config, {k: v for k, v in defaults.items() if k not in config.params})
