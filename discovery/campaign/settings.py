"""The schema of `python -m discovery.run`: `RunSettings` and the groups it is composed of.

Hydra composes `conf/config.yaml` with the groups `campaign`, `qm`, `model`, `acquisition`,
`pool` and `report` onto these dataclasses (registered in its ConfigStore on import), and
`RunSettings.from_config` converts the result once (`discovery.config.from_mapping`): unknown
keys, wrong types, missing values, missing files and a model without posterior draws are refused
with a message naming the key. Nothing below this module sees a config dict.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discovery.acquisition import PARETO_STRATEGIES, AcquisitionSettings
from discovery.config import ConfigEnum, ConfigError, coerce_enums, from_mapping, register
from discovery.features import DERIVED_NAMES, QMSettings, descriptor_names
from discovery.model import ModelConfig, available_models
from discovery.model.feasibility import FeasibilitySettings
from discovery.objective import Bound, Constraint, Direction, Objective
from discovery.paths import resolve_input_file
from discovery.pool import PoolSettings
from discovery.report import ReportOptions


class CampaignMode(ConfigEnum):
    PROPOSE = "propose"  # one round, then wait for the lab
    SIMULATE = "simulate"  # closed loop against `campaign.lookup` for `campaign.rounds` rounds


@dataclass(frozen=True)
class LookupSettings:
    """A table of known values that plays the lab (simulate mode and backtests).

    Attributes:
        path: CSV file; None: no table.
        smiles_column, target_column: Its columns of SMILES/PSMILES and of the property.
    """

    path: Path | None = None
    smiles_column: str = "smiles"
    target_column: str = "value"

    def __post_init__(self) -> None:
        if self.path is not None:
            object.__setattr__(self, "path", resolve_input_file(str(self.path), "campaign.lookup.path"))


@dataclass(frozen=True)
class InitialSettings:
    """Backtest protocol: the initial measured set, `n` molecules drawn with the seed from those
    below the `max_quantile` quantile of the target (above it for minimisation)."""

    n: int = 30
    max_quantile: float = 0.7

    def __post_init__(self) -> None:
        if self.n < 2 or not 0 < self.max_quantile <= 1:
            raise ConfigError("campaign.initial.n must be >= 2 and max_quantile in (0, 1]")


class PropertySource(ConfigEnum):
    """Where a property's values come from."""

    COMPUTED = "computed"  # a descriptor column of the featuriser: known for every candidate, no lab
    MEASURED = "measured"  # by the lab


@dataclass(frozen=True)
class PropertySettings:
    """A property besides the campaign's target (`campaign.properties`): an objective or a constraint.

    Attributes:
        name: For a computed property, the descriptor column it is (e.g. `gap_ev`; README,
            "Descriptors"); for a measured one, its name in files and the report.
        source: "computed" (a descriptor column) or "measured" (by the lab: a model of its own,
            fitted on the molecules where it was measured; the lab files carry a value column for it).
        column: A measured property's column in the seed data and the lookup table (None: `name`).
        direction: "max" or "min": the property is a further objective (Pareto front).
        at_least, at_most: The property is a constraint: a candidate must lie at or above /
            at or below these (property units); both give a window.
        unit: Its unit, for display.
        minimum, maximum: A measured property's physical limits (e.g. 0 for a boiling point in
            K; None: none): its predicted intervals are clipped to them and a lab value outside
            them is refused as a typo, as `target_min` / `target_max` do for the target.
    """

    name: str
    source: PropertySource = PropertySource.COMPUTED
    column: str | None = None
    direction: Direction | None = None
    at_least: float | None = None
    at_most: float | None = None
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        coerce_enums(self, f"campaign.properties.{self.name}.")
        where = f"campaign.properties: {self.name!r}"
        if self.column is None:
            object.__setattr__(self, "column", self.name)
        elif self.source is PropertySource.COMPUTED:
            raise ConfigError(f"{where}: a computed property is the descriptor column it names; column is for "
                              "measured properties")
        bounded = self.at_least is not None or self.at_most is not None
        if (self.direction is None) == (not bounded):
            raise ConfigError(f"{where}: give either direction (an objective) or at_least/at_most (a constraint)")
        if None not in (self.at_least, self.at_most) and not self.at_least < self.at_most:
            raise ConfigError(f"{where}: at_least must be below at_most, got {self.at_least} and {self.at_most}")
        if self.limits != (None, None) and self.source is PropertySource.COMPUTED:
            raise ConfigError(f"{where}: minimum and maximum are a measured property's physical limits")
        if None not in self.limits and not self.minimum < self.maximum:
            raise ConfigError(f"{where}: minimum must be below maximum, got {self.minimum} and {self.maximum}")

    @property
    def limits(self) -> tuple[float | None, float | None]:
        """Physical (minimum, maximum); None where unbounded."""
        return self.minimum, self.maximum

    def describe(self) -> str:
        """In a chemist's words, e.g. "gap_ev >= 6 eV" or "gap_ev: maximised"."""
        unit = f" {self.unit}" if self.unit else ""
        if self.direction is not None:
            return f"{self.name}: {'maximised' if self.direction is Direction.MAX else 'minimised'}"
        return " and ".join(f"{c}{unit}" for c in self.constraints)

    @property
    def objective(self) -> Objective | None:
        return None if self.direction is None else Objective(self.name, self.direction)

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        bounds = ((Bound.AT_LEAST, self.at_least), (Bound.AT_MOST, self.at_most))
        return tuple(Constraint(self.name, bound, value) for bound, value in bounds if value is not None)


