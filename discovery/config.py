"""Config is data: a mapping from YAML or Hydra becomes a typed, frozen dataclass at the boundary.

`from_mapping` refuses unknown keys (a typo must not be silently ignored) and values of the wrong
type, naming the dotted key, and turns lists into tuples so the settings stay hashable. Closed
sets of names are `ConfigEnum`s.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class _ByNameOrValue(enum.EnumMeta):
    # OmegaConf converts "max" with `Direction["max"]` (by member name); the YAML writes values
    def __getitem__(cls, name: str) -> Any:
        try:
            return super().__getitem__(name)
        except KeyError:
            try:
                return cls(name)
            except ValueError:
                raise KeyError(name) from None


class ConfigEnum(str, enum.Enum, metaclass=_ByNameOrValue):
    """A closed set of names in the config. Members are strings equal to their value, so they
    compare with plain strings and write themselves as their value in JSON, CSV and f-strings."""

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        raise ValueError(f"{_snake(cls.__name__)} must be one of {cls.choices()}, got {value!r}")

    @classmethod
    def choices(cls) -> str:
        return ", ".join(repr(member.value) for member in cls)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def from_mapping(cls: type[T], values: Any, what: str, prefix: str = "") -> T:
    """`cls(**values)` with every key and value checked against `cls`'s fields and annotations.

    Args:
        cls: A dataclass; nested dataclass fields take nested mappings (None: their defaults).
        values: The mapping.
        what: What the settings are, for messages ("pool", "QM", ...).
        prefix: Dotted path of `values` inside a larger config.

    Raises:
        ValueError: naming the dotted key of an unknown key or of a value of the wrong type.
    """
    if not isinstance(values, Mapping):
        raise ValueError(f"{what} setting {prefix.rstrip('.') or '(root)'} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            raise ValueError(f"unknown {what} setting '{prefix}{key}'; known keys here: {', '.join(known)}")
    return cls(**{key: _convert(hints[key], value, f"{prefix}{key}", what) for key, value in values.items()})


def _convert(hint: Any, value: Any, key: str, what: str) -> Any:
    """Check `value` against the annotation `hint` and convert lists and mappings to tuples."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        return from_mapping(hint, {} if value is None else value, what, f"{key}.")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in hint)
            raise ValueError(f"{what} setting {key} must be one of {choices}, got {value!r}") from None
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _convert(next(a for a in args if a is not type(None)), value, key, what)
    if origin is tuple and args and typing.get_origin(args[0]) is tuple:  # (name, weight) pairs
        if not isinstance(value, Mapping):
            raise ValueError(f"{what} setting {key} must be a mapping of name: weight, got {value!r}")
        return tuple((str(name), _convert(float, weight, f"{key}.{name}", what)) for name, weight in value.items())
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{what} setting {key} must be a list, got {value!r}")
        return tuple(_convert(args[0], item, key, what) for item in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{what} setting {key} must be true/false, got {value!r}")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{what} setting {key} must be an integer, got {value!r}")
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{what} setting {key} must be a number, got {value!r}")
        return float(value)
    elif hint is str and not isinstance(value, str):
        raise ValueError(f"{what} setting {key} must be a string, got {value!r}")
    return value
