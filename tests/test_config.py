"""The one config mechanism: frozen dataclasses are the schemas (Hydra's ConfigStore), YAML holds
only what differs from them, one converter, and every refusal is one line naming the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, ListConfig, OmegaConf

from discovery.campaign.settings import RunSettings
from discovery.config import ConfigEnum, ConfigError, from_mapping, schema, signature_schema
from discovery.evaluation.settings import EvaluateSettings
from discovery.features import QMSettings
from discovery.model import ModelConfig, TargetTransform, available_models
from discovery.model.bayes import BayesianILR, HorseshoePrior
from discovery.objective import Direction

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"


# --------------------------------------------------------------------------------------------
# YAML holds only what differs from the dataclass defaults
# --------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=False, enum_to_str=False)
    return value


def _same(default: Any, value: Any) -> bool:
    default = _plain(default)
    if isinstance(default, ConfigEnum):
        default = default.value
    if isinstance(default, Path):
        default = str(default)
    if isinstance(default, tuple):
        default = list(default)
    return default == value


def _repeated(values: Mapping[str, Any], node: DictConfig, prefix: str = "") -> list[str]:
    """Keys of `values` whose value equals the schema default in `node`."""
    found = []
    for key, value in values.items():
        assert key in node.keys(), f"{prefix}{key} is not in the schema"
        if isinstance(value, Mapping) and isinstance(node._get_node(key), DictConfig) and not node._get_node(key)._is_none():
            found += _repeated(value, node[key], f"{prefix}{key}.")
        elif not OmegaConf.is_missing(node, key) and not (isinstance(value, str) and "${" in value):
            if _same(node[key], value):
                found.append(f"{prefix}{key}: {value!r}")
    return found


def _model_params_schema(name: str) -> DictConfig:
    return schema(signature_schema(ModelConfig.named(name).model_class))


def _default_model() -> str:
    (choice,) = [d["model"] for d in OmegaConf.load(CONF / "config.yaml").defaults if isinstance(d, DictConfig) and "model" in d]
    return choice


@pytest.mark.parametrize("path", sorted(CONF.rglob("*.yaml")), ids=lambda p: str(p.relative_to(CONF)))
def test_yaml_files_hold_only_what_differs_from_the_schema(path):
    values = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    values.pop("hydra", None)
    defaults = values.pop("defaults", [])
    group = path.parent.name
    if path.parent == CONF:  # an app's root config
        root = {"config.yaml": RunSettings, "evaluate.yaml": EvaluateSettings}[path.name]
        assert _repeated(values, schema(root)) == []
        return
    if group == "campaign":  # `@package _global_`: the run's root keys
        params = values.get("model", {}).pop("params", {})
        repeated = _repeated(values, schema(RunSettings))
        repeated += _repeated(params, _model_params_schema(_default_model()), "model.params.")
        assert repeated == []
        return
    bases = [d for d in defaults if isinstance(d, str) and d.startswith("base_")]
    assert len(bases) == 1, f"{path} must extend its group's schema: defaults: [base_..., _self_]"
    node = ConfigStore.instance().load(f"{group}/{bases[0]}.yaml").node
    params = values.pop("params", {}) if group == "model" else {}
    repeated = _repeated(values, node)
    if group == "model":
        repeated += _repeated(params, _model_params_schema(path.stem), "params.")
    assert repeated == [], f"{path} repeats schema defaults"


def test_the_model_configs_are_the_list_of_models():
    assert available_models() == sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
    for name in available_models():
        config = ModelConfig.named(name)
        assert config.name == name and isinstance(config.build(seed=1), config.model_class)


# --------------------------------------------------------------------------------------------
# the converter
# --------------------------------------------------------------------------------------------


class Colour(ConfigEnum):
    RED = "red"
    DARK_BLUE = "dark_blue"


@dataclass(frozen=True)
class Inner:
    n: int = 3
    names: tuple[str, ...] = ("a", "b")
    colour: Colour = Colour.RED


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    limit: float | None = None
    weights: dict[str, float] = field(default_factory=lambda: {"x": 1.0})

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError("limit must be >= 0")


def test_from_mapping_builds_frozen_settings_with_tuples_and_enums():
    built = from_mapping(Outer, {"name": "o", "inner": {"names": ["c"], "colour": "dark_blue"}, "limit": 2})
    assert built == Outer("o", Inner(names=("c",), colour=Colour.DARK_BLUE), 2.0)
    assert isinstance(built.inner.names, tuple) and hash(built.inner) is not None
    assert from_mapping(Outer, {"name": "o", "inner": {"colour": "DARK_BLUE"}}).inner.colour is Colour.DARK_BLUE
    assert from_mapping(Outer, {"name": "o", "defaults": ["base_outer", "_self_"]}).name == "o"


@pytest.mark.parametrize("values, message", [
    ({"name": "o", "inner": {"m": 1}}, "unknown thing setting 'outer.inner.m'; known keys here: n, names, colour"),
    ({"name": "o", "inner": {"n": "many"}}, "thing setting outer.inner.n must be an integer, got 'many'"),
    ({"name": "o", "inner": {"n": 1.5}}, "thing setting outer.inner.n must be an integer, got 1.5"),
    ({"name": "o", "limit": "high"}, "thing setting outer.limit must be a number, got 'high'"),
    ({"name": "o", "inner": {"colour": "green"}}, "outer.inner.colour must be one of 'red', 'dark_blue', got 'green'"),
    ({"name": "o", "inner": {"names": "abc"}}, "outer.inner.names must be a list, got 'abc'"),
    ({"name": "o", "weights": {"y": "heavy"}}, "outer.weights.y must be a number, got 'heavy'"),
    ({"inner": {}}, "missing value for outer.name"),
    ({"name": "o", "limit": -1}, "limit must be >= 0"),
])  # fmt: skip
def test_from_mapping_refuses_with_one_line_naming_the_key(values, message):
    with pytest.raises(ValueError) as info:
        from_mapping(Outer, values, "thing", "outer.")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_schema_of_a_frozen_dataclass_takes_merges_and_derived_defaults_follow_their_fields():
    # OmegaConf makes frozen dataclasses read-only configs; the schema is open for Hydra's merges
    merged = OmegaConf.merge(schema(RunSettings), {"qm": {"preset": "full"}})
    assert merged.qm.preset == "full" and merged.qm.n_conformers is None  # not the fast preset's 3
    assert from_mapping(QMSettings, {"preset": "full"}).n_conformers == 5


def test_signature_schema_types_constructor_parameters_for_the_config():
    hints = {f.name: f.type for f in signature_schema(BayesianILR).__dataclass_fields__.values()}
    assert hints["prior"] is HorseshoePrior and hints["target_transform"] is TargetTransform
    assert hints["descriptors"] == Optional[list[str]]  # noqa: UP045
    with pytest.raises(ConfigError, match="model.params.prior.slab_scal"):
        ModelConfig.named("bayes_ilr", {"prior": {"slab_scal": 1.0}})


def test_direction_knows_its_sign_and_what_is_better():
    assert Direction("max") is Direction.MAX and Direction["min"] is Direction.MIN
    assert (Direction.MAX.sign, Direction.MIN.sign) == (1.0, -1.0)
    values = np.array([3.0, 1.0, 5.0])
    assert Direction.MAX.best(values) == 5.0 and Direction.MIN.best(values) == 1.0
    assert Direction.MAX.best_index(values) == 2 and Direction.MIN.best_index(values) == 1
    assert Direction.MIN.is_better(values, 2.0).tolist() == [False, True, False]
    assert Direction.MAX == "max" and f"{Direction.MAX}" == "max" and json.dumps([Direction.MIN]) == '["min"]'
    with pytest.raises(ValueError, match="direction must be one of 'max', 'min', got 'up'"):
        Direction("up")


# --------------------------------------------------------------------------------------------
# the run's config: composed by Hydra, converted once
# --------------------------------------------------------------------------------------------


def _settings(*overrides: str) -> RunSettings:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return RunSettings.from_config(compose(config_name="config", overrides=list(overrides)))


def test_config_hash_is_equal_for_equal_settings_however_written():
    default = _settings()
    assert default.config_hash == _settings().config_hash
    assert default.config_hash == _settings("model.params.sampler.draws=1000", "acquisition.batch_size=8").config_hash
    assert default.config_hash != _settings("model.params.sampler.draws=999").config_hash
    assert default.config_hash == _settings("report.top_terms=3").config_hash  # the report is not a result


def test_a_campaign_refuses_a_model_without_posterior_draws_when_loaded():
    with pytest.raises(ConfigError, match="model 'pls_ilr' gives no posterior draws.*choose one of .*'bayes_ilr'"):
        _settings("campaign=backtest", "campaign.lookup.path=campaigns/liquid_dielectric/lookup.csv", "model=pls_ilr")


# --------------------------------------------------------------------------------------------
# through the real command line: exit status 2 and one line naming the key
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("app, overrides, message", [
    ("run", ["pool.max_candidate=3"], "unknown key 'pool.max_candidate'; known keys here: kind, max_candidates"),
    ("run", ["acquisition.batch_size=many"], "acquisition.batch_size must be an integer, got 'many'"),
    ("run", ["campaign.direction=up"], "campaign.direction must be one of 'max', 'min', got 'up'"),
    ("run", ["model.params.sampler.method=hmc"], "model.params.sampler.method must be one of 'gibbs', 'nutpie'"),
    ("run", ["+pool.mutation.colour=blue"], "unknown key 'pool.mutation.colour'"),
    ("evaluate", ["dataset.target_col=y"], "missing value for dataset.path"),
])  # fmt: skip
def test_the_apps_exit_2_with_one_line_naming_the_key(tmp_path, app, overrides, message):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", f"discovery.{app}", f"state_dir={tmp_path}", f"hydra.run.dir={tmp_path / 'h'}", *overrides]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and message in lines[0], lines
