"""Config is data: every config node has one schema, a frozen dataclass, and one converter.

Hydra composes `conf/*.yaml` onto the dataclasses registered in its ConfigStore (`register`):
each YAML file extends its group's schema (`defaults: [base_pool, _self_]`) and holds only what
differs from the dataclass defaults. Unknown keys, wrong types and values outside an enum are
refused while composing; `from_mapping` turns the composed config, or a plain dict from Python,
into the dataclass, where missing values and each dataclass's own checks (`__post_init__`)
surface. Every refusal is a `ConfigError` (or the dataclass's `ValueError`) naming the dotted key
on one line, and the command-line apps exit with status 2 on it (`run_app`).

Measured, not assumed: OmegaConf makes a frozen dataclass a read-only config, into which Hydra
cannot merge (`schema` lifts the flag); it looks enum members up by name, the YAML writes values
(`ConfigEnum` looks up both); `to_object` builds lists for tuple fields (`from_mapping` keeps
tuples); a `None` nested dataclass cannot be set from the command line (schemas avoid them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import inspect
import os
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import MISSING, DictConfig, ListConfig, Node, OmegaConf
from omegaconf.errors import (
    ConfigAttributeError,
    ConfigKeyError,
    MissingMandatoryValue,
    OmegaConfBaseException,
    ValidationError,
)

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value refused; the message names its dotted key, on one line."""


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


# --------------------------------------------------------------------------------------------
# schemas
# --------------------------------------------------------------------------------------------


def schema(cls: type) -> DictConfig:
    """The config node of dataclass `cls`: its fields with their defaults, types enforced.

    Hydra merges YAML and overrides into it, so the read-only flag OmegaConf gives frozen
    dataclasses is lifted; a free-form mapping (a `dict[str, Any]` field, e.g. a model's
    parameters, checked later against their own schema) takes new keys without `+`. A nested
    dataclass that is required or defaults to its own defaults is the schema of its class: an
    instance would carry what its `__post_init__` derived (a preset's values, a sampler's
    warm-up), which would then no longer follow the fields they derive from, and OmegaConf would
    make a required one read-only again when a YAML file fills it.
    """
    node = OmegaConf.structured(cls)
    _open(node)
    for item in dataclasses.fields(cls):
        kind = _optional(_hints(cls)[item.name])
        required = item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
        if dataclasses.is_dataclass(kind) and (required or item.default_factory is kind):
            node[item.name] = schema(kind)
    return node


