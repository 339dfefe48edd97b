"""The `model` config group: a model class (Hydra's `_target_`) and its constructor parameters.

`conf/model/<name>.yaml` names the class in `_target_` and sets, under `params`, only the
parameters that differ from the constructor's defaults. The parameters are checked when the
config is loaded, before any featurisation or fit: against a schema built from the constructor's
signature (`discovery.config.signature_schema`: unknown keys, types, enum values), then by
building one model (the settings' own checks). The class is imported only for the chosen model.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf

from discovery.config import ConfigError, config_errors, from_mapping, schema, signature_schema
from discovery.model.base import Capabilities, PropertyModel
from discovery.paths import PROJECT_ROOT

#: The model configs: one YAML file per model.
MODEL_CONFIGS = PROJECT_ROOT / "conf" / "model"


def available_models() -> list[str]:
    """Names of the model configs (`conf/model/<name>.yaml`)."""
    return sorted(path.stem for path in MODEL_CONFIGS.glob("*.yaml"))


@dataclass(frozen=True)
class ModelConfig:
    """A model, configured (schema `base_model` of the `model` group).

    Attributes:
        name: The config's name (`conf/model/<name>.yaml`), shown in logs, reports and metrics.
        _target_: Import path of the model class, e.g. "discovery.model.bayes.BayesianILR".
        params: Constructor keyword arguments that differ from its defaults, checked; the run's
            seed is passed as `seed` unless they set one.
    """

    name: str
    _target_: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        every = self._with_defaults(self.params)
        object.__setattr__(self, "params", {key: every[key] for key in self.params})
        try:
            self.build()  # the settings' own checks, now rather than deep inside a round's fit
        except ConfigError:
            raise
        except ValueError as exc:
            raise ConfigError(f"model.params: {exc}") from None

    @classmethod
    def named(cls, name: str, params: dict[str, Any] | None = None) -> ModelConfig:
        """The config `conf/model/<name>.yaml`, with `params` on top of its own."""
        path = MODEL_CONFIGS / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(f"unknown model {name!r}; choose one of {available_models()}")
        values = OmegaConf.merge(OmegaConf.load(path), {"params": params or {}})
        return from_mapping(cls, {key: values[key] for key in values if key != "defaults"}, prefix="model.")

    @property
    def model_class(self) -> type[PropertyModel]:
        module, _, name = self._target_.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(f"model._target_: cannot import {self._target_!r} ({exc})") from None
        if not (isinstance(cls, type) and issubclass(cls, PropertyModel)):
            raise ConfigError(f"model._target_: {self._target_!r} is not a PropertyModel")
        return cls

    @property
    def capabilities(self) -> Capabilities:
        return self.model_class.capabilities

    @property
    def every_param(self) -> dict[str, Any]:
        """Every constructor parameter, the defaults filled in (equal for equal models, however
        their config was written)."""
        return self._with_defaults(self.params)

    def _with_defaults(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` checked against the constructor's signature, with its defaults."""
        with config_errors(prefix="model.params."):
            node = OmegaConf.merge(schema(signature_schema(self.model_class)), params)
            return OmegaConf.to_container(node, resolve=True, throw_on_missing=True)

    def build(self, **defaults: Any) -> PropertyModel:
        """A fresh model: `_target_(**defaults, **params)` (the params win, e.g. over a run's seed)."""
        try:
            return instantiate({"_target_": self._target_, **defaults, **self.params}, _convert_="all")
        except InstantiationException as exc:  # the constructor's own error, without Hydra's wrapping
            raise (exc.__cause__ or exc) from None


def make_model(name: str, **params: Any) -> PropertyModel:
    """The model configured as `name` (`conf/model/<name>.yaml`) with `params` on top."""
    return ModelConfig.named(name, params).build()
