"""The run configuration, validated once at the boundary into typed settings.

Hydra composes `conf/config.yaml` with the groups `campaign`, `qm`, `model`, `acquisition`,
`pool` and `report`; `RunSettings.from_config` checks every key (unknown keys, wrong types,
missing files) and raises `ValueError` / `FileNotFoundError` with a message naming the key.
Nothing below this module sees a config dict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discovery.acquisition import AcquisitionSettings
from discovery.features import QMSettings
from discovery.model import MODELS, model_class
from discovery.paths import resolve_input_file
from discovery.pool import PoolSettings

MODES = ("propose", "simulate")


def _check_keys(values: Mapping[str, Any], known: set[str], required: set[str], where: str) -> None:
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}")
    missing = sorted(k for k in required if values.get(k) in (None, "???"))
    if missing:
        raise ValueError(f"{where}: missing value for {missing}")


def _typed(value: Any, kind: type, name: str) -> Any:
    """`value` checked to be a `kind` (an int is accepted as a float, a bool never as a number)."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"{name} must be {kind.__name__}, got {value!r}")
    return value


@dataclass(frozen=True)
class LookupSettings:
    """A table of known values that plays the lab (simulate mode and backtests).

    Attributes:
        path: CSV file.
        smiles_column, target_column: Its columns of SMILES/PSMILES and of the property.
    """

    path: Path
    smiles_column: str = "smiles"
    target_column: str = "value"


@dataclass(frozen=True)
class InitialSettings:
    """Backtest protocol: the initial measured set, `n` molecules drawn with the seed from those
    below the `max_quantile` quantile of the target (above it for minimisation)."""

    n: int = 30
    max_quantile: float = 0.7


@dataclass(frozen=True)
class CampaignSettings:
    """The `campaign` config group.

    Attributes:
        name: Folder name of the campaign's state.
        target: Name of the property (for files and the report), e.g. "dielectric_constant".
        unit: Its unit, for display ("" for dimensionless).
        direction: "max" or "min".
        seed_data: CSV of measured molecules (None for a backtest: drawn from `lookup`).
        smiles_column, target_column: Columns of `seed_data`.
        extra_seeds: SMILES/PSMILES the pool generator starts from besides the measured ones.
        mode: "propose" (one round, then wait for the lab) or "simulate" (closed loop against
            `lookup` for `rounds` rounds).
        rounds: Rounds to run in simulate mode.
        lookup: The table that answers in simulate mode; its molecules join the pool.
        initial: Backtest only: how the initial set is drawn from `lookup` (when no seed_data).
        generate_pool: Generate candidates with the `pool` settings (besides `lookup` ones).
        target_min, target_max: Physical limits of the property in its units (None: none), e.g. 1
            for a relative permittivity: predictive draws are clipped to them in the proposals and
            the report (a linear model's intervals know no physics), and lab results outside
            them are rejected on ingest as typos.
    """

    name: str
    target: str
    direction: str
    seed_data: Path | None
    smiles_column: str = "smiles"
    target_column: str = "value"
    unit: str = ""
    extra_seeds: tuple[str, ...] = ()
    mode: str = "propose"
    rounds: int = 1
    lookup: LookupSettings | None = None
    initial: InitialSettings = field(default_factory=InitialSettings)
    generate_pool: bool = True
    target_min: float | None = None
    target_max: float | None = None

    @property
    def limits(self) -> tuple[float | None, float | None]:
        return self.target_min, self.target_max

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CampaignSettings:
        where = "campaign"
        known = {"name", "target", "unit", "direction", "seed_data", "smiles_column", "target_column",
                 "extra_seeds", "mode", "rounds", "lookup", "initial", "generate_pool", "target_min", "target_max"}
        _check_keys(values, known, {"name", "direction"}, where)
        values = dict(values)
        if values["direction"] not in ("max", "min"):
            raise ValueError(f"campaign.direction must be 'max' or 'min', got {values['direction']!r}")
        mode = values.get("mode", "propose")
        if mode not in MODES:
            raise ValueError(f"campaign.mode must be one of {MODES}, got {mode!r}")
        lookup = None
        if values.get("lookup") is not None:
            raw = dict(values["lookup"])
            _check_keys(raw, {"path", "smiles_column", "target_column"}, {"path"}, "campaign.lookup")
            lookup = LookupSettings(
                path=resolve_input_file(str(raw["path"]), "campaign.lookup.path"),
                smiles_column=str(raw.get("smiles_column", "smiles")),
                target_column=str(raw.get("target_column", "value")),
            )
        initial = InitialSettings()
        if values.get("initial") is not None:
            raw = dict(values["initial"])
            _check_keys(raw, {"n", "max_quantile"}, set(), "campaign.initial")
            initial = InitialSettings(
                n=_typed(raw.get("n", 30), int, "campaign.initial.n"),
                max_quantile=_typed(raw.get("max_quantile", 0.7), float, "campaign.initial.max_quantile"),
            )
            if initial.n < 2 or not 0 < initial.max_quantile <= 1:
                raise ValueError("campaign.initial.n must be >= 2 and max_quantile in (0, 1]")
        seed_data = values.get("seed_data")
        if seed_data is None and lookup is None:
            raise ValueError("campaign: give seed_data (measured molecules) or lookup (a backtest table)")
        rounds = _typed(values.get("rounds", 1), int, "campaign.rounds")
        if rounds < 1:
            raise ValueError(f"campaign.rounds must be >= 1, got {rounds}")
        if mode == "simulate" and lookup is None:
            raise ValueError("campaign.mode=simulate needs campaign.lookup (the table that plays the lab)")
        limits = [None if values.get(k) is None else _typed(values[k], float, f"campaign.{k}") for k in ("target_min", "target_max")]
        if None not in limits and not limits[0] < limits[1]:
            raise ValueError(f"campaign.target_min must be below campaign.target_max, got {limits[0]} and {limits[1]}")
        extra = values.get("extra_seeds") or []
        if not isinstance(extra, (list, tuple)) or not all(isinstance(s, str) for s in extra):
            raise ValueError("campaign.extra_seeds must be a list of SMILES strings")
        return cls(
            name=str(values["name"]),
            target=str(values.get("target") or values.get("target_column") or "value"),
            unit=str(values.get("unit") or ""),
            direction=values["direction"],
            seed_data=None if seed_data is None else resolve_input_file(str(seed_data), "campaign.seed_data"),
            smiles_column=str(values.get("smiles_column", "smiles")),
            target_column=str(values.get("target_column", "value")),
            extra_seeds=tuple(extra),
            mode=mode,
            rounds=rounds,
            lookup=lookup,
            initial=initial,
            generate_pool=bool(values.get("generate_pool", True)),
            target_min=limits[0],
            target_max=limits[1],
        )