def _optional(hint: Any) -> Any:
    """X for `X | None`, else the hint itself."""
    members = [a for a in typing.get_args(hint) if a is not type(None)]
    return members[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(members) == 1 else hint


def _open(node: Node) -> None:
    node._set_flag("readonly", None)
    if isinstance(node, DictConfig) and not (node._is_none() or node._is_missing()):
        if node._metadata.object_type is dict and node._metadata.element_type is Any:
            node._set_flag("struct", False)
        for key in node.keys():
            _open(node._get_node(key))
    elif isinstance(node, ListConfig) and not (node._is_none() or node._is_missing()):
        for index in range(len(node)):
            _open(node._get_node(index))


def register(name: str, cls: type, group: str | None = None) -> None:
    """Put `cls` into Hydra's ConfigStore as `name` (in `group`), for YAML files to extend."""
    from hydra.core.config_store import ConfigStore  # not in worker processes, which only convert

    ConfigStore.instance().store(name=name, node=schema(cls), group=group)


@functools.cache
def signature_schema(target: Callable[..., Any]) -> type:
    """A frozen dataclass of the keyword parameters of `target` (a class: its constructor), with
    their defaults, typed for OmegaConf: `X | dict | None` of a settings dataclass X becomes X
    (None meaning its defaults), `E | str` of an enum E becomes E, sequences lists."""
    function = target.__init__ if isinstance(target, type) else target
    hints = typing.get_type_hints(function)
    specs = []
    for parameter in inspect.signature(target).parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            continue
        hint = _schema_type(hints.get(parameter.name, Any))
        default = parameter.default
        if default is parameter.empty:
            spec = dataclasses.field(default=MISSING)
        elif default is None and dataclasses.is_dataclass(hint):
            spec = dataclasses.field(default_factory=hint)
        elif isinstance(default, (list, dict, set)):
            spec = dataclasses.field(default_factory=functools.partial(type(default), default))
        else:
            spec = dataclasses.field(default=default)
        specs.append((parameter.name, hint, spec))
    return dataclasses.make_dataclass(f"{target.__name__}Parameters", specs, frozen=True)


def _schema_type(hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        for member in members:
            if dataclasses.is_dataclass(member):
                return member
        enums = [m for m in members if isinstance(m, type) and issubclass(m, enum.Enum)]
        if enums:
            members = enums
        if len(members) == 1:
            inner = _schema_type(members[0])
            return typing.Optional[inner] if type(None) in args else inner  # noqa: UP045 (built at run time)
        return Any
    if origin in (list, tuple, Sequence, set, frozenset):
        return list[_schema_type(args[0])] if args else list[Any]
    if origin in (dict, Mapping):
        return dict[str, _schema_type(args[1])] if args else dict[str, Any]
    if hint in (bool, int, float, str, Path) or dataclasses.is_dataclass(hint):
        return hint
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    return Any


# --------------------------------------------------------------------------------------------
# the converter
# --------------------------------------------------------------------------------------------


def from_mapping(cls: type[T], values: Any, what: str = "", prefix: str = "") -> T:
    """Dataclass `cls` from a mapping (a composed Hydra config or a plain dict).

    Keys and types are checked against `schema(cls)`, missing keys take the defaults, then
    `OmegaConf.to_object` builds the (nested) dataclasses, whose `__post_init__` checks the
    values. A top-level `defaults` key (a group YAML file's defaults list) is not a setting.

    Args:
        cls: The dataclass.
        values: The mapping.
        what: What the settings are, for messages ("pool", ...; "" for a whole config).
        prefix: Dotted path of `values` inside a larger config ("campaign.", ...).

    Raises:
        ConfigError: an unknown key, a value of the wrong type, a missing value; or the
            dataclass's own ValueError.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"{what or 'config'} {prefix.rstrip('.') or 'settings'} must be a mapping, got {values!r}")
    with config_errors(what, prefix):
        if isinstance(values, DictConfig):
            # plain values are checked key by key; a typed node would be taken whole, and keys
            # added with Hydra's `+` would then slip past the schema
            values = OmegaConf.to_container(values, resolve=True)
        values = {key: value for key, value in values.items() if key != "defaults"}
        return _tuples(OmegaConf.to_object(OmegaConf.merge(schema(cls), values)))


@contextlib.contextmanager
def config_errors(what: str = "", prefix: str = "") -> Iterator[None]:
    """Turn OmegaConf's errors inside the block into a `ConfigError` (see `from_mapping`)."""
    try:
        yield
    except OmegaConfBaseException as exc:
        raise ConfigError(describe(exc, what, prefix)) from None


def _tuples(settings: Any) -> Any:
    """Settings as frozen as their annotations say: OmegaConf builds lists for tuple fields."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        hints = _hints(type(settings))
        for item in dataclasses.fields(settings):
            value = getattr(settings, item.name)
            if isinstance(value, list) and typing.get_origin(_optional(hints[item.name])) is tuple:
                object.__setattr__(settings, item.name, tuple(value))  # freshly built, not yet shared
            else:
                _tuples(value)
    return settings


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def coerce_enums(settings: Any, prefix: str = "") -> None:
    """In `__post_init__`: turn strings given for enum fields into members (Python callers write
    `direction="max"`); a string outside the set raises ConfigError naming the key."""
    for name, hint in _hints(type(settings)).items():
        kind = _optional(hint)
        value = getattr(settings, name, None)
        if isinstance(kind, type) and issubclass(kind, ConfigEnum) and value is not None and not isinstance(value, kind):
            if not isinstance(value, str) or value not in kind._value2member_map_:
                raise ConfigError(f"{prefix}{name} must be one of {kind.choices()}, got {value!r}")
            object.__setattr__(settings, name, kind(value))


# --------------------------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------------------------


def describe(exc: OmegaConfBaseException, what: str = "", prefix: str = "") -> str:
    """One line for an OmegaConf error, naming the dotted key."""
    key = f"{prefix}{exc.full_key or exc.key or ''}"
    setting = f"{what} setting" if what else "key"
    if isinstance(exc, (ConfigKeyError, ConfigAttributeError)):
        known = _fields(exc.object_type)
        return f"unknown {setting} '{key}'" + (f"; known keys here: {', '.join(known)}" if known else "")
    if isinstance(exc, MissingMandatoryValue):
        return f"missing value for {key} (set it, e.g. on the command line: {key}=...)"
    where = f"{what} setting {key}" if what else key
    if isinstance(exc, ValidationError) and (expected := _expected(exc)):
        return f"{where} must be {expected}, got {exc.value!r}"
    return f"{where}: {str(exc.msg).splitlines()[0] if exc.msg else type(exc).__name__}"


def _fields(cls: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []


def _expected(exc: ValidationError) -> str | None:
    """What the schema wanted at the refused key, in words."""
    hint: Any = None
    if dataclasses.is_dataclass(exc.object_type) and isinstance(exc.key, str):
        hint = _hints(exc.object_type).get(exc.key)
    elif exc.ref_type is not None:  # an element of a list or mapping
        args = [a for a in typing.get_args(_optional(exc.ref_type)) if a is not Ellipsis]
        hint = args[-1] if args else None
    hint = _optional(hint)
    origin = typing.get_origin(hint) or hint
    if isinstance(origin, type) and issubclass(origin, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in origin)
    words = {bool: "true/false", int: "an integer", float: "a number", str: "a string", Path: "a path",
             list: "a list", tuple: "a list", dict: "a mapping", Mapping: "a mapping", Sequence: "a list"}
    if dataclasses.is_dataclass(origin):
        return "a mapping"
    return words.get(origin)


def app_error(exc: BaseException) -> str:
    """One line for an error Hydra raises while composing a config (the key when one is named)."""
    cause = exc if isinstance(exc, OmegaConfBaseException) else exc.__cause__ or exc.__context__
    if isinstance(cause, OmegaConfBaseException):
        where = re.match(r"In '([^']+)'", str(exc))
        return describe(cause) + (f" (in {where.group(1)}.yaml)" if where else "")
    text = str(exc).split("Config search path")[0]  # Hydra's list of where it looked
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def run_app(main: Callable[[], Any]) -> None:
    """Run a `@hydra.main` app; a config refused while composing exits with status 2 and one line
    naming the key, like every other config error (Hydra's own report: several lines, status 1)."""
    from hydra.errors import HydraException

    os.environ["HYDRA_FULL_ERROR"] = "1"  # composition errors then reach this function
    try:
        main()
    except (HydraException, OmegaConfBaseException) as exc:
        print(f"config error: {app_error(exc)}", file=sys.stderr)
        sys.exit(2)