@dataclass(frozen=True)
class CampaignSettings:
    """The `campaign` config group.

    Attributes:
        name: Folder name of the campaign's state.
        direction: Which way is better for the property, "max" or "min".
        target: Name of the property (for files and the report), e.g. "dielectric_constant";
            None: `target_column`.
        unit: Its unit, for display ("" for dimensionless).
        seed_data: CSV of measured molecules (None for a backtest: drawn from `lookup`).
        smiles_column, target_column: Columns of `seed_data`.
        extra_seeds: SMILES/PSMILES the pool generator starts from besides the measured ones.
        mode: "propose" (one round, then wait for the lab) or "simulate" (closed loop against
            `lookup` for `rounds` rounds).
        rounds: Rounds to run in simulate mode.
        lookup: The table that answers in simulate mode; its molecules join the pool. None when
            its `path` is not set.
        initial: Backtest only: how the initial set is drawn from `lookup` (when no seed_data).
        generate_pool: Generate candidates with the `pool` settings (besides `lookup` ones).
        target_min, target_max: Physical limits of the property in its units (None: none), e.g. 1
            for a relative permittivity: predictive draws are clipped to them in the proposals and
            the report (a linear model's intervals know no physics), and lab results outside
            them are rejected on ingest as typos.
        plausible_ranges: A lab value more than this many measured ranges below the lowest or
            above the highest current value is refused on ingest unless confirmed (a `confirmed`
            column, or `confirm=true`); None: no such check. 3 lets a real breakthrough through
            (three times the whole measured spread beyond it) and stops typos such as 1e308 or a
            value in the wrong unit.
        feasibility: Learning from failed experiments (`FeasibilitySettings`).
        properties: Further objectives and constraints besides the target (`PropertySettings`);
            with any, the batch is chosen on all of them (acquisition `ehvi` or `pareto_pi`).
    """

    name: str
    direction: Direction
    target: str | None = None
    unit: str = ""
    seed_data: Path | None = None
    smiles_column: str = "smiles"
    target_column: str = "value"
    extra_seeds: tuple[str, ...] = ()
    mode: CampaignMode = CampaignMode.PROPOSE
    rounds: int = 1
    lookup: LookupSettings | None = field(default_factory=LookupSettings)
    initial: InitialSettings = field(default_factory=InitialSettings)
    generate_pool: bool = True
    target_min: float | None = None
    target_max: float | None = None
    plausible_ranges: float | None = 3.0
    feasibility: FeasibilitySettings = field(default_factory=FeasibilitySettings)
    properties: tuple[PropertySettings, ...] = ()

    def __post_init__(self) -> None:
        coerce_enums(self, "campaign.")
        names = [p.name for p in self.properties]
        if len(set(names)) < len(names) or self.target in names:
            raise ConfigError(f"campaign.properties: each property once, and not the target; got {names}")
        if self.plausible_ranges is not None and self.plausible_ranges <= 0:
            raise ConfigError(f"campaign.plausible_ranges must be > 0 or null, got {self.plausible_ranges}")
        if self.target is None:
            object.__setattr__(self, "target", self.target_column)
        if None not in self.limits and not self.target_min < self.target_max:
            raise ConfigError(f"campaign.target_min must be below campaign.target_max, got {self.target_min} and "
                              f"{self.target_max}")
        if self.rounds < 1:
            raise ConfigError(f"campaign.rounds must be >= 1, got {self.rounds}")
        if self.lookup is not None and self.lookup.path is None:
            object.__setattr__(self, "lookup", None)
        if self.seed_data is None and self.lookup is None:
            raise ConfigError("campaign: give seed_data (measured molecules) or lookup.path (a backtest table)")
        if self.mode is CampaignMode.SIMULATE and self.lookup is None:
            raise ConfigError("campaign.mode=simulate needs campaign.lookup.path (the table that plays the lab)")
        if self.seed_data is not None:
            object.__setattr__(self, "seed_data", resolve_input_file(str(self.seed_data), "campaign.seed_data"))

    @property
    def limits(self) -> tuple[float | None, float | None]:
        return self.target_min, self.target_max

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The target first, then the further objectives of `properties`."""
        extra = (p.objective for p in self.properties if p.objective is not None)
        return (Objective(self.target, self.direction), *extra)

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return tuple(c for p in self.properties for c in p.constraints)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CampaignSettings:
        return from_mapping(cls, values, prefix="campaign.")


@dataclass(frozen=True)
class ReportSettings(ReportOptions):
    """The `report` config group: whether to write `report.html`, and its options."""

    enabled: bool = True

    @property
    def options(self) -> ReportOptions:
        return ReportOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(ReportOptions)})


@dataclass(frozen=True)
class RunSettings:
    """Everything one `python -m discovery.run` needs (the root config).

    Attributes:
        campaign, qm, model, acquisition, pool, report: The config groups.
        state_dir: Where campaign state, caches and outputs live (outside the source tree).
        cache_path: Descriptor cache, shared by campaigns so nothing is computed twice; None:
            `<state_dir>/cache/descriptors.sqlite`.
        n_workers: Local worker processes for featurisation; None: all cores.
        dask_address: Dask scheduler (e.g. tcp://10.0.0.5:8786) to featurise on a cluster; None: local.
        seed: Seeds the model and the acquisition (and a backtest's initial set), not the descriptors.
        progress: Show the featurisation progress bar.
        ingest: Lab results file (CSV/XLSX) to store before the round; None: none.
        confirm: Store the ingest file's values even where the plausibility check
            (`campaign.plausible_ranges`) would refuse them: the lab has checked them.
        audit: Write every stored record of the campaign (all versions, with who, when, from
            which file and row, and why) to this CSV file and stop; None: run the campaign.
    """

    campaign: CampaignSettings
    model: ModelConfig
    qm: QMSettings = field(default_factory=QMSettings)
    acquisition: AcquisitionSettings = field(default_factory=AcquisitionSettings)
    pool: PoolSettings = field(default_factory=PoolSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    state_dir: Path = Path("discovery-runs")
    cache_path: Path | None = None
    n_workers: int | None = None
    dask_address: str | None = None
    seed: int = 0
    progress: bool = True
    ingest: Path | None = None
    confirm: bool = False
    audit: Path | None = None

    def __post_init__(self) -> None:
        if not self.model.capabilities.posterior_draws:
            with_draws = [n for n in available_models() if ModelConfig.named(n).capabilities.posterior_draws]
            raise ConfigError(f"model {self.model.name!r} gives no posterior draws, and a campaign's acquisition "
                              f"ranks on them; choose one of {with_draws}")
        if self.campaign.properties:
            known = [*descriptor_names(self.qm), *DERIVED_NAMES]
            unknown = [p.name for p in self.campaign.properties
                       if p.source is PropertySource.COMPUTED and p.name not in known]
            if unknown:
                raise ConfigError(f"campaign.properties: {unknown} are not descriptor columns of qm={self.qm.preset.value}; "
                                  f"computed properties are one of {known}")
            if self.acquisition.strategy not in PARETO_STRATEGIES:
                raise ConfigError(f"campaign.properties needs an acquisition that weighs several properties: "
                                  f"{', '.join(s.value for s in PARETO_STRATEGIES)} (acquisition=ehvi), not "
                                  f"{self.acquisition.strategy.value}")
        weights = self.acquisition.weights
        if weights is not None and len(weights) != len(self.campaign.objectives):
            names = [o.name for o in self.campaign.objectives]
            raise ConfigError(f"acquisition.weights: {len(weights)} given for {len(names)} objectives {names} "
                              "(the target first, then the further objectives of campaign.properties)")
        if self.n_workers is not None and self.n_workers < 1:
            raise ConfigError(f"n_workers must be a positive integer or null, got {self.n_workers}")
        if self.cache_path is None:
            object.__setattr__(self, "cache_path", self.state_dir / "cache" / "descriptors.sqlite")
        if self.ingest is not None:
            object.__setattr__(self, "ingest", resolve_input_file(str(self.ingest), "ingest (results file)"))

    @property
    def campaign_dir(self) -> Path:
        return self.state_dir / self.campaign.name

    @functools.cached_property
    def config_hash(self) -> str:
        """Hash of what decides a round's results (a resumed campaign compares it): equal for
        equal settings, however they were written."""
        model = {"_target_": self.model._target_, "params": self.model.every_param}
        hashed = {"campaign": self.campaign, "qm": self.qm, "model": model, "acquisition": self.acquisition,
                  "pool": self.pool, "seed": self.seed}
        blob = json.dumps(hashed, sort_keys=True, default=_jsonable)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> RunSettings:
        """Validate a composed config (Hydra's DictConfig, or a plain dict)."""
        return from_mapping(cls, cfg)


def _jsonable(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else str(value)


register("run_schema", RunSettings)
register("base_qm", QMSettings, group="qm")
register("base_model", ModelConfig, group="model")
register("base_acquisition", AcquisitionSettings, group="acquisition")
register("base_pool", PoolSettings, group="pool")
register("base_report", ReportSettings, group="report")