@dataclass(frozen=True)
class ReportSettings:
    """The `report` config group (see `conf/report/default.yaml`)."""

    enabled: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSettings:
    """Everything one `python -m discovery.run` needs, validated."""

    campaign: CampaignSettings
    qm: QMSettings
    model_name: str
    model_params: Mapping[str, Any]
    acquisition: AcquisitionSettings
    pool: PoolSettings
    report: ReportSettings
    state_dir: Path
    cache_path: Path
    n_workers: int | None
    dask_address: str | None
    seed: int
    progress: bool
    ingest: Path | None
    config_hash: str

    @property
    def campaign_dir(self) -> Path:
        return self.state_dir / self.campaign.name

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> RunSettings:
        """Validate a resolved config (a plain dict, e.g. `OmegaConf.to_container(cfg, resolve=True)`)."""
        known = {"campaign", "qm", "model", "acquisition", "pool", "report", "state_dir", "cache_path",
                 "n_workers", "dask_address", "seed", "progress", "ingest"}
        _check_keys(cfg, known, {"campaign", "qm", "model", "acquisition", "pool"}, "config")
        campaign = CampaignSettings.from_dict(cfg["campaign"])
        qm_values = dict(cfg["qm"])
        preset = qm_values.pop("preset", "fast")
        qm = QMSettings.preset_named(preset, **qm_values)
        model = dict(cfg["model"])
        _check_keys(model, {"name", "params"}, {"name"}, "model")
        if model["name"] not in MODELS:
            raise ValueError(f"model.name must be one of {sorted(MODELS)}, got {model['name']!r}")
        model_cls = model_class(model["name"])
        if not model_cls.capabilities.posterior_draws:
            raise ValueError(f"model {model['name']!r} gives no posterior draws, and a campaign's acquisition ranks on "
                             f"them; choose one of {sorted(n for n in MODELS if model_class(n).capabilities.posterior_draws)}")
        try:  # the parameters are checked now, not deep inside the round's fit
            model_cls(**{"seed": int(cfg.get("seed", 0)), **dict(model.get("params") or {})})
        except TypeError as exc:
            raise ValueError(f"model.params: {exc}") from None
        report_values = dict(cfg.get("report") or {})
        enabled = bool(report_values.pop("enabled", True))
        ingest = cfg.get("ingest")
        n_workers = cfg.get("n_workers")
        if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
            raise ValueError(f"n_workers must be a positive integer or null, got {n_workers!r}")
        hashed = {k: cfg[k] for k in ("campaign", "qm", "model", "acquisition", "pool", "seed") if k in cfg}
        return cls(
            campaign=campaign,
            qm=qm,
            model_name=model["name"],
            model_params=dict(model.get("params") or {}),
            acquisition=AcquisitionSettings.from_dict(dict(cfg["acquisition"])),
            pool=PoolSettings.from_dict(dict(cfg["pool"])),
            report=ReportSettings(enabled=enabled, options=report_values),
            state_dir=Path(str(cfg.get("state_dir", "discovery-runs"))),
            cache_path=Path(str(cfg.get("cache_path", "discovery-runs/cache/descriptors.sqlite"))),
            n_workers=n_workers,
            dask_address=cfg.get("dask_address"),
            seed=int(cfg.get("seed", 0)),
            progress=bool(cfg.get("progress", True)),
            ingest=None if ingest in (None, "") else resolve_input_file(str(ingest), "ingest (results file)"),
            config_hash=hashlib.sha256(json.dumps(hashed, sort_keys=True, default=str).encode()).hexdigest()[:16],
        )
